"""The interactive prompt: completion (commands, exports, symbols, struct fields) and history, driven through
prompt_toolkit's pipe input and through a real pseudo-terminal running `wasmem shell`."""

from __future__ import annotations

import os
import select
import subprocess
import sys
import threading
import time

import pytest
from conftest import ROOT, sample
from shell_util import buffered_shell

pytest.importorskip("prompt_toolkit")


@pytest.fixture
def shell():
    sh = buffered_shell(sample("memdemo-debug.wasm"))
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
    assert complete(shell, "heap f") == ["findings"]
    assert complete(shell, "assert heap.b") == ["heap.bytes"]
    shell.execute("p 1")
    assert complete(shell, "x/4x $") == ["$1", "$_"]
    shell.execute("snapshot before")
    assert complete(shell, "diff b") == ["before"]
    assert complete(shell, 'write 0 "open') == []


WAIT = 90.0  # seconds: generous, for a loaded machine; every wait polls and ends as soon as its output shows


def _feed(inp, steps, sessions):
    """Sends each step's keys; after a Tab, waits until the prompt's line reads what the completion makes of it
    (completion runs as a task of the prompt's loop: a key sent before it has run would overtake it)."""
    for keys, want in steps:
        inp.send_text(keys)
        end = time.monotonic() + WAIT
        while want is not None and not (sessions and sessions[-1].default_buffer.text == want):
            if time.monotonic() > end:
                return  # the test's assertions then say what is missing
            time.sleep(0.01)


def test_the_prompt_completes_with_tab_and_keeps_history(shell, tmp_path, monkeypatch):
    import prompt_toolkit
    from prompt_toolkit.input import create_pipe_input
    from prompt_toolkit.output import DummyOutput

    from wasmem.shell.repl import interact

    sessions = []

    class Watched(prompt_toolkit.PromptSession):  # the session interact() makes, for the feeder to watch
        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            sessions.append(self)

    monkeypatch.setattr(prompt_toolkit, "PromptSession", Watched)
    hist = tmp_path / "history"
    monkeypatch.setenv("WASMEM_HISTORY", str(hist))
    with create_pipe_input() as inp:
        steps = [("p config.meta.sc\t", "p config.meta.scale"), ("\r", None),
                 ("call process_str\t", "call process_string"), (" $1\r", None),  # an error: printed, the prompt goes on
                 ("info s\t", None), ("p\r", None), ("quit\r", None)]  # several topics: Tab adds nothing
        feeder = threading.Thread(target=_feed, args=(inp, steps, sessions), daemon=True)
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


def _controlling_terminal():
    """In the child: a session of its own with the pseudo-terminal (its stdin) as the controlling terminal,
    so that Ctrl-C typed there is a SIGINT to it, as in a real terminal."""
    import fcntl
    import termios

    os.setsid()
    fcntl.ioctl(0, termios.TIOCSCTTY, 0)


class Terminal:
    """`wasmem shell MODULE [ARGS]` on a pseudo-terminal of 120x40."""

    def __init__(self, tmp_path, module, *args):
        import fcntl
        import pty
        import struct
        import termios

        self.master, slave = pty.openpty()
        fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 40, 120, 0, 0))
        env = dict(os.environ, WASMEM_HISTORY=str(tmp_path / "h"), TERM="xterm", PYTHONPATH=ROOT, NO_COLOR="1",
                   COLUMNS="120", LINES="40", PROMPT_TOOLKIT_NO_CPR="1")  # nothing answers cursor queries here
        self.proc = subprocess.Popen([sys.executable, "-c", "from wasmem.cli.main import main; main()", "shell",
                                      module, *args], stdin=slave, stdout=slave, stderr=slave, env=env, close_fds=True,
                                     cwd=ROOT, preexec_fn=_controlling_terminal)
        os.close(slave)
        self.seen = b""

    def mark(self) -> int:
        """Where the output read so far ends: ``read_until(…, after=t.mark())`` waits for output still to come."""
        return len(self.seen)

    def read_until(self, token: bytes, timeout: float = WAIT, after: int = 0) -> None:
        """Reads until ``token`` shows in the output (from offset ``after`` on)."""
        end = time.monotonic() + timeout
        while token not in self.seen[after:]:
            left = end - time.monotonic()
            assert left > 0, f"no {token!r} in {self.seen[-3000:]!r}"
            r, _, _ = select.select([self.master], [], [], left)
            if r:
                try:
                    chunk = os.read(self.master, 65536)
                except OSError:
                    break
                if not chunk:
                    break
                self.seen += chunk
        assert token in self.seen[after:], self.seen[-3000:]

    def wait_cooked(self, timeout: float = WAIT) -> None:
        import termios

        end = time.monotonic() + timeout
        while not termios.tcgetattr(self.master)[3] & termios.ISIG:
            assert time.monotonic() < end, "the terminal stayed in raw mode"
            time.sleep(0.05)
        time.sleep(0.3)

    def send(self, data: bytes) -> None:
        os.write(self.master, data)

    def close(self) -> int | None:
        try:
            self.proc.wait(timeout=WAIT)
        finally:
            if self.proc.poll() is None:
                self.proc.kill()
                self.proc.wait()
            os.close(self.master)
        return self.proc.returncode


@pytest.mark.skipif(sys.platform == "win32", reason="pseudo-terminals are POSIX")
def test_view_inside_the_shell_and_back(tmp_path):
    t = Terminal(tmp_path, sample("memdemo-debug.wasm"))
    try:
        t.read_until(b"(wasmem)")
        t.send(b"call allocate 16\r")
        t.read_until(b"= 65728")
        t.send(b"view config\r")
        t.read_until(b"endianness")  # the app's key help (its content is tested through the pilot)
        time.sleep(0.5)
        mark = len(t.seen)
        t.send(b"q")
        t.read_until(b"(wasmem)", after=mark)  # back at the prompt, same instance
        t.send(b"p 6 * 7\r")
        t.read_until(b"= 42")
        t.send(b"quit\r")
    finally:
        assert t.close() == 0


@pytest.mark.skipif(sys.platform == "win32", reason="pseudo-terminals are POSIX")
def test_a_coredump_session_refuses_a_call_goes_on_and_views_the_dump(tmp_path):
    from coredump_util import CRASH_CORE, CRASH_WASM

    t = Terminal(tmp_path, CRASH_WASM, "--core", CRASH_CORE)
    try:
        t.read_until(b"(wasmem)")
        assert b"coredump crash.core of crash.wasm" in t.seen
        t.send(b"call _start\r")
        t.read_until(b"this session is the coredump crash.core")
        t.send(b"view accounts[2]\r")
        t.read_until(b"endianness")  # the app over the dump (its content is tested through the pilot)
        time.sleep(0.5)
        mark = len(t.seen)
        t.send(b"q")
        t.read_until(b"(wasmem)", after=mark)
        t.send(b"p accounts[2].balance\r")
        t.read_until(b"= 7")
        t.send(b"quit\r")
    finally:
        assert t.close() == 0


@pytest.mark.skipif(sys.platform == "win32", reason="pseudo-terminals are POSIX")
def test_ctrl_c_stops_a_call_and_the_shell_goes_on(tmp_path):
    t = Terminal(tmp_path, sample("memdemo.wasm"))
    try:
        t.read_until(b"(wasmem)")
        t.send(b"call spin\r")
        t.read_until(b"\x1b[?2004l")  # the prompt has taken the line
        t.wait_cooked()  # and has given the terminal back (Ctrl-C is a signal again): the call runs
        t.send(b"\x03")
        t.read_until(b"interrupted")
        t.send(b"call apply 1 7\r")
        t.read_until(b"= 49 (0x31)")
        t.send(b"quit\r")
    finally:
        assert t.close() == 0


@pytest.mark.skipif(sys.platform == "win32", reason="pseudo-terminals are POSIX")
def test_completion_in_a_pseudo_terminal(tmp_path):
    t = Terminal(tmp_path, sample("memdemo-debug.wasm"))
    try:
        t.read_until(b"(wasmem)")
        mark = t.mark()  # (a slow start-up's progress line says "cached next time")
        t.send(b"p node_a->ne\t")
        # the completion's "xt" drawn after the typed text (a redraw of the whole line, or those two letters
        # alone when the typed text was drawn first): only then may Enter follow, or it overtakes the completion
        t.read_until(b"xt", after=mark)
        t.send(b"\r")
        t.read_until(b"<node_b>", after=mark)
        t.send(b"quit\r")
    finally:
        assert t.close() == 0
