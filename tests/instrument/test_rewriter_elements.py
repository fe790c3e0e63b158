"""Builder.redirect_elements (instrument/rewriter.py): every encoding of the element section (flags 0-7:
function-index vectors and ``ref.func`` expressions, active/passive/declarative, explicit tables) has its
entries of F turned into an appended G of the same type; everything else is copied; the module validates,
``call_indirect``/``table.get``+``call_ref``/``table.init`` reach G, and ``ref.func F`` in code stays valid
(an appended declarative segment declares F and G)."""

from __future__ import annotations

import pytest
import wasmtime

from wasmem.instrument.rewriter import Builder, Pass, rewrite
from wasmem.parser import WasmModule

WAT = r"""
(module
  (type $t (func (param i32) (result i32)))
  (table $a 8 funcref)
  (table $b 8 funcref)
  (global $g funcref (ref.func $f))
  (func $f (type $t) (i32.add (local.get 0) (i32.const 1)))
  (func $other (type $t) (i32.mul (local.get 0) (i32.const 3)))
  (elem (i32.const 0) $f $other)                                  ;; flags 0
  (elem $p func $other $f)                                        ;; flags 1: passive, indices
  (elem (table $b) (i32.const 1) func $f)                         ;; flags 2: table, indices
  (elem declare func $f)                                          ;; flags 3: declarative, indices
  (elem (i32.const 4) funcref (ref.func $f) (ref.null func))      ;; flags 4: expressions
  (elem $q funcref (ref.func $f) (ref.func $other))               ;; flags 5: passive, expressions
  (elem (table $b) (i32.const 5) funcref (ref.func $f))           ;; flags 6: table, expressions
  (elem declare funcref (ref.func $other))                        ;; flags 7: declarative, expressions
  (func (export "via_a") (param i32 i32) (result i32)
    (call_indirect $a (type $t) (local.get 1) (local.get 0)))
  (func (export "via_b") (param i32 i32) (result i32)
    (call_indirect $b (type $t) (local.get 1) (local.get 0)))
  (func (export "via_ref") (param i32 i32) (result i32)
    (call_ref $t (local.get 1) (ref.cast (ref $t) (table.get $a (local.get 0)))))
  (func (export "init_p") (table.init $a $p (i32.const 6) (i32.const 0) (i32.const 2)))
  (func (export "init_q") (table.init $a $q (i32.const 6) (i32.const 0) (i32.const 2)))
  (func (export "code_ref") (param i32) (result i32)
    (call_ref $t (local.get 0) (ref.func $f)))
  (func (export "global_ref") (param i32) (result i32)
    (call_ref $t (local.get 0) (ref.cast (ref $t) (global.get $g))))
)
"""


class _Redirect(Pass):
    """Appends G(x) = F(x) + 1000 with F's own type and points every element entry of F at it."""

    def __init__(self, f: int):
        self.f = f

    def setup(self, b: Builder) -> None:
        ti = b.module.function_type_indices[self.f]
        self.g = b.add_function(ti)
        self.count = b.redirect_elements(self.f, self.g)

    def finish(self, b: Builder) -> None:
        b.set_body(self.g, b"\x00\x20\x00\x10" + bytes([self.f]) + b"\x41\xe8\x07\x6a\x0b")


def _engine() -> wasmtime.Engine:
    cfg = wasmtime.Config()
    cfg.wasm_function_references = True
    cfg.wasm_gc = True
    return wasmtime.Engine(cfg)


def _run(data: bytes):
    engine = _engine()
    store = wasmtime.Store(engine)
    inst = wasmtime.Instance(store, wasmtime.Module(engine, data), [])
    return store, inst.exports(store)


def _calls(store, ex) -> list:
    out = [ex["via_a"](store, 0, 5), ex["via_a"](store, 1, 5), ex["via_a"](store, 4, 5),
           ex["via_b"](store, 1, 5), ex["via_b"](store, 5, 5), ex["via_ref"](store, 0, 7)]
    ex["init_p"](store)
    out += [ex["via_a"](store, 6, 2), ex["via_a"](store, 7, 2)]
    ex["init_q"](store)
    out += [ex["via_a"](store, 6, 2), ex["via_a"](store, 7, 2)]
    out += [ex["code_ref"](store, 9), ex["global_ref"](store, 9)]
    return out


@pytest.fixture(scope="module")
def original() -> bytes:
    return wasmtime.wat2wasm(WAT)


def test_every_element_encoding_is_redirected_and_the_rest_copied(original):
    m = WasmModule.from_bytes(original)
    assert sorted({s.func_indices and len(s.func_indices) for s in m.elements}) == [1, 2]
    p = _Redirect(0)
    rw = rewrite(original, [p])
    assert p.count == 7  # flags 0, 1, 2, 3, 4, 5, 6 each name $f once (flags 7 names only $other)
    out = WasmModule.from_bytes(rw.data)
    assert len(out.elements) == len(m.elements) + 1
    for old, new in zip(m.elements, out.elements, strict=False):
        assert (new.mode, new.table, new.elem_type) == (old.mode, old.table, old.elem_type)
        assert new.func_indices == tuple(p.g if f == 0 else f for f in old.func_indices)
        if old.offset_expr is not None:
            assert new.offset_expr.ops == old.offset_expr.ops
    extra = out.elements[-1]
    assert extra.mode == "declarative" and extra.func_indices == (0, p.g)
    assert out.get_function_type(p.g) == m.get_function_type(0)


def test_the_tables_reach_the_new_function_and_code_refs_keep_the_old(original):
    plain = _calls(*_run(original))
    assert plain == [6, 15, 6, 6, 6, 8, 6, 3, 3, 6, 10, 10]
    p = _Redirect(0)
    got = _calls(*_run(rewrite(original, [p]).data))
    # every table entry of $f now reaches G ($f + 1000); $other's entries, ref.func in code and the
    # global's ref.func (not an element segment) still reach $f itself
    assert got == [1006, 15, 1006, 1006, 1006, 1008, 6, 1003, 1003, 6, 10, 10]


def test_no_redirect_leaves_the_element_section_as_it_was(original):
    class _Nothing(Pass):
        pass

    rw = rewrite(original, [_Nothing()])
    m, out = WasmModule.from_bytes(original), WasmModule.from_bytes(rw.data)
    assert bytes(original[m.get_section(9).offset:m.get_section(9).end]) == \
        bytes(rw.data[out.get_section(9).offset:out.get_section(9).end])
