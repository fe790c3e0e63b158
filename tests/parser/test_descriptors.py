"""The GC and custom-descriptors encodings the parser reads: ``describes``/``descriptor`` clauses in the type
section, exact heap types (0x62), exact function imports (import kind 0x20), the new instructions and their
immediates, and the mutability byte of struct fields and array elements. Hand-made minimal modules, as text
assembled by wasmtime or as bytes; the malformed counterparts are in tests/corpus/make_corpus.py."""

import json

import pytest
import wasmtime

from wasmem.cli.main import main
from wasmem.errors import ParseError
from wasmem.model.interface import describe_imports
from wasmem.parser.code import decode_locals, iter_instructions
from wasmem.parser.encode import uleb
from wasmem.parser.module import WasmModule
from wasmem.parser.validate import check_structure

H = b"\0asm\x01\0\0\0"


def sec(sid: int, payload: bytes) -> bytes:
    return bytes([sid]) + uleb(len(payload)) + payload


def module(text: str) -> WasmModule:
    m = WasmModule.from_bytes(bytes(wasmtime.wat2wasm(text)))
    check_structure(m, bodies=True)
    return m


def instrs(m: WasmModule, k: int = 0) -> list:
    body = m.functions[k]
    _, p = decode_locals(m.data, body.start, body.end)
    return list(iter_instructions(m.data, p, body.end))


def inspect(tmp_path, capsys, data: bytes, *args: str):
    p = tmp_path / "m.wasm"
    p.write_bytes(data)
    with pytest.raises(SystemExit) as exc:
        main(["inspect", str(p), *args])
    return exc.value.code, capsys.readouterr()


def test_describes_and_descriptor_clauses_in_rec_groups_and_subtypes():
    m = module("""(module
      (rec (type $obj (descriptor $meta) (struct (field i32)))
           (type $meta (describes $obj) (struct)))
      (rec (type $base (sub (descriptor $bmeta) (struct)))
           (type $bmeta (sub (describes $base) (descriptor $top) (struct)))
           (type $top (sub final (describes $bmeta) (struct))))
      (type $plain (func (param i32))))""")
    got = [(t.index, t.kind, t.describes, t.descriptor) for t in m.types]
    assert got == [(0, "struct", None, 1), (1, "struct", 0, None),
                   (2, "struct", None, 3), (3, "struct", 2, 4), (4, "struct", 3, None),
                   (5, "func", None, None)]
    assert str(m.get_func_type(5)) == "(i32) -> ()"


def test_descriptor_clause_after_sub_with_supertypes_as_bytes():
    # rec 2: (sub 0 (describes 1)... is invalid, but well-formed: sub with one supertype, then the clauses
    types = b"\x01\x4e\x02" + b"\x50\x00\x4d\x01\x5f\x00" + b"\x4f\x01\x00\x4c\x00\x5e\x7f\x01"
    m = WasmModule.from_bytes(H + sec(1, types))
    assert [(t.kind, t.describes, t.descriptor) for t in m.types] == [("struct", None, 1), ("array", 0, None)]


def test_exact_heap_types_in_value_types():
    m = module("""(module
      (type $s (struct (field (ref null (exact $s)))))
      (type $f (func (param (ref (exact $s))) (result (ref null (exact $f)))))
      (global (mut (ref null (exact $s))) (ref.null (exact $s)))
      (func (type $f) (local (ref null (exact $s))) unreachable))""")
    assert m.get_func_type(1).params == ("(ref (exact 0))",)
    assert m.get_func_type(1).results == ("(ref null (exact 1))",)
    g = m.globals[0]
    assert g.type.valtype == "(ref null (exact 0))" and g.type.mutable
    assert g.init.ops == (("ref.null", "(exact 0)"),)
    body = m.functions[0]
    assert decode_locals(m.data, body.start, body.end)[0] == [(1, "(ref null (exact 0))")]


def test_a_type_index_in_a_multibyte_s33_is_still_a_heap_type():
    # (ref null 0) with the index padded to two bytes, then an abstract one-byte funcref shorthand
    types = b"\x02\x5f\x01\x63\x80\x00\x00\x5f\x01\x63\x70\x01"
    m = WasmModule.from_bytes(H + sec(1, types))
    assert [t.kind for t in m.types] == ["struct", "struct"]


def test_struct_and_array_mutability_0_and_1():
    m = module("(module (type (struct (field i8) (field (mut i16)) (field (mut f64)))) (type (array (mut i32)))"
               " (type (array i64)))")
    assert [t.kind for t in m.types] == ["struct", "array", "array"]


def test_exact_function_import(tmp_path, capsys):
    text = """(module (type $t (func (param i32) (result i64)))
      (import "env" "exact" (func (exact (type $t))))
      (import "env" "plain" (func (type $t))))"""
    m = module(text)
    assert [(i.name, i.kind, i.type, i.exact) for i in m.imports] == [("exact", "func", 0, True),
                                                                     ("plain", "func", 0, False)]
    assert m.num_imported_funcs == 2 and m.function_type_indices == [0, 0]
    sigs = [(d["signature"], d["type"].get("exact")) for d in describe_imports(m)]
    assert sigs == [("exact (i32) -> i64", True), ("(i32) -> i64", None)]
    code, out = inspect(tmp_path, capsys, bytes(wasmtime.wat2wasm(text)), "--imports", "--json")
    assert code == 0, out.err
    assert [d["signature"] for d in json.loads(out.out)["imports"]] == ["exact (i32) -> i64", "(i32) -> i64"]


def test_new_instructions_and_their_immediates():
    m = module("""(module
      (rec (type $o (descriptor $d) (struct (field i32)))
           (type $d (describes $o) (struct)))
      (func (param $x anyref) (param $desc (ref null (exact $d))) (result anyref)
        (drop (struct.new_desc $o (i32.const 1) (struct.new_default_desc $d)))
        (drop (ref.get_desc $o (ref.null $o)))
        (drop (ref.cast_desc_eq (ref (exact $o)) (local.get $x) (local.get $desc)))
        (drop (ref.cast_desc_eq (ref null $o) (local.get $x) (local.get $desc)))
        (block $l (result (ref null (exact $o)))
          (drop (br_on_cast_desc_eq $l anyref (ref null (exact $o)) (local.get $x) (local.get $desc)))
          (drop (br_on_cast_desc_eq_fail 1 anyref (ref $o) (local.get $x) (local.get $desc)))
          unreachable)))""")
    got = [(i.name, i.op, i.imm) for i in instrs(m) if i.op >> 16 == 0xFB or i.name == "block"]
    assert got == [
        ("struct.new_default_desc", 0xFB0021, 1), ("struct.new_desc", 0xFB0020, 0),
        ("ref.get_desc", 0xFB0022, 0),
        ("ref.cast_desc_eq", 0xFB0023, "(exact 0)"), ("ref.cast_desc_eq", 0xFB0024, 0),
        ("block", 0x02, "(ref null (exact 0))"),
        ("br_on_cast_desc_eq", 0xFB0025, (3, 0, "any", "(exact 0)")),
        ("br_on_cast_desc_eq_fail", 0xFB0026, (1, 1, "any", 0)),
    ]


def test_descriptor_allocations_are_constant_expressions():
    m = module("""(module
      (rec (type $o (descriptor $d) (struct)) (type $d (describes $o) (struct)))
      (global $meta (ref (exact $d)) (struct.new_default_desc $d))
      (global (ref $o) (struct.new_desc $o (global.get $meta))))""")
    assert [g.init.ops for g in m.globals] == [(("struct.new_default_desc", (1,)),),
                                              (("global.get", 0), ("struct.new_desc", (0,)))]


def test_valid_encodings_inspect_with_exit_0(tmp_path, capsys):
    data = bytes(wasmtime.wat2wasm("""(module
      (rec (type $o (descriptor $d) (struct)) (type $d (describes $o) (struct)))
      (import "env" "f" (func (exact (param (ref null (exact $o))))))
      (memory 1)
      (func (export "get") (param (ref null (exact $o))) (result (ref (exact $d)))
        (ref.get_desc $o (local.get 0))))"""))
    code, out = inspect(tmp_path, capsys, data, "--imports", "--exports")
    assert code == 0 and out.err == ""
    assert "exact ((ref null (exact 0))) -> ()" in out.out


@pytest.mark.parametrize("payload, message", [
    (b"\x01\x5f\x01\x7f\x02", "struct field mutability must be 0 or 1, not 2"),
    (b"\x01\x5e\x7f\x03", "array element mutability must be 0 or 1, not 3"),
    (b"\x01\x4c\x00\x4c\x00\x5f\x00", "unknown type form 0x4c"),
    (b"\x01\x5f\x01\x64\x62", "ends inside entry 0"),
])
def test_malformed_type_entries_name_the_byte(payload, message):
    with pytest.raises(ParseError, match=message):
        _ = WasmModule.from_bytes(H + sec(1, payload)).types
