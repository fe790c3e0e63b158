"""`heap` and `leaks` under the command's deadline (issue 24): the calls stop at it, and a report built after it
lists at least BLOCKS_FLOOR live blocks and then stops, with a note naming what it left out and the option that
lifts it. Deterministic: the deadline ends a guest that loops forever, so it has certainly passed when the
report is built, and the cut lands on a fixed block (the first check after the floor). The command-line tests
give the calls before the endless one a limit far above what they take (4 s for 40,000 tracked mallocs)."""

from __future__ import annotations

import pytest
from conftest import run_main, wat

from wasmem.app.heap import live_heap, open_heap_session
from wasmem.deadline import Deadline
from wasmem.runtime.heap import BLOCKS_FLOOR

MANY = """(module
  (memory (export "memory") 16)
  (global $top (mut i32) (i32.const 1024))
  (global $calls (mut i32) (i32.const 0))
  (func $malloc (export "malloc") (param i32) (result i32) (local i32)
    (local.set 1 (global.get $top))
    (global.set $top (i32.add (global.get $top) (i32.and (i32.add (local.get 0) (i32.const 15)) (i32.const -16))))
    (local.get 1))
  (func $free (export "free") (param i32))
  (func $run (export "run") (param $n i32) (local $i i32)
    (block $done (loop $more
      (br_if $done (i32.ge_u (local.get $i) (local.get $n)))
      (drop (call $malloc (i32.const 16)))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br $more))))
  (func (export "spin") (loop $l (br $l)))
  ;; allocates n blocks; the third call then loops forever
  (func (export "step") (param $n i32)
    (call $run (local.get $n))
    (global.set $calls (i32.add (global.get $calls) (i32.const 1)))
    (if (i32.ge_u (global.get $calls) (i32.const 3)) (then (loop $l (br $l))))))"""

N = 20_000  # > BLOCKS_FLOOR + 4096: the cut is at block BLOCKS_FLOOR


@pytest.fixture(scope="module")
def many(tmp_path_factory):
    p = tmp_path_factory.mktemp("many") / "many.wasm"
    p.write_bytes(wat(MANY))
    return str(p)


def test_a_report_past_the_deadline_lists_the_floor_and_says_what_it_cut(many):
    clock = [0.0]
    session, symbols = open_heap_session(many, timeout=0, deadline=Deadline(5, clock=lambda: clock[0]))
    try:
        assert session.call("run", [str(N)]).ok
        report = live_heap(session, symbols, ["run 20000"])
        assert len(report.blocks) == N and not [n for n in report.notes if "was cut" in n]  # in time: whole
        clock[0] = 100.0  # the deadline has passed
        report = live_heap(session, symbols, ["run 20000"])
        assert len(report.blocks) == BLOCKS_FLOOR
        assert [b.address for b in report.blocks] == sorted(b.address for b in report.blocks)
        (note,) = [n for n in report.notes if "was cut" in n]
        assert note == ("the heap report was cut at the 5 s deadline (--timeout, counted from the command's start): "
                        f"{N - BLOCKS_FLOOR} of {N} live blocks are left out (those at the highest addresses); the "
                        "table counts those listed; run with --timeout SECONDS (longer, or 0 for no limit) for all "
                        "of it")
        session.deadline = None  # no deadline: whole again
        assert len(live_heap(session, symbols).blocks) == N
    finally:
        session.close()


def test_heap_on_the_command_line_stops_the_calls_and_cuts_the_report(many, capsys):
    code, out, err = run_main(capsys, "heap", many, "--after", f"run {N}", "--after", "spin", "--timeout", "4")
    assert code == 1 and "--after 'spin': timed out after 4 s (--timeout)" in out
    assert f"{N - BLOCKS_FLOOR} of {N} live blocks are left out" in " ".join(err.split())


def test_leaks_on_the_command_line_stops_the_calls_and_cuts_the_report(many, capsys):
    code, out, err = run_main(capsys, "leaks", many, f"step {N}", "--repeat", "5", "--timeout", "4")
    assert code == 1 and "call 3 of 'step 20000': timed out after 4 s (--timeout)" in " ".join(out.split())
    # blocks of calls 2 and 3 outlive the first call: 2 N of them, listed up to the floor
    assert "the leak report was cut at the 4 s deadline" in " ".join(err.split())
    assert f"{2 * N - BLOCKS_FLOOR} of {2 * N} live blocks are left out" in " ".join(err.split())
