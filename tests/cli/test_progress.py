"""The compile status: on stderr only, only when stderr is a terminal or WASMEM_PROGRESS=1 forces it, after
WASMEM_PROGRESS_DELAY seconds (0 here: at once); stdout and --json stay clean. The Session hook contract.
(The two plain lines of a stderr that is not a terminal: tests/cli/test_fail_fast.py.)"""

import io
import json
import re

import pytest
from click.testing import CliRunner
from conftest import sample

from wasmem.cli.common import compile_progress
from wasmem.cli.main import cli
from wasmem.errors import UsageError
from wasmem.parser import WasmModule
from wasmem.render.common import SafeConsole
from wasmem.render.progress import CompileLines, CompileStatus, compile_status_factory

ESC = "\x1b"


def run(args, env):
    return CliRunner().invoke(cli, args, env=env)


@pytest.mark.parametrize("extra", [[], ["--json"]])
def test_forced_status_reaches_stderr_only(extra):
    path = sample("memdemo.wasm")
    r = run(["call", path, "get_counter", *extra],
            {"WASMEM_PROGRESS": "1", "WASMEM_PROGRESS_DELAY": "0", "WASMEM_CACHE_DIR": None})
    assert r.exit_code == 0, r.output
    assert "memdemo.wasm (" in r.stderr and " s" in r.stderr
    assert "preparing" in r.stderr or "compiling" in r.stderr
    assert "memdemo.wasm (" not in r.stdout and ESC not in r.stdout
    if extra:
        assert json.loads(r.stdout)["function"] == "get_counter"


def test_dump_and_chase_show_it_too():
    path = sample("memdemo.wasm")
    env = {"WASMEM_PROGRESS": "1", "WASMEM_PROGRESS_DELAY": "0"}
    for args in (["dump", path, "--at", "0x400", "--len", "16"], ["chase", path, "0x400", "--json"]):
        r = run(args, env)
        assert "memdemo.wasm (" in r.stderr and "memdemo.wasm (" not in r.stdout, args


@pytest.mark.parametrize("env", [{}, {"WASMEM_PROGRESS": "0", "WASMEM_PROGRESS_DELAY": "0"}])
def test_nothing_when_stderr_is_not_a_terminal_or_turned_off(env):
    r = run(["call", sample("memdemo.wasm"), "get_counter"], {"WASMEM_PROGRESS": None, **env})
    assert r.exit_code == 0 and r.stderr == ""


def test_the_hook_is_none_unless_wanted(monkeypatch):
    monkeypatch.setenv("WASMEM_PROGRESS", "0")
    assert compile_progress() is None
    monkeypatch.delenv("WASMEM_PROGRESS", raising=False)
    monkeypatch.delenv("WASMEM_PROGRESS_MIN_BYTES", raising=False)
    hook = compile_progress()  # pytest's stderr is not a terminal: plain lines, for a large module only
    assert not isinstance(hook("small.wasm", 1000, False), CompileLines)
    assert isinstance(hook("big.wasm", 32 << 20, False), CompileLines)
    monkeypatch.setenv("WASMEM_PROGRESS", "1")
    monkeypatch.setenv("WASMEM_PROGRESS_DELAY", "bad")
    assert callable(compile_progress())


def status_text(delay: float, work, cached=True, phase="compiling"):
    out = io.StringIO()
    console = SafeConsole(file=out, force_terminal=True, width=100, highlight=False, markup=False)
    st = CompileStatus(console, "big.wasm", 32 * 2**20, cached, delay)
    with st:
        st.phase(phase)
        work()
    return st, out.getvalue()


def test_status_text_size_elapsed_and_cache_note():
    st, text = status_text(0, lambda: None)
    assert st.shown_at is not None
    # the elapsed figure is whatever the machine took (0.1 s on a loaded one): its shape, not its value
    assert re.search(r"compiling big\.wasm \(32 MiB\): \d+\.\d s · cached next time", text), text
    _, text = status_text(0, lambda: None, cached=False)
    assert "compiling big.wasm (32 MiB)" in text and "cached next time" not in text
    _, text = status_text(0, lambda: None, phase="preparing")
    assert "preparing big.wasm" in text and "cached next time" not in text


def test_a_fast_start_shows_nothing():
    st, text = status_text(30, lambda: None)
    assert st.shown_at is None and text == ""


def test_the_timer_starts_it_while_work_runs():
    """The work lasts until the status has appeared (however long a loaded machine takes to wake the timer):
    it appears by the timer, not before the delay."""
    import threading

    out = io.StringIO()
    console = SafeConsole(file=out, force_terminal=True, width=100, highlight=False, markup=False)
    st = CompileStatus(console, "big.wasm", 32 * 2**20, True, 0.05)
    with st:
        st.phase("compiling")
        for _ in range(60_000):  # at most 10 minutes
            if st.shown_at is not None:
                break
            threading.Event().wait(0.01)
    assert st.shown_at is not None and st.shown_at >= 0.05
    assert "compiling big.wasm" in out.getvalue()


class Recorder:
    def __init__(self):
        self.events = []

    def __call__(self, name, size, cached):
        self.events.append(("start", name, size, cached))
        rec = self

        class CM:
            def __enter__(self):
                rec.events.append("enter")
                return self

            def phase(self, text):
                rec.events.append(("phase", text))

            def __exit__(self, *exc):
                rec.events.append("exit")

        return CM()


def test_session_hook_contract(tmp_path, monkeypatch):
    from wasmem.app import open_session

    monkeypatch.setenv("WASMEM_CACHE_DIR", str(tmp_path))
    path = sample("memdemo.wasm")
    hook = Recorder()
    with open_session(path, on_compile=hook, timeout=5) as s:
        assert s.call("get_counter", []).ok
    size = WasmModule.from_file(path).size
    assert hook.events == [("start", "memdemo.wasm", size, True), "enter", ("phase", "compiling"), "exit"]
    hook = Recorder()
    with open_session(path, on_compile=hook, timeout=5, cache=False):
        pass
    assert hook.events[0] == ("start", "memdemo.wasm", size, False)


def test_session_stops_the_status_when_it_fails_before_compiling():
    from wasmem.app import open_session

    hook = Recorder()
    with pytest.raises(UsageError):  # --check-stack needs a stack pointer: fails after the status started
        open_session(sample("nomemory.wasm"), on_compile=hook, check_stack=True, timeout=5)
    assert hook.events[-1] == "exit" and "enter" in hook.events


def test_a_failing_hook_is_ignored():
    from wasmem.app import open_session

    def broken(name, size, cached):
        raise RuntimeError("display gone")

    with open_session(sample("memdemo.wasm"), on_compile=broken, timeout=5) as s:
        assert s.call("get_counter", []).ok


def test_factory_writes_to_the_file_it_is_given():
    out = io.StringIO()
    st = compile_status_factory(force=True, delay=0, file=out)("x.wasm", 1536, False)
    with st:
        st.phase("compiling")
    assert "compiling x.wasm (1.5 KiB)" in out.getvalue()


def test_stack_call_shows_it_too():
    r = run(["stack", sample("memdemo.wasm"), "--call", "get_counter"],
            {"WASMEM_PROGRESS": "1", "WASMEM_PROGRESS_DELAY": "0"})
    assert r.exit_code == 0, r.output
    assert "memdemo.wasm (" in r.stderr and "memdemo.wasm (" not in r.stdout
