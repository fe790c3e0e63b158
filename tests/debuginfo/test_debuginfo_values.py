"""Typed value trees from DWARF types over the module's initial memory image."""

import pytest
from debuginfo_util import DWARF_BUILDS, data_path, oracle_fixture  # noqa: F401  (the `oracle` fixture)

from wasmem.debuginfo import PointerType, QualifiedType, StaticMemory, format_value, load_symbols
from wasmem.debuginfo.typesys import ArrayType, BaseType, FunctionType, TypedefType
from wasmem.parser import WasmModule


@pytest.fixture(scope="module", params=DWARF_BUILDS)
def env(request):
    m = WasmModule.from_file(data_path(request.param))
    t = load_symbols(m)
    mem = StaticMemory(m)

    def value(name, **kw):
        s = t.find_symbol(name)
        return format_value(s.type, mem, s.address, label=name, symbols=t, **kw)

    return t, value


def test_struct_tree(env):
    t, value = env
    v = value("cfg")
    assert v.kind == "struct" and [c.label for c in v.children] == [
        ".name", ".values", ".in", ".corners", ".color", ".counter", ".ratio"]
    name, values, inner, corners, color, counter, ratio = v.children
    assert name.kind == "pointer" and name.string == "main-config" and name.target.startswith("<.rodata+")
    assert [c.value for c in values.children] == [10, 20, 30, 40]
    assert [(c.label, c.value) for c in inner.children] == [(".tag", 3), (".flags", 0x102), (".weight", 2.5)]
    assert corners.children[1].one_line() == "{ x = 3, y = 4 }"
    assert (color.kind, color.value, color.text) == ("enum", 1, "GREEN")
    assert counter.value == 7 and ratio.value == 0.5
    assert v.one_line(1000).startswith('{ name = 0x100006 <.rodata+0x6> "main-config", values = {10, 20, 30, 40}')


def test_scalars_strings_and_arrays(env):
    t, value = env
    assert value("counter").value == 42 and value("big").value == -5
    g = value("greeting")
    assert (g.kind, g.value, g.text) == ("string", "hello", '"hello"')
    assert value("favourite").text == "BLUE"
    names = value("names")
    assert [c.string for c in names.children] == ["alpha", "beta", "gamma"]
    grid = value("grid")
    assert grid.one_line() == "{{1, 2, 3, 4}, {5, 6, 7, 8}, {9, 10, 11, 12}}"
    assert value("bss_bytes").children[0].text == "0"  # uint8_t is a number, not text
    num = value("num")
    assert num.kind == "union" and [c.value for c in num.children][:2] == [0x3F800000, 1.0]


def test_pointers_and_the_cycle(env):
    t, value = env
    b = value("list_b")
    nxt = b.children[1]
    assert nxt.value == t.find_symbol("list_c").address and nxt.target == "<list_c>"
    assert value("list_c").children[1].target == "<list_a>"
    assert value("list_a").children[1].text == "NULL"
    assert value("list_head").text.endswith("<list_b>")


def test_function_pointers(env):
    t, value = env
    ops = value("ops")
    assert [c.kind for c in ops.children] == ["function_pointer"] * 2
    assert [c.target for c in ops.children] == ["add", "mul"]


def test_depth_and_element_limits(env):
    t, value = env
    shallow = value("cfg", depth=0)
    assert shallow.children == [] and shallow.truncated and shallow.one_line() == "{…}"
    grid = value("grid", depth=1)
    assert grid.children[0].truncated and grid.children[0].children == []
    few = value("grid", max_elements=2)
    assert len(few.children) == 2 and few.truncated
    d = value("cfg").to_dict()
    assert d["kind"] == "struct" and d["children"][0]["string"] == "main-config"


def test_unreadable_memory_becomes_an_error_node(env):
    t, _ = env
    m = t.module
    mem = StaticMemory(m)
    v = format_value(t.find_type("struct node"), mem, mem.size - 4, symbols=t)
    assert v.children[0].kind == "int" and v.children[1].kind == "error"


def test_c_type_names():
    char = BaseType(size=1, base_name="char", encoding="signed_char")
    int_ = BaseType(size=4, base_name="int")
    const_char = QualifiedType(kind="const", target=char, size=1)
    assert PointerType(target=const_char).name == "const char *"
    assert QualifiedType(kind="const", target=PointerType(target=char)).name == "char *const"
    assert PointerType(target=PointerType(target=char)).name == "char **"
    arr = ArrayType(element=int_, count=4, size=16)
    assert PointerType(target=arr).name == "int (*)[4]"
    fn = FunctionType(returns=int_, params=[int_, PointerType(target=char)])
    assert PointerType(target=fn).name == "int (*)(int, char *)"
    assert ArrayType(element=PointerType(target=fn), count=2).name == "int (*[2])(int, char *)"
    assert FunctionType().name == "void (void)"
    assert PointerType().name == "void *"
    assert TypedefType(typedef_name="size_t", target=int_).align == 4
