"""--max-memory refusals name the option and the size needed; shared memories (imported or defined) work,
with atomics, dump and growth, up to the limit."""

import ctypes

import pytest
import wasmtime
from click.testing import CliRunner
from conftest import wat

from wasmem.cli.main import cli
from wasmem.errors import RunError
from wasmem.parser import WasmModule
from wasmem.runtime.memory import GuestMemory, PatchedSharedMemory
from wasmem.runtime.session import Session

PAGE = 65536

IMPORTED_SHARED = """(module
  (memory (import "env" "memory") 1 4 shared)
  (data (i32.const 16) "hello")
  (func (export "inc") (param i32) (result i32)
    (i32.atomic.rmw.add (local.get 0) (i32.const 1)))
  (func (export "grow") (param i32) (result i32) (memory.grow (local.get 0)))
  (func (export "size") (result i32) (memory.size)))"""

DEFINED_SHARED = """(module
  (memory (export "memory") 1 4 shared)
  (data (i32.const 16) "hello")
  (func (export "inc") (param i32) (result i32)
    (i32.atomic.rmw.add (local.get 0) (i32.const 1)))
  (func (export "grow") (param i32) (result i32) (memory.grow (local.get 0)))
  (func (export "fail") (unreachable)))"""


def session(text: str, name: str = "m.wasm", **kw) -> Session:
    return Session(WasmModule.from_bytes(wat(text), name), timeout=5, **kw)


@pytest.mark.parametrize("max_memory", [0, 256 * 2**20])
def test_imported_shared_memory_is_defined_and_used(max_memory):
    with session(IMPORTED_SHARED, max_memory=max_memory) as s:
        info = s.memory(0)
        assert info.shared and info.imported == "env.memory" and info.pages == 1
        assert s.call("inc", ["16"]).results == [0x6C6C6568]  # "hell" as an i32, then +1
        r = s.call("inc", ["16"])
        assert r.results == [0x6C6C6569] and [(c.start, c.end) for c in r.changes] == [(16, 17)]
        assert s.read(16, 5) == b"jello"
        s.write(16, b"y")
        assert s.read(16, 1) == b"y"


def test_mem_adapter_on_a_shared_memory():
    cfg = wasmtime.Config()
    cfg.wasm_threads = True
    cfg.shared_memory = True
    engine = wasmtime.Engine(cfg)
    obj = PatchedSharedMemory(engine, wasmtime.MemoryType(wasmtime.Limits(1, 3), shared=True))
    m = GuestMemory(obj)
    assert m.shared and m.size(None) == PAGE and m.pages(None) == 1 and obj.size() == 1
    assert m.grow(None, 1) == 1 and m.pages(None) == 2 and m.size(None) == 2 * PAGE
    addr = m.address(None)
    assert addr == ctypes.addressof(m.ptr(None).contents)
    ctypes.memmove(addr + 5, b"ab", 2)
    assert ctypes.string_at(addr + 5, 2) == b"ab"


def test_imported_shared_memory_grows_to_its_maximum_without_a_limit():
    with session(IMPORTED_SHARED, max_memory=0) as s:
        assert s.call("grow", ["3"]).results == [1]
        assert s.call("grow", ["1"]).results == [-1]  # past the declared maximum
        assert s.memory(0).pages == 4


def test_imported_shared_memory_stops_at_the_limit():
    with session(IMPORTED_SHARED, max_memory=2 * PAGE) as s:
        r = s.call("grow", ["1"])
        assert r.results == [1] and r.growth and r.growth[0].new_pages == 2
        assert s.call("grow", ["1"]).results == [-1]  # the limit, not the declared maximum of 4
        assert s.memory(0).pages == 2
        (note,) = s.memory_limit_notes()
        assert "--max-memory" in note and f"--max-memory {3 * PAGE}" in note


def test_defined_shared_memory_stops_at_the_limit_and_offsets_stay():
    with session(DEFINED_SHARED, max_memory=2 * PAGE) as s:
        assert s.memory(0).shared and s.memory(0).max_pages == 4  # as declared
        assert s.call("grow", ["1"]).results == [1]
        assert s.call("grow", ["1"]).results == [-1]
        assert s.memory_size(0) == 2 * PAGE
        trap = s.call("fail", []).trap
        # the cap is patched in place: trap offsets are the file's
        raw = wat(DEFINED_SHARED)
        assert trap.kind == "unreachable" and raw[trap.frames[0].module_offset] == 0x00
    with session(DEFINED_SHARED, max_memory=0) as s:
        assert s.call("grow", ["3"]).results == [1] and s.memory_size(0) == 4 * PAGE
        assert s.memory_limit_notes() == []


@pytest.mark.parametrize("text, what", [
    ("(module (memory (export \"memory\") 100))", "memory 0 declares"),
    ("(module (memory (import \"env\" \"memory\") 100))", "memory import env.memory needs"),
    ("(module (memory (export \"memory\") 100 200 shared))", "memory 0 declares"),
    ("(module (memory (import \"env\" \"memory\") 100 200 shared))", "memory import env.memory needs"),
])
def test_refused_memory_names_the_option_and_the_size(text, what):
    with pytest.raises(RunError) as ei:
        session(text, max_memory=1_000_000)
    msg = str(ei.value)
    assert msg == (f"{what} 100 pages (6553600 bytes), more than --max-memory 1000000 bytes; "
                   f"run with --max-memory 6553600 or more (0 = no limit)")


def test_limit_note_only_when_the_limit_stops_growth():
    grow = '(module (memory (export "memory") 1) (func (export "grow") (param i32) (result i32) ' \
           '(memory.grow (local.get 0))))'
    with session(grow, max_memory=2 * PAGE) as s:
        assert s.memory_limit_notes() == []
        assert s.call("grow", ["5"]).results == [-1]  # refused by the limit: the guest sees -1
        assert s.call("grow", ["1"]).results == [1]
        (note,) = s.memory_limit_notes()
        assert note.startswith(f"memory 0 is {2 * PAGE} bytes") and f"--max-memory {3 * PAGE}" in note
    capped = '(module (memory (export "memory") 1 1))'
    with session(capped, max_memory=PAGE) as s:
        assert s.memory_limit_notes() == []  # its own maximum stops it, not the limit


def test_cli_dump_and_call_on_an_imported_shared_memory(wat_file):
    path = wat_file(IMPORTED_SHARED)
    r = CliRunner().invoke(cli, ["dump", path, "--at", "16", "--len", "8", "--after", "inc 16"])
    assert r.exit_code == 0, r.output
    assert "69 65 6c 6c 6f" in r.stdout  # "iello"
    r = CliRunner().invoke(cli, ["call", path, "inc", "16", "--max-memory", "0"])
    assert r.exit_code == 0, r.output
    r = CliRunner().invoke(cli, ["call", path, "size", "--max-memory", "100"], standalone_mode=False)
    assert isinstance(r.exception, RunError) and "--max-memory 65536 or more" in str(r.exception)
