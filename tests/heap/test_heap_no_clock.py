"""`heap` and `leaks` on the DWARF sample print the same text however slow the machine is (issue 24): every
budget in their output path counts work, never time. A slow machine is simulated deterministically: every
clock wasmem could read jumps forward ten minutes at each reading, so any decision taken on elapsed time
(a DWARF deadline, a "took too long: skip the line table") would change the output. Only the call's
--timeout is a clock, and it ends the command with an error, never with poorer output: it is off here.
A real load (two busy processes, one per core) must give the same text too."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import pytest
from conftest import run_main

from wasmem.debuginfo import symbols as symbols_mod

DATA = Path(__file__).resolve().parent / "data"
HEAPDEMO = str(DATA / "heapdemo.wasm")
ROOT = Path(__file__).resolve().parents[2]

COMMANDS = {
    "heap": ["heap", HEAPDEMO, "--after", "push 5", "--after", "push 6", "--after", "clean_step 2", "--timeout", "0"],
    "leaks": ["leaks", HEAPDEMO, "leak_step 1", "-n", "3", "--timeout", "0"],
}


def _fresh(monkeypatch):
    """No DWARF read before (the module cache is per module object, but make it plain)."""
    monkeypatch.setattr(symbols_mod, "_DEBUG_CACHE", type(symbols_mod._DEBUG_CACHE)())


def _slow_clocks(monkeypatch):
    ticks = iter(range(10**6))
    for name in ("monotonic", "perf_counter", "time", "process_time"):
        monkeypatch.setattr(time, name, lambda: 600.0 * next(ticks))
    for name in ("monotonic_ns", "perf_counter_ns", "time_ns", "process_time_ns"):
        monkeypatch.setattr(time, name, lambda: 600 * 10**9 * next(ticks))


@pytest.mark.parametrize("cmd", sorted(COMMANDS))
def test_the_same_text_when_every_clock_jumps_minutes(cmd, capsys, monkeypatch):
    _fresh(monkeypatch)
    code, quiet, err = run_main(capsys, *COMMANDS[cmd])
    assert code == 0 and "heapdemo.c:" in quiet and "note" not in err  # DWARF lines, nothing cut
    if cmd == "heap":
        assert "struct Node" in quiet  # and DWARF types
    with monkeypatch.context() as m:
        _fresh(m)
        _slow_clocks(m)
        code2, slow, err2 = run_main(capsys, *COMMANDS[cmd])
    assert (code2, slow, err2) == (code, quiet, err)


@pytest.mark.parametrize("cmd", sorted(COMMANDS))
def test_only_a_work_budget_cuts_and_then_it_says_so(cmd, capsys):
    """The control: the DWARF reading can be cut, by its work budget, and the output then says so."""
    code, out, err = run_main(capsys, *COMMANDS[cmd], "--budget", "dwarf=100")
    assert "heapdemo.c:" not in out and "DWARF not read whole" in err and "--budget dwarf=N" in err


def test_the_same_text_with_both_cores_busy():
    """Two processes spinning (one per core) while the command runs in a third: the same bytes as alone."""
    env = {"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin", "COLUMNS": "100"}
    argv = [sys.executable, "-m", "wasmem", *COMMANDS["heap"]]
    quiet = subprocess.run(argv, capture_output=True, env=env, check=False)
    spinners = [subprocess.Popen([sys.executable, "-c", "while True: pass"]) for _ in range(2)]
    try:
        busy = subprocess.run(argv, capture_output=True, env=env, check=False)
    finally:
        for p in spinners:
            p.kill()
            p.wait()
    assert quiet.returncode == 0 and b"heapdemo.c:" in quiet.stdout
    assert (busy.returncode, busy.stdout, busy.stderr) == (quiet.returncode, quiet.stdout, quiet.stderr)
