"""A call blocked inside the engine's own WASI (issue 18, "timeouts with holes"): opening a FIFO under --dir
waits in one of wasmtime's worker threads, where neither the epoch nor a signal reaches. The command line
still stops it: the watcher, finding the call not returned STUCK_GRACE seconds after the stop, exits with
the stop's message and code (1 for the timeout, 130 for Ctrl-C). FIFOs as --stdin are refused up front.

Deterministic: nothing races a clock. The kernel says when the guest is blocked (its thread's wchan is
"wait_for_partner" in the FIFO's open), the command line's timeout is the per-call one (counted from the call's
start, not the command's), and the library test ends the blocked call itself once it was given up on."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading

import pytest
from conftest import ROOT

pytestmark = pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs FIFOs (POSIX)")

READ_FIFO = """(module
  (import "wasi_snapshot_preview1" "path_open"
    (func $open (param i32 i32 i32 i32 i32 i64 i64 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "fd_read" (func $read (param i32 i32 i32 i32) (result i32)))
  (memory (export "memory") 1)
  (data (i32.const 100) "pipe")
  (func (export "readpipe") (result i32)
    (local $e i32)
    (local.set $e (call $open (i32.const 3) (i32.const 0) (i32.const 100) (i32.const 4) (i32.const 0)
                   (i64.const 2) (i64.const 2) (i32.const 0) (i32.const 200)))
    (if (local.get $e) (then (return (i32.add (i32.const 1000) (local.get $e)))))
    (i32.store (i32.const 300) (i32.const 400))
    (i32.store (i32.const 304) (i32.const 16))
    (call $read (i32.load (i32.const 200)) (i32.const 300) (i32.const 1) (i32.const 320))))"""


@pytest.fixture
def fifo_dir(tmp_path, wat_file):
    d = tmp_path / "d"
    d.mkdir()
    os.mkfifo(d / "pipe")
    return wat_file(READ_FIFO), str(d)


def _start(args):
    return subprocess.Popen([sys.executable, "-m", "wasmem", *args], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, env={**os.environ, "PYTHONPATH": ROOT})


def _blocked_in_fifo_open(pid: int) -> bool:
    """Whether a thread of ``pid`` waits in open(2) of a FIFO for its other end (Linux: its wchan)."""
    try:
        tasks = os.listdir(f"/proc/{pid}/task")
    except OSError:
        return False
    for tid in tasks:
        try:
            with open(f"/proc/{pid}/task/{tid}/wchan") as f:
                if f.read().strip() == "wait_for_partner":
                    return True
        except OSError:
            continue
    return False


def _wait_until_blocked(proc) -> None:
    while not _blocked_in_fifo_open(proc.pid):
        if proc.poll() is not None:
            raise AssertionError(proc.communicate())
        threading.Event().wait(0.01)


def test_the_library_calls_on_stuck_for_a_call_blocked_on_a_fifo(fifo_dir):
    """In-process: the session's own on_stuck gets the stop's reason and message; then the test ends the
    blocked read itself (closing the write end gives the guest end-of-file)."""
    from wasmem.parser import WasmModule
    from wasmem.runtime.session import Session

    path, d = fifo_dir
    stuck = threading.Event()
    got = []

    def on_stuck(reason, message):
        got.append((reason, message))
        stuck.set()

    def unblock():  # once the watcher has given up on the call: a writer opens the FIFO and closes it (EOF)
        stuck.wait(120)
        os.close(os.open(os.path.join(d, "pipe"), os.O_WRONLY | os.O_NONBLOCK))

    t = threading.Thread(target=unblock, daemon=True)
    t.start()
    with Session(WasmModule.from_file(path), timeout=1, wasi_dirs=(f"{d}:.",), on_stuck=on_stuck) as s:
        r = s.call("readpipe", [])
    t.join(120)
    assert r is not None  # it returned once unblocked (what the engine gives back then is its own)
    assert got == [("timeout", "timed out after 1 s (--timeout), but the call is blocked in a host call that "
                               "cannot be interrupted (a WASI open or read of a FIFO or a device under --dir?)")]


def test_a_timeout_ends_a_call_blocked_on_a_fifo(fifo_dir):
    """No --timeout: the call's own 10 s, counted from the call's start, however long the start took."""
    path, d = fifo_dir
    proc = _start(["call", path, "readpipe", "--dir", f"{d}:."])
    try:
        out, err = proc.communicate(timeout=300)
    except subprocess.TimeoutExpired:
        proc.kill()
        raise
    assert proc.returncode == 1
    assert err == ("wasmem: error: timed out after 10 s (--timeout), but the call is blocked in a host call that "
                   "cannot be interrupted (a WASI open or read of a FIFO or a device under --dir?)\n")


def test_ctrl_c_ends_a_call_blocked_on_a_fifo_without_a_timeout(fifo_dir):
    path, d = fifo_dir
    proc = _start(["call", path, "readpipe", "--dir", f"{d}:.", "--timeout", "0"])
    if os.path.isdir(f"/proc/{proc.pid}/task"):
        _wait_until_blocked(proc)  # the guest is in the call, blocked in the FIFO's open
    else:  # pragma: no cover - no procfs: give it time
        threading.Event().wait(5.0)
    proc.send_signal(signal.SIGINT)
    try:
        out, err = proc.communicate(timeout=120)
    except subprocess.TimeoutExpired:
        proc.kill()
        raise
    assert proc.returncode == 130 and err == "wasmem: interrupted\n"
