"""The fast variables-only DWARF scan (issue 13: `inspect` uses the DWARF of any size for the data end)
finds exactly the variables the full reading lists — names, addresses and sizes — on every DWARF
fixture, and stays bounded on hostile DWARF."""

from __future__ import annotations

import glob
import time
from pathlib import Path

import dwarf_gen as gen
import pytest

import wasmem
from wasmem.debuginfo import layout as dlayout
from wasmem.debuginfo import varscan
from wasmem.debuginfo.symbols import load_debug_info
from wasmem.errors import ParseError
from wasmem.model.globalvalues import global_value
from wasmem.parser import WasmModule

ROOT = Path(__file__).resolve().parents[2]
FIXTURES = sorted(p for p in glob.glob(str(ROOT / "samples" / "*.wasm")) + glob.glob(str(ROOT / "tests" / "**" / "*.wasm"),
                                                                                    recursive=True)
                  if b".debug_info" in Path(p).read_bytes())


def full(module):
    d = load_debug_info(module)
    d.load()
    return [(v.display_name, v.address, v.size) for v in d.variables]


def fast(module, **kw):
    return varscan.scan_variables(module, lambda i: global_value(module, i), **kw)


def test_there_are_fixtures_of_every_kind():
    names = {Path(p).name for p in FIXTURES}
    # DWARF 4 and 5, PIC (DW_OP_WASM_location + __memory_base), function statics, .bss beyond the data
    assert {"globals-dwarf4.wasm", "globals-dwarf5.wasm", "pic_dwarf.wasm", "bss-far-dwarf.wasm",
            "memdemo-debug.wasm"} <= names


@pytest.mark.parametrize("path", FIXTURES, ids=lambda p: Path(p).name)
def test_the_scan_lists_what_the_full_reading_lists(path):
    m = WasmModule.from_file(path)
    want = full(m)
    assert want, "a fixture without variables proves nothing"
    assert fast(m) == want


def test_function_statics_and_pic_addresses():
    m = WasmModule.from_file(str(ROOT / "tests" / "debuginfo" / "data" / "globals-dwarf5.wasm"))
    got = {n: (a, s) for n, a, s in fast(m)}
    assert "next_id::id_counter" in got and got["next_id::id_counter"][1] == 4
    pic = WasmModule.from_file(str(ROOT / "samples" / "pic_dwarf.wasm"))
    assert fast(pic) == full(pic) and all(a >= global_value(pic, 1) or a > 0 for _n, a, _s in fast(pic))


HOSTILE = {
    "typedef_cycle": gen.typedef_cycle, "const_cycle": gen.const_cycle, "self_array": gen.self_array,
    "self_struct": gen.self_struct, "deep_namespaces": gen.deep_namespaces,
    "many_dimensions": gen.many_dimensions, "pointer_chain": lambda: gen.pointer_chain(5000, every=100),
    "spec_cycle": gen.spec_cycle, "sibling_loop": gen.sibling_loop, "huge_numbers": gen.huge_numbers,
    "leb_bomb": gen.leb_bomb, "attribute_bomb_400k": lambda: gen.attribute_bomb(400_000),
    "attribute_bomb_400k_k256": lambda: gen.attribute_bomb(400_000, 256),
}


@pytest.mark.parametrize("case", list(HOSTILE))
def test_hostile_dwarf_is_bounded_and_agrees_where_the_full_reading_finishes(case):
    m = WasmModule.from_bytes(HOSTILE[case](), f"{case}.wasm")
    t0 = time.process_time()  # this process's CPU time: a loaded machine does not make the scan look slow
    try:
        got = fast(m)
    except ParseError:
        got = None
    took = time.process_time() - t0
    assert took < 5.0
    try:
        want = full(m)
    except ParseError:
        return  # the full reading refuses it (over budget, damaged); symbols then uses the name section
    assert got == want


def test_a_type_loop_or_a_too_deep_type_has_no_size():
    for make in (gen.typedef_cycle, gen.self_array):
        m = WasmModule.from_bytes(make(), "x.wasm")
        assert all(size is None for _n, _a, size in fast(m))


def test_the_budget_stops_the_scan_at_an_exact_count():
    m = WasmModule.from_file(str(ROOT / "tests" / "debuginfo" / "data" / "globals-dwarf4.wasm"))
    sections = {s.name: bytes(m.data[s.start:s.end]) for s in m.debug_sections}
    scan = varscan.VariableScan(sections)
    assert scan.variables() == fast(m)
    walked = scan.entries
    assert 0 < walked < varscan.MAX_SCAN_ENTRIES
    assert fast(m, entries=walked) == fast(m)  # exactly enough
    with pytest.raises(varscan.VariableScanOverBudget, match=f"over its budget of {walked - 1:,} entries"):
        fast(m, entries=walked - 1)


def test_no_clock_is_read(monkeypatch):
    """The scan counts work: a clock that jumps an hour at every reading (a very slow machine) changes nothing."""
    m = WasmModule.from_file(str(ROOT / "samples" / "bss-far-dwarf.wasm"))
    want = fast(m)
    clock = iter(range(0, 10**9, 3600))
    for name in ("monotonic", "perf_counter", "time", "process_time"):
        monkeypatch.setattr(time, name, lambda: float(next(clock)))
    assert fast(m) == want and want


def test_inspect_uses_the_scan_and_says_when_it_was_over_budget(monkeypatch):
    path = str(ROOT / "samples" / "bss-far-dwarf.wasm")
    lay = wasmem.inspect(path)
    assert lay.data_end_source == "dwarf" and not [f for f in lay.findings if f.code == "dwarf-not-read"]
    monkeypatch.setattr(varscan, "MAX_SCAN_ENTRIES", 10)
    lay = wasmem.inspect(path)
    (f,) = [f for f in lay.findings if f.code == "dwarf-not-read"]
    assert "over its budget of 10 entries" in f.message and "symbols, dump and chase read it" in f.message
    assert lay.data_end_source != "dwarf"
    assert dlayout.analyze_layout  # the one entry point commands share
