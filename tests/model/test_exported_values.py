"""Exported immutable globals are addresses or values; values never label memory."""

import json

from click.testing import CliRunner
from conftest import sample

import wasmem
from wasmem.app import pointer_note, row_labeler
from wasmem.cli.main import cli
from wasmem.debuginfo import load_symbols
from wasmem.model.chase import MemoryMap
from wasmem.parser import WasmModule

VALUES = {"ARRAY_LENGTH": 16, "PAGES": 2, "CLASS_ID": 4, "BLOCK_SIZE": 1024, "VERSION": 0x10203, "ODD": 1037,
          "small": 8}
ADDRESSES = {"greeting": 1040, "tablePtr": 1072}


def test_classification():
    lay = wasmem.inspect(sample("asc_consts.wasm"))
    got = {g.name: (g.kind, g.value) for g in lay.globals}
    assert got == {**{n: ("value", v) for n, v in VALUES.items()}, **{n: ("address", v) for n, v in ADDRESSES.items()}}
    why = {g.name: g.reason for g in lay.globals}
    assert why["BLOCK_SIZE"] == "named like a size, count, id or version"
    assert why["ODD"] == "not 4-byte aligned" and why["small"] == "below the lowest data address 0x400"
    assert why["greeting"] == "points into data segment 0"


def test_values_never_label_an_address():
    table = load_symbols(WasmModule.from_file(sample("asc_consts.wasm")))
    assert {s.name for s in table.exported_addresses} == set(ADDRESSES)
    assert {g.name for g in table.exported_values} == set(VALUES)
    assert table.label(1024 + 0x8) == "<data[0]+0x8>"  # not <BLOCK_SIZE+0x8>
    assert table.label(1040) == "<greeting>" and table.label(1076) == "<tablePtr+0x4>"
    assert pointer_note(table, 16 + 0x25) is None  # no <ARRAY_LENGTH+0x25>
    label = row_labeler(table)
    assert label(1024) is None and label(1072) == "<tablePtr>"
    mm = MemoryMap(wasmem.inspect(sample("asc_consts.wasm")).regions, 65536, None, 4, table)
    assert mm.label(1037) == "<data[0]+0xd>"  # ODD is a value: the segment labels it


def test_inspect_lists_values_separately():
    d = json.loads(CliRunner().invoke(cli, ["inspect", sample("asc_consts.wasm"), "--json"]).output)
    assert {g["name"] for g in d["globals"] if g["class"] == "value"} == set(VALUES)
    assert {g["name"] for g in d["globals"] if g["class"] == "address"} == set(ADDRESSES)
    text = CliRunner().invoke(cli, ["inspect", sample("asc_consts.wasm")]).output
    assert "Exported values (not addresses: never used as labels)" in text
    assert "BLOCK_SIZE   │ 1024 (0x400)" in text


def test_chase_does_not_use_values_as_labels():
    r = CliRunner().invoke(cli, ["chase", sample("asc_consts.wasm"), "tablePtr", "--json"])
    assert r.exit_code == 0, r.output
    out = r.output
    for name in VALUES:
        assert f"<{name}" not in out
    assert "<greeting>" in out
