"""Argument handling that never guesses silently: the allocator conventions (malloc, __wbindgen_malloc,
cabi_realloc), pointer-only arguments (z:, p:), --write, options anywhere and `--`, raw bytes of a
non-UTF-8 s: argument."""

import os
import subprocess
import sys

import pytest
from conftest import sample, wat

from wasmem.cli.main import main
from wasmem.errors import UsageError
from wasmem.parser.module import WasmModule
from wasmem.runtime.session import Session

# an allocator (named and shaped per convention) that records its arguments in exported globals, and
# functions taking a pointer alone or a (pointer, length) pair
ALLOC = r'''
(module
  (memory (export "memory") 2)
  (global $sp (mut i32) (i32.const 65536))
  (global $heap (mut i32) (i32.const 70000))
  (global $a0 (export "a0") (mut i32) (i32.const -1)) (global $a1 (export "a1") (mut i32) (i32.const -1))
  (global $a2 (export "a2") (mut i32) (i32.const -1)) (global $a3 (export "a3") (mut i32) (i32.const -1))
  (func $bump (param $n i32) (result i32) (local $p i32)
    (local.set $p (global.get $heap))
    (global.set $heap (i32.add (global.get $heap) (i32.and (i32.add (local.get $n) (i32.const 15)) (i32.const -16))))
    (local.get $p))
  ALLOCATOR
  (func (export "strlen") (param $p i32) (result i32) (local $n i32)
    (block $done (loop $l
      (br_if $done (i32.eqz (i32.load8_u (i32.add (local.get $p) (local.get $n)))))
      (local.set $n (i32.add (local.get $n) (i32.const 1)))
      (br $l)))
    (local.get $n))
  (func (export "first") (param $p i32) (result i32) (i32.load8_u (local.get $p)))
  (func (export "sum2") (param $p i32) (param $n i32) (result i32) (local $s i32)
    (block $done (loop $l
      (br_if $done (i32.eqz (local.get $n)))
      (local.set $s (i32.add (local.get $s) (i32.load8_u (local.get $p))))
      (local.set $p (i32.add (local.get $p) (i32.const 1)))
      (local.set $n (i32.sub (local.get $n) (i32.const 1)))
      (br $l)))
    (local.get $s))
  (func (export "peek") (result i32) (i32.load (i32.const 4096)))
)'''
ALLOCATORS = {
    "cabi_realloc": '''(func (export "cabi_realloc") (param i32 i32 i32 i32) (result i32)
        (global.set $a0 (local.get 0)) (global.set $a1 (local.get 1))
        (global.set $a2 (local.get 2)) (global.set $a3 (local.get 3)) (call $bump (local.get 3)))''',
    "__wbindgen_malloc": '''(func (export "__wbindgen_malloc") (param i32 i32) (result i32)
        (global.set $a0 (local.get 0)) (global.set $a1 (local.get 1)) (call $bump (local.get 0)))''',
    "malloc": '''(func (export "malloc") (param i32) (result i32)
        (global.set $a0 (local.get 0)) (call $bump (local.get 0)))''',
}


def session(allocator: str) -> Session:
    module = WasmModule.from_bytes(wat(ALLOC.replace("ALLOCATOR", ALLOCATORS[allocator])), "t.wasm")
    return Session(module, sp_global=0, stack_range=(1024, 65536), timeout=2)


def recorded(s) -> list[int]:
    return [s.get_global(s.find_global(f"a{i}")) for i in range(4)]


def test_cabi_realloc_gets_old_ptr_old_size_align_new_size():
    with session("cabi_realloc") as s:
        r = s.call("sum2", ["b:010203"])
        assert r.results == [6] and r.allocations[0].via == "cabi_realloc"
        assert recorded(s) == [0, 0, 1, 3]  # (old_ptr 0, old_size 0, align 1, new_size 3)


def test_wbindgen_malloc_gets_size_and_align():
    with session("__wbindgen_malloc") as s:
        r = s.call("sum2", ["s:abcd"])
        assert r.results == [sum(b"abcd")] and r.allocations[0].via == "__wbindgen_malloc"
        assert recorded(s)[:2] == [4, 1]


def test_malloc_gets_size():
    with session("malloc") as s:
        s.call("strlen", ["z:hello"])
        assert recorded(s)[0] == 6  # the text and its NUL


def test_pointer_only_arguments():
    with session("malloc") as s:
        r = s.call("strlen", ["z:hello"])
        assert r.results == [5] and r.args == [70000]  # one parameter: the pointer alone
        assert s.read(70000, 6) == b"hello\0"
        r = s.call("first", ["p:ff00"])
        assert r.results == [255] and len(r.args) == 1
        with pytest.raises(UsageError, match="strlen expects"):
            s.call("strlen", ["s:hello"])  # a (ptr, len) pair is two arguments


def test_non_utf8_text_is_passed_as_its_bytes():
    raw = b"\xff\xfeA".decode("utf-8", "surrogateescape")
    with session("malloc") as s:
        r = s.call("sum2", ["s:" + raw])
        assert r.results == [0xFF + 0xFE + 0x41]


def test_write_before_the_call():
    with session("malloc") as s:
        r = s.call("peek", [], writes=["0x1000=2a000000"])
        assert r.results == [42] and r.writes == [(0x1000, b"*\0\0\0")]
        assert not r.changes  # what --write put there is not the call's change
        with pytest.raises(UsageError, match="expected ADDR=HEX"):
            s.call("peek", [], writes=["0x1000"])
        with pytest.raises(UsageError, match="hex digits"):
            s.call("peek", [], writes=["0x1000=zz"])


# -- the command line ---------------------------------------------------------------------------------
def run(capsys, *argv):
    with pytest.raises(SystemExit) as ei:
        main(list(argv))
    out, err = capsys.readouterr()
    return ei.value.code, out, err


def test_unknown_option_after_the_arguments_is_an_error(capsys):
    code, out, err = run(capsys, "call", sample("memdemo.wasm"), "divide", "7", "2", "--bogus")
    assert code == 2 and "No such option '--bogus'" in err and not out


def test_options_anywhere_and_negative_numbers(capsys):
    code, out, err = run(capsys, "call", sample("memdemo.wasm"), "divide", "-7", "--json", "-0x2")
    assert code == 0, err
    assert '"value": 3' in out
    code, out, err = run(capsys, "call", sample("memdemo.wasm"), "divide", "-inf", "2")
    assert code == 2 and "not a valid i32" in err  # a number-looking word is an argument, checked by type
    code, out, err = run(capsys, "call", sample("memdemo.wasm"), "divide", "--", "-8", "2")
    assert code == 0 and "i32 -4" in out


def test_double_dash_makes_option_looking_words_arguments(capsys):
    code, out, err = run(capsys, "call", sample("memdemo.wasm"), "process_string", "--", "s:--json")
    assert code == 0, err
    assert "s:--json → ptr" in out


def test_write_by_dwarf_symbol(capsys):
    code, out, err = run(capsys, "call", sample("memdemo-debug.wasm"), "get_counter", "--write",
                         "call_counter=2a000000")
    assert code == 0, err
    assert "wrote 4 bytes at 0x100b4 before the call: 2a 00 00 00" in out and "i32 42" in out


def test_non_utf8_argument_from_a_real_command_line(tmp_path):
    """The bytes of argv reach the module unchanged (no exit 3 for text that is not UTF-8)."""
    exe = os.path.join(os.path.dirname(sys.executable), "wasmem")
    proc = subprocess.run([exe, "call", sample("memdemo.wasm"), "process_string", b"s:\xff\xfeAb", "--json"],
                          capture_output=True, timeout=60, env={**os.environ, "LC_ALL": "C.UTF-8"})
    assert proc.returncode == 0, proc.stderr
    assert b'"allocations"' in proc.stdout and b'"size": 4' in proc.stdout


def test_a_memory_held_back_by_max_memory_is_named(capsys):
    """memory.grow past --max-memory returns -1 to the guest; the result says which option would let it grow."""
    code, out, err = run(capsys, "call", sample("memdemo.wasm"), "grow_memory", "1", "--max-memory", "131072",
                         "--json")
    import json

    d = json.loads(out)
    assert d["results"][0]["value"] == -1 and not d["growth"]
    assert d["limit_notes"] == ["memory 0 is 131072 bytes: it cannot grow by a page under the --max-memory limit "
                                "of 131072 bytes (memory.grow returns -1); run with --max-memory 196608 or more "
                                "to let it grow"]
    code, out, err = run(capsys, "call", sample("memdemo.wasm"), "grow_memory", "1", "--json")
    d = json.loads(out)
    assert d["results"][0]["value"] == 2 and d["limit_notes"] == []


def test_an_option_value_may_look_like_an_option(capsys):
    code, out, err = run(capsys, "call", sample("hosts-wasi-command.wasm"), "_start", "--arg", "-x", "--arg",
                         "--weird", "--json")
    import json

    assert json.loads(out)["stdout"].splitlines()[:2] == ["-x", "--weird"], err


STACK_ALLOC = r'''
(module
  (memory (export "memory") 2)
  (global $__stack_pointer (mut i32) (i32.const 65536))
  (data (i32.const 65536) "data")
  (func (export "stack_alloc") (param $n i32) (result i32)
    (global.set $__stack_pointer (i32.sub (global.get $__stack_pointer) (local.get $n)))
    (global.get $__stack_pointer))
  (func (export "stack_get") (result i32) (global.get $__stack_pointer))
  (func (export "sum") (param $p i32) (param $n i32) (result i32) (local $s i32)
    (block $done (loop $l
      (br_if $done (i32.eqz (local.get $n)))
      (local.set $s (i32.add (local.get $s) (i32.load8_u (local.get $p))))
      (local.set $p (i32.add (local.get $p) (i32.const 1)))
      (local.set $n (i32.sub (local.get $n) (i32.const 1)))
      (br $l)))
    (local.get $s))
  (func (export "trap_after_alloc") (global.set $__stack_pointer (i32.const 100)) unreachable)
)'''


@pytest.mark.parametrize("paint", [None, True])
def test_the_programs_own_move_of_the_stack_pointer_stays(paint):
    """An export that exists to move the stack pointer (stackAlloc, __wbindgen_add_to_stack_pointer) keeps its
    effect; wasmem gives back only what it took itself (argument data, an sret slot), and resets after a trap."""
    from wasmem.app import open_session

    with open_session(wat(STACK_ALLOC), timeout=2, paint=paint) as s:
        assert s.call("stack_alloc", ["64"]).results == [65536 - 64]
        assert s.get_sp() == 65536 - 64 and s.call("stack_get", []).results == [65472]
        # bytes placed on the stack by wasmem for the call (no allocator): given back, the program's move stays
        r = s.call("sum", ["b:010203"])
        assert r.results == [6] and r.allocations[0].via == "stack" and s.get_sp() == 65472
        r = s.call("trap_after_alloc", [])
        assert r.trap is not None and r.sp_after == 100 and s.get_sp() == 65472  # reset after a trap
