"""The encoder's export rewrite, checked by round trip: parse again, instantiate in wasmtime, read."""

import pytest
import wasmtime
from conftest import sample, wat

from wasmem.errors import ParseError
from wasmem.parser.encode import append_exports, append_global, rewrite_exports, sleb, uleb
from wasmem.parser.module import WasmModule


def instantiate(data: bytes):
    store = wasmtime.Store()
    inst = wasmtime.Instance(store, wasmtime.Module(store.engine, data), [])
    return store, inst.exports(store)


def test_leb_encoders():
    assert uleb(0) == b"\x00"
    assert uleb(624485) == b"\xe5\x8e\x26"
    assert sleb(-1) == b"\x7f"
    assert sleb(-123456) == b"\xc0\xbb\x78"
    assert sleb(64) == b"\xc0\x00"


def test_insert_export_section_when_absent():
    data = wat("(module (global (mut i32) (i32.const 4242)) (func (result i32) global.get 0) (memory 1))")
    assert WasmModule.from_bytes(data).get_section(7) is None
    out = append_exports(data, [("sp", "global", 0), ("mem", "memory", 0)])
    m = WasmModule.from_bytes(out)
    assert [(e.name, e.kind, e.index) for e in m.exports] == [("sp", "global", 0), ("mem", "memory", 0)]
    # the section sits before the code section
    ids = [s.id for s in m.sections if s.id]
    assert ids.index(7) < ids.index(10)
    store, exports = instantiate(out)
    assert exports["sp"].value(store) == 4242


def test_extend_existing_section_and_unique_names():
    data = wat("""(module (global $a (mut i32) (i32.const 7)) (global $b i64 (i64.const -3))
                  (func (export "sp") (result i32) global.get 0) (start 0)
                  (data (i32.const 0) "x") (memory 1))""".replace("(start 0)", ""))
    rw = rewrite_exports(data, [("sp", "global", 0), ("b", "global", 1)])
    assert rw.names == ["sp_1", "b"]
    m = WasmModule.from_bytes(rw.data)
    assert [e.name for e in m.exports] == ["sp", "sp_1", "b"]
    store, exports = instantiate(rw.data)
    assert exports["sp_1"].value(store) == 7
    assert exports["b"].value(store) == -3
    assert exports["sp"](store) == 7
    # offsets after the export section moved by delta; before it they did not
    assert rw.original_offset(5) == 5
    old_code = WasmModule.from_bytes(data).get_section(10).offset
    assert rw.original_offset(m.get_section(10).offset) == old_code


def test_export_section_goes_after_globals_and_tags_with_custom_sections():
    text = "(module (memory 1) (global i32 (i32.const 1)) (func) (@custom \"x\" (after global) \"hi\"))"
    try:
        data = wat(text)
    except wasmtime.WasmtimeError:
        data = wat("(module (memory 1) (global i32 (i32.const 1)) (func))")
    out = append_exports(data, [("g", "global", 0), ("f", "func", 0)])
    m = WasmModule.from_bytes(out)
    order = [s.id for s in m.sections if s.id]
    assert order == sorted(order, key=lambda i: {6: 7, 7: 8}.get(i, i if i < 6 else i + 2))
    store, exports = instantiate(out)
    assert exports["g"].value(store) == 1


def test_bad_index_and_kind():
    data = wat("(module (global i32 (i32.const 1)))")
    with pytest.raises(ParseError, match="has 1 globals"):
        append_exports(data, [("x", "global", 3)])
    with pytest.raises(ParseError, match="unknown kind"):
        append_exports(data, [("x", "thing", 0)])


def test_append_global_then_export():
    data = wat("(module (global i32 (i32.const 1)) (func (export \"f\")))")
    out, idx = append_global(data, "i32", True, 0xFFFFFFF0)
    assert idx == 1
    out = append_exports(out, [("g", "global", idx)])
    store, exports = instantiate(out)
    assert exports["g"].value(store) == -16


def test_round_trip_on_samples():
    path = sample("memdemo.wasm")
    m = WasmModule.from_file(path)
    sp = next(g.index for g in m.globals if not m.get_export_names("global", g.index))
    out = append_exports(bytes(m.data), [("__wasmem_sp", "global", sp)])
    m2 = WasmModule.from_bytes(out)
    assert m2.find_export("__wasmem_sp").index == sp
    assert len(m2.functions) == len(m.functions)
    store, exports = instantiate(out)
    assert exports["__wasmem_sp"].value(store) == m.globals[sp].init.simple_value
