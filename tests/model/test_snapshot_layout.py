"""Snapshot (pre-initialised) modules: data inside the stack region is the stack's contents at
snapshot time (Wizer), not an overlap — the layout stays stack-first with its real 16 MiB stack."""

import json

from click.testing import CliRunner
from conftest import sample, wat

import wasmem
from wasmem.app import layout_facts
from wasmem.cli.main import cli
from wasmem.model.layout import analyze, paint_safety
from wasmem.parser import WasmModule

TOP = 0x1000000


def test_snapshot_is_stack_first_with_preinitialised_contents():
    lay = wasmem.inspect(sample("snapshot.wasm"))
    assert lay.layout_kind == "stack-first"
    assert (lay.stack_low, lay.stack_high, lay.stack_size, lay.stack_exact) == (0, TOP, 16 * 1024 * 1024, True)
    assert lay.preinitialised == [(0xFFF000, 0xFFF00C), (0xFFFFC0, TOP)]
    assert "pre-initialised stack contents (a snapshot, e.g. Wizer)" in lay.stack_reason
    codes = {f.code: f for f in lay.findings}
    assert "stack-data-overlap" not in codes and "small-stack" not in codes
    assert codes["pre-initialised-stack"].severity == "info"
    assert not any(f.severity == "error" for f in lay.findings)
    assert lay.data_start == TOP and lay.data_end == 0x100010A
    stack = [r for r in lay.regions if r.kind == "stack"]
    assert [(r.start, r.end) for r in stack] == [(0, TOP)] and "pre-initialised" in stack[0].label
    assert lay.region_at(0xFFFFC0).kind == "stack" and lay.region_at(TOP).kind == "data"


def test_snapshot_json_text_and_check():
    d = json.loads(CliRunner().invoke(cli, ["inspect", sample("snapshot.wasm"), "--json"]).output)
    assert d["layout"]["kind"] == "stack-first" and d["stack"]["size"] == 16 * 1024 * 1024
    assert d["stack"]["preinitialised"] == [{"start": 0xFFF000, "end": 0xFFF00C}, {"start": 0xFFFFC0, "end": TOP}]
    text = CliRunner().invoke(cli, ["inspect", sample("snapshot.wasm")]).output
    assert "16 MiB (16777216 bytes)" in text and "overlap" not in text
    r = CliRunner().invoke(cli, ["check", sample("snapshot.wasm"), "--no-config", "--require-stack-first",
                                 "--min-stack-size", str(16 * 1024 * 1024), "--max-data-size", "4096"])
    assert r.exit_code == 0, r.output


def test_snapshot_stack_is_not_painted():
    lay, _, stack_range, _ = layout_facts(WasmModule.from_file(sample("snapshot.wasm")))
    ok, why = paint_safety(lay, stack_range)
    assert not ok and "inside the stack range" in why


def test_an_unaligned_stack_pointer_inside_the_data_is_still_an_overlap():
    lay = analyze(WasmModule.from_bytes(wat("""(module (memory (export "memory") 1)
      (global $__stack_pointer (mut i32) (i32.const 1030)) (data (i32.const 1024) "static data here"))""")))
    assert lay.layout_kind == "overlap" and "stack-data-overlap" in {f.code for f in lay.findings}
