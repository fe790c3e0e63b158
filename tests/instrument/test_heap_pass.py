"""The heap pass on its own (instrument/heap.py): the rewritten module validates, keeps every export's name
and type (the allocator's exports now reach a wrapper), rewrites each direct call and tail call of an
allocator into a site, and a plain host that never turns the log on sees no difference."""

from __future__ import annotations

from pathlib import Path

import wasmtime

from wasmem.instrument import rewrite
from wasmem.instrument.heap import CAPACITY, HOOK_TABLE_EXPORT, HeapPass
from wasmem.instrument.memcheck import MemcheckPass
from wasmem.model.allocators import find_allocators
from wasmem.parser import WasmModule

DATA = Path(__file__).resolve().parents[1] / "heap" / "data"


def _pass(name):
    data = (DATA / name).read_bytes()
    m = WasmModule.from_bytes(data)
    return data, m, HeapPass(find_allocators(m).functions)


def test_exports_keep_their_names_and_types_and_sites_are_numbered():
    data, m, hp = _pass("rust_heap.wasm")
    out = WasmModule.from_bytes(rewrite(data, [hp]).data)
    for e in m.exports:
        e2 = out.find_export(e.name)
        assert e2 is not None and e2.kind == e.kind
        if e.kind == "func":
            assert out.get_function_type(e2.index) == m.get_function_type(e.index)
    assert out.find_export(HOOK_TABLE_EXPORT) is not None
    names = m.names.functions
    callers = {names[s.func_index] for s in hp.sites}
    assert {"leak", "clean", "bad_size", "twice", "drop_tail"} <= callers  # drop_tail: a return_call
    # the program calls the __rust_* shims; the shims' own calls (of the __rdl_* they forward to, of each
    # other in __rust_realloc) are sites too, nested (never counted)
    assert all(hp.allocators[s.allocator].name.startswith("__rust_") for s in hp.sites
               if not names[s.func_index].startswith("__rust_"))
    assert {names[s.func_index] for s in hp.sites if hp.allocators[s.allocator].name.startswith("__rdl_")} == {
        "__rust_alloc", "__rust_dealloc", "__rust_alloc_zeroed"}
    wasmtime.Module(wasmtime.Engine(), rewrite(data, [hp]).data)  # validates


def test_redirected_export_of_malloc_and_memcheck_validate_and_run_unobserved():
    data, m, hp = _pass("heapdemo.wasm")
    rw = rewrite(data, [hp, MemcheckPass(hp)])
    e = WasmModule.from_bytes(rw.data).find_export("malloc")
    assert e.index >= m.num_functions  # the appended entry wrapper
    assert hp.exported and any("malloc" in names for names in hp.exported.values())
    engine = wasmtime.Engine()
    store = wasmtime.Store(engine)
    linker = wasmtime.Linker(engine)
    linker.define_wasi()
    store.set_wasi(wasmtime.WasiConfig())
    inst = linker.instantiate(store, wasmtime.Module(engine, rw.data))
    ex = inst.exports(store)
    ex["_initialize"](store)
    # nobody reads the log (the hook table is empty): it records until it is full, then drops its last
    # record and counts it as lost, and the program runs on unchanged
    p = ex["malloc"](store, 24)
    assert p and ex["leak_step"](store, 3) == 3
    # the two 24-byte blocks wait in the table of pending allocations; the 100-byte one did too, and was
    # settled in wasm by its free: nothing about them is logged
    assert ex["__wasmem_heap_pending"].value(store) >= 2 and ex["__wasmem_heap_cancelled"].value(store) == 1
    count = ex["__wasmem_heap_count"].value(store)
    assert ex["leak_step"](store, 4) == 4 and ex["__wasmem_heap_count"].value(store) == count
    for i in range(7000):
        assert ex["leak_step"](store, i % 100) == i % 100
    assert ex["__wasmem_heap_count"].value(store) == CAPACITY - 1  # the record that filled it is the one dropped
    assert ex["__wasmem_heap_lost"].value(store) > 0


def test_blocks_that_live_a_while_are_settled_in_wasm_too():
    """A ring of 64 live buffers, each freed 64 allocations later: every free finds its block in the table of
    pending allocations, so nothing reaches the log (the host reads nothing per pair); the tracker's counts
    stay exact."""
    from wasmem.app.heap import heap_report

    path = DATA / "ring.wasm"
    data = path.read_bytes()
    m = WasmModule.from_bytes(data)
    hp = HeapPass(find_allocators(m).functions)
    engine = wasmtime.Engine()
    store = wasmtime.Store(engine)
    ex = wasmtime.Instance(store, wasmtime.Module(engine, rewrite(data, [hp]).data), []).exports(store)
    ex["ring"](store, 3000)
    assert ex["__wasmem_heap_count"].value(store) == 0 and ex["__wasmem_heap_cancelled"].value(store) == 3000 - 64
    report, session = heap_report(str(path), after=["ring 3000"])
    session.close()
    assert (report.allocations, report.frees, len(report.blocks), report.findings) == (3000, 2936, 64, [])
