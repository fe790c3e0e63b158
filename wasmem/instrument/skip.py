"""Skipping the instructions no pass wants, at the speed of the regular-expression engine.

The rewriter (``rewriter.py``) must find, in every body, the instructions whose opcode a pass asked for;
decoding every instruction in Python costs about 0.2 s per MB of code. Instead, a compiled pattern
matches a *run* of instructions none of the passes wants (``skipper(wanted).match(data, pos, end)``):
the engine walks them in C and stops at the first instruction that is wanted, or that the pattern does
not describe (rare encodings: a ``br_table`` of more than 32 labels, GC instructions, multi-byte block
types, ...), which the rewriter then decodes in Python (``parser.code``) as before. So a stop is
always an instruction boundary, and every wanted instruction is a stop.

The pattern describes only encodings that ``parser.code``'s decoder reads the same way (the same length,
no error): each alternative is an opcode class with its immediates, and every LEB128 is bounded exactly
as ``parser.reader.decode_uleb``/``decode_sleb`` bound it (the unused bits of the last byte included).
``tests/instrument/test_skip.py`` checks the tables against the decoder opcode by opcode.

:func:`needle` is the cheaper question asked first, of the whole code section at once: the bytes any
wanted instruction must start with; a body where they do not occur needs no change and is copied.

Pure stdlib.
"""

from __future__ import annotations

import re
from functools import lru_cache

from ..parser.code import OPCODE_NAMES, VALTYPE_NAMES

# one-byte opcodes by immediate (a subset of parser.code's table: the common encodings only)
NONE_OPS = frozenset({0x00, 0x01, 0x05, 0x0A, 0x0B, 0x0F, 0x1A, 0x1B, 0xD1, *range(0x45, 0xC5)})
U32_OPS = frozenset({0x08, 0x0C, 0x0D, 0x10, 0x12, 0x20, 0x21, 0x22, 0x23, 0x24, 0x25, 0x26, 0x3F, 0x40, 0xD2})
U32X2_OPS = frozenset({0x11, 0x13})
MEMARG_OPS = frozenset(range(0x28, 0x3F))
BLOCK_OPS = frozenset({0x02, 0x03, 0x04})
# prefixed (0xFC, 0xFD, 0xFE) opcodes by immediate, as full opcodes (prefix << 16 | sub)
FC_NONE = frozenset(0xFC0000 | s for s in range(8))  # the saturating truncations
FC_U32 = frozenset(0xFC0000 | s for s in (9, 11, 13, 15, 16, 17))
FC_U32X2 = frozenset(0xFC0000 | s for s in (8, 10, 12, 14))
FD_MEMARG = frozenset(0xFD0000 | s for s in (*range(12), 92, 93))
FD_MEMARG_LANE = frozenset(0xFD0000 | s for s in range(84, 92))
FD_LANE = frozenset(0xFD0000 | s for s in range(21, 35))
FD_BYTES16 = frozenset({0xFD000C, 0xFD000D})
FD_NONE = frozenset(op for op in OPCODE_NAMES if op >> 16 == 0xFD) - FD_MEMARG - FD_MEMARG_LANE - FD_LANE - FD_BYTES16
FE_BYTE = frozenset({0xFE0003})  # atomic.fence: one reserved byte
FE_MEMARG = frozenset(op for op in OPCODE_NAMES if op >> 16 == 0xFE) - FE_BYTE
# block types read in one byte: the empty type, the one-byte value types, a type index below 64
BLOCK_TYPES = frozenset({0x40, *VALTYPE_NAMES, *range(0x40)})
BR_TABLE_UNROLLED = 32  # br_table with up to this many labels (besides the default); longer ones are decoded
TRY_TABLE_UNROLLED = 4  # try_table with up to this many catch clauses

# LEB128s exactly as parser.reader bounds them
U32 = rb"(?:[\x00-\x7f]|[\x80-\xff]{1,3}[\x00-\x7f]|[\x80-\xff]{4}[\x00-\x0f])"
U64 = rb"(?:[\x00-\x7f]|[\x80-\xff]{1,8}[\x00-\x7f]|[\x80-\xff]{9}[\x00\x01])"
S32 = rb"(?:[\x00-\x7f]|[\x80-\xff]{1,3}[\x00-\x7f]|[\x80-\xff]{4}[\x00-\x07\x78-\x7f])"
S64 = rb"(?:[\x00-\x7f]|[\x80-\xff]{1,8}[\x00-\x7f]|[\x80-\xff]{9}[\x00\x7f])"
MEMARG = rb"(?:[\x00-\x3f]|[\x40-\x7f]" + U32 + rb")" + U64  # flags in one byte (bit 6: a memory index)


def _cls(values) -> bytes:
    """A character class of the byte values (empty bytes when there are none)."""
    vs = sorted(set(values))
    if not vs:
        return b""
    parts, i = [], 0
    while i < len(vs):
        j = i
        while j + 1 < len(vs) and vs[j + 1] == vs[j] + 1:
            j += 1
        parts.append(b"\\x%02x" % vs[i] if i == j else b"\\x%02x-\\x%02x" % (vs[i], vs[j]))
        i = j + 1
    return b"[" + b"".join(parts) + b"]"


def _alt(cls: bytes, tail: bytes = b"") -> list[bytes]:
    return [cls + tail] if cls else []


def _prefixed(prefix: int, ops, tail: bytes) -> list[bytes]:
    """The alternatives for the prefixed opcodes ``ops`` (sub-opcodes in canonical LEB128) then ``tail``."""
    by_high: dict[int, list[int]] = {}
    for op in ops:
        sub = op & 0xFFFF
        by_high.setdefault(sub >> 7, []).append(sub & 0x7F)
    out = []
    for high, lows in sorted(by_high.items()):
        if high == 0:
            out.append(b"\\x%02x" % prefix + _cls(lows) + tail)
        elif high < 0x80:
            out.append(b"\\x%02x" % prefix + _cls(0x80 | lo for lo in lows) + b"\\x%02x" % high + tail)
    return out


@lru_cache(maxsize=32)
def skipper(wanted: frozenset) -> re.Pattern:
    """A pattern whose ``match(data, pos, end)`` ends at the first instruction from ``pos`` that is in
    ``wanted`` (full opcodes, ``parser.code`` numbering) or that it does not describe, or at ``end``."""
    w = wanted
    alts: list[bytes] = []
    alts += _alt(_cls(U32_OPS - w), U32)  # the most frequent first (local.get)
    alts += _alt(_cls(NONE_OPS - w))
    alts += _alt(_cls(MEMARG_OPS - w), MEMARG)
    if 0x41 not in w:
        alts.append(rb"\x41" + S32)
    alts += _alt(_cls(BLOCK_OPS - w), _cls(BLOCK_TYPES))
    if 0x42 not in w:
        alts.append(rb"\x42" + S64)
    if 0x43 not in w:
        alts.append(rb"\x43[\x00-\xff]{4}")
    if 0x44 not in w:
        alts.append(rb"\x44[\x00-\xff]{8}")
    alts += _alt(_cls(U32X2_OPS - w), U32 + U32)
    if 0x0E not in w:  # br_table: a count, then count + 1 labels
        alts.append(rb"\x0e(?:" + b"|".join(b"\\x%02x(?:%s){%d}" % (k, U32, k + 1)
                                            for k in range(BR_TABLE_UNROLLED + 1)) + b")")
    if 0x1F not in w:  # try_table: a block type, a count, the catch clauses (kinds 0 and 1 name a tag)
        clause = rb"(?:[\x00\x01]" + U32 + U32 + rb"|[\x02\x03]" + U32 + b")"
        alts.append(rb"\x1f" + _cls(BLOCK_TYPES) + b"(?:" + b"|".join(
            b"\\x%02x(?:%s){%d}" % (k, clause, k) for k in range(TRY_TABLE_UNROLLED + 1)) + b")")
    if 0x1C not in w:  # select with one one-byte value type
        alts.append(rb"\x1c\x01" + _cls(VALTYPE_NAMES))
    if 0xFD not in w:
        alts += _prefixed(0xFD, FD_NONE - w, b"")
        alts += _prefixed(0xFD, FD_MEMARG - w, MEMARG)
        alts += _prefixed(0xFD, FD_MEMARG_LANE - w, MEMARG + rb"[\x00-\xff]")
        alts += _prefixed(0xFD, FD_LANE - w, rb"[\x00-\xff]")
        alts += _prefixed(0xFD, FD_BYTES16 - w, rb"[\x00-\xff]{16}")
    if 0xFC not in w:
        alts += _prefixed(0xFC, FC_NONE - w, b"")
        alts += _prefixed(0xFC, FC_U32 - w, U32)
        alts += _prefixed(0xFC, FC_U32X2 - w, U32 + U32)
    if 0xFE not in w:
        alts += _prefixed(0xFE, FE_MEMARG - w, MEMARG)
        alts += _prefixed(0xFE, FE_BYTE - w, rb"[\x00-\xff]")
    return re.compile(b"(?:" + b"|".join(alts) + b")*+", re.DOTALL)


@lru_cache(maxsize=1)
def one_instruction() -> re.Pattern:
    """A pattern that matches one instruction of the encodings :func:`skipper` describes (no match: decode
    it)."""
    return re.compile(skipper(frozenset()).pattern[:-2], re.DOTALL)


def leb_forms(value: int, bits: int = 32) -> list[bytes]:
    """Every LEB128 encoding of the unsigned ``value`` the decoder reads (canonical and padded)."""
    most = (bits + 6) // 7
    out = []
    for n in range(1, most + 1):
        if value >> (7 * n):
            continue
        groups = [(value >> (7 * i)) & 0x7F for i in range(n)]
        out.append(bytes(g | 0x80 for g in groups[:-1]) + bytes([groups[-1]]))
    return out


def needle(first: list[bytes], leads: set[int]) -> re.Pattern | None:
    """A pattern for where a wanted instruction may start: any of the byte strings ``first``, or any of the
    bytes ``leads`` (first bytes of opcodes); None when there are none."""
    alts = [re.escape(p) for p in sorted(set(first))]
    if leads:
        alts.append(_cls(leads))
    if not alts:
        return None
    return re.compile(b"|".join(alts), re.DOTALL)
