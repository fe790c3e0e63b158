"""`--budget NAME=N` (wasmem.budgets): one option raises or lowers every work budget; whatever a budget cuts is
named in the output with the option that lifts it. Real modules under real wasmtime."""

from __future__ import annotations

import json
import pathlib

import pytest
import wasmtime
from conftest import run_main

import wasmem
from wasmem.budgets import BUDGETS, Budgets, parse_budget
from wasmem.debuginfo import dwarfread
from wasmem.errors import UsageError

ROOT = pathlib.Path(__file__).resolve().parent.parent
HEAPDEMO = str(ROOT / "tests" / "heap" / "data" / "heapdemo.wasm")


def test_parse_names_units_and_suffixes():
    assert parse_budget("dwarf=50M") == ("dwarf", 50_000_000)
    assert parse_budget("Varscan=2_000k") == ("varscan", 2_000_000)
    assert parse_budget("heap-blocks=7") == ("heap-blocks", 7)
    for bad in ("dwarf", "nope=1", "dwarf=0", "dwarf=-1", "dwarf=1.5", "dwarf=1T", f"dwarf={1 << 63}"):
        with pytest.raises(ValueError):
            parse_budget(bad)
    b = Budgets.parse(["dwarf=1", "dwarf=2"])  # a later one of a name wins
    assert b.get("dwarf") == 2 and b.get("varscan") is None and b.value("varscan") == BUDGETS["varscan"].default
    assert b == Budgets({"dwarf": 2}) and hash(b) == hash(Budgets({"dwarf": 2})) and not Budgets()


def test_every_command_that_reads_a_module_has_the_option_and_lists_every_budget():
    from click.testing import CliRunner

    from wasmem.cli.main import cli

    for cmd in ("inspect", "symbols", "stack", "check", "backtrace", "call", "dump", "chase", "heap", "leaks", "watch",
                "view", "shell"):
        out = CliRunner().invoke(cli, [cmd, "--help"], terminal_width=400).output
        assert "--budget NAME=N" in out, cmd
        assert all(name in out for name in BUDGETS), cmd


def test_bad_budgets_are_usage_errors(capsys):
    code, out, err = run_main(capsys, "symbols", HEAPDEMO, "--budget", "dwarf=lots")
    assert code == 2 and "--budget" in err and "whole number of attribute decodes" in err and "Traceback" not in err
    with pytest.raises(UsageError, match="unknown budget 'bogus'"):
        wasmem.load_module(HEAPDEMO, budgets={"bogus": 1})


def test_a_dwarf_cut_is_named_with_the_option_in_symbols_heap_and_call(capsys):
    code, out, _ = run_main(capsys, "symbols", HEAPDEMO, "--budget", "dwarf=100")
    out = " ".join(out.split())
    assert code == 0 and "DWARF not read whole" in out and "--budget dwarf=N" in out
    code, out, err = run_main(capsys, "symbols", HEAPDEMO, "--budget", "dwarf=100", "--json")
    assert code == 0 and json.loads(out) and "raise it with --budget dwarf=N" in err
    code, out, err = run_main(capsys, "heap", HEAPDEMO, "--after", "push 5", "--budget", "dwarf=100", "--json")
    notes = json.loads(out)["notes"]
    assert any("raise it with --budget dwarf=N" in n for n in notes), notes
    assert err.count("--budget dwarf=N") == 1  # said once, not again by the command's epilogue
    code, out, err = run_main(capsys, "call", HEAPDEMO, "push", "5", "--budget", "dwarf=100")
    assert code == 0 and "wasmem: note: DWARF not used" in err and "--budget dwarf=N" in err
    code, out, err = run_main(capsys, "call", HEAPDEMO, "push", "5")
    assert code == 0 and "note" not in err


def test_raising_the_dwarf_budget_gets_the_symbols_back(capsys, monkeypatch):
    """A module whose DWARF is bigger than the default allows (simulated: the default cap lowered to 1,000
    decodes, as a 47 MB debug build meets 2,000,000) gets its DWARF with --budget dwarf=N."""
    monkeypatch.setattr(dwarfread, "MAX_DWARF_DECODES", 1000)
    code, out, _ = run_main(capsys, "symbols", HEAPDEMO)
    out = " ".join(out.split())
    # over the decodes budget: the DWARF index's names, addresses and sizes, no types (issue 25 item 6)
    assert "symbols from dwarf index" in out and "more than 1,000 attribute decodes" in out
    assert "struct Node" not in out
    code, out, _ = run_main(capsys, "symbols", HEAPDEMO, "--budget", "dwarf=10M")
    assert "symbols from dwarf" in out and "DWARF not used" not in out
    code, out, _ = run_main(capsys, "heap", HEAPDEMO, "--after", "push 5", "--budget", "dwarf=10M")
    assert "heapdemo.c:" in out and "struct Node" in out


def test_the_line_table_budget_is_named(capsys):
    """dwarf-read bytes cut the DIE pass (the DWARF) or, when only the line table is over it, the file:line."""
    code, out, err = run_main(capsys, "heap", HEAPDEMO, "--after", "push 5", "--budget", "dwarf-read=100")
    assert "--budget dwarf-read=N" in err and "heapdemo.c:" not in out


def test_the_heap_record_budgets_are_named(capsys):
    after = [a for i in range(1, 5) for a in ("--after", f"push {i}")]
    code, out, err = run_main(capsys, "heap", HEAPDEMO, *after, "--budget", "heap-blocks=2", "--json")
    d = json.loads(out)
    assert d["live_blocks"] == 2 and d["allocations"] == 4
    assert any("more than 2 live blocks" in n and "--budget heap-blocks=N" in n for n in d["notes"]), d["notes"]
    code, out, err = run_main(capsys, "heap", HEAPDEMO, *after, "--after", "pop", "--after", "pop", "--budget",
                              "heap-blocks=2", "--json")
    d = json.loads(out)
    assert code == 0 and not d["findings"]  # a free of a block not kept is no invalid free
    assert d["unjudged"] and all("--budget heap-blocks=N" in u["reason"] for u in d["unjudged"])
    code, out, err = run_main(capsys, "heap", HEAPDEMO, *after, "--json")
    assert json.loads(out)["live_blocks"] == 4 and not json.loads(out)["notes"]
    code, out, err = run_main(capsys, "heap", HEAPDEMO, "--after", "clean_step 1", "--budget", "heap-frees=1", "--json")
    notes = json.loads(out)["notes"]
    assert any("the oldest are forgotten" in n and "--budget heap-frees=N" in n for n in notes), notes


WATCHED = """(module (memory (export "memory") 1) (global $g (export "g") i32 (i32.const 64))
  (func (export "spin") (param $n i32) (local $i i32)
    (loop $l (i32.store (i32.const 64) (local.get $i))
      (local.set $i (i32.add (local.get $i) (i32.const 1))) (br_if $l (i32.lt_u (local.get $i) (local.get $n))))))"""


def test_the_watch_hits_budget_is_named(capsys, tmp_path):
    p = tmp_path / "w.wat"
    p.write_text(WATCHED)
    code, out, err = run_main(capsys, "call", p, "spin", "5", "--watch", "64:4", "--budget", "watch-hits=2")
    assert code == 0 and "3 more hits were counted but not kept" in out and "--budget watch-hits=N" in out
    code, out, err = run_main(capsys, "call", p, "spin", "5", "--watch", "64:4")
    assert code == 0 and "counted but not kept" not in out


def test_the_varscan_budget_is_named_by_inspect():
    path = str(ROOT / "samples" / "bss-far-dwarf.wasm")
    lay = wasmem.inspect(wasmem.load_module(path, budgets={"varscan": 10}))
    (f,) = [f for f in lay.findings if f.code == "dwarf-not-read"]
    assert "over its budget of 10 entries" in f.message and "--budget varscan=N" in f.message
    assert not [f for f in wasmem.inspect(path).findings if f.code == "dwarf-not-read"]


def test_the_varscan_cut_is_named_by_check_and_stack(capsys):
    path = str(ROOT / "samples" / "bss-far-dwarf.wasm")
    code, out, _ = run_main(capsys, "check", path, "--max-data-size", "1000000", "--budget", "varscan=10")
    out = " ".join(out.split())
    assert code == 0 and "without .bss: the DWARF variables scan is over its budget of 10 entries" in out
    assert "--budget varscan=N" in out
    code, out, _ = run_main(capsys, "check", path, "--max-data-size", "1000000")
    assert "proven to there by dwarf" in " ".join(out.split())
    code, out, err = run_main(capsys, "stack", path, "--budget", "varscan=10")
    assert code == 0 and "wasmem: note: the data end does not use the module's DWARF" in err
    assert "--budget varscan=N" in err


def test_the_dwarf_note_suggests_a_budget_from_the_module_size_and_raising_it_raises_the_reads_too():
    from wasmem.debuginfo.dwarfread import MAX_DWARF_READ, READ_PER_DECODE, DwarfBudget

    b = DwarfBudget.for_sizes(27_151_116)  # a 30 MB -O0 build's .debug_info + .debug_abbrev
    assert b.decode_limit == dwarfread.MAX_DWARF_DECODES and b.read_limit == MAX_DWARF_READ
    with pytest.raises(dwarfread.DwarfLimitExceeded, match=r"--budget dwarf=28M should do"):
        b.charge(b.decode_limit + 1)
    raised = DwarfBudget.for_sizes(27_151_116, decodes=28_000_000)
    assert raised.read_limit == READ_PER_DECODE * 28_000_000  # one option lifts both
    assert DwarfBudget.for_sizes(100, decodes=28_000_000, read=5).read_limit == 5
    assert DwarfBudget.for_sizes(1000, decodes=10).read_limit == MAX_DWARF_READ  # never below the default
    enough = DwarfBudget.for_sizes(1000, decodes=100_000)
    with pytest.raises(dwarfread.DwarfLimitExceeded) as ei:
        enough.charge(100_001)
    assert "should do" not in ei.value.message  # no suggestion when the budget was already above the size's


def test_the_validate_budget_decides_which_bodies_are_decoded_and_inspect_says_so(capsys, tmp_path):
    """A body with a bad opcode inside a well-terminated body: found when the bodies are decoded (within the
    budget), and past it inspect says that bodies were not decoded in full, naming the option."""
    from wasmem.parser.encode import encode_section

    body = b"\x00\xff\x0b"  # no locals; an opcode that does not exist; end
    data = (b"\0asm\x01\0\0\0" + encode_section(1, b"\x01\x60\x00\x00") + encode_section(3, b"\x01\x00")
            + encode_section(10, b"\x01" + bytes([len(body)]) + body))
    p = tmp_path / "bad.wasm"
    p.write_bytes(data)
    code, out, err = run_main(capsys, "inspect", p)
    assert code == 2 and "wasmem: error:" in err
    code, out, err = run_main(capsys, "inspect", p, "--budget", "validate=2")
    assert code == 0 and "not decoded in full" in err and "--budget validate=N" in err
    code, out, err = run_main(capsys, "inspect", p, "--budget", "validate=1M")
    assert code == 2


def test_the_chase_words_budget_is_named(capsys):
    memdemo = str(ROOT / "samples" / "memdemo.wasm")
    code, out, err = run_main(capsys, "chase", memdemo, "0x400", "--len", "64", "--budget", "chase-words=5")
    assert code == 0 and "… (the chase-words budget: --budget chase-words=N)" in out
    assert "the chase stopped at 5 words" in err and "raise it with --budget chase-words=N" in err
    code, out, err = run_main(capsys, "chase", memdemo, "0x400", "--len", "64", "--json")
    assert code == 0 and "chase-words" not in err and "truncated" not in json.loads(out)["words"]


def test_the_frame_variables_budget_is_named(tmp_path):
    from coredump_util import CRASH_CORE, CRASH_WASM

    from wasmem.api import backtrace, load_module
    from wasmem.model.coredump import read_coredump
    from wasmem.parser.coredump import CoreFrame, CoreThread, MemorySpec, write_coredump

    core = read_coredump(load_module(CRASH_CORE))
    m = core.memories[0]
    path = tmp_path / "deep.core"
    with open(path, "wb") as f:
        write_coredump(f, name="crash.wasm", memories=[MemorySpec(m.pages, m.read)],
                       globals=[(t, False, v) for t, v in core.globals], modules=["crash.wasm"],
                       instances=list(core.sections.instances),
                       threads=[CoreThread("main", tuple(CoreFrame(0, 1, 0x25, (), (), 0) for _ in range(30)))])
    assert backtrace(str(path), CRASH_WASM).symbols_from.startswith("dwarf")
    assert not [n for n in backtrace(str(path), CRASH_WASM).notes if "frame-variables" in n]
    bt = backtrace(str(path), load_module(CRASH_WASM, budgets={"frame-variables": 10}))
    assert any("youngest 10 of 30 frames" in n and "--budget frame-variables=N" in n for n in bt.notes), bt.notes


def test_the_stack_names_budget_is_named(capsys, tmp_path):
    """stack's lists per entry point name the imports (and dynamic frames) it reaches one by one up to the
    stack-names budget; past it the note names the option, and raising it names them all."""
    imports = "".join(f'(import "env" "f{i}" (func $f{i}))' for i in range(6))
    calls = "".join(f"(call $f{i})" for i in range(6))
    p = tmp_path / "imports.wasm"
    p.write_bytes(wasmtime.wat2wasm(
        f'(module {imports} (memory (export "memory") 1) (func (export "run") {calls}))'))
    code, out, err = run_main(capsys, "stack", p, "--budget", "stack-names=2", "--json")
    assert code == 0, err
    notes = json.loads(out)["notes"]
    assert any("more than 2 imports" in n and "--budget stack-names=N" in n for n in notes), notes
    code, out, err = run_main(capsys, "stack", p, "--json")
    assert code == 0 and not any("stack-names" in n for n in json.loads(out)["notes"])
