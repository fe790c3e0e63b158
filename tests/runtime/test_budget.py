"""The resource budget of a run (issue 18): --max-memory is the total over all memories, tables have a total
of entries, guest output is capped and a runaway writer stopped, --timeout reaches a WASI sleep, Ctrl-C
stops a running call at once, and nan/inf are not timeouts. Crafted modules under real wasmtime."""

import json
import os
import signal
import subprocess
import sys
import threading
import time

import pytest
import wasmtime
from click.testing import CliRunner
from conftest import ROOT, wat

from wasmem.cli.main import cli, main
from wasmem.errors import RunError, UsageError
from wasmem.parser import WasmModule
from wasmem.runtime.budget import level
from wasmem.runtime.session import Session

PAGE = 65536
MiB = 2**20


def session(text: str, **kw) -> Session:
    kw.setdefault("timeout", 300)  # a safety net against a hang, far above any load: never what a test checks
    return Session(WasmModule.from_bytes(wat(text), "m.wasm"), **kw)


def many_memories(n: int, pages: int = 1) -> str:
    mems = "".join(f"(memory $m{i} {pages})" for i in range(n))
    grow = "".join(f"(if (i32.ne (memory.grow $m{i} (local.get 0)) (i32.const -1)) "
                   f"(then (local.set 1 (i32.add (local.get 1) (i32.const 1)))))" for i in range(n))
    return (f'(module {mems} (func (export "grow_all") (param i32) (result i32) (local i32) {grow} (local.get 1))'
            f' (func (export "grow0") (param i32) (result i32) (memory.grow $m0 (local.get 0))))')


def total(s: Session) -> int:
    return sum(m.size(s.store) for m in {id(m): m for m in s.memories.values()}.values())


def test_level_is_the_largest_limit_that_keeps_the_worst_case_in_the_budget():
    assert level([(PAGE, None)], 256 * MiB) == 256 * MiB  # one memory: the whole budget
    assert level([(PAGE, None)] * 16, 256 * MiB) == 16 * MiB  # sixteen share it
    assert level([(200 * MiB, None), (PAGE, None)], 256 * MiB) == 56 * MiB  # the big one cannot grow
    assert level([(PAGE, 2 * PAGE), (PAGE, None)], 10 * PAGE) == 8 * PAGE  # a small maximum leaves the rest
    assert level([(5 * PAGE, None)] * 2, 4 * PAGE) == 0  # already over: nothing grows


def test_sixteen_memories_share_max_memory_instead_of_each_getting_it():
    # issue 18: 16 memories x 256 MiB reached 8.2 GB; now their sum never passes --max-memory
    with session(many_memories(16), max_memory=256 * MiB) as s:
        t0 = time.perf_counter()
        r = s.call("grow_all", [str(4096)])  # each asks for 256 MiB more
        assert r.results == [0] and time.perf_counter() - t0 < 5
        assert total(s) == 16 * PAGE
        r = s.call("grow_all", ["200"])  # 12.6 MiB each fits the 16 MiB share
        assert r.results == [16] and total(s) == 16 * 201 * PAGE <= 256 * MiB
        assert s.call("grow_all", ["100"]).results == [0]  # 301 pages each would pass the total
        assert total(s) <= 256 * MiB


def test_the_note_names_the_total_and_the_value_that_lets_the_memory_grow():
    with session(many_memories(2), max_memory=32 * PAGE) as s:
        assert s.call("grow0", ["15"]).results == [1]  # memory 0 reaches its share, 16 pages
        r = s.call("grow0", ["1"])
        assert r.results == [-1]
        (note,) = r.limit_notes
        want = 17 * PAGE * 2  # both may then reach 17 pages
        assert note == (f"memory 0 is {16 * PAGE} bytes: it cannot grow by a page under the --max-memory total of "
                        f"{32 * PAGE} bytes over 2 memories (each may grow to {16 * PAGE} bytes) (memory.grow "
                        f"returns -1); run with --max-memory {want} or more to let it grow")
    with session(many_memories(2, pages=16), max_memory=want) as s:  # the advice works
        assert s.call("grow0", ["1"]).results == [16]


def test_declared_minimums_over_the_total_are_refused_with_the_option():
    text = '(module (memory (import "env" "memory") 40) (memory 40) (memory 1 1))'
    with pytest.raises(RunError) as ei:
        session(text, max_memory=64 * PAGE)
    assert str(ei.value) == ("the 3 memories of m.wasm need 5308416 bytes together (memory 0 2621440, memory 1 "
                             "2621440, memory 2 65536), more than --max-memory 4194304 bytes (the total over all "
                             "memories); run with --max-memory 5308416 or more (0 = no limit)")
    with session(text, max_memory=81 * PAGE) as s:
        assert total(s) == 81 * PAGE


def test_shared_memories_count_toward_the_total():
    text = ('(module (memory $a 1 64 shared) (memory $b 1 64 shared)'
            ' (func (export "ga") (param i32) (result i32) (memory.grow $a (local.get 0)))'
            ' (func (export "gb") (param i32) (result i32) (memory.grow $b (local.get 0))))')
    with session(text, max_memory=64 * PAGE) as s:  # each shared memory's maximum becomes its share: 32 pages
        assert s.call("ga", ["31"]).results == [1] and s.call("gb", ["31"]).results == [1]
        assert s.call("ga", ["1"]).results == [-1] and s.call("gb", ["1"]).results == [-1]
        assert total(s) == 64 * PAGE


TABLE = ('(module (table $t (export "t") 1 funcref)'
         ' (func (export "grow") (param i32) (result i32) (table.grow $t (ref.null func) (local.get 0)))'
         ' (func (export "size") (result i32) (table.size $t)))')


def test_table_grow_by_a_billion_returns_minus_one_at_once():
    # issue 18: table.grow by 10^9 reached 7.7 GB and was then reported as "timed out"
    with session(TABLE) as s:
        t0 = time.perf_counter()
        r = s.call("grow", [str(10**9)])
        assert r.results == [-1] and r.trap is None and time.perf_counter() - t0 < 2
        assert s.call("size", []).results == [1]
        assert s.call("grow", ["999"]).results == [1]  # growth within the budget still works
    with session(TABLE, max_table_entries=0) as s:  # 0 = no limit: a modest grow is fine
        assert s.call("grow", ["100000"]).results == [1]


def test_tables_share_max_table_entries_and_the_note_names_the_option():
    two = ('(module (table $a 1 funcref) (table $b 1 funcref)'
           ' (func (export "ga") (param i32) (result i32) (table.grow $a (ref.null func) (local.get 0)))'
           ' (func (export "gb") (param i32) (result i32) (table.grow $b (ref.null func) (local.get 0))))')
    with session(two, max_table_entries=20) as s:  # 10 each
        assert s.call("ga", ["9"]).results == [1]
        r = s.call("ga", ["1"])
        assert r.results == [-1]
        assert r.limit_notes == ["table 0 has 10 entries: it cannot grow under the --max-table-entries total of 20 "
                                 "(table.grow returns -1); run with --max-table-entries 22 or more to let it grow"]
        assert s.call("gb", ["9"]).results == [1] and s.call("gb", ["1"]).results == [-1]
    with pytest.raises(RunError, match=r"need 30 entries at the start, more than --max-table-entries 20 .* "
                                       r"run with --max-table-entries 30 or more"):
        session('(module (table 10 funcref) (table 20 funcref))', max_table_entries=20)


SPEW = """(module
  (import "wasi_snapshot_preview1" "fd_write" (func $w (param i32 i32 i32 i32) (result i32)))
  (memory (export "memory") 2)
  (func (export "spew") (param $n i32) (param $fd i32) (local $i i32)
    (memory.fill (i32.const 65536) (i32.const 65) (i32.const 65536))
    (i32.store (i32.const 0) (i32.const 65536))
    (i32.store (i32.const 4) (i32.const 65536))
    (loop $l
      (drop (call $w (local.get $fd) (i32.const 0) (i32.const 1) (i32.const 16)))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br_if $l (i32.lt_u (local.get $i) (local.get $n))))))"""


def test_50_mib_of_stdout_is_cut_at_the_cap_and_counted(wat_file):
    """(How quickly is `make bench`'s question: a test cannot hold a time under load.)"""
    with session(SPEW) as s:
        r = s.call("spew", ["800", "1"])  # 800 x 64 KiB = 50 MiB
        assert r.ok and r.stdout == b"A" * MiB and r.stdout_truncated == 49 * MiB and r.stderr_truncated == 0
        d = r.to_dict()
        assert d["stdout_truncated"] == 49 * MiB and len(d["stdout"]) == MiB
        r = s.call("spew", ["2", "2"])  # the next call starts from nothing
        assert r.stdout == b"" and r.stderr == b"A" * (2 * PAGE) and r.stderr_truncated == 0
    with session(SPEW, max_output=100) as s:
        r = s.call("spew", ["1", "1"])
        assert r.stdout == b"A" * 100 and r.stdout_truncated == PAGE - 100
    # text and JSON through the CLI, in a process of its own: bounded memory
    path = wat_file(SPEW)
    code = ("import resource, subprocess, sys; "
            f"p = subprocess.run([sys.executable, '-m', 'wasmem', 'call', {path!r}, 'spew', '800', '1', '--json'], "
            "capture_output=True); "
            "print(p.returncode, len(p.stdout), resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=600,
                         env={**os.environ, "PYTHONPATH": ROOT}).stdout.split()
    rc, size, rss_kb = int(out[0]), int(out[1]), int(out[2])
    assert rc == 0 and MiB < size < 2 * MiB
    assert rss_kb < 400 * 1024  # 1 GiB of output once took 5.2 GB; 50 MiB now stays near the interpreter's own


def test_a_runaway_writer_is_stopped_with_an_output_limit_trap():
    with session(SPEW) as s:
        r = s.call("spew", ["3200", "1"])  # 200 MiB: stopped past 64 MiB
        assert r.trap is not None and r.trap.kind == "output_limit"
        assert "more than 67108864 bytes to stdout" in r.trap.message and "--max-output 0" in r.trap.message
        assert len(r.stdout) == MiB and 63 * MiB < r.stdout_truncated < 190 * MiB
    with session(SPEW, max_output=0) as s:  # no limit: kept whole
        r = s.call("spew", ["40", "1"])
        assert r.ok and len(r.stdout) == 40 * PAGE and r.stdout_truncated == 0


def test_host_profile_output_is_capped_and_stopped_the_same_way():
    odin = """(module
      (import "odin_env" "write" (func $w (param i32 i32 i32)))
      (memory (export "memory") 2)
      (func (export "spew") (param $n i32) (local $i i32)
        (memory.fill (i32.const 0) (i32.const 66) (i32.const 65536))
        (loop $l
          (call $w (i32.const 1) (i32.const 0) (i32.const 65536))
          (local.set $i (i32.add (local.get $i) (i32.const 1)))
          (br_if $l (i32.lt_u (local.get $i) (local.get $n))))))"""
    with session(odin, max_output=1000) as s:
        r = s.call("spew", ["3"])
        assert r.ok and r.stdout == b"B" * 1000 and r.stdout_truncated == 3 * PAGE - 1000
        r = s.call("spew", ["2000"])  # 125 MiB through a Python host function
        assert r.trap is not None and r.trap.kind == "output_limit" and r.stdout_truncated < 70 * MiB


# a WASI sleep of $ns nanoseconds: one clock subscription at 0 handed to poll_oneoff (events at 128)
POLL_SLEEP = """(i64.store (i32.const 0) (i64.const 0x1234))
    (i32.store8 (i32.const 8) (i32.const 0))
    (i32.store (i32.const 16) (i32.const 1))
    (i64.store (i32.const 24) (local.get $ns))
    (i32.store16 (i32.const 40) (i32.const 0))
    (call $poll (i32.const 0) (i32.const 64) (i32.const 1) (i32.const 128))"""

SLEEP = f"""(module
  (import "wasi_snapshot_preview1" "poll_oneoff" (func $poll (param i32 i32 i32 i32) (result i32)))
  (memory (export "memory") 1)
  (func (export "sleep") (param $ns i64) (result i32)
    {POLL_SLEEP}))"""


def test_a_wasi_sleep_of_60_s_stops_at_the_timeout():
    with session(SLEEP, timeout=1) as s:
        r = s.call("sleep", [str(60 * 10**9)])  # a trap, not the 0 a finished sleep returns
        assert r.trap is not None and r.trap.kind == "timeout" and r.trap.message == "timed out after 1 s (--timeout)"
        assert r.trap.frames and r.trap.frames[0].name == "sleep"


def test_a_short_wasi_sleep_sleeps_and_reports_what_wasmtime_reports():
    raw = wat(SLEEP)
    engine = wasmtime.Engine()
    store = wasmtime.Store(engine)
    linker = wasmtime.Linker(engine)
    linker.define_wasi()
    store.set_wasi(wasmtime.WasiConfig())
    ex = linker.instantiate(store, wasmtime.Module(engine, raw)).exports(store)
    assert ex["sleep"](store, 50_000_000) == 0
    plain = ex["memory"].read(store, 64, 132)
    with session(SLEEP) as s:
        t0 = time.perf_counter()
        r = s.call("sleep", [str(200_000_000)])
        assert time.perf_counter() - t0 >= 0.2 and r.results == [0]  # it slept (how much longer: load's)
        assert s.read(64, 68) == plain  # the event (userdata 0x1234, clock) and nevents = 1
        assert plain[:8] == (0x1234).to_bytes(8, "little") and plain[64:68] == b"\x01\0\0\0"


def _sigint_once_started(args: list[str], marker):
    """Runs ``wasmem ARGS``, waits until the guest has created ``marker`` (it does so just before it spins or
    sleeps: the call is running, whatever the machine's load), then sends Ctrl-C."""
    proc = subprocess.Popen([sys.executable, "-m", "wasmem", *args], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, env={**os.environ, "PYTHONPATH": ROOT})
    while not marker.exists():
        assert proc.poll() is None, proc.communicate()
        threading.Event().wait(0.01)
    proc.send_signal(signal.SIGINT)
    try:
        out, err = proc.communicate(timeout=120)  # "at once": without the interrupt it would never end
    except subprocess.TimeoutExpired:
        proc.kill()
        raise
    return proc.returncode, err


STARTED = f"""(module
  (import "wasi_snapshot_preview1" "path_open"
    (func $open (param i32 i32 i32 i32 i32 i64 i64 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "poll_oneoff" (func $poll (param i32 i32 i32 i32) (result i32)))
  (memory (export "memory") 1)
  (data (i32.const 500) "started")
  (func $started  ;; creates ./started in the preopened directory
    (drop (call $open (i32.const 3) (i32.const 0) (i32.const 500) (i32.const 7) (i32.const 1)
                      (i64.const 64) (i64.const 64) (i32.const 0) (i32.const 600))))
  (func (export "spin") (call $started) (loop $l (br $l)))
  (func (export "sleep") (param $ns i64) (result i32)
    (call $started)
    {POLL_SLEEP}))"""


@pytest.mark.parametrize("args", [["spin"], ["sleep", str(600 * 10**9)]])
def test_ctrl_c_stops_a_running_call_at_once(wat_file, tmp_path, args):
    path = wat_file(STARTED)
    d = tmp_path / "d"
    d.mkdir()
    rc, err = _sigint_once_started(["call", path, *args, "--dir", f"{d}:.", "--timeout", "0"], d / "started")
    assert rc == 130 and err == "wasmem: interrupted\n"


@pytest.mark.parametrize("value", ["nan", "inf", "-inf", "1e400", "-1"])
def test_nan_and_inf_timeouts_are_usage_errors(wat_file, capsys, value):
    path = wat_file('(module (func (export "f")))')
    with pytest.raises(SystemExit) as ei:
        main(["call", path, "f", "--timeout", value])
    err = capsys.readouterr().err
    assert ei.value.code == 2 and err.count("\n") == 1 and "finite number of seconds" in err


def test_library_timeouts_and_fuel_are_checked_too():
    for bad in (float("nan"), float("inf"), -1):
        with pytest.raises(UsageError, match="finite number of seconds"):
            session('(module)', timeout=bad)
    with pytest.raises(UsageError, match="--fuel"):
        session('(module)', fuel=2**64)
    r = CliRunner().invoke(cli, ["call", "x.wasm", "f", "--fuel", str(2**64)])
    assert r.exit_code == 2 and "--fuel" in r.output


def test_cli_reports_truncation_in_text_and_json(wat_file):
    path = wat_file(SPEW)
    r = CliRunner().invoke(cli, ["call", path, "spew", "2", "1", "--max-output", "10"])
    assert r.exit_code == 0 and f"stdout_truncated: {2 * PAGE - 10} bytes (--max-output)" in r.output
    r = CliRunner().invoke(cli, ["call", path, "spew", "2", "1", "--max-output", "10", "--json"])
    d = json.loads(r.output)
    assert d["stdout"] == "A" * 10 and d["stdout_truncated"] == 2 * PAGE - 10 and d["stderr_truncated"] == 0
    r = CliRunner().invoke(cli, ["dump", path, "--after", "spew 1 1", "--max-output", "5", "--json", "--len", "4"])
    assert r.exit_code == 0 and json.loads(r.output)["calls"][0]["stdout_truncated"] == PAGE - 5


def test_the_watcher_calls_on_stuck_only_when_a_stopped_call_does_not_return():
    """Events, not sleeps: the first call "never returns" (on_stuck comes after the deadline and the grace);
    the second returns (stop) once it was stopped, inside a grace no load can pass, and its thread ends
    without on_stuck."""
    from wasmem.runtime.budget import Watcher

    called = []
    came = threading.Event()
    w = Watcher(lambda: None, 0.05, on_stuck=lambda reason: (called.append(reason), came.set()), grace=0.1)
    assert came.wait(600)
    assert w.reason == "timeout" and called == ["timeout"]
    called.clear()
    w = Watcher(lambda: None, 0.05, on_stuck=called.append, grace=3600)
    assert w.stopped.wait(600)  # the deadline passed: the call is stopped …
    w.stop()  # … and returns within the grace
    w._thread.join(600)
    assert not w._thread.is_alive() and w.reason == "timeout" and called == []


def test_one_table_over_the_budget_is_said_in_the_singular():
    with pytest.raises(RunError, match=r"the table of .* needs 30 entries at the start, more than "
                                       r"--max-table-entries 20"):
        session('(module (table 30 funcref))', max_table_entries=20)
