"""`wasmem call --watch`: who wrote this byte, end to end (real modules, real wasmtime)."""

import json

import pytest
from conftest import run_main, sample

from wasmem.app import call_function

# every kind of write into [0x100, 0x180), in a known order, with a host write (WASI fd_read) in the middle
SEQUENCE = r'''
(module
  (import "wasi_snapshot_preview1" "fd_read" (func $fd_read (param i32 i32 i32 i32) (result i32)))
  (memory (export "memory") 1)
  (data $seg "0123456789abcdef")
  (func (export "run")
    (i32.store (i32.const 0x100) (i32.const 0x11223344))
    (i64.store (i32.const 0x108) (i64.const 0x0102030405060708))
    (f32.store (i32.const 0x110) (f32.const 1.5))
    (f64.store (i32.const 0x118) (f64.const -2.0))
    (i32.store8 (i32.const 0x120) (i32.const 0x1ff))
    (i32.store16 (i32.const 0x122) (i32.const 0xbeef))
    (i64.store32 (i32.const 0x124) (i64.const 0xcafebabe))
    ;; an iovec outside the range pointing into it: fd_read fills [0x128, 0x12c)
    (i32.store (i32.const 0x200) (i32.const 0x128))
    (i32.store (i32.const 0x204) (i32.const 4))
    (drop (call $fd_read (i32.const 0) (i32.const 0x200) (i32.const 1) (i32.const 0x208)))
    (v128.store (i32.const 0x130) (v128.const i32x4 1 2 3 4))
    (v128.store16_lane 3 (i32.const 0x140) (v128.const i16x8 0 1 2 3 4 5 6 7))
    (i32.atomic.store (i32.const 0x144) (i32.const 7))
    (drop (i32.atomic.rmw.add (i32.const 0x144) (i32.const 5)))
    (drop (i32.atomic.rmw.cmpxchg (i32.const 0x144) (i32.const 1) (i32.const 2)))
    (drop (i64.atomic.rmw8.cmpxchg_u (i32.const 0x148) (i64.const 0) (i64.const 9)))
    (memory.fill (i32.const 0x150) (i32.const 0xaa) (i32.const 8))
    (memory.copy (i32.const 0x158) (i32.const 0x100) (i32.const 4))
    (memory.init $seg (i32.const 0x160) (i32.const 4) (i32.const 6))
    (memory.fill (i32.const 0x170) (i32.const 0xaa) (i32.const 0))
    (i32.store (i32.const 0x180) (i32.const 1))))'''

EXPECTED = [  # (access, op, address, size, new)
    ("write", "i32.store", 0x100, 4, "44332211"),
    ("write", "i64.store", 0x108, 8, "0807060504030201"),
    ("write", "f32.store", 0x110, 4, "0000c03f"),
    ("write", "f64.store", 0x118, 8, "00000000000000c0"),
    ("write", "i32.store8", 0x120, 1, "ff"),
    ("write", "i32.store16", 0x122, 2, "efbe"),
    ("write", "i64.store32", 0x124, 4, "bebafeca"),
    ("host", None, 0x128, 4, b"wasm".hex()),
    ("write", "v128.store", 0x130, 16, "01000000020000000300000004000000"),
    ("write", "v128.store16_lane", 0x140, 2, "0300"),
    ("write", "i32.atomic.store", 0x144, 4, "07000000"),
    ("write", "i32.atomic.rmw.add", 0x144, 4, "0c000000"),
    ("write", "i32.atomic.rmw.cmpxchg", 0x144, 4, None),  # 12 != 1: compared, not written
    ("write", "i64.atomic.rmw8.cmpxchg_u", 0x148, 1, "09"),
    ("write", "memory.fill", 0x150, 8, "aa" * 8),
    ("write", "memory.copy", 0x158, 4, "44332211"),
    ("write", "memory.init", 0x160, 6, b"456789".hex()),
]


def test_an_exact_sequence_of_writes_no_miss_no_extra(wat_file, tmp_path):
    stdin = tmp_path / "in.txt"
    stdin.write_bytes(b"wasm and more")
    out = call_function(wat_file(SEQUENCE), "run", [], watch=["0x100:0x80"], wasi_stdin=str(stdin))
    try:
        assert out.ok
        hits = out.watch.hits
        got = [(h.access, h.op, h.address, h.size, h.new.hex() if h.new is not None else None) for h in hits]
        assert got == EXPECTED
        assert [h.seq for h in hits] == list(range(1, len(EXPECTED) + 1))
        assert not hits[12].wrote and hits[12].old == bytes.fromhex("0c000000")
        assert hits[11].old == bytes.fromhex("07000000")  # old -> new of the read-modify-write
        assert all(h.function == "run" and h.offset is not None for h in hits if h.access == "write")
        assert out.session.read(0x100, 0x80) == out.session.read(0x100, 0x80)
    finally:
        out.session.close()


def test_off_by_one_names_the_function_line_and_field(capsys):
    code, out, err = run_main(capsys, "call", sample("watchdemo.wasm"), "reset_scores", "--watch", "settings.limit",
                         "--json")
    assert code == 0, err
    w = json.loads(out)["watch"]
    assert [t["kind"] for t in w["targets"]] == ["symbol"]
    (hit,) = w["hits"]
    assert hit["function"] == "reset_scores" and hit["location"] == "watchdemo.c:31"
    assert hit["label"] == "settings.limit" and hit["size"] == 4
    assert (hit["old_value"], hit["new_value"], hit["value_type"]) == ("100", "-1", "int32_t")
    code, out, err = run_main(capsys, "call", sample("watchdemo.wasm"), "reset_scores", "--watch", "settings")
    assert code == 0
    assert "reset_scores  watchdemo.c:31  i32.store" in out and "settings.limit  100 → -1" in out


def test_stop_on_a_data_first_overflow_names_the_function_and_line(capsys):
    code, out, err = run_main(capsys, "call", sample("watchdemo.wasm"), "deep", "8", "--watch", "sp", "--stop", "--json")
    assert code == 1, err
    d = json.loads(out)
    assert d["trap"]["kind"] == "watchpoint"
    top = d["trap"]["frames"][0]
    assert (top["name"], top["location"]) == ("deep", "watchdemo.c:39")
    assert all(f["name"] == "deep" for f in d["trap"]["frames"])  # wasmem's check function is not shown
    w = d["watch"]
    assert w["stopped_at"] == 1 and len(w["hits"]) == 1
    low = w["targets"][0]["end"]
    assert w["hits"][0]["address"] < low
    # without --stop the same call keeps going and reports every write below the stack
    code, out, err = run_main(capsys, "call", sample("watchdemo.wasm"), "deep", "8", "--watch", "sp", "--json")
    hits = json.loads(out)["watch"]["hits"]
    assert len(hits) > 1 and all(h["function"] == "deep" and h["address"] < low for h in hits)


def test_before_calls_are_watched_and_host_writes_reported(capsys, tmp_path):
    stdin = tmp_path / "in.txt"
    stdin.write_text("hello watch\n")
    code, out, err = run_main(capsys, "call", sample("watchdemo.wasm"), "get_limit", "--before", "reset_scores",
                         "--before", "read_line", "--watch", "settings.limit", "--watch", "line",
                         "--stdin", str(stdin), "--json")
    assert code == 0, err
    d = json.loads(out)
    assert d["results"][0]["value"] == -1
    hits = d["watch"]["hits"]
    assert [(h["access"], h["call"], h["targets"]) for h in hits] == [
        ("write", "before 1: reset_scores", ["settings.limit"]),
        ("host", "before 2: read_line", ["line"])]
    assert bytes.fromhex(hits[1]["new"]) == b"hello watch\n" and hits[1]["label"] == "line[0]"


def test_regions_ranges_and_reads(capsys):
    code, out, err = run_main(capsys, "call", sample("watchdemo.wasm"), "get_limit", "--watch", ".data",
                         "--access", "rw", "--json")
    assert code == 0, err
    w = json.loads(out)["watch"]
    assert w["targets"][0]["kind"] == "region" and w["access"] == "rw"
    assert [(h["access"], h["function"], h["label"]) for h in w["hits"]] == [("read", "get_limit", "settings.limit")]
    code, out, err = run_main(capsys, "call", sample("watchdemo.wasm"), "reset_scores", "--watch", "scores+8:4",
                         "--json")
    hits = json.loads(out)["watch"]["hits"]
    assert [h["label"] for h in hits] == ["scores[2]"]


@pytest.mark.parametrize("argv, needle", [
    (("reset_scores", "--watch", "no_such_symbol"), "no_such_symbol"),
    (("reset_scores", "--watch", "0x410:0"), "at least 1"),
    (("reset_scores", "--watch", "0x410:lots"), "not a size"),
    (("reset_scores", "--stop"), "--stop needs --watch"),
    (("reset_scores", "--watch", "sp", "--watch", "sp"), "twice"),
])
def test_bad_targets_are_one_line_errors(capsys, argv, needle):
    code, out, err = run_main(capsys, "call", sample("watchdemo.wasm"), *argv)
    assert code == 2
    assert err.startswith("wasmem: error:") and needle in err and len(err.strip().splitlines()) == 1, err


def test_a_region_the_layout_does_not_have(capsys):
    code, out, err = run_main(capsys, "call", sample("memory64.wasm"), "size", "--watch", ".rodata")
    assert code == 2 and "no .rodata region" in err and "stack" in err


def test_sp_needs_a_data_first_stack(capsys):
    code, out, err = run_main(capsys, "call", sample("memdemo.wasm"), "deep", "3", "--watch", "sp")
    assert code == 2 and "stack-first" in err and "--check-stack" in err


def test_a_module_without_memory_is_refused(capsys):
    code, out, err = run_main(capsys, "call", sample("nomemory.wasm"), "add", "1", "2", "--watch", "0:4")
    assert code == 2 and "no memory" in err, err


def test_trace_writes_sums_per_function_and_flags_rodata(capsys, wat_file):
    code, out, err = run_main(capsys, "call", sample("watchdemo.wasm"), "get_limit", "--before", "reset_scores",
                         "--before", "fill 3", "--trace-writes", "--json")
    assert code == 0, err
    wm = json.loads(out)["watch"]["write_map"]
    rows = {(r["function"], r["target"]): (r["bytes"], r["count"], r["region"]) for r in wm["rows"]}
    assert rows[("reset_scores", "settings")] == (4, 1, ".data")  # the off-by-one shows as a write to settings
    assert rows[("reset_scores", "scores")] == (16, 2, ".data")  # clang stores the four ints as two i64
    assert rows[("fill", "mix")][2] == ".bss"
    assert wm["writes"] == sum(r["count"] for r in wm["rows"])
    path = wat_file(r'''(module (memory (export "memory") 1) (global $__stack_pointer (mut i32) (i32.const 8192))
      (data $.rodata (i32.const 1024) "constant") (data $.data (i32.const 1040) "variable")
      (func (export "scribble") (i32.store8 (i32.const 1025) (i32.const 88)) (i32.store (i32.const 1040) (i32.const 1))))''')
    code, out, err = run_main(capsys, "call", path, "scribble", "--trace-writes")
    assert code == 0, err
    assert "! rodata" in out and out.count("!") == 1


@pytest.mark.parametrize("argv", [("divide", "1", "0"), ("crash",), ("deep", "200000")])
def test_trap_frames_point_at_the_original_binary(capsys, argv):
    """A trap in an instrumented copy has the same frames, offsets and source lines as in the module."""
    code, out, err = run_main(capsys, "call", sample("memdemo-debug.wasm"), *argv, "--json")
    plain = json.loads(out)["trap"]
    code2, out, err = run_main(capsys, "call", sample("memdemo-debug.wasm"), *argv, "--json", "--watch", "config",
                          "--access", "rw")
    watched = json.loads(out)["trap"]
    assert code == code2 == 1
    keep = ("func_index", "name", "location")
    assert [{k: f.get(k) for k in keep} for f in watched["frames"]] == [
        {k: f.get(k) for k in keep} for f in plain["frames"]]
    for w, p in zip(watched["frames"], plain["frames"], strict=True):
        # exact, except that wasmtime gives a trap at a body's very first instruction the body's start
        # (func_offset 0: crash() is `unreachable`); in the copy that instruction is not first any more
        assert w["module_offset"] == p["module_offset"] or p["func_offset"] == 0 and 0 < w["module_offset"] - p[
            "module_offset"] <= 5
    assert watched["kind"] == plain["kind"]


def test_func_offsets_are_the_original_bodys():
    """func_offset in a frame of an instrumented copy is the offset in the original body, as without it."""
    from wasmem.app import open_session

    plain = open_session(sample("watchdemo.wasm"), sp_global=None)  # nothing rewritten
    try:
        assert plain.rewritten is None
        want = [(f.func_offset, f.module_offset) for f in plain.call("deep", ["8"]).trap.frames]
    finally:
        plain.close()
    for kw in ({"watch": ["sp"]}, {"check_stack": False}):
        out = call_function(sample("watchdemo.wasm"), "deep", ["8"], **kw)
        try:
            assert out.session.rewritten is not None
            assert [(f.func_offset, f.module_offset) for f in out.result.trap.frames] == want
        finally:
            out.session.close()


def test_stop_in_a_before_call_stops_the_command(capsys):
    code, out, err = run_main(capsys, "call", sample("watchdemo.wasm"), "get_limit", "--before", "reset_scores",
                         "--watch", "settings.limit", "--stop", "--json")
    assert code == 1, err
    d = json.loads(out)
    assert d["function"] == "reset_scores" and d["trap"]["kind"] == "watchpoint"
    assert d["watch"]["stopped_at"] == 1 and d["watch"]["hits"][0]["call"] == "before 1: reset_scores"
    assert not any(c["start"] <= 0x420 < c["end"] for c in d["changes"])  # the write did not happen


def test_each_hit_has_its_call_path(capsys):
    code, out, err = run_main(capsys, "call", sample("memdemo-debug.wasm"), "process_string", "s:hi", "--watch",
                         "heap_top", "--json")
    assert code == 0, err
    hits = json.loads(out)["watch"]["hits"]
    assert hits and all(h["path"][-1] == h["function"] for h in hits)
    code, out, err = run_main(capsys, "call", sample("watchdemo.wasm"), "deep", "8", "--watch", "sp")
    assert "called from deep ×" in out


def test_a_host_write_by_wasmems_own_host_is_named(capsys):
    code, out, err = run_main(capsys, "call", sample("hosts-emscripten.wasm"), "copy", "5000", "1024", "6", "--watch",
                         "5000:6", "--json")
    assert code == 0, err
    (hit,) = json.loads(out)["watch"]["hits"]
    assert (hit["access"], hit["function"], hit["address"]) == ("host", "env._emscripten_memcpy_js", 5000)
    assert hit["path"] is None and hit["offset"] is None
