"""Mutated samples through the analyses behind `stack`, `symbols` and `check`: they succeed or raise a
WasmemError (one line, exit 2), never anything else. Bounded here; WASMEM_FUZZ_EXAMPLES for more."""

import os

from conftest import all_samples
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from wasmem.debuginfo import symbol_listing
from wasmem.errors import WasmemError
from wasmem.model.layout import analyze
from wasmem.model.stackframes import analyze_stack
from wasmem.parser import WasmModule
from wasmem.parser.validate import check_structure

EXAMPLES = int(os.environ.get("WASMEM_FUZZ_EXAMPLES", "60"))
CORPUS = [open(p, "rb").read() for p in all_samples()]


@settings(max_examples=EXAMPLES, deadline=5000, derandomize=os.environ.get("WASMEM_FUZZ_EXAMPLES") is None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(st.sampled_from(CORPUS), st.data())
def test_stack_and_symbols_on_mutated_modules(base, data):
    buf = bytearray(base)
    for _ in range(data.draw(st.integers(1, 6))):
        buf[data.draw(st.integers(8, len(buf) - 1))] = data.draw(st.integers(0, 255))
    try:
        m = WasmModule.from_bytes(bytes(buf), "fuzz.wasm")
        check_structure(m)
        lay = analyze(m)
        analyze_stack(m, lay, recursion_depth=3)
        symbol_listing(m, functions=True)
    except WasmemError:
        pass
