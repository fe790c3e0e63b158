"""`wasmem dump`: formats against known bytes, address expressions, --after, snapshots, bounds."""

import io
import json
import struct

import pytest
from conftest import sample
from rich.console import Console

from wasmem.app import dump_memory
from wasmem.cli.main import main
from wasmem.render.dump import DumpView

MOD = r'''(module
  (memory (export "memory") 1)
  (global $sp (mut i32) (i32.const 4096))
  (global (export "table_at") i32 (i32.const 256))
  (data (i32.const 256) "\01\00\00\00\ff\ff\ff\ff\00\00\c0\3f\00\00\00\00\00\00\f8\3f")
  (data (i32.const 512) "Hello, wasm memory!\00")
  (func (export "poke") (param $a i32) (param $v i32) (i32.store (local.get $a) (local.get $v))))'''


def run(capsys, *argv):
    with pytest.raises(SystemExit) as ei:
        main(list(argv))
    out, err = capsys.readouterr()
    return ei.value.code, out, err


@pytest.fixture
def path(wat_file):
    return wat_file(MOD)


def test_hex_rows(path, capsys):
    code, out, err = run(capsys, "dump", path, "--at", "512", "--len", "20")
    assert code == 0, err
    lines = [ln for ln in out.splitlines() if not ln.startswith("-- ")]
    assert lines[1].startswith("0x00000200  48 65 6c 6c 6f 2c 20 77  61 73 6d 20 6d 65 6d 6f  |Hello, wasm memo|")
    assert lines[2].startswith("0x00000210  72 79 21 00")
    assert "|ry!.|" in lines[2]


def test_typed_formats(path, capsys):
    code, out, _ = run(capsys, "dump", path, "--at", "table_at", "--len", "8", "-f", "i32", "--json")
    assert json.loads(out)["rows"][0]["values"] == [1, -1]
    code, out, _ = run(capsys, "dump", path, "--at", "table_at", "--len", "8", "-f", "u32", "--json")
    assert json.loads(out)["rows"][0]["values"] == [1, 0xFFFFFFFF]
    code, out, _ = run(capsys, "dump", path, "--at", "table_at+8", "--len", "4", "-f", "f32", "--json")
    assert json.loads(out)["rows"][0]["values"] == [1.5]
    code, out, _ = run(capsys, "dump", path, "--at", "table_at+12", "--len", "8", "-f", "f64")
    assert "1.5" in out
    code, out, _ = run(capsys, "dump", path, "--at", "256", "--len", "4", "-f", "u16", "--big-endian", "--json")
    assert json.loads(out)["rows"][0]["values"] == [0x0100, 0]
    code, out, _ = run(capsys, "dump", path, "--at", "256", "--len", "16", "-f", "ptr", "--width", "2")
    assert "0x00000001  0xffffffff" in out


def test_sp_and_after_highlight(path, capsys):
    o = dump_memory(path, "sp-16", 16, after=["poke 4084 0x01020304"], timeout=1, sp_global=0)
    assert o.dump.address == 4080 and o.dump.data[4:8] == b"\x04\x03\x02\x01"
    assert o.dump.rows[0].changed == (4, 5, 6, 7)
    c = Console(width=100, file=io.StringIO(), color_system=None)
    c.print(DumpView(o.dump, o.regions, calls=o.calls, sp=o.sp))
    assert "ran poke(4084, 0x01020304)" in c.file.getvalue()


def test_out_of_range_is_an_error(path, capsys):
    code, _, err = run(capsys, "dump", path, "--at", "65530", "--len", "16")
    assert code == 2 and "memory 0 is 65536 bytes (1 page)" in err
    code, _, err = run(capsys, "dump", path, "--at", "nothing")
    assert code == 2 and "no data symbol, export or named global is named 'nothing'" in err
    assert "without DWARF only data segments, exports and named globals have names" in err  # no claim it is gone
    assert "unknown address" not in err
    code, _, err = run(capsys, "dump", path, "--memory", "1")
    assert code == 2 and "memory 1 does not exist" in err


def test_snapshot_and_save(path, tmp_path, capsys):
    saved = tmp_path / "mem.bin"
    code, _, _ = run(capsys, "dump", path, "--len", "0", "--save", str(saved), "--after", "poke 0 0x41414141")
    assert code == 0 and saved.stat().st_size == 65536
    assert saved.read_bytes()[:4] == b"AAAA"
    code, out, _ = run(capsys, "dump", path, "--snapshot", str(saved), "--at", "0", "--len", "4", "--json")
    data = json.loads(out)
    assert data["hex"] == "41414141" and data["source"].startswith("snapshot")
    code, out, _ = run(capsys, "dump", path, "--snapshot", str(saved), "--at", "table_at", "--len", "4", "-f", "i32")
    assert code == 0 and "0x00000100" in out
    short = tmp_path / "short.bin"
    short.write_bytes(b"\0" * 100)
    code, _, err = run(capsys, "dump", path, "--snapshot", str(short), "--at", "96", "--len", "8")
    assert code == 2 and "snapshot short.bin is 100 bytes" in err


def test_sample_regions_labelled(capsys):
    path = sample("memdemo.wasm")
    code, out, _ = run(capsys, "dump", path, "--at", "0xfff0", "--len", "48")
    assert code == 0
    # 80 columns: region headings between rows
    rows = out.splitlines()[1:]
    assert rows[0] == "-- stack" and rows[2] == "-- .rodata" and "memdemo" in rows[3]
    # wide: the label at the end of each row
    o = dump_memory(path, "0xfff0", 48, timeout=1)
    c = Console(width=100, file=io.StringIO(), color_system=None)
    c.print(DumpView(o.dump, o.regions))
    wide = c.file.getvalue().splitlines()[1:]
    assert wide[0].endswith("|  stack") and wide[1].endswith("|  .rodata")
    o = dump_memory(path, "__heap_base", 16, after=["process_string s:Hi"], timeout=1)
    assert o.calls[0].results == [1] and o.dump.address == 0x100C0
    data = struct.unpack("<4I", o.dump.data)
    assert len(data) == 4


# -- symbols (issue 5) ---------------------------------------------------------------------------
def test_at_symbol_uses_its_size_and_labels_rows(capsys):
    code, out, err = run(capsys, "dump", sample("memdemo-debug.wasm"), "--at", "config", "--json")
    assert code == 0, err
    d = json.loads(out)
    assert d["address"] == 0x10058 and d["length"] == 56 and d["symbol"] == "<config>"
    assert [r["label"] for r in d["rows"]] == ["<config>", "<config+0x10>", "<config+0x20>", "<config+0x30>"]


def test_at_symbol_paths(capsys):
    mod = sample("memdemo-debug.wasm")
    for expr, addr, size in (("config.meta.origin", 0x10078, 16), ("names[2]", 0x10048, 4),
                             ("node_a.next->next", 0x100A4, 4), ("node_a->next->next->next", 0x1009C, 4),
                             ("data_array+0x8", 0x10028, 24), ("global_data", None, None)):
        code, out, err = run(capsys, "dump", mod, "--at", expr, "--json")
        if addr is None:
            assert code == 2 and "'global_data' is not in the module" in err and "may have removed it" in err
            continue
        assert code == 0, (expr, err)
        d = json.loads(out)
        assert (d["address"], d["length"]) == (addr, size), expr


def test_row_label_falls_back_to_the_region(capsys):
    code, out, err = run(capsys, "dump", sample("memdemo-debug.wasm"), "--at", "0x10000", "--len", "48", "--json")
    rows = json.loads(out)["rows"]
    assert [r["label"] for r in rows] == [".rodata", ".rodata", "<data_array>"]


def test_typed_dump(capsys):
    mod = sample("memdemo-debug.wasm")
    code, out, err = run(capsys, "dump", mod, "--at", "0x10078", "--type", "Point", "--json")
    assert code == 0, err
    d = json.loads(out)
    assert d["type"] == "Point" and d["length"] == 16
    assert [(c["label"], c["value"]) for c in d["value"]["children"]] == [(".x", -1.0), (".y", 2.5)]
    code, out, err = run(capsys, "dump", mod, "--at", "node_a.next->next", "--type", "auto")
    assert code == 0, err
    assert "0x10098 <node_c>" in out
    code, out, err = run(capsys, "dump", mod, "--at", "node_c", "--type", "struct Node", "--json")
    assert [c.get("value") for c in json.loads(out)["value"]["children"]] == [30, 0x10090]
    code, out, err = run(capsys, "dump", mod, "--at", "config", "--type", "Config")
    assert code == 0 and '"wasmem"' in out and '"memdemo"' in out and ".origin (Point)" in out


def test_typed_dump_needs_dwarf(capsys):
    code, out, err = run(capsys, "dump", sample("memdemo.wasm"), "--at", "0x10078", "--type", "Point")
    assert code == 2 and "needs DWARF" in err
    code, out, err = run(capsys, "dump", sample("memdemo-debug.wasm"), "--at", "0x10078", "--type", "Nope")
    assert code == 2 and "no type named 'Nope'" in err


def test_names_only_module_resolves_segments_and_exports(capsys):
    code, out, err = run(capsys, "dump", sample("memdemo.wasm"), "--at", ".data+0x70", "--len", "8", "--json")
    assert code == 0, err
    d = json.loads(out)
    assert d["address"] == 0x10090 and d["rows"][0]["label"] == ".data"
    code, out, err = run(capsys, "dump", sample("memdemo.wasm"), "--at", ".rodata", "--json")
    assert json.loads(out)["length"] == 31
    code, out, err = run(capsys, "dump", sample("memdemo.wasm"), "--at", "__heap_base", "--len", "4", "--json")
    assert json.loads(out)["address"] == 0x100C0


def test_at_symbol_path_reads_live_memory(capsys):
    # after two allocations and frees, free_list -> second block -> first block
    code, out, err = run(capsys, "dump", sample("memdemo-debug.wasm"), "--at", "free_list->next", "--type", "auto",
                         "--after", "allocate 32", "--after", "allocate 32", "--after", "deallocate 65728 32",
                         "--after", "deallocate 65760 32", "--json")
    assert code == 0, err
    d = json.loads(out)
    assert d["address"] == 65760 + 4 and d["value"]["value"] == 65728


def test_exported_address_global_and_pointer_path(capsys):
    import os

    data = os.path.join(os.path.dirname(os.path.dirname(__file__)), "debuginfo", "data")
    code, out, err = run(capsys, "dump", os.path.join(data, "globals-nodebug.wasm"), "--at", "cfg", "--len", "16",
                         "--json")
    assert code == 0, err
    d = json.loads(out)
    assert d["symbol"] == "<cfg>" and d["rows"][0]["label"] == "<cfg>"
    code, out, err = run(capsys, "dump", os.path.join(data, "globals-dwarf4.wasm"), "--at", "list_head->next",
                         "--type", "auto", "--json")
    assert code == 0, err
    d = json.loads(out)
    assert d["type"] == "struct node *" and d["value"]["target"] == "<list_c>"


@pytest.mark.parametrize("width", [20, 50, 80, 120])
def test_plain_rows_are_the_styled_rows_without_styles(path, width):
    """Without colour, rows are written in batches without a Text each; the characters (including the
    cropping to the width and the region headings when labels do not fit) must be the same."""
    import re

    o = dump_memory(path, "0", 3000)
    outs = []
    for color in (None, "truecolor"):
        c = Console(width=width, file=io.StringIO(), color_system=color, force_terminal=color is not None)
        c.print(DumpView(o.dump, o.regions), crop=False)
        outs.append(c.file.getvalue())
    plain, styled = outs
    assert "\x1b[" in styled and "\x1b[" not in plain
    assert plain == re.sub(r"\x1b\[[0-9;]*m", "", styled)
    lines = plain.splitlines()
    assert max(len(ln) for ln in lines) <= width
    assert sum(bool(re.match(r"0x[0-9a-f]{8}  ", ln)) for ln in lines) == 188  # 187 rows of 16 bytes, one of 8
    assert ("-- " in plain) == (width < 100)
    if width == 20:  # a heading longer than the width wraps (rows are cropped)
        assert "-- unused (below the" in lines


def test_coloured_rows_mark_changed_bytes_zero_runs_and_addresses(path):
    import re

    o = dump_memory(path, "512", 32, after=["poke 516 0x21212121"])
    c = Console(width=120, file=io.StringIO(), color_system="standard", force_terminal=True)
    c.print(DumpView(o.dump, o.regions), crop=False)
    out = c.file.getvalue()
    assert "\x1b[36m0x00000200\x1b[0m" in out  # the address, cyan
    assert "\x1b[1;31m21 21 21 21\x1b[0m" in out and "\x1b[1;31m!!!!\x1b[0m" in out  # changed: hex and ASCII
    # a zero run across the gap, grey (its code depends on the colour system rich settles on)
    assert re.search(r"\x1b\[[0-9;]+m00 00 00 00 00  00 00 00 00 00 00 00 00\x1b\[0m", out)
