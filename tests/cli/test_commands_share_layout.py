"""`check` and `stack` use the layout `inspect` shows, DWARF's .bss facts included (issue 13: two commands
never disagree about where the data ends)."""

from __future__ import annotations

import json

import pytest
from conftest import run_main, sample


@pytest.mark.parametrize("name", ["bss-far-dwarf.wasm", "bss-far-got.wasm"])
def test_check_measures_the_data_inspect_shows(capsys, name):
    code, out, _ = run_main(capsys, "inspect", sample(name), "--json")
    lay = json.loads(out)
    start, end = lay["data"]["start"], lay["data"]["end"]
    assert lay["data"]["end_exact"] is False and end - start > 40000  # .bss proven far above the last segment
    code, out, _ = run_main(capsys, "check", sample(name), "--max-data-size", "100", "--format", "json")
    (r,) = json.loads(out)["modules"][0]["results"]
    assert code == 1 and r["measured"] == end - start
    assert "at least" in r["message"] and "proven to there by" in r["message"]


def test_stack_uses_the_same_stack_bounds(capsys):
    code, out, _ = run_main(capsys, "inspect", sample("bss-far-dwarf.wasm"), "--json")
    lay = json.loads(out)
    code, out, _ = run_main(capsys, "stack", sample("bss-far-dwarf.wasm"), "--json")
    st = json.loads(out)
    assert code == 0
    assert (st["stack"]["low"], st["stack"]["high"]) == (lay["stack"]["low"], lay["stack"]["high"])
    assert lay["data"]["end_source"] == "dwarf" and st["stack"]["low"] == lay["data"]["end"]
