"""Layout facts of the bundled samples, as measured with wasm-objdump (samples/README.md)."""

import pytest
from conftest import sample

import wasmem

# name: (layout kind, SP global, SP provenance, SP initial, stack [low, high), exact, heap base,
#        (min pages, max pages, imported), data end)
FACTS = {
    "memdemo.wasm": ("stack-first", 0, "name-section", 65536, (0, 65536), True, 65728, (2, None, None), 65728),
    "memdemo-O0.wasm": ("stack-first", 0, "name-section", 65536, (0, 65536), True, None, (2, None, None), 65716),
    "memdemo-debug.wasm": ("stack-first", 0, "name-section", 65536, (0, 65536), True, 65728, (2, None, None), 65728),
    "memdemo-dwarf5.wasm": ("stack-first", 0, "name-section", 65536, (0, 65536), True, None, (2, None, None), 65728),  # .bss proven by DWARF
    "memdemo-datafirst.wasm": ("data-first", 0, "name-section", 9408, (1216, 9408), True, 9408, (1, None, None), 1216),
    "memdemo-import.wasm": ("stack-first", 0, "name-section", 8192, (0, 8192), True, None, (2, None, "env.memory"), 8384),
    "memdemo-stripped.wasm": ("stack-first", 0, "prologue-heuristic", 65536, (0, 65536), True, None, (2, None, None), 65716),
    "hello_wasi.wasm": ("stack-first", 0, "name-section", 65536, (0, 65536), True, None, (2, None, None), None),
    "imports.wasm": ("stack-first", 0, "name-section", 65536, (0, 65536), True, None, (2, None, None), 65547),
    "memory64.wasm": ("stack-first", 0, "prologue-heuristic", 65536, (0, 65536), True, None, (2, 4, None), 65568),
    "renamed.wasm": ("data-first", 0, "prologue-heuristic", 66608, (1072, 66608), False, None, (2, 32768, None), 1060),
    "pic.wasm": ("imported", 0, "import", None, (None, None), False, None, (1, None, "env.memory"), None),
    "go_like.wasm": ("go", None, None, None, (None, None), False, None, (17, None, None), 4120),
    "asc_like.wasm": ("unknown", None, None, None, (None, None), False, None, (1, None, None), 1068),
    "nomemory.wasm": ("none", None, None, None, (None, None), False, None, None, None),
}


@pytest.mark.parametrize("name", sorted(FACTS))
def test_sample_layout(name):
    kind, sp_index, prov, sp0, (lo, hi), exact, heap, mem, data_end = FACTS[name]
    lay = wasmem.inspect(sample(name))
    assert lay.layout_kind == kind
    sp = lay.stack_pointer
    if sp_index is None:
        assert sp is None
    else:
        assert (sp.global_index, sp.provenance, sp.initial) == (sp_index, prov, sp0)
    assert (lay.stack_low, lay.stack_high, lay.stack_exact) == (lo, hi, exact)
    if heap is not None:
        assert lay.heap_base == heap and lay.heap_base_exact
    if mem is None:
        assert lay.memories == []
    else:
        m = lay.memory
        assert (m.min_pages, m.max_pages, m.imported) == mem
    if data_end is not None:
        assert lay.data_end == data_end


def test_sample_extras():
    assert wasmem.inspect(sample("memory64.wasm")).stack_pointer.valtype == "i64"
    assert wasmem.inspect(sample("renamed.wasm")).memory.exports == ("ra",)
    two = wasmem.inspect(sample("twomemories.wasm"))
    assert [(m.index, m.min_pages, m.max_pages, m.exports) for m in two.memories] == \
        [(0, 1, None, ("memory",)), (1, 2, 3, ("scratch",))]
    shared = wasmem.inspect(sample("shared.wasm"))
    assert shared.memory.shared and shared.passive_segments == 2
    assert wasmem.inspect(sample("memdemo-stripped.wasm")).stack_pointer.evidence >= 3
    seg_names = [s.name for s in wasmem.inspect(sample("memdemo.wasm")).segments]
    assert seg_names == [".rodata", ".data"]


def test_passive_segments_placed_by_the_init_function():
    shared = wasmem.inspect(sample("shared.wasm"))
    assert [(s.mode, s.address, s.size) for s in shared.segments] == [("passive", 1024, 13), ("passive", 1040, 12)]
    assert (shared.data_start, shared.data_end) == (1024, 1052)


def test_zero_fill_and_init_in_a_data_first_shared_build(wat_file):
    from wasmem.model.layout import analyze
    from wasmem.parser import WasmModule

    path = wat_file("""(module (memory (export "memory") 2 2 shared)
      (global $__stack_pointer (mut i32) (i32.const 9216))
      (func $__wasm_init_memory
        i32.const 1024 i32.const 0 i32.const 4 memory.init 0
        i32.const 1028 i32.const 0 i32.const 100 memory.fill
        data.drop 0)
      (start $__wasm_init_memory)
      (data "abcd"))""")
    lay = analyze(WasmModule.from_file(path))
    assert lay.zero_filled == [(1028, 1128)]
    assert (lay.data_start, lay.data_end, lay.layout_kind) == (1024, 1128, "data-first")
    assert lay.stack_low == 1136 and lay.stack_high == 9216
    assert [r.label for r in lay.regions if r.kind == "data"] == ["segment 0", ".bss (zero-filled at start-up)"]
