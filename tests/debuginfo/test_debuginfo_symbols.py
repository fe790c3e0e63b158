"""SymbolTable: name-section and export fallback, <sym+off> labels, symbol paths."""

import pytest
from debuginfo_util import DWARF_BUILDS, data_path, oracle_fixture  # noqa: F401  (the `oracle` fixture)

from wasmem.debuginfo import StaticMemory, load_symbols
from wasmem.errors import UsageError
from wasmem.parser import WasmModule


def table_of(name):
    m = WasmModule.from_file(data_path(name))
    return load_symbols(m), StaticMemory(m)


@pytest.fixture(scope="module", params=DWARF_BUILDS)
def dwarf(request):
    return table_of(request.param)


def test_name_section_fallback(oracle):
    t, _ = table_of("globals-nodebug.wasm")
    assert not t.has_dwarf and t.source == "name section"
    rows = {s.name: s for s in t.list_symbols()}
    assert rows[".rodata"].kind == "segment" and rows[".rodata"].region == "rodata"
    assert rows[".data"].region == "data" and rows[".rodata"].address == oracle("addr_greeting")
    assert rows["__heap_base"].kind == "marker" and rows["__heap_base"].address == 0x100110
    # -Wl,--export=cfg exports the address of cfg as an immutable global
    assert rows["cfg"].kind == "exported" and rows["cfg"].address == oracle("addr_cfg") and rows["cfg"].size is None
    funcs = {f.name: f for f in t.functions}
    assert funcs["add"].source == "name" and funcs["add"].file is None
    dw, _ = table_of("globals-dwarf4.wasm")
    for f in dw.functions:  # same code offsets as DWARF
        assert (funcs[f.name].address, funcs[f.name].size) == (f.address, f.size)
    assert t.addr_to_line(funcs["add"].address) is None
    assert t.function_at(funcs["sum_list"].address + 5).name == "sum_list"


def test_labels_without_dwarf(oracle):
    t, _ = table_of("globals-nodebug.wasm")
    cfg = oracle("addr_cfg")
    assert t.label(cfg) == "<cfg>" and t.label(cfg + 8) == "<cfg+0x8>"
    assert t.label(oracle("addr_greeting") + 3) == "<.rodata+0x3>"
    assert t.label(oracle("addr_counter") + 1) == "<counter+0x1>"
    assert t.label(0x100110) == "<__data_end>"
    assert t.label(0x10) is None


def test_exports_only_fallback(oracle):
    t, _ = table_of("globals-stripped.wasm")
    assert t.source == "exports" and t.module.names.functions == {}
    names = [s.name for s in t.list_symbols()]
    assert names == ["counter", "cfg", "__data_end", "__heap_base"]
    assert "sum_list" in {f.name for f in t.functions} and "add" not in {f.name for f in t.functions}
    assert t.label(oracle("addr_list_a")) == "<cfg+0x48>"  # unsized: the nearest export below, same segment
    assert t.label(oracle("addr_greeting")) == "<data[0]>"


def test_labels_with_dwarf(dwarf, oracle):
    t, _ = dwarf
    assert t.label(oracle("addr_cfg") + 0x20) == "<cfg+0x20>"
    assert t.label(oracle("addr_bss_bytes") + 15) == "<bss_bytes+0xf>"
    assert t.label(oracle("addr_bss_bytes") + 16) == "<__data_end>"
    sym, off = t.symbol_at(oracle("addr_names") + 4)
    assert sym.name == "names" and off == 4
    # string literals live in .rodata and have no variable of their own
    assert t.label(oracle("addr_greeting") + 6) == "<.rodata+0x6>"


def test_find_symbol(dwarf):
    t, _ = dwarf
    assert t.find_symbol("cfg").kind == "variable"
    assert t.find_symbol("sum_list").kind == "function"
    assert t.find_symbol(".rodata").kind == "segment"
    assert t.find_symbol("nope") is None


@pytest.mark.parametrize("path,offset,tname", [
    ("cfg", [], "struct config"),
    ("cfg.values[3]", ["off_cfg_values", 3 * 4], "int32_t"),
    ("cfg.in.weight", ["off_cfg_in", "off_inner_weight"], "double"),
    ("cfg.corners[1].y", ["off_cfg_corners", 8, 4], "int32_t"),
    ("cfg . ratio", ["off_cfg_ratio"], "float"),
    ("cfg+0x10", [16], None),
])
def test_static_paths(dwarf, oracle, path, offset, tname):
    t, _ = dwarf
    r = t.resolve_path(path)
    expected = oracle("addr_cfg") + sum(oracle(o) if isinstance(o, str) else o for o in offset)
    assert r.address == expected and (r.type.name if r.type else None) == tname


def test_paths_through_arrays_and_pointers(dwarf, oracle):
    t, mem = dwarf
    assert t.resolve_path("grid[2][3]").address == oracle("addr_grid") + (2 * 4 + 3) * 4
    assert t.resolve_path("grid[1]").type.name == "int[4]"
    r = t.resolve_path("list_head->next->value", mem)
    assert r.address == oracle("addr_list_c") and r.type.name == "int32_t"
    assert t.resolve_path("list_head.next.next.next", mem).address == oracle("addr_list_a") + 4
    r = t.resolve_path("names[2][1]", mem)
    assert mem(r.address, 1) == b"a" and r.type.name == "const char"
    assert t.resolve_path("id_counter").address == t.find_symbol("next_id::id_counter").address


def test_path_errors(dwarf):
    t, mem = dwarf
    with pytest.raises(UsageError, match="needs memory"):
        t.resolve_path("list_head->value")
    with pytest.raises(UsageError, match="has no member 'nope'.*members: name, values"):
        t.resolve_path("cfg.nope")
    with pytest.raises(UsageError, match="out of bounds"):
        t.resolve_path("cfg.values[4]")
    with pytest.raises(UsageError, match="null pointer"):
        t.resolve_path("list_a.next.value", mem)
    with pytest.raises(UsageError, match="no symbol named 'cfgg'"):
        t.resolve_path("cfgg")
    with pytest.raises(UsageError, match="cannot be indexed"):
        t.resolve_path("counter[1]")
    with pytest.raises(UsageError, match="not a struct"):
        t.resolve_path("counter.x")
    with pytest.raises(UsageError, match="is a function"):
        t.resolve_path("sum_list")
    with pytest.raises(UsageError, match="cannot parse"):
        t.resolve_path("cfg..x")


def test_path_without_types():
    t, _ = table_of("globals-nodebug.wasm")
    assert t.resolve_path("cfg+8").address == t.find_symbol("cfg").address + 8
    with pytest.raises(UsageError, match="no type information"):
        t.resolve_path("cfg.name")


def test_list_filter_and_sort(dwarf):
    t, _ = dwarf
    assert [s.name for s in t.list_symbols(filter="list_*")] == ["list_a", "list_c", "list_b", "list_head"]
    assert [s.name for s in t.list_symbols(filter="list_*", sort="name")] == ["list_a", "list_b", "list_c",
                                                                               "list_head"]
    assert t.list_symbols(sort="size")[0].name == "cfg"
    rows = t.list_symbols(functions=True)
    kinds = [s.kind for s in rows]
    assert kinds.index("function") > max(i for i, k in enumerate(kinds) if k != "function") - 1
    assert [s.display_name for s in t.list_symbols(filter="*id_counter")] == ["next_id::id_counter"]
    with pytest.raises(UsageError):
        t.list_symbols(sort="bogus")


def test_function_pointers_resolve_through_the_table(dwarf, oracle):
    t, mem = dwarf
    ops = oracle("addr_ops")
    idx = int.from_bytes(mem(ops + 4, 4), "little")
    assert t.function_for_table_index(idx).name == "mul"
    assert t.function_for_table_index(999) is None


def test_static_memory(dwarf, oracle):
    _, mem = dwarf
    assert mem(oracle("addr_greeting"), 6) == b"hello\0"
    assert mem(oracle("addr_bss_bytes"), 16) == bytes(16)  # .bss reads as zeros
    assert int.from_bytes(mem(oracle("addr_counter"), 4), "little") == 42
    with pytest.raises(UsageError, match="outside"):
        mem(mem.size - 2, 4)
