"""Session(check_stack=True): the instrumented module records the exact lowest stack pointer of each call
and stops a linear-stack overflow at the overflowing function, before it corrupts data."""

import pytest
from conftest import sample, wat

from wasmem.app import open_session
from wasmem.errors import UsageError
from wasmem.parser.module import WasmModule
from wasmem.runtime.session import Session

pytest.importorskip("wasmtime")

RED_ZONE = 128
DATA = (1024, 1216)  # memdemo-datafirst: .rodata, .data and .bss, just below the 8 KiB stack


@pytest.fixture(scope="module")
def datafirst():
    s = open_session(sample("memdemo-datafirst.wasm"), check_stack=True, timeout=2)
    assert s.stack_range == (1216, 9408) and s.instrumented is not None
    yield s
    s.close()


def test_data_first_overflow_stopped_before_it_corrupts_data(datafirst):
    before = datafirst.read(DATA[0], DATA[1] - DATA[0])
    r = datafirst.call("deep", ["8"])  # 9 frames of 1024 bytes in an 8 KiB stack
    assert not r.ok and r.trap.kind == "stack_overflow"
    assert r.trap.message == ("stack overflow in deep: needed at least 9216 bytes, the stack is 8192 bytes "
                              "(1024 bytes past its low end at 0x4c0)")
    o = r.trap.overflow
    assert (o.function, o.needed, o.stack_size, o.past, o.low) == ("deep", 9216, 8192, 1024, 0x4C0)
    assert r.trap.frames and all(f.name == "deep" for f in r.trap.frames)  # the hook frame is not shown
    assert datafirst.read(DATA[0], DATA[1] - DATA[0]) == before  # static data intact
    assert not any(c.start < DATA[1] and c.end > DATA[0] for c in r.changes)
    assert datafirst.get_sp() == r.sp_before == 9408  # stack pointer reset
    assert r.stack.overflowed and r.stack.exhausted
    d = r.to_dict()
    assert d["trap"]["kind"] == "stack_overflow" and d["trap"]["overflow"]["past"] == 1024
    # the session is usable afterwards and the minimum starts afresh
    r = datafirst.call("deep", ["5"])
    assert r.ok and r.results == [5] and r.stack.exact_peak == 6 * 1024 and not r.stack.overflowed


def test_without_check_stack_the_same_call_corrupts_data():
    with open_session(sample("memdemo-datafirst.wasm"), timeout=2) as s:
        assert not s.check_stack  # measured (instrumented), but nothing stops an overflow
        before = s.read(DATA[0], DATA[1] - DATA[0])
        r = s.call("deep", ["8"])
        assert r.ok and r.results == [8]  # "works"...
        assert s.read(DATA[0], DATA[1] - DATA[0]) != before  # ...and silently overwrote the static data
        assert any(c.start < DATA[1] and c.end > DATA[0] for c in r.changes)


@pytest.mark.parametrize("name", ["memdemo-datafirst.wasm", "memdemo.wasm", "memdemo-O0.wasm"])
def test_painted_and_exact_peaks_agree_within_the_red_zone(name):
    frame = 80 if name == "memdemo-O0.wasm" else 64
    with open_session(sample(name), check_stack=True, timeout=2) as s:
        for n in (1, 2, 5, 10, 15, 20):
            r = s.call("fib_stack", [str(n)])
            st = r.stack
            assert r.ok and st.exact_peak == n * frame, (n, st)
            assert st.sp - st.sp_min == st.exact_peak
            assert abs(st.peak - st.exact_peak) <= RED_ZONE, (n, st)


def test_stack_first_overflow_caught_at_the_wrap():
    with open_session(sample("memdemo.wasm"), check_stack=True, timeout=2) as s:
        r = s.call("deep", ["100000"])  # without check_stack: out of bounds after SP wraps below 0
        assert r.trap.kind == "stack_overflow" and r.trap.frames[0].name == "deep"
        assert r.trap.overflow.past == 1024 and r.trap.overflow.needed == 65536 + 1024
        assert "past its low end at 0x0" in r.trap.message
        assert s.get_sp() == 65536
        assert s.call("fib_stack", ["3"]).results == [2]


def test_other_traps_and_offsets_unchanged():
    plain = open_session(sample("memdemo-datafirst.wasm"), timeout=2)
    checked = open_session(sample("memdemo-datafirst.wasm"), check_stack=True, timeout=2)
    try:
        a, b = plain.call("crash", []), checked.call("crash", [])
        assert a.trap.kind == b.trap.kind == "unreachable" and b.trap.overflow is None
        assert [f.to_dict() for f in a.trap.frames] == [f.to_dict() for f in b.trap.frames]
        a, b = plain.call("divide", ["1", "0"]), checked.call("divide", ["1", "0"])
        assert a.trap.kind == b.trap.kind == "integer_division_by_zero"
        r = checked.call("make_point", ["1.0", "2.0"], returns="x:f64,y:f64")
        assert [v for _, _, v in r.sret.fields] == [1.0, 2.0]
    finally:
        plain.close()
        checked.close()


def test_stack_use_without_moving_the_stack_pointer(datafirst):
    r = datafirst.call("get_counter", [])
    assert r.ok and r.stack.exact_peak == 0 and r.stack.sp_min == r.stack.sp


def test_check_stack_needs_a_stack_pointer_and_range():
    m = WasmModule.from_bytes(wat('(module (memory 1) (func (export "f")))'), "nosp.wasm")
    with pytest.raises(UsageError, match="no known stack pointer"):
        Session(m, check_stack=True, timeout=1)
    m = WasmModule.from_bytes(wat('(module (memory 1) (global (mut i32) (i32.const 4096)) (func (export "f")))'))
    with pytest.raises(UsageError, match="no known stack range"):
        Session(m, sp_global=0, check_stack=True, timeout=1)
    with pytest.raises(UsageError, match="not a mutable"):
        m = WasmModule.from_bytes(wat('(module (memory 1) (global f32 (f32.const 0)) (func (export "f")))'))
        Session(m, sp_global=0, stack_range=(0, 4096), check_stack=True, timeout=1)


def test_wat_module_with_many_functions_and_sp_not_global_0():
    """Hook index ≥ 128 (a longer call immediate than global.set's): offsets and results still right."""
    funcs = "\n".join(f'(func $f{i} (result i32) (i32.const {i}))' for i in range(130))
    text = f'''(module (memory (export "memory") 1)
      (global $other (mut i32) (i32.const 7))
      (global $sp (mut i32) (i32.const 4096))
      {funcs}
      (func $rec (export "rec") (param $n i32) (result i32) (local $fp i32)
        (local.set $fp (i32.sub (global.get $sp) (i32.const 256)))
        (global.set $sp (local.get $fp))
        (i32.store (local.get $fp) (local.get $n))
        (if (result i32) (local.get $n)
          (then (call $rec (i32.sub (local.get $n) (i32.const 1))))
          (else (i32.const 0)))
        (global.set $sp (i32.add (local.get $fp) (i32.const 256))))
      (func (export "boom") (unreachable)))'''
    m = WasmModule.from_bytes(wat(text), "many.wasm")
    with Session(m, sp_global=1, stack_range=(1024, 4096), check_stack=True, timeout=1) as s:
        assert s.instrumented.hook_index >= 128
        r = s.call("rec", ["3"])
        assert r.ok and r.stack.exact_peak == 4 * 256
        r = s.call("rec", ["20"])
        assert r.trap.kind == "stack_overflow" and r.trap.frames[0].name == "rec"
        assert r.trap.overflow.needed == 3072 + 256 and r.trap.overflow.past == 256
        assert s.get_global(0) == 7 and s.get_sp() == 4096
    with Session(m, sp_global=1, stack_range=(1024, 4096), timeout=1) as plain, \
            Session(m, sp_global=1, stack_range=(1024, 4096), check_stack=True, timeout=1) as checked:
        a, b = plain.call("boom", []), checked.call("boom", [])
        assert a.trap.frames[0].module_offset == b.trap.frames[0].module_offset
