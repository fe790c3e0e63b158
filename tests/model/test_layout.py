"""Layout facts for hand-made modules of each shape (the samples' facts are in test_layout_samples)."""

from conftest import wat

from wasmem.model.layout import analyze
from wasmem.parser import WasmModule


def layout(text: str, **kw):
    return analyze(WasmModule.from_bytes(wat(text)), **kw)


def codes(lay):
    return {f.code for f in lay.findings}


# A C-like function body with the clang -O2 prologue/epilogue on global $sp
PROLOGUE = """
  (func (param i32) (result i32) (local i32)
    global.get {g} i32.const {n} i32.sub local.tee 1 global.set {g}
    local.get 1 local.get 0 i32.store
    local.get 1 i32.const {n} i32.add global.set {g}
    local.get 0)"""


def test_stack_first_by_name():
    lay = layout("""(module (memory (export "memory") 2)
      (global $__stack_pointer (mut i32) (i32.const 65536))
      (global (export "__heap_base") i32 (i32.const 65600))
      (data (i32.const 65536) "0123456789"))""")
    assert lay.stack_pointer.global_index == 0
    assert lay.stack_pointer.provenance == "name-section"
    assert lay.layout_kind == "stack-first"
    assert (lay.stack_low, lay.stack_high, lay.stack_size, lay.stack_exact) == (0, 65536, 65536, True)
    assert lay.heap_base == 65600 and lay.heap_base_exact
    assert lay.heap_available == 2 * 65536 - 65600
    assert lay.min_pages_needed == 2
    assert [r.kind for r in lay.regions] == ["stack", "data", "data", "heap"]  # .bss up to __heap_base
    assert (lay.data_end, lay.data_end_source, lay.regions[2].label) == (65600, "__heap_base", ".bss (zero-initialised)")
    assert "data-first" not in codes(lay) and "no-max-memory" in codes(lay)


def test_data_first_upper_bound_without_data_end():
    lay = layout("""(module (memory (export "memory") 1 1)
      (global $__stack_pointer (mut i32) (i32.const 9216))
      (data (i32.const 1024) "static data here"))""")
    assert lay.layout_kind == "data-first"
    assert (lay.stack_low, lay.stack_high) == (1040, 9216)  # 1024 + 16 bytes, already aligned
    assert not lay.stack_exact and "upper bound" in lay.stack_reason
    assert {"data-first", "small-stack"} <= codes(lay)
    assert "no-max-memory" not in codes(lay)


def test_data_first_exact_with_data_end_and_overlap():
    lay = layout("""(module (memory (export "memory") 1)
      (global $__stack_pointer (mut i32) (i32.const 9216))
      (global (export "__data_end") i32 (i32.const 1100))
      (data (i32.const 1024) "static data here"))""")
    assert (lay.stack_low, lay.stack_exact, lay.stack_reason) == (1104, True, "from __data_end (16-byte aligned)")
    lay = layout("""(module (memory (export "memory") 1)
      (global $__stack_pointer (mut i32) (i32.const 1030))
      (data (i32.const 1024) "static data here"))""")
    assert lay.layout_kind == "overlap" and "stack-data-overlap" in codes(lay)


def test_stack_pointer_found_by_prologue_in_stripped_module():
    body = PROLOGUE.format(g=1, n=16) + PROLOGUE.format(g=1, n=32)
    lay = layout(f"""(module (memory (export "ra") 2)
      (global (mut i32) (i32.const 0)) (global (mut i32) (i32.const 66560))
      {body} (data (i32.const 65536) "x"))""".replace("$", ""))
    sp = lay.stack_pointer
    assert (sp.global_index, sp.provenance, sp.evidence) == (1, "prologue-heuristic", 2)
    assert lay.memory.exports == ("ra",)
    assert lay.layout_kind == "data-first"


def test_prologue_scan_of_a_sampled_module_stops_when_decisive(monkeypatch):
    from wasmem.model import stackpointer

    leaf = "(func (result i32) i32.const 7)"
    # 200 functions: a frame every fourth, the rest leaves; a sample of 40 is visited in interleaved passes
    body = "".join(PROLOGUE.format(g=0, n=16) if i % 4 == 0 else leaf for i in range(200))
    mod = WasmModule.from_bytes(wat(f"(module (memory 2) (global (mut i32) (i32.const 65536)) "
                                    f"(global (mut i32) (i32.const 0)) {body})"))
    counts, scanned = stackpointer.count_prologues(mod, {0, 1}, max_functions=40, decisive=5)
    assert counts == {0: 5, 1: 0} and scanned < 40
    counts, scanned = stackpointer.count_prologues(mod, {0, 1}, max_functions=40, decisive=None)
    assert counts == {0: 10, 1: 0} and scanned == 40
    counts, scanned = stackpointer.count_prologues(mod, {0, 1}, max_functions=400, decisive=5)
    assert counts == {0: 50, 1: 0} and scanned == 200  # not sampled: scanned whole, exact counts
    # a second global lowered the same way keeps the scan going (and makes the answer ambiguous)
    body2 = "".join(PROLOGUE.format(g=i % 2, n=16) for i in range(200))
    mod2 = WasmModule.from_bytes(wat(f"(module (memory 2) (global (mut i32) (i32.const 65536)) "
                                     f"(global (mut i32) (i32.const 0)) {body2})"))
    counts, scanned = stackpointer.count_prologues(mod2, {0, 1}, max_functions=40, decisive=5)
    assert counts == {0: 20, 1: 20} and scanned == 40
    monkeypatch.setattr(stackpointer, "PROLOGUE_SCAN_FUNCTIONS", 40)
    monkeypatch.setattr(stackpointer, "PROLOGUE_DECISIVE", 5)
    monkeypatch.setattr(stackpointer.count_prologues, "__defaults__", (stackpointer.PROLOGUE_SCAN_INSTRS, 40, 5))
    sp = analyze(mod).stack_pointer
    assert sp.evidence == 5 and "none lower another global (sampled" in sp.detail
    assert analyze(mod2).stack_pointer is None


def test_minus_zero_prologue_through_locals():
    lay = layout("""(module (memory 1) (global (mut i32) (i32.const 4096))
      (func (local i32 i32 i32)
        global.get 0 local.set 0 i32.const 32 local.set 1 local.get 0 local.get 1 i32.sub local.set 2
        local.get 2 global.set 0 local.get 2 i32.const 32 i32.add global.set 0))""")
    assert lay.stack_pointer.provenance == "prologue-heuristic"
    assert "memory-hidden" in codes(lay)


def test_assemblyscript_bump_global_is_not_a_stack_pointer():
    lay = layout("""(module (memory (export "memory") 1)
      (global $~lib/rt/stub/offset (mut i32) (i32.const 1024))
      (func (export "__new") (param i32) (result i32) (local i32)
        global.get 0 local.tee 1 local.get 0 i32.add global.set 0 local.get 1))""".replace("$~lib/rt/stub/offset", ""))
    assert lay.stack_pointer is None
    assert lay.layout_kind == "unknown"


def test_go_is_recognised_and_not_called_a_c_stack():
    lay = layout("""(module (import "gojs" "runtime.wasmExit" (func (param i32)))
      (memory (export "mem") 2)
      (global (mut i32) (i32.const 0)) (global (mut i32) (i32.const 0)) (global (mut i64) (i64.const 0))
      (global (mut i64) (i64.const 0)) (global (mut i64) (i64.const 0)) (global (mut i64) (i64.const 0))
      (global (mut i64) (i64.const 0)) (global (mut i32) (i32.const 0))
      (func global.get 0 i32.const 8 i32.sub global.set 0))""")
    assert lay.go and lay.layout_kind == "go" and lay.stack_pointer is None
    assert lay.toolchain == "Go" and "go" in codes(lay)


def test_pic_module_with_imported_stack_pointer():
    lay = layout("""(module (import "env" "memory" (memory 1))
      (import "env" "__stack_pointer" (global (mut i32)))
      (import "env" "__memory_base" (global i32))
      (data (global.get 1) "abc"))""")
    assert lay.stack_pointer.provenance == "import" and lay.stack_pointer.imported
    assert lay.layout_kind == "imported" and lay.stack_size is None
    assert lay.memory.imported == "env.memory"


def test_host_pages_below_declared_minimum_gives_the_js_link_error():
    lay = layout('(module (import "env" "memory" (memory 17)))', pages=16)
    err = [f for f in lay.findings if f.code == "host-memory-too-small"][0]
    assert err.severity == "error"
    assert "LinkError: WebAssembly.Instance(): memory import 0 is smaller than initial 17, got 16" in err.message
    assert "memory import has 16 pages which is smaller than the declared initial of 17" in err.message
    assert "--initial-memory" in err.hint and "new WebAssembly.Memory({initial: 17})" in err.hint
    assert "host-memory-ok" in codes(layout('(module (import "env" "memory" (memory 17)))', pages=17))


def test_no_memory_and_memory64_and_shared():
    assert layout("(module)").layout_kind == "none"
    lay = layout('(module (memory (export "m") i64 2 4))')
    assert lay.memory.is64 and lay.memory.max_bytes == 4 * 65536
    lay = layout('(module (memory (export "m") 1 2 shared) (data "p"))')
    assert lay.memory.shared and lay.passive_segments == 1


def test_segment_past_initial_memory_is_a_finding_not_a_crash():
    data = wat('(module (memory 1) (data (i32.const 65530) "0123456789"))')
    lay = analyze(WasmModule.from_bytes(data))
    assert "segment-out-of-bounds" in codes(lay)


def test_negative_i32_offsets_are_unsigned_addresses():
    # data above 2 GiB is written with a negative i32.const; it is not at 0xffffffff80000000
    lay = layout("""(module (memory 65535) (data (i32.const -2147483648) "hi")
      (data (i32.const -4) "abcd") (data (i32.const 16) "x"))""")
    assert [s.address for s in lay.segments] == [0x80000000, 0xFFFFFFFC, 16]
    assert lay.data_start == 16 and lay.data_end == 0x100000000
    assert "segment-out-of-bounds" in codes(layout('(module (memory 1) (data (i32.const -1) "z"))'))
    mod = WasmModule.from_bytes(wat('(module (memory i64 1) (data (i64.const 0x8000000000) "q"))'))
    assert mod.data_segments[0].address == 0x8000000000
    assert WasmModule.from_bytes(wat('(module (memory 1) (data (i32.const -1) "z"))')).data_segments[0].address \
        == 0xFFFFFFFF


def test_assemblyscript_is_named_by_its_abort_import():
    lay = layout("""(module (import "env" "abort" (func (param i32 i32 i32 i32)))
      (memory (export "memory") 1) (global (mut i32) (i32.const 1024)))""")
    assert lay.toolchain == "AssemblyScript" and lay.stack_pointer is None
    lay = layout('(module (import "env" "abort" (func)) (memory 1))')  # Emscripten's abort
    assert lay.toolchain is None
