"""One deadline per command (issue 24, wasmem/deadline.py): it bounds the compile (run where the deadline can
abandon it), every guest call (the smaller of the call's own timeout and what is left) and the shell's
commands, each its own. Deterministic: a deadline here has already passed (a fake clock, or a limit far below
what any work takes), a guest loops forever, and a slow compile is an injected one that waits on an Event;
nothing races a wall clock."""

from __future__ import annotations

import io
import threading

import pytest
import wasmtime
from conftest import run_main, wat

from wasmem.deadline import Deadline, TimedOut
from wasmem.errors import AnalysisTimeout
from wasmem.parser import WasmModule
from wasmem.runtime.engine import compile_module
from wasmem.runtime.session import Session

SPIN = '(module (memory (export "memory") 1) (func (export "spin") (loop $l (br $l))) (func (export "f") (result i32) (i32.const 7)))'


class Clock:
    def __init__(self, t: float = 0.0):
        self.t = t

    def __call__(self) -> float:
        return self.t


def expired(seconds: float = 2.0) -> Deadline:
    return Deadline(seconds, clock=Clock(100.0), started=0.0)


def module(text: str = SPIN) -> WasmModule:
    return WasmModule.from_bytes(wat(text), "m.wasm")


def test_a_deadline_on_a_fake_clock():
    clock = Clock()
    d = Deadline(2, clock=clock)
    assert d.left() == 2 and not d.expired() and d.limit(10) == 2 and d.limit(1) == 1 and d.limit(0) == 2
    clock.t = 1.5
    with d.paused():  # a prompt inside a call: the time spent there is given back
        clock.t = 30.0
        assert d.left() == 0.5
    assert d.left() == 0.5 and not d.expired()
    clock.t = 31.0
    assert d.expired() and d.left() == 0 and d.limit(10) == 0
    with pytest.raises(AnalysisTimeout, match=r"^the heap report did not finish in 2 s \(--timeout; 0 = no limit\)$"):
        d.check("the heap report")
    assert "--timeout SECONDS" in d.cut_note("the report", "3 sites left out")
    free = Deadline(0)
    assert free.left() is None and free.limit(5) == 5 and free.limit(None) is None and not free.expired()


def test_an_expired_deadline_stops_the_real_compile_before_it_starts():
    with pytest.raises(TimedOut) as ei:
        Session(module(), deadline=expired(), cache=False)
    assert not ei.value.abandoned and ei.value.exit_code == 1
    assert str(ei.value) == ("timed out after 2 s (--timeout) before m.wasm was compiled: the compile did not "
                             "start; run with a longer --timeout (0 = no limit)")


def test_the_real_compile_runs_in_the_worker_within_a_deadline():
    engine = wasmtime.Engine()
    m = compile_module(engine, wat(SPIN), "m.wasm", str, Deadline(3600))
    assert isinstance(m, wasmtime.Module) and [e.name for e in m.exports] == ["memory", "spin", "f"]
    with pytest.raises(Exception, match="wasmtime cannot compile m.wasm"):  # its errors come back from the worker
        compile_module(engine, b"\0asm\x01\0\0\0\x01", "m.wasm", str, Deadline(3600))


def test_a_compile_past_the_deadline_is_abandoned_and_finishes_in_the_background():
    release, done = threading.Event(), threading.Event()

    def slow_compile(engine, raw):  # stands for wasmtime's one C call that nothing stops
        release.wait(60)
        done.set()
        return wasmtime.Module(engine, raw)

    reads = iter([0.0, 0.0, 100.0])  # started, the check before starting: in time; then the deadline has passed
    d = Deadline(2, clock=lambda: next(reads, 100.0))
    with pytest.raises(TimedOut) as ei:
        compile_module(wasmtime.Engine(), wat(SPIN), "m.wasm", str, d, compile=slow_compile)
    assert ei.value.abandoned and "the compile was abandoned (it finishes in the background, unused)" in str(ei.value)
    release.set()
    assert done.wait(60)  # the worker went on and finished


def test_a_call_gets_the_smaller_of_its_timeout_and_what_the_deadline_leaves():
    with Session(module(), timeout=3600) as s:
        s.deadline = expired(2)
        r = s.call("spin", [])  # loops forever: only the deadline ends it
        assert r.trap is not None and r.trap.kind == "timeout" and r.trap.message == "timed out after 2 s (--timeout)"
        s.deadline = Deadline(3600)
        assert s.call("f", []).results == [7]
        s.deadline = None  # the call's own limit alone
        assert s.call("f", []).results == [7]
    clock = Clock()
    with Session(module(), timeout=0, deadline=Deadline(5, clock=clock)) as s2:  # opened under a deadline: kept
        clock.t = 100.0
        r = s2.call("spin", [])
        assert r.trap.kind == "timeout" and r.trap.message == "timed out after 5 s (--timeout)"


def test_paused_holds_the_commands_deadline_too():
    clock = Clock()
    d = Deadline(2, clock=clock)
    with Session(module(), timeout=0, deadline=d) as s:
        with s.invoker.paused():
            clock.t = 50.0  # a person at a prompt
        assert d.left() == 2 and s.call("f", []).results == [7]


def test_the_shell_says_a_reopen_was_stopped_and_keeps_its_instance():
    from wasmem.render.common import make_console
    from wasmem.shell import Shell

    out = io.StringIO()
    sh = Shell(wat_path := _write(SPIN), console=make_console(file=out, width=200),
               options={"deadline": Deadline(3600)})  # as `wasmem shell --timeout 3600` opens it
    try:
        before = sh.session
        sh.options["deadline"] = Deadline(1e-9)  # as if started with --timeout 1e-9: each command gets that much
        sh.onecmd("reset")  # its own deadline (1e-9 s from the command's start) has passed at the compile
        text = " ".join(out.getvalue().split())
        assert ("timed out after 1e-09 s (--timeout) before m.wasm was compiled: the compile did not start; run "
                "with a longer --timeout (0 = no limit); the shell goes on with the instance it had") in text
        assert sh.session is before
        sh.options["deadline"] = Deadline(3600)
        sh.onecmd("reset")  # the next command has its own deadline
        assert sh.session.deadline.seconds == 3600 and sh.session.deadline is not sh.options.get("x")
        assert sh.session is not before and "a fresh instance" in out.getvalue()
    finally:
        sh.close()
    assert wat_path


def test_the_cli_prints_the_one_line_timeout_error_for_a_compile(tmp_path, capsys, monkeypatch):
    """Through main(): the deadline counts from the command's start, so a limit of a nanosecond has passed
    before the compile starts; exit 1 as for a call stopped by --timeout."""
    p = tmp_path / "m.wasm"
    p.write_bytes(wat(SPIN))
    code, out, err = run_main(capsys, "call", str(p), "f", "--timeout", "1e-9")
    assert code == 1 and out == ""
    assert err == ("wasmem: error: timed out after 1e-09 s (--timeout) before m.wasm was compiled: the compile did "
                   "not start; run with a longer --timeout (0 = no limit)\n")


def _write(text: str) -> str:
    import os
    import tempfile

    d = tempfile.mkdtemp()
    path = os.path.join(d, "m.wasm")
    with open(path, "wb") as f:
        f.write(wat(text))
    return path


def test_the_python_api_makes_a_deadline_per_call_that_takes_a_timeout(tmp_path):
    """``wasmem.call(..., timeout=)`` bounds the whole call from its start (a nanosecond has passed before the
    compile), ``wasmem.stack(..., timeout=)`` the analysis after the layout; without one, no deadline."""
    import wasmem

    p = tmp_path / "m.wasm"
    p.write_bytes(wat(SPIN))
    with pytest.raises(TimedOut, match="before m.wasm was compiled"):
        wasmem.call(str(p), "f", timeout=1e-9)
    out = wasmem.call(str(p), "f", timeout=3600)
    try:
        assert out.result.results == [7] and out.session.deadline.seconds == 3600
    finally:
        out.session.close()
    out = wasmem.call(str(p), "f")
    try:
        assert out.session.deadline is None
    finally:
        out.session.close()
    with pytest.raises(AnalysisTimeout, match="the stack analysis did not finish in 1e-09 s"):
        wasmem.stack(str(p), timeout=1e-9)


def test_without_timeout_each_call_has_its_own_limit_and_the_command_none(tmp_path, capsys):
    """No --timeout: no command deadline (what the command shows cannot depend on how long it took to start);
    each call still stops after 10 s of its own."""
    from wasmem.cli import call as cli_call

    captured = {}
    real = cli_call.command_deadline

    def spy(seconds):
        captured["seconds"] = seconds
        return real(seconds)

    p = tmp_path / "m.wasm"
    p.write_bytes(wat(SPIN))
    cli_call.command_deadline = spy
    try:
        code, out, _ = run_main(capsys, "call", str(p), "f")
        assert code == 0 and "7" in out and captured == {}
        code, out, _ = run_main(capsys, "call", str(p), "f", "--timeout", "30")
        assert code == 0 and captured == {"seconds": 30.0}
    finally:
        cli_call.command_deadline = real
