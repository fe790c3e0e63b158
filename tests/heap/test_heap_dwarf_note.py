"""`heap` and `leaks` name what a DWARF work budget cut (types, file:line) instead of leaving it out silently."""

import pathlib

import wasmem
from wasmem.debuginfo import dwarfread

HEAPDEMO = str(pathlib.Path(__file__).resolve().parent / "data" / "heapdemo.wasm")


def test_full_dwarf_gives_no_note():
    report, session = wasmem.heap(HEAPDEMO, after=["push 5"])
    try:
        assert not [n for n in report.notes if "DWARF" in n]
    finally:
        session.close()


def test_a_budget_cut_is_named_in_heap_and_leaks(monkeypatch):
    monkeypatch.setattr(dwarfread, "MAX_DWARF_DECODES", 100)
    report, session = wasmem.heap(wasmem.load_module(HEAPDEMO), after=["push 5"])
    try:
        assert any(n.startswith("DWARF not read whole:") for n in report.notes), report.notes
        assert len(report.blocks) == 1  # the blocks are all there: only the names and lines are poorer
    finally:
        session.close()
    leaks, session = wasmem.leaks(wasmem.load_module(HEAPDEMO), "leak_step 1", repeat=2)
    try:
        assert any(n.startswith("DWARF not read whole:") for n in leaks.notes), leaks.notes
    finally:
        session.close()
