"""The console script's quick exit (cli/main.py's ``entry``: main(), the exit handlers, flushed output, then
os._exit instead of the interpreter freeing every object): output is complete and exit codes are main's."""

from __future__ import annotations

import os
import subprocess
import sys

from conftest import SAMPLES

ROOT = os.path.dirname(SAMPLES)


def wasmem(*argv, **kw) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": ROOT}
    return subprocess.run([sys.executable, "-m", "wasmem", *argv], capture_output=True, text=True, env=env,
                          cwd=ROOT, timeout=300, **kw)


def test_output_is_whole_and_exit_codes_are_mains():
    r = wasmem("inspect", "samples/memdemo.wasm", "--json")
    assert r.returncode == 0 and r.stderr == ""
    assert r.stdout.rstrip().endswith("}") and len(r.stdout) > 1000  # all of it, flushed before the exit
    r = wasmem("inspect", "samples/no-such.wasm")
    assert r.returncode == 2 and r.stdout == "" and r.stderr == "wasmem: error: samples/no-such.wasm: no such file\n"
    r = wasmem("check", "samples/memdemo-datafirst.wasm", "--require-stack-first")
    assert r.returncode == 1 and "stack" in r.stdout


def test_a_reader_that_stops_early_is_no_error():
    env = {**os.environ, "PYTHONPATH": ROOT}
    # far more than a pipe holds, so the writer sees the closed pipe
    p = subprocess.Popen([sys.executable, "-m", "wasmem", "dump", "samples/memdemo.wasm", "--at", "0", "--len", "131072"],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env, cwd=ROOT)
    p.stdout.read(1)
    p.stdout.close()  # the reader goes away (`| head -c 1`)
    err = p.stderr.read()
    assert p.wait(timeout=300) == 0 and b"Traceback" not in err and b"Exception ignored" not in err
