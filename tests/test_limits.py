"""Huge declarations are described, never allocated; running them is capped by --max-memory."""

import pytest
from click.testing import CliRunner
from conftest import wat

import wasmem
from wasmem.cli.main import cli, main
from wasmem.parser import WasmModule


def test_65536_pages_and_a_memory64_maximum_of_2_48_pages_inspect_without_allocating(tmp_path):
    p = tmp_path / "huge.wasm"
    p.write_bytes(wat('(module (memory (export "m") 65536 65536) (memory (export "m64") i64 1 0x1000000000000))'))
    lay = wasmem.inspect(str(p))
    assert lay.memories[0].min_bytes == 4 * 2**30
    assert lay.memories[1].max_pages == 2**48 and lay.memories[1].is64
    r = CliRunner().invoke(cli, ["inspect", str(p)])
    assert r.exit_code == 0 and "65536 pages (4 GiB)" in r.output


def test_run_refuses_a_declared_minimum_above_max_memory(tmp_path, capsys):
    p = tmp_path / "big.wasm"
    p.write_bytes(wat('(module (memory 8192) (func (export "f") (result i32) i32.const 1))'))
    with pytest.raises(SystemExit) as exc:
        main(["call", str(p), "f"])
    err = capsys.readouterr().err
    assert exc.value.code == 2 and err.count("\n") == 1
    assert "memory 0 declares 8192 pages (536870912 bytes), more than --max-memory 268435456 bytes" in err
    with pytest.raises(SystemExit) as exc:
        main(["call", str(p), "f", "--max-memory", str(2**30)])
    assert exc.value.code == 0 and "→ i32 1" in capsys.readouterr().out


def test_module_bytes_are_mapped_not_copied(tmp_path):
    p = tmp_path / "m.wasm"
    p.write_bytes(wat('(module (memory 1) (data (i32.const 0) "abc"))'))
    m = WasmModule.from_file(str(p))
    assert isinstance(m.data, memoryview) and m._keepalive is not None  # an mmap
    seg = m.data_segments[0]
    assert m.get_segment_bytes(seg).obj is m.data.obj  # a slice of the map, not a copy
