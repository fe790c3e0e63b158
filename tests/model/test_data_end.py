"""Where the data really ends: every source with its provenance, and one answer for every command."""

import json

from click.testing import CliRunner
from conftest import sample, wat

import wasmem
from wasmem.app import layout_facts
from wasmem.cli.main import cli
from wasmem.debuginfo import load_symbols
from wasmem.model.layout import analyze, layout_to_dict, paint_safety
from wasmem.parser import WasmModule

TAIL, TAIL_END, BIG = 0xA060, 0xA070, 0x420  # bss_far.c: big[40000] at 0x420, tail[16] after it


def test_got_data_internal_globals_prove_the_bss():
    lay = wasmem.inspect(sample("bss-far-got.wasm"))
    assert lay.layout_kind == "data-first" and "__data_end" not in lay.linker_symbols
    assert max(s.end for s in lay.segments) == 0x410  # the file alone says 0x410
    assert (lay.data_end, lay.data_end_exact, lay.data_end_source) == (TAIL + 1, False, "GOT.data.internal")
    fact = next(f for f in lay.data_end_facts if f.source == "GOT.data.internal")
    assert "GOT.data.internal.tail = 0xa060" in fact.detail and fact.bound == "at-least"
    assert lay.stack_low == TAIL + 16 and not lay.stack_exact  # above the proven .bss, still a bound
    bss = [r for r in lay.regions if r.kind == "data" and r.label.startswith(".bss")]
    assert [(r.start, r.end) for r in bss] == [(0x410, TAIL + 1)]
    assert {g.name: g.kind for g in lay.globals}["GOT.data.internal.tail"] == "address"


def test_dwarf_variables_prove_the_bss_and_every_command_agrees():
    path = sample("bss-far-dwarf.wasm")
    lay = wasmem.inspect(path)
    assert (lay.data_end, lay.data_end_source, lay.stack_low) == (TAIL_END, "dwarf", TAIL_END)
    assert "tail occupies [0xa060, 0xa070)" in next(f.detail for f in lay.data_end_facts if f.source == "dwarf")
    assert lay.region_at(TAIL).kind == "data" and lay.region_at(BIG + 100).kind == "data"
    # without the DWARF facts the same module puts tail in the "stack (estimate)"
    plain = analyze(WasmModule.from_file(path))
    assert plain.region_at(TAIL).kind == "stack" and not plain.region_at(TAIL).exact
    # symbols, the runtime's regions (dump, chase) and inspect share one model
    table = load_symbols(WasmModule.from_file(path))
    assert table.region_of(TAIL) == "bss" and table.layout.data_end == TAIL_END
    rt_layout, _, stack_range, regions = layout_facts(WasmModule.from_file(path))
    assert stack_range == (TAIL_END, lay.stack_high)
    assert next(r for r in regions if r.start <= TAIL < r.end).kind == "data"
    assert not paint_safety(rt_layout, stack_range)[0]  # still an estimate: never painted


def test_json_and_text_carry_the_source():
    r = CliRunner().invoke(cli, ["inspect", sample("bss-far-dwarf.wasm"), "--json"])
    d = json.loads(r.output)["data"]
    assert (d["end"], d["end_exact"], d["end_source"]) == (TAIL_END, False, "dwarf")
    assert {f["source"] for f in d["end_facts"]} == {"segments", "dwarf"}
    r = CliRunner().invoke(cli, ["inspect", sample("bss-far-got.wasm")])
    assert "data end      0x0000a061 at least (from GOT.data.internal)" in r.output


def test_data_end_and_heap_base_close_the_bss():
    d = layout_to_dict(wasmem.inspect(sample("memdemo.wasm")))["data"]
    assert (d["end"], d["end_source"], d["end_exact"]) == (65728, "__data_end", True)
    lay = analyze(WasmModule.from_bytes(wat("""(module (memory (export "memory") 2)
      (global $__stack_pointer (mut i32) (i32.const 65536))
      (global (export "__heap_base") i32 (i32.const 66000)) (data (i32.const 65536) "0123"))""")))
    assert (lay.data_end, lay.data_end_exact, lay.data_end_source) == (66000, True, "__heap_base")
    lay = analyze(WasmModule.from_bytes(wat("""(module (memory (export "memory") 1)
      (global $__stack_pointer (mut i32) (i32.const 9216))
      (global (export "__stack_low") i32 (i32.const 1200)) (data (i32.const 1024) "0123"))""")))
    assert (lay.layout_kind, lay.data_end, lay.data_end_source) == ("data-first", 1200, "__stack_low")
    assert lay.stack_exact and (lay.stack_low, lay.stack_high) == (1200, 9216)


def test_wasm_init_memory_zero_fills_are_a_source():
    lay = analyze(WasmModule.from_bytes(wat("""(module (memory (export "memory") 2 2 shared)
      (global $__stack_pointer (mut i32) (i32.const 9216))
      (func $__wasm_init_memory
        i32.const 1024 i32.const 0 i32.const 4 memory.init 0
        i32.const 1028 i32.const 0 i32.const 3000 memory.fill
        data.drop 0)
      (start $__wasm_init_memory) (data "abcd"))""")))
    assert (lay.data_end, lay.data_end_source) == (4028, "__wasm_init_memory")
    assert "zero-fills [0x404, 0xfbc)" in lay.data_end_facts[-1].detail
    assert lay.stack_low == 4032


def test_a_module_with_only_bss_places_its_stack_against_the_dwarf_variables():
    """watchseq.wasm stores no data in the file (all of it is .bss): the lowest DWARF variable is where the
    data starts, so the layout is stack-first (not "unknown") and the .bss is data, not "unused"."""
    lay = wasmem.inspect(sample("watchseq.wasm"))
    assert not lay.segments or all(s.size == 0 for s in lay.segments)
    assert lay.layout_kind == "stack-first" and lay.data_start == lay.stack_high == 0x10000
    (bss,) = [r for r in lay.regions if r.kind == "data"]
    assert (bss.start, bss.end) == (0x10000, lay.data_end) and "proven to here by dwarf" in bss.label
