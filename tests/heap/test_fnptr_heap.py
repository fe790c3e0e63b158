"""Heap tracking through function pointers (issue 15, instrument/heap_pointers.py): fnptr_heap.wat, a C-style
malloc/free reached through call_indirect, return_call_indirect, call_ref of ref.func, a table filled by
table.init and a table the host calls. Real module under real wasmtime; exact sizes and call offsets."""

from __future__ import annotations

import json
from pathlib import Path

import wasmtime
from conftest import run_main
from heap_util import FNPTR, call_indirects, heap, leaks

from wasmem.app.heap import heap_report
from wasmem.instrument import rewrite
from wasmem.instrument.heap import HeapPass
from wasmem.instrument.heap_pointers import FunctionPointerPass, PointerSite
from wasmem.model.allocators import find_allocators
from wasmem.parser import WasmModule


def test_inspect_shows_allocators_in_a_table(capsys):
    code, out, _ = run_main(capsys, "inspect", FNPTR, "--json")
    al = json.loads(out)["heap"]["allocators"]
    assert [(f["name"], f["in_table"]) for f in al["functions"]] == [("malloc", True), ("free", True)]


def test_a_leak_through_call_indirect_is_reported_at_the_call():
    r = leaks(FNPTR, "leak 1", repeat=4, max_growth=0)
    assert r.growth_per_call == 24.0 and [i.live_bytes for i in r.iterations] == [24, 48, 72, 96]
    (s,) = r.sites
    assert s.site.function == "leak" and s.site.allocator == "function pointer"
    assert s.site.offset == call_indirects(FNPTR, "leak")[0]


def test_calls_through_tables_call_ref_and_tail_calls_balance():
    """call_indirect, return_call_indirect, call_ref of ref.func, a direct call, and a table filled later by
    table.init from a passive segment: every allocation and free seen, nothing left."""
    for call, each in (("clean 3", 40 + 8 + 100), ("clean2 4", 40), ("via_installed 24", 24)):
        for memcheck in (False, True):
            r = leaks(FNPTR, call, repeat=3, max_growth=0, before=["install"], memcheck=memcheck)
            assert r.ok and not r.findings and not r.sites, call
            assert all((i.live_bytes, i.allocated, i.freed) == (0, each, each) for i in r.iterations), call


def test_double_free_through_a_function_pointer():
    r = heap(FNPTR, after=["twice"])
    (f,) = r.findings
    assert f.kind == "double-free"
    first, second = call_indirects(FNPTR, "twice")[1:]
    assert (r.sites[f.site].offset, r.sites[f.freed_at].offset) == (second, first)


def test_the_host_calling_a_table_entry_is_tracked_as_the_host():
    report, session = heap_report(FNPTR)
    try:
        table = session.exports["host_table"]
        p = table.get(session.store, 0)(session.store, 32)
        tr = session.heap_tracker
        tr.disarm()
        assert tr.live[p][0] == 32 and tr.live[p][1] == -1  # site -1: the host
    finally:
        session.close()


def test_the_pass_redirects_only_allocator_entries_and_types_stay_identical():
    data = Path(FNPTR).read_bytes()
    m = WasmModule.from_bytes(data)
    hp = HeapPass(find_allocators(m).functions)
    fp = FunctionPointerPass(hp)
    rw = rewrite(data, [hp, fp])
    out = WasmModule.from_bytes(rw.data)
    assert fp.redirected == {0: 2, 1: 2}  # malloc and free: the active and the passive segment
    for f, t in fp.entries.items():
        assert out.function_type_indices[t] == m.function_type_indices[f]
    for old, new in zip(m.elements, out.elements, strict=False):
        assert new.func_indices == tuple(fp.entries.get(f, f) for f in old.func_indices)
    sites = [s for s in hp.sites if isinstance(s, PointerSite)]
    # every call_indirect, return_call_indirect and call_ref of an allocator type (leak 1, clean 3,
    # tail_free 1, clean2 2, via_installed 2, twice 3); not via_other's call of $add
    assert len(sites) == fp.pointer_sites == 12
    wasmtime.Module(wasmtime.Engine(), rw.data)
