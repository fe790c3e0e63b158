"""The watch pass on hand-written modules: every kind of write reaches the hook with the right address,
size and values; locals, offsets, memory64 and multi-memory are right; what it refuses, it refuses clearly."""

import pytest
from conftest import wat

from wasmem.errors import ParseError
from wasmem.instrument import WatchPass, rewrite
from wasmem.instrument.stack import StackPass
from wasmem.parser.code import decode_locals, iter_instructions
from wasmem.parser.module import WasmModule

wasmtime = pytest.importorskip("wasmtime")
M64 = (1 << 64) - 1


def run(data: bytes, wp: WatchPass, ranges, func="run", args=(), box=None):
    """Instantiates the rewritten module, watches ``ranges`` [(lo, hi)], calls ``func``; returns
    (hits as (op, addr, size, v0, v1), results, store, exports)."""
    engine = wasmtime.Engine()
    store = wasmtime.Store(engine)
    inst = wasmtime.Instance(store, wasmtime.Module(engine, data), [])
    ex = inst.exports(store)
    hits = []

    def hook(site, addr, size, v0, v1):
        hits.append((wp.sites[site].name, addr & M64, size & M64, v0 & M64, v1 & M64))

    ty = wasmtime.FuncType([wasmtime.ValType.i32()] + [wasmtime.ValType.i64()] * 4, [])
    ex["__wasmem_watch_hook"].set(store, 0, wasmtime.Func(store, ty, hook))
    lo, hi = box or (max(0, min(r[0] for r in ranges) - 15), max(r[1] for r in ranges))
    bits = 64 if wp.at == "i64" else 32

    def signed(v):
        v &= (1 << bits) - 1
        return v - (1 << bits) if v >> (bits - 1) else v

    ex["__wasmem_watch_lo"].set_value(store, signed(lo))
    ex["__wasmem_watch_span"].set_value(store, signed(hi - lo))
    for i, (a, b) in enumerate(ranges):
        ex[f"__wasmem_watch_lo_{i}"].set_value(store, a)
        ex[f"__wasmem_watch_hi_{i}"].set_value(store, b)
    r = ex[func](store, *args)
    return hits, r, store, ex


WRITES = r'''
(module
  (memory (export "memory") 1)
  (data $seg "0123456789abcdef")
  (func (export "run") (param $p i32)
    (i32.store offset=0x100 (local.get $p) (i32.const 0x11223344))
    (i64.store (i32.const 0x108) (i64.const 0x0102030405060708))
    (f32.store (i32.const 0x110) (f32.const 1.5))
    (f64.store (i32.const 0x118) (f64.const -2.0))
    (i32.store8 (i32.const 0x120) (i32.const 0x1ff))
    (i32.store16 (i32.const 0x122) (i32.const 0xbeef))
    (i64.store8 (i32.const 0x124) (i64.const 0x77))
    (i64.store16 (i32.const 0x126) (i64.const 0x6655))
    (i64.store32 (i32.const 0x128) (i64.const 0xcafebabe))
    (v128.store (i32.const 0x130) (v128.const i32x4 1 2 3 4))
    (v128.store8_lane 15 (i32.const 0x140) (v128.const i8x16 0 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15))
    (v128.store16_lane 3 (i32.const 0x142) (v128.const i16x8 0 1 2 3 4 5 6 7))
    (v128.store32_lane 1 (i32.const 0x144) (v128.const i32x4 9 8 7 6))
    (v128.store64_lane 1 (i32.const 0x148) (v128.const i64x2 5 -1))
    (i32.atomic.store (i32.const 0x150) (i32.const 7))
    (i64.atomic.store8 (i32.const 0x154) (i64.const 3))
    (drop (i32.atomic.rmw.add (i32.const 0x150) (i32.const 5)))
    (drop (i64.atomic.rmw16.xchg_u (i32.const 0x156) (i64.const 0x1234)))
    (drop (i32.atomic.rmw.cmpxchg (i32.const 0x150) (i32.const 12) (i32.const 99)))
    (drop (i64.atomic.rmw8.cmpxchg_u (i32.const 0x158) (i64.const 0) (i64.const 9)))
    (memory.fill (i32.const 0x160) (i32.const 0xaa) (i32.const 8))
    (memory.copy (i32.const 0x168) (i32.const 0x100) (i32.const 4))
    (memory.init $seg (i32.const 0x170) (i32.const 4) (i32.const 6))
    (memory.fill (i32.const 0x178) (i32.const 0xaa) (i32.const 0))
    (i32.store (i32.const 0x800) (i32.const 1))
    (i32.store8 (i32.const 0xff) (i32.const 1))
    (i32.store (i32.const 0xfd) (i32.const 0x01020304))
  )
)'''

EXPECTED = [
    ("i32.store", 0x100, 4, 0x11223344, 0),
    ("i64.store", 0x108, 8, 0x0102030405060708, 0),
    ("f32.store", 0x110, 4, 0x3FC00000, 0),
    ("f64.store", 0x118, 8, 0xC000000000000000, 0),
    ("i32.store8", 0x120, 1, 0x1FF, 0),
    ("i32.store16", 0x122, 2, 0xBEEF, 0),
    ("i64.store8", 0x124, 1, 0x77, 0),
    ("i64.store16", 0x126, 2, 0x6655, 0),
    ("i64.store32", 0x128, 4, 0xCAFEBABE, 0),
    ("v128.store", 0x130, 16, 0x0000000200000001, 0x0000000400000003),
    ("v128.store8_lane", 0x140, 1, 15, 0),
    ("v128.store16_lane", 0x142, 2, 3, 0),
    ("v128.store32_lane", 0x144, 4, 8, 0),
    ("v128.store64_lane", 0x148, 8, M64, 0),
    ("i32.atomic.store", 0x150, 4, 7, 0),
    ("i64.atomic.store8", 0x154, 1, 3, 0),
    ("i32.atomic.rmw.add", 0x150, 4, 5, 0),
    ("i64.atomic.rmw16.xchg_u", 0x156, 2, 0x1234, 0),
    ("i32.atomic.rmw.cmpxchg", 0x150, 4, 12, 99),
    ("i64.atomic.rmw8.cmpxchg_u", 0x158, 1, 0, 9),
    ("memory.fill", 0x160, 8, 0xAA, 0),
    ("memory.copy", 0x168, 4, 0x100, 0),
    ("memory.init", 0x170, 6, 4, 0),
    # the zero-length fill at 0x178 writes nothing; 0x800 is outside; 0xff is one byte below
    ("i32.store", 0xFD, 4, 0x01020304, 0),  # starts below the range, reaches into it
]


def test_every_kind_of_write_reaches_the_hook_exactly_once():
    wp = WatchPass(1)
    rw = rewrite(wat(WRITES), [wp])
    hits, _, store, ex = run(rw.data, wp, [(0x100, 0x180)], args=(0,))
    assert hits == EXPECTED
    assert len(wp.sites) == 27  # 26 writes + memory.init, memory.fill x2, copy: every write instruction is a site
    # and the program did what it does without the pass
    plain = wasmtime.Store(wasmtime.Engine())
    pex = wasmtime.Instance(plain, wasmtime.Module(plain.engine, wat(WRITES)), []).exports(plain)
    pex["run"](plain, 0)
    assert ex["memory"].read(store, 0, 0x1000) == pex["memory"].read(plain, 0, 0x1000)


def test_several_ranges_and_the_filter_box():
    wp = WatchPass(2)
    rw = rewrite(wat(WRITES), [wp])
    hits, *_ = run(rw.data, wp, [(0x120, 0x121), (0x800, 0x804)], args=(0,))
    assert [(h[0], h[1]) for h in hits] == [("i32.store8", 0x120), ("i32.store", 0x800)]
    # a box that filters everything out: no call at all, whatever the exact ranges say
    # the inline filter decides first: a box elsewhere keeps the store to 0x120 from calling at all
    hits, *_ = run(rw.data, wp, [(0x120, 0x121)], args=(0,), box=(0x2000, 0x2010))
    assert hits == []


def test_reads_are_watched_with_reads_true():
    text = r'''(module (memory 1)
      (func (export "run") (result i64)
        (i64.add (i64.extend_i32_u (i32.load8_u offset=3 (i32.const 0x40)))
                 (i64.add (i64.load (i32.const 0x48))
                          (i64x2.extract_lane 0 (v128.load (i32.const 0x50)))))))'''
    wp = WatchPass(1, reads=True)
    hits, r, *_ = run(rewrite(wat(text), [wp]).data, wp, [(0x40, 0x60)])
    assert [(h[0], h[1], h[2]) for h in hits] == [("i32.load8_u", 0x43, 1), ("i64.load", 0x48, 8),
                                                   ("v128.load", 0x50, 16)]
    assert r == 0
    assert not rewrite(wat(text), [WatchPass(1)]).passes[0].sites  # writes only by default


def test_locals_are_appended_after_the_functions_own():
    text = r'''(module (memory 1)
      (func (export "run") (param $a i32) (param $x f64) (result f64)
        (local $l i64) (local $m i64) (local $n f32)
        (local.set $l (i64.const 7))
        (local.set $n (f32.const 2.5))
        (f64.store (local.get $a) (local.get $x))
        (i64.store offset=8 (local.get $a) (local.get $l))
        (f32.store offset=16 (local.get $a) (local.get $n))
        (f64.add (f64.load (local.get $a)) (f64.convert_i64_s (local.get $l)))))'''
    wp = WatchPass(1)
    rw = rewrite(wat(text), [wp])
    m = WasmModule.from_bytes(rw.data)
    body = m.functions[0]
    groups, _ = decode_locals(m.data, body.start, body.end)
    assert groups[:2] == [(2, "i64"), (1, "f32")]
    assert [t for _, t in groups[2:]] == ["i32", "f64", "i64", "f32"]  # scratch: address, then one per value type
    hits, r, *_ = run(rw.data, wp, [(0x20, 0x38)], args=(0x20, 1.25))
    assert r == 8.25
    assert [(h[0], h[1], h[3]) for h in hits] == [("f64.store", 0x20, 0x3FF4000000000000), ("i64.store", 0x28, 7),
                                                   ("f32.store", 0x30, 0x40200000)]


def test_offsets_map_back_to_the_original_instruction():
    text = r'''(module (memory 1)
      (func $helper (param i32) (i32.store offset=8 (local.get 0) (i32.const 1)))
      (func (export "run") (param i32) (call $helper (local.get 0)) (i32.store (local.get 0) (i32.const 2))))'''
    data = wat(text)
    orig = WasmModule.from_bytes(data)
    stores = [i.offset for b in orig.functions for i in iter_instructions(data, b.start, b.end) if i.op == 0x36]
    wp = WatchPass(1)
    rw = rewrite(data, [wp])
    assert [s.offset for s in wp.sites] == stores
    engine = wasmtime.Engine()
    store = wasmtime.Store(engine)
    ex = wasmtime.Instance(store, wasmtime.Module(engine, rw.data), []).exports(store)
    with pytest.raises(wasmtime.Trap) as exc:
        ex["run"](store, 65535)  # the helper's store traps out of bounds
    frames = exc.value.frames
    assert rw.original_offset(frames[0].module_offset) == stores[0]
    call_at = next(i.offset for i in iter_instructions(data, orig.functions[1].start, orig.functions[1].end)
                   if i.op == 0x10)
    assert rw.original_offset(frames[1].module_offset) == call_at
    # inside the appended check function: no original offset
    slow_body = WasmModule.from_bytes(rw.data).functions[-1]
    assert rw.original_offset(slow_body.start + 2) is None


def test_memory64_addresses_and_offsets():
    text = r'''(module (memory i64 1)
      (func (export "run") (param $p i64)
        (i64.store offset=0x10 (local.get $p) (i64.const -1))
        (i32.store8 offset=0xfff0 (local.get $p) (i32.const 5))
        (memory.fill (local.get $p) (i32.const 1) (i64.const 3))))'''
    wp = WatchPass(1)
    rw = rewrite(wat(text), [wp])
    assert wp.at == "i64"
    hits, *_ = run(rw.data, wp, [(0, 0x10000)], args=(0x8,))
    assert hits == [("i64.store", 0x18, 8, M64, 0), ("i32.store8", 0xFFF8, 1, 5, 0), ("memory.fill", 0x8, 3, 1, 0)]


def test_other_memories_are_not_watched_but_a_copy_from_them_is():
    text = r'''(module (memory $a 1) (memory $b 1)
      (func (export "run")
        (i32.store $b (i32.const 0x10) (i32.const 1))
        (i32.store $a (i32.const 0x10) (i32.const 2))
        (memory.copy $a $b (i32.const 0x20) (i32.const 0x10) (i32.const 4))
        (memory.copy $b $a (i32.const 0x20) (i32.const 0x10) (i32.const 4))))'''
    wp = WatchPass(1)
    hits, *_ = run(rewrite(wat(text), [wp]).data, wp, [(0, 0x100)])
    assert hits == [("i32.store", 0x10, 4, 2, 0), ("memory.copy", 0x20, 4, 0x10, 1)]


def test_the_stack_overflow_range_starts_at_the_live_stack_pointer():
    text = r'''(module (memory 1) (global $sp (mut i32) (i32.const 0x400))
      (func (export "run") (param $frame i32)
        (global.set $sp (i32.sub (global.get $sp) (local.get $frame)))
        (i32.store (global.get $sp) (i32.const 1))
        (i32.store (i32.const 0x100) (i32.const 2))
        (global.set $sp (i32.add (global.get $sp) (local.get $frame)))))'''
    data = wat(text)
    sp = StackPass(0, 0)
    wp = WatchPass(1, sp_range=0, sp_global=0)
    rw = rewrite(data, [sp, wp])
    assert sp.sites == 2 and len(wp.sites) == 2
    # stack low end 0x300: a 0x80 frame stays above it, a 0x180 frame runs below it
    hits, *_ = run(rw.data, wp, [(0, 0x300)], args=(0x80,))
    assert hits == []
    hits, *_ = run(rw.data, wp, [(0, 0x300)], args=(0x180,))
    assert hits == [("i32.store", 0x280, 4, 1, 0)]  # not the store to 0x100: below the stack pointer


def test_refusals():
    with pytest.raises(ParseError, match="no memory"):
        rewrite(wat("(module (func (export \"f\")))"), [WatchPass(1)])
    with pytest.raises(ParseError, match="1 to 64"):
        WatchPass(0)
    with pytest.raises(ParseError, match="stack pointer"):
        WatchPass(1, sp_range=0)


def test_nothing_is_renumbered():
    data = wat(WRITES)
    rw = rewrite(data, [WatchPass(3)])
    a, b = WasmModule.from_bytes(data), WasmModule.from_bytes(rw.data)
    assert b.num_functions == a.num_functions + 2 and len(b.tables) == len(a.tables) + 1  # $slow, $check
    assert [(e.name, e.kind, e.index) for e in b.exports][:len(a.exports)] == [
        (e.name, e.kind, e.index) for e in a.exports]
    wasmtime.Module.validate(wasmtime.Engine(), rw.data)
