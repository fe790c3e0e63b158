"""Session on real modules under real wasmtime: imports, limits, traps, calls, memory diffs."""

import math
import os
import struct

import pytest
from conftest import sample, wat

from wasmem.app import load_module, open_session
from wasmem.errors import ParseError, RunError, UsageError
from wasmem.parser.module import WasmModule
from wasmem.runtime.session import Session
from wasmem.runtime.wat import wat_to_wasm

DEMO = r'''
(module
  (memory (export "memory") 2)
  (global $sp (mut i32) (i32.const 65536))
  (global $heap (mut i32) (i32.const 70000))
  (global (export "__heap_base") i32 (i32.const 70000))
  (global $counter (mut i32) (i32.const 0))
  (data (i32.const 1024) "hello\00")
  (func $make_point (export "make_point") (param $ret i32) (param $x f64) (param $y f64)
    (local $fp i32)
    (local.set $fp (i32.sub (global.get $sp) (i32.const 32)))
    (global.set $sp (local.get $fp))
    (f64.store offset=8 (local.get $fp) (local.get $x))
    (f64.store (local.get $ret) (local.get $x))
    (f64.store offset=8 (local.get $ret) (local.get $y))
    (global.set $sp (i32.add (local.get $fp) (i32.const 32))))
  (func (export "malloc") (param i32) (result i32) (local $p i32)
    (local.set $p (global.get $heap))
    (global.set $heap (i32.add (global.get $heap)
      (i32.and (i32.add (local.get 0) (i32.const 15)) (i32.const -16))))
    (local.get $p))
  (func (export "free") (param i32) (global.set $counter (i32.add (global.get $counter) (i32.const 1))))
  (func (export "frees") (result i32) (global.get $counter))
  (func (export "upper") (param $p i32) (param $n i32) (result i32) (local $s i32)
    (block $done (loop $l
      (br_if $done (i32.eqz (local.get $n)))
      (i32.store8 (local.get $p) (i32.sub (i32.load8_u (local.get $p)) (i32.const 32)))
      (local.set $s (i32.add (local.get $s) (i32.const 1)))
      (local.set $p (i32.add (local.get $p) (i32.const 1)))
      (local.set $n (i32.sub (local.get $n) (i32.const 1)))
      (br $l)))
    (local.get $s))
  (func (export "spin") (loop $l (br $l)))
  (func $inner (unreachable))
  (func (export "boom") (call $inner))
  (func (export "smash") (global.set $sp (i32.const 100)) (unreachable))
  (func (export "grow") (result i32) (memory.grow (i32.const 1)))
  (func (export "add64") (param i32 i64) (result i64) (i64.add (i64.extend_i32_s (local.get 0)) (local.get 1)))
  (func (export "fsum") (param f32 f64) (result f64) (f64.add (f64.promote_f32 (local.get 0)) (local.get 1)))
  (func (export "poke") (param $a i32) (param $v i32) (i32.store (local.get $a) (local.get $v)))
)'''


@pytest.fixture(scope="module")
def demo_module():
    return WasmModule.from_bytes(wat(DEMO), "demo.wasm")


@pytest.fixture
def demo(demo_module):
    with Session(demo_module, sp_global=0, stack_range=(1024 + 16, 65536), timeout=1, paint=True) as s:
        yield s


def session_for(text, **kw):
    kw.setdefault("timeout", 1)
    return Session(WasmModule.from_bytes(wat(text), "t.wasm"), **kw)


# -- memory and globals ---------------------------------------------------------------------------
def test_memory_access_and_bounds(demo):
    info = demo.memory(0)
    assert (info.pages, info.size, info.export) == (2, 131072, "memory")
    assert demo.read(1024, 6) == b"hello\0"
    demo.write(2000, b"\x01\x02")
    assert demo.read(2000, 2) == b"\x01\x02"
    with pytest.raises(UsageError, match="131072 bytes \\(2 pages\\)"):
        demo.read(131070, 4)
    with pytest.raises(UsageError, match="memory 1 does not exist"):
        demo.read(0, 1, memory=1)


def test_stack_pointer_through_appended_export(demo):
    assert demo.get_sp() == 65536
    demo.set_sp(60000)
    assert demo.get_sp() == 60000
    assert demo.resolve_address("sp+0x10") == 60016
    assert demo.resolve_address("__heap_base") == 70000
    with pytest.raises(UsageError):
        demo.resolve_address("nope")


def test_snapshot_and_restore(demo):
    snap = demo.snapshot()
    demo.write(3000, b"xyz")
    demo.set_sp(1234)
    demo.restore(snap)
    assert demo.read(3000, 3) == b"\0\0\0"
    assert demo.get_sp() == 65536


# -- calls -----------------------------------------------------------------------------------------
def test_sret_decoded_and_sp_restored(demo):
    r = demo.call("make_point", ["1.0", "2.0"], returns="x:f64,y:f64")
    assert r.ok and r.results == []
    assert r.sret.address == 65536 - 16
    assert [(n, v) for n, _, v in r.sret.fields] == [("x", 1.0), ("y", 2.0)]
    assert r.signature.startswith("(f64")
    assert demo.get_sp() == 65536
    # the callee's frame: 32 bytes below the slot, wrote 8 bytes at fp+8
    assert r.stack.sp == 65520 and r.stack.lowest == 65520 - 24 and r.stack.peak == 24
    # changed ranges: the callee's local and the slot
    assert any(c.start <= 65520 < c.end or c.start >= 65520 for c in r.changes)
    assert all(0xAA not in c.after for c in r.changes)  # paint is never left behind


def test_sret_hex_without_layout(demo):
    r = demo.call("make_point", ["3", "4"], ret_size=16, sret=True)
    assert r.sret.fields == [] and r.sret.data == struct.pack("<dd", 3.0, 4.0)


def test_paint_does_not_leave_pattern(demo):
    demo.call("make_point", ["1", "2"], sret=True)
    assert 0xAA not in demo.read(1040, 65536 - 1040)


def test_string_argument_through_allocator(demo):
    r = demo.call("upper", ["s:hello"])
    assert r.results == [5]
    (a,) = r.allocations
    assert (a.address, a.size, a.via) == (70000, 5, "malloc")
    assert demo.read(70000, 5) == b"HELLO"
    (c,) = r.changes
    assert (c.start, c.end, c.before, c.after) == (70000, 70005, b"hello", b"HELLO")
    assert demo.call("frees", []).results == [1]  # free() was called once


def test_bytes_argument_on_stack_without_allocator(demo):
    r = demo.call("upper", ["b:616263"], alloc=None)
    assert r.results == [3]
    # with an explicit allocator pair
    r2 = demo.call("upper", ["b:6464"], alloc="malloc,free")
    assert r2.allocations[0].via == "malloc"


def test_integer_and_float_arguments(demo):
    assert demo.call("add64", ["0xffffffff", "-5"]).results == [-6]
    assert demo.call("add64", ["1", "18446744073709551615"]).results == [0]
    assert demo.call("fsum", ["1.5", "2.25"]).results == [3.75]
    assert math.isinf(demo.call("fsum", ["inf", "1"]).results[0])


def test_wrong_count_and_type_show_the_signature(demo):
    with pytest.raises(UsageError, match=r"make_point expects \(f64 x, f64 y\) \(after the hidden i32"):
        demo.call("make_point", ["1"], sret=True)
    # one argument too few is never silently taken for a hidden result pointer
    with pytest.raises(UsageError, match=r"make_point expects \(i32 ret, f64 x, f64 y\) but got 2 arguments: "
                                         r"1 2; if it returns a struct .* pass --sret or --returns"):
        demo.call("make_point", ["1", "2"])
    with pytest.raises(UsageError, match=r"add64\(i32, i64\) -> i64 has no hidden result pointer \(it returns values\)"):
        demo.call("add64", ["1"], sret=True)
    with pytest.raises(UsageError, match=r"argument 2: 'zz' is not a valid f64.*add64|add64 expects"):
        demo.call("add64", ["1", "zz"])
    with pytest.raises(UsageError, match="not an exported function"):
        demo.call("nothere", [])


def test_changed_bytes_reported(demo):
    r = demo.call("poke", ["0x2000", "0x01020304"])
    (c,) = r.changes
    assert (c.start, c.end, c.after) == (0x2000, 0x2004, b"\x04\x03\x02\x01")


def test_memory_growth_reported(demo):
    r = demo.call("grow", [])
    assert r.results == [2]
    (g,) = r.growth
    assert (g.old_pages, g.new_pages) == (2, 3) and "detached" in g.warning
    assert demo.memory_size() == 3 * 65536


def test_trap_backtrace_names(demo):
    r = demo.call("boom", [])
    assert not r.ok
    assert r.trap.kind == "unreachable"
    assert [f.name for f in r.trap.frames] == ["inner", "boom"]
    assert r.trap.sp == 65536


def test_sp_reset_after_trap(demo):
    r = demo.call("smash", [])
    assert r.trap.kind == "unreachable" and r.trap.sp == 100
    assert demo.get_sp() == 65536


def test_runaway_loop_times_out(demo_module):
    with Session(demo_module, sp_global=0, timeout=0.2) as s:
        r = s.call("spin", [])
        assert r.trap.kind == "timeout" and "timed out after 0.2 s" in r.trap.message
        assert r.trap.frames[0].name == "spin"
        # the session is still usable
        assert s.call("add64", ["1", "2"]).results == [3]


def test_fuel_limit(demo_module):
    with Session(demo_module, sp_global=0, fuel=10_000, timeout=1) as s:
        r = s.call("spin", [])
        assert r.trap.kind == "out_of_fuel"
        assert s.call("add64", ["1", "2"]).results == [3]


# -- imports ----------------------------------------------------------------------------------------
def test_imported_memory_too_small_js_words():
    text = '(module (import "env" "memory" (memory 17)) (func (export "f")))'
    with pytest.raises(RunError) as ei:
        session_for(text, pages=16)
    msg = str(ei.value)
    assert "LinkError: memory import has 16 pages which is smaller than the declared initial of 17" in msg
    assert "--initial-memory" in msg and "--pages 17" in msg
    s = session_for(text)
    assert s.memory(0).pages == 17 and s.memory(0).imported == "env.memory"
    s2 = session_for(text, pages=20)
    assert s2.memory(0).pages == 20


def test_imported_memory_over_limit():
    with pytest.raises(RunError, match="limit"):
        session_for('(module (import "env" "memory" (memory 100)))', max_memory=65536 * 10)


def test_stubbed_imports_recorded_and_strict():
    text = '''(module
      (import "env" "log" (func $log (param i32 f64)))
      (import "env" "get" (func $get (result i32)))
      (import "env" "getf" (func $getf (result f32)))
      (memory 1)
      (func (export "go") (result i32)
        (call $log (i32.const 7) (f64.const 2.5))
        (drop (call $getf))
        (call $get)))'''
    s = session_for(text)
    r = s.call("go", [])
    assert r.results == [0]
    assert [(h.module, h.name, h.args) for h in r.host_calls] == [
        ("env", "log", (7, 2.5)), ("env", "getf", ()), ("env", "get", ())]
    strict = session_for(text, strict_imports=True)
    r = strict.call("go", [])
    assert r.trap.kind == "strict_import" and "env.log" in r.trap.message


def test_wasi_stdout_captured():
    text = r'''(module
      (import "wasi_snapshot_preview1" "fd_write" (func $w (param i32 i32 i32 i32) (result i32)))
      (memory (export "memory") 1)
      (data (i32.const 16) "hi\n")
      (data (i32.const 0) "\10\00\00\00\03\00\00\00")
      (func (export "say") (drop (call $w (i32.const 1) (i32.const 0) (i32.const 1) (i32.const 32))))
      (func (export "err") (drop (call $w (i32.const 2) (i32.const 0) (i32.const 1) (i32.const 32)))))'''
    s = session_for(text)
    r = s.call("say", [])
    assert r.stdout == b"hi\n" and r.stderr == b""
    assert s.call("say", []).stdout == b"hi\n"  # each call gets only its own output
    assert s.call("err", []).stderr == b"hi\n"
    s.close()


def test_wasi_exit_and_sandbox(tmp_path):
    text = '''(module
      (import "wasi_snapshot_preview1" "proc_exit" (func $e (param i32)))
      (memory (export "memory") 1)
      (func (export "quit") (param i32) (call $e (local.get 0))))'''
    s = session_for(text, wasi_dirs=[f"{tmp_path}:/data"], wasi_env=["A=1"])
    r = s.call("quit", ["3"])
    assert r.trap.kind == "exit" and r.trap.exit_code == 3 and not r.ok
    assert s.call("quit", ["0"]).ok
    with pytest.raises(UsageError, match="not a directory"):
        session_for(text, wasi_dirs=[str(tmp_path / "missing")])


def test_emscripten_helpers_and_odin_write():
    text = '''(module
      (import "env" "memory" (memory 1))
      (import "env" "emscripten_resize_heap" (func $rh (param i32) (result i32)))
      (import "env" "emscripten_memcpy_big" (func $mc (param i32 i32 i32)))
      (import "env" "abort" (func $abort))
      (import "odin_env" "write" (func $ow (param i32 i32 i32)))
      (data (i32.const 100) "odin!")
      (func (export "resize") (result i32) (call $rh (i32.const 200000)))
      (func (export "copy") (call $mc (i32.const 300) (i32.const 100) (i32.const 5)))
      (func (export "die") (call $abort))
      (func (export "say") (call $ow (i32.const 1) (i32.const 100) (i32.const 5))))'''
    s = session_for(text)
    r = s.call("resize", [])
    assert r.results == [1] and r.growth[0].new_pages == 4
    s.call("copy", [])
    assert s.read(300, 5) == b"odin!"
    r = s.call("die", [])
    assert r.trap.kind == "abort" and "env.abort" in r.trap.message
    assert s.call("say", []).stdout == b"odin!"


def test_pic_imports_get_defaults():
    text = '''(module
      (import "env" "memory" (memory 1))
      (import "env" "__indirect_function_table" (table 2 funcref))
      (import "env" "__stack_pointer" (global $sp (mut i32)))
      (import "env" "__memory_base" (global $mb i32))
      (import "env" "__table_base" (global $tb i32))
      (func (export "mb") (result i32) (global.get $mb))
      (func (export "tb") (result i32) (global.get $tb))
      (func (export "sp") (result i32) (global.get $sp)))'''
    s = session_for(text, sp_global=0)
    assert s.call("mb", []).results == [1024]
    assert s.call("tb", []).results == [0]
    assert s.call("sp", []).results == [65536]
    assert s.get_sp() == 65536
    s2 = session_for(text, sp_global=0, stack_range=(2048, 4096))
    assert s2.get_sp() == 4096


def test_start_and_initialize_run():
    text = '''(module (memory (export "memory") 1)
      (func $s (i32.store (i32.const 0) (i32.const 11)))
      (func (export "_initialize") (i32.store (i32.const 4) (i32.const 22)))
      (start $s))'''
    s = session_for(text)
    assert s.read(0, 8) == struct.pack("<II", 11, 22) and s.init_function == "_initialize"


def test_start_trap_is_a_run_error():
    with pytest.raises(RunError, match="start function"):
        session_for("(module (func $s unreachable) (start $s))")


def test_invalid_module_is_a_run_error():
    # a module that parses but does not validate (i32.add on an empty stack)
    bad = WasmModule.from_bytes(b"\0asm\x01\0\0\0\x01\x04\x01\x60\0\0\x03\x02\x01\0\x0a\x05\x01\x03\0\x6a\x0b")
    with pytest.raises(RunError, match="cannot compile"):
        Session(bad, timeout=1)


def test_wat_errors_have_line_and_column(tmp_path):
    with pytest.raises(ParseError, match="line 3 column 3"):
        wat_to_wasm('(module\n  (func\n  i32.cnst 1))')
    p = tmp_path / "m.wat"
    p.write_text('(module (memory (export "memory") 1) (func (export "f") (result i32) i32.const 5))')
    s = open_session(str(p), timeout=1)
    assert s.call("f", []).results == [5]
    assert load_module(str(p)).find_export("f") is not None


def test_reference_results_are_plain_data(tmp_path, capsys):
    """A null reference is a result (None), not "no results"; a function reference is described by its
    type; several results keep their order. Found by fuzzing `call`: --json crashed on a funcref."""
    import json

    from wasmem.cli.main import main

    p = tmp_path / "refs.wat"
    p.write_text("""(module (memory (export "memory") 1)
      (func $f (param i32) (result f64) f64.const 1)
      (elem declare func $f)
      (func (export "null_func") (result funcref) ref.null func)
      (func (export "a_func") (result funcref) ref.func $f)
      (func (export "null_extern") (result externref) ref.null extern)
      (func (export "pair") (result i32 funcref) i32.const 7 ref.func $f))""")
    s = open_session(str(p), timeout=1)
    assert s.call("null_func", []).results == [None]
    assert s.call("a_func", []).results == ["<func (i32) -> (f64)>"]
    assert s.call("null_extern", []).results == [None]
    assert s.call("pair", []).results == [7, "<func (i32) -> (f64)>"]
    with pytest.raises(SystemExit) as exc:
        main(["call", str(p), "pair", "--json"])
    assert exc.value.code == 0
    got = json.loads(capsys.readouterr().out)["results"]
    assert got == [{"type": "i32", "value": 7}, {"type": "funcref", "value": "<func (i32) -> (f64)>"}]
    with pytest.raises(SystemExit):
        main(["call", str(p), "null_func"])
    assert "→ funcref null" in capsys.readouterr().out


def test_cache_dir_override(tmp_path, monkeypatch, demo_module):
    monkeypatch.setenv("WASMEM_CACHE_DIR", str(tmp_path / "cache"))
    s = Session(demo_module, timeout=1)
    assert s.cache_location == str(tmp_path / "cache")
    assert s.call("add64", ["1", "1"]).results == [2]
    assert os.path.isdir(tmp_path / "cache")


# -- the C samples --------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def memdemo():
    s = open_session(sample("memdemo.wasm"), timeout=1)
    yield s
    s.close()


def test_sample_make_point(memdemo):
    assert memdemo.has_sp
    r = memdemo.call("make_point", ["1.0", "2.0"], returns="x:f64,y:f64")
    assert [(n, v) for n, _, v in r.sret.fields] == [("x", 1.0), ("y", 2.0)]
    assert memdemo.get_sp() == r.sp_before


def test_sample_process_string(memdemo):
    r = memdemo.call("process_string", ["s:Hello"])
    assert r.results == [2]
    (a,) = r.allocations
    assert a.via == "allocate"
    # freed afterwards (the allocator reuses the block), so look at what the call changed
    assert any(c.start == a.address + 1 and c.after == b"ELLO" for c in r.changes)


def test_sample_checksum_matches_zlib(memdemo):
    import zlib

    assert memdemo.call("checksum", ["b:68656c6c6f"]).results[0] & 0xFFFFFFFF == zlib.adler32(b"hello")


def test_sample_traps(memdemo):
    r = memdemo.call("crash", [])
    assert r.trap.kind == "unreachable" and r.trap.frames[0].name == "crash"
    r = memdemo.call("divide", ["1", "0"])
    assert r.trap.kind == "integer_division_by_zero"
    sp = memdemo.get_sp()
    r = memdemo.call("deep", ["100000"])
    assert r.trap is not None and r.trap.frames[0].name == "deep"
    assert r.stack.exhausted
    assert memdemo.get_sp() == sp


def test_sample_stack_use_and_growth(memdemo):
    r = memdemo.call("fib_stack", ["10"])
    assert r.results == [55] and r.stack.peak > 64 * 5
    r = memdemo.call("grow_memory", ["1"])
    assert r.growth and r.growth[0].new_pages == r.growth[0].old_pages + 1


def test_sample_spin_times_out():
    with open_session(sample("memdemo.wasm"), timeout=0.2) as s:
        r = s.call("spin", [])
        assert r.trap.kind == "timeout"


def test_sample_imported_memory_too_small():
    path = sample("memdemo-import.wasm")
    with pytest.raises(RunError, match="LinkError: memory import has 1 pages .* initial of 2"):
        open_session(path, pages=1, timeout=1)
    with open_session(path, timeout=1) as s:
        assert s.call("make_point", ["1", "2"], returns="f64,f64").sret.fields[1][2] == 2.0


@pytest.mark.parametrize("name", ["memory64.wasm", "shared.wasm", "twomemories.wasm", "pic.wasm", "passive.wasm",
                                  "go_like.wasm", "asc_like.wasm", "nomemory.wasm", "memdemo-datafirst.wasm",
                                  "memdemo-stripped.wasm", "memdemo-O0.wasm"])
def test_samples_instantiate(name):
    with open_session(sample(name), timeout=1) as s:
        for i in s.memories:
            info = s.memory(i)
            assert info.size == info.pages * 65536
            assert len(s.read(0, min(16, info.size), i)) == min(16, info.size)


def test_sample_shared_memory_calls():
    with open_session(sample("shared.wasm"), timeout=1) as s:
        assert s.memory(0).shared and s.read(1024, 13) == b"shared hello\0"
        r = s.call("counter_add", ["5"])
        assert r.ok and r.changes


def test_stack_use_painted_without_check_stack_has_no_exact_peak():
    with open_session(sample("memdemo.wasm"), paint=True, timeout=2) as s:
        r = s.call("fib_stack", ["5"])
        assert s.instrumented is None and r.stack.method == "paint"
        assert r.stack.exact_peak is None and r.stack.sp_min is None
        d = r.to_dict()
        assert d["stack"]["exact_peak_bytes"] is None and d["stack"]["peak_bytes"] == r.stack.peak
        assert d["trap"] is None


def test_stack_use_is_instrumented_by_default(memdemo):
    r = memdemo.call("fib_stack", ["5"])
    assert memdemo.measure == "instrument" and r.stack.method == "instrument"
    assert r.stack.exact_peak == r.stack.peak == 320 and r.stack.sp_min == r.stack.sp - 320
