"""Damaged DWARF is reported and skipped: the name section still serves, calls still run."""

import pytest
from conftest import sample

from wasmem.cli.main import main
from wasmem.debuginfo import load_symbols
from wasmem.parser import WasmModule


@pytest.fixture
def damaged(tmp_path):
    path = sample("memdemo-debug.wasm")
    h = WasmModule.from_file(path).get_custom_section(".debug_info")
    data = bytearray(open(path, "rb").read())
    for i in range(h.start + 11, h.end, 7):
        data[i] = 0xFF
    out = tmp_path / "damaged.wasm"
    out.write_bytes(data)
    return str(out)


def test_symbols_fall_back_to_the_name_section_and_say_why(damaged):
    t = load_symbols(WasmModule.from_file(damaged))
    assert not t.has_dwarf and t.dwarf_error.startswith("malformed DWARF")
    assert t.source.startswith("name section (malformed DWARF")
    assert {s.name for s in t.segments} == {".rodata", ".data"}


def test_call_and_traps_still_work(damaged, capsys):
    with pytest.raises(SystemExit) as exc:
        main(["call", damaged, "make_point", "1.0", "2.0", "--returns", "x:f64,y:f64"])
    assert exc.value.code == 0 and "x = 1.0" in capsys.readouterr().out
    with pytest.raises(SystemExit) as exc:
        main(["call", damaged, "crash"])
    assert exc.value.code == 1 and "unreachable" in capsys.readouterr().out


def test_a_dwarf5_line_header_without_directories_is_not_a_crash(tmp_path, capsys):
    """A DWARF 5 line table whose header, read after damaged standard-opcode lengths, has no directory
    formats and no directories: pyelftools then gives None for the directory list. These are the
    bytes a CLI fuzzing run produced (symbols and dump crashed on them)."""
    import os

    path = os.path.join(os.path.dirname(__file__), "data", "globals-dwarf5.wasm")
    h = WasmModule.from_file(path).get_custom_section(".debug_line")
    data = bytearray(open(path, "rb").read())
    data[h.start + 21:h.start + 43] = bytes.fromhex("9acfc801010000000100000101011f02550000000900")
    out = tmp_path / "nodirs.wasm"
    out.write_bytes(data)
    for argv in (["symbols", str(out), "--functions"], ["dump", str(out), "--at", "0x100000", "--len", "16"]):
        with pytest.raises(SystemExit) as exc:
            main(argv)
        text = capsys.readouterr()
        assert exc.value.code == 0, text
    # the variables stay; the damaged line table gives neither file names nor rows
    t = load_symbols(WasmModule.from_file(str(out)))
    assert t.source == "dwarf" and t.find_symbol("cfg").type_name == "struct config"
    assert t.find_symbol("cfg").file is None and t.location_of(t.find_symbol("add").address + 3) is None
