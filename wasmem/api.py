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


def load_module(path: str | os.PathLike) -> WasmModule:
    """Opens a binary module (memory-mapped) or a text module (`.wat`, or a file starting with "(")."""
    path = os.fspath(path)
    if not os.path.exists(path):
        raise UsageError(f"{path}: no such file")
    if os.path.isdir(path):
        raise UsageError(f"{path}: is a directory, not a module")
    try:
        text = _is_text(path)
    except OSError as exc:
        raise UsageError(f"{path}: {exc.strerror}") from None
    if text:
        from .runtime.wat import wat_to_wasm  # imports wasmtime: only for text input

        with open(path, encoding="utf-8", errors="replace") as f:
            return WasmModule.from_bytes(wat_to_wasm(f.read()), path)
    try:
        return WasmModule.from_file(path)
    except OSError as exc:
        raise UsageError(f"{path}: {exc.strerror}") from None
    except ValueError as exc:  # mmap of an unmappable file
        raise ParseError(f"{path}: cannot map the file: {exc}", 0) from None


def inspect(path: str | os.PathLike, *, pages: int | None = None, min_stack: int | None = None):
    """The memory layout of a module: memories, stack pointer, stack/data/heap regions, findings."""
    from .model.layout import DEFAULT_MIN_STACK, analyze
    from .parser.validate import check_structure

    module = load_module(path)
    check_structure(module)
    return analyze(module, pages=pages, min_stack=DEFAULT_MIN_STACK if min_stack is None else min_stack)
