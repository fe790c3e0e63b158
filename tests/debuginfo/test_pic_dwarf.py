"""Position-independent code (issue 13 item 3): DWARF locations relative to __memory_base
(`DW_OP_WASM_location global G, DW_OP_addr X, DW_OP_plus`) are evaluated with the base wasmem
instantiates with, and the side module's data is placed there, so every command agrees."""

import json

from conftest import run_main, sample

from wasmem.app import load_module, open_session
from wasmem.model.globalvalues import pic_bases

PIC = sample("pic_dwarf.wasm")


def test_symbols_from_memory_base_relative_dwarf(capsys):
    base, _ = pic_bases(load_module(PIC))
    assert base == 1024
    code, out, err = run_main(capsys, "symbols", PIC, "--json")
    assert code == 0, err
    syms = {s["name"]: s for s in json.loads(out)}
    assert syms["counter"]["address"] == base and syms["table"]["address"] == base + 16
    assert syms["n1"]["address"] == base + 40 and syms["n1"]["region"] == "data"


def test_inspect_places_the_data_at_memory_base(capsys):
    code, out, _ = run_main(capsys, "inspect", PIC, "--json")
    d = json.loads(out)
    (seg,) = d["data"]["segments"]
    assert seg["address"] == 1024
    assert any(r["kind"] == "data" and r["start"] == 1024 for r in d["regions"])


def test_relocations_applied_and_pointers_followed(capsys):
    with open_session(PIC, timeout=2) as s:
        assert s.init_functions[0] == "__wasm_apply_data_relocs"
        assert s.call("get", ["1"]).results == [2 + 7 + 2]
    code, out, _ = run_main(capsys, "chase", PIC, "n1")
    assert code == 0 and "= 0x420 <n2>" in out
