"""DWARF through pyelftools: data symbols, types, functions and the line table, checked against
the linker (wasmtime calls of ``addr_*``/``off_*`` functions) and the source file."""

import os
import re
import subprocess
import sys

import pytest
from debuginfo_util import DATA, DWARF_BUILDS, data_path, oracle_fixture  # noqa: F401  (the `oracle` fixture)

from wasmem.debuginfo import (
    ArrayType,
    EnumType,
    FunctionType,
    PointerType,
    StructType,
    TypedefType,
    load_debug_info,
    load_symbols,
    sizeof,
)
from wasmem.parser import WasmModule

VARIABLES = ["counter", "big", "bss_bytes", "grid", "favourite", "greeting", "names", "cfg", "list_a",
             "list_b", "list_c", "list_head", "num", "ops"]

TYPES = {
    "counter": ("int32_t", 4), "big": ("int64_t", 8), "bss_bytes": ("uint8_t[16]", 16),
    "grid": ("int[3][4]", 48), "favourite": ("enum color", 4), "greeting": ("const char[6]", 6),
    "names": ("const char *[3]", 12), "cfg": ("struct config", 72), "list_a": ("struct node", 8),
    "list_head": ("struct node *", 4), "num": ("union number", 4), "ops": ("binop_fn[2]", 8),
}


def source_line(text: str) -> int:
    with open(os.path.join(DATA, "globals.c")) as f:
        for n, line in enumerate(f, 1):
            if text in line:
                return n
    raise AssertionError(text)


@pytest.fixture(scope="module", params=DWARF_BUILDS)
def table(request):
    return load_symbols(WasmModule.from_file(data_path(request.param)))


def test_addresses_match_the_linker(table, oracle):
    for name in VARIABLES:
        sym = table.find_symbol(name)
        assert sym is not None, name
        assert sym.address == oracle(f"addr_{name}"), name
        assert sym.kind == "variable" and sym.source == "dwarf"


def test_types_sizes_and_declarations(table):
    for name, (tname, size) in TYPES.items():
        sym = table.find_symbol(name)
        assert (sym.type_name, sym.size) == (tname, size), name
        assert sym.file == "globals.c"
    assert table.find_symbol("cfg").line == source_line("struct config cfg = {")
    assert table.find_symbol("bss_bytes").line == source_line("uint8_t bss_bytes[16];")


def test_member_offsets_match_offsetof(table, oracle):
    cfg = table.find_type("struct config")
    assert isinstance(cfg, StructType) and cfg.size == oracle("size_cfg")
    offs = {m.name: m.offset for m in cfg.members}
    assert offs == {"name": 0, "values": oracle("off_cfg_values"), "in": oracle("off_cfg_in"),
                    "corners": oracle("off_cfg_corners"), "color": oracle("off_cfg_color"),
                    "counter": oracle("off_cfg_counter"), "ratio": oracle("off_cfg_ratio")}
    inner = table.find_type("struct inner")
    assert inner.size == oracle("size_inner") and inner.align == oracle("align_inner") == 8
    assert {m.name: m.offset for m in inner.members}["weight"] == oracle("off_inner_weight")
    assert cfg.align == 8
    names = {m.name: m.type.name for m in cfg.members}
    assert names == {"name": "const char *", "values": "int32_t[4]", "in": "struct inner",
                     "corners": "point_t[2]", "color": "enum color", "counter": "volatile uint32_t",
                     "ratio": "float"}


def test_type_shapes(table):
    grid = table.find_symbol("grid").type
    assert isinstance(grid, ArrayType) and grid.dims == (3, 4) and grid.element.size == 16
    assert grid.element.element.name == "int"
    color = table.find_type("enum color")
    assert isinstance(color, EnumType) and color.enumerators == [("RED", 0), ("GREEN", 1), ("BLUE", 7)]
    ops = table.find_symbol("ops").type
    fp = ops.element
    assert isinstance(fp, TypedefType) and fp.name == "binop_fn"
    assert isinstance(fp.strip(), PointerType) and fp.strip().name == "int (*)(int, int)"
    assert isinstance(fp.strip().pointee, FunctionType)
    node = table.find_type("struct node")
    nxt = node.find_member("next")[1].type
    assert isinstance(nxt, PointerType) and nxt.pointee is node  # a recursive type is one object
    num = table.find_type("union number")
    assert num.kind == "union" and {m.offset for m in num.members} == {0}
    point = table.find_type("point_t")
    assert point.name == "point_t" and point.strip().name == "struct point" and sizeof(point) == 8
    assert table.find_type("struct node *").name == "struct node *"
    assert table.find_type("int[4]").size == 16


def test_function_static_and_removed_variables(table, oracle):
    static = table.find_symbol("next_id::id_counter")
    assert static is table.find_symbol("id_counter")
    assert static.scope == "next_id" and static.type_name == "int" and static.size == 4
    assert static.line == source_line("static int id_counter = 100;")
    names = {s.name for s in table.data_symbols}
    assert "unused_global" not in names  # DW_OP_addr 0xffffffff after --gc-sections
    assert not any(s.address >= 0xFFFFFFFE for s in table.data_symbols)
    assert "unused_function" not in {f.name for f in table.functions}


def test_regions(table):
    region = {s.display_name: s.region for s in table.data_symbols}
    assert region["greeting"] == "rodata" and region["cfg"] == "data" and region["counter"] == "data"
    assert region["bss_bytes"] == "bss" and region["next_id::id_counter"] == "data"
    assert table.region_of(table.find_symbol("__heap_base").address) == "heap"


def test_functions_and_line_table(table):
    m = table.module
    code = m.get_section(10).start
    bodies = {b.index: b for b in m.functions}
    funcs = {f.name: f for f in table.functions}
    assert set(funcs) == set(m.names.functions.values())
    for name, f in funcs.items():
        assert f.source == "dwarf"
        body = bodies[f.func_index]
        assert m.names.functions[f.func_index] == name
        assert f.address == body.start - code and f.module_offset == body.start
        assert f.address + f.size == body.end - code
    # low_pc (the locals declaration) maps to the function's first line row
    for name, text, first in [("add", "static int add(int a", None),
                              ("sum_list", "EXPORT int sum_list(void)", None),
                              ("next_id", "EXPORT int next_id(void)", "return ++id_counter;"),
                              ("addr_cfg", "addr_cfg(void)", None)]:
        f = funcs[name]
        assert f.line == source_line(text) and f.file == "globals.c"
        assert table.addr_to_line(f.address) == ("globals.c", source_line(first or text)), name
        assert table.function_at(f.address + f.size - 1) is f
    loop = source_line("s += n->value;")
    s = funcs["sum_list"]
    lines = {table.addr_to_line(a)[1] for a in range(s.address, s.address + s.size)}
    assert loop in lines and lines <= set(range(source_line("EXPORT int sum_list"), loop + 3))
    assert table.function_at(0) is None and table.addr_to_line(0) is None
    assert funcs["add"].type.name == "int (int, int)"


def test_dwarf4_and_dwarf5_agree():
    def key(path):
        t = load_symbols(WasmModule.from_file(data_path(path)))
        data = [(s.display_name, s.address, s.size, s.type_name, s.file, s.line, s.region) for s in t.data_symbols]
        funcs = [(f.name, f.address, f.size, f.line, t.addr_to_line(f.address)) for f in t.functions]
        return data, funcs

    d4, d5 = key("globals-dwarf4.wasm"), key("globals-dwarf5.wasm")
    assert d4 == d5 and len(d4[0]) >= 15 and len(d4[1]) == 29


def test_dwarf5_uses_addrx():
    m = WasmModule.from_file(data_path("globals-dwarf5.wasm"))
    assert m.get_custom_section(".debug_addr") is not None and m.get_custom_section(".debug_loc") is None
    assert load_debug_info(m).dwarfinfo.debug_addr_sec is not None


def test_debug_info_is_cached_and_absent_without_dwarf():
    m = WasmModule.from_file(data_path("globals-dwarf4.wasm"))
    assert load_debug_info(m) is load_debug_info(m)
    assert load_debug_info(WasmModule.from_file(data_path("globals-nodebug.wasm"))) is None


def test_pyelftools_is_imported_lazily():
    code = ("import sys, wasmem, wasmem.debuginfo\n"
            "from wasmem.parser import WasmModule\n"
            f"t = wasmem.debuginfo.load_symbols(WasmModule.from_file({data_path('globals-nodebug.wasm')!r}))\n"
            "t.list_symbols(functions=True)\n"
            "assert 'elftools' not in sys.modules, 'imported too early'\n"
            f"t = wasmem.debuginfo.load_symbols(WasmModule.from_file({data_path('globals-dwarf4.wasm')!r}))\n"
            "assert 'elftools' not in sys.modules, 'imported before use'\n"
            "t.find_symbol('cfg')\n"
            "assert 'elftools' in sys.modules\n")
    subprocess.run([sys.executable, "-c", code], check=True)


def test_external_debug_info_is_followed(tmp_path):
    """A module whose DWARF lives in a separate file (emscripten -gseparate-dwarf style)."""
    main = WasmModule.from_file(data_path("globals-nodebug.wasm"))
    raw = bytes(main.data)

    def custom(name: str, payload: bytes) -> bytes:
        from wasmem.parser.encode import encode_name, encode_section

        return encode_section(0, encode_name(name) + payload)

    def name_payload(s: str) -> bytes:
        return bytes([len(s)]) + s.encode()

    (tmp_path / "debug").mkdir()
    (tmp_path / "debug" / "app.debug.wasm").write_bytes(open(data_path("globals-dwarf4.wasm"), "rb").read())
    app = tmp_path / "app.wasm"
    app.write_bytes(raw + custom("external_debug_info", name_payload("debug/app.debug.wasm"))
                    + custom("sourceMappingURL", name_payload("http://example.com/app.wasm.map")))
    t = load_symbols(WasmModule.from_file(str(app)))
    assert t.has_dwarf and t.source.startswith("dwarf (external ")
    assert t.find_symbol("cfg").type_name == "struct config"
    assert t.source_mapping_url == "http://example.com/app.wasm.map"
    assert t.external_debug_info == "debug/app.debug.wasm"
    # a missing file is not an error: the name section is used
    app.write_bytes(raw + custom("external_debug_info", name_payload("missing.wasm")))
    t = load_symbols(WasmModule.from_file(str(app)))
    assert not t.has_dwarf and t.source == "name section"


def test_sources_are_reported():
    assert load_symbols(WasmModule.from_file(data_path("globals-dwarf4.wasm"))).source == "dwarf"
    assert load_symbols(WasmModule.from_file(data_path("globals-nodebug.wasm"))).source == "name section"
    assert load_symbols(WasmModule.from_file(data_path("globals-stripped.wasm"))).source == "exports"


def test_build_commands_are_in_the_header():
    with open(os.path.join(DATA, "globals.c")) as f:
        builds = [ln for ln in f if ln.startswith("// build:")]
    for out in ("globals-dwarf4.wasm", "globals-dwarf5.wasm", "globals-nodebug.wasm", "globals-stripped.wasm"):
        assert any(re.search(rf"-o {re.escape(out)}$", b.strip()) for b in builds), out
