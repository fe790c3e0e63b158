"""The instruction decoder on real modules (built with wasmtime.wat2wasm, plus the committed samples)."""

from __future__ import annotations

import math
import mmap
import re
import shutil
import struct
import subprocess
from pathlib import Path

import pytest
import wasmtime
from hypothesis import given
from hypothesis import strategies as st

from wasmem.errors import ParseError
from wasmem.parser import WasmModule
from wasmem.parser.code import (
    OPCODE_NAMES,
    Instr,
    decode_locals,
    function_prefix,
    iter_instruction_tuples,
    iter_instructions,
    op_name,
)

ROOT = Path(__file__).resolve().parents[2]
SAMPLES = ROOT / "samples"

BLOCK_OPENERS = {0x02, 0x03, 0x04, 0x06, 0x1F}


# -- helpers --------------------------------------------------------------------------------------

def wat(text: str) -> bytes:
    return bytes(wasmtime.wat2wasm(text))


def _uleb(b: bytes, p: int) -> tuple[int, int]:
    result = shift = 0
    while True:
        x = b[p]
        p += 1
        result |= (x & 0x7F) << shift
        shift += 7
        if x < 0x80:
            return result, p


def code_section(b) -> tuple[int, int] | None:
    """(payload start, payload end) of the code section, walking the section headers."""
    assert bytes(b[:4]) == b"\0asm"
    p = 8
    while p < len(b):
        sid = b[p]
        size, p = _uleb(b, p + 1)
        if sid == 10:
            return p, p + size
        p += size
    return None


def bodies(b) -> list[tuple[int, int]]:
    """(start, end) of every function body, as the module reader locates them."""
    return [(f.start, f.end) for f in WasmModule.from_bytes(b).functions]


def decode_module(b) -> list[tuple[list[tuple[int, str]], list[Instr]]]:
    """Decode every body; check each one ends with the `end` that closes the function, exactly at
    the end of the body."""
    cs = code_section(b)
    if cs is None:
        return []
    out = []
    for bs, be in bodies(b):
        locals_, ip = decode_locals(b, bs, be)
        instrs = list(iter_instructions(b, ip, be))
        assert instrs, "a body has at least its final end"
        depth = 0
        for i, ins in enumerate(instrs):
            if ins.op in BLOCK_OPENERS:
                depth += 1
            elif ins.op == 0x0B or ins.op == 0x18:  # `delegate` closes a legacy `try` (no `end`)
                depth -= 1
                if depth < 0:
                    assert i == len(instrs) - 1, f"function-level end at {ins.offset:#x} before the body end"
        assert depth == -1
        assert instrs[-1].op == 0x0B and instrs[-1].offset == be - 1
        out.append((locals_, instrs))
    return out


def body_instrs(b, index: int = 0) -> list[Instr]:
    """Instructions of the index-th body, without the final end."""
    return decode_module(b)[index][1][:-1]


def find(instrs, name: str) -> list[Instr]:
    return [i for i in instrs if op_name(i.op) == name]


def one(instrs, name: str) -> Instr:
    found = find(instrs, name)
    assert len(found) == 1, (name, found)
    return found[0]


def raw_body(code: bytes, locals_: bytes = b"\x00") -> tuple[bytes, int, int]:
    """A buffer holding just a body (no module), with a trailing guard byte: (data, start, end)."""
    data = locals_ + code + b"\x0b"
    return data + b"\x01", 0, len(data)


def instrs_of(code: bytes) -> list[Instr]:
    data, start, end = raw_body(code)
    _, ip = decode_locals(data, start, end)
    return list(iter_instructions(data, ip, end))


# -- MVP and the small core proposals -------------------------------------------------------------

MVP = """
(module
  (type $t (func (param i32) (result i32)))
  (import "env" "f" (func $imp (param i32) (result i32)))
  (memory 1)
  (table 4 funcref)
  (global $g (mut i32) (i32.const 0))
  (func $f (param $x i32) (result i32)
    (local $a i32) (local $b i32) (local $c i64) (local $d f32) (local $e f64) (local $r funcref)
    (local $h externref)
    i32.const -1
    local.set $a
    i64.const -9223372036854775808
    local.set $c
    f32.const 1.5
    local.set $d
    f64.const -0.25
    local.set $e
    i32.const 2147483647
    drop
    (block $b1
      (loop $l
        local.get $x
        br_table $b1 $l 0 1 $b1))
    local.get $x
    i32.load offset=65536 align=2
    i64.load8_s offset=7
    i64.store32 offset=300 align=1
    (i32.store16 offset=2 (i32.const 0) (i32.const 1))
    global.get $g
    global.set $g
    memory.size
    memory.grow
    (call_indirect (type $t) (i32.const 3) (i32.const 1))
    (call $imp)
    i32.extend8_s
    i64.extend_i32_s
    i64.extend32_s
    f32.convert_i64_u
    i32.trunc_sat_f32_s
    f64.convert_i32_s
    i64.trunc_sat_f64_u
    drop
    (select (local.get $x) (i32.const 0) (i32.const 1))
    (if (result i32) (i32.const 0) (then (i32.const 1)) (else (unreachable)))
    i32.add
    return)
)
"""


def test_mvp_immediates():
    ins = body_instrs(wat(MVP))
    consts = find(ins, "i32.const")
    assert consts[0].imm == -1
    assert consts[1].imm == 2147483647
    assert one(ins, "i64.const").imm == -(2**63)
    assert one(ins, "f32.const").imm == 1.5
    assert one(ins, "f64.const").imm == -0.25
    assert one(ins, "br_table").imm == ((1, 0, 0, 1), 1)
    assert one(ins, "i32.load").imm == (1, 65536, 0)  # align=2 bytes → log2 1
    assert one(ins, "i64.load8_s").imm == (0, 7, 0)
    assert one(ins, "i64.store32").imm == (0, 300, 0)
    assert one(ins, "i32.store16").imm == (1, 2, 0)
    assert one(ins, "call_indirect").imm == (0, 0)
    assert one(ins, "call").imm == 0  # the import is function 0
    assert one(ins, "global.get").imm == 0
    assert one(ins, "memory.size").imm == 0
    assert one(ins, "memory.grow").imm == 0
    assert one(ins, "i32.trunc_sat_f32_s").op == 0xFC0000
    assert one(ins, "i64.trunc_sat_f64_u").op == 0xFC0007
    assert one(ins, "if").imm == "i32"
    assert one(ins, "block").imm is None
    assert one(ins, "loop").imm is None
    assert one(ins, "select").imm is None
    assert [op_name(i.op) for i in ins[-6:]] == ["i32.const", "else", "unreachable", "end", "i32.add", "return"]
    assert ins[-1].name == "return"
    # offsets are absolute and strictly increasing
    offs = [i.offset for i in ins]
    assert offs == sorted(set(offs))


def test_locals_groups():
    b = wat(MVP)
    (locals_, _), = decode_module(b)
    assert locals_ == [(2, "i32"), (1, "i64"), (1, "f32"), (1, "f64"), (1, "funcref"), (1, "externref")]


def test_reference_types_and_typed_select():
    b = wat("""
    (module
      (type $ft (func))
      (table $t0 2 funcref) (table $t1 2 externref)
      (elem declare func $f)
      (func $f (param externref) (result externref)
        ref.null func
        ref.is_null
        drop
        (ref.null extern)
        (ref.null $ft)
        drop
        drop
        ref.func $f
        drop
        (select (result externref) (local.get 0) (ref.null extern) (i32.const 1))
        (table.get $t1 (i32.const 0))
        drop
        (table.set $t1 (i32.const 0) (ref.null extern))
        (table.size $t1)
        drop
        (table.grow $t1 (ref.null extern) (i32.const 1))
        drop
        (table.fill $t1 (i32.const 0) (ref.null extern) (i32.const 1))
        (table.copy $t0 $t0 (i32.const 0) (i32.const 0) (i32.const 0))
        (table.init $t0 0 (i32.const 0) (i32.const 0) (i32.const 0))
        elem.drop 0
      )
    )""")
    ins = body_instrs(b)
    nulls = find(ins, "ref.null")
    assert [i.imm for i in nulls] == ["func", "extern", 0, "extern", "extern", "extern", "extern"]
    assert one(ins, "ref.func").imm == 0
    typed = [i for i in ins if i.op == 0x1C]
    assert typed[0].imm == ("externref",) and typed[0].name == "select"
    assert one(ins, "table.get").imm == 1
    assert one(ins, "table.set").imm == 1
    assert one(ins, "table.size").imm == 1
    assert one(ins, "table.grow").imm == 1
    assert one(ins, "table.fill").imm == 1
    assert one(ins, "table.copy").imm == (0, 0)
    assert one(ins, "table.init").imm == (0, 0)  # elem 0, table 0
    assert one(ins, "elem.drop").imm == 0


def test_bulk_memory():
    b = wat("""
    (module
      (memory 1)
      (data $d0 "abc") (data $d1 "xyz")
      (func
        (memory.init $d1 (i32.const 0) (i32.const 0) (i32.const 3))
        (memory.copy (i32.const 0) (i32.const 8) (i32.const 3))
        (memory.fill (i32.const 0) (i32.const 255) (i32.const 3))
        data.drop $d1))""")
    ins = body_instrs(b)
    assert one(ins, "memory.init").imm == (1, 0)
    assert one(ins, "memory.copy").imm == (0, 0)
    assert one(ins, "memory.fill").imm == 0
    assert one(ins, "data.drop").imm == 1
    assert one(ins, "memory.init").op == 0xFC0008


def test_multi_memory():
    b = wat("""
    (module
      (memory $m0 1) (memory $m1 1) (memory $m2 1)
      (func (result i32)
        (i32.store $m2 offset=16 (i32.const 0) (i32.const 7))
        (memory.copy $m1 $m2 (i32.const 0) (i32.const 0) (i32.const 4))
        (memory.fill $m2 (i32.const 0) (i32.const 0) (i32.const 4))
        (drop (memory.grow $m1 (i32.const 1)))
        (drop (memory.size $m2))
        (v128.store $m1 offset=32 (i32.const 0) (v128.const i64x2 0 0))
        (i32.load $m1 offset=4 align=2 (i32.const 0))))""")
    ins = body_instrs(b)
    assert one(ins, "i32.store").imm == (2, 16, 2)
    assert one(ins, "i32.load").imm == (1, 4, 1)
    assert one(ins, "v128.store").imm == (4, 32, 1)
    assert one(ins, "memory.copy").imm == (1, 2)
    assert one(ins, "memory.fill").imm == 2
    assert one(ins, "memory.grow").imm == 1
    assert one(ins, "memory.size").imm == 2


def test_memory64():
    b = wat("""
    (module
      (memory i64 1)
      (func (result i64)
        (i32.store offset=0x100000000 (i64.const 0) (i32.const 1))
        (i64.load offset=0xFFFFFFFFFFFFFFF0 align=8 (i64.const 0))))""")
    ins = body_instrs(b)
    assert one(ins, "i32.store").imm == (2, 2**32, 0)
    assert one(ins, "i64.load").imm == (3, 0xFFFFFFFFFFFFFFF0, 0)


def test_multi_value_block_types():
    b = wat("""
    (module
      (type $pair (func (param i32) (result i32 i32)))
      (type $s (struct))
      (func (result i32)
        (i32.const 1)
        (block (type $pair) (param i32) (result i32 i32) (i32.const 2))
        drop
        (loop (result f64) (f64.const 0))
        drop
        (block (result (ref null $s)) (ref.null $s))
        drop
        (block (result (ref func)) (ref.func 0))
        drop)
      (elem declare func 0))""")
    ins = body_instrs(b)
    blocks = find(ins, "block")
    assert blocks[0].imm == 0  # type index
    assert blocks[1].imm == "(ref null 1)"
    assert blocks[2].imm == "(ref func)"
    assert one(ins, "loop").imm == "f64"


# -- SIMD -----------------------------------------------------------------------------------------

def test_simd_immediates():
    b = wat("""
    (module
      (memory 1)
      (func (param v128) (result v128)
        (v128.const i32x4 0x01020304 -1 0 0x7fffffff)
        (i8x16.shuffle 0 1 2 3 4 5 6 7 8 9 10 11 12 13 14 31 (local.get 0) (local.get 0))
        drop
        (i8x16.extract_lane_u 15 (local.get 0))
        drop
        (f64x2.replace_lane 1 (local.get 0) (f64.const 1))
        drop
        (v128.load8_lane offset=12 9 (i32.const 0) (local.get 0))
        drop
        (v128.store64_lane align=8 1 (i32.const 0) (local.get 0))
        (v128.load32_zero offset=4 (i32.const 0))
        drop
        (v128.load16x4_s offset=1000 align=2 (i32.const 0))
        drop
        (i32x4.relaxed_dot_i8x16_i7x16_add_s (local.get 0) (local.get 0) (local.get 0))
        drop
        (f32x4.relaxed_madd (local.get 0) (local.get 0) (local.get 0))
        drop
        (i64x2.extmul_high_i32x4_u (local.get 0) (local.get 0))
        drop))""")
    ins = body_instrs(b)
    c = one(ins, "v128.const")
    assert c.op == 0xFD000C
    assert c.imm == struct.pack("<IiiI", 0x01020304, -1, 0, 0x7FFFFFFF)
    assert one(ins, "i8x16.shuffle").imm == bytes([*range(15), 31])
    assert one(ins, "i8x16.extract_lane_u").imm == 15
    assert one(ins, "f64x2.replace_lane").imm == 1
    assert one(ins, "v128.load8_lane").imm == (0, 12, 0, 9)
    assert one(ins, "v128.store64_lane").imm == (3, 0, 0, 1)
    assert one(ins, "v128.load32_zero").imm == (2, 4, 0)
    assert one(ins, "v128.load16x4_s").imm == (1, 1000, 0)  # align=2
    assert one(ins, "i32x4.relaxed_dot_i8x16_i7x16_add_s").op == 0xFD0113
    assert one(ins, "f32x4.relaxed_madd").op == 0xFD0105
    assert one(ins, "i64x2.extmul_high_i32x4_u").op == 0xFD00DF


# -- threads --------------------------------------------------------------------------------------

def test_atomics():
    b = wat("""
    (module
      (memory 1 1 shared)
      (func (result i32)
        atomic.fence
        (drop (memory.atomic.notify offset=8 (i32.const 0) (i32.const 1)))
        (drop (memory.atomic.wait32 (i32.const 0) (i32.const 0) (i64.const -1)))
        (drop (memory.atomic.wait64 offset=16 (i32.const 0) (i64.const 0) (i64.const -1)))
        (i64.atomic.store32 offset=4 (i32.const 0) (i64.const 1))
        (drop (i32.atomic.rmw8.xchg_u (i32.const 0) (i32.const 1)))
        (drop (i64.atomic.rmw32.cmpxchg_u offset=12 (i32.const 0) (i64.const 1) (i64.const 2)))
        (i32.atomic.rmw.add offset=20 (i32.const 0) (i32.const 1))))""")
    ins = body_instrs(b)
    fence = one(ins, "atomic.fence")
    assert fence.op == 0xFE0003 and fence.imm is None
    assert one(ins, "memory.atomic.notify").imm == (2, 8, 0)
    assert one(ins, "memory.atomic.wait32").imm == (2, 0, 0)
    assert one(ins, "memory.atomic.wait64").imm == (3, 16, 0)
    assert one(ins, "i64.atomic.store32").imm == (2, 4, 0)
    assert one(ins, "i32.atomic.rmw8.xchg_u").imm == (0, 0, 0)
    assert one(ins, "i64.atomic.rmw32.cmpxchg_u").imm == (2, 12, 0)
    assert one(ins, "i64.atomic.rmw32.cmpxchg_u").op == 0xFE004E
    assert one(ins, "i32.atomic.rmw.add").imm == (2, 20, 0)


# -- tail calls, typed function references, exceptions ----------------------------------------------

def test_tail_calls_and_function_references():
    b = wat("""
    (module
      (type $ft (func (param i32) (result i32)))
      (table 1 funcref)
      (elem declare func $f)
      (func $f (type $ft)
        (block $l (result (ref $ft))
          (br_on_non_null $l (ref.func $f))
          unreachable)
        (block $n
          (br_on_null $n (ref.func $f))
          drop)
        (drop (ref.eq (ref.null eq) (ref.null eq)))
        (drop (call_ref $ft (i32.const 1) (ref.as_non_null (ref.func $f))))
        (if (local.get 0) (then (return_call $f (i32.const 0))))
        (if (local.get 0) (then (return_call_indirect (type $ft) (i32.const 0) (i32.const 0))))
        (return_call_ref $ft (i32.const 1))))""")
    ins = body_instrs(b)
    assert one(ins, "br_on_non_null").imm == 0
    assert one(ins, "br_on_null").imm == 0
    assert one(ins, "ref.eq").op == 0xD3
    assert one(ins, "ref.as_non_null").op == 0xD4
    assert one(ins, "call_ref").imm == 0
    assert one(ins, "return_call").imm == 0
    assert one(ins, "return_call").op == 0x12
    assert one(ins, "return_call_indirect").imm == (0, 0)
    assert one(ins, "return_call_ref").imm == 0
    assert one(ins, "return_call_ref").op == 0x15


def test_exception_handling_legacy():
    b = wat("""
    (module
      (tag $e0) (tag $e (param i32))
      (func
        try
          i32.const 1
          throw $e
        catch $e
          drop
        catch $e0
        catch_all
          rethrow 0
        end
        block
          try (result i32)
            i32.const 5
          delegate 0
          drop
        end))""")
    ins = body_instrs(b)
    assert [i.imm for i in find(ins, "try")] == [None, "i32"]
    assert one(ins, "throw").imm == 1
    assert [i.imm for i in find(ins, "catch")] == [1, 0]
    assert one(ins, "catch_all").imm is None
    assert one(ins, "rethrow").imm == 0
    assert one(ins, "delegate").imm == 0
    assert one(ins, "delegate").op == 0x18


def test_exception_handling_try_table():
    b = wat("""
    (module
      (tag $e0) (tag $e (param i32))
      (func (param exnref) (result i32)
        (block $outer (result i32 exnref)
          (block $h (result i32)
            (try_table (result i32) (catch $e $h) (catch_ref $e $outer) (catch_all $h) (catch_all_ref $outer)
              (throw $e0)))
          return)
        drop
        throw_ref))""".replace("(catch_all $h)", "(catch_all 2)"))
    ins = body_instrs(b)
    tt = one(ins, "try_table")
    assert tt.op == 0x1F
    assert tt.imm == ("i32", ((0, 1, 0), (1, 1, 1), (2, None, 2), (3, None, 1)))
    assert one(ins, "throw").imm == 0
    assert one(ins, "throw_ref").op == 0x0A


# -- stack switching ------------------------------------------------------------------------------

STACK_SWITCHING = """
(module
  (type $ft0 (func (result i32)))
  (type $ct0 (cont $ft0))
  (type $ft1 (func (param i32) (result i32)))
  (type $ct1 (cont $ft1))
  (type $ft2 (func (param (ref $ct0)) (result i32)))
  (type $ct2 (cont $ft2))
  (tag $t (result i32))
  (tag $e (param i32) (result i32))
  (tag $x)
  (global (mut (ref null $ct0)) (ref.null $ct0))
  (global (mut contref) (ref.null cont))
  (func $g (result i32) (i32.const 7) (suspend $e))
  (elem declare func $g $h)
  (func $h (param (ref $ct0)) (result i32) (i32.const 1))
  (func (export "run") (result i32)
    (block $handler (result i32 (ref $ct1))
      (resume $ct0 (on $e $handler) (on $t switch) (cont.new $ct0 (ref.func $g)))
      (return))
    (drop) (drop) (i32.const 0))
  (func (export "bind") (result (ref $ct0))
    (cont.bind $ct1 $ct0 (i32.const 3) (cont.new $ct1 (ref.null $ft1))))
  (func (export "thr") (result i32)
    (resume_throw $ct0 $x (cont.new $ct0 (ref.func $g))))
  (func (export "sw") (result i32)
    (switch $ct2 $t (cont.new $ct2 (ref.func $h))) (unreachable))
  (func (export "nc") (result i32) (ref.is_null (ref.null nocont)))
  (func (export "thrref") (param exnref) (result i32)
    (block $h (result i32 (ref $ct1))
      (resume_throw_ref $ct0 (on $e $h) (local.get 0) (cont.new $ct0 (ref.func $g)))
      (return))
    (drop)))
"""


def test_stack_switching():
    b = wat(STACK_SWITCHING)
    cfg = wasmtime.Config()
    cfg.wasm_stack_switching = True
    cfg.wasm_function_references = True
    cfg.wasm_exceptions = True
    wasmtime.Module(wasmtime.Engine(cfg), b)  # the oracle: the module is valid
    m = WasmModule.from_bytes(b)
    kinds = [t.kind for t in m.types]
    assert kinds[:6] == ["func", "cont"] * 3 and set(kinds[6:]) == {"func"}
    assert [g.type.valtype for g in m.globals] == ["(ref null 1)", "contref"]
    assert one(body_instrs(b, 0), "suspend").imm == 1
    run = body_instrs(b, 2)
    assert one(run, "cont.new").imm == 1 and one(run, "cont.new").op == 0xE0
    assert one(run, "resume").imm == (1, ((0, 1, 0), (1, 0, None)))  # (on $e $handler), (on $t switch)
    assert one(body_instrs(b, 3), "cont.bind").imm == (3, 1)
    assert one(body_instrs(b, 4), "resume_throw").imm == (1, 2, ())
    assert one(body_instrs(b, 5), "switch").imm == (5, 0)
    assert one(body_instrs(b, 6), "ref.null").imm == "nocont"
    assert one(body_instrs(b, 7), "resume_throw_ref").imm == (1, ((0, 1, 0),))
    # and the whole pipeline takes it: structure check, layout, stack analysis
    from wasmem.model.layout import analyze
    from wasmem.model.stackframes import analyze_stack
    from wasmem.parser.validate import check_structure

    check_structure(m)
    sa = analyze_stack(m, analyze(m))
    assert len(sa.frames) == 8


def test_stack_switching_handler_errors():
    for code, message in [(b"\xe3\x00\x01\x02\x00", "unknown resume handler kind 0x02"),
                          (b"\xe3\x00\x05\x00\x00\x00", "resume: 5 handlers cannot fit"),
                          (b"\xe4\x00\x00\x01\x00", "resume_throw at 0x1 runs past the end of the code")]:
        data, start, end = raw_body(code)
        with pytest.raises(ParseError, match=message):
            list(iter_instructions(data, start, end))


# -- GC -------------------------------------------------------------------------------------------

def test_gc():
    b = wat("""
    (module
      (type $s (struct (field i32) (field (mut i8)) (field (mut i64))))
      (type $a (array (mut i16)))
      (type $fa (array (mut funcref)))
      (data $d "\\00\\01\\02\\03")
      (elem $el func $f)
      (func $f (param anyref externref) (result i32)
        (drop (struct.new $s (i32.const 1) (i32.const 2) (i64.const 3)))
        (drop (struct.new_default $s))
        (drop (struct.get $s 2 (ref.cast (ref $s) (local.get 0))))
        (drop (struct.get_u $s 1 (ref.cast (ref null $s) (local.get 0))))
        (struct.set $s 2 (ref.null $s) (i64.const 0))
        (drop (array.new_fixed $a 3 (i32.const 1) (i32.const 2) (i32.const 3)))
        (drop (array.new_data $a $d (i32.const 0) (i32.const 2)))
        (drop (array.new_elem $fa $el (i32.const 0) (i32.const 1)))
        (drop (array.get_s $a (ref.null $a) (i32.const 0)))
        (drop (array.len (ref.null $a)))
        (array.copy $a $a (ref.null $a) (i32.const 0) (ref.null $a) (i32.const 0) (i32.const 0))
        (array.fill $a (ref.null $a) (i32.const 0) (i32.const 0) (i32.const 0))
        (array.init_data $a $d (ref.null $a) (i32.const 0) (i32.const 0) (i32.const 0))
        (drop (ref.test (ref i31) (local.get 0)))
        (drop (ref.test (ref null $s) (local.get 0)))
        (drop (any.convert_extern (local.get 1)))
        (drop (extern.convert_any (local.get 0)))
        (drop (i31.get_s (ref.i31 (i32.const -5))))
        (drop (block $l (result anyref)
          (br_on_cast $l anyref (ref null i31) (local.get 0))
          (br_on_cast_fail $l anyref (ref $s))
        ))
        (i32.const 0)))""")
    ins = body_instrs(b)
    assert one(ins, "struct.new").imm == 0
    assert one(ins, "struct.new_default").imm == 0
    assert one(ins, "struct.get").imm == (0, 2)
    assert one(ins, "struct.get_u").imm == (0, 1)
    assert one(ins, "struct.set").imm == (0, 2)
    assert one(ins, "array.new_fixed").imm == (1, 3)
    assert one(ins, "array.new_data").imm == (1, 0)
    assert one(ins, "array.new_elem").imm == (2, 0)
    assert one(ins, "array.get_s").imm == 1
    assert one(ins, "array.len").imm is None
    assert one(ins, "array.copy").imm == (1, 1)
    assert one(ins, "array.fill").imm == 1
    assert one(ins, "array.init_data").imm == (1, 0)
    casts = find(ins, "ref.cast")
    assert [(c.op, c.imm) for c in casts] == [(0xFB0016, 0), (0xFB0017, 0)]
    tests = find(ins, "ref.test")
    assert [(t.op, t.imm) for t in tests] == [(0xFB0014, "i31"), (0xFB0015, 0)]
    assert one(ins, "br_on_cast").imm == (0b11, 0, "any", "i31")
    assert one(ins, "br_on_cast_fail").imm == (0b01, 0, "any", 0)
    assert one(ins, "ref.i31").op == 0xFB001C
    assert one(ins, "i31.get_s").op == 0xFB001D
    assert one(ins, "any.convert_extern").op == 0xFB001A
    assert one(ins, "extern.convert_any").op == 0xFB001B


def test_gc_locals():
    b = wat("""
    (module
      (type $s (struct))
      (func (local anyref eqref i31ref structref arrayref nullref nullexternref nullfuncref exnref
                   nullexnref (ref null $s) (ref $s) (ref null any) (ref extern) v128)))""")
    (locals_, instrs), = decode_module(b)
    assert [t for _, t in locals_] == [
        "anyref", "eqref", "i31ref", "structref", "arrayref", "nullref", "nullexternref", "nullfuncref",
        "exnref", "nullexnref", "(ref null 0)", "(ref 0)", "anyref", "(ref extern)", "v128"]
    assert [i.name for i in instrs] == ["end"]


# -- every opcode round-trips through the text format ------------------------------------------------

_CONTROL = {"block", "loop", "if", "try", "try_table", "else", "end", "catch", "catch_all", "delegate"}


def _text(op: int, name: str) -> str:
    special = {
        "br_table": "br_table 0 0", "call_indirect": "call_indirect (type 0)",
        "return_call_indirect": "return_call_indirect (type 0)", "select": "select",
        "v128.const": "v128.const i64x2 1 2", "i8x16.shuffle": "i8x16.shuffle " + " ".join(map(str, range(16))),
        "i32.const": "i32.const -7", "i64.const": "i64.const -7", "f32.const": "f32.const 1",
        "f64.const": "f64.const 1", "ref.null": "ref.null func", "memory.size": "memory.size",
        "memory.grow": "memory.grow", "atomic.fence": "atomic.fence", "array.len": "array.len",
        "br_on_cast": "br_on_cast 0 anyref (ref i31)", "br_on_cast_fail": "br_on_cast_fail 0 anyref (ref i31)",
        "ref.test": "ref.test (ref null any)" if op & 1 else "ref.test (ref any)",
        "ref.cast": "ref.cast (ref null any)" if op & 1 else "ref.cast (ref any)",
        # custom descriptors (type 1 is a struct; the text format does not check that it has a descriptor)
        "struct.new_desc": "struct.new_desc 1", "struct.new_default_desc": "struct.new_default_desc 1",
        "ref.get_desc": "ref.get_desc 1",
        "ref.cast_desc_eq": "ref.cast_desc_eq (ref (exact 1))" if op & 1 else "ref.cast_desc_eq (ref null 1)",
        "br_on_cast_desc_eq": "br_on_cast_desc_eq 0 anyref (ref (exact 1))",
        "br_on_cast_desc_eq_fail": "br_on_cast_desc_eq_fail 0 anyref (ref null 1)",
        # stack switching: type 3 is (cont 0)
        "cont.new": "cont.new 3", "cont.bind": "cont.bind 3 3", "suspend": "suspend 0", "resume": "resume 3",
        "resume_throw": "resume_throw 3 0", "resume_throw_ref": "resume_throw_ref 3", "switch": "switch 3 0",
    }
    if op == 0x1C:
        return "select (result i32)"
    if name in special:
        return special[name]
    lane = re.search(r"_lane(_[su])?$", name)
    if lane and ("load" in name or "store" in name):
        return f"{name} offset=3 1"
    if lane:
        return f"{name} 1"
    if re.search(r"\.(load|store)|atomic\.(notify|wait)|\.atomic\.", name):
        return f"{name} offset=3"
    zero_imm = {"local.get", "local.set", "local.tee", "global.get", "global.set", "call", "br", "br_if",
                "return_call", "call_ref", "return_call_ref", "ref.func", "table.get", "table.set",
                "throw", "rethrow", "br_on_null", "br_on_non_null", "data.drop", "elem.drop", "table.grow",
                "table.size", "table.fill", "memory.fill", "struct.new", "struct.new_default", "array.new",
                "array.new_default", "array.get", "array.get_s", "array.get_u", "array.set", "array.fill"}
    two = {"memory.init", "memory.copy", "table.init", "table.copy", "struct.get", "struct.get_s",
           "struct.get_u", "struct.set", "array.new_fixed", "array.new_data", "array.new_elem", "array.copy",
           "array.init_data", "array.init_elem"}
    if name in zero_imm:
        return f"{name} 0"
    if name in two:
        return f"{name} 0 0"
    return name


@pytest.mark.parametrize("prefix", [0, 0xFB, 0xFC, 0xFD, 0xFE])
def test_every_opcode_roundtrips(prefix):
    ops = [op for op in sorted(OPCODE_NAMES) if op >> 16 == prefix and OPCODE_NAMES[op] not in _CONTROL]
    body = "\n".join(_text(op, OPCODE_NAMES[op]) for op in ops)
    b = wat(f"""(module (type (func)) (memory 1) (table 1 funcref) (tag) (data "") (elem func)
                  (type (struct (field i32))) (type (array (mut i32))) (type (cont 0)) (func {body}))""")
    (bs, be), = bodies(b)
    _, ip = decode_locals(b, bs, be)
    got = [i.op for i in iter_instructions(b, ip, be)]
    assert got == ops + [0x0B]
    assert len(ops) > 20


def test_opcode_names():
    assert OPCODE_NAMES[0x41] == "i32.const"
    assert OPCODE_NAMES[0x23] == "global.get"
    assert OPCODE_NAMES[0x40] == "memory.grow"
    assert OPCODE_NAMES[0xFC0000] == "i32.trunc_sat_f32_s"
    assert OPCODE_NAMES[0xFD0000] == "v128.load"
    assert OPCODE_NAMES[0xFD000D] == "i8x16.shuffle"
    assert OPCODE_NAMES[0xFE0000] == "memory.atomic.notify"
    assert OPCODE_NAMES[0xFD0113] == "i32x4.relaxed_dot_i8x16_i7x16_add_s"
    assert op_name(0x27) == "<0x27>"
    assert op_name(0xFD009A) == "<0xfd 0x9a>"
    assert len(OPCODE_NAMES) > 500


# -- LEB128 encodings the fast paths do not handle ----------------------------------------------------

def sleb(v: int, pad_to: int = 0) -> bytes:
    out = bytearray()
    while True:
        b = v & 0x7F
        v >>= 7
        done = (v == 0 and not b & 0x40) or (v == -1 and b & 0x40)
        out.append(b | (0 if done else 0x80))
        if done:
            break
    while len(out) < pad_to:  # relocatable-style padding: continuation bytes of the sign
        out[-1] |= 0x80
        out.append(0x7F if v == -1 else 0x00)
    return bytes(out)


def uleb(v: int, pad_to: int = 0) -> bytes:
    out = bytearray()
    while True:
        b = v & 0x7F
        v >>= 7
        out.append(b | (0x80 if v else 0))
        if not v:
            break
    while len(out) < pad_to:
        out[-1] |= 0x80
        out.append(0)
    return bytes(out)


def test_padded_lebs():
    code = (b"\x41" + sleb(-1, 5) + b"\x10" + uleb(3, 5) + b"\x28" + uleb(2, 5) + uleb(1024, 5)
            + b"\x42" + sleb(-2, 10) + b"\x23" + uleb(0, 5) + b"\x0e" + uleb(2, 5) + uleb(1, 5) + uleb(0, 5)
            + uleb(7, 5))
    ins = instrs_of(code)
    assert [(i.name, i.imm) for i in ins] == [
        ("i32.const", -1), ("call", 3), ("i32.load", (2, 1024, 0)), ("i64.const", -2), ("global.get", 0),
        ("br_table", ((1, 0), 7)), ("end", None)]


@given(st.integers(-(2**31), 2**31 - 1), st.integers(-(2**63), 2**63 - 1), st.integers(0, 2**32 - 1),
       st.integers(0, 2**64 - 1), st.integers(0, 5))
def test_leb_values(i32, i64, u32, u64, pad):
    code = (b"\x41" + sleb(i32, pad) + b"\x42" + sleb(i64, pad) + b"\x20" + uleb(u32, pad)
            + b"\x29\x43" + uleb(u32) + uleb(u64, pad) + b"\xfd" + uleb(12, pad) + bytes(range(16)))
    ins = instrs_of(code)
    assert [i.imm for i in ins] == [i32, i64, u32, (3, u64, u32), bytes(range(16)), None]
    assert [i.op for i in ins] == [0x41, 0x42, 0x20, 0x29, 0xFD000C, 0x0B]


def test_float_constants():
    code = b"\x43" + struct.pack("<f", -2.5) + b"\x44" + struct.pack("<d", math.pi) + b"\x43\x00\x00\xc0\x7f"
    ins = instrs_of(code)
    assert ins[0].imm == -2.5 and ins[1].imm == math.pi and math.isnan(ins[2].imm)


# -- locals ------------------------------------------------------------------------------------------

def test_huge_local_counts_are_not_expanded():
    body = uleb(3) + uleb(100_000) + b"\x7f" + uleb(2**31) + b"\x7c" + uleb(7) + b"\x63\x70" + b"\x0b"
    groups, ip = decode_locals(body, 0, len(body))
    assert groups == [(100_000, "i32"), (2**31, "f64"), (7, "(ref null func)")]
    assert ip == len(body) - 1
    assert list(iter_instructions(body, ip, len(body)))[0].name == "end"


def test_absurd_local_sum():
    body = uleb(2) + uleb(2**32 - 1) + b"\x7f" + uleb(1) + b"\x7f" + b"\x0b"
    with pytest.raises(ParseError, match="too many locals") as e:
        decode_locals(body, 0, len(body))
    assert e.value.offset == len(uleb(2)) + len(uleb(2**32 - 1)) + 1


def test_local_group_count_larger_than_body():
    body = uleb(1000) + b"\x01\x7f\x0b"
    with pytest.raises(ParseError, match="local declarations"):
        decode_locals(body, 0, len(body))


def test_bad_local_type():
    body = b"\x01\x01\x55\x0b"
    with pytest.raises(ParseError, match="unknown value type 0x55") as e:
        decode_locals(body, 0, len(body))
    assert e.value.offset == 2


# -- errors ------------------------------------------------------------------------------------------

def test_unknown_opcode():
    data = b"\x00\x20\x00\x27\x0b"  # locals, local.get 0, 0x27 (reserved)
    it = iter_instructions(data, 1, len(data))
    assert next(it).name == "local.get"
    with pytest.raises(ParseError, match="unknown opcode 0x27") as e:
        next(it)
    assert e.value.offset == 3
    assert "at offset 0x3" in str(e.value)


@pytest.mark.parametrize("code,offset", [
    (b"\xfd\x9a\x01", 0), (b"\xfc\x20", 0), (b"\xfe\x04", 0), (b"\xfb\x7f", 0), (b"\x01\xfd\xff\x03", 1)])
def test_unknown_prefixed_opcode(code, offset):
    with pytest.raises(ParseError, match="unknown opcode 0xf") as e:
        list(iter_instructions(code, 0, len(code)))
    assert e.value.offset == offset


def test_truncated_body():
    # a module whose single body is cut in the middle of an i32.const: decode against the body range
    b = wat("(module (func (result i32) i32.const 1000000))")
    (bs, be), = bodies(b)
    _, ip = decode_locals(b, bs, be)
    with pytest.raises(ParseError) as e:
        list(iter_instructions(b, ip, be - 2))  # drop the `end` and the last LEB byte
    assert e.value.offset is not None and ip <= e.value.offset <= be


@pytest.mark.parametrize("code", [
    b"\x20",                      # local.get without its index
    b"\x28\x02",                  # memarg without offset
    b"\x44\x00\x00\x00",          # f64.const with 3 of 8 bytes
    b"\xfd\x0c" + bytes(15),      # v128.const with 15 of 16 bytes
    b"\xfd\x15",                  # extract_lane without lane
    b"\x0e\x05\x00",              # br_table with 5 labels declared
    b"\x41\x80",                  # LEB continuation at the end
    b"\xfb",                      # prefix alone
    b"\x1f\x40\x01\x00",          # try_table catch clause cut
])
def test_instruction_running_past_end(code):
    # a guard byte after `end` must not be read as part of the last instruction
    data = code + b"\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00"
    with pytest.raises(ParseError, match="end|cannot fit") as e:
        list(iter_instructions(data, 0, len(code)))
    assert 0 <= e.value.offset <= len(code)


def test_instruction_running_past_end_of_buffer():
    for code in (b"\x20", b"\x28\x02", b"\x41", b"\x02"):
        with pytest.raises(ParseError):
            list(iter_instructions(code, 0, len(code)))


@pytest.mark.parametrize("code,msg", [
    (b"\x20\x80\x80\x80\x80\x80\x00", "too long"),        # 6-byte u32
    (b"\x20\xff\xff\xff\xff\x1f", "too large"),            # u32 with bits above 32
    (b"\x41\xff\xff\xff\xff\x0f", "too large"),            # s32 whose unused bits differ from the sign
    (b"\x42" + b"\x80" * 10 + b"\x00", "too long"),        # 11-byte s64
])
def test_bad_leb(code, msg):
    with pytest.raises(ParseError, match=msg) as e:
        list(iter_instructions(code + b"\x0b", 0, len(code) + 1))
    assert e.value.offset == 1


def test_bad_block_and_heap_types():
    with pytest.raises(ParseError, match="block type"):
        list(iter_instructions(b"\x02\x7a\x0b\x0b", 0, 4))
    with pytest.raises(ParseError, match="heap type"):
        list(iter_instructions(b"\xd0\x60\x0b", 0, 3))
    with pytest.raises(ParseError, match="catch kind"):
        list(iter_instructions(b"\x1f\x40\x01\x04\x00\x0b\x0b", 0, 7))


def test_range_past_end_of_file():
    with pytest.raises(ParseError, match="past the end"):
        list(iter_instructions(b"\x0b", 0, 5))


def test_code_section_entries():
    b = wat("(module (func) (func (result i32) i32.const 1) (func (local i64) nop))")
    cs = code_section(b)
    ranges = bodies(b)
    assert len(ranges) == 3
    assert ranges[0][1] <= ranges[1][0] and ranges[-1][1] == cs[1]
    head = b"\0asm\x01\0\0\0\x01\x04\x01\x60\x00\x00\x03\x02\x01\x00"
    # a size that runs past the section
    with pytest.raises(ParseError, match="declares 50 bytes, past the end of the code section") as e:
        bodies(head + b"\x0a\x04\x01\x32\x00\x0b")
    assert e.value.offset == len(head) + 3
    # trailing garbage after the last entry
    with pytest.raises(ParseError, match="unexpected bytes"):
        bodies(head + b"\x0a\x05\x01\x02\x00\x0b\xaa")


# -- API shape ------------------------------------------------------------------------------------------

def test_instr_api_and_tuples():
    b = wat(MVP)
    (bs, be), = bodies(b)
    _, ip = decode_locals(b, bs, be)
    objs = list(iter_instructions(b, ip, be))
    tups = list(iter_instruction_tuples(b, ip, be))
    assert [tuple(i) for i in objs] == tups
    off, op, imm = objs[0]
    assert (off, op, imm) == (objs[0].offset, 0x41, -1)
    assert objs[0] == Instr(off, 0x41, -1) and objs[0] != objs[1]
    assert repr(objs[0]) == f"Instr({off:#x}, i32.const, -1)"
    assert repr(objs[-1]) == f"Instr({be - 1:#x}, end)"
    assert not hasattr(objs[0], "__dict__")


def test_function_prefix():
    b = wat(MVP)
    (bs, be), = bodies(b)
    pre = function_prefix(b, bs, be, 4)
    assert [i.name for i in pre] == ["i32.const", "local.set", "i64.const", "local.set"]
    assert len(function_prefix(b, bs, be, 10_000)) == len(decode_module(b)[0][1])
    assert function_prefix(b, bs, be, 0) == []


def test_works_on_memoryview_of_mmap(tmp_path):
    path = tmp_path / "m.wasm"
    path.write_bytes(wat(MVP))
    with open(path, "rb") as f, mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ) as mm:
        mv = memoryview(mm)
        try:
            got = [(i.name, i.imm) for _, ins in decode_module(mv) for i in ins]
        finally:
            mv.release()
    assert got == [(i.name, i.imm) for _, ins in decode_module(path.read_bytes()) for i in ins]


# -- the committed samples and wasm-objdump ---------------------------------------------------------------

SAMPLE_FILES = sorted(p for p in SAMPLES.rglob("*.wasm") if p.is_file()) if SAMPLES.is_dir() else []


@pytest.mark.skipif(not SAMPLE_FILES, reason="no samples/*.wasm yet")
@pytest.mark.parametrize("path", SAMPLE_FILES, ids=[str(p.relative_to(SAMPLES)) for p in SAMPLE_FILES])
def test_decode_every_sample(path):
    b = path.read_bytes()
    bodies = decode_module(b)
    if code_section(b) is not None:
        assert bodies


def _objdump_instructions(path: Path) -> list[tuple[int, str]]:
    out = subprocess.run(["wasm-objdump", "-d", str(path)], capture_output=True, text=True, check=True).stdout
    result = []
    for line in out.splitlines():
        m = re.match(r"^ ([0-9a-f]+): [0-9a-f ]*\| (.*)$", line)
        if m and m.group(2).strip() and not m.group(2).strip().startswith("local["):
            result.append((int(m.group(1), 16), m.group(2).split()[0]))
    return result


@pytest.mark.skipif(shutil.which("wasm-objdump") is None, reason="wasm-objdump (wabt) is not installed")
def test_matches_wasm_objdump(tmp_path):
    candidates = [p for p in SAMPLE_FILES if p.name == "memdemo-O0.wasm"] or SAMPLE_FILES[:1]
    if candidates:
        path = candidates[0]
    else:
        path = tmp_path / "mvp.wasm"
        path.write_bytes(wat(MVP.replace("i32.trunc_sat_f32_s", "").replace("i64.trunc_sat_f64_u", "")))
    theirs = _objdump_instructions(path)
    mine = [(i.offset, i.name) for _, ins in decode_module(path.read_bytes()) for i in ins]
    assert len(mine) == len(theirs) > 10
    assert mine == theirs
