"""Trap kinds that are the engine's, not the module's: native recursion, validation errors."""

import pytest
from conftest import wat

from wasmem.errors import RunError
from wasmem.parser import WasmModule
from wasmem.runtime.session import Session


def test_deep_native_recursion_is_call_stack_exhausted_not_a_linear_stack_overflow():
    m = WasmModule.from_bytes(wat('(module (func $r (export "r") (param i32) (result i32) '
                                  'local.get 0 call $r))'), "rec.wasm")
    with Session(m, timeout=5) as s:
        r = s.call("r", ["1"])
    assert r.trap.kind == "call_stack_exhausted" and r.trap.overflow is None
    assert "exhausted the engine's call stack" in r.trap.message
    assert r.trap.frames and r.trap.frames[0].name == "r"


def test_engine_validation_error_is_one_run_error():
    m = WasmModule.from_bytes(wat('(module (func (export "f") (result i32) i64.const 1))'), "bad.wasm")
    with pytest.raises(RunError) as exc:
        Session(m)
    assert "type mismatch" in str(exc.value) and "\n" not in str(exc.value)


def test_frames_without_a_position_have_none_offsets_not_garbage():
    m = WasmModule.from_bytes(wat('(module (func $r (export "r") (param i32) (result i32) '
                                  'local.get 0 call $r))'), "rec.wasm")
    with Session(m, timeout=5) as s:
        frames = s.call("r", ["1"]).trap.frames
    for f in frames:
        assert f.module_offset is None or 0 <= f.module_offset < 200


def test_a_data_segment_past_memory_is_named_at_instantiation():
    m = WasmModule.from_bytes(wat('(module (memory 1) (data (i32.const 65530) "0123456789") '
                                  '(func (export "f")))'), "oob.wasm")
    with pytest.raises(RunError) as exc:
        Session(m)
    assert "data segment 0 [0xfffa, 0x10004) does not fit in memory 0's 65536 bytes" in str(exc.value)
