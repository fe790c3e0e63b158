"""`wasmem shell --core`: a post-mortem session over the dumps the real wasmtime CLI wrote
(tests/coredump/data): DWARF-typed reads of the dumped memory, `bt` as `wasmem backtrace` shows it,
scripts with asserts, and the commands that would run code or change memory refused in one line."""

from __future__ import annotations

import io
import os

import pytest
from conftest import ROOT, run_main, sample
from coredump_util import CRASH_CORE, CRASH_O0_CORE, CRASH_O0_WASM, CRASH_WASM, write_with_locals
from shell_util import buffered_shell, said

from wasmem.errors import UsageError
from wasmem.render.common import make_console
from wasmem.shell import Shell

CRASH_WMS = os.path.join(ROOT, "examples", "crash.wms")
LIVE = ["call _start", "alloc 16", "write 0x100010 00", 'write accounts "x"', "free 0x100010", "grow 1",
        "snapshot a", "restore a", "diff a", "reset"]


@pytest.fixture
def core():
    sh = buffered_shell(CRASH_WASM, core=CRASH_CORE)
    yield sh
    sh.close()


def test_the_crash_script_passes_on_the_wasmtime_dump(capsys):
    code, out, err = run_main(capsys, "shell", CRASH_WASM, "--core", CRASH_CORE, "-x", CRASH_WMS)
    assert code == 0, out + err
    assert out.count("ok: ") == 9
    assert "coredump crash.core of crash.wasm: 3 frames, stack pointer 0x100000; read-only" in out
    assert "#0  balance_of  crash.c:" in out and "#2  _start  crash.c:" in out
    assert ".next (struct account *) = 0xfffff000" in out


def test_a_dwarf_typed_struct_from_the_dump(core):
    core.execute("p accounts[2]")
    text = said(core)
    assert "accounts[2] (account_t)" in text and ".id (int32_t) = 103" in text and ".balance (uint32_t) = 7" in text
    assert '.owner (const char *) = 0x100000 <.rodata> "carol"' in text
    assert core.values[-1] == 0x100030  # an aggregate keeps its address
    core.execute("p accounts[0].next->next->balance")
    assert core.values[-1] == 7
    core.execute("p *accounts[0].next")
    assert ".id (int32_t) = 102" in said(core)
    core.execute("str accounts[1].owner")
    assert core.values[-1] == "bob"
    core.execute("p (account_t)0x100010")
    assert ".balance (uint32_t) = 5000" in said(core)


def test_reading_commands_see_the_dumped_memory_and_globals(core):
    core.execute("x/4d accounts")
    assert "101  5000  1048582  1048608  <accounts>" in said(core)
    core.execute("dump accounts")  # the symbol's size: 48 bytes
    text = said(core)
    assert "[0x00100010, 0x00100040)  48 bytes" in text and "67 00 00 00 07 00 00 00" in text
    core.execute("chase accounts[0].next")
    assert "0xfffff000" in said(core)
    core.execute("info globals")
    assert "__stack_pointer  i32   mut  1048576 (0x100000)" in said(core)
    core.execute("info sp")
    assert core.values[-1] == 0x100000
    core.execute("info memory")
    assert "17  1114112   17  none" in said(core)
    core.execute("info regions")
    assert ".rodata" in said(core)
    core.execute("info symbols acc*")
    assert "accounts" in said(core)
    core.execute("info exports")
    assert "_start" in said(core)
    core.execute("assert audited == 3")
    core.execute("assert u32 0x100014 == 5000")


def test_bt_is_the_backtrace_command_view(capsys):
    buf = io.StringIO()
    sh = Shell(CRASH_WASM, core=CRASH_CORE, console=make_console(file=buf, width=80, color=False))
    sh.execute("bt")
    sh.close()
    text = buf.getvalue()
    code, out, _ = run_main(capsys, "backtrace", CRASH_CORE, CRASH_WASM)
    assert code == 0
    assert [ln.rstrip() for ln in text.splitlines()] == [ln.rstrip() for ln in out.splitlines()]
    assert "#1  audit  crash.c:" in text and "func 0 +0x3 (file offset 0x4c)" in text


def test_bt_at_O0_gives_the_variables_from_the_dumped_stack():
    buf = io.StringIO()
    sh = Shell(CRASH_O0_WASM, core=CRASH_O0_CORE, console=make_console(file=buf, width=120, color=False))
    try:
        sh.execute("bt")
        text = buf.getvalue()
        assert "head" in text and "0x100010 <accounts>" in text and "5257" in text
        sh.execute("info sp")
        assert sh.values[-1] == 0xFFFF0
        sh.execute("assert u32 sp+4 == 5257")  # audit's `total` and `limit` on its -O0 frame
        sh.execute("assert u32 sp+8 == 10")
    finally:
        sh.close()


@pytest.mark.parametrize("line", LIVE)
def test_commands_that_run_code_or_change_memory_are_refused(core, line):
    before = core.session.read(0x100000, 0x50)
    name = line.split()[0]
    with pytest.raises(UsageError) as ei:
        core.execute(line)
    msg = str(ei.value)
    assert msg.startswith(f"{name}: this session is the coredump crash.core, read-only") and "\n" not in msg
    assert core.session.read(0x100000, 0x50) == before
    assert core.onecmd(line)  # interactive: said, and the session goes on
    assert said(core).count("error:") == 1


def test_a_refusal_in_a_script_is_one_line_exit_2(capsys):
    code, out, err = run_main(capsys, "shell", CRASH_WASM, "--core", CRASH_CORE, "-c", "p audited", "-c", "call _start")
    assert code == 2 and "$1 = 3" in out
    lines = err.splitlines()
    assert len(lines) == 1 and lines[0].startswith("wasmem: error: -c:2: call: this session is the coredump crash.core")


def test_help_marks_what_a_coredump_session_does_not_run(core):
    core.execute("help")
    text = said(core)
    assert "(not in a coredump) Call an export" in text and "(not in a coredump) Examine" not in text
    core.execute("help write")
    assert "this session is the coredump crash.core" in said(core)


def test_a_module_that_is_not_the_dumps_is_the_backtrace_error(capsys):
    code, _, bt_err = run_main(capsys, "backtrace", CRASH_CORE, sample("memdemo.wasm"))
    assert code == 2
    for cmd in ("shell", "view"):
        code, out, err = run_main(capsys, cmd, sample("memdemo.wasm"), "--core", CRASH_CORE, "-c", "bt") if cmd == "shell" \
            else run_main(capsys, cmd, sample("memdemo.wasm"), "--core", CRASH_CORE)
        assert code == 2 and err == bt_err and len(err.splitlines()) == 1, err
        assert "memdemo.wasm is not the module of the coredump" in err


def test_a_renamed_module_is_a_note_when_the_session_opens(tmp_path, capsys):
    core = write_with_locals(tmp_path / "x.core", module_name="app-v2.wasm")
    code, out, err = run_main(capsys, "shell", CRASH_WASM, "--core", core, "-c", "bt")
    assert code == 0, err
    assert "note: the coredump names the module app-v2.wasm" in out
    assert "a = 0xfffff000" in out or "0xfffff000" in out  # balance_of's recorded local 0


def test_view_in_a_script_says_it_needs_a_terminal(capsys):
    code, _, err = run_main(capsys, "shell", CRASH_WASM, "--core", CRASH_CORE, "-c", "view")
    assert code == 2 and "view needs an interactive terminal" in err


def test_dump_and_chase_take_the_core_session(core):
    """The library calls the one-shot commands use read a shell's coredump session as they read --core."""
    from wasmem.app import chase_memory, dump_memory

    out = dump_memory(core.session, "accounts", type_name="auto")
    assert out.source == f"coredump {CRASH_CORE}" and out.sp == 0x100000
    assert [k["children"][1]["value"] for k in out.value.to_dict()["children"]] == [5000, 250, 7]
    assert chase_memory(core.session, "accounts").chase.to_dict()["mode"] == "typed"
    with pytest.raises(UsageError, match="--core reads a coredump"):
        dump_memory(core.session, "accounts", after=["_start"])


def test_completion_offers_only_what_a_coredump_session_runs(core):
    from wasmem.shell.repl import ShellCompleter

    names = [c for c, _ in ShellCompleter(core).candidates("")]
    assert "p" in names and "bt" in names and "view" in names and "print" in names
    assert not {"call", "alloc", "write", "free", "grow", "snapshot", "restore", "diff", "reset"} & set(names)
    assert [c for c, _ in ShellCompleter(core).candidates("p accounts[0].ne")] == ["next"]


@pytest.mark.parametrize("argv, needle", [
    (["shell", CRASH_CORE, "--core", CRASH_WASM, "-c", "bt"], "crash.core is a coredump: give the module it was "
                                                              "taken of as MODULE and the dump with --core"),
    (["view", CRASH_WASM, "--core", CRASH_WASM], "crash.wasm: not a coredump (no `core` custom section): --core takes"),
    (["shell", CRASH_WASM, "--core", "/nonexistent.core", "-c", "bt"], "no such file"),
    (["dump", CRASH_WASM, "--core", CRASH_WASM], "not a coredump"),
])
def test_wrong_files_are_one_line_in_the_options_terms(capsys, argv, needle):
    code, _, err = run_main(capsys, *argv)
    assert code == 2 and len(err.splitlines()) == 1 and needle in err, err
