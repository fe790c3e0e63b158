"""`wasmem symbols`: table, JSON, filter/sort, --functions and the fallbacks."""

import json
import os

import pytest
from click.testing import CliRunner
from golden_util import render_text

from wasmem.cli.symbols import symbols_cmd

DATA = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "debuginfo", "data")
KEYS = ["name", "address", "size", "type", "region", "file", "line", "kind"]


def run(*args):
    return CliRunner().invoke(symbols_cmd, list(args), catch_exceptions=False)


def path(name):
    return os.path.join(DATA, name)


@pytest.mark.parametrize("name", ["globals-dwarf4.wasm", "globals-dwarf5.wasm"])
def test_json_rows(name):
    r = run(path(name), "--json")
    assert r.exit_code == 0, r.output
    rows = json.loads(r.output)
    assert all(list(row) == KEYS for row in rows)
    by = {row["name"]: row for row in rows}
    assert by["cfg"] == {"name": "cfg", "address": 0x100080, "size": 72, "type": "struct config",
                         "region": "data", "file": "globals.c", "line": by["cfg"]["line"], "kind": "variable"}
    assert by["greeting"]["region"] == "rodata" and by["bss_bytes"]["region"] == "bss"
    assert by["next_id::id_counter"]["type"] == "int"
    assert by["__heap_base"]["kind"] == "marker"
    addrs = [row["address"] for row in rows]
    assert addrs == sorted(addrs)
    assert not any(row["kind"] == "function" for row in rows)


def test_table_output():
    r = run(path("globals-dwarf4.wasm"))
    assert r.exit_code == 0
    lines = r.output.splitlines()
    # the path comes first and may wrap (CI's checkout path is long); the source line follows it
    at = next(i for i, ln in enumerate(lines) if ln.startswith("  symbols from"))
    assert "".join(lines[:at]).endswith("globals-dwarf4.wasm") and lines[at].strip() == "symbols from dwarf"
    assert lines[at + 1].split() == ["address", "size", "name", "kind", "type", "region", "source"]
    row = next(ln for ln in lines if " cfg " in ln)
    assert row.split() == ["0x00100080", "72", "cfg", "struct", "config", "data", "globals.c:57"]
    assert next(ln for ln in lines if "__heap_base" in ln).split() == ["0x00100110", "0", "__heap_base",
                                                                       "marker", "heap"]
    assert any("const char *[3]" in ln and "names" in ln for ln in lines)


def test_filter_sort_and_functions():
    rows = json.loads(run(path("globals-dwarf4.wasm"), "--json", "--filter", "list_*", "--sort", "name").output)
    assert [r["name"] for r in rows] == ["list_a", "list_b", "list_c", "list_head"]
    rows = json.loads(run(path("globals-dwarf4.wasm"), "--json", "--sort", "size").output)
    assert rows[0]["name"] == "cfg"
    rows = json.loads(run(path("globals-dwarf4.wasm"), "--json", "--functions", "--filter", "sum_*").output)
    assert rows == [{"name": "sum_list", "address": 0x52, "size": 163, "type": "int (void)", "region": "code",
                     "file": "globals.c", "line": rows[0]["line"], "kind": "function"}]
    r = run(path("globals-dwarf4.wasm"), "--functions")
    assert "functions" in r.output and "sum_list" in r.output and "int (int, int)" in r.output


def test_fallbacks():
    rows = json.loads(run(path("globals-nodebug.wasm"), "--json").output)
    assert [(r["name"], r["kind"]) for r in rows] == [(".rodata", "segment"), (".data", "segment"),
                                                      ("counter", "exported"), ("cfg", "exported"),
                                                      ("__data_end", "marker"), ("__heap_base", "marker")]
    r = run(path("globals-stripped.wasm"))
    assert "\n  symbols from exports\n" in r.output
    assert next(ln for ln in r.output.splitlines() if " cfg " in ln).split() == ["0x00100080", "?", "cfg",
                                                                                 "exported", "data"]


def test_rendering_is_plain_text_friendly():
    from wasmem.debuginfo import symbol_listing
    from wasmem.parser import WasmModule
    from wasmem.render.symbols import SymbolsView

    text = render_text(SymbolsView(symbol_listing(WasmModule.from_file(path("globals-dwarf5.wasm")),
                                                  functions=True)))
    assert "next_id::id_counter" in text and "+0x0052" in text and "globals.c:" in text


def test_value_view():
    from wasmem.debuginfo import StaticMemory, format_value, load_symbols
    from wasmem.parser import WasmModule
    from wasmem.render.value import ValueView

    m = WasmModule.from_file(path("globals-dwarf4.wasm"))
    t = load_symbols(m)
    s = t.find_symbol("cfg")
    text = render_text(ValueView(format_value(s.type, StaticMemory(m), s.address, label="cfg", symbols=t)))
    assert '.name (const char *) = 0x100006 <.rodata+0x6> "main-config"' in text
    assert ".weight (double) = 2.5" in text and ".color (enum color) = GREEN" in text


def test_errors():
    r = CliRunner().invoke(symbols_cmd, [path("missing.wasm")])
    assert r.exit_code != 0
    r = CliRunner().invoke(symbols_cmd, [path("globals-dwarf4.wasm"), "--sort", "bogus"])
    assert r.exit_code == 2
