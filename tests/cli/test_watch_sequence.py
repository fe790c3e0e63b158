"""`wasmem watch MODULE TARGET… --after CALL…`: a watched sequence, grouped by call, with targets through a
pointer re-resolved before every call (real sample, real wasmtime)."""

import json

import pytest
from conftest import run_main, sample

from wasmem.app import open_session
from wasmem.app.watch import watch_calls

SEQ = sample("watchseq.wasm")


def test_the_sequence_is_grouped_by_call_and_the_bug_is_named(capsys):
    calls = [a for v in ("push 1", "push 2", "push 3", "push 4", "push 9") for a in ("--after", v)]
    code, out, err = run_main(capsys, "watch", SEQ, "list.used", *calls, "--json")
    assert code == 0, err
    d = json.loads(out)
    assert [c["call"] for c in d["calls"]] == ["push 1", "push 2", "push 3", "push 4", "push 9"]
    assert [c["hits"] for c in d["calls"]] == [[1], [2], [3], [4], [5, 6]]
    hits = d["watch"]["hits"]
    assert [h["call"] for h in hits] == ["call 1: push"] * 1 + ["call 2: push", "call 3: push", "call 4: push"] + \
        ["call 5: push"] * 2
    assert [(h["old_value"], h["new_value"]) for h in hits] == [("0", "1"), ("1", "2"), ("2", "3"), ("3", "4"),
                                                                ("4", "5"), ("5", "9")]
    # the fifth push takes pool[4], which is list.used: `n->value = v` (line 36) overwrites the counter
    assert hits[5]["location"].endswith("watchseq.c:36") and hits[5]["function"] == "push"
    assert all(h["label"] == "list.used" for h in hits)
    code, out, err = run_main(capsys, "watch", SEQ, "list.used", *calls)
    assert code == 0, err
    assert "call 5: ran push(9) → 5" in out and "2 hits" in out and "list.used  5 → 9" in out


def test_a_target_through_a_pointer_follows_it_call_by_call(capsys):
    code, out, err = run_main(capsys, "watch", SEQ, "head->value", "--after", "push 1", "--after", "bump 2",
                         "--after", "push 5", "--after", "bump 3", "--after", "pop", "--after", "bump 4", "--json")
    assert code == 0, err
    d = json.loads(out)
    # null at the start: pending until push 1 sets head; each push moves it to the next node of the pool
    assert [c["hits"] for c in d["calls"]] == [[], [1], [], [2], [], [3]]
    hits = d["watch"]["hits"]
    assert [(h["address"], h["old_value"], h["new_value"]) for h in hits] == [
        (0x10000, "1", "3"), (0x10008, "5", "8"), (0x10000, "3", "7")]
    notes = d["watch"]["notes"]
    assert notes == ["head->value re-resolved (call 2: bump): unresolved → [0x10000, 0x10004)",
                     "head->value re-resolved (call 4: bump): [0x10000, 0x10004) → [0x10008, 0x1000c)",
                     "head->value re-resolved (call 6: bump): [0x10008, 0x1000c) → [0x10000, 0x10004)"]


def test_stop_ends_the_sequence_at_the_writer(capsys):
    code, out, err = run_main(capsys, "watch", SEQ, "head->value", "--stop", "--after", "push 1", "--after", "bump 2",
                         "--after", "used", "--json")
    assert code == 1, err
    d = json.loads(out)
    assert [c["call"] for c in d["calls"]] == ["push 1", "bump 2"] and d["skipped"] == ["used"]
    assert d["ok"] is False and d["watch"]["stopped_at"] == 1
    assert d["calls"][1]["result"]["trap"]["kind"] == "watchpoint"
    code, out, err = run_main(capsys, "watch", SEQ, "head->value", "--stop", "--after", "push 1", "--after", "bump 2",
                         "--after", "used")
    assert code == 1 and "not run (a call before it trapped): used" in out and "watchseq.c:47" in out


def test_trace_writes_and_reads_over_the_sequence(capsys):
    code, out, err = run_main(capsys, "watch", SEQ, "list.used", "--access", "rw", "--trace-writes", "--after", "push 1",
                         "--after", "used", "--json")
    assert code == 0, err
    d = json.loads(out)
    accesses = [(h["access"], h["call"]) for h in d["watch"]["hits"]]
    assert ("write", "call 1: push") in accesses and ("read", "call 2: used") in accesses
    assert {r["function"] for r in d["watch"]["write_map"]["rows"]} == {"push"}


@pytest.mark.parametrize("argv, message", [
    (("list.used",), 'give the calls to watch with --after "FUNC ARGS"'),
    (("--after", "push 1"), "give a TARGET to watch"),
    (("list.used", "--after", "nosuch 1"), "'nosuch' is not an exported function"),
    (("list.used", "--after", "push 'x"), "cannot parse call"),
    (("nosuch", "--after", "push 1"), "nosuch"),
])
def test_bad_input_is_one_line_exit_2(capsys, argv, message):
    code, out, err = run_main(capsys, "watch", SEQ, *argv)
    assert code == 2 and out == "", out
    assert err.startswith("wasmem: error: ") and err.count("\n") == 1 and message in err, err


def test_watching_changes_nothing_the_calls_compute():
    """The differential proof for sequences: the watched run returns the same values and leaves the same
    memory as a plain instance running the same calls."""
    calls = ["push 3", "push 4", "bump 7", "push 5", "push 6", "push 8", "pop", "bump 1", "used"]
    seq = watch_calls(SEQ, ["list.used", "head->value", "0x10000:40"], calls, trace_writes=True)
    plain = open_session(SEQ)
    try:
        got = [s.outcome.result.results for s in seq.steps]
        want = [plain.call(c.split()[0], c.split()[1:]).results for c in calls]
        assert got == want
        size = plain.memory_size(0)
        assert seq.session.memory_size(0) == size
        assert seq.session.read(0, size) == plain.read(0, size)
        assert len(seq.report.hits) > 9
    finally:
        plain.close()
        seq.session.close()


def test_before_calls_run_first_unwatched_and_the_targets_resolve_after_them(capsys):
    code, out, err = run_main(capsys, "watch", SEQ, "head->value", "list.used", "--before", "push 1", "--before", "push 2",
                         "--after", "bump 3", "--after", "pop", "--after", "bump 1", "--json")
    assert code == 0, err
    d = json.loads(out)
    assert [(b["call"], b["hits"]) for b in d["before"]] == [("push 1", []), ("push 2", [])]
    assert [c["hits"] for c in d["calls"]] == [[1], [], [2]]
    assert d["watch"]["targets"][1]["start"] == 0x10020
    # resolved after the setup: the head is pool[1]; pop moves it back to pool[0] for the last bump
    assert [(h["address"], h["call"]) for h in d["watch"]["hits"]] == [(0x10008, "call 1: bump"),
                                                                      (0x10000, "call 3: bump")]
    code, out, err = run_main(capsys, "watch", SEQ, "list.used", "--before", "push 1", "--after", "used")
    assert code == 0 and "before 1: ran push(1) → 1" in out and "(not watched)" in out


def test_a_setup_call_that_fails_ends_the_run_before_anything_is_watched(capsys):
    code, out, err = run_main(capsys, "watch", SEQ, "list.used", "--before", "push 1", "--before", "push 2 3",
                         "--after", "used")
    assert code == 2 and "push" in err  # a wrong argument count is a usage error, before anything is shown


def test_a_setup_call_that_traps_ends_the_run_before_anything_is_watched(capsys):
    code, out, err = run_main(capsys, "watch", sample("memdemo.wasm"), "0x10000:4", "--before", "divide 1 0",
                         "--after", "get_counter", "--json")
    assert code == 1, err
    d = json.loads(out)
    assert d["ok"] is False and d["calls"] == [] and d["skipped"] == ["get_counter"]
    assert d["before"][0]["result"]["trap"]["kind"] == "integer_division_by_zero"
    assert d["watch"]["targets"] == [] and d["watch"]["hits"] == []


def test_a_name_the_module_does_not_have_is_not_an_unknown_address(capsys):
    # a C global the linker dropped (unused): not in DWARF, the name section nor the exports
    code, out, err = run_main(capsys, "watch", SEQ, "guard", "--after", "push 1")
    assert code == 2 and out == "" and err.count("\n") == 1
    assert err.startswith("wasmem: error: 'guard' is not in the module: no data symbol, export or named global "
                          "has that name (symbols from the dwarf); the linker may have removed it (e.g. unused), or "
                          f"it was never defined; `wasmem symbols {SEQ}` lists the names it has")
    code, _, err2 = run_main(capsys, "watch", SEQ, "guard.x", "--after", "push 1")  # a path from it: the same
    assert code == 2 and err2 == err
    assert "unknown address" not in err
    code, _, err = run_main(capsys, "watch", SEQ, "lis", "--after", "push 1")  # a near miss gets suggestions
    assert code == 2 and "'lis' is not in the module" in err and "did you mean: list" in err
