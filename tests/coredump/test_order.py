"""A coredump whose data segments come unsorted, reversed and overlapping reads the same bytes as the
sorted one, in every command that reads a dump: the format orders nothing (tool-conventions Coredump.md),
and instantiation applies segments in file order, so a later segment wins where two overlap.

Each arrangement is written from the real wasmtime dumps of crash.wasm / crash-O0.wasm (their globals,
instances and frames kept) and compared with the same memory written as sorted, disjoint pieces."""

from __future__ import annotations

import random

import pytest
from click.testing import CliRunner
from coredump_util import CRASH_CORE, CRASH_O0_CORE, CRASH_O0_WASM, CRASH_WASM, write_dump

from wasmem.api import load_module, open_core
from wasmem.app.core import open_core_session
from wasmem.cli.main import cli
from wasmem.model.coredump import read_coredump

PIECE = 8


def _pieces(source: str) -> tuple[bytes, list[tuple[int, bytes]]]:
    """The source dump's memory 0 whole, and its non-zero bytes as PIECE-byte pieces, ascending."""
    mem = read_coredump(load_module(source)).memories[0]
    whole = mem.read(0, mem.size)
    pieces = []
    for a, n in zip(mem.index_runs.starts, mem.index_runs.lengths, strict=True):
        for k in range(0, n, PIECE):
            pieces.append((a + k, whole[a + k: a + min(n, k + PIECE)]))
    return whole, pieces


def _arrangements(whole: bytes, pieces: list[tuple[int, bytes]]) -> dict[str, list[tuple[int, bytes]]]:
    rng = random.Random(24)
    shuffled = pieces[:]
    rng.shuffle(shuffled)
    lo = pieces[0][0]
    hi = pieces[-1][0] + len(pieces[-1][1])
    # overlapping: garbage first (over the data and over zeros below it), then zeros over the garbage that
    # lies on zeros, then every piece widened by 5 bytes on each side (neighbours overlap, with the same
    # bytes), in shuffled order; and one piece written twice, garbage then right
    decoys = [(lo - 64, b"\xee" * (hi - lo + 96)), (90, b"\x42" * 5)]
    zeros = [(lo - 64, bytes(64)), (hi, bytes(32)), (90, bytes(5))]
    wide = [(max(a - 5, 0), whole[max(a - 5, 0): a + len(d) + 5]) for a, d in shuffled]
    a0, d0 = pieces[len(pieces) // 2]
    overlapping = decoys + zeros + wide[:3] + [(a0, b"\x99" * len(d0)), (a0, d0)] + wide[3:]
    return {"reversed": pieces[::-1], "shuffled": shuffled, "overlapping": overlapping,
            "one segment": [(lo, whole[lo:hi])]}


def _commands(wasm: str, core: str) -> list[list[str]]:
    shell = ["shell", wasm, "--core", core, "-q", "-c", "x/5b 90", "-c", "x/96x 0xfffe0", "-c", "x/80b 0x100000",
             "-c", "x/5b 90", "-c", "p accounts", "-c", "p accounts[2]", "-c", "bt", "-c", "chase accounts",
             "-c", "dump 0x100000 80", "-c", "str 0x100040", "-c", "info sp", "-c", "info memory"]
    return [
        ["dump", wasm, "--core", core, "--at", "accounts", "--type", "auto"],
        ["dump", wasm, "--core", core, "--at", "0xfffe0", "--len", "192"],
        ["dump", wasm, "--core", core, "--at", "90", "--len", "5"],
        ["dump", wasm, "--core", core, "--at", "0x100000", "--len", "80", "-f", "u32", "--json"],
        ["dump", wasm, "--core", core, "--at", "sp", "--len", "64"],
        ["chase", wasm, "accounts", "--core", core],
        ["chase", wasm, "accounts", "--core", core, "--json"],
        ["inspect", wasm, "--core", core],
        ["symbols", wasm, "--core", core],
        ["backtrace", core, wasm],
        ["backtrace", core, wasm, "--json"],
        shell,
    ]


def _run(argv: list[str], folder: str) -> tuple[int, str]:
    r = CliRunner().invoke(cli, argv)
    return r.exit_code, r.output.replace(folder, "DIR")


@pytest.mark.parametrize("source, wasm", [(CRASH_CORE, CRASH_WASM), (CRASH_O0_CORE, CRASH_O0_WASM)],
                         ids=["crash", "crash-O0"])
def test_every_arrangement_reads_as_the_sorted_dump_in_every_command(tmp_path, source, wasm):
    whole, pieces = _pieces(source)
    assert len(pieces) >= 9
    (tmp_path / "s").mkdir()  # folders of one name length: the outputs wrap alike
    ref = write_dump(tmp_path / "s" / "c.core", pieces, source=source)
    ref_mem = read_coredump(load_module(ref)).memories[0]
    assert ref_mem.read(0, ref_mem.size) == whole
    want = {tuple(argv): _run(argv, str(tmp_path / "s")) for argv in _commands(wasm, ref)}
    for argv, (code, out) in want.items():
        assert code == 0, (argv, out)
    shell_out = want[tuple(_commands(wasm, ref)[-1])][1]
    assert "alice" in shell_out or "carol" in shell_out  # the shell read the accounts, not zeros
    for k, (name, segs) in enumerate(_arrangements(whole, pieces).items()):
        folder = tmp_path / str(k)
        folder.mkdir()
        core = write_dump(folder / "c.core", segs, source=source)
        mem = read_coredump(load_module(core)).memories[0]
        assert mem.read(0, mem.size) == whole, name
        for a in range(0x100000 - 64, 0x100000 + 96, 3):  # small reads across every boundary
            assert mem.read(a, 7) == whole[a:a + 7], (name, a)
        view = open_core(core, wasm)  # the Python API
        try:
            assert view.memory(0).read(0x100000, 64) == whole[0x100000:0x100040]
        finally:
            view.core.close()
        cs = open_core_session(wasm, core)
        try:
            assert cs.read(0xfffe0, 128) == whole[0xfffe0:0x100060]
            assert cs.read(90, 5) == bytes(5)
        finally:
            cs.close()
        for argv, expected in zip(_commands(wasm, core), want.values(), strict=True):
            assert _run(argv, str(folder)) == expected, (name, argv)



def test_the_issues_shell_session_reads_the_later_lower_segment_at_once(tmp_path):
    """The report: in one shell session `x/5b 90` printed zeros, then the right bytes after a wider read.
    Here the 42s at 90 are stored after a segment at a higher address."""
    core = write_dump(tmp_path / "c.core", [(0x100000, b"carol\0"), (90, b"\x2a" * 5)])
    r = CliRunner().invoke(cli, ["shell", CRASH_WASM, "--core", core, "-q", "-c", "x/5b 90", "-c", "x/16b 80",
                                 "-c", "x/5b 90", "-c", "str 0x100000"])
    assert r.exit_code == 0, r.output
    rows = [ln for ln in r.output.splitlines() if ln.startswith("0x0000005")]
    assert rows[0].split()[1:6] == ["2a"] * 5 and rows[-1].split()[1:6] == ["2a"] * 5, r.output
    assert "00 00 2a 2a 2a 2a 2a 00" in rows[1] and '"carol"' in r.output
