"""`--memory-base` (issue 13, PIC): a position-independent module's data placed where the user's loader puts
it, with the layout, the DWARF addresses, the symbols, dump, chase and a run all agreeing on it; refused
with one line for a module with fixed addresses, a misaligned base or one that does not fit."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest
from conftest import sample

import wasmem
from wasmem.api import load_module
from wasmem.cli.main import main

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from differential import compare  # noqa: E402

PIC = sample("pic_dwarf.wasm")
BASE = 0x10000


@pytest.fixture
def run(capsys):
    def go(*argv):
        with pytest.raises(SystemExit) as ei:
            main([str(a) for a in argv])
        out, err = capsys.readouterr()
        return ei.value.code, out + err
    return go


def test_symbols_follow_the_base(run):
    code, out = run("symbols", PIC, "--json", "--memory-base", hex(BASE))
    assert code == 0
    got = {s["name"]: s["address"] for s in json.loads(out)}
    code, out = run("symbols", PIC, "--json")
    default = {s["name"]: s["address"] for s in json.loads(out)}
    assert set(got) == {"counter", "table", "n1", "n2"}
    assert {n: a - BASE for n, a in got.items()} == {n: a - 1024 for n, a in default.items()}


def test_inspect_dump_and_chase_agree_with_symbols(run):
    code, out = run("inspect", PIC, "--json", "--memory-base", str(BASE))
    assert code == 0
    data = [r for r in json.loads(out)["regions"] if r["kind"] == "data"]
    assert [(r["start"], r["end"]) for r in data] == [(BASE, BASE + 48)]
    code, out = run("dump", PIC, "--at", "n1", "--len", "8", "--json", "--memory-base", hex(BASE))
    assert code == 0
    d = json.loads(out)
    assert d["address"] == BASE + 0x28
    # n1 = {1, &n2}: the pointer was relocated by __wasm_apply_data_relocs against the same base
    assert bytes.fromhex(d["hex"].replace(" ", ""))[:8] == (1).to_bytes(4, "little") + (BASE + 0x20).to_bytes(4, "little")
    code, out = run("chase", PIC, "n1", "--memory-base", hex(BASE))
    assert code == 0 and f"{BASE + 0x20:#x} <n2>" in out


def test_call_gives_the_same_answer_as_a_plain_host_with_that_base(run):
    assert wasmem.open(load_module(PIC, memory_base=BASE)).call("get", ["1"]).results == [2 + 7 + 2]
    report = compare(load_module(PIC, memory_base=BASE), [("get", ["0"]), ("get", ["3"])])
    assert report.ok, report.mismatches
    code, out = run("call", PIC, "get", "3", "--memory-base", hex(BASE))
    assert code == 0 and "13" in out


def test_refusals_are_one_line(run):
    for argv, want in [
        (("inspect", sample("memdemo.wasm"), "--memory-base", "0x10000"), "imports no __memory_base"),
        (("symbols", PIC, "--memory-base", "0x10001"), "not a multiple of 16"),
        (("dump", PIC, "--at", "0", "--memory-base", "0xfffffff0"), "ends past the memory's limit"),
        (("call", PIC, "get", "1", "--memory-base", "-5"), "is negative"),
        (("chase", PIC, "n1", "--memory-base", "lots"), "is not a number"),
    ]:
        code, out = run(*argv)
        assert code == 2, (argv, out)
        assert want in out and "Traceback" not in out
