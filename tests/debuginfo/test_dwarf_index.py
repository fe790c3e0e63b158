"""The DWARF index (dwindex.py), its disk cache (dwcache.py) and reading one unit at a time (dwlazy.py): the right
unit found by address and by name, only the units a question needs parsed, the same answers as the full reading,
the cache used on a second run and surviving damage, and no DWARF read by commands that show none of it."""

from __future__ import annotations

import glob
import json
import os

import pytest

from tests.conftest import run_main, sample
from wasmem.debuginfo import dwcache, load_debug_info, load_symbols
from wasmem.debuginfo.dwindex import DwarfIndex, build_index, stats
from wasmem.parser.module import WasmModule

HEAPBUGS = "heapbugs.wasm"  # 13 units: the committed sample with the most
DWARF_SAMPLES = ["heapbugs.wasm", "memdemo-debug.wasm", "memdemo-dwarf5.wasm", "watchdemo.wasm", "watchseq.wasm",
                 "bss-far-dwarf.wasm"]


def fresh(name: str) -> WasmModule:
    return WasmModule.from_file(sample(name))


def unit_names(debug) -> dict[int, str]:
    """unit offset → the unit's DW_AT_name, through pyelftools (the truth the index is checked against)."""
    out = {}
    for cu in debug.dwarfinfo.iter_CUs():
        top = cu.get_top_DIE()
        a = top.attributes.get("DW_AT_name")
        out[cu.cu_offset] = a.value.decode() if a is not None else None
    return out


@pytest.mark.parametrize("name", DWARF_SAMPLES)
def test_the_index_finds_each_function_and_variable_in_its_unit(name):
    m = fresh(name)
    full = load_debug_info(m)
    full.load()
    units = unit_names(full)
    index = build_index(m)
    assert [u[0] for u in index.units] == sorted(units)
    assert full.functions and [(f.address, f.address + f.size, f.name) for f in full.functions] == \
        [(lo, hi, n) for lo, hi, n, _u in index.functions]
    for f in full.functions:  # by address: every byte of the function, and by name
        for at in (f.address, f.address + max(f.size - 1, 0)):
            got = index.function_at(at)
            assert got is not None and units[got[3]] == f.compile_unit and got[2] == f.name
        assert any(units[u] == f.compile_unit for u in index.units_of_function(f.name))
    for v in full.variables:
        assert [units[u] for u in index.units_of_variable(v.display_name)].count(v.compile_unit) == 1
        assert v.compile_unit in {units[u] for u in index.variable_at(v.address)}
    assert index.function_at(0) is None and index.variable_at(0xFFFFFFF0) == []


def test_heapbugs_has_units_enough_to_tell():
    assert len(build_index(fresh(HEAPBUGS)).units) >= 10


@pytest.mark.parametrize("name", DWARF_SAMPLES)
def test_one_unit_gives_the_full_readings_answers(name):
    """The function of each export, the line of every function's first bytes and each frame's variables: the same
    read one unit at a time as read whole (a fresh module object each, so neither reading sees the other's)."""
    lazy = load_symbols(fresh(name))
    full = load_symbols(fresh(name))
    assert full.has_dwarf
    whole = {f.func_index: f for f in full.debug_info.functions}
    for e in lazy.module.exports:
        if e.kind != "func":
            continue
        got, want = lazy.dwarf_function(e.index), whole.get(e.index)
        assert (got is None) == (want is None)
        if want is not None:
            assert (got.name, got.address, got.size, got.type_name, got.file, got.line) == \
                (want.name, want.address, want.size, want.type_name, want.file, want.line)
    fd = full.debug_info
    ld = load_debug_info(lazy.module)
    for f in fd.functions:
        for at in (f.address, f.address + 1, f.address + f.size // 2):
            assert lazy.location_of(at) == full.location_of(at)
            assert [(n, k, t.name if t else None, p) for n, k, t, p in ld.frame_variables(at)] == \
                [(n, k, t.name if t else None, p) for n, k, t, p in fd.frame_variables(at)]
    assert ld.lazy  # all of it answered without the full reading


def test_only_the_units_a_question_needs_are_parsed():
    m = fresh(HEAPBUGS)
    t = load_symbols(m)
    d = load_debug_info(m)
    assert d.units_parsed == 0
    f = t.dwarf_function(m.find_export("overflow_heap").index)
    assert f.name == "overflow_heap" and f.file.endswith("heapbugs.c")
    assert d.units_parsed == 1  # its unit (and no unit a reference leads to: C units refer to their own DIEs)
    assert t.location_of(f.address + 1) is not None and d.units_parsed == 1  # the same unit's line table
    n = len(build_index(m).units)
    assert len(t.functions) > 1  # the listing reads every unit, once, in order
    assert d.units_parsed == 1 + n and not d.lazy


def test_the_budget_refusal_is_decided_before_any_unit_is_read(monkeypatch):
    from wasmem.debuginfo import dwarfread

    monkeypatch.setattr(dwarfread, "MAX_DWARF_DECODES", 1000)
    m = fresh(HEAPBUGS)
    t = load_symbols(m)
    before = stats["units_parsed"]
    assert t.debug_info is None and "more than 1,000 attribute decodes" in t.dwarf_error
    assert stats["units_parsed"] == before  # refused from the index's count, not after the work
    assert t.index_only and {f.name for f in t.functions} >= {"overflow_heap", "clean_heap"}


def test_the_disk_cache_is_used_on_the_second_run(tmp_path, monkeypatch):
    monkeypatch.setenv("WASMEM_DWARF_CACHE", str(tmp_path / "c"))
    first = load_symbols(fresh(HEAPBUGS)).dwarf_index
    files = glob.glob(str(tmp_path / "c" / "*.json.z"))
    assert len(files) == 1
    scans, hits = stats["scans"], stats["hits"]
    second = load_symbols(fresh(HEAPBUGS)).dwarf_index  # a new module object: only the disk remembers
    assert stats["scans"] == scans and stats["hits"] == hits + 1
    assert second.to_json() == first.to_json()


@pytest.mark.parametrize("damage", [b"", b"not zlib at all", b"x\x9c\x03\x00\x00\x00\x00\x01",
                                    "zlib-json-of-another-shape", "zlib-wrong-format"])
def test_a_damaged_cache_file_is_ignored_and_rebuilt(tmp_path, monkeypatch, capsys, damage):
    import zlib

    monkeypatch.setenv("WASMEM_DWARF_CACHE", str(tmp_path / "c"))
    want = build_index(fresh(HEAPBUGS)).to_json()
    _ = load_symbols(fresh(HEAPBUGS)).dwarf_index  # builds and writes the index
    (path,) = glob.glob(str(tmp_path / "c" / "*.json.z"))
    if damage == "zlib-json-of-another-shape":
        damage = zlib.compress(json.dumps({"format": 1, "units": [[1]], "functions": "x"}).encode())
    elif damage == "zlib-wrong-format":
        damage = zlib.compress(json.dumps({**want, "format": -1}).encode())
    with open(path, "wb") as f:
        f.write(damage)
    rejected = stats["rejected"]
    assert load_symbols(fresh(HEAPBUGS)).dwarf_index.to_json() == want
    assert stats["rejected"] == rejected + (1 if damage else 1)
    code, out, err = run_main(capsys, "symbols", sample(HEAPBUGS), "--functions")  # and through the CLI
    assert code == 0 and "Traceback" not in err and "overflow_heap" in out


def test_the_cache_is_bounded_and_can_be_off(tmp_path, monkeypatch):
    d = tmp_path / "c"
    d.mkdir()
    for i in range(5):
        (d / f"{i:064x}.json.z").write_bytes(b"x" * 100)
        os.utime(d / f"{i:064x}.json.z", (1000 + i, 1000 + i))
    dwcache.trim(str(d), max_files=3)
    assert sorted(p.name[:1] for p in d.iterdir()) == ["0", "0", "0"] and not (d / f"{0:064x}.json.z").exists()
    dwcache.trim(str(d), max_bytes=150)
    assert len(list(d.iterdir())) == 1
    monkeypatch.setenv("WASMEM_DWARF_CACHE", "off")
    assert dwcache.cache_dir() is None and not dwcache.store("k", DwarfIndex())
    assert load_symbols(fresh(HEAPBUGS)).dwarf_index is not None  # still indexed, in memory only


def test_a_changed_module_is_a_new_key():
    m = fresh(HEAPBUGS)
    assert dwcache.content_key(m.data) != dwcache.content_key(bytes(m.data) + b"\0")
    assert dwcache.content_key(m.data, "(1024, 0)") != dwcache.content_key(m.data, "(4096, 0)")


def test_commands_that_show_no_dwarf_read_none(capsys):
    """inspect of a module that exports __data_end, and a call whose result cannot be a struct and is no
    address: no index scan, no unit parsed."""
    path = sample("memdemo-debug.wasm")
    scans, units = stats["scans"], stats["units_parsed"]
    code, out, err = run_main(capsys, "inspect", path, "--json")
    assert code == 0 and json.loads(out)
    code, out, err = run_main(capsys, "stack", path)
    assert code == 0
    assert (stats["scans"], stats["units_parsed"]) == (scans, units)
    code, out, err = run_main(capsys, "call", path, "divide", "7", "0")  # traps: its frames get file:line
    assert "memdemo" in out + err
    assert stats["units_parsed"] - units == 1  # the trapping function's unit, not all of them


@pytest.mark.parametrize("name", DWARF_SAMPLES)
def test_labels_from_the_index_are_the_full_readings(name):
    """``<sym+off>`` labels before the DWARF is read whole come from the index, and read nothing else."""
    lazy = load_symbols(fresh(name))
    full = load_symbols(fresh(name))
    assert full.has_dwarf
    addrs = {a for s in full.data_symbols for a in (s.address - 1, s.address, s.address + 1,
                                                     s.address + (s.size or 1) - 1, s.address + (s.size or 0))}
    units = stats["units_parsed"]
    assert [lazy.label(a) for a in sorted(addrs)] == [full.label(a) for a in sorted(addrs)]
    assert stats["units_parsed"] == units and load_debug_info(lazy.module).units_parsed == 0


@pytest.mark.parametrize("name", DWARF_SAMPLES)
def test_the_layout_from_the_index_is_the_full_readings(name):
    lazy = load_symbols(fresh(name))
    full = load_symbols(fresh(name))
    assert full.has_dwarf
    from wasmem.model.layout import layout_to_dict

    assert layout_to_dict(lazy.layout) == layout_to_dict(full.layout)
    assert load_debug_info(lazy.module).units_parsed == 0


def test_a_calls_range_labels_come_from_the_index(capsys):
    """The changed ranges of a call are labelled by the variables they fall in (app/targets.py's
    range_labeler) from the DWARF index: labelling reads no unit (it once read the whole DWARF: 74% of a warm
    `call yosys.wasm _start`)."""
    path = sample("memdemo-debug.wasm")
    units = stats["units_parsed"]
    code, out, err = run_main(capsys, "call", path, "allocate", "16", "--json")
    assert code == 0, err
    labels = [c.get("label") for c in json.loads(out)["changes"]]
    assert labels == ["call_counter, free_list +1 more (.bss)"]  # call_counter, free_list, heap_top
    assert stats["units_parsed"] - units == 1  # allocate's own unit (does it return a struct?), no other
