"""The error contract (issue 18): every I/O and usage error is one line and exit 2, non-regular files are
refused before anything reads them, every command validates a module as `inspect` does."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
from conftest import sample

from wasmem.cli.main import main

WASMEM = os.path.join(os.path.dirname(sys.executable), "wasmem")
# a type section declaring 16 bytes that the file does not have
MALFORMED = b"\0asm\x01\0\0\0\x01\x10\x00"


def run(capsys, *argv):
    with pytest.raises(SystemExit) as ei:
        main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return ei.value.code, out, err


def one_line_error(err: str) -> bool:
    return err.startswith("wasmem: error: ") and err.count("\n") == 1 and "internal error" not in err


@pytest.fixture
def fifo(tmp_path):
    path = tmp_path / "pipe.wasm"
    os.mkfifo(path)
    return path


@pytest.mark.parametrize("command,extra", [("inspect", []), ("symbols", []), ("stack", []), ("dump", []),
                                           ("call", ["f"]), ("chase", ["x"]),
                                           ("check", ["--require-max-memory", "--no-config"])])
def test_a_fifo_is_refused_before_reading(capsys, fifo, command, extra):
    code, out, err = run(capsys, command, fifo, *extra)  # would block forever if anything opened it
    assert code == 2, (out, err)
    assert "is a FIFO (named pipe), not a module file" in err


def test_devices_and_directories_are_named(capsys, tmp_path):
    code, _, err = run(capsys, "inspect", "/dev/zero")
    assert code == 2 and "/dev/zero: is a character device, not a module file" in err
    code, _, err = run(capsys, "inspect", tmp_path)
    assert code == 2 and "is a directory, not a module file" in err
    code, _, err = run(capsys, "inspect", tmp_path / "missing.wasm")
    assert code == 2 and "no such file" in err


@pytest.mark.parametrize("command", ["inspect", "symbols", "stack", "dump", "chase"])
def test_every_command_rejects_what_inspect_rejects(capsys, tmp_path, command):
    bad = tmp_path / "bad.wasm"
    bad.write_bytes(MALFORMED)
    argv = [command, bad] + (["x"] if command == "chase" else [])
    code, out, err = run(capsys, *argv)
    assert code == 2 and one_line_error(err), (out, err)
    assert "(at offset 0x" in err


def test_svg_into_a_missing_folder(capsys, tmp_path):
    code, _, err = run(capsys, "inspect", sample("memdemo.wasm"), "--svg", tmp_path / "no" / "such" / "x.svg")
    assert code == 2 and one_line_error(err)
    assert "cannot write" in err and "No such file or directory" in err


@pytest.mark.skipif(not os.path.exists("/dev/full"), reason="no /dev/full on this system")
@pytest.mark.parametrize("extra", [[], ["--json"]])
def test_a_full_device_is_an_error_not_a_crash(extra):
    with open("/dev/full", "w") as full:
        proc = subprocess.run([WASMEM, "inspect", sample("memdemo.wasm"), *extra], stdout=full,
                              stderr=subprocess.PIPE, text=True, timeout=60)
    assert proc.returncode == 2, proc.stderr
    assert proc.stderr == "wasmem: error: cannot write standard output: No space left on device\n"


def test_closed_stdout_is_an_error():
    proc = subprocess.run([WASMEM, "inspect", sample("memdemo.wasm")], stdout=subprocess.DEVNULL,
                          stderr=subprocess.PIPE, text=True, timeout=60,
                          preexec_fn=lambda: os.close(1))
    assert proc.returncode == 2 and "standard output is closed" in proc.stderr


def test_closed_pipe_is_quiet():
    proc = subprocess.run(f"'{WASMEM}' dump '{sample('memdemo.wasm')}' --len 65536 | head -1", shell=True,
                          capture_output=True, text=True, timeout=60)
    assert proc.stdout.count("\n") == 1 and proc.stderr == ""


# -- config files -------------------------------------------------------------------------------------
@pytest.mark.parametrize("content,message", [
    (b"[tool.wasmem.check]\nrequire-stack-first = true\n# \xff\xfe\n", "not UTF-8 text (at offset 0x31)"),
    (b"[tool.wasmem.check]\nx = " + b"[" * 100_000 + b"]" * 100_000 + b"\n", "nested too deeply"),
    (b"[tool.wasmem.check]\nrecursion-depth = 0\nstack-headroom = 10\n", "recursion-depth must be an integer of at least 1"),
    (b"[tool.wasmem.check]\nstack-headroom = nan\n", "must be a percentage"),
])
def test_bad_configs_are_one_line(capsys, tmp_path, monkeypatch, content, message):
    (tmp_path / "pyproject.toml").write_bytes(content)
    monkeypatch.chdir(tmp_path)
    code, _, err = run(capsys, "check", sample("memdemo.wasm"))
    assert code == 2 and one_line_error(err), err
    assert message in err


def test_a_fifo_config_or_module_entry_is_refused(capsys, tmp_path, fifo, monkeypatch):
    code, _, err = run(capsys, "check", sample("memdemo.wasm"), "--config", fifo, "--require-max-memory")
    assert code == 2 and one_line_error(err) and "is a FIFO (named pipe), not a config file" in err
    (tmp_path / "wasmem.toml").write_text(f'modules = ["{fifo.name}"]\nrequire-max-memory = true\n')
    monkeypatch.chdir(tmp_path)
    code, out, err = run(capsys, "check")
    assert code == 2 and "is a FIFO (named pipe), not a module file" in out + err


# -- snapshots ---------------------------------------------------------------------------------------
def test_snapshot_larger_than_the_memory_can_be(capsys, tmp_path):
    wat = tmp_path / "small.wat"
    wat.write_text('(module (memory (export "memory") 1 2))')
    snap = tmp_path / "snap.bin"
    snap.write_bytes(bytes(3 * 65536))
    code, _, err = run(capsys, "dump", wat, "--snapshot", snap)
    assert code == 2 and one_line_error(err)
    assert "196608 bytes, more than memory 0 of this module can hold (131072 bytes)" in err
    snap.write_bytes(bytes(2 * 65536))
    code, out, err = run(capsys, "dump", wat, "--snapshot", snap, "--len", "16")
    assert code == 0, err


def test_snapshot_must_be_a_regular_file(capsys, fifo):
    code, _, err = run(capsys, "dump", sample("memdemo.wasm"), "--snapshot", fifo)
    assert code == 2 and one_line_error(err) and f"--snapshot {fifo}: is a FIFO (named pipe), not a memory image" in err


def test_stdin_must_be_a_regular_file(capsys, fifo):
    """A FIFO as WASI's stdin would block the guest inside the engine, where no --timeout reaches."""
    code, _, err = run(capsys, "call", sample("hello_wasi.wasm"), "greet", "1", "--stdin", fifo)
    assert code == 2 and one_line_error(err) and f"--stdin {fifo}: is a FIFO (named pipe), not a regular file" in err


@pytest.mark.parametrize("command,extra", [("inspect", []), ("symbols", []), ("stack", []), ("dump", []),
                                           ("call", ["f"]), ("chase", ["x"]), ("heap", []),
                                           ("watch", ["x", "--after", "f"]),
                                           ("check", ["--require-max-memory", "--no-config"])])
def test_a_truncated_module_names_its_file_and_offset(capsys, tmp_path, command, extra):
    """A module cut short (a copy interrupted): the one-line error says which file is bad, and where."""
    cut = tmp_path / "cut.wasm"
    cut.write_bytes(open(sample("memdemo-debug.wasm"), "rb").read()[:1000])
    code, out, err = run(capsys, command, cut, *extra)
    assert code == 2 and one_line_error(err), (out, err)
    assert err.startswith(f"wasmem: error: {cut}: ") and "(at offset 0x" in err, err


def test_a_truncated_module_given_with_a_coredump_names_its_file(capsys, tmp_path):
    from coredump_util import CRASH_CORE, CRASH_WASM

    cut = tmp_path / "cut.wasm"
    cut.write_bytes(open(CRASH_WASM, "rb").read()[:200])
    for argv in (["backtrace", CRASH_CORE, cut], ["dump", cut, "--core", CRASH_CORE]):
        code, out, err = run(capsys, *argv)
        assert code == 2 and one_line_error(err), (argv, out, err)
        assert err.startswith(f"wasmem: error: {cut}: ") and "(at offset 0x" in err, (argv, err)


def test_every_cut_of_a_module_loads_or_names_its_file(tmp_path):
    """Wherever the file ends, loading it either works (a cut between sections leaves a valid module) or the
    error names the file."""
    from wasmem.api import load_module
    from wasmem.errors import ParseError

    data = open(sample("memdemo.wasm"), "rb").read()
    path = tmp_path / "cut.wasm"
    failed = 0
    for n in range(len(data)):
        path.write_bytes(data[:n])
        try:
            load_module(path).close()
        except ParseError as exc:
            failed += 1
            assert str(exc).startswith(f"{path}: "), (n, str(exc))
    assert failed > len(data) // 2
