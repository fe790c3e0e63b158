"""`--debug-file` on every command that reads DWARF (issue 18: external_debug_info is followed only beside
the module, or to the file the user names): a module stripped of its .debug_* sections, with its DWARF in
a separate file (as `emcc -gseparate-dwarf` writes), gets the same data end, symbols, dump labels, chase
types and call return types as the original."""

from __future__ import annotations

import json

import pytest
from conftest import run_main, sample

from wasmem.parser import WasmModule


def stripped(src: str, dst) -> str:
    """``src`` without its .debug_* custom sections."""
    m = WasmModule.from_file(src)
    data = bytes(m.data)
    out = bytearray(data[:8])
    for h in m.sections:
        if h.id == 0 and h.name.startswith(".debug_"):
            continue
        out += data[h.offset:h.end]
    dst.write_bytes(bytes(out))
    return str(dst)


@pytest.fixture
def split(tmp_path):
    orig = sample("bss-far-dwarf.wasm")
    return orig, stripped(orig, tmp_path / "app.wasm")


def test_inspect_uses_the_debug_file_for_the_data_end(capsys, split):
    orig, app = split
    _, out, _ = run_main(capsys, "inspect", orig, "--json")
    want = json.loads(out)["data"]
    _, out, _ = run_main(capsys, "inspect", app, "--json")
    assert json.loads(out)["data"]["end_source"] == "segments"  # without the DWARF: the segments only
    code, out, _ = run_main(capsys, "inspect", app, "--json", "--debug-file", orig)
    got = json.loads(out)["data"]
    assert code == 0 and got["end"] == want["end"] and got["end_source"] == "dwarf"


def test_symbols_dump_chase_and_call_use_it(capsys, split):
    orig, app = split
    code, out, _ = run_main(capsys, "symbols", app, "--json", "--debug-file", orig)
    syms = {s["name"]: s for s in json.loads(out) if s["kind"] == "variable"}
    assert code == 0 and "tail" in syms
    code, out, err = run_main(capsys, "dump", app, "--at", "tail", "--len", "16", "--json", "--debug-file", orig)
    assert code == 0 and json.loads(out)["address"] == syms["tail"]["address"]
    code, out, err = run_main(capsys, "dump", app, "--at", "tail", "--len", "16")
    assert code == 2 and "tail" in err  # no such symbol without the DWARF
    code, out, err = run_main(capsys, "chase", app, "tail", "--debug-file", orig)
    assert code == 0 and syms["tail"]["type"] in out
    code, out, err = run_main(capsys, "call", app, "get_counter", "--debug-file", orig, "--json")
    assert code == 0 and json.loads(out)["results"]


def test_a_bad_debug_file_is_one_line(capsys, split, tmp_path):
    _, app = split
    for bad, want in [(tmp_path / "none.wasm", "no such file"), (tmp_path, "is a directory")]:
        code, out, err = run_main(capsys, "dump", app, "--at", "0", "--debug-file", bad)
        assert code == 2 and err.count("\n") == 1 and want in err, err
