"""Stack instrumentation: the rewritten module records the lowest SP and traps before an overflow."""

import pytest
from conftest import sample, wat

from wasmem.instrument.stack import instrument_stack
from wasmem.model.layout import analyze
from wasmem.model.stackframes import analyze_stack
from wasmem.parser.module import WasmModule

wasmtime = pytest.importorskip("wasmtime")


def instantiate(data):
    engine = wasmtime.Engine()
    store = wasmtime.Store(engine)
    inst = wasmtime.Instance(store, wasmtime.Module(engine, data), [])
    return store, inst.exports(store)


@pytest.fixture(scope="module")
def datafirst():
    path = sample("memdemo-datafirst.wasm")
    m = WasmModule.from_file(path)
    lay = analyze(m)
    assert lay.layout_kind == "data-first"
    ins = instrument_stack(m.data, lay.stack_pointer.global_index, lay.stack_low)
    return m, lay, ins


def test_structure(datafirst):
    m, lay, ins = datafirst
    new = WasmModule.from_bytes(ins.data)
    assert ins.hook_index == m.num_functions and new.num_functions == m.num_functions + 1
    writers = sum(1 for f in analyze_stack(m, lay).frames.values() if f.writes_sp)
    assert writers and ins.sites >= 2 * writers  # prologue + epilogue at least
    assert {e.name for e in new.exports} >= {"__wasmem_sp_min", "__wasmem_stack_low"}
    assert new.names.functions == m.names.functions  # indices unchanged: the name section still holds
    for b in new.functions:  # every body still decodes to its end
        from wasmem.parser.code import decode_locals, iter_instructions

        _, p = decode_locals(new.data, b.start, b.end)
        assert list(iter_instructions(new.data, p, b.end))[-1].op == 0x0B
    wasmtime.Module.validate(wasmtime.Engine(), ins.data)


def test_overflow_traps_in_the_hook_before_corrupting_data(datafirst):
    m, lay, ins = datafirst
    store, ex = instantiate(ins.data)
    mem = ex["memory"]
    before = mem.read(store, lay.data_start, lay.data_end)
    with pytest.raises(wasmtime.Trap) as exc:
        ex["deep"](store, 8)  # 9 KiB of frames in an 8 KiB stack
    frames = exc.value.frames
    assert exc.value.trap_code == wasmtime.TrapCode.UNREACHABLE
    assert frames[0].func_index == ins.hook_index and frames[1].func_name == "deep"
    assert mem.read(store, lay.data_start, lay.data_end) == before  # static data intact
    sp_min = ex["__wasmem_sp_min"].value(store)
    assert lay.stack_low - 1024 <= sp_min < lay.stack_low  # stopped at the first frame past the low bound
    # the same call in the original module silently overwrites the data
    store2, ex2 = instantiate(bytes(m.data))
    assert ex2["deep"](store2, 8) == 8  # returns normally...
    assert ex2["memory"].read(store2, lay.data_start, lay.data_end) != before  # ...with the data overwritten


def test_sp_min_matches_painting_within_the_red_zone(datafirst):
    m, lay, ins = datafirst
    store, ex = instantiate(ins.data)
    mem = ex["memory"]
    sp0 = lay.stack_high
    mem.write(store, b"\xa5" * (sp0 - lay.stack_low), lay.stack_low)  # paint
    assert ex["fib_stack"](store, 6) == 8
    painted = mem.read(store, lay.stack_low, sp0)
    lowest = lay.stack_low + next(i for i, b in enumerate(painted) if b != 0xA5)
    sp_min = ex["__wasmem_sp_min"].value(store) & 0xFFFFFFFF
    assert sp0 - sp_min == 6 * 64
    assert 0 <= sp_min - lowest <= 128


def test_stack_low_is_settable_and_the_type_is_reused():
    data = wat("""(module (memory 1) (global $sp (mut i32) (i32.const 4096))
      (func $use (param i32))
      (func (export "f") (global.set $sp (i32.sub (global.get $sp) (i32.const 512)))
                         (global.set $sp (i32.add (global.get $sp) (i32.const 512)))))""")
    ins = instrument_stack(data, 0, 0)
    assert len(WasmModule.from_bytes(ins.data).types) == len(WasmModule.from_bytes(data).types)
    store, ex = instantiate(ins.data)
    ex["f"](store)
    assert ex["__wasmem_sp_min"].value(store) == 4096 - 512
    ex["__wasmem_stack_low"].set_value(store, wasmtime.Val.i32(4096 - 256))
    with pytest.raises(wasmtime.Trap):
        ex["f"](store)


def test_stack_first_wraparound_traps_with_high_bound():
    """In a stack-first module the low end is 0: SP - frame wraps instead of dropping below it."""
    m = WasmModule.from_file(sample("memdemo.wasm"))
    lay = analyze(m)
    assert lay.layout_kind == "stack-first" and lay.stack_low == 0
    ins = instrument_stack(m.data, lay.stack_pointer.global_index, lay.stack_low, high=lay.stack_high)
    assert {e.name for e in WasmModule.from_bytes(ins.data).exports} >= {"__wasmem_stack_high"}
    store, ex = instantiate(ins.data)
    with pytest.raises(wasmtime.Trap) as exc:
        ex["deep"](store, 100000)
    frames = exc.value.frames
    assert frames[0].func_index == ins.hook_index and frames[1].func_name == "deep"
    sp_min = ex["__wasmem_sp_min"].value(store) & 0xFFFFFFFF
    assert sp_min > lay.stack_high  # the wrapped value
    past = (lay.stack_low - sp_min) % 2**32
    assert 0 < past <= 1024  # one deep frame (1024 bytes) past the low end
    # without a high bound (the default) the wrap is not caught by the hook
    store, ex = instantiate(instrument_stack(m.data, lay.stack_pointer.global_index, 0).data)
    with pytest.raises(wasmtime.Trap) as exc:
        ex["deep"](store, 100000)
    assert exc.value.trap_code == wasmtime.TrapCode.MEMORY_OUT_OF_BOUNDS


def test_original_offset_maps_trap_frames_back(datafirst):
    m, lay, ins = datafirst
    store0, ex0 = instantiate(bytes(m.data))
    store1, ex1 = instantiate(ins.data)
    offs = []
    for store, ex in ((store0, ex0), (store1, ex1)):
        with pytest.raises(wasmtime.Trap) as exc:
            ex["crash"](store)
        offs.append(exc.value.frames[0].module_offset)
    assert offs[0] == ins.original_offset(offs[1])
    # a site after a rewritten global.set: deep's overflow frame maps into deep's original body
    store, ex = instantiate(ins.data)
    with pytest.raises(wasmtime.Trap) as exc:
        ex["deep"](store, 8)
    orig = ins.original_offset(exc.value.frames[1].module_offset)
    deep = m.functions[exc.value.frames[1].func_index - m.num_imported_funcs]
    assert deep.start <= orig < deep.end
    assert ins.original_offset(exc.value.frames[0].module_offset) is None  # inside the hook
