"""model.chase: the telescope and the typed walk on fake memory and on real modules' initial memory."""

import struct
from dataclasses import dataclass

from conftest import sample

from wasmem.model.chase import MemoryMap, c_string_at, pointee_of, telescope, typed_walk


@dataclass
class R:
    kind: str
    start: int
    end: int
    label: str = ""


def fake_memory(words: dict[int, bytes], size: int = 0x2000):
    mem = bytearray(size)
    for a, b in words.items():
        mem[a:a + len(b)] = b

    def read(addr, n):
        if addr < 0 or addr + n > size:
            raise ValueError("out of bounds")
        return bytes(mem[addr:addr + n])
    return read


REGIONS = [R("stack", 0, 0x1000, "stack"), R("data", 0x1000, 0x1100, ".data"), R("heap", 0x1100, 0x1800, "heap")]


def u32(*vs):
    return struct.pack(f"<{len(vs)}I", *vs)


def test_classifies_null_pointer_string_value():
    read = fake_memory({0x1000: u32(0, 0x1010, 0x1020, 7, 0x500), 0x1010: b"hello\0", 0x1020: u32(0x1024, 9)})
    mem = MemoryMap(REGIONS, 0x2000, sp=0x1000)
    b = telescope(read, 0x1000, 20, mem)
    kinds = [w.kind for w in b.words]
    # 0x500 is inside the stack region but below sp (nothing live): a plain value
    assert kinds == ["null", "string", "pointer", "value", "value"]
    assert b.words[1].string == "hello"
    assert b.words[2].region == "data" and b.words[2].block.address == 0x1020
    assert b.words[2].block.words[0].kind == "pointer"  # 0x1024 → the block's own second word


def test_live_stack_pointer_and_heap_past_initial_region():
    read = fake_memory({0x1000: u32(0xF80, 0x1900)})
    mem = MemoryMap(REGIONS, 0x2000, sp=0xF00)
    b = telescope(read, 0x1000, 8, mem, depth=0)
    assert [(w.kind, w.region, w.note) for w in b.words] == [("pointer", "stack", "depth"), ("pointer", "heap", "depth")]


def test_cycle_is_marked_and_stops():
    # a -> b -> a
    read = fake_memory({0x1000: u32(1, 0x1008), 0x1008: u32(2, 0x1000)})
    mem = MemoryMap(REGIONS, 0x2000, sp=0x1000)
    b = telescope(read, 0x1000, 8, mem, depth=10)
    nxt = b.words[1]
    assert nxt.kind == "pointer" and nxt.block.address == 0x1008
    back = nxt.block.words[1]
    assert back.note == "cycle" and back.cycle_to == 0x1000 and back.block is None


def test_depth_limits_following():
    read = fake_memory({0x1000: u32(0x1010), 0x1010: u32(0x1020), 0x1020: u32(0x1030), 0x1030: u32(5)})
    mem = MemoryMap(REGIONS, 0x2000, sp=0x1000)
    b = telescope(read, 0x1000, 4, mem, depth=1)
    assert b.words[0].block is not None
    assert b.words[0].block.words[0].note == "depth"


class FakeFn:
    def __init__(self, name):
        self.name = self.display_name = name


class FakeSymbols:
    def function_for_table_index(self, i):
        return FakeFn(["", "op_double", "op_square"][i]) if 0 < i < 3 else None

    def label(self, addr):
        return "<thing>" if addr == 0x1000 else None

    def symbol_at(self, addr):
        return None

    def region_of(self, addr):
        return "rodata"


def test_function_table_index():
    read = fake_memory({0x1000: u32(1, 2, 3)})
    mem = MemoryMap(REGIONS, 0x2000, sp=0x1000, symbols=FakeSymbols())
    b = telescope(read, 0x1000, 12, mem)
    assert [(w.kind, w.target) for w in b.words] == [("function", "op_double"), ("function", "op_square"),
                                                     ("value", None)]
    assert b.label == "<thing>"


def test_c_string_guess():
    read = fake_memory({0x10: b"ok\0", 0x20: b"\x01\x02\0", 0x30: b"x\0"})
    assert c_string_at(read, 0x10) == ("ok", True)
    assert c_string_at(read, 0x20) is None
    assert c_string_at(read, 0x30) is None  # one byte is too little to call it a string


def test_json_shape_of_a_block():
    read = fake_memory({0x1000: u32(0x1008, 0), 0x1008: u32(3)})
    d = telescope(read, 0x1000, 8, MemoryMap(REGIONS, 0x2000, sp=0x1000)).to_dict()
    assert set(d) == {"address", "size", "label", "words"}
    w = d["words"][0]
    assert w["kind"] == "pointer" and w["region"] == "data" and w["block"]["address"] == 0x1008


# -- real modules, initial memory (no wasmtime) ---------------------------------------------------
def _static(name):
    from wasmem.debuginfo import StaticMemory, load_symbols
    from wasmem.model.layout import analyze
    from wasmem.parser import WasmModule

    m = WasmModule.from_file(sample(name))
    st = StaticMemory(m)
    return m, st, load_symbols(m), analyze(m)


def _list_addresses(v):
    """The addresses of the nodes a typed chase walks, and the final pointer."""
    out = [v.address]
    while True:
        nxt = [c for c in v.children if c.label == ".next"][0]
        if not nxt.children:
            return out, nxt
        v = nxt.children[0]
        out.append(v.address)


def test_typed_walk_follows_the_list_to_the_cycle():
    from wasmem.debuginfo import format_value

    for name in ("memdemo-debug.wasm", "memdemo-dwarf5.wasm"):
        m, st, syms, _ = _static(name)
        a, b, c = (syms.find_symbol(n).address for n in ("node_a", "node_b", "node_c"))
        assert (a, b, c) == (0x10090, 0x100A0, 0x10098)

        def decode(t, addr, label, st=st, syms=syms):
            return format_value(t, st.read, addr, label=label, symbols=syms)

        root = decode(syms.find_symbol("node_a").type, a, "node_a")
        typed_walk(root, decode, depth=1, memory_size=st.size)  # list links do not use up depth
        addrs, last = _list_addresses(root)
        assert addrs == [a, b, c]
        assert last.note == "cycle" and last.cycle_to == a and last.value == a


def test_pointee_of_skips_char_void_and_functions():
    m, st, syms, _ = _static("memdemo-debug.wasm")
    assert pointee_of(syms.find_symbol("free_list").type).name == "FreeBlock"
    assert pointee_of(syms.find_symbol("config").type) is None  # not a pointer
    title = syms.find_type("Config").strip().find_member("title")[1].type
    assert pointee_of(title) is None  # const char *: shown as a string


def test_untyped_telescope_on_names_only_module_walks_the_list():
    m, st, syms, layout = _static("memdemo.wasm")
    mem = MemoryMap(layout.regions, st.size, sp=layout.stack_high, symbols=syms)
    b = telescope(st.read, 0x10090, 8, mem)
    w = b.words[1]
    assert (w.kind, w.value, w.target) == ("pointer", 0x100A0, "<.data+0x80>")
    w2 = w.block.words[1]
    assert w2.value == 0x10098
    back = w2.block.words[1]
    assert back.note == "cycle" and back.cycle_to == 0x10090
