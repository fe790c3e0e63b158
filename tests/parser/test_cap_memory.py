"""cap_memory_maximum: a defined memory's maximum lowered in place (same length, nothing else changes)."""

import pytest
from conftest import wat

from wasmem.parser import WasmModule
from wasmem.parser.encode import cap_memory_maximum, padded_uleb
from wasmem.parser.reader import decode_uleb


@pytest.mark.parametrize("n, width", [(0, 1), (5, 3), (300, 3), (65536, 3), (2**32 - 1, 5)])
def test_padded_uleb(n, width):
    b = padded_uleb(n, width)
    assert len(b) == width and decode_uleb(b, 0, len(b)) == (n, width)


def test_padded_uleb_too_small():
    with pytest.raises(ValueError):
        padded_uleb(128, 1)


def test_caps_only_defined_memories_with_a_larger_maximum():
    raw = wat("""(module
      (import "env" "m" (memory 1 100))
      (memory 1 65536 shared)
      (memory 2 3)
      (memory 1)
      (memory i64 1 70000))""")
    out = cap_memory_maximum(raw, {0: 4, 1: 8, 2: 8, 3: 8, 4: 9})
    assert len(out) == len(raw)
    mems = [m.type for m in WasmModule.from_bytes(out).memories]
    assert [(t.min_pages, t.max_pages) for t in mems] == [(1, 100), (1, 8), (2, 3), (1, None), (1, 9)]
    assert mems[1].shared and mems[4].is64
    h = WasmModule.from_bytes(raw).get_section(5)
    diff = [i for i, (a, b) in enumerate(zip(raw, out, strict=True)) if a != b]
    assert diff and all(h.start <= i < h.end for i in diff)


def test_a_cap_below_the_minimum_is_ignored():
    raw = wat("(module (memory 4 8 shared))")
    assert cap_memory_maximum(raw, {0: 2}) == raw
