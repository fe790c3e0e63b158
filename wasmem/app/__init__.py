"""The use cases: one implementation of each command's work, shared by the CLI, the shell, the Python API
and (next) the debug adapter. Each takes a module (a path, bytes or a WasmModule) or a live session and
returns an outcome the renderers and ``--json`` take as it is.

- modules.py: loading a module, its layout facts and symbols, opening a session (``open_session``);
- call.py (``call_function``), dump.py (``dump_memory``), chase.py (``chase_memory``);
- watchpoints.py (``watch_spec``, ``attach_watch``), watch.py (``watch_calls``), heap.py (``heap_report``,
  ``leak_report``);
- sources.py: the memory a use case reads (a live instance, a snapshot image, a coredump: core.py);
- targets.py: address expressions and symbol paths.

Names load lazily: ``import wasmem.app`` loads neither wasmtime nor pyelftools."""

from __future__ import annotations

import importlib

_WHERE = {
    "load_module": "modules", "load_path": "modules", "layout_facts": "modules", "open_session": "modules",
    "split_call": "modules", "symbols_for": "modules", "check_calls": "modules",
    "CallOutcome": "call", "call_function": "call", "dwarf_sret": "call", "dwarf_function": "call",
    "frame_locations": "call", "pointer_note": "call",
    "DumpOutcome": "dump", "dump_memory": "dump", "ChaseOutcome": "chase", "chase_memory": "chase",
    "Target": "targets", "resolve_target": "targets", "row_labeler": "targets", "range_labeler": "targets",
    "MemorySource": "sources", "snapshot_limit": "sources",
    "CoreSession": "core", "open_core_session": "core", "open_core": "core",
    "watch_spec": "watchpoints", "attach_watch": "watchpoints", "resolve_watch_target": "watchpoints",
    "watch_resolver": "watchpoints", "watch_calls": "watch", "WatchSequence": "watch", "WatchStep": "watch",
    "type_blocks": "heap",
    "heap_spec": "heap", "heap_report": "heap", "leak_report": "heap", "live_heap": "heap",
    "open_heap_session": "heap", "leak_per_call": "heap", "memcheck_heap_base": "heap",
}
__all__ = sorted(_WHERE)


def __getattr__(name: str):
    where = _WHERE.get(name)
    if where is None:
        raise AttributeError(f"module 'wasmem.app' has no attribute {name!r}")
    return getattr(importlib.import_module(f".{where}", __name__), name)
