"""What the heap tests share: the fixtures' paths, a source line by its marker, and the heap/leaks reports
with their sessions closed."""

from __future__ import annotations

from pathlib import Path

from wasmem.app.heap import heap_report, leak_report
from wasmem.parser import WasmModule
from wasmem.parser.code import iter_instruction_tuples

DATA = Path(__file__).resolve().parent / "data"
ZIG = str(DATA / "zigheap.wasm")
FNPTR = str(DATA / "fnptr_heap.wasm")
ZIG_SOURCE = (DATA / "zigheap.zig").read_text()


def zig_line(marker: str) -> str:
    return f"zigheap.zig:{next(i for i, t in enumerate(ZIG_SOURCE.splitlines(), 1) if marker in t)}"


def leaks(path, call, **kw):
    report, session = leak_report(path, call, **kw)
    session.close()
    return report


def heap(path, **kw):
    report, session = heap_report(path, **kw)
    session.close()
    return report


def call_indirects(path: str, func_name: str) -> list[int]:
    """Original offsets of the call_indirect instructions of one function."""
    data = Path(path).read_bytes()
    m = WasmModule.from_bytes(data)
    e = m.find_export(func_name)
    idx = e.index if e is not None else next(i for i, n in m.names.functions.items() if n == func_name)
    body = next(b for b in m.functions if b.index == idx)
    return [off for off, op, _ in iter_instruction_tuples(data, body.start, body.end) if op in (0x11, 0x13)]


# the head of a WAT module (left open) with an exported __heap_base and a bump malloc whose blocks start 16 bytes
# apart and are rounded up to 16 (free does nothing): small cases of --memcheck rules append their functions
BUMP_MODULE_HEAD = """
(module
  (memory (export "memory") 2)
  (global (export "__heap_base") i32 (i32.const 65536))
  (global $top (mut i32) (i32.const 65536))
  (func $malloc (export "malloc") (param $n i32) (result i32) (local $p i32)
    (local.set $p (i32.add (global.get $top) (i32.const 16)))
    (global.set $top (i32.add (local.get $p) (i32.and (i32.add (local.get $n) (i32.const 15)) (i32.const -16))))
    (local.get $p))
  (func $free (export "free") (param $p i32))
"""
