"""Heap tracking of Zig's allocators (issue 15): zigheap.zig (std.heap.wasm_allocator through std.mem.Allocator's
vtable, an ArenaAllocator on it, built with the pinned zig). Real module under real wasmtime; exact sizes and
lines."""

from __future__ import annotations

import json
from pathlib import Path

from conftest import run_main
from heap_util import ZIG, heap, leaks, zig_line

from wasmem.model.allocators import find_allocators
from wasmem.parser import WasmModule


# -- discovery -------------------------------------------------------------------------------------------
def test_zig_backing_allocator_is_found_with_its_vtable_signatures():
    m = WasmModule.from_bytes(Path(ZIG).read_bytes())
    found = find_allocators(m)
    got = {f.name: (f.family, f.role, f.convention.logged, f.in_table) for f in found.functions}
    assert got == {
        "heap.BrkAllocator.alloc": ("zig", "aligned_alloc", ("", "size", "align", ""), True),
        "heap.BrkAllocator.free": ("zig", "free", ("", "ptr", "old_size", "align"), True),
        "heap.BrkAllocator.resize": ("zig", "resize", ("ptr", "old_size", "align", "size"), True),
        "heap.BrkAllocator.remap": ("zig", "realloc", ("ptr", "old_size", "align", "size"), True),
    }
    assert found.complete
    # the arena's own vtable is not tracked: it frees in bulk (deinit) and lives on the backing allocator
    assert not any("Arena" in f.name for f in found.functions)
    assert sorted(found.shims.values()) == ["mem.Allocator.alloc__func_0", "mem.Allocator.free__func_1",
                                           "mem.Allocator.free__func_18"]


def test_inspect_shows_the_zig_allocators_and_the_table(capsys):
    code, out, _ = run_main(capsys, "inspect", ZIG)
    assert code == 0
    out = " ".join(out.split())  # the table wraps the row
    assert "heap.BrkAllocator.alloc" in out and "(zig; by name-section)" in out
    assert "in a table (also called through function pointers)" in out and "3 interface" in out
    code, out, _ = run_main(capsys, "inspect", ZIG, "--json")
    al = json.loads(out)["heap"]["allocators"]
    assert al["shims"] == 3
    assert {f["name"]: f["in_table"] for f in al["functions"]}["heap.BrkAllocator.free"] is True


# -- Zig -------------------------------------------------------------------------------------------------
def test_zig_planted_leak_is_reported_exactly_with_its_line():
    r = leaks(ZIG, "leak_step 1", repeat=6, max_growth=0)
    assert r.growth_per_call == 24.0
    assert [i.live_bytes for i in r.iterations] == [24 * n for n in range(1, 7)]
    assert all(i.allocated == 124 and i.freed == 100 for i in r.iterations)
    (s,) = r.sites
    assert (s.blocks, s.bytes, s.per_call) == (5, 120, 24.0)
    # the allocation happens in std's mem.Allocator.alloc (through the vtable): the site is the program's call
    assert s.site.function == "zigheap.leak_step" and s.site.location == zig_line("LEAK_LINE")
    assert s.site.allocator == "mem.Allocator.alloc__func_0"
    assert r.exceeded and not r.findings
    assert r.allocators[0]["table_entries_redirected"] == 1


def test_zig_clean_sequence_has_zero_reports():
    """An ArrayList grown through remap/alloc/free, a buffer resized in place, an arena's buffers freed by
    deinit: nothing live, no finding, no growth."""
    for memcheck in (False, True):
        r = leaks(ZIG, "clean_step 3", repeat=6, max_growth=0, memcheck=memcheck)
        assert r.ok and r.growth_per_call == 0 and not r.sites and not r.findings
        assert all(i.live_bytes == 0 and i.allocated == i.freed > 0 for i in r.iterations)


def test_zig_double_free_at_the_right_lines():
    r = heap(ZIG, after=["double_free"])
    (f,) = r.findings
    assert f.kind == "double-free"
    assert r.sites[f.site].location == zig_line("DOUBLE_FREE_LINE")
    assert r.sites[f.freed_at].location == zig_line("FIRST_FREE_LINE")
    assert not r.blocks
