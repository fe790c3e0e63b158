"""Heap tracking (issue 15) on fixtures we wrote: C with the pinned zig's wasi libc malloc (heapdemo.c), a
Rust-style module (rust_heap.wat: the __rust_alloc shims by name section) and an AssemblyScript-style one
(asc_heap.wat: __new/__renew/__free). Real modules under real wasmtime; exact sizes and lines."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from conftest import run_main
from heap_util import heap, leaks

import wasmem
from wasmem.app import load_module, symbols_for
from wasmem.app.heap import heap_spec
from wasmem.errors import UsageError

DATA = Path(__file__).resolve().parent / "data"
C = str(DATA / "heapdemo.wasm")
RUST = str(DATA / "rust_heap.wasm")
ASC = str(DATA / "asc_heap.wasm")
SOURCE = (DATA / "heapdemo.c").read_text()


def line_of(marker: str) -> int:
    return next(i for i, text in enumerate(SOURCE.splitlines(), 1) if marker in text)


# -- C: wasi libc malloc ---------------------------------------------------------------------------------
def test_planted_leak_is_reported_exactly_with_its_line():
    r = leaks(C, "leak_step 1", repeat=6, max_growth=0)
    assert r.growth_per_call == 24.0
    assert [i.live_bytes for i in r.iterations] == [24 * n for n in range(1, 7)]
    assert all(i.allocated == 124 and i.freed == 100 for i in r.iterations)  # the 100-byte temporary is freed
    assert len(r.sites) == 1
    s = r.sites[0]
    assert (s.blocks, s.bytes, s.per_call, s.returned) == (5, 120, 24.0, 0)
    assert s.site.function == "leak_step" and s.site.location == f"heapdemo.c:{line_of('LEAK_LINE')}"
    assert s.site.allocator == "malloc"
    assert r.exceeded and not r.ok and not r.findings


def test_a_clean_sequence_has_zero_reports():
    """calloc, malloc grown by realloc, posix_memalign, all freed: nothing live, no finding, no growth."""
    r = leaks(C, "clean_step 2", repeat=8, max_growth=0)
    assert r.ok and r.growth_per_call == 0 and not r.sites and not r.findings
    assert all(i.live_bytes == 0 and i.allocated == 4 * 4 + 10 + 200 + 48 == i.freed for i in r.iterations)


def test_a_cache_filled_on_the_first_call_is_not_a_leak():
    r = leaks(C, "warm_cache 3", repeat=5, max_growth=0)
    assert r.ok and r.growth_per_call == 0 and not r.sites
    assert r.iterations[0].live_bytes == 4096


def test_a_returned_block_is_the_callers_to_free():
    r = leaks(C, "make_greeting 3", repeat=4)
    assert r.growth_per_call == 16
    assert all(i.returned_block is not None for i in r.iterations)
    (s,) = r.sites
    assert s.returned == s.blocks == 3 and s.site.location == f"heapdemo.c:{line_of('GREETING_LINE')}"


def test_double_free_at_the_right_lines():
    r = heap(C, after=["double_free"])
    (f,) = r.findings
    assert f.kind == "double-free"
    assert r.sites[f.site].location == f"heapdemo.c:{line_of('DOUBLE_FREE_LINE')}"
    assert r.sites[f.freed_at].location == f"heapdemo.c:{line_of('DOUBLE_FREE_LINE') - 1}"
    assert not r.ok


def test_double_free_text_says_already_freed_at_the_first_free_and_again_at_the_second():
    """It once read "already freed in double_free (heapdemo.c:84)", naming the second free's line."""
    import io

    from rich.console import Console

    from wasmem.render.heap import render_heap

    def text(report) -> str:
        c = Console(file=io.StringIO(), width=300, color_system=None)
        c.print(render_heap(report))
        return " ".join(c.file.getvalue().split())

    second = line_of("DOUBLE_FREE_LINE")
    r = heap(C, after=["double_free"])
    assert re.search(rf"double-free: free\(0x[0-9a-f]+\): the block was already freed in double_free at 0x[0-9a-f]+ "
                     rf"\(heapdemo\.c:{second - 1}\); freed again in double_free at 0x[0-9a-f]+ "
                     rf"\(heapdemo\.c:{second}\)", text(r)), text(r)
    r.findings[0].freed_at = None  # the first free not recorded: only where the second one happened
    shown = text(r)
    assert re.search(rf"the block was already freed; freed again in double_free at 0x[0-9a-f]+ "
                     rf"\(heapdemo\.c:{second}\)", shown), shown
    assert f"heapdemo.c:{second - 1}" not in shown


def test_live_blocks_grouped_by_site_with_dwarf_types():
    r = heap(C, after=["push 1", "push 2", "push 3", "pop", "make_greeting 4"])
    groups = {g.site.function: g for g in r.groups}
    assert (groups["push"].count, groups["push"].bytes) == (2, 16)
    assert groups["push"].types == ["struct Node"]  # list_head, then Node.next
    assert groups["push"].site.location == f"heapdemo.c:{line_of('PUSH_LINE')}"
    assert (groups["make_greeting"].count, groups["make_greeting"].bytes) == (1, 16)
    assert r.live_bytes == 32 and r.frees == 1 and r.ok
    ext = r.extent
    assert ext.low == min(b.address for b in r.blocks) and ext.live_bytes == 32


def test_wasmems_own_allocations_are_tracked_as_the_hosts():
    """`z:` arguments are copied with the module's malloc and freed after the call; `--after "malloc 32"`
    leaves a block the host allocated: both go through the redirected export."""
    r = heap(C, after=["str_len z:hello", "malloc 32"])
    assert r.allocations == 2 and r.frees == 1
    (b,) = r.blocks
    assert b.size == 32 and b.site == -1 and r.sites[-1].is_host


def test_the_start_and_initialisation_see_the_same_heap_as_a_plain_host():
    with wasmem.open(C) as plain:
        p1 = plain.call("make_greeting", ["1"]).results
    m = load_module(C)
    with wasmem.open(m, heap=heap_spec(m, symbols=symbols_for(m))) as s:
        assert s.call("make_greeting", ["1"]).results == p1  # same address: nothing moved the heap


def test_posix_memalign_block_comes_from_its_out_pointer():
    m = load_module(C)
    with wasmem.open(m, heap=heap_spec(m, symbols=symbols_for(m))) as s:
        tr = s.heap_tracker
        assert any(f.role == "memalign_out" for f in tr.functions)
        a0, n0, f0 = tr.allocated_bytes, tr.allocations, tr.frees
        s.call("clean_step", ["1"])
        # calloc(4, 4), malloc(10) grown by realloc to 200 (one block replaced), posix_memalign(64, 48)
        assert (tr.allocated_bytes - a0, tr.allocations - n0, tr.frees - f0) == (16 + 10 + 200 + 48, 4, 4)
        assert not tr.findings and tr.live_bytes == 0


def test_paths_record_the_call_path():
    r = heap(C, after=["push 1"], paths=True)
    (b,) = r.blocks
    assert b.path == ["push"]


def test_stripped_module_without_names_is_found_by_shape_and_a_wrong_name_is_an_error():
    # no name at all: malloc and free are found by their code (tests/heap/test_allocshape.py has the rest)
    r = heap(str(DATA / "heapdemo-stripped.wasm"))
    assert {a["found_by"] for a in r.allocators} == {"shape"}
    with pytest.raises(UsageError, match="no function named 'nope'"):
        heap(C, allocator="nope,free")


def test_a_stripped_module_is_tracked_with_its_allocator_given_by_index():
    """Without any name, --allocator takes the functions as wasmem shows them (func[N]): the same planted
    leak as the named build (the indices come from the named build, which has the same code)."""
    from wasmem.model.allocators import find_allocators

    found = find_allocators(load_module(C))
    malloc, free = (next(f.index for f in found.functions if f.name == n) for n in ("malloc", "free"))
    r = leaks(str(DATA / "heapdemo-stripped.wasm"), "leak_step 1", repeat=4, allocator=f"func[{malloc}],func[{free}]")
    assert r.growth_per_call == 24.0 and len(r.sites) == 1 and not r.findings
    assert r.sites[0].site.allocator == f"func[{malloc}]"
    with pytest.raises(UsageError, match=r"func\[0\] has type"):
        heap(str(DATA / "heapdemo-stripped.wasm"), allocator="func[0]")
    n = load_module(str(DATA / "heapdemo-stripped.wasm")).num_functions
    with pytest.raises(UsageError, match=rf"func\[999\] does not exist: the module has {n} functions "
                                         rf"\(func\[0\] to func\[{n - 1}\]\)"):
        heap(str(DATA / "heapdemo-stripped.wasm"), allocator="func[999]")


# -- Rust-style -------------------------------------------------------------------------------------------
def test_rust_style_leak_mismatch_and_double_free_through_a_tail_call():
    r = leaks(RUST, "leak 1", repeat=4)
    assert r.growth_per_call == 40 and r.sites[0].site.function == "leak"
    assert r.sites[0].site.allocator == "__rust_alloc"  # the outermost shim, not __rdl_alloc
    clean = leaks(RUST, "clean 3", repeat=4, max_growth=0)
    assert clean.ok and not clean.sites and clean.iterations[0].allocated == 24 + 8 + 64  # realloc's inner calls once
    h = heap(RUST, after=["bad_size", "twice"])
    kinds = {f.kind: f for f in h.findings}
    assert set(kinds) == {"size-mismatch", "double-free"}
    assert "16" in kinds["size-mismatch"].message and "32 bytes" in kinds["size-mismatch"].message
    assert h.sites[kinds["size-mismatch"].site].function == "bad_size"
    assert h.sites[kinds["double-free"].site].function == "drop_tail"  # the rewritten return_call
    assert h.sites[kinds["double-free"].freed_at].function == "twice"


# -- AssemblyScript-style ----------------------------------------------------------------------------------
def test_assemblyscript_style_objects_and_a_growing_array():
    """leaks runs the collector (__collect) after each call: the live heap is what the program references."""
    r = leaks(ASC, "keep 1", repeat=5)
    assert r.growth_per_call == 16  # a 12-byte object and 4 more bytes of the array (the old array collected)
    by = {s.site.offset: s for s in r.sites}
    assert sum(s.bytes for s in by.values()) == 4 * 12 + 5 * 4  # the array now holds 5 pointers
    assert any("__collect" in n for n in r.notes) and not r.findings
    t = leaks(ASC, "temp 1", repeat=5, max_growth=0)
    assert t.ok and not t.sites


def test_assemblyscript_collector_frees_are_tracked_even_inside_an_allocation():
    """The collector frees an object's block through the memory manager's ~lib/rt/tlsf/__free (the object's
    pointer - 16), and runs inside __new when its threshold is reached: those frees count (at any depth) and
    none is an invalid free."""
    names = {(a["name"], a["role"]) for a in heap(ASC).allocators}
    assert ("~lib/rt/tlsf/__free", "gc_free") in names and ("__renew", "renew") in names
    assert not any(role == "free" for _, role in names)
    r = heap(ASC, after=["churn 60"])  # no __collect: only the runs inside __new
    assert r.frees > 0 and r.allocations == 60 and not r.findings
    assert r.live_bytes == 32 * len(r.blocks) and r.live_bytes < 60 * 32
    lk = leaks(ASC, "churn 50", repeat=4, max_growth=0)
    assert lk.ok and all(i.live_bytes == 0 and i.allocated == i.freed == 50 * 32 for i in lk.iterations)


# -- the commands ----------------------------------------------------------------------------------------
def test_leaks_command_exit_codes_and_json(capsys):
    code, out, _ = run_main(capsys, "leaks", C, "leak_step 1", "-n", "3", "--max-growth", "0")
    assert code == 1 and f"heapdemo.c:{line_of('LEAK_LINE')}" in out and "24" in out
    code, out, _ = run_main(capsys, "leaks", C, "leak_step 1", "-n", "3", "--max-growth", "24", "--json")
    assert code == 0 and json.loads(out)["growth_per_call"] == 24
    code, out, _ = run_main(capsys, "leaks", C, "make_greeting 1", "-n", "3")
    assert code == 0 and "returned: the caller" in out
    code, out, err = run_main(capsys, "leaks", C, "nope")
    assert code == 2 and not out and re.fullmatch(r"wasmem: error: .*not an exported function.*\n", err)
    code, _, err = run_main(capsys, "heap", str(DATA.parent.parent.parent / "samples" / "memdemo.wasm"))
    assert code == 2 and err.startswith("wasmem: error: no allocator found") and err.count("\n") == 1


def test_heap_command_shows_sites_and_findings(capsys):
    code, out, _ = run_main(capsys, "heap", C, "--after", "push 1", "--after", "double_free")
    assert code == 1
    assert "struct Node" in out and "double-free" in out
    assert f"heapdemo.c:{line_of('DOUBLE_FREE_LINE')}" in out


def test_pairs_settled_in_wasm_are_counted_and_leave_nothing_live():
    """churn(n): n malloc/free pairs, each freed right after it was allocated: the free drops the log's last
    record in wasm; the counts are still exact, with and without --paths (which logs every event)."""
    for paths in (False, True):
        r = leaks(C, "churn 300", repeat=2, max_growth=0, paths=paths)
        assert r.ok and not r.sites
        assert all(i.allocated == i.freed == sum(16 + (k & 63) for k in range(300)) for i in r.iterations)


# -- the check rule ----------------------------------------------------------------------------------------
def test_check_rule_leak_per_call(capsys, tmp_path, monkeypatch):
    code, out, _ = run_main(capsys, "check", C, "--no-config", "--leak-call", "leak_step 1", "--max-leak-per-call", "0",
                       "--format", "json")
    (res,) = json.loads(out)["modules"][0]["results"]
    assert code == 1 and res["rule"] == "leak-per-call" and res["status"] == "fail" and res["measured"] == 24
    assert any(f"heapdemo.c:{line_of('LEAK_LINE')}" in d for d in res["details"])
    code, out, _ = run_main(capsys, "check", C, "--no-config", "--leak-call", "leak_step 1", "--max-leak-per-call", "24",
                       "--leak-repeat", "3")
    assert code == 0
    # from pyproject.toml, like every rule
    (tmp_path / "pyproject.toml").write_text(
        f'[tool.wasmem.check]\nmodules = ["{C}"]\nleak-call = "warm_cache 1"\nmax-leak-per-call = 0\n'
        'leak-repeat = 4\n')
    monkeypatch.chdir(tmp_path)
    code, out, _ = run_main(capsys, "check", "--format", "json")
    assert code == 0 and json.loads(out)["modules"][0]["results"][0]["status"] == "pass"
    code, _, err = run_main(capsys, "check", C, "--no-config", "--max-leak-per-call", "0")
    assert code == 2 and "--leak-call" in err


# -- --memcheck ----------------------------------------------------------------------------------------------
def test_memcheck_reports_use_after_free_and_past_end_at_their_lines_and_nothing_on_clean_code():
    r = heap(C, after=["push 1", "clean_step 2", "churn 300", "str_len z:hello", "make_greeting 2", "pop",
                       "warm_cache 7", "leak_step 1"], memcheck=True)
    assert r.findings == [] and r.ok  # zero reports on a clean program
    r = heap(C, after=["use_after_free", "write_past_end 12", "write_past_end 3", "use_after_free"], memcheck=True)
    by = {(f.kind, f.access.location): f for f in r.findings}
    uaf = line_of("USE_AFTER_FREE_LINE")
    assert set(by) == {("use-after-free", f"heapdemo.c:{uaf}"), ("use-after-free", f"heapdemo.c:{uaf + 1}"),
                       ("outside-block", f"heapdemo.c:{line_of('PAST_END_LINE')}")}
    w = by[("use-after-free", f"heapdemo.c:{uaf}")]
    assert w.count == 2 and "write of 4 bytes" in w.message and "4 bytes into a freed block of 32 bytes" in w.message
    assert r.sites[w.freed_at].location == f"heapdemo.c:{uaf - 1}"
    assert "2 bytes past the end of the block of 10 bytes" in by[("outside-block",
                                                                 f"heapdemo.c:{line_of('PAST_END_LINE')}")].message


def test_memcheck_on_the_rust_and_assemblyscript_style_modules_is_quiet():
    assert not leaks(RUST, "clean 1", repeat=3, memcheck=True).findings
    assert not leaks(ASC, "keep 1", repeat=3, memcheck=True).findings


def test_memcheck_suppressions_by_function_name(capsys):
    r = heap(C, after=["use_after_free", "write_past_end 12"], memcheck=True, memcheck_ignore=["use_after_free"])
    assert [f.kind for f in r.findings] == ["outside-block"]
    code, _, err = run_main(capsys, "heap", C, "--memcheck-ignore", "f")
    assert code == 2 and "needs --memcheck" in err


STRADDLE = """(module
  (memory (export "memory") 2)
  (global $__stack_pointer (mut i32) (i32.const 65536))
  (global (export "__heap_base") i32 (i32.const 65536))
  (global $top (mut i32) (i32.const 65536))
  (func $malloc (export "malloc") (param $n i32) (result i32)
    (local $p i32)
    (local.set $p (global.get $top))
    (global.set $top (i32.add (local.get $p) (i32.and (i32.add (local.get $n) (i32.const 15)) (i32.const -16))))
    (local.get $p))
  (func $free (export "free") (param i32))
  (func (export "store_at") (param $size i32) (param $at i32) (result i32)
    (local $p i32)
    (local.set $p (call $malloc (local.get $size)))
    (i32.store (i32.add (local.get $p) (local.get $at)) (i32.const -1))
    (call $free (local.get $p))
    (i32.const 0)))"""


def test_memcheck_sees_an_access_that_starts_in_a_block_and_runs_past_its_end(wat_file):
    """A 4-byte store at offset 8 of a 10-byte block: its first byte is the block's, its last two are not.
    The check reads the first and the last byte of every access, so it is reported from the byte it leaves
    the block; a store that fits (offset 8 of a 12-byte block) is not."""
    path = wat_file(STRADDLE)
    r = heap(path, after=["store_at 12 8"], memcheck=True)
    assert r.findings == []
    r = heap(path, after=["store_at 10 8"], memcheck=True)
    (f,) = r.findings
    assert f.kind == "outside-block" and f.access.function == "store_at"
    assert "write of 4 bytes at 0x10008 (from its byte 2, at 0x1000a), just past the end of the block of 10 " \
           "bytes at 0x10000" in f.message, f.message


# -- the start function's allocations --------------------------------------------------------------------
START_WAT = """
(module
  (memory (export "memory") 2)
  (global $top (mut i32) (i32.const 1024))
  (global $kept (mut i32) (i32.const 0))
  (func $malloc (export "malloc") (param $size i32) (result i32)
    (local $p i32)
    (local.set $p (global.get $top))
    (global.set $top (i32.and (i32.add (i32.add (local.get $p) (local.get $size)) (i32.const 15)) (i32.const -16)))
    (local.get $p))
  (func $free (export "free") (param $p i32))
  (func $init (local $i i32)
    (global.set $kept (call $malloc (i32.const 40)))
    (call $free (call $malloc (i32.const 8)))
    (block $done (loop $more
      (br_if $done (i32.ge_u (local.get $i) (i32.const N)))
      (drop (call $malloc (i32.const 4)))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br $more))))
  (start $init)
  (func (export "release") (call $free (global.get $kept))))
"""


def _start_text(n: int) -> str:
    return START_WAT.replace("(i32.const N)", f"(i32.const {n})")


def test_the_start_functions_allocations_are_tracked(wat_file):
    """A block the start function allocated is live from the first call on, at its site in the start function;
    freeing it later is an ordinary free (it used to be an invalid free: the start function ran unobserved)."""
    path = wat_file(_start_text(0))
    r = heap(path)
    assert (r.allocations, r.frees, r.live_bytes, r.findings) == (2, 1, 40, [])
    (g,) = r.groups
    assert g.site.function == "init" and g.bytes == 40
    r = heap(path, after=["release"])
    assert (r.allocations, r.frees, r.live_bytes, r.findings) == (2, 2, 0, [])


def test_a_start_function_that_overfills_the_log_loses_the_rest_and_says_so(wat_file):
    """Before the host can drain the log, a start function with more allocations than the log holds loses the
    records past it; the run is unchanged and the report says how many were lost."""
    r = heap(wat_file(_start_text(6000)))
    assert any("lost" in n and "start function" in n for n in r.notes), r.notes
    assert 5000 < r.allocations < 6002 and not r.findings


# -- a stripped wasm-bindgen build ----------------------------------------------------------------------------
WBG = str(DATA / "wbg_stripped.wasm")


def test_stripped_wasm_bindgen_allocator_behind_its_shims_is_tracked():
    """No names: the unnamed malloc/memalign/free/realloc behind __wbindgen_malloc/_free/_realloc are found
    by what the shims call with their own operands, so the module's own allocations are seen too (grow)."""
    r = heap(WBG, after=["grow 40"])
    by = {(a["name"], a["role"], a["found_by"]) for a in r.allocators}
    assert {("func[0]", "alloc", "forwarded"), ("func[1]", "free", "forwarded"),
            ("func[2]", "realloc", "forwarded"), ("func[3]", "aligned_alloc", "forwarded")} <= by
    (b,) = r.blocks
    assert (b.size, r.allocations, r.frees, r.findings) == (40, 2, 1, [])
    assert r.sites[b.site].function == "grow"


def test_wasm_bindgen_string_arguments_belong_to_the_callee():
    """A `&str` argument is freed by the Rust side (its Box<str>); the JS glue never frees it, and neither
    does wasmem: freeing it after the call too was a double free (this allocator traps on one)."""
    r = heap(WBG, after=["take s:hello", "take s:hello", "take s:héllo", "take b:68656c6c6f"])
    assert not r.findings and not r.blocks and r.trap is None
    # héllo: malloc(5, 1), realloc to 1 + 4 * 3, realloc down to the 6 bytes written, as the glue does
    assert r.allocations == 6 and r.frees == 6


def test_wasm_bindgen_non_ascii_strings_are_placed_as_the_glue_places_them():
    with wasmem.open(WBG) as s:
        r = s.call("greet", ["s:héllo"])
        (a,) = r.allocations
        assert a.via == "__wbindgen_malloc+__wbindgen_realloc" and a.size == 6  # the UTF-8 bytes written
        ptr, n = (v & 0xFFFFFFFF for v in r.results)
        assert s.read(ptr, n) == "Hello, héllo".encode()


def test_a_block_returned_in_a_result_pair_is_the_callers_to_free():
    r = leaks(WBG, "greet s:hi", repeat=3)
    assert r.growth_per_call == 9 and all(i.returned_block for i in r.iterations)
    assert r.sites[0].returned == r.sites[0].blocks == 2


def test_memcheck_hits_while_the_start_function_runs_do_not_trap(wat_file):
    """Tracking is on from the start, and a freed block's shadow says so at once: an access to it by the start
    function (before the host filled the hook table) is counted and said, not a call through a null table
    entry."""
    text = _start_text(0).replace("(call $free (call $malloc (i32.const 8)))",
                                  "(call $free (global.get $kept)) (drop (i32.load (global.get $kept)))"
                                  " (global.set $kept (call $malloc (i32.const 40)))")
    r = heap(wat_file(text), memcheck=True)
    assert r.trap is None and r.live_bytes == 40
    assert any("1 access(es) by the start function" in n for n in r.notes), r.notes


def test_a_free_found_behind_a_shim_does_not_call_unknown_blocks_invalid():
    """The allocator behind a stripped build's shims is found by what the shims call; code that inlined
    malloc allocates without it, so its blocks' frees are counted (with the reason), not invalid frees."""
    r = heap(WBG, after=["inlined", "grow 16"])
    assert not r.findings and r.ok
    assert [u["count"] for u in r.unjudged] == [1] and "did not see allocated" in r.unjudged[0]["reason"]
    assert len(r.blocks) == 1 and r.blocks[0].size == 16
