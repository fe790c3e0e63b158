"""dump and chase label memory from the same layout the symbol table uses: when the session's layout
skipped a large .debug_info (LAYOUT_DWARF_LIMIT), the DWARF that the labels read anyway still decides where
.bss ends, so a dump's region headings and `symbols` agree."""

import pytest
from conftest import sample

from wasmem.debuginfo import layout as dlayout
from wasmem.runtime import dump_memory, load_module, symbols_for


@pytest.mark.parametrize("limit", [0, dlayout.LAYOUT_DWARF_LIMIT])
def test_dump_regions_follow_the_dwarf_facts(monkeypatch, limit):
    monkeypatch.setattr(dlayout, "LAYOUT_DWARF_LIMIT", limit)
    path = sample("bss-far-dwarf.wasm")
    sym = next(s for s in symbols_for(load_module(path)).data_symbols if s.region == "bss")
    out = dump_memory(path, str(sym.address), 16, timeout=5)
    kinds = {r.kind for r in out.regions if r.start <= sym.address < r.end}
    assert kinds == {"data"}, [(r.kind, r.label, hex(r.start), hex(r.end)) for r in out.regions]


def test_inspect_says_when_it_did_not_read_the_dwarf(monkeypatch):
    import wasmem

    monkeypatch.setattr(dlayout, "LAYOUT_DWARF_LIMIT", 0)
    layout = wasmem.inspect(sample("bss-far-dwarf.wasm"))
    (f,) = [f for f in layout.findings if f.code == "dwarf-not-read"]
    assert f.severity == "info" and "symbols, dump and chase read it" in f.message
    monkeypatch.setattr(dlayout, "LAYOUT_DWARF_LIMIT", 1 << 20)
    assert not [f for f in wasmem.inspect(sample("bss-far-dwarf.wasm")).findings if f.code == "dwarf-not-read"]
