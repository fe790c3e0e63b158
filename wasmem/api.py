"""The library entry points that the CLI wraps: load a module, analyse its layout, open a session."""

from __future__ import annotations

import os

from .errors import ParseError, UsageError
from .parser.module import WasmModule


def _is_text(path: str) -> bool:
    if path.endswith(".wat") or path.endswith(".wast"):
        return True
    with open(path, "rb") as f:
        head = f.read(64).lstrip()
    return head[:1] in (b"(", b";")


MAX_TEXT_BYTES = 64 << 20  # a .wat file is read whole and assembled: bounded


def _regular_file(path: str) -> os.stat_result:
    """stat of ``path`` when it is a regular file; a UsageError otherwise, before anything reads it (a FIFO
    would block forever, /dev/zero never ends)."""
    from .files import regular_file

    return regular_file(path, noun="a module file")


def load_module(path: str | os.PathLike, *, validate: bool = True, memory_base: int | None = None,
                debug_file: str | os.PathLike | None = None) -> WasmModule:
    """Opens a binary module (memory-mapped) or a text module (`.wat`, or a file starting with "(").
    With ``validate`` (the default, and what every command does) every section is checked as `inspect`
    checks it, so no command works on a module that another rejects as malformed. ``memory_base`` is the
    ``__memory_base`` a position-independent module gets (its data's address) in the layout, the DWARF
    and a run, instead of wasmem's default (1024 aligned as its dylink section asks). ``debug_file`` names
    a separate file with the module's DWARF (a copy of the module with its .debug_* sections, as
    ``emcc -gseparate-dwarf`` writes), used instead of the module's own or its external_debug_info."""
    path = os.fspath(path)
    st = _regular_file(path)
    try:
        text = _is_text(path)
    except OSError as exc:
        raise UsageError(f"{path}: {exc.strerror}") from None
    if text:
        if st.st_size > MAX_TEXT_BYTES:
            raise UsageError(f"{path}: a {st.st_size}-byte text module is more than wasmem assembles "
                             f"({MAX_TEXT_BYTES} bytes); convert it to binary first")
        from .runtime.wat import wat_to_wasm  # imports wasmtime: only for text input

        with open(path, encoding="utf-8", errors="replace") as f:
            module = WasmModule.from_bytes(wat_to_wasm(f.read()), path)
    else:
        try:
            module = WasmModule.from_file(path)
        except OSError as exc:
            raise UsageError(f"{path}: {exc.strerror}") from None
        except ValueError as exc:  # mmap of an unmappable file
            raise ParseError(f"{path}: cannot map the file: {exc}", 0) from None
    if validate:
        from .parser.validate import check_structure

        check_structure(module)
    if memory_base is not None:
        from .model.layout import check_memory_base

        why = check_memory_base(module, memory_base)
        if why is not None:
            raise UsageError(f"--memory-base {memory_base:#x}: {why}")
        module.memory_base = memory_base
    if debug_file is not None:
        from .debuginfo.symbols import MAX_DEBUG_FILE_SIZE
        from .files import regular_file

        debug_file = os.fspath(debug_file)
        regular_file(debug_file, what="--debug-file", max_size=MAX_DEBUG_FILE_SIZE,
                     size_note=f"a debug file may have ({MAX_DEBUG_FILE_SIZE >> 20} MiB)")
        module.debug_file = debug_file
    return module


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
    """A coredump (``wasmtime run -D coredump=FILE``, ``wasmem call --coredump FILE``) seen through the
    module it was taken of: a ``CoreView`` whose ``memory(i)``, ``global_value(i)`` and ``frames`` are in the
    module's own index spaces. The dump is memory-mapped; only the segment headers are read until memory is.
    A module that does not fit the dump (globals, memories, frames) is a UsageError."""
    from .model.coredump import match_module, read_coredump
    from .parser.coredump import is_coredump

    mod = module if isinstance(module, WasmModule) else load_module(module)
    if is_coredump(mod):
        raise UsageError(f"{mod.path or 'the module'} is a coredump: give the coredump first, then the module "
                         f"it was taken of")
    dump = load_module(core, validate=False)  # its sections are read as needed, each checked as it is read
    if not is_coredump(dump):
        raise UsageError(f"{os.fspath(core)}: not a coredump (no `core` custom section); a module goes second")
    return match_module(read_coredump(dump), mod)


def backtrace(core: str | os.PathLike, module: str | os.PathLike | WasmModule):
    """The frames of a coredump named through ``module``: function names, offsets in the module, file:line
    from DWARF, the stack pointer at the crash, and the frames' recorded locals (as DWARF variables where
    their location is a wasm local)."""
    from .debuginfo import load_symbols
    from .debuginfo.frames import build_backtrace

    view = open_core(core, module)
    return build_backtrace(view, load_symbols(view.module))
