"""Hostile and large coredumps: damaged bytes fail with one ParseError/UsageError (never another
exception), a deep stack is bounded in the text view, and writing a dump changes nothing the call shows."""

from __future__ import annotations

import random

import pytest
from coredump_util import CRASH_CORE, CRASH_O0_CORE, CRASH_O0_WASM, CRASH_WASM

from wasmem.api import backtrace, load_module
from wasmem.app import call_function, dump_memory
from wasmem.errors import WasmemError
from wasmem.model.coredump import read_coredump
from wasmem.parser.coredump import CoreFrame, CoreThread, MemorySpec, write_coredump


@pytest.mark.parametrize("source, module", [(CRASH_CORE, CRASH_WASM), (CRASH_O0_CORE, CRASH_O0_WASM)])
def test_damaged_dumps_fail_with_a_wasmem_error(tmp_path, source, module):
    data = open(source, "rb").read()
    rng = random.Random(17)
    path = tmp_path / "bad.core"
    for _ in range(150):
        bad = bytearray(data)
        for _ in range(rng.randint(1, 4)):
            bad[rng.randrange(8, len(bad))] = rng.randrange(256)
        if rng.random() < 0.2:
            bad = bad[:rng.randrange(8, len(bad))]
        path.write_bytes(bytes(bad))
        for run in (lambda: backtrace(str(path), module),
                    lambda: dump_memory(module, "accounts", type_name="auto", core=str(path))):
            try:
                run()
            except WasmemError:
                pass


def test_a_deep_stack_is_cut_in_the_text_view(tmp_path):
    from rich.console import Console

    from wasmem.render.backtrace import BacktraceView

    core = read_coredump(load_module(CRASH_CORE))
    m = core.memories[0]
    deep = tuple(CoreFrame(0, 1, 0x25, (), (), 0) for _ in range(5000))
    path = tmp_path / "deep.core"
    with open(path, "wb") as f:
        write_coredump(f, name="crash.wasm", memories=[MemorySpec(m.pages, m.read)],
                       globals=[(t, False, v) for t, v in core.globals], modules=["crash.wasm"],
                       instances=list(core.sections.instances), threads=[CoreThread("main", deep)])
    bt = backtrace(str(path), CRASH_WASM)
    assert len(bt.frames) == 5000 and all(f.name == "audit" for f in bt.frames)
    con = Console(width=100, file=None, record=True)
    with con.capture() as cap:
        con.print(BacktraceView(bt))
    text = cap.get()
    assert "4880 frames not shown" in text and text.count("audit") == 120


def test_writing_a_dump_changes_nothing_the_call_shows(tmp_path):
    """The dump is read from the instance; the call's results, trap, changes and stack use are the same."""
    plain = call_function(CRASH_O0_WASM, "_start")
    dumped = call_function(CRASH_O0_WASM, "_start", coredump=str(tmp_path / "c.core"))
    try:
        a, b = plain.to_dict(), dumped.to_dict()
        b.pop("coredump")
        for d in (a, b):
            d.pop("seconds", None)
        assert a == b
        assert plain.session.read(0, plain.session.memory_size(0)) == dumped.session.read(0, dumped.session.memory_size(0))
        assert plain.session.get_sp() == dumped.session.get_sp()
    finally:
        plain.session.close()
        dumped.session.close()


def test_every_error_of_a_truncated_dump_names_its_file(tmp_path):
    """A dump cut anywhere (a copy interrupted, a full disk): the error says which file is bad, whether it
    comes from the module header, the core sections or the memory's data segments (read on first use)."""
    data = open(CRASH_CORE, "rb").read()
    path = tmp_path / "cut.core"
    failed = 0
    for n in range(len(data)):
        path.write_bytes(data[:n])
        for run in (lambda: backtrace(str(path), CRASH_WASM),
                    lambda: dump_memory(CRASH_WASM, "accounts", type_name="auto", core=str(path))):
            try:
                run()
            except WasmemError as exc:
                failed += 1
                assert str(path) in str(exc), (n, str(exc))
    assert failed >= len(data)  # each cut fails at least one of the two
