"""Static stack analysis: frame sizes against clang -fstack-usage, call graph, worst cases, recursion."""

import glob
import os

import pytest
from conftest import SAMPLES, sample, wat

from wasmem.model.stackframes import analyze_stack, stack_size_for, stack_to_dict
from wasmem.parser.module import WasmModule

# .su functions absent from the linked module: the linker dropped them (--gc-sections: nothing calls
# them, the compiler inlined the byte loops or emitted memory.copy/fill instead).
NOT_LINKED = {"memcpy", "memset"}
# clang renames `int main(int, char **)` to __main_argc_argv; the name section calls it main
SU_ALIASES = {"__main_argc_argv": "main"}


def su_lines(path):
    out = []
    with open(path) as f:
        for line in f:
            loc, size, kind = line.rstrip("\n").split("\t")
            out.append((loc.rsplit(":", 1)[-1], int(size), kind.split(",")[0]))
    return out


def su_samples():
    return sorted(p for p in glob.glob(os.path.join(SAMPLES, "*.wasm")) if os.path.exists(p[:-5] + ".su"))


def load(path):
    return analyze_stack(WasmModule.from_file(path))


def analyze_wat(text, **kw):
    return analyze_stack(WasmModule.from_bytes(wat(text)), **kw)


@pytest.mark.parametrize("path", su_samples(), ids=os.path.basename)
def test_frame_sizes_equal_fstack_usage(path):
    sa = load(path)
    has_names = any(not f.name.startswith("func[") for f in sa.frames.values() if not f.imported)
    matched = 0
    for name, size, kind in su_lines(path[:-5] + ".su"):
        f = sa.find_frame(SU_ALIASES.get(name, name)) or sa.find_frame(name)
        if f is None:
            # stripped modules only know exported names; unused helpers are not linked at all
            assert name in NOT_LINKED or not has_names or name not in _exported(path), name
            continue
        assert (f.size, f.dynamic) == (size, kind == "dynamic"), f"{name}: {f} vs .su {size} {kind}"
        matched += 1
    assert matched >= 2


def _exported(path):
    return {e.name for e in WasmModule.from_file(path).exports}


def test_memdemo_frames_cover_every_prologue_kind():
    sa = load(sample("memdemo-O0.wasm"))
    assert sa.find_frame("fib_stack").size == 80 and sa.find_frame("fib_stack").writes_sp  # via locals
    vla = sa.find_frame("sum_vla")
    assert vla.dynamic and vla.size == 32
    al = sa.find_frame("aligned_local")
    assert (al.size, al.align_slack, al.worst) == (192, 48, 240)
    o2 = load(sample("memdemo.wasm"))
    assert o2.find_frame("deep").size == 1024  # local.tee prologue
    spin = o2.find_frame("spin")
    assert spin.size == 16 and not spin.writes_sp and "red zone" in spin.note  # leaf
    assert o2.find_frame("aligned_local").worst == 64 + 48


def test_recursion_is_unbounded_with_its_cycle_and_bounded_by_depth():
    sa = analyze_stack(WasmModule.from_file(sample("memdemo.wasm")), recursion_depth=100)
    fib = sa.find_root("fib_stack")
    assert fib.bytes is None and fib.unbounded == "recursion" and fib.cycle == ("fib_stack",)
    assert "fib_stack → fib_stack" in fib.reason
    assert fib.bounded_bytes == 100 * 64
    assert sa.find_root("deep").bounded_bytes == 100 * 1024
    assert sa.find_root("sum_vla").unbounded == "dynamic" and sa.find_root("sum_vla").bounded_bytes is None
    assert sa.worst.name == "deep" and sa.worst_bytes == 102400
    assert load(sample("memdemo.wasm")).find_root("deep").bounded_bytes is None  # no depth given


def test_indirect_call_resolved_by_type_in_the_table():
    sa = load(sample("memdemo-O0.wasm"))
    apply = sa.find_frame("apply")
    (ic,) = apply.indirect
    assert ic.kind == "call_indirect" and ic.resolved
    assert {sa.frames[t].name for t in ic.targets} == {"op_double", "op_square", "op_negate"}
    root = sa.find_root("apply")
    assert root.bytes == 32 and [s.name for s in root.path][0] == "apply"


MODULE = """
(module
  (import "env" "host" (func $host (param i32)))
  (type $ii (func (param i32) (result i32)))
  (type $v (func))
  (memory 1)
  (global $sp (mut i32) (i32.const 65536))
  (table 4 funcref)
  (elem (i32.const 0) $small $big $other_type)
  (func $small (type $ii)                                  ;; -O2: local.tee
    (local $fp i32)
    (global.set $sp (local.tee $fp (i32.sub (global.get $sp) (i32.const 32))))
    (global.set $sp (i32.add (local.get $fp) (i32.const 32)))
    (local.get 0))
  (func $big (type $ii)                                    ;; -O0: through locals
    (local i32 i32)
    (local.set 1 (global.get $sp))
    (local.set 2 (i32.sub (local.get 1) (i32.const 256)))
    (global.set $sp (local.get 2))
    (call $host (i32.const 1))
    (global.set $sp (i32.add (local.get 2) (i32.const 256)))
    (local.get 0))
  (func $other_type (type $v)                              ;; huge, but never called by type $ii
    (global.set $sp (i32.sub (global.get $sp) (i32.const 4096))))
  (func $dispatch (export "dispatch") (param i32) (result i32)
    (global.set $sp (i32.sub (global.get $sp) (i32.const 16)))
    (call_indirect (type $ii) (local.get 0) (local.get 0)))
  (func $tail (export "tail") (param i32) (result i32)
    (return_call $big (local.get 0)))
  (func $ping (export "ping") (param i32)
    (global.set $sp (i32.sub (global.get $sp) (i32.const 48)))
    (call $pong (local.get 0)))
  (func $pong (param i32)
    (global.set $sp (i32.sub (global.get $sp) (i32.const 80)))
    (if (local.get 0) (then (call $ping (i32.sub (local.get 0) (i32.const 1))))))
  (func $alloca (export "alloca") (param i32)
    (global.set $sp (i32.and (i32.sub (global.get $sp) (local.get 0)) (i32.const -16))))
  (func $init (global.set $sp (i32.sub (global.get $sp) (i32.const 112))))
  (start $init))
"""


def test_synthetic_call_graph():
    sa = analyze_wat(MODULE, recursion_depth=3)
    f = sa.find_frame
    assert f("small").size == 32 and f("big").size == 256 and f("other_type").size == 4096
    assert f("host").imported and f("host").size == 0
    d = sa.find_root("dispatch")
    assert d.bytes == 16 + 256  # $other_type has another type: not a target
    assert [s.name for s in d.path] == ["dispatch", "big", "host"]
    assert "host" in d.calls_imports
    assert any("imported functions are counted as 0 bytes" in n for n in sa.notes)
    assert sa.find_root("tail").bytes == 256
    ping = sa.find_root("ping")
    assert ping.unbounded == "recursion" and set(ping.cycle) == {"ping", "pong"}
    assert ping.bounded_bytes == 3 * 80  # depth × largest frame of the cycle
    alloca = sa.find_root("alloca")
    assert alloca.unbounded == "dynamic" and alloca.dynamic == ("alloca",)
    start = [r for r in sa.roots if r.kind == "start"]
    assert start and start[0].name == "init" and start[0].bytes == 112
    assert [c for c in sa.cycles if len(c) == 2]


def test_call_ref_and_pointer_differences_are_not_dynamic():
    sa = analyze_wat("""
    (module
      (type $f (func (result i32)))
      (memory 1)
      (global $sp (mut i32) (i32.const 4096))
      (elem declare func $a)
      (func $a (type $f)
        (local $fp i32)
        (global.set $sp (local.tee $fp (i32.sub (global.get $sp) (i32.const 64))))
        (local.set $fp (i32.sub (i32.add (local.get $fp) (i32.const 40)) (i32.load (i32.const 0))))
        (global.set $sp (i32.add (global.get $sp) (i32.const 64)))
        (i32.const 0))
      (func (export "via_ref") (result i32) (call_ref $f (ref.func $a))))
    """)
    a = sa.find_frame("a")
    assert a.size == 64 and not a.dynamic
    assert sa.find_root("via_ref").bytes == 64


def test_no_stack_pointer_means_zero_frames():
    sa = load(sample("nomemory.wasm"))
    assert sa.sp_global is None and all(f.size == 0 for f in sa.frames.values())
    assert all(r.bytes == 0 for r in sa.roots)


def test_recommended_stack_size_and_json():
    assert stack_size_for(1000, 0) == 1008
    assert stack_size_for(1000, 50) == 2000
    assert stack_size_for(1024, 20) == 1280
    with pytest.raises(ValueError):
        stack_size_for(10, 100)
    sa = analyze_stack(WasmModule.from_file(sample("memdemo.wasm")), recursion_depth=10)
    d = stack_to_dict(sa, 25)
    # sum_vla's VLA has no static bound: no stack size is safe for it, so none is recommended
    assert d["worst_bytes"] == 10240 and d["recommended_stack_size"] is None
    assert [r.name for r in sa.without_bound] == ["sum_vla"]
    assert d["frames"][0]["function"] == "deep"
    roots = {r["function"]: r for r in d["roots"]}
    assert roots["fib_stack"]["cycle"] == ["fib_stack"] and roots["fib_stack"]["bounded_bytes"] == 640
    assert all(isinstance(c, str) for f in d["frames"] for c in f["calls"])


BOUNDED = """
(module
  (memory 1)
  (global $__stack_pointer (mut i32) (i32.const 65536))
  (func $frame (param i32) (result i32)
    (global.set $__stack_pointer (i32.sub (global.get $__stack_pointer) (i32.const K)))
    (global.set $__stack_pointer (i32.add (global.get $__stack_pointer) (i32.const K)))
    (local.get 0))
  (func $rec (export "rec") (param i32) (result i32)
    (global.set $__stack_pointer (i32.sub (global.get $__stack_pointer) (i32.const 48)))
    (if (result i32) (local.get 0) (then (call $rec (i32.sub (local.get 0) (i32.const 1))))
      (else (i32.const 0))))
  (func (export "leaf") (result i32)
    (global.set $__stack_pointer (i32.sub (global.get $__stack_pointer) (i32.const 32)))
    (i32.const 0))
  (func (export "idle") (result i32) (i32.const 0)))
"""


def test_recommendation_is_safe_by_construction():
    # recursion without a depth: no recommendation, and what a depth would give
    sa = analyze_wat(BOUNDED.replace("K", "16"))
    rec = sa.find_root("rec")
    assert rec.bytes is None and rec.bounded_bytes is None and sa.recommended_stack_size(25) is None
    assert (rec.base_bytes, rec.level_bytes) == (48, 48) and rec.depth_for(480) == 10 and rec.depth_for(40) == 0
    # with a depth every entry point is bounded: never below the worst case
    sa = analyze_wat(BOUNDED.replace("K", "16"), recursion_depth=10)
    assert sa.worst_bytes == 480 and sa.recommended_stack_size(0) == 480
    assert sa.recommended_stack_size(25) == stack_size_for(480, 25)
    # never below the largest frame, even one no entry point reaches (an exported table, the host)
    sa = analyze_wat(BOUNDED.replace("K", "4096"), recursion_depth=10)
    assert sa.largest_frame.name == "frame" and sa.largest_frame.worst == 4096
    assert sa.worst_bytes == 480 and sa.recommended_stack_size(25) == stack_size_for(4096, 25)
    # never 0: nothing to recommend when no entry point uses the linear stack
    sa = analyze_wat('(module (memory 1) (global $__stack_pointer (mut i32) (i32.const 4096)) '
                     '(func (export "f") (result i32) (i32.const 1)))')
    assert sa.worst_bytes == 0 and sa.recommended_stack_size(25) is None
    assert load(sample("nomemory.wasm")).recommended_stack_size(25) is None  # no stack pointer at all


def test_each_body_is_decoded_once(monkeypatch):
    import wasmem.model.stackframes as sf

    calls = []
    real = sf.iter_instructions
    monkeypatch.setattr(sf, "iter_instructions", lambda d, s, e: calls.append(s) or real(d, s, e))
    m = WasmModule.from_file(sample("memdemo.wasm"))
    from wasmem.model.layout import analyze

    layout = analyze(m)
    analyze_stack(m, layout)
    assert len(calls) == len(m.functions) == len(set(calls))


def test_forked_workers_give_the_same_frames_as_one_process():
    # in a fresh process: this one has run wasmtime, whose native threads make forking unsafe
    import subprocess
    import sys

    code = """if True:
        import sys
        import wasmem.model.bodyscan as bodyscan
        import wasmem.model.stackframes as sf
        from wasmem.model.layout import analyze
        from wasmem.parser import WasmModule
        m = WasmModule.from_file(sys.argv[1])
        sp = analyze(m).stack_pointer.global_index
        forks = []
        real = bodyscan.multiprocessing.get_context
        bodyscan.multiprocessing.get_context = lambda method: forks.append(method) or real(method)
        serial = sf.analyze_frames(m, sp, workers=1)
        parallel = sf.analyze_frames(m, sp, workers=2)
        assert forks == ["fork"], forks  # the second run really used worker processes
        assert serial == parallel and len(serial) == m.num_functions
        print("ok")
    """
    r = subprocess.run([sys.executable, "-c", code, sample("memdemo-O0.wasm")], capture_output=True, text=True,
                       timeout=120)
    assert r.returncode == 0 and r.stdout.strip() == "ok", r.stderr


def test_no_fork_while_other_threads_run(monkeypatch):
    import threading

    import wasmem.model.bodyscan as bodyscan
    import wasmem.model.stackframes as sf
    from wasmem.model.layout import analyze

    m = WasmModule.from_file(sample("memdemo-O0.wasm"))
    sp = analyze(m).stack_pointer.global_index
    monkeypatch.setattr(bodyscan.multiprocessing, "get_context", lambda method: pytest.fail("forked"))
    stop = threading.Event()
    t = threading.Thread(target=stop.wait)
    t.start()
    try:
        assert bodyscan.other_threads()
        assert sf.analyze_frames(m, sp, workers=2) == sf.analyze_frames(m, sp, workers=1)
    finally:
        stop.set()
        t.join()


def test_json_lists_each_indirect_target_set_once():
    from wasmem.model.layout import analyze
    from wasmem.model.stackframes import stack_to_dict

    m = WasmModule.from_file(sample("memdemo.wasm"))
    d = stack_to_dict(analyze_stack(m, analyze(m)))
    sites = [ic for f in d["frames"] for ic in f["indirect"]]
    assert sites and all(isinstance(ic["targets"], int) for ic in sites)
    assert sorted(d["indirect_targets"][sites[0]["targets"]]) == ["op_double", "op_negate", "op_square"]
