"""The skipper (instrument/skip.py) reads instructions exactly as the decoder does: every instruction it
matches has the decoder's length, every stop is an instruction boundary, every wanted instruction a stop."""

from __future__ import annotations

import random
from pathlib import Path

import pytest

from wasmem.errors import ParseError
from wasmem.instrument.skip import leb_forms, needle, one_instruction, skipper
from wasmem.parser.code import decode_locals, iter_instruction_tuples
from wasmem.parser.encode import uleb
from wasmem.parser.module import WasmModule

SAMPLES = sorted(Path(__file__).resolve().parents[2].glob("samples/*.wasm"))


def _decoded_length(data: bytes) -> int | None:
    """The length of the first instruction of ``data`` as the decoder reads it (None: it refuses)."""
    try:
        it = iter_instruction_tuples(data, 0, len(data))
        next(it)
        nxt = next(it, None)
    except (ParseError, StopIteration):
        return None
    return nxt[0] if nxt is not None else len(data)


def test_every_match_has_the_decoders_length():
    """Random bytes (biased to opcodes and LEB128 continuation bytes): wherever the one-instruction pattern
    matches, the decoder reads one instruction of that length, without error."""
    rng = random.Random(26)
    one = one_instruction()
    pool = [0x00, 0x01, 0x02, 0x0B, 0x0E, 0x0F, 0x10, 0x11, 0x1C, 0x1F, 0x20, 0x24, 0x28, 0x36, 0x40, 0x41,
            0x42, 0x43, 0x44, 0x7F, 0x80, 0x81, 0xFF, 0x0F, 0x07, 0x78, 0xFC, 0xFD, 0xFE, 0x69, 0x63]
    checked = 0
    for _ in range(60000):
        n = rng.randint(1, 24)
        data = bytes(rng.choice(pool) if rng.random() < 0.7 else rng.randrange(256) for _ in range(n))
        m = one.match(data)
        if m is None:
            continue
        checked += 1
        # the decoder, given exactly the matched bytes, reads one instruction that ends there
        assert _decoded_length(data[:m.end()]) == m.end(), data.hex()
    assert checked > 10000


@pytest.mark.parametrize("value", [0, 1, 63, 64, 127, 128, 16383, 2**21, 2**28 - 1, 2**31, 2**32 - 1])
def test_leb_forms_decode_to_the_value(value):
    forms = leb_forms(value)
    assert forms[0] == uleb(value)
    for f in forms:
        assert list(iter_instruction_tuples(b"\x24" + f, 0, len(f) + 1)) == [(0, 0x24, value)]
        assert one_instruction().match(b"\x24" + f).end() == len(f) + 1


def _bodies(path: Path):
    data = path.read_bytes()
    module = WasmModule.from_bytes(data)
    for body in module.functions:
        _, p0 = decode_locals(data, body.start, body.end)
        yield data, p0, body.end


@pytest.mark.parametrize("wanted", [frozenset({0x24}), frozenset({0x36, 0x37, 0xFC000B, 0xFC000A}),
                                    frozenset({0x0B, 0x0F, 0x12}), frozenset()])
def test_stops_are_boundaries_and_every_wanted_instruction_stops(wanted):
    skip = skipper(wanted)
    seen = 0
    for path in SAMPLES:
        for data, p0, end in _bodies(path):
            instrs = list(iter_instruction_tuples(data, p0, end))
            starts = {off for off, _, _ in instrs}
            want = [off for off, op, _ in instrs if op in wanted]
            stops, q = [], p0
            while True:
                q = skip.match(data, q, end).end()
                if q >= end:
                    break
                assert q in starts
                stops.append(q)
                i = [off for off, _, _ in instrs].index(q)
                q = instrs[i + 1][0] if i + 1 < len(instrs) else end
            assert set(want) <= set(stops)
            seen += len(want)
    if wanted:
        assert seen > 0


def test_needle_finds_every_padded_global_set():
    """The stack pass's needle (``global.set SP`` in any LEB128 form) finds a relocatable 5-byte one."""
    pat = needle([b"\x24" + f for f in leb_forms(3)], set())
    assert pat.search(b"\x20\x00\x24\x83\x80\x80\x80\x00\x0b")
    assert pat.search(b"\x20\x00\x24\x03\x0b")
    assert not pat.search(b"\x20\x00\x24\x04\x0b")


def test_untouched_bodies_are_copied_byte_for_byte():
    """A body without ``global.set SP`` keeps its bytes, its padded size field included, and its offsets map
    back linearly; the body that writes SP is re-encoded."""
    from wasmtime import wat2wasm

    from wasmem.instrument.rewriter import rewrite
    from wasmem.instrument.stack import StackPass

    wasm = wat2wasm("""(module (global $sp (mut i32) (i32.const 4096)) (memory 1)
      (func $leaf (export "leaf") (param i32) (result i32) local.get 0 i32.const 1 i32.add)
      (func $frame (export "frame") global.get $sp i32.const 16 i32.sub global.set $sp))""")
    module = WasmModule.from_bytes(wasm)
    leaf, frame = module.functions
    # pad the leaf's size field to 5 bytes, as a relocatable link leaves it
    field = leaf.start - 1
    size = wasm[field]
    padded = bytes([0x80 | size, 0x80, 0x80, 0x80, 0x00])
    code = module.get_section(10)
    wasm2 = bytearray(wasm[:field] + padded + wasm[leaf.start:])
    # the code section's own size field grows by 4 (one byte: it is small)
    hdr = code.start - 1
    assert wasm[hdr] < 0x80 - 4
    wasm2[hdr] += 4
    wasm2 = bytes(wasm2)
    module2 = WasmModule.from_bytes(wasm2)
    leaf2 = module2.functions[0]
    r = rewrite(wasm2, [StackPass(0, 0)])
    leaf_bytes = padded + wasm2[leaf2.start:leaf2.end]
    at = r.data.find(leaf_bytes)
    assert at > 0
    for k in range(len(leaf_bytes)):
        assert r.original_offset(at + k) == leaf2.start - 5 + k
    assert r.data.count(b"\x24\x00") == 1  # only the hook's own write of SP remains
