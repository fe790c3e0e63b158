"""dump and chase label memory from the same layout the symbol table uses: even when the session's own
layout could not use the DWARF (the fast variables scan was over its budget), the DWARF that the labels read
anyway still decides where .bss ends, so a dump's region headings and `symbols` agree."""

import pytest
from conftest import sample

from wasmem.app import dump_memory, load_module, symbols_for
from wasmem.debuginfo import varscan


@pytest.mark.parametrize("limit", [0, varscan.MAX_SCAN_ENTRIES])
def test_dump_regions_follow_the_dwarf_facts(monkeypatch, limit):
    monkeypatch.setattr(varscan, "MAX_SCAN_ENTRIES", limit)
    path = sample("bss-far-dwarf.wasm")
    sym = next(s for s in symbols_for(load_module(path)).data_symbols if s.region == "bss")
    out = dump_memory(path, str(sym.address), 16, timeout=5)
    kinds = {r.kind for r in out.regions if r.start <= sym.address < r.end}
    assert kinds == {"data"}, [(r.kind, r.label, hex(r.start), hex(r.end)) for r in out.regions]
