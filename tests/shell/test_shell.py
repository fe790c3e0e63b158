"""`wasmem shell`: the command language on one live instance of real samples under wasmtime, scripts with
asserts and their exit codes, and errors that never leave the shell."""

from __future__ import annotations

import io
import os

import pytest
from conftest import ROOT, run_main, sample
from shell_util import buffered_shell, said

from wasmem.shell import run_lines
from wasmem.shell.words import arithmetic, split_words, substitute

SEED = os.path.join(ROOT, "examples", "seed.wms")


@pytest.fixture
def shell():
    sh = buffered_shell(sample("memdemo-debug.wasm"))
    yield sh
    sh.close()


# -- the seed workflow ------------------------------------------------------------------------------
def test_the_seed_script_passes_on_memdemo(capsys):
    code, out, err = run_main(capsys, "shell", sample("memdemo.wasm"), "-x", SEED)
    assert code == 0, out + err
    assert "> call process_string $1 5" in out  # echoed as written
    assert "$2 = 2" in out and '$3 = "HELLO"' in out
    assert out.count("ok: ") == 5
    assert "freed 16 bytes at 0x100c0 with deallocate" in out


def test_the_seed_workflow_step_by_step(shell):
    shell.execute("alloc 16")
    ptr = shell.values[-1]
    assert ptr >= shell.session.resolve_address("__heap_base")
    shell.execute('write $1 "hello"')
    assert shell.session.read(ptr, 5) == b"hello"
    shell.execute("call process_string $1 5")
    assert shell.values[-1] == 2
    assert shell.session.read(ptr, 5) == b"HELLO"
    assert list(shell.changed) == [(ptr, ptr + 5)]  # the call's changed bytes, for x/dump/view
    shell.execute("str $1")
    assert shell.last == "HELLO"
    shell.execute("free $1")
    assert not shell.blocks


# -- scripts: exit codes and FILE:LINE ----------------------------------------------------------------
def test_a_failed_assert_exits_1_with_file_and_line(tmp_path, capsys):
    f = tmp_path / "t.wms"
    f.write_text("call apply 0 21\nassert $1 == 42\nassert $1 != 42\ninfo sp\n")
    code, out, err = run_main(capsys, "shell", sample("memdemo.wasm"), "-x", str(f))
    assert code == 1
    assert f"{f}:3: assertion failed: $1 != 42 (left side is 42 (0x2a))" in err
    assert "ok: $1 == 42" in out and "> info sp" not in out  # stops at the failure


def test_a_script_error_exits_2_with_file_and_line(tmp_path, capsys):
    f = tmp_path / "t.wms"
    f.write_text("# a comment\n\nx/4x 0x10000\nfrobnicate 3\n")
    code, out, err = run_main(capsys, "shell", sample("memdemo.wasm"), "-x", str(f))
    assert code == 2
    assert err.startswith(f"wasmem: error: {f}:4: unknown command 'frobnicate'")
    assert "Traceback" not in err


def test_c_commands_and_quiet(capsys):
    code, out, _ = run_main(capsys, "shell", sample("memdemo.wasm"), "-q", "-c", "call checksum b:68656c6c6f",
                       "-c", "assert $1 == 0x062c0215")
    assert code == 0 and "\n> " not in out and not out.startswith("> ") and "ok: $1 == 0x062c0215" in out


def test_commands_from_a_standard_input_that_is_not_a_terminal(capsys, monkeypatch):
    monkeypatch.setattr("sys.stdin", io.StringIO("call apply 1 7\nassert $_ == 49\n"))
    code, out, _ = run_main(capsys, "shell", sample("memdemo.wasm"))
    assert code == 0 and "ok: $_ == 49" in out


def test_a_missing_script_is_a_usage_error(capsys, tmp_path):
    code, _, err = run_main(capsys, "shell", sample("memdemo.wasm"), "-x", str(tmp_path / "none.wms"))
    assert code == 2 and "no such file" in err


# -- p: DWARF-typed values -------------------------------------------------------------------------
def test_p_prints_typed_values_and_keeps_scalars(shell):
    shell.execute("p config")
    text = said(shell)
    assert "config (Config)" in text and '.name (char[16]) = "wasmem"' in text
    shell.execute("p config.meta.scale")
    assert shell.last == 1.5
    shell.execute("p names[2]")
    assert '"gamma"' in said(shell)
    shell.execute("p *node_a->next")
    text = said(shell)
    assert "*node_a->next (struct Node)" in text and ".value (int32_t) = 20" in text
    shell.execute("p (Point)0x10078")  # config.meta.origin
    assert ".y (double) = 2.5" in said(shell)
    shell.execute("p 0x10 * 4 + $_")
    assert shell.last == 64 + 0x10078


def test_assert_reads_typed_memory_and_symbols(shell):
    for line in ("assert config.version == 3", "assert config.meta.origin.x < 0", 'assert config.meta.name == "wasmem"',
                 "assert i16 config.size == 640", 'assert bytes data_array == "01 00 00 00 02"',
                 "assert u32 data_array+4 == 2", "assert str names[1] == \"beta\""):
        shell.execute(line)
    from wasmem.shell import AssertionFailed

    with pytest.raises(AssertionFailed):
        shell.execute("assert config.version == 4")


def test_heap_asserts_say_heap_tracking_is_missing(shell):
    from wasmem.errors import UsageError

    with pytest.raises(UsageError, match="heap tracking"):
        shell.execute("assert heap.live == 0")


# -- memory commands ------------------------------------------------------------------------------
def test_x_formats(shell):
    shell.execute("x/4i32 data_array")
    assert "1  2  3  4" in said(shell)
    shell.execute("x/2g data_array")
    assert "8589934593" in said(shell)
    shell.execute("x/8x config.meta.name")
    assert "77 61 73 6d 65 6d 00 00" in said(shell)
    shell.execute("x/s 0x10000")
    assert shell.last == "memdemo"
    shell.execute("str config.title")  # a pointer: str reads where it points
    assert shell.last == "memdemo"


def test_write_text_escapes_and_hex(shell):
    shell.execute("alloc 32")
    p = shell.last
    shell.execute(r'write $1 "a\tb\x00c" ff 0x10')
    assert shell.session.read(p, 7) == b"a\tb\x00c\xff\x10"
    shell.execute("write $1+8 de:ad:be:ef")
    assert shell.session.read(p + 8, 4) == bytes.fromhex("deadbeef")


def test_snapshot_diff_restore(shell):
    shell.execute("snapshot clean")
    shell.execute("call allocate 32")
    shell.execute("diff clean")
    assert shell.last > 0 and "since clean:" in said(shell)
    shell.execute("restore clean")
    shell.execute("diff clean")
    assert shell.last == 0


def test_grow_and_info(shell):
    shell.execute("grow 1")
    assert shell.session.memory(0).pages == shell.last + 1
    for topic in ("exports", "imports", "globals", "regions", "symbols", "memory", "sp"):
        shell.execute(f"info {topic}")
    text = said(shell)
    assert "process_string" in text and "__stack_pointer" in text and "heap (initial memory)" in text
    assert "sp = 0x10000 (global 0)" in text


def test_bt_after_a_trap_and_reset(shell):
    shell.execute("bt")
    assert "no call has trapped" in said(shell)
    shell.execute("call divide 1 0")
    shell.execute("bt")
    text = said(shell)
    assert "integer divide by zero" in text and "memdemo.c:" in text
    shell.execute("call allocate 16")
    shell.execute("reset")
    shell.execute("call get_counter")
    assert shell.last == 0  # a fresh instance: the allocation's counter is gone


def test_chase_and_dump(shell):
    shell.execute("chase node_a")
    assert "↺ cycle to 0x10090" in said(shell)
    shell.execute("dump config 16")
    assert "<config>" in said(shell)


# -- errors never leave the shell ------------------------------------------------------------------
@pytest.mark.parametrize("line", ["frob", "call", "call nosuch 1", "call apply 1", "x/4q 0", "x/4x 0xffffffff",
                                  "p nosuch->x", "p *config.version", "free 0x1234", "restore nope", "$9",
                                  "write 0 zz", 'write 0 "open', "str 0x7fffffff", "info nothing", "grow -1",
                                  "call spin", "assert 1 == 2", "view", "p (Nope)0"])
def test_errors_are_printed_and_the_shell_goes_on(shell, line):
    shell.session.timeout = 0.5
    assert shell.onecmd(line) is True
    assert shell.onecmd("p 1 + 1") is True
    assert shell.last == 2
    assert "Traceback" not in said(shell)


def test_quit_ends_the_loop(shell):
    assert shell.onecmd("quit") is False


def test_help(shell):
    shell.execute("help")
    text = said(shell)
    for name in ("call", "x/NFMT", "snapshot", "assert"):
        assert name in text
    shell.execute("help x")
    assert "gdb letter" in said(shell)


def test_run_lines_echoes_and_numbers_lines(shell):
    from wasmem.shell import ScriptError

    with pytest.raises(ScriptError, match=r"^s.wms:2: "):
        run_lines(shell, ["p 1", "p $7"], "s.wms")
    assert "> p 1" in said(shell)


# -- words ---------------------------------------------------------------------------------------
def test_words_quotes_and_comments():
    ws = split_words('write $1 "a b\\n" \'x y\' # note')
    assert [(w.text, w.quoted) for w in ws] == [("write", False), ("$1", False), ("a b\n", True), ("x y", True)]


def test_substitution_and_arithmetic():
    assert substitute("$1+$_", [16], 5) == "0x10+0x5"
    assert arithmetic("0x10 + 2*3") == 22 and arithmetic("config") is None
    from wasmem.errors import UsageError

    with pytest.raises(UsageError, match="too large"):
        arithmetic("1 << 200")

    with pytest.raises(UsageError, match=r"\$2 is not set"):
        substitute("$2", [1], 1)


def test_alloc_with_a_named_allocator_and_without_one(wat_file, capsys):
    m = wat_file("""(module (memory (export "memory") 1) (global $top (mut i32) (i32.const 1024))
      (func (export "bump") (param i32) (result i32) (local i32)
        global.get $top local.set 1
        global.get $top local.get 0 i32.add global.set $top
        local.get 1))""")
    code, out, err = run_main(capsys, "shell", m, "-q", "-c", "alloc 8")
    assert code == 2 and "name one: alloc N NAME[,FREE]" in err
    code, out, err = run_main(capsys, "shell", m, "-q", "-c", "alloc 8 bump", "-c", "alloc 8 bump", "-c", "assert $2 == 1032",
                         "-c", "free $1")
    assert code == 2 and "bump has no matching free export" in err and "$1 = 1024" in out
