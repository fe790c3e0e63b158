"""The module reader against wasmtime's own parser, the proposals that change declarations, and errors."""

import os

import pytest
import wasmtime
from conftest import all_samples, wat
from hypothesis import given, settings
from hypothesis import strategies as st

from wasmem.errors import ParseError
from wasmem.parser import WasmModule

KIND = {wasmtime.FuncType: "func", wasmtime.MemoryType: "memory", wasmtime.GlobalType: "global",
        wasmtime.TableType: "table"}


def _kind(t):
    for cls, k in KIND.items():
        if isinstance(t, cls):
            return k
    return "tag"


@pytest.mark.parametrize("path", all_samples(), ids=os.path.basename)
def test_imports_and_exports_match_wasmtime(path):
    data = open(path, "rb").read()
    ours = WasmModule.from_file(path)
    theirs = wasmtime.Module(wasmtime.Engine(_config()), data)
    assert [(i.module, i.name, i.kind) for i in ours.imports] == \
        [(i.module, i.name, _kind(i.type)) for i in theirs.imports]
    assert [(e.name, e.kind) for e in ours.exports] == [(e.name, _kind(e.type)) for e in theirs.exports]
    # memory limits, from both sides
    for imp in theirs.imports + theirs.exports:
        if isinstance(imp.type, wasmtime.MemoryType):
            mine = [m for m in ours.imports if m.name == imp.name] if hasattr(imp, "module") else []
            mt = mine[0].type if mine else ours.memories[[e.name for e in ours.exports].index(imp.name) and
                                                         ours.find_export(imp.name).index].type
            assert (mt.min_pages, mt.max_pages, mt.is64, mt.shared) == \
                (imp.type.limits.min, imp.type.limits.max, imp.type.is_64, imp.type.is_shared)
    # function signatures of exports
    for e in theirs.exports:
        if isinstance(e.type, wasmtime.FuncType):
            ft = ours.get_function_type(ours.find_export(e.name).index)
            assert ft.params == tuple(str(p) for p in e.type.params)
            assert ft.results == tuple(str(r) for r in e.type.results)
    assert len(ours.functions) == ours.num_functions - ours.num_imported_funcs


def _config():
    c = wasmtime.Config()
    for feat in ("wasm_multi_memory", "wasm_memory64", "wasm_threads"):
        if hasattr(c, feat):
            setattr(c, feat, True)
    return c


def test_declarations_of_proposals():
    m = WasmModule.from_bytes(wat("""
    (module
      (type $s (struct (field i32) (field (mut i64))))
      (rec (type $a (array i8)) (type $f (func (param i32) (result i32))))
      (import "env" "base" (global $base i32))
      (import "env" "mem" (memory 1 4 shared))
      (import "env" "t" (table 2 funcref))
      (memory $m64 i64 3 5)
      (tag $e (param i32))
      (global $g (mut i32) (i32.add (global.get $base) (i32.const 16)))
      (global $r (ref null $f) (ref.null $f))
      (global $x externref (ref.null extern))
      (table $tt 4 funcref)
      (func $id (type $f) local.get 0)
      (elem (table $tt) (i32.const 1) func $id)
      (elem declare func $id)
      (elem funcref (ref.func $id) (ref.null func))
      (data (memory 1) (i64.const 8) "abc")
      (data "passive!")
      (data (memory 0) (i32.add (global.get $base) (i32.const 4)) "xy")
      (export "m64" (memory $m64)) (export "e" (tag $e)))
    """))
    assert [t.kind for t in m.types][:3] == ["struct", "array", "func"]
    assert m.types[2].func.params == ("i32",)
    mem0, mem1 = m.memories
    assert mem0.imported.name == "mem" and mem0.type.shared and mem0.type.max_pages == 4
    assert mem1.type.is64 and (mem1.type.min_pages, mem1.type.max_pages) == (3, 5)
    g = m.globals
    assert g[0].imported is not None
    assert g[1].init.evaluate(lambda i: 1000 if i == 0 else None) == 1016
    assert g[1].init.evaluate() is None  # the imported base is unknown statically
    assert g[2].type.valtype == "(ref null 2)"
    assert g[3].type.valtype == "externref"
    assert [t.type.elem_type for t in m.tables] == ["funcref", "funcref"]
    modes = [(s.mode, s.table, s.func_indices) for s in m.elements]
    assert modes == [("active", 1, (0,)), ("declarative", 0, (0,)), ("passive", 0, (0, None))]
    d = m.data_segments
    assert [(s.mode, s.memory, s.size) for s in d] == [("active", 1, 3), ("passive", 0, 8), ("active", 0, 2)]
    assert d[0].address == 8 and d[1].address is None and d[2].address is None
    assert bytes(m.get_segment_bytes(d[1])) == b"passive!"
    assert len(m.tags) == 1 and m.find_export("e").kind == "tag"


def test_is_memory64_asks_memory_0():
    assert not WasmModule.from_bytes(wat("(module)")).is_memory64
    assert not WasmModule.from_bytes(wat("(module (memory 1))")).is_memory64
    assert WasmModule.from_bytes(wat("(module (memory i64 1))")).is_memory64
    assert not WasmModule.from_bytes(wat("(module (memory 1) (memory i64 1))")).is_memory64
    assert WasmModule.from_bytes(wat('(module (import "env" "m" (memory i64 1)) (memory 1))')).is_memory64


def test_custom_page_size_and_names():
    try:
        data = wat('(module (memory (export "m") 2 8 (pagesize 1)))')
    except Exception:
        pytest.skip("this wat2wasm has no custom-page-sizes")
    mem = WasmModule.from_bytes(data).memories[0].type
    assert (mem.page_size, mem.min_bytes, mem.max_bytes) == (1, 2, 8)


def test_name_section():
    m = WasmModule.from_bytes(wat("""(module $demo
      (global $counter (mut i32) (i32.const 0))
      (memory $heap 1)
      (func $add (param $a i32) (param $b i32) (result i32) local.get $a local.get $b i32.add)
      (data $greeting (i32.const 16) "hi"))"""))
    n = m.names
    assert n.module == "demo"
    assert n.functions == {0: "add"}
    assert n.locals == {0: {0: "a", 1: "b"}}
    assert n.globals == {0: "counter"}
    assert n.memories == {0: "heap"}
    assert n.data_segments == {0: "greeting"}


def test_sections_are_lazy(tmp_path):
    # a code section whose bodies are garbage: headers read fine, only `functions` fails
    good = wat('(module (func (export "f")))')
    m = WasmModule.from_bytes(good)
    assert m.get_section(10) is not None
    assert m.exports[0].name == "f"


# -- errors: one ParseError with the right offset -------------------------------------------------
HEADER = b"\0asm\x01\0\0\0"


@pytest.mark.parametrize("data, message, offset", [
    (b"", "truncated", 0),
    (b"\0as", "truncated", 3),
    (b"\x7fELF\x02\x01\x01\0", "ELF", 0),
    (b"(module)", "text format", 0),
    (b"hello world!", "bad magic", 0),
    (b"\0asm\x0d\0\x01\0", "component", 4),
    (b"\0asm\x02\0\0\0", "version", 4),
    (HEADER + b"\x0e\x00", "unknown section id 14", 8),
    (HEADER + b"\x01\x05\x00", "declares 5 bytes", 8),
    (HEADER + b"\x05\x03\x01\x00\x01" + b"\x05\x03\x01\x00\x01", "duplicate memory", 13),
    (HEADER + b"\x07\x01\x00" + b"\x05\x03\x01\x00\x01", "out of order", 11),
])
def test_header_errors(data, message, offset):
    with pytest.raises(ParseError) as exc:
        m = WasmModule.from_bytes(data)
        m.memories  # noqa: B018
    assert message in str(exc.value)
    assert exc.value.offset == offset
    assert f"(at offset {offset:#x})" in str(exc.value)


@pytest.mark.parametrize("body, attr, message, offset", [
    # memory section: 3 entries declared, 1 present
    (b"\x05\x03\x03\x00\x01", "memories", "declares 3 entries but ends after 1", 13),
    # vector count far larger than the section
    (b"\x05\x02\x7f\x00", "memories", "declares 127 entries but ends inside entry 0", 12),
    # overlong LEB128 for u32 (6 bytes)
    (b"\x05\x08\x01\x00\x80\x80\x80\x80\x80\x00", "memories", "LEB128 too long", 12),
    # LEB128 whose 5th byte overflows u32
    (b"\x05\x07\x01\x00\xff\xff\xff\xff\x7f", "memories", "too large for u32", 12),
    # bad limits flag
    (b"\x05\x03\x01\x20\x01", "memories", "unknown limits flags 0x20", 11),
    # export name with invalid UTF-8
    (b"\x07\x06\x01\x02\xff\xfe\x02\x00", "exports", "UTF-8", 12),
    # global with a non-constant opcode in its initialiser
    (b"\x06\x06\x01\x7f\x00\x41\x01\x6a", "globals", "not terminated", 16),
    (b"\x06\x05\x01\x7f\x00\x20\x00", "globals", "not allowed in a constant expression", 13),
    # import of an unknown kind
    (b"\x02\x07\x01\x01a\x01b\x09\x00", "imports", "unknown import kind 0x09", 15),
    # data segment longer than the section
    (b"\x0b\x07\x01\x00\x41\x00\x0b\x09\x61", "data_segments", "declares 9 bytes", 16),
    # function and code sections disagree
    (b"\x01\x04\x01\x60\x00\x00\x03\x02\x01\x00\x0a\x01\x00", "functions", "1 functions but the code section has 0", 18),
])
def test_section_errors(body, attr, message, offset):
    m = WasmModule.from_bytes(HEADER + body)
    with pytest.raises(ParseError) as exc:
        getattr(m, attr)
    assert message in str(exc.value)
    assert exc.value.offset == offset


def test_ordinary_error_types_never_escape_for_truncations():
    """Every prefix of a real module parses or raises ParseError (nothing else)."""
    data = wat("""(module (import "env" "f" (func (param i32)))
      (memory (export "memory") 1 2) (global (mut i32) (i32.const 65536))
      (func (export "g") (result i32) i32.const 1) (data (i32.const 8) "hello"))""")
    for n in range(len(data)):
        try:
            m = WasmModule.from_bytes(data[:n])
            for attr in ("types", "imports", "memories", "globals", "exports", "functions", "data_segments",
                         "names", "elements"):
                getattr(m, attr)
        except ParseError as exc:
            assert exc.offset is None or 0 <= exc.offset <= n


# -- the data section's fast path agrees with the general reader ----------------------------------------

def _data_module(entries: list[bytes]) -> bytes:
    from wasmem.parser.encode import encode_section, uleb

    mem = encode_section(5, b"\x01\x00\x01")
    return b"\0asm\x01\0\0\0" + mem + encode_section(11, uleb(len(entries)) + b"".join(entries))


def _sleb_padded(v: int, width: int) -> bytes:
    out = bytearray()
    for i in range(width):
        b = v & 0x7F
        v >>= 7
        out.append(b | (0x80 if i < width - 1 else 0))
    return bytes(out)


def _uleb_padded(v: int, width: int) -> bytes:
    return _sleb_padded(v, width)  # the same bytes for a value that fits: the top bits are zero


def _min_width(v: int, signed: bool) -> int:
    w = 1
    while True:
        lo, hi = (-(1 << (7 * w - 1)), (1 << (7 * w - 1)) - 1) if signed else (0, (1 << (7 * w)) - 1)
        if lo <= v <= hi:
            return w
        w += 1


@settings(max_examples=300, deadline=None)
@given(st.lists(st.tuples(st.booleans(), st.integers(-(2**31), 2**31 - 1), st.integers(0, 5),
                          st.integers(0, 300), st.integers(0, 2)), min_size=1, max_size=6))
def test_fast_data_segments_match_general_reader(specs):
    entries = []
    for passive, addr, pad, size, spad in specs:
        w = min(5, _min_width(addr, True) + pad)
        sw = min(5, _min_width(size, False) + spad)
        head = b"\x01" if passive else b"\x00\x41" + _sleb_padded(addr, w) + b"\x0b"
        entries.append(head + _uleb_padded(size, sw) + bytes(size))
    data = _data_module(entries)
    fast = WasmModule.from_bytes(data)._fast_data_segments()
    m2 = WasmModule.from_bytes(data)
    m2._fast_data_segments = lambda: None  # force the general reader
    assert fast is not None
    assert fast == m2.data_segments
    assert [s.address for s in fast] == [None if p else a & 0xFFFFFFFF for p, a, *_ in specs]


@pytest.mark.parametrize("entry, message", [
    (b"\x00\x41\x80\x80\x80\x80\x10\x0b\x00", "LEB128 value too large for s32"),
    (b"\x00\x41\x80\x80\x80\x80\x80\x00\x0b\x00", "LEB128 too long for s32"),
    (b"\x00\x41\x00\x0b\x80\x80\x80\x80\x10", "LEB128 value too large for u32"),
    (b"\x00\x41\x00\x0b\x05\x00", "data segment 0 declares 5 bytes"),
])
def test_fast_data_segments_leave_errors_to_the_general_reader(entry, message):
    m = WasmModule.from_bytes(_data_module([entry]))
    with pytest.raises(ParseError, match=message):
        _ = m.data_segments


def test_big_code_sections_still_need_each_body_to_end_with_end():
    """Above BODY_CHECK_LIMIT bodies are not decoded, but one that does not end with `end` is still
    malformed: found while the bodies are located."""
    from wasmem.parser.encode import encode_section
    from wasmem.parser.validate import check_structure

    def module(*bodies: bytes) -> WasmModule:
        code = bytes([len(bodies)]) + b"".join(bytes([len(b)]) + b for b in bodies)
        return WasmModule.from_bytes(b"\0asm\x01\0\0\0" + encode_section(1, b"\x01\x60\x00\x00")
                                     + encode_section(3, bytes([len(bodies)]) + b"\x00" * len(bodies))
                                     + encode_section(10, code))

    good = b"\x00\x01\x0b"  # no locals; nop; end
    check_structure(module(good, good), bodies=False)
    with pytest.raises(ParseError, match=r"function 1: body does not end with `end` \(0x0b\)"):
        check_structure(module(good, b"\x00\x01\x01", good), bodies=False)
    with pytest.raises(ParseError, match="function 0: body does not end with `end`"):
        check_structure(module(b"\x0b"), bodies=False)  # one byte: a locals count, and no `end`
    with pytest.raises(ParseError, match="function 1: body ends without `end`"):  # decoded: the exact reason
        check_structure(module(good, b"\x00\x01\x01", good), bodies=True)
