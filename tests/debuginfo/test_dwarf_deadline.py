"""The first read of a module's DWARF is lazy work deep inside whatever asked for a name or a type, so it answers
to the command's deadline through ``wasmem.deadline.current()`` (issue 24: one deadline covers everything a
command does). Past it the command ends with the one-line timeout error, never with poorer output (that is
what the work budgets decide), and what was half read is forgotten: the next command reads it all again under
its own deadline. Deterministic: the deadlines here have passed before the read starts (a fake clock)."""

from __future__ import annotations

import os

import pytest
from conftest import SAMPLES, run_main

from wasmem.app.modules import load_module, symbols_for
from wasmem.deadline import Deadline, governing
from wasmem.errors import AnalysisTimeout

DEBUG = os.path.join(SAMPLES, "memdemo-debug.wasm")


def expired() -> Deadline:
    return Deadline(2, clock=lambda: 100.0, started=0.0)


def names(table) -> list[str]:
    return [s.name for s in table.data_symbols] + [f.name for f in table.functions]


def test_an_expired_deadline_stops_the_dwarf_read_and_a_later_read_is_whole():
    whole = names(symbols_for(load_module(DEBUG)))
    table = symbols_for(load_module(DEBUG))
    with governing(expired()), pytest.raises(AnalysisTimeout, match=r"^reading the module's DWARF did not finish "
                                                                     r"in 2 s \(--timeout; 0 = no limit\)$"):
        _ = table.functions  # the first DWARF read
    assert table.dwarf_error is None  # not taken for damaged or over-budget DWARF
    with governing(None):
        assert names(table) == whole and table.has_dwarf  # read again, whole: nothing half-read was kept


def test_a_command_past_its_deadline_in_the_dwarf_read_is_one_timeout_line(capsys):
    code, out, err = run_main(capsys, "symbols", DEBUG)  # no deadline: the whole table
    assert code == 0 and "symbols from dwarf" in out
    # `call` reads the DWARF (a struct returned through a hidden pointer) before it compiles
    code, out, err = run_main(capsys, "call", DEBUG, "make_point", "1.0", "2.0", "--timeout", "0.000001")
    assert (code, out) == (2, "")
    assert err == "wasmem: error: reading the module's DWARF did not finish in 1e-06 s (--timeout; 0 = no limit)\n"


def test_a_module_whose_dwarf_was_read_is_freed_with_its_file():
    """The DWARF cache is keyed weakly by the module; the DebugInfo in it must not hold the module (it did,
    through a closure): every module ever read stayed, with its mmap's file descriptor, until a one-worker
    test run held over 1,024 of them."""
    import gc
    import weakref

    fds = len(os.listdir("/proc/self/fd")) if os.path.isdir("/proc/self/fd") else None
    module = load_module(DEBUG)
    assert symbols_for(module).has_dwarf
    gone = weakref.ref(module)
    del module
    gc.collect()
    assert gone() is None
    if fds is not None:
        assert len(os.listdir("/proc/self/fd")) <= fds
