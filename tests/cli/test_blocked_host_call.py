"""A call blocked inside the engine's own WASI (issue 18, "timeouts with holes"): opening a FIFO under --dir
waits in one of wasmtime's worker threads, where neither the epoch nor a signal reaches. The command line
still stops it: the watcher, finding the call not returned STUCK_GRACE seconds after the stop, exits with
the stop's message and code (1 for the timeout, 130 for Ctrl-C). FIFOs as --stdin are refused up front."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

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


def test_a_timeout_ends_a_call_blocked_on_a_fifo(fifo_dir):
    path, d = fifo_dir
    t0 = time.perf_counter()
    proc = _start(["call", path, "readpipe", "--dir", f"{d}:.", "--timeout", "1"])
    try:
        out, err = proc.communicate(timeout=30)
    except subprocess.TimeoutExpired:
        proc.kill()
        raise
    assert proc.returncode == 1
    assert err == ("wasmem: error: timed out after 1 s (--timeout), but the call is blocked in a host call that "
                   "cannot be interrupted (a WASI open or read of a FIFO or a device under --dir?)\n")
    assert time.perf_counter() - t0 < 20  # 1 s + the 2 s grace, plus start-up and compile


def test_ctrl_c_ends_a_call_blocked_on_a_fifo_without_a_timeout(fifo_dir):
    path, d = fifo_dir
    subprocess.run([sys.executable, "-m", "wasmem", "inspect", path], capture_output=True,
                   env={**os.environ, "PYTHONPATH": ROOT}, timeout=60)  # warm the compile cache
    proc = _start(["call", path, "readpipe", "--dir", f"{d}:.", "--timeout", "0"])
    time.sleep(2.0)
    assert proc.poll() is None, proc.communicate()
    proc.send_signal(signal.SIGINT)
    try:
        out, err = proc.communicate(timeout=20)
    except subprocess.TimeoutExpired:
        proc.kill()
        raise
    assert proc.returncode == 130 and err == "wasmem: interrupted\n"
