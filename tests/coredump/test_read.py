"""Reading coredumps the real wasmtime CLI wrote (tests/coredump/data): the sections, the backtrace with
names, offsets and file:line, DWARF-typed structs from the dumped memory, frame variables from recorded
locals, and the errors for a module that is not the dump's."""

from __future__ import annotations

import contextlib
import io

import pytest
from click.testing import CliRunner
from conftest import sample
from coredump_util import CRASH_CORE, CRASH_O0_CORE, CRASH_O0_WASM, CRASH_WASM, write_with_locals

from wasmem.api import backtrace, load_module, open_core
from wasmem.app import chase_memory, dump_memory
from wasmem.cli.main import cli, main
from wasmem.errors import ParseError, UsageError
from wasmem.model.coredump import read_coredump
from wasmem.parser.coredump import read_core_sections


def test_the_sections_wasmtime_wrote():
    s = read_core_sections(load_module(CRASH_CORE))
    assert s.name == "crash.wasm" and s.modules == ("crash.wasm",)
    assert len(s.instances) == 1 and s.instances[0].memories == (0,) and s.instances[0].globals == (0,)
    (thread,) = s.threads
    assert thread.name == "main"
    # wasmtime printed "0: 0x4c balance_of, 1: 0x76 audit, 2: 0xdc _start" for this trap
    assert [(f.func_index, f.code_offset) for f in thread.frames] == [(0, 3), (1, 0x25), (2, 0x33)]
    assert all(not f.locals and not f.stack for f in thread.frames)  # wasmtime records none


def test_backtrace_names_offsets_and_lines():
    bt = backtrace(CRASH_CORE, CRASH_WASM)
    assert [f.name for f in bt.frames] == ["balance_of", "audit", "_start"]
    assert [f.module_offset for f in bt.frames] == [0x4C, 0x76, 0xDC]  # as wasmtime's own backtrace says
    src = open(CRASH_WASM[:-5] + ".c", encoding="utf-8").read().splitlines()
    lines = [int(f.location.split(":")[1]) for f in bt.frames]
    assert all(f.location.startswith("crash.c:") for f in bt.frames)
    assert "a->balance" in src[lines[0] - 1]
    assert "balance_of(a)" in src[lines[1] - 1]
    assert "audit(&accounts[0], 10)" in src[lines[2] - 1]
    assert bt.stack_pointer == 0x100000 and bt.memory_pages == 17 and bt.thread == "main"
    assert not bt.notes


def test_a_dwarf_typed_struct_from_the_dump():
    out = dump_memory(CRASH_WASM, "accounts", type_name="auto", core=CRASH_CORE)
    assert out.source == f"coredump {CRASH_CORE}" and out.sp == 0x100000
    v = out.value.to_dict()
    kids = v["children"]
    assert [k["children"][0]["value"] for k in kids] == [101, 102, 103]  # .id
    assert [k["children"][1]["value"] for k in kids] == [5000, 250, 7]  # .balance
    assert kids[0]["children"][2]["string"] == "alice"
    assert kids[2]["children"][3]["value"] == 0xFFFFF000  # the corrupted .next that trapped
    one = dump_memory(CRASH_WASM, "accounts[1]", type_name="auto", core=CRASH_CORE)
    assert one.value.to_dict()["type"] == "account_t" and one.dump.address == 0x100020


def test_symbol_paths_follow_pointers_through_the_dump():
    out = dump_memory(CRASH_WASM, "accounts[0].next->next->balance", length=4, fmt="u32", core=CRASH_CORE)
    assert out.dump.to_dict()["rows"][0]["values"] == [7]
    ch = chase_memory(CRASH_WASM, "accounts", core=CRASH_CORE).chase.to_dict()
    assert ch["mode"] == "typed" and ch["sp"] == 0x100000


def test_sp_and_globals_are_their_values_at_the_crash():
    bt = backtrace(CRASH_O0_CORE, CRASH_O0_WASM)
    assert bt.stack_pointer == 0xFFFF0  # audit's -O0 frame is on the stack
    out = dump_memory(CRASH_O0_WASM, "sp", length=16, core=CRASH_O0_CORE)
    assert out.dump.address == 0xFFFF0
    assert [f.name for f in bt.frames] == ["balance_of", "audit", "_start"]


def test_O0_parameters_and_locals_from_a_dump_without_locals():
    """wasmtime records no locals; at -O0 clang keeps parameters and locals on the linear stack at a frame
    base that is the stack pointer after the prologue: from the dumped stack pointer and the prologues'
    frame sizes every frame's base is known, and so are its variables."""
    bt = backtrace(CRASH_O0_CORE, CRASH_O0_WASM)
    f0, f1, f2 = bt.frames
    assert f1.frame_base == 0xFFFF0 and f0.frame_base == 0xFFFF0 - 16  # a leaf: its frame in the red zone
    assert [(n, k, v) for n, k, _, v in f0.variables] == [("a", "parameter", "0xfffff000")]
    got = {n: v for n, _, _, v in f1.variables}
    assert got == {"head": "0x100010 <accounts>", "limit": "10", "total": "5257", "a": "0xfffff000"}
    assert 5257 == 5000 + 250 + 7  # the three balances summed before the fourth read trapped
    assert f2.variables == []  # _start has no variables
    assert all(f.frame_base is None and not f.variables for f in backtrace(CRASH_CORE, CRASH_WASM).frames)


def test_recorded_locals_become_dwarf_parameters(tmp_path):
    bt = backtrace(write_with_locals(tmp_path / "l.core"), CRASH_WASM)
    f0, f1 = bt.frames[0], bt.frames[1]
    assert ("a", "parameter", "const account_t *", "0xfffff000") in f0.variables
    assert [v.type for v in f0.stack] == ["i32", None, "i64", "f32", "f64"]
    assert [v.value for v in f0.stack] == [7, None, -2, 0.5, -1.25]
    # at audit's pc only `limit` has a location (the others live in other ranges of their location lists)
    assert [(n, k, v) for n, k, _, v in f1.variables] == [("limit", "parameter", "10")]


def test_frame_base_locals_at_O0_give_the_stack_variables(tmp_path):
    """At -O0 DWARF puts `a` at DW_OP_fbreg 12 with the frame base in a wasm local: a dump that records
    that local gives the parameter's value from the dumped linear stack."""
    from wasmem.parser.coredump import CoreFrame, CoreValue

    core = read_coredump(load_module(CRASH_O0_CORE))
    f0 = core.frames[0]
    fb = 0xFFFF0 - 16  # balance_of is a leaf with a 16-byte frame below audit's stack pointer (red zone)
    locals_ = (CoreValue("i32", 0xFFFF0), CoreValue("i32", fb))
    frames = (CoreFrame(0, f0.func_index, f0.code_offset, locals_, (), 0), *core.frames[1:])
    path = write_with_locals(tmp_path / "o0.core", source=CRASH_O0_CORE, module_name="crash-O0.wasm", frames=frames)
    bt = backtrace(path, CRASH_O0_WASM)
    assert ("a", "parameter", "const account_t *", "0xfffff000") in bt.frames[0].variables


def test_a_renamed_module_is_a_note_not_an_error(tmp_path):
    bt = backtrace(write_with_locals(tmp_path / "x.core", module_name="app-v2.wasm"), CRASH_WASM)
    assert len(bt.notes) == 1 and "app-v2.wasm" in bt.notes[0] and "match" in bt.notes[0]


def test_a_module_that_is_not_the_dumps_is_one_clear_error():
    with pytest.raises(UsageError, match=r"memdemo.wasm is not the module of the coredump .*crash.core .*names the "
                                         r"module crash.wasm.*globals"):
        open_core(CRASH_CORE, sample("memdemo.wasm"))
    # the -O0 build has the same globals and memory but its frames do not fit crash.wasm's bodies
    with pytest.raises(UsageError, match="frame #0 is at offset"):
        open_core(CRASH_O0_CORE, CRASH_WASM)
    # and the other way round every offset fits a body, but not an instruction of it: the -O1 dump's caller
    # frame waits at +0x25, which is inside an instruction of the -O0 build's `audit`
    with pytest.raises(UsageError, match=r"crash-O0.wasm is not the module .*frame #1 \(function 1 \+0x25\) is not "
                                         r"at an instruction boundary"):
        open_core(CRASH_CORE, CRASH_O0_WASM)


def test_arguments_the_wrong_way_round_and_a_module_for_a_dump():
    with pytest.raises(UsageError, match="is a coredump: give the coredump first"):
        open_core(CRASH_WASM, CRASH_CORE)
    with pytest.raises(UsageError, match="not a coredump"):
        open_core(CRASH_WASM, CRASH_WASM)


@pytest.mark.parametrize("argv, needle", [
    (["backtrace", CRASH_CORE, "MEMDEMO"], "is not the module of the coredump"),
    (["backtrace", CRASH_WASM, CRASH_CORE], "is a coredump"),
    (["dump", "MEMDEMO", "--core", CRASH_CORE], "is not the module of the coredump"),
    (["dump", CRASH_WASM, "--core", CRASH_CORE, "--after", "_start"], "--core reads a coredump"),
    (["chase", CRASH_WASM, "accounts", "--core", "/nonexistent.core"], "no such file"),
])
def test_cli_errors_are_one_line_exit_2(argv, needle):
    argv = [sample("memdemo.wasm") if a == "MEMDEMO" else a for a in argv]
    err = io.StringIO()
    with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()), pytest.raises(SystemExit) as ei:
        main(argv)
    assert ei.value.code == 2
    lines = err.getvalue().splitlines()
    assert len(lines) == 1 and lines[0].startswith("wasmem: error: ") and needle in lines[0], lines


def test_backtrace_text():
    r = CliRunner().invoke(cli, ["backtrace", CRASH_CORE, CRASH_WASM])
    assert r.exit_code == 0, r.output
    assert "#0  balance_of  crash.c:" in r.output and "func 0 +0x3 (file offset 0x4c)" in r.output
    assert "stack pointer 0x00100000" in r.output


def test_backtrace_without_a_module_uses_the_one_the_dump_names(tmp_path, monkeypatch):
    import json
    import os
    import shutil

    # the dump records crash.wasm as its executable: it is found next to the dump, wherever the command runs
    monkeypatch.chdir(tmp_path)
    r = CliRunner().invoke(cli, ["backtrace", CRASH_CORE, "--json"])
    assert r.exit_code == 0, r.output
    d = json.loads(r.output)
    assert d["module"] == CRASH_WASM and d["executable"] == "crash.wasm"
    assert d["notes"][0] == f"used {CRASH_WASM}, the module the coredump names ('crash.wasm')"
    assert d["frames"][0]["name"] == "balance_of"
    # a dump moved away from its module: the error names the paths looked at
    core = tmp_path / "moved" / "x.core"
    core.parent.mkdir()
    shutil.copy(CRASH_CORE, core)
    code, err = _cli_err("backtrace", str(core))
    assert code == 2 and err.count("\n") == 1
    assert (f"wasmem: error: {core}: the coredump names its module 'crash.wasm', but there is no "
            f"{os.path.join(core.parent, 'crash.wasm')} nor crash.wasm: give MODULE") in err
    # found from the working directory when it is not next to the dump
    shutil.copy(CRASH_WASM, tmp_path / "crash.wasm")
    r = CliRunner().invoke(cli, ["backtrace", str(core)])
    assert r.exit_code == 0, r.output
    assert "used crash.wasm, the module the coredump names" in " ".join(r.output.split())
    assert "#0  balance_of  crash.c:" in r.output


def test_the_api_backtrace_without_a_module_uses_the_one_the_dump_names(tmp_path, monkeypatch):
    """``wasmem.backtrace(CORE)`` (and ``wasmem.api.backtrace``) as the CLI: the module the dump names, a note
    saying which file; a dump whose module is nowhere is the CLI's error."""
    import shutil

    import wasmem

    monkeypatch.chdir(tmp_path)
    for bt in (backtrace(CRASH_CORE), wasmem.backtrace(CRASH_CORE), backtrace(CRASH_CORE, budgets={"dwarf": 10**9})):
        assert bt.notes[0] == f"used {CRASH_WASM}, the module the coredump names ('crash.wasm')"
        assert bt.frames[0].name == "balance_of"
    assert not any("the module the coredump names" in n for n in backtrace(CRASH_CORE, CRASH_WASM).notes)
    core = tmp_path / "x.core"
    shutil.copy(CRASH_CORE, core)
    with pytest.raises(UsageError, match="the coredump names its module 'crash.wasm', but there is no"):
        backtrace(str(core))


def _cli_err(*argv) -> tuple[int, str]:
    err = io.StringIO()
    with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()), pytest.raises(SystemExit) as ei:
        main(list(argv))
    return ei.value.code, err.getvalue()


def test_malformed_core_sections_fail_with_an_offset(tmp_path):
    data = bytearray(open(CRASH_CORE, "rb").read())
    i = data.index(b"corestack") + len(b"corestack")
    data[i] = 7  # the thread marker must be 0x00
    p = tmp_path / "bad.core"
    p.write_bytes(bytes(data))
    with pytest.raises(ParseError, match=r"corestack.*expected 0x00") as ei:
        read_core_sections(load_module(str(p)))
    assert ei.value.offset == i


def _cli(*argv) -> tuple[int, str]:
    out = io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(io.StringIO()), pytest.raises(SystemExit) as ei:
        main(list(argv))
    return ei.value.code, out.getvalue()


def test_inspect_core_adds_the_state_in_the_dump():
    import json

    code, out = _cli("inspect", CRASH_O0_WASM, "--core", CRASH_O0_CORE, "--json")
    assert code == 0
    core = json.loads(out)["core"]
    assert core == {"file": CRASH_O0_CORE, "memory_pages": 17, "stack_pointer": 0xFFFF0, "stack_used": 16,
                    "frames": ["balance_of", "audit", "_start"], "notes": []}
    code, out = _cli("inspect", CRASH_O0_WASM, "--core", CRASH_O0_CORE)
    assert "stack pointer 0x000ffff0 (16 B of the stack in use)" in out and "balance_of ← audit ← _start" in out


def test_symbols_core_shows_the_values_at_the_crash():
    import json

    code, out = _cli("symbols", CRASH_WASM, "--core", CRASH_CORE, "--json")
    assert code == 0
    rows = {r["name"]: r["value"] for r in json.loads(out)}
    assert rows["audited"] == "3"  # three accounts summed before the fourth read trapped
    assert rows["accounts"].startswith('{{ id = 101, balance = 5000, owner = 0x100006 <.rodata+0x6> "alice"')
    code, out = _cli("symbols", CRASH_WASM, "--core", CRASH_CORE)
    assert "values in the coredump" in out and "audited = 3" in out
    code, out = _cli("symbols", CRASH_WASM, "--json")
    assert "value" not in json.loads(out)[0]  # only with --core


def test_reading_a_dump_loads_no_wasmtime():
    """backtrace, inspect --core and symbols --core read files only: wasmtime (slow to import) stays out."""
    import subprocess
    import sys
    from pathlib import Path

    code = ("import sys\nfrom wasmem.cli.main import main\n"
            f"for argv in (['backtrace', {CRASH_O0_CORE!r}, {CRASH_O0_WASM!r}],\n"
            f"             ['inspect', {CRASH_O0_WASM!r}, '--core', {CRASH_O0_CORE!r}],\n"
            f"             ['symbols', {CRASH_O0_WASM!r}, '--core', {CRASH_O0_CORE!r}]):\n"
            "    try:\n        main(argv + ['--json'])\n    except SystemExit as e:\n        assert e.code == 0, argv\n"
            "print('LOADED', 'wasmtime' in sys.modules, file=sys.stderr)\n")
    root = Path(__file__).resolve().parents[2]
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=root,
                          env={"PYTHONPATH": str(root), "PATH": "/usr/bin:/bin"})
    assert "LOADED False" in proc.stderr, proc.stderr


def test_wasm_locations_dwarf_places():
    from collections import namedtuple

    from wasmem.debuginfo.dwarf import _wasm_place

    Op = namedtuple("Op", "op_name args")
    loc = lambda kind, i: Op("DW_OP_WASM_location", [kind, i])  # noqa: E731
    sv = Op("DW_OP_stack_value", [])
    assert _wasm_place([loc(0, 3), sv]) == ("local", 3) and _wasm_place([loc(0, 3)]) == ("local", 3)
    assert _wasm_place([loc(1, 0), sv]) == ("global", 0) and _wasm_place([loc(3, 7)]) == ("global", 7)
    assert _wasm_place([loc(2, 0), sv]) is None  # the operand stack
    assert _wasm_place([Op("DW_OP_fbreg", [12])]) == ("fbreg", 12)
    assert _wasm_place([loc(0, 1), Op("DW_OP_plus_uconst", [4])]) is None  # computed: left out
    assert _wasm_place([]) is None
