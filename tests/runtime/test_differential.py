"""wasmem never changes what it observes: every sample, called under a plain wasmtime host and under a
wasmem session, gives the same results, traps, output and byte-identical memory (tests/differential.py).
The real-world corpus runs the same harness from `make bench` (bench/differential.py)."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from differential import compare  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]
S = ROOT / "samples"

# (sample, calls in order on one instance): every exported function of each sample with scalar
# arguments, including traps, recursion that exhausts the stack, memory growth and overflows into data
MEMDEMO_CALLS = [
    ("get_counter", []), ("get_data_ptr", []), ("get_names", []), ("get_config", []), ("get_list_head", []),
    ("allocate", ["32"]), ("allocate", ["100"]), ("deallocate", ["65744", "32"]), ("checksum", ["65536", "64"]),
    ("fib_stack", ["12"]), ("sum_vla", ["40"]), ("aligned_local", ["3"]), ("deep", ["5"]), ("apply", ["1", "7"]),
    ("divide", ["7", "2"]), ("divide", ["1", "0"]), ("crash", []), ("get_counter", []), ("grow_memory", ["1"]),
    ("deep", ["100000"]), ("get_counter", []), ("fib_stack", ["3"]),
]
CASES = {
    "memdemo.wasm": MEMDEMO_CALLS,
    "memdemo-O0.wasm": MEMDEMO_CALLS,
    "memdemo-debug.wasm": MEMDEMO_CALLS,
    "memdemo-dwarf5.wasm": MEMDEMO_CALLS,
    "memdemo-stripped.wasm": MEMDEMO_CALLS,
    "memdemo-import.wasm": MEMDEMO_CALLS,
    # data-first: deep(9) runs the 8 KiB stack down through .bss and .data (the program's own overflow)
    "memdemo-datafirst.wasm": [("get_counter", []), ("fib_stack", ["10"]), ("deep", ["3"]), ("get_names", []),
                               ("deep", ["9"]), ("get_counter", []), ("get_names", [])],
    # .bss not visible in the file: the estimated stack covers it, so it must not be painted
    "bss.wasm": [("get_counter", []), ("scratch_sum", []), ("bump", ["5"]), ("uses_stack", ["100"]),
                 ("get_counter", []), ("uses_stack", ["512"]), ("scratch_sum", []), ("table_at", ["2"])],
    # .bss far above the last segment, proven by GOT.data.internal globals / DWARF: not painted either
    "bss-far-got.wasm": [("get_counter", []), ("bump", ["5"]), ("big_at", ["39999"]), ("tail_at", ["3"]),
                         ("get_counter", []), ("table_at", ["2"])],
    "bss-far-dwarf.wasm": [("get_counter", []), ("bump", ["5"]), ("big_at", ["39999"]), ("tail_at", ["3"]),
                           ("table_at", ["2"])],
    # a snapshot: data inside the stack region (pre-initialised stack contents)
    "snapshot.wasm": [("read", ["16777152"]), ("frame", ["41"]), ("read", ["16777216"]), ("sp", [])],
    "asc_consts.wasm": [("get_greeting", []), ("read", ["1072"]), ("length", [])],
    "imports.wasm": [("run", ["3"]), ("sum_via_host", ["4"]), ("greet", [])],
    "hello_wasi.wasm": [("add", ["2", "3"]), ("greet", ["1"]), ("_start", [])],
    "pic.wasm": [("data_addr", []), ("framed", ["3"]), ("framed", ["40"])],
    "pic_dwarf.wasm": [("get", ["0"]), ("get", ["1"]), ("get", ["3"])],
    "shared.wasm": [("counter_add", ["5"]), ("counter_add", ["7"]), ("load", ["0"])],
    "memory64.wasm": [("store64", ["64", "-1"]), ("load64", ["64"]), ("size", []), ("grow", ["1"]),
                      ("with_frame", ["5"])],
    "twomemories.wasm": [("load0", ["0"]), ("load1", ["0"]), ("copy_1_to_0", ["0", "0", "16"]), ("size1", [])],
    "asc_like.wasm": [("add", ["2", "3"]), ("heapTop", []), ("__new", ["16", "1"]), ("heapTop", [])],
    # data-first with a 4 KiB stack: deep(8) runs the stack over the data and wraps below address 0
    "watchdemo.wasm": [("get_limit", []), ("reset_scores", []), ("get_limit", []), ("fill", ["7"]), ("deep", ["3"]),
                       ("read_line", []), ("deep", ["8"])],
    # five pushes into a four-node pool: the fifth overwrites the pool's counters (the `wasmem watch` demo)
    "watchseq.wasm": [("push", ["1"]), ("push", ["2"]), ("bump", ["3"]), ("push", ["4"]), ("push", ["5"]),
                      ("push", ["6"]), ("pop", []), ("bump", ["1"]), ("used", [])],
    # a planted heap overflow in the default wasi-libc link (__heap_base not exported)
    "heapbugs.wasm": [("clean_heap", []), ("overflow_heap", []), ("clean_heap", [])],
    "renamed.wasm": [("sa", ["1"]), ("ta", ["2"]), ("ua", ["3"]), ("va", [])],
    "nomemory.wasm": [("add", ["1", "2"]), ("bump", []), ("bump", [])],
    "tags.wasm": [("call_current", []), ("throw_it", ["3"])],
    "passive.wasm": [("load_passive", ["0"]), ("fill_table", []), ("call_slot", ["0"])],
    # host profiles (tests/runtime/test_hosts.py has the rest: clocks and random bytes differ by nature)
    "hosts-wasi-reactor.wasm": [("hi", []), ("inits", [])],
    "hosts-wasi-command.wasm": [("_start", [])],
    "hosts-emscripten.wasm": [("check", ["3"]), ("check", ["0"]), ("grow", ["200000"]), ("pages", []),
                              ("nofs", []), ("copy", ["5000", "1024", "6"]), ("abort_now", []), ("keepalive", []),
                              ("try_call", ["5"]), ("try_call", ["-7"]), ("selector", []), ("jump", []),
                              ("invoke_crash", []), ("add_via_table", ["2", "40"]), ("seek", [])],
    "hosts-wasm-bindgen.wasm": [("last_align", []), ("greet", ["4096", "5"]), ("fail", [])],
    "hosts-assemblyscript.wasm": [("check", ["4"]), ("check", ["0"]), ("abort_null", []), ("trace_it", []),
                                  ("pins", [])],
    "hosts-go.wasm": [("hello", []), ("js", [])],
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_sample_matches_a_plain_host(name):
    report = compare(S / name, CASES[name], timeout=5)
    assert report.ok, "\n".join(map(str, report.mismatches))
    assert report.calls, report.skipped  # something was compared
    assert not [s for s in report.skipped if "timed out" in s[1]]


def test_every_runnable_sample_is_covered():
    """A new sample must be added to CASES (or to the list of those that cannot run here, with why)."""
    not_runnable = {"go_like.wasm": "Go's wasm_exec host: its exports expect the Go runtime's own loop"}
    have = {p.name for p in S.glob("*.wasm")}
    assert have - set(CASES) - set(not_runnable) == set()


def test_bss_is_not_painted_and_getters_see_zero():
    """The reported bug: painting the estimated stack of a data-first module without __data_end overwrote
    .bss, so a getter of a zero global returned 0xaaaaaaaa."""
    import wasmem

    with wasmem.open(str(S / "bss.wasm"), paint=True) as s:  # even when painting is asked for
        assert s.measure == "instrument" and "not painted although --paint asked" in s.paint_reason
        assert ".bss" in s.paint_reason
        r = s.call("get_counter", [])
        assert r.results == [0] and not r.changes
        assert r.stack.method == "instrument" and r.stack.peak == 0
        r = s.call("uses_stack", ["100"])
        assert r.results == [99]
        assert r.stack.peak >= 512 and r.stack.sp_min == r.stack.sp - r.stack.peak


def test_the_harness_catches_interference():
    """With painting forced onto the unproven stack range, the harness must report the corrupted .bss."""
    report = compare(S / "bss.wasm", [("get_counter", []), ("scratch_sum", [])], paint=True,
                     paint_safe=(True, "forced by the test"), stack_range=(0x410, 0x2520))
    assert not report.ok
    assert any(m.what == "results" and m.plain == [0] for m in report.mismatches), report.mismatches


@pytest.mark.parametrize("options", [{"paint": False}, {"check_stack": True}, {"paint": True}],
                         ids=["no-paint", "check-stack", "paint"])
@pytest.mark.parametrize("name", ["memdemo.wasm", "memdemo-datafirst.wasm", "memdemo-O0.wasm"])
def test_every_measurement_matches_a_plain_host(name, options):
    calls = [c for c in CASES.get(name, MEMDEMO_CALLS) if c[0] != "deep" or not options.get("check_stack")]
    report = compare(S / name, calls, timeout=5, **options)
    assert report.ok, "\n".join(map(str, report.mismatches))
    assert report.stack_method in ("instrument", "paint")


# -- generated calls ------------------------------------------------------------------------------------
_I32 = st.one_of(st.integers(-4, 70), st.sampled_from([0x7FFFFFFF, -0x80000000, 65536, 65535, 1 << 20]))
_SMALL = st.integers(0, 40)
GEN = {
    "memdemo.wasm": {"get_counter": [], "fib_stack": [_SMALL], "deep": [st.integers(0, 70)],
                     "divide": [_I32, _I32], "checksum": [_I32, st.integers(0, 4096)], "allocate": [_I32],
                     "sum_vla": [_SMALL], "aligned_local": [_I32], "apply": [_I32, _I32], "get_list_head": []},
    "memdemo-datafirst.wasm": {"get_counter": [], "fib_stack": [_SMALL], "deep": [st.integers(0, 12)],
                               "divide": [_I32, _I32], "get_names": [], "sum_vla": [_SMALL]},
    "bss.wasm": {"get_counter": [], "bump": [_I32], "scratch_sum": [], "uses_stack": [_I32], "table_at": [_I32]},
}


# a bounded, derandomised run in `make test`; `make fuzz` runs many more, random ones
GEN_EXAMPLES = max(12, int(os.environ.get("WASMEM_FUZZ_EXAMPLES", "0")) // 100)


def _calls(name):
    funcs = GEN[name]
    one = st.sampled_from(sorted(funcs)).flatmap(
        lambda f: st.tuples(st.just(f), st.tuples(*funcs[f]).map(lambda a: [str(x) for x in a])))
    return st.lists(one, min_size=1, max_size=6)


@pytest.mark.parametrize("name", sorted(GEN))
def test_generated_calls_match_a_plain_host(name):
    @settings(max_examples=GEN_EXAMPLES, deadline=None, derandomize=os.environ.get("WASMEM_FUZZ_EXAMPLES") is None,
              suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
    @given(calls=_calls(name))
    def check(calls):
        report = compare(S / name, calls, timeout=5)
        assert report.ok, "\n".join(map(str, report.mismatches))

    check()


def test_stack_measurement_is_on_by_default_whatever_the_size():
    """The stack pointer's writes are instrumented by default (there is no size limit since the rewrite copies
    untouched bodies and is cached); --no-paint says the same; --paint paints a proven stack."""
    import wasmem

    with wasmem.open(str(S / "bss.wasm")) as s:
        assert s.measure == "instrument" and s.instrumented is not None
        r = s.call("uses_stack", ["100"])
        assert r.stack is not None and r.stack.peak >= 512 and r.stack_note is None
    with wasmem.open(str(S / "bss.wasm"), paint=False) as s:
        assert s.measure == "instrument" and s.call("uses_stack", ["100"]).stack.peak >= 512
    with wasmem.open(str(S / "memdemo.wasm"), paint=True) as s:  # --paint paints a proven stack whatever the size
        r = s.call("fib_stack", ["5"])
        assert r.stack.method == "paint" and r.stack_note is None


def test_an_emscripten_data_first_stack_from_data_end_is_not_proven():
    """Emscripten's glue (up to 2.0) keeps the sbrk pointer between __data_end and the stack's real low end
    (libflac): painting from __data_end overwrote it and malloc asked emscripten_resize_heap(0xaaaaaaaa)."""
    from conftest import wat

    import wasmem

    text = r'''(module
      (import "env" "emscripten_resize_heap" (func (param i32) (result i32)))
      (memory (export "memory") 2)
      (global $__stack_pointer (mut i32) (i32.const 70000))
      (global (export "__data_end") i32 (i32.const 1040))
      (data (i32.const 1024) "sixteen bytes..")
      (func (export "f") (result i32) i32.const 1))'''
    with wasmem.open(wat(text), paint=True) as s:
        assert s.layout.layout_kind == "data-first" and s.measure == "instrument"
        assert "Emscripten build's JS glue" in s.paint_reason
    no_em = text.replace('(import "env" "emscripten_resize_heap" (func (param i32) (result i32)))', "")
    with wasmem.open(wat(no_em), paint=True) as s:  # the same layout without Emscripten is proven
        assert s.measure == "paint"


# -- --watch: the watch pass (and its host hook) changes nothing ------------------------------------------
def _watch_everything(session):
    """Every byte of memory 0 watched (every write calls the host hook), and `sp` on a data-first stack."""
    from wasmem.app.watchpoints import attach_watch
    from wasmem.debuginfo import load_symbols

    texts = [f"0:{session.memory_size(0)}"]
    if session.watch_pass.sp_range is not None:
        texts.append("sp")
    return attach_watch(session, texts, load_symbols(session.module))


@pytest.mark.parametrize("name", sorted(CASES))
def test_watched_sample_matches_a_plain_host(name):
    """Instrumented for --watch with all of memory 0 watched, each sample computes the same results and
    leaves the same memory as under a plain host: the inline checks, the scratch locals and the host hook
    (reading memory, computing old -> new) are invisible to the program."""
    from wasmem.app import layout_facts
    from wasmem.parser.module import WasmModule

    m = WasmModule.from_file(S / name)
    if not m.memories:
        with pytest.raises(Exception, match="no memory"):
            compare(S / name, CASES[name], timeout=5, watch={"ranges": 1})
        return
    lay = layout_facts(m)[0]
    sp = lay.layout_kind == "data-first" and lay.stack_pointer is not None
    spec = {"ranges": 2 if sp else 1, "sp_range": 1 if sp else None, "reads": name.startswith("memdemo")}
    # every access a host call (~10 µs): deep(100000)'s millions of stores would only test the timeout
    calls = [c for c in CASES[name] if c != ("deep", ["100000"])]
    report = compare(S / name, calls, timeout=5, watch=spec, prepare=_watch_everything)
    assert report.ok, "\n".join(map(str, report.mismatches))
    assert report.calls, report.skipped
    rep = report.prepared
    writes = [h for h in rep.hits if h.access == "write"]
    if any(c[0] in ("allocate", "fib_stack", "bump", "store64", "counter_add") for c in calls):
        assert writes, name  # the hook really ran


@pytest.mark.parametrize("name", sorted(GEN))
def test_generated_calls_match_a_plain_host_when_watched(name):
    """The generated calls again, rewritten for --watch with all of memory 0 (and sp) watched."""
    from wasmem.app import layout_facts
    from wasmem.parser.module import WasmModule

    lay = layout_facts(WasmModule.from_file(S / name))[0]
    sp = lay.layout_kind == "data-first" and lay.stack_pointer is not None
    spec = {"ranges": 2 if sp else 1, "sp_range": 1 if sp else None}
    # deep and allocate stay small: every write is a host call here, and a 2 GiB allocation meets wasmem's
    # --max-memory where a plain host grows (a documented difference, not the watch's)
    small = {f: [st.integers(0, 12) if f in ("deep", "fib_stack") else st.integers(-4, 4096) if f == "allocate"
                 else a for a in args] for f, args in GEN[name].items()}
    one = st.sampled_from(sorted(small)).flatmap(
        lambda f: st.tuples(st.just(f), st.tuples(*small[f]).map(lambda a: [str(x) for x in a])))

    @settings(max_examples=max(4, GEN_EXAMPLES // 3), deadline=None,
              derandomize=os.environ.get("WASMEM_FUZZ_EXAMPLES") is None,
              suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
    @given(calls=st.lists(one, min_size=1, max_size=4))
    def check(calls):
        report = compare(S / name, calls, timeout=30, watch=spec, prepare=_watch_everything)
        assert report.ok, "\n".join(map(str, report.mismatches))

    check()


# -- heap tracking (issue 15): the allocator calls rewritten through logging wrappers --------------------------
HEAP_DATA = ROOT / "tests" / "heap" / "data"
HEAP_CASES = {
    # --memcheck from the layout's heap base estimate: the overflow is reported, the program unchanged
    "heapbugs": (S / "heapbugs.wasm", None, [("clean_heap", []), ("overflow_heap", []), ("clean_heap", []),
                                             ("overflow_heap", [])]),
    "heapdemo": (HEAP_DATA / "heapdemo.wasm", None,
                 [("leak_step", ["1"]), ("clean_step", ["2"]), ("push", ["3"]), ("push", ["4"]), ("pop", []),
                  ("warm_cache", ["5"]), ("make_greeting", ["6"]), ("malloc", ["40"]), ("free", ["$8"]),
                  ("double_free", []), ("use_after_free", []), ("churn", ["300"]), ("str_len", ["$7"]),
                  ("calloc", ["3", "8"]), ("realloc", ["$14", "100"]), ("str_len", ["4000000000"]),
                  ("leak_step", ["2"]), ("write_past_end", ["12"]), ("write_past_end", ["3"])]),
    "rust_heap": (HEAP_DATA / "rust_heap.wasm", None,
                  # `twice` last: its double free makes the free list a cycle that the next allocation would walk
                  # until the timeout (three instances, 15 s, nothing compared)
                  [("leak", ["1"]), ("clean", ["2"]), ("bad_size", []), ("leak", ["3"]), ("twice", [])]),
    "asc_heap": (HEAP_DATA / "asc_heap.wasm", None,
                 [("keep", ["1"]), ("keep", ["2"]), ("temp", ["3"]), ("__new", ["8", "1"]), ("__renew", ["$4", "40"]),
                  ("keep", ["3"]), ("churn", ["60"]), ("keep", ["4"])]),
    # Zig's allocator through its vtable (call_indirect, element entries redirected) and through shims;
    # double_free last: it makes a size class's free list a cycle
    "zigheap": (HEAP_DATA / "zigheap.wasm", None,
                [("leak_step", ["1"]), ("clean_step", ["2"]), ("leak_step", ["3"]), ("clean_step", ["4"]),
                 ("double_free", []), ("leak_step", ["5"])]),
    # malloc/free in a table: call_indirect, return_call_indirect, call_ref of ref.func, table.init (the
    # element entries and ref.func redirected to tracking wrappers of the same type)
    "fnptr_heap": (HEAP_DATA / "fnptr_heap.wasm", None,
                   [("leak", ["1"]), ("clean", ["2"]), ("install", []), ("via_installed", ["24"]), ("clean2", ["3"]),
                    ("via_other", ["4"]), ("leak", ["5"]), ("twice", []), ("clean", ["6"])]),
    # SIMD, atomic and bulk accesses of freed blocks and past blocks' ends, next to clean ones, and accesses that trap
    "memcheck_ops": (HEAP_DATA / "memcheck_ops.wasm", None,
                     [("clean", ["3"]), ("simd_bad", []), ("atomic_bad", []), ("bulk_bad", []), ("other_memory", []),
                      ("clean", ["7"]), ("unaligned_atomic", []), ("fill_oob", []), ("v128_oob", []),
                      ("atomic_at", ["131069"]), ("atomic_at", ["131068"]), ("atomic_at", ["65600"]), ("bulk_bad", []),
                      ("uninit", []), ("calloc", ["3", "5"]), ("dense", ["4"]), ("uninit", [])]),
    "memdemo": (S / "memdemo.wasm", "allocate,deallocate", MEMDEMO_CALLS),
    "asc_like": (S / "asc_like.wasm", None, CASES["asc_like.wasm"]),
}


@pytest.mark.parametrize("options", [{}, {"paint": False, "paths": True}, {"memcheck": True},
                                     {"memcheck": True, "uninit": True}],
                         ids=["heap", "heap+paths", "memcheck", "memcheck+uninit"])
@pytest.mark.parametrize("name", sorted(HEAP_CASES))
def test_heap_tracking_matches_a_plain_host(name, options):
    """The heap-instrumented module computes exactly what a plain host computes: same results, traps,
    output and byte-identical memory, with every allocator call logged (and with --paths, a host call per
    allocation and the call-path pass in every function)."""
    from wasmem.app import load_module, symbols_for
    from wasmem.app.heap import heap_spec

    path, allocator, calls = HEAP_CASES[name]
    module = load_module(str(path))
    options = dict(options)
    symbols = symbols_for(module)
    spec = heap_spec(module, allocator, symbols, paths=options.pop("paths", False))
    if options.pop("memcheck", False):
        from wasmem.app.heap import memcheck_heap_base

        spec.update(memcheck=True, heap_base=memcheck_heap_base(module, symbols),
                    memcheck_uninit=options.pop("uninit", False))
    seen = {}
    report = compare(module, calls, timeout=5, heap=spec, prepare=lambda s: seen.setdefault("t", s.heap_tracker),
                     **options)
    assert report.ok, "\n".join(map(str, report.mismatches))
    assert seen["t"] is not None and seen["t"].events > 0  # it really tracked
