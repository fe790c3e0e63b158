"""Host-import calls are folded by default (issue 25 item 7): one line per import with its count, an import
called once shown whole; --host-calls all lists every call, none leaves them out; --json keeps every call
whatever the text shows; the shell takes the same option."""

from __future__ import annotations

import io
import json

from conftest import run_main
from rich.console import Console

from wasmem.render.call import MAX_HOST_CALLS, host_calls_lines
from wasmem.runtime.hosts.base import HostCall

CHATTY = """(module
  (import "env" "tick" (func $tick (param i32)))
  (import "env" "done" (func $done (param i32) (result i32)))
  (memory (export "memory") 1)
  (func (export "run") (param $n i32) (result i32) (local $i i32)
    (block $out (loop $next
      (br_if $out (i32.ge_u (local.get $i) (local.get $n)))
      (call $tick (local.get $i))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br $next)))
    (call $done (i32.const 7))))"""


def _host_lines(out: str) -> list[str]:
    lines = out.splitlines()
    start = next((i for i, line in enumerate(lines) if line.startswith("host imports called")), None)
    return [] if start is None else [line.rstrip() for line in lines[start:]]


def test_calls_are_folded_per_import_by_default(capsys, wat_file):
    path = wat_file(CHATTY)
    code, out, err = run_main(capsys, "call", path, "run", "30")
    assert code == 0, err
    assert _host_lines(out) == ["host imports called: 31 (2 imports; --host-calls all lists every call)",
                                "  env.tick ×30  [stub]",
                                "  env.done(7) → 0  [stub]"]  # called once: the call itself


def test_all_lists_every_call_and_none_leaves_them_out(capsys, wat_file):
    path = wat_file(CHATTY)
    code, out, err = run_main(capsys, "call", path, "run", "30", "--host-calls", "all")
    lines = _host_lines(out)
    assert lines[0] == "host imports called: 31" and len(lines) == 32
    assert lines[1:4] == ["  env.tick(0)  [stub]", "  env.tick(1)  [stub]", "  env.tick(2)  [stub]"]
    assert lines[-1] == "  env.done(7) → 0  [stub]"
    code, out, err = run_main(capsys, "call", path, "run", "30", "--host-calls", "none")
    assert code == 0 and "host imports" not in out and "env.tick" not in out
    code, out, err = run_main(capsys, "call", path, "run", "1", "--host-calls", "nonsense")
    assert code == 2 and "--host-calls" in err


def test_json_keeps_every_call_whatever_the_text_shows(capsys, wat_file):
    path = wat_file(CHATTY)
    for mode in ("summary", "none", "all"):
        code, out, err = run_main(capsys, "call", path, "run", "30", "--host-calls", mode, "--json")
        calls = json.loads(out)["host_calls"]
        assert [c["import"] for c in calls] == ["env.tick"] * 30 + ["env.done"]
        assert [c["args"] for c in calls[:3]] == [[0], [1], [2]]


def test_the_shell_folds_too_and_takes_the_option(capsys, wat_file):
    path = wat_file(CHATTY)
    code, out, err = run_main(capsys, "shell", path, "-c", "call run 5")
    assert code == 0, err
    assert "  env.tick ×5  [stub]" in out and "env.tick(3)" not in out
    code, out, err = run_main(capsys, "shell", path, "--host-calls", "all", "-c", "call run 5")
    assert "env.tick(3)  [stub]" in out and "×" not in out
    code, out, err = run_main(capsys, "shell", path, "--host-calls", "none", "-c", "call run 5")
    assert "host imports" not in out and "env.tick" not in out


def _render(lines) -> list[str]:
    buf = io.StringIO()
    console = Console(width=100, file=buf, color_system=None)
    for line in lines:
        console.print(line)
    return buf.getvalue().splitlines()


def test_many_imports_are_capped_and_unrecorded_calls_are_counted():
    calls = [HostCall("env", f"f{k}", (k,), stub=True) for k in range(MAX_HOST_CALLS + 5) for _ in range(2)]
    out = _render(host_calls_lines(calls, "summary", dropped=3))
    assert out[0] == f"host imports called: {len(calls) + 3} ({MAX_HOST_CALLS + 5} imports; --host-calls all lists " \
                     f"every call)"
    assert out[1:3] == ["  env.f0 ×2  [stub]", "  env.f1 ×2  [stub]"] and len(out) == 1 + MAX_HOST_CALLS + 2
    assert out[-2] == "  … 5 more imports (--host-calls all lists every call)"
    assert out[-1] == f"  … 3 more calls not recorded (the first {len(calls)} are kept)"
    out = _render(host_calls_lines(calls, "all", dropped=3))
    assert len(out) == 1 + len(calls) + 1 and out[-1].startswith("  … 3 more not recorded")
    # a message (an abort's text, a trace line) stays visible when folded: the last one
    said = [HostCall("env", "trace", (), handled_by="assemblyscript", message=f"step {k}") for k in range(3)]
    assert _render(host_calls_lines(said)) == ["host imports called: 3 (1 import; --host-calls all lists every call)",
                                               "  env.trace ×3  last: 'step 2'"]
