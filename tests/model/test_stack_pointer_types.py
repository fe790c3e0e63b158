"""A global named __stack_pointer is the stack pointer only when it is a mutable i32/i64: an f64, v128 or
reference global of that name used to crash `inspect` (a float formatted as an address)."""

import pytest
from conftest import wat

from wasmem.model.layout import analyze
from wasmem.parser.module import WasmModule

INITS = {"f64": "f64.const 1.5", "v128": "v128.const i64x2 0 0", "funcref": "ref.null func", "i32": "i32.const 4096"}


@pytest.mark.parametrize("how", ["export", "name", "import"])
@pytest.mark.parametrize("valtype", sorted(INITS))
def test_only_integer_globals_named_stack_pointer_count(valtype, how):
    if how == "import":
        text = (f'(module (import "env" "__stack_pointer" (global (mut {valtype}))) (memory 1) '
                f'(data (i32.const 8192) "x"))')
    else:
        export = '(export "__stack_pointer")' if how == "export" else ""
        text = (f'(module (memory 1) (global $__stack_pointer {export} (mut {valtype}) ({INITS[valtype]})) '
                f'(data (i32.const 8192) "x"))')
    layout = analyze(WasmModule.from_bytes(wat(text), "t.wasm"))
    if valtype == "i32":
        assert layout.stack_pointer is not None and layout.stack_pointer.global_index == 0
    else:
        assert layout.stack_pointer is None
        assert layout.layout_kind == "unknown"
