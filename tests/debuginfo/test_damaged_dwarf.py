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
