"""Red zones: leaf functions' bytes below the stack pointer, static (model/redzone.py) and measured (the
stack probe instruments each leaf's entry), on WAT modules under real wasmtime and the -O0 sample."""

from conftest import sample, wat

from wasmem.app import load_module, open_session
from wasmem.model.redzone import red_zones
from wasmem.parser.module import WasmModule
from wasmem.runtime.session import Session

LEAVES = r'''
(module
  (memory (export "memory") 2)
  (global $sp (mut i32) (i32.const 65536))
  ;; clang -O0 style: SP - 16 kept in a local, never written back; stores into it
  (func $o0_leaf (export "o0_leaf") (param $x i32) (result i32) (local $fp i32)
    (local.set $fp (i32.sub (global.get $sp) (i32.const 16)))
    (i32.store offset=12 (local.get $fp) (local.get $x))
    (i32.load offset=12 (local.get $fp)))
  ;; no subtraction at all: a store at SP + (-24) + 4 (20 bytes below SP)
  (func $neg_store (export "neg_store") (param $x i32)
    (i32.store offset=4 (i32.add (global.get $sp) (i32.const -24)) (local.get $x)))
  ;; the frame (16) and then 8 more below it: 24 bytes below the entry SP
  (func $below_frame (export "below_frame") (param $x i32) (local $fp i32)
    (local.set $fp (i32.sub (global.get $sp) (i32.const 16)))
    (i64.store (i32.sub (local.get $fp) (i32.const 8)) (i64.extend_i32_u (local.get $x))))
  ;; SP minus a run-time amount, never written back: no known extent
  (func $dyn_leaf (export "dyn_leaf") (param $n i32)
    (i32.store (i32.sub (global.get $sp) (local.get $n)) (i32.const 1)))
  ;; reads SP and stores above it only
  (func $above (export "above") (param $x i32)
    (i32.store offset=4 (global.get $sp) (local.get $x)))
  ;; a function with a real frame that calls a leaf
  (func $caller (export "caller") (param $x i32) (result i32) (local $fp i32)
    (local.set $fp (i32.sub (global.get $sp) (i32.const 32)))
    (global.set $sp (local.get $fp))
    (local.set $x (call $o0_leaf (local.get $x)))
    (call $neg_store (local.get $x))
    (global.set $sp (i32.add (local.get $fp) (i32.const 32)))
    (local.get $x))
  (func (export "nothing") (result i32) (i32.const 7))
)'''


def _module():
    return WasmModule.from_bytes(wat(LEAVES), "leaves.wasm")


def _by_name(m, rz):
    names = {e.index: e.name for e in m.exports if e.kind == "func"}
    return {names[i]: e for i, e in rz.extents.items()}, {names[i] for i in rz.unknown}


def test_static_extents_count_stores_below_sp():
    m = _module()
    ext, unknown = _by_name(m, red_zones(m, 0))
    assert ext == {"o0_leaf": 16, "neg_store": 24, "below_frame": 24}
    assert unknown == {"dyn_leaf"}  # SP minus a run-time amount: not known, not a number


def test_no_stack_pointer_no_red_zones():
    assert len(red_zones(_module(), None)) == 0


def _peak(session, name, args):
    r = session.call(name, args)
    assert r.ok, r.trap
    return r.stack


def test_measured_peak_includes_a_leaf_red_zone():
    # before: the instrumented peak of a leaf that never writes SP was 0 bytes
    with Session(_module(), sp_global=0, timeout=2, paint=False) as s:
        st = _peak(s, "o0_leaf", ["5"])
        assert st.method == "instrument"
        assert st.peak == 16 and st.exact_peak == 16
        assert st.red_zones == 3 and st.red_zones_unknown == 1 and st.at_least
        st = _peak(s, "neg_store", ["5"])
        assert st.peak == 24
        st = _peak(s, "caller", ["5"])  # 32 for the caller's frame, then a leaf's 24 below its SP
        assert st.peak == 32 + 24
        st = _peak(s, "nothing", [])
        assert st.peak == 0
        assert st.to_dict()["red_zone_leaves"] == 3 and st.to_dict()["at_least"] is True


def test_leaf_instrumentation_changes_nothing_the_program_sees():
    with Session(_module(), sp_global=0, timeout=2, paint=False) as s:
        assert s.call("caller", ["41"]).results == [41]
        assert s.call("o0_leaf", ["-3"]).results == [-3]
        r = s.call("dyn_leaf", ["8"])
        assert r.ok and s.read(65536 - 8, 4) == b"\x01\x00\x00\x00"


def test_o0_sample_make_point_peak_is_its_frame():
    # the case: a -O0 leaf returning a struct showed "peak 0 bytes below sp"
    m = load_module(sample("memdemo-O0.wasm"))
    rz = red_zones(m, 0)
    assert max(rz.extents.values()) == 32 and not rz.unknown
    with open_session(sample("memdemo-O0.wasm"), timeout=2) as s:
        st = s.call("make_point", ["1.0", "2.0"], sret=True).stack
        assert st.method == "instrument" and st.peak == 16 and not st.at_least
        st = s.call("checksum", ["0", "64"]).stack
        assert st.peak == 32


def test_static_frames_count_accesses_below_the_reserved_frame():
    # below_frame reserves 16 bytes and stores 8 more below them: its frame (and worst case) is 24
    from wasmem.model.layout import analyze
    from wasmem.model.stackframes import analyze_stack

    m = _module()
    sa = analyze_stack(m, analyze(m))
    assert sa.find_frame("below_frame").size == 24 and not sa.find_frame("below_frame").writes_sp
    assert sa.find_root("below_frame").bytes == 24
    assert sa.find_root("neg_store").bytes == 24
    assert sa.find_root("o0_leaf").bytes == 16
    assert sa.find_root("caller").bytes == 32 + 24  # its frame, then neg_store's red zone below it


def test_call_output_counts_the_red_zone(tmp_path):
    import json

    from click.testing import CliRunner

    from wasmem.cli.main import cli

    r = CliRunner().invoke(cli, ["call", sample("memdemo-O0.wasm"), "make_point", "1.0", "2.0", "--sret"],
                           catch_exceptions=False)
    flat = " ".join(r.output.split())
    assert r.exit_code == 0 and "stack: peak 16 bytes below sp" in flat  # was "peak 0 bytes"
    assert "instrumented: stack pointer writes and 11 leaf functions' red zones (their static sizes)" in flat
    p = tmp_path / "leaves.wasm"
    p.write_bytes(wat(LEAVES))
    r = CliRunner().invoke(cli, ["call", str(p), "neg_store", "1"], catch_exceptions=False)
    flat = " ".join(r.output.split())
    assert "stack: peak at least 24 bytes" in flat and "1 leaf function(s) use a red zone sized at run time" in flat
    r = CliRunner().invoke(cli, ["call", str(p), "neg_store", "1", "--json"], catch_exceptions=False)
    st = json.loads(r.output)["stack"]
    assert st["peak_bytes"] == 24 and st["red_zone_leaves"] == 3 and st["at_least"] is True


def test_static_frames_count_only_memory_zero():
    m = WasmModule.from_bytes(wat('''(module (memory 1) (memory $other 1) (global $__stack_pointer (mut i32) (i32.const 65536))
      (func (export "other") (param i32) (local $fp i32)
        (local.set $fp (i32.sub (global.get $__stack_pointer) (i32.const 16)))
        (i32.store $other (i32.sub (local.get $fp) (i32.const 48)) (local.get 0)))
      (func (export "mem0") (param i32) (local $fp i32)
        (local.set $fp (i32.sub (global.get $__stack_pointer) (i32.const 16)))
        (i32.store (i32.sub (local.get $fp) (i32.const 48)) (local.get 0))))'''), "mm.wasm")
    from wasmem.model.layout import analyze
    from wasmem.model.stackframes import analyze_stack

    sa = analyze_stack(m, analyze(m))
    assert sa.find_frame("mem0").size == 64  # 16 reserved, then a store 48 below them
    assert sa.find_frame("other").size == 16  # the store goes to memory 1: no stack byte


def test_the_fast_rewrite_still_enters_every_leaf():
    """The rewriter copies unread the bodies no pass changes; a leaf never writes SP, so the stack pass names
    the leaves it enters (``entered``): the output is byte-identical to a rewrite that re-encodes every body,
    and each leaf's body begins with the red-zone hook's call."""
    from wasmem.instrument.rewriter import rewrite
    from wasmem.instrument.stack import StackPass
    from wasmem.parser.encode import uleb

    class EveryBody(StackPass):
        def entered(self):
            return None  # any function: the slow path re-encodes every body

    with open(sample("memdemo-O0.wasm"), "rb") as f:
        data = f.read()
    module = WasmModule.from_bytes(data)
    sp = 0  # __stack_pointer, as clang/wasm-ld place it
    zones = red_zones(module, sp)
    assert zones.extents
    fast = rewrite(data, [StackPass(sp, 0, leaves=zones.extents)])
    slow = rewrite(data, [EveryBody(sp, 0, leaves=zones.extents)])
    assert fast.data == slow.data
    out = WasmModule.from_bytes(fast.data)
    hook_call = bytes([0x10]) + uleb(fast.passes[0].leaf_hook)
    for index in zones.extents:
        body = out.functions[index - module.num_imported_funcs]
        assert hook_call in fast.data[body.start:body.start + 32], index
