"""`watch` in the shell: hits after each command, --stop, unwatch, asserts on watch.hits, the instance reopened
for watching with its state carried over (or rewritten from the start with --watch-slots)."""

from __future__ import annotations

import os

from conftest import ROOT, run_main, sample
from shell_util import reopened_matches_plain

SEQ = sample("watchseq.wasm")
EXAMPLE = os.path.join(ROOT, "examples", "watch.wms")


def test_the_example_script_passes(capsys):
    code, out, err = run_main(capsys, "shell", SEQ, "-x", EXAMPLE)
    assert code == 0, out + err
    assert "the instance was reopened rewritten for 8 watch slots" in out
    assert "memory and globals were carried over" in out
    assert "list.used  1 → 2" in out  # push 1 ran before the reopen: its count was carried over
    assert "watchpoint: i32.store of 4 bytes at 0x10008" in out and "#0  bump  watchseq.c:47" in out
    assert "head->value re-resolved (call bump 5): [0x10000, 0x10004) →" in out
    assert out.count("ok: ") == 7


def test_watch_slots_rewrites_from_the_start_and_reset_keeps_the_watches(capsys):
    code, out, err = run_main(capsys, "shell", SEQ, "--watch-slots", "2", "-c", "watch list.used", "-c", "watch list.pushes",
                         "-c", "call push 1", "-c", "assert watch.hits == 2", "-c", "reset",
                         "-c", "call push 1", "-c", "assert watch.hits == 2", "-c", "assert watch.total == 2")
    assert code == 0, out + err
    assert "reopened" not in out


def test_errors_in_a_script_and_at_the_prompt(capsys):
    code, out, err = run_main(capsys, "shell", SEQ, "--watch-slots", "1", "-c", "watch list.used", "-c", "watch list")
    assert code == 2 and "-c:2: every watch slot (1) is in use: unwatch one, or start the shell with --watch-slots N" \
        in err
    code, out, err = run_main(capsys, "shell", SEQ, "-c", "watch sp")
    assert code == 2 and "--watch sp watches a data-first stack" in err and "reopened" not in out
    code, out, err = run_main(capsys, "shell", SEQ, "-c", "unwatch 3")
    assert code == 2 and "no watch 3 (watches: none)" in err
    code, out, err = run_main(capsys, "shell", SEQ, "-c", "watch list.used", "-c", "watch list.used")
    assert code == 2 and "list.used is already watched (watch 1)" in err
    code, out, err = run_main(capsys, "shell", SEQ, "-c", "watch", "-c", "assert watch.hits == 0",
                         "-c", "call push 1", "-c", "assert watch.hits == 1")
    assert code == 1 and "no watches" in out and "assertion failed: watch.hits == 1 (left side is 0)" in err


def test_a_pending_target_is_watched_once_its_pointer_is_set(capsys):
    code, out, err = run_main(capsys, "shell", SEQ, "-c", "watch head->value", "-c", "call push 4",
                         "-c", "assert watch.hits == 0", "-c", "call bump 1", "-c", "assert watch.hits == 1",
                         "-c", "watch")
    assert code == 0, out + err
    assert "watch 1: head->value not resolved yet (a null pointer): watched once it is" in out
    assert "head->value re-resolved (call bump 1): unresolved → [0x10000," in out
    assert "list.pool[0].value  4 → 5" in out


def test_a_coredump_session_refuses_watch(capsys):
    from coredump_util import CRASH_CORE, CRASH_WASM

    code, out, err = run_main(capsys, "shell", CRASH_WASM, "--core", CRASH_CORE, "-c", "watch accounts")
    assert code == 2 and "this session is the coredump" in err
    code, out, err = run_main(capsys, "shell", CRASH_WASM, "--core", CRASH_CORE, "--watch-slots", "2", "-c", "bt")
    assert code == 2 and "--watch-slots: a coredump session runs nothing to watch" in err


def test_reopening_for_watch_carries_the_state_over_and_changes_nothing():
    """The reopened (instrumented) instance holds the same memory and globals, and the calls after it compute
    what a plain instance that never reopened computes (results and memory)."""
    calls = ["push 1", "push 2", "bump 3", "push 4", "push 5", "push 6", "pop", "bump 1", "used"]
    sh = reopened_matches_plain(SEQ, calls, ["watch list", "watch head->value"])
    try:
        assert sh.session.watch_pass is not None
        assert len(sh.session.watch_recorder.report.hits) > 5
    finally:
        sh.close()


def test_watch_sp_stops_a_data_first_overflow_in_the_shell(capsys):
    demo = sample("watchdemo.wasm")
    code, out, err = run_main(capsys, "shell", demo, "-c", "watch sp --stop", "-c", "watch settings.limit",
                         "-c", "call deep 3", "-c", "assert watch.hits == 0", "-c", "call deep 8",
                         "-c", "assert watch.hits == 1", "-c", "bt", "-c", "call reset_scores",
                         "-c", "assert watch.hits == 1", "-c", "assert settings.limit == -1", "-c", "watch")
    assert code == 0, out + err
    assert "watch 1: sp [sp, 0x480) below the stack's low end 0x480 (--stop)" in out
    assert "#1   deep  watchdemo.c:39  i32.store8" in out and "called from deep ×6" in out
    assert "stopped at hit #1 (--stop): the write did not happen" in out
    assert "#2   reset_scores  watchdemo.c:31  i32.store" in out
    assert "2 watches (8 slots and sp," in out
    code, out, err = run_main(capsys, "shell", demo, "--watch-slots", "1", "-c", "watch sp", "-c", "watch settings",
                         "-c", "watch scores")
    assert code == 2 and "reopened" not in out and "-c:3: every watch slot (1) is in use" in err


def test_watch_reads_reports_loads_too(capsys):
    code, out, err = run_main(capsys, "shell", SEQ, "--watch-reads", "-c", "call push 3", "-c", "watch list.used",
                         "-c", "call used", "-c", "assert watch.hits == 1", "-c", "call push 4",
                         "-c", "assert watch.hits == 2", "-c", "assert watch.total == 3")
    assert code == 0, out + err
    assert "every store and load now" in " ".join(out.split())
    assert "used  watchseq.c:59  i32.load" in out and "list.used  = 1" in out
    code, out, err = run_main(capsys, "shell", sample("memdemo.wasm"), "--core", "nosuch.core", "--watch-reads")
    assert code == 2 and "--watch-reads: a coredump session runs nothing to watch" in err
