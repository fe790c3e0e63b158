"""The library entry points that the CLI wraps: load a module, analyse its layout, open a session."""

from __future__ import annotations

import os

from .parser.module import WasmModule


def load_module(path: str | os.PathLike, *, validate: bool = True, memory_base: int | None = None,
                debug_file: str | os.PathLike | None = None, budgets=None) -> WasmModule:
    """Opens a binary module (memory-mapped) or a text module (`.wat`, or a file starting with "("), validated
    as `inspect` validates it; see ``wasmem.app.modules.load_path`` for ``memory_base``, ``debug_file`` and
    ``budgets`` (``{"dwarf": 50_000_000}``: the work budgets of ``--budget NAME=N``, see wasmem.budgets)."""
    from .app.modules import load_path

    return load_path(path, validate=validate, memory_base=memory_base, debug_file=debug_file, budgets=budgets)


def inspect(path: str | os.PathLike | WasmModule, *, pages: int | None = None, min_stack: int | None = None,
            host_max_pages: int | None = None, host_shared: bool = False):
    """The memory layout of a module (a path, or a module ``load_module`` returned): memories, stack
    pointer, stack/data/heap regions, findings. ``pages``/``host_max_pages``/``host_shared`` describe a host
    memory for an imported memory 0 (``new WebAssembly.Memory({initial, maximum, shared})``), checked as V8
    checks it."""
    from .debuginfo.layout import analyze_layout
    from .model.layout import DEFAULT_MIN_STACK

    module = path if isinstance(path, WasmModule) else load_module(path)  # validated
    return analyze_layout(module, pages=pages, min_stack=DEFAULT_MIN_STACK if min_stack is None else min_stack,
                          host_max_pages=host_max_pages, host_shared=host_shared)


def open_core(core: str | os.PathLike, module: str | os.PathLike | WasmModule):
    """A coredump seen through the module it was taken of (``wasmem.app.core.open_core``): a ``CoreView``
    whose ``memory(i)``, ``global_value(i)`` and ``frames`` are in the module's own index spaces."""
    from .app.core import open_core as _open_core

    return _open_core(core, module)


def backtrace(core: str | os.PathLike, module: str | os.PathLike | WasmModule | None = None, *, budgets=None):
    """The frames of a coredump named through ``module``: function names, offsets in the module, file:line
    from DWARF, the stack pointer at the crash, and the frames' recorded locals (as DWARF variables where
    their location is a wasm local). Without ``module``, the module the dump names is used when it is found
    next to the dump or from the working directory (``wasmem.app.core.find_core_module``); the first of the
    backtrace's ``notes`` then says which file. ``budgets``: as ``load_module``'s, for a module given by path."""
    from .debuginfo import load_symbols
    from .debuginfo.frames import build_backtrace

    found = None
    if module is None:
        from .app.core import find_core_module

        module, found = find_core_module(core)
    if budgets and not isinstance(module, WasmModule):  # its DWARF names the frames: loaded with them
        module = load_module(module, budgets=budgets)
    view = open_core(core, module)
    bt = build_backtrace(view, load_symbols(view.module))
    if found:
        bt.notes.insert(0, found)
    return bt
