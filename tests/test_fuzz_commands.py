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


def _hostile_dwarf_corpus() -> list[bytes]:
    """Small crafted modules with hostile DWARF (tests/debuginfo/dwarf_gen.py): cycles, deep
    nesting, a looping DW_AT_sibling, zero-size entry bombs."""
    import sys

    sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "debuginfo"))
    import dwarf_gen as gen

    return [gen.typedef_cycle(), gen.const_cycle(), gen.self_array(), gen.self_struct(), gen.spec_cycle(),
            gen.sibling_loop(), gen.line_header_bomb(), gen.deep_namespaces(300), gen.many_dimensions(300),
            gen.pointer_chain(300, every=7), gen.attribute_bomb(3000, 200), gen.huge_numbers(),
            gen.name_amplifier(6, 4, 20)]


HOSTILE_DWARF = _hostile_dwarf_corpus()


@settings(max_examples=EXAMPLES, deadline=5000, derandomize=os.environ.get("WASMEM_FUZZ_EXAMPLES") is None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(st.sampled_from(HOSTILE_DWARF), st.data())
def test_symbols_and_values_on_mutated_hostile_dwarf(base, data):
    """Mutations of the hostile-DWARF generators' modules (bytes changed inside their DWARF) through
    the symbol table, type names and typed values: only WasmemError, never RecursionError."""
    from wasmem.debuginfo import StaticMemory, format_value, load_symbols

    buf = bytearray(base)
    m0 = WasmModule.from_bytes(base, "fuzz.wasm")
    spans = [(s.start, s.end) for s in m0.debug_sections if s.size]
    for _ in range(data.draw(st.integers(1, 6))):
        lo, hi = data.draw(st.sampled_from(spans))
        buf[data.draw(st.integers(lo, hi - 1))] = data.draw(st.integers(0, 255))
    try:
        m = WasmModule.from_bytes(bytes(buf), "fuzz.wasm")
        t = load_symbols(m)
        symbol_listing(m, functions=True)
        mem = StaticMemory(m)
        for s in t.data_symbols[:20]:
            if s.type is not None:
                format_value(s.type, mem, s.address, depth=8, symbols=t).one_line()
        for f in t.functions[:20]:
            _ = f.type_name
    except WasmemError:
        pass
