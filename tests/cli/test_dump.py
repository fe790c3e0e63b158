"""`wasmem dump`: formats against known bytes, address expressions, --after, snapshots, bounds."""

import io
import json
import struct

import pytest
from conftest import sample
from rich.console import Console

from wasmem.cli.main import main
from wasmem.render.dump import DumpView
from wasmem.runtime import dump_memory

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
    assert code == 2 and "memory 0 is 65536 bytes (1 pages)" in err
    code, _, err = run(capsys, "dump", path, "--at", "nothing")
    assert code == 2 and "unknown address" in err
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
