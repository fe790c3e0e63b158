"""A call that fills megabytes of memory in one `memory.fill` is reported as ONE range by every command that
shows changes (call, dump --after, the shell's call and diff, view, the Python API), with the range's first
bytes only; a call that changes more ranges than --max-changes keeps says how many more and how many bytes.
(Speed and peak memory on 64 and 256 MiB are bench/changecost.py's; nothing here is timed.)"""

from __future__ import annotations

import io
import json

import pytest
import wasmtime
from conftest import run_main
from rich.console import Console

import wasmem
from wasmem.model.ranges import MAX_RANGES
from wasmem.runtime.memory import EXCERPT

PAGES = 48  # 3 MiB: large enough for many chunks of the diff, small enough for a fast test
SIZE = PAGES * 65536
FILL_WAT = f"""(module (memory (export "memory") {PAGES} {PAGES})
  (func (export "fill") (param i32)
    (memory.fill (i32.const 0) (local.get 0) (i32.mul (memory.size) (i32.const 65536))))
  (func (export "scatter") (param $n i32) (local $i i32)
    (block $done (loop $next
      (br_if $done (i32.ge_u (local.get $i) (local.get $n)))
      (i32.store8 (i32.mul (local.get $i) (i32.const 16)) (i32.const 7))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br $next)))))"""
GROW_WAT = """(module (memory (export "memory") 1 8)
  (func (export "grow_fill") (param i32)
    (drop (memory.grow (i32.const 3)))
    (memory.fill (i32.const 65536) (local.get 0) (i32.const 131072))))"""


@pytest.fixture
def run(capsys):
    return lambda *argv: run_main(capsys, *argv)


@pytest.fixture(scope="module")
def fill(tmp_path_factory):
    p = tmp_path_factory.mktemp("changes") / "fill.wasm"
    p.write_bytes(wasmtime.wat2wasm(FILL_WAT))
    return str(p)


def test_call_reports_one_range_with_its_first_bytes(run, fill):
    code, out, err = run("call", fill, "fill", "1")
    assert code == 0, err
    assert f"memory: {SIZE} bytes changed in 1 range" in out
    assert f"[0x0, {SIZE:#x}) {SIZE} bytes" in out
    assert f"… {SIZE - 64} more bytes" in out
    code, out, err = run("call", fill, "fill", "1", "--json")
    d = json.loads(out)
    (c,) = d["changes"]
    assert (c["start"], c["end"]) == (0, SIZE) and c["truncated"] == SIZE - EXCERPT
    assert c["after"] == "01" * EXCERPT and c["before"] == "00" * EXCERPT
    assert "changes_omitted" not in d


def test_dump_after_reports_one_range_and_highlights_the_window(run, fill):
    code, out, err = run("dump", fill, "--after", "fill 1", "--at", "0", "--len", "16", "--json")
    assert code == 0, err
    d = json.loads(out)
    (c,) = d["calls"][0]["changes"]
    assert (c["start"], c["end"]) == (0, SIZE)
    o = wasmem.dump(fill, "0x100", 32, after=["fill 1"])
    assert [r.changed for r in o.dump.rows] == [tuple(range(16))] * 2  # every byte of the window changed
    assert list(o.calls[0].changed(0)) == [(0, SIZE)]
    code, out, err = run("dump", fill, "--after", "fill 1", "--at", "0", "--len", "16")
    assert f"ran fill(1)  ({SIZE} bytes changed)" in out


def test_the_shell_call_and_diff_report_one_range(run, fill):
    code, out, err = run("shell", fill, "-c", "snapshot s", "-c", "call fill 1", "-c", "diff s")
    assert code == 0, err
    assert out.count(f"{SIZE} bytes changed in 1 range") == 2  # the call's view and `diff s`


def test_the_python_api_and_the_shells_highlight_set(fill):
    outcome = wasmem.call(fill, "fill", ["2"])
    try:
        r = outcome.result
        (c,) = r.changes
        assert (c.start, c.end, c.size, c.cut) == (0, SIZE, SIZE, SIZE - EXCERPT)
        assert c.after == b"\x02" * EXCERPT and r.changed_bytes == SIZE
        changed = r.changed(0)
        assert list(changed) == [(0, SIZE)] and changed.total == SIZE and 0 in changed and SIZE not in changed
    finally:
        outcome.session.close()
    from wasmem.shell.core import Shell

    shell = Shell(fill, console=Console(file=io.StringIO()))
    try:
        shell.execute("call fill 3")
        assert list(shell.changed) == [(0, SIZE)]
    finally:
        shell.session.close()


def test_view_source_holds_ranges(fill):
    from wasmem.shell.view import SessionSource

    s = wasmem.open(fill)
    try:
        r = s.call("fill", ["1"])
        src = SessionSource(s, None, r.changed(0))
        assert src.changed.total == SIZE and src.changed.count == 1 and (SIZE - 1) in src.changed
    finally:
        s.close()


def test_many_ranges_are_capped_with_a_note(run, fill):
    code, out, err = run("call", fill, "scatter", "30", "--max-changes", "4")
    assert code == 0, err
    assert "memory: 30 bytes changed in 30 ranges" in out
    assert "  … 26 more ranges (26 bytes) not kept; --max-changes keeps more" in out
    code, out, err = run("call", fill, "scatter", "30", "--max-changes", "4", "--json")
    d = json.loads(out)
    assert [(c["start"], c["end"]) for c in d["changes"]] == [(0, 1), (16, 17), (32, 33), (48, 49)]
    assert d["changes_omitted"] == {"ranges": 26, "bytes": 26}


def test_the_default_cap(fill):
    n = MAX_RANGES + 50
    outcome = wasmem.call(fill, "scatter", [str(n)])
    try:
        r = outcome.result
        assert len(r.changes) == MAX_RANGES and r.changes_omitted == 50 and r.changes_omitted_bytes == 50
        assert r.changed_bytes == n
    finally:
        outcome.session.close()


def test_growth_is_compared_with_zeros(tmp_path):
    p = tmp_path / "grow.wasm"
    p.write_bytes(wasmtime.wat2wasm(GROW_WAT))
    outcome = wasmem.call(str(p), "grow_fill", ["9"])
    try:
        r = outcome.result
        assert [(c.start, c.end) for c in r.changes] == [(65536, 196608)]
        assert [(g.old_pages, g.new_pages) for g in r.growth] == [(1, 4)]
        assert outcome.result.changes[0].before == bytes(EXCERPT)
    finally:
        outcome.session.close()


def test_the_commands_deadline_stops_the_diff_and_says_what_was_not_compared(fill):
    """wasmem's own comparison after a call is bounded by the command's deadline: past it, the call's result is
    kept and a note names the bytes not compared. Deterministic: a fake clock that an observer moves past the
    deadline as the call ends (the guest's own run is not cut)."""
    from wasmem.deadline import Deadline
    from wasmem.runtime.observers import Observer

    now, late = [0.0], [True]

    class Late(Observer):
        name = "late"

        def end_call(self, call, result):
            if late[0]:
                now[0] = 1000.0  # the call took "minutes": the deadline has passed when the diff starts

    with wasmem.open(fill, deadline=Deadline(60, clock=lambda: now[0]), probes=(Late,)) as s:
        r = s.call("fill", ["1"])
        assert r.ok and r.changes == [] and r.changed_bytes == 0
        (note,) = r.limit_notes
        assert note.startswith("comparing memory 0 with its image before the call was cut at the 60 s deadline")
        assert f"bytes 0x0..{SIZE:#x} were not compared" in note and "--timeout SECONDS" in note
        now[0], late[0] = 0.0, False
        s.deadline = Deadline(60, clock=lambda: now[0])
        r = s.call("fill", ["2"])
        assert r.limit_notes == [] and r.changed_bytes == SIZE  # in time: all compared, nothing cut
