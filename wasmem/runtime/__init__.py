"""The only package that imports wasmtime: a live instance of a module (:class:`Session`, composed of the
parts in this package: see session.py), the observers that join its runs (observers/), the host profiles
(hosts/), and what a run reports (results.py). The use cases over it (call, dump, chase, watch, heap, leaks,
backtrace) are in :mod:`wasmem.app`; ``wasmem.app.open_session`` opens a session with the layout model's
stack facts.

Names load lazily: the wasmtime-free parts (results.py, spec.py, readside.py) import without wasmtime."""

from __future__ import annotations

import importlib

_WHERE = {"Session": "session", "SessionSpec": "spec", "CallResult": "results", "TrapInfo": "results",
          "MemoryInfo": "results", "Snapshot": "results"}
__all__ = sorted(_WHERE)


def __getattr__(name: str):
    where = _WHERE.get(name)
    if where is None:
        raise AttributeError(f"module 'wasmem.runtime' has no attribute {name!r}")
    return getattr(importlib.import_module(f".{where}", __name__), name)
