"""The interactive prompt: completion (commands, exports, symbols, struct fields) and history, driven through
prompt_toolkit's pipe input and through a real pseudo-terminal running `wasmem shell`."""

from __future__ import annotations

import io
import os
import select
import subprocess
import sys
import threading
import time

import pytest
from conftest import ROOT, sample

from wasmem.render.common import make_console
from wasmem.shell import Shell

pytest.importorskip("prompt_toolkit")


@pytest.fixture
def shell():
    buf = io.StringIO()
    sh = Shell(sample("memdemo-debug.wasm"), console=make_console(file=buf, width=100, color=False))
    sh.buf = buf
    yield sh
    sh.close()


def complete(shell, text):
    from wasmem.shell.repl import ShellCompleter

    return [c for c, _ in ShellCompleter(shell).candidates(text)]


def test_completion_candidates(shell):
    assert complete(shell, "ch") == ["chase"]
    assert "process_string" in complete(shell, "call proc")
    assert complete(shell, "info re") == ["regions"]
    assert complete(shell, "p conf") == ["config"]
    assert complete(shell, "p config.") == ["version", "size", "meta", "title", "flags"]
    assert complete(shell, "p config.meta.o") == ["origin"]
    assert complete(shell, "p node_a->ne") == ["next"]
    assert complete(shell, "p *node_a->next->v") == ["value"]
    assert complete(shell, "p node_a.") == ["value", "next"]
    assert complete(shell, "p config.version.") == []  # not a struct
    assert complete(shell, "help sn") == ["snapshot"]
    shell.execute("p 1")
    assert complete(shell, "x/4x $") == ["$1", "$_"]
    shell.execute("snapshot before")
    assert complete(shell, "diff b") == ["before"]
    assert complete(shell, 'write 0 "open') == []


def _feed(inp, keys, pause=0.3):
    for k in keys:
        time.sleep(pause)
        inp.send_text(k)


def test_the_prompt_completes_with_tab_and_keeps_history(shell, tmp_path, monkeypatch):
    from prompt_toolkit.input import create_pipe_input
    from prompt_toolkit.output import DummyOutput

    from wasmem.shell.repl import interact

    hist = tmp_path / "history"
    monkeypatch.setenv("WASMEM_HISTORY", str(hist))
    with create_pipe_input() as inp:
        # completion runs as a task of the prompt's loop: give it time before the next key
        keys = ["p config.meta.sc\t", "\r", "call process_str\t", " $1\r",  # an error: printed, the prompt goes on
                "info s\t", "p\r", "quit\r"]
        feeder = threading.Thread(target=_feed, args=(inp, keys), daemon=True)
        feeder.start()
        assert interact(shell, input=inp, output=DummyOutput()) == 0
        feeder.join()
    text = shell.buf.getvalue()
    assert "config.meta.scale (double) = 1.5" in text
    assert "process_string expects" in text
    assert "sp = 0x10000" in text
    saved = hist.read_text()
    assert "p config.meta.scale" in saved and "info sp" in saved


def test_end_of_input_leaves(shell, monkeypatch):
    from prompt_toolkit.input import create_pipe_input
    from prompt_toolkit.output import DummyOutput

    from wasmem.shell.repl import interact

    monkeypatch.setenv("WASMEM_HISTORY", "")
    with create_pipe_input() as inp:
        inp.send_text("p 2 * 21\r")
        inp.close()
        assert interact(shell, input=inp, output=DummyOutput()) == 0
    assert shell.last == 42


@pytest.mark.skipif(sys.platform == "win32", reason="pseudo-terminals are POSIX")
def test_completion_in_a_pseudo_terminal(tmp_path):
    import fcntl
    import pty
    import struct
    import termios

    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 40, 120, 0, 0))
    env = dict(os.environ, WASMEM_HISTORY=str(tmp_path / "h"), TERM="xterm", PYTHONPATH=ROOT, NO_COLOR="1",
               COLUMNS="120", LINES="40")
    proc = subprocess.Popen([sys.executable, "-c", "from wasmem.cli.main import main; main()", "shell",
                             sample("memdemo-debug.wasm")], stdin=slave, stdout=slave, stderr=slave, env=env,
                            close_fds=True, cwd=ROOT)
    os.close(slave)
    seen = b""

    def read_until(token: bytes, timeout: float = 30.0) -> None:
        nonlocal seen
        end = time.monotonic() + timeout
        while token not in seen:
            left = end - time.monotonic()
            assert left > 0, f"no {token!r} in {seen[-2000:]!r}"
            r, _, _ = select.select([master], [], [], left)
            if r:
                try:
                    chunk = os.read(master, 65536)
                except OSError:
                    break
                if not chunk:
                    break
                seen += chunk
        assert token in seen, seen[-2000:]

    try:
        read_until(b"(wasmem)")
        os.write(master, b"p node_a->ne\t")
        read_until(b"next")
        os.write(master, b"\r")
        read_until(b"<node_b>")
        os.write(master, b"quit\r")
        proc.wait(timeout=30)
        assert proc.returncode == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        os.close(master)
