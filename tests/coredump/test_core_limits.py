"""A coredump's memory types checked alone and against the module (index type, page size, the pages an
index type can address), and `dump --core X --save FILE`: a sparse image, refused past --max-save,
bounded by --timeout, never left half written."""

from __future__ import annotations

import os
import re
import threading

import pytest
from click.testing import CliRunner
from coredump_util import CRASH_WASM, write_dump

from wasmem.api import load_module
from wasmem.app.core import save_core_image
from wasmem.cli.main import cli, main
from wasmem.errors import AnalysisTimeout, ParseError, UsageError
from wasmem.model.coredump import DEFAULT_MAX_SAVE, read_coredump

SEGS = [(0x100000 + 200, b"x"), (90, b"\x2a" * 5), (0x100000, b"carol\0")]  # unsorted on purpose
GiB = 1 << 30


def _commands(core: str) -> list[list[str]]:
    return [["dump", CRASH_WASM, "--core", core, "--at", "90", "--len", "5"],
            ["backtrace", core, CRASH_WASM],
            ["chase", CRASH_WASM, "accounts", "--core", core],
            ["inspect", CRASH_WASM, "--core", core],
            ["symbols", CRASH_WASM, "--core", core],
            ["shell", CRASH_WASM, "--core", core, "-q", "-c", "x/5b 90"]]


def _one_error_line(capsys, argv: list[str]) -> str:
    """The command as `wasmem` runs it (main: errors become one line on stderr and an exit code)."""
    with pytest.raises(SystemExit) as ei:
        main(argv)
    out, err = capsys.readouterr()
    assert ei.value.code == 2, (argv, out, err)
    assert err.startswith("wasmem: error: ") and err.count("\n") == 1 and "internal" not in err, (argv, err)
    return err.strip()


@pytest.mark.parametrize("kw, message", [
    ({"pages": 1 << 30}, r"memory 0 of the coredump c\.core has a size of 1073741824 pages: a 32-bit memory has at "
                         r"most 65536 pages of 64 KiB \(4 GiB\) \(at offset 0x[0-9a-f]+\)$"),
    ({"pages": 65537}, r"a size of 65537 pages: a 32-bit memory has at most 65536 pages"),
    ({"pages": 17, "max_pages": 65537}, r"a maximum of 65537 pages: a 32-bit memory has at most 65536"),
    ({"pages": 17, "max_pages": 16}, r"has a maximum of 16 pages, below its size of 17 \(at offset"),
    ({"pages": 1 << 49, "is64": True}, r"a size of 562949953421312 pages: a memory64 memory has at most "
                                       r"281474976710656 pages of 64 KiB \(16 EiB\)"),
    ({"pages": 17, "page_log2": 12}, r"has a page size of 4096 bytes \(2\^12\); wasm allows 1 and 65536 \(at offset"),
])
def test_an_invalid_memory_type_is_one_error_line_in_every_command(capsys, tmp_path, kw, message):
    core = write_dump(tmp_path / "c.core", SEGS, **kw)
    with pytest.raises(ParseError, match=message):
        read_coredump(load_module(core, validate=False))
    for argv in _commands(core):
        line = _one_error_line(capsys, argv)
        assert re.search(message, line), (argv, line)


@pytest.mark.parametrize("kw, message", [
    ({"pages": 1 << 40, "is64": True}, r"memory 0 is 64-bit \(memory64\) in the dump, 32-bit in the module \(the "
                                       r"dump's memory type at offset 0x[0-9a-f]+\)$"),
    ({"pages": 17, "is64": True}, r"memory 0 is 64-bit \(memory64\) in the dump, 32-bit in the module"),
    ({"pages": 17 * 65536, "page_log2": 0}, r"memory 0 has pages of 1 byte in the dump, of 64 KiB in the module"),
    ({"pages": 1}, r"memory 0 has 1 pages in the dump, fewer than the module's minimum 17"),
])
def test_a_dump_whose_memory_is_not_the_modules_is_refused_by_every_command(capsys, tmp_path, kw, message):
    core = write_dump(tmp_path / "c.core", SEGS, **kw)
    read_coredump(load_module(core, validate=False))  # valid alone
    for argv in _commands(core):
        line = _one_error_line(capsys, argv)
        assert "crash.wasm is not the module of the coredump" in line and re.search(message, line), (argv, line)


def test_the_largest_32_bit_memory_is_served_and_shown_as_4_gib(tmp_path):
    core = write_dump(tmp_path / "c.core", SEGS, pages=65536)
    r = CliRunner().invoke(cli, ["dump", CRASH_WASM, "--core", core, "--at", "0xfffffff0", "--len", "16"])
    assert r.exit_code == 0 and "memory 0  4 GiB" in r.output and "00 00 00" in r.output, r.output
    r = CliRunner().invoke(cli, ["backtrace", core, CRASH_WASM])
    assert r.exit_code == 0 and "memory 65536 pages (4 GiB)" in r.output, r.output
    r = CliRunner().invoke(cli, ["dump", CRASH_WASM, "--core", core, "--at", "90", "--len", "5"])
    assert "2a 2a 2a 2a 2a" in r.output


# -- --save ---------------------------------------------------------------------------------------
def _read_at(path, addr: int, n: int) -> bytes:
    with open(path, "rb") as f:
        f.seek(addr)
        return f.read(n)


def test_save_writes_a_sparse_image_of_a_4_gib_memory(tmp_path):
    core = write_dump(tmp_path / "c.core", SEGS + [(0xFFFFFFF0, b"end of memory!!!")], pages=65536)
    out = tmp_path / "mem.bin"
    r = CliRunner().invoke(cli, ["dump", CRASH_WASM, "--core", core, "--at", "90", "--len", "5", "--save", str(out),
                                 "--max-save", "0"])
    assert r.exit_code == 0, r.output
    st = os.stat(out)
    assert st.st_size == 4 * GiB
    assert st.st_blocks * 512 < 1 << 20, st.st_blocks  # the holes take no disk: only the written blocks do
    assert _read_at(out, 90, 5) == b"\x2a" * 5 and _read_at(out, 0x100000, 6) == b"carol\0"
    assert _read_at(out, 0x100000 + 200, 1) == b"x" and _read_at(out, 0xFFFFFFF0, 16) == b"end of memory!!!"
    assert _read_at(out, 0x80000000, 64) == bytes(64)
    assert not [p for p in os.listdir(tmp_path) if p.endswith(".part")]


def test_save_refuses_a_memory_past_max_save_and_names_the_option(capsys, tmp_path):
    core = write_dump(tmp_path / "c.core", SEGS, pages=65536)
    out = tmp_path / "mem.bin"
    argv = ["dump", CRASH_WASM, "--core", core, "--len", "1", "--save", str(out)]
    line = _one_error_line(capsys, argv)
    assert (f"--save: memory 0 of the coredump is {4 * GiB} bytes (4 GiB), more than --max-save {DEFAULT_MAX_SAVE} "
            f"(256 MiB); raise --max-save (0 = no limit)") in line, line
    assert "only the 12 bytes the dump holds are written" in line
    assert not out.exists()
    assert "2 GiB" in _one_error_line(capsys, argv + ["--max-save", str(2 * GiB)])
    r = CliRunner().invoke(cli, ["dump", "--help"])
    assert "--max-save" in r.output and "sparse" in r.output


def test_save_is_bounded_by_the_timeout_and_leaves_no_partial_image(capsys, tmp_path):
    core = write_dump(tmp_path / "c.core", SEGS)
    out = tmp_path / "mem.bin"
    out.write_bytes(b"the previous image")
    # a deadline one microsecond after the command starts has passed before the save (or before the first
    # read of the module's DWARF, which comes first): the command stops and nothing is written
    line = _one_error_line(capsys, ["dump", CRASH_WASM, "--core", core, "--len", "1", "--save", str(out),
                            "--timeout", "0.000001"])
    assert "did not finish in 1e-06 s (--timeout; 0 = no limit)" in line
    assert out.read_bytes() == b"the previous image"
    assert sorted(os.listdir(tmp_path)) == ["c.core", "mem.bin"]
    # the save's own check of the command's deadline: one that has passed by the time the image is written
    from wasmem.app import dump_memory
    from wasmem.deadline import Deadline

    with pytest.raises(AnalysisTimeout, match=r"^--save \(nothing was written\) did not finish in 2 s"):
        dump_memory(CRASH_WASM, "0", 1, core=core, save=str(out), deadline=Deadline(2, clock=lambda: 9.0, started=0.0))
    assert out.read_bytes() == b"the previous image"
    assert sorted(os.listdir(tmp_path)) == ["c.core", "mem.bin"]


def test_a_deadline_passing_between_blocks_stops_the_save(tmp_path):
    segs = [(k * 65536, bytes([k + 1]) * 100) for k in range(16, 0, -1)]
    mem = read_coredump(load_module(write_dump(tmp_path / "c.core", segs, pages=17))).memories[0]
    calls = []

    def check():
        calls.append(1)
        if len(calls) > 5:
            raise AnalysisTimeout("past the deadline")

    out = tmp_path / "mem.bin"
    with pytest.raises(AnalysisTimeout):
        save_core_image(mem, out, check=check)
    assert not out.exists() and os.listdir(tmp_path) == ["c.core"]
    assert save_core_image(mem, out) == 1600
    data = out.read_bytes()
    assert len(data) == 17 * 65536 and all(data[k * 65536: k * 65536 + 100] == bytes([k + 1]) * 100
                                           for k in range(1, 17))
    with pytest.raises(UsageError, match="more than --max-save 65536"):
        save_core_image(mem, out, max_size=65536)


def test_save_streams_the_image_into_a_pipe(tmp_path):
    mem = read_coredump(load_module(write_dump(tmp_path / "c.core", SEGS, pages=17))).memories[0]
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    got = bytearray()

    def reader():
        with open(fifo, "rb") as f:
            while chunk := f.read(1 << 16):
                got.extend(chunk)

    t = threading.Thread(target=reader)
    t.start()
    save_core_image(mem, fifo)
    t.join()
    assert len(got) == 17 * 65536 and bytes(got) == mem.read(0, mem.size)


def test_the_largest_memory64_memory_reads_its_last_bytes_whatever_the_order(tmp_path):
    top = 1 << 64
    segs = [(top - 16, b"the last sixteen"), (5, b"low"), (top - 20, b"\xff" * 8)]  # the last one overlaps the first
    mem = read_coredump(load_module(write_dump(tmp_path / "c.core", segs, pages=1 << 48, is64=True),
                                    validate=False)).memories[0]
    assert mem.size == top and mem.is64
    assert mem.read(top - 24, 24) == bytes(4) + b"\xff" * 8 + b"the last sixteen"[4:]
    assert mem.read(0, 10) == bytes(5) + b"low" + bytes(2)
    assert list(mem.index_runs.starts) == [5, top - 20, top - 12]
