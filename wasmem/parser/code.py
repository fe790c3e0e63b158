"""The instruction decoder: function bodies, local declarations and a lazy instruction iterator.

Pure stdlib. Every position is an absolute offset into ``data`` (the whole file), so every
``ParseError`` carries the offset of the byte that failed.

Opcodes are ints: a single-byte opcode is its byte; a prefixed one is ``(prefix << 16) | subop``
(prefixes 0xFB GC, 0xFC misc, 0xFD SIMD, 0xFE threads). ``OPCODE_NAMES`` maps them to the text
format's mnemonics.

Immediates (``Instr.imm``):

=============================================  ==============================================
memory loads/stores, SIMD loads, atomics       ``(align, offset, memidx)`` (align is log2)
``v128.load*_lane`` / ``store*_lane``          ``(align, offset, memidx, lane)``
one index (local/global/call/br/…)             ``int``
``call_indirect``, ``return_call_indirect``    ``(typeidx, tableidx)``
``br_table``                                   ``((label, …), default)``
``i32.const`` / ``i64.const``                  signed ``int``
``f32.const`` / ``f64.const``                  ``float``
``block``/``loop``/``if``/``try``               blocktype: ``None`` (empty), a valtype ``str``
                                               (``"i32"``, ``"(ref null 3)"``) or a type index ``int``
``try_table``                                  ``(blocktype, ((kind, tag|None, label), …))``;
                                               kind 0 catch, 1 catch_ref, 2 catch_all, 3 catch_all_ref
``select`` with types (0x1C)                   ``(valtype str, …)``
``ref.null``, ``ref.test``, ``ref.cast``,       heap type: ``str`` (``"func"``, ``"any"``…, or
``ref.cast_desc_eq``                           ``"(exact 3)"``: custom descriptors) or ``int``
``br_on_cast``, ``br_on_cast_fail``,           ``(flags, label, heaptype1, heaptype2)``
``br_on_cast_desc_eq``, ``…_desc_eq_fail``
two indices (``memory.copy``, ``memory.init``,  ``(a, b)`` in binary order
``table.init``, ``table.copy``, ``struct.get``,
``array.copy``, ``array.new_fixed``, …)
``v128.const``, ``i8x16.shuffle``              16 ``bytes``
``*.extract_lane`` / ``*.replace_lane``        lane ``int``
everything else                                ``None``
=============================================  ==============================================

Structure is not checked: the decoder does not match ``end`` to blocks. When tracking nesting,
note that a legacy ``try … delegate L`` is closed by ``delegate`` (0x18), not by ``end``.
For whole-module scans prefer ``iter_instruction_tuples`` (no object per instruction).
"""

from __future__ import annotations

import struct
from collections.abc import Iterator
from itertools import islice

from ..errors import ParseError
from .reader import decode_sleb, decode_uleb
from .types import HEAPTYPES, VALTYPES
from .typesec import EXACT_PREFIX

__all__ = [
    "Instr", "OPCODE_NAMES", "op_name", "decode_locals", "iter_instructions", "iter_instruction_tuples",
    "function_prefix", "MAX_LOCALS", "find_calls", "CALL_OPS",
]

# The binary format says the total number of locals must fit in a u32. Groups are never expanded.
MAX_LOCALS = 0xFFFFFFFF

_UNPACK_F32 = struct.Struct("<f").unpack_from
_UNPACK_F64 = struct.Struct("<d").unpack_from

VALTYPE_NAMES = VALTYPES
HEAPTYPE_NAMES = HEAPTYPES


class Instr:
    """One decoded instruction: absolute ``offset`` of its opcode byte, ``op`` and ``imm``."""

    __slots__ = ("offset", "op", "imm")

    def __init__(self, offset: int, op: int, imm):
        self.offset = offset
        self.op = op
        self.imm = imm

    @property
    def name(self) -> str:
        return op_name(self.op)

    def __eq__(self, other):
        if not isinstance(other, Instr):
            return NotImplemented
        return self.offset == other.offset and self.op == other.op and self.imm == other.imm

    __hash__ = None  # mutable-looking; compare, don't hash

    def __iter__(self):
        return iter((self.offset, self.op, self.imm))

    def __repr__(self) -> str:
        if self.imm is None:
            return f"Instr({self.offset:#x}, {self.name})"
        return f"Instr({self.offset:#x}, {self.name}, {self.imm!r})"


# --------------------------------------------------------------------------------------------
# Opcode tables
# --------------------------------------------------------------------------------------------

def _names() -> dict[int, str]:
    n: dict[int, str] = {
        0x00: "unreachable", 0x01: "nop", 0x02: "block", 0x03: "loop", 0x04: "if", 0x05: "else",
        0x06: "try", 0x07: "catch", 0x08: "throw", 0x09: "rethrow", 0x0A: "throw_ref", 0x0B: "end",
        0x0C: "br", 0x0D: "br_if", 0x0E: "br_table", 0x0F: "return", 0x10: "call",
        0x11: "call_indirect", 0x12: "return_call", 0x13: "return_call_indirect", 0x14: "call_ref",
        0x15: "return_call_ref", 0x18: "delegate", 0x19: "catch_all", 0x1A: "drop", 0x1B: "select",
        0x1C: "select", 0x1F: "try_table",
        0x20: "local.get", 0x21: "local.set", 0x22: "local.tee", 0x23: "global.get", 0x24: "global.set",
        0x25: "table.get", 0x26: "table.set",
        0x3F: "memory.size", 0x40: "memory.grow",
        0x41: "i32.const", 0x42: "i64.const", 0x43: "f32.const", 0x44: "f64.const",
        0xD0: "ref.null", 0xD1: "ref.is_null", 0xD2: "ref.func", 0xD3: "ref.eq", 0xD4: "ref.as_non_null",
        0xD5: "br_on_null", 0xD6: "br_on_non_null",
        # stack switching
        0xE0: "cont.new", 0xE1: "cont.bind", 0xE2: "suspend", 0xE3: "resume", 0xE4: "resume_throw",
        0xE5: "resume_throw_ref", 0xE6: "switch",
    }
    mem = ("i32.load i64.load f32.load f64.load i32.load8_s i32.load8_u i32.load16_s i32.load16_u "
           "i64.load8_s i64.load8_u i64.load16_s i64.load16_u i64.load32_s i64.load32_u i32.store "
           "i64.store f32.store f64.store i32.store8 i32.store16 i64.store8 i64.store16 i64.store32")
    for i, s in enumerate(mem.split()):
        n[0x28 + i] = s
    numeric = (
        "i32.eqz i32.eq i32.ne i32.lt_s i32.lt_u i32.gt_s i32.gt_u i32.le_s i32.le_u i32.ge_s i32.ge_u "
        "i64.eqz i64.eq i64.ne i64.lt_s i64.lt_u i64.gt_s i64.gt_u i64.le_s i64.le_u i64.ge_s i64.ge_u "
        "f32.eq f32.ne f32.lt f32.gt f32.le f32.ge f64.eq f64.ne f64.lt f64.gt f64.le f64.ge "
        "i32.clz i32.ctz i32.popcnt i32.add i32.sub i32.mul i32.div_s i32.div_u i32.rem_s i32.rem_u "
        "i32.and i32.or i32.xor i32.shl i32.shr_s i32.shr_u i32.rotl i32.rotr "
        "i64.clz i64.ctz i64.popcnt i64.add i64.sub i64.mul i64.div_s i64.div_u i64.rem_s i64.rem_u "
        "i64.and i64.or i64.xor i64.shl i64.shr_s i64.shr_u i64.rotl i64.rotr "
        "f32.abs f32.neg f32.ceil f32.floor f32.trunc f32.nearest f32.sqrt f32.add f32.sub f32.mul "
        "f32.div f32.min f32.max f32.copysign "
        "f64.abs f64.neg f64.ceil f64.floor f64.trunc f64.nearest f64.sqrt f64.add f64.sub f64.mul "
        "f64.div f64.min f64.max f64.copysign "
        "i32.wrap_i64 i32.trunc_f32_s i32.trunc_f32_u i32.trunc_f64_s i32.trunc_f64_u "
        "i64.extend_i32_s i64.extend_i32_u i64.trunc_f32_s i64.trunc_f32_u i64.trunc_f64_s "
        "i64.trunc_f64_u f32.convert_i32_s f32.convert_i32_u f32.convert_i64_s f32.convert_i64_u "
        "f32.demote_f64 f64.convert_i32_s f64.convert_i32_u f64.convert_i64_s f64.convert_i64_u "
        "f64.promote_f32 i32.reinterpret_f32 i64.reinterpret_f64 f32.reinterpret_i32 "
        "f64.reinterpret_i64 i32.extend8_s i32.extend16_s i64.extend8_s i64.extend16_s i64.extend32_s")
    for i, s in enumerate(numeric.split()):
        n[0x45 + i] = s
    assert 0x45 + i == 0xC4

    # 0xFB: GC
    gc = {
        0: "struct.new", 1: "struct.new_default", 2: "struct.get", 3: "struct.get_s", 4: "struct.get_u",
        5: "struct.set", 6: "array.new", 7: "array.new_default", 8: "array.new_fixed",
        9: "array.new_data", 10: "array.new_elem", 11: "array.get", 12: "array.get_s",
        13: "array.get_u", 14: "array.set", 15: "array.len", 16: "array.fill", 17: "array.copy",
        18: "array.init_data", 19: "array.init_elem", 20: "ref.test", 21: "ref.test", 22: "ref.cast",
        23: "ref.cast", 24: "br_on_cast", 25: "br_on_cast_fail", 26: "any.convert_extern",
        27: "extern.convert_any", 28: "ref.i31", 29: "i31.get_s", 30: "i31.get_u",
        # custom descriptors
        32: "struct.new_desc", 33: "struct.new_default_desc", 34: "ref.get_desc", 35: "ref.cast_desc_eq",
        36: "ref.cast_desc_eq", 37: "br_on_cast_desc_eq", 38: "br_on_cast_desc_eq_fail",
    }
    for sub, s in gc.items():
        n[0xFB0000 | sub] = s

    # 0xFC: saturating truncation, bulk memory, tables, wide arithmetic
    misc = ("i32.trunc_sat_f32_s i32.trunc_sat_f32_u i32.trunc_sat_f64_s i32.trunc_sat_f64_u "
            "i64.trunc_sat_f32_s i64.trunc_sat_f32_u i64.trunc_sat_f64_s i64.trunc_sat_f64_u "
            "memory.init data.drop memory.copy memory.fill table.init elem.drop table.copy table.grow "
            "table.size table.fill")
    for i, s in enumerate(misc.split()):
        n[0xFC0000 | i] = s
    for sub, s in {19: "i64.add128", 20: "i64.sub128", 21: "i64.mul_wide_s", 22: "i64.mul_wide_u"}.items():
        n[0xFC0000 | sub] = s

    # 0xFD: SIMD (0x00-0xFF) and relaxed SIMD (0x100-0x113)
    simd = {
        0: "v128.load", 1: "v128.load8x8_s", 2: "v128.load8x8_u", 3: "v128.load16x4_s",
        4: "v128.load16x4_u", 5: "v128.load32x2_s", 6: "v128.load32x2_u", 7: "v128.load8_splat",
        8: "v128.load16_splat", 9: "v128.load32_splat", 10: "v128.load64_splat", 11: "v128.store",
        12: "v128.const", 13: "i8x16.shuffle", 14: "i8x16.swizzle", 15: "i8x16.splat",
        16: "i16x8.splat", 17: "i32x4.splat", 18: "i64x2.splat", 19: "f32x4.splat", 20: "f64x2.splat",
        21: "i8x16.extract_lane_s", 22: "i8x16.extract_lane_u", 23: "i8x16.replace_lane",
        24: "i16x8.extract_lane_s", 25: "i16x8.extract_lane_u", 26: "i16x8.replace_lane",
        27: "i32x4.extract_lane", 28: "i32x4.replace_lane", 29: "i64x2.extract_lane",
        30: "i64x2.replace_lane", 31: "f32x4.extract_lane", 32: "f32x4.replace_lane",
        33: "f64x2.extract_lane", 34: "f64x2.replace_lane",
        77: "v128.not", 78: "v128.and", 79: "v128.andnot", 80: "v128.or", 81: "v128.xor",
        82: "v128.bitselect", 83: "v128.any_true",
        84: "v128.load8_lane", 85: "v128.load16_lane", 86: "v128.load32_lane", 87: "v128.load64_lane",
        88: "v128.store8_lane", 89: "v128.store16_lane", 90: "v128.store32_lane",
        91: "v128.store64_lane", 92: "v128.load32_zero", 93: "v128.load64_zero",
        94: "f32x4.demote_f64x2_zero", 95: "f64x2.promote_low_f32x4",
        96: "i8x16.abs", 97: "i8x16.neg", 98: "i8x16.popcnt", 99: "i8x16.all_true",
        100: "i8x16.bitmask", 101: "i8x16.narrow_i16x8_s", 102: "i8x16.narrow_i16x8_u",
        103: "f32x4.ceil", 104: "f32x4.floor", 105: "f32x4.trunc", 106: "f32x4.nearest",
        107: "i8x16.shl", 108: "i8x16.shr_s", 109: "i8x16.shr_u", 110: "i8x16.add",
        111: "i8x16.add_sat_s", 112: "i8x16.add_sat_u", 113: "i8x16.sub", 114: "i8x16.sub_sat_s",
        115: "i8x16.sub_sat_u", 116: "f64x2.ceil", 117: "f64x2.floor", 118: "i8x16.min_s",
        119: "i8x16.min_u", 120: "i8x16.max_s", 121: "i8x16.max_u", 122: "f64x2.trunc",
        123: "i8x16.avgr_u", 124: "i16x8.extadd_pairwise_i8x16_s", 125: "i16x8.extadd_pairwise_i8x16_u",
        126: "i32x4.extadd_pairwise_i16x8_s", 127: "i32x4.extadd_pairwise_i16x8_u",
        128: "i16x8.abs", 129: "i16x8.neg", 130: "i16x8.q15mulr_sat_s", 131: "i16x8.all_true",
        132: "i16x8.bitmask", 133: "i16x8.narrow_i32x4_s", 134: "i16x8.narrow_i32x4_u",
        135: "i16x8.extend_low_i8x16_s", 136: "i16x8.extend_high_i8x16_s",
        137: "i16x8.extend_low_i8x16_u", 138: "i16x8.extend_high_i8x16_u",
        139: "i16x8.shl", 140: "i16x8.shr_s", 141: "i16x8.shr_u", 142: "i16x8.add",
        143: "i16x8.add_sat_s", 144: "i16x8.add_sat_u", 145: "i16x8.sub", 146: "i16x8.sub_sat_s",
        147: "i16x8.sub_sat_u", 148: "f64x2.nearest", 149: "i16x8.mul", 150: "i16x8.min_s",
        151: "i16x8.min_u", 152: "i16x8.max_s", 153: "i16x8.max_u", 155: "i16x8.avgr_u",
        156: "i16x8.extmul_low_i8x16_s", 157: "i16x8.extmul_high_i8x16_s",
        158: "i16x8.extmul_low_i8x16_u", 159: "i16x8.extmul_high_i8x16_u",
        160: "i32x4.abs", 161: "i32x4.neg", 163: "i32x4.all_true", 164: "i32x4.bitmask",
        167: "i32x4.extend_low_i16x8_s", 168: "i32x4.extend_high_i16x8_s",
        169: "i32x4.extend_low_i16x8_u", 170: "i32x4.extend_high_i16x8_u",
        171: "i32x4.shl", 172: "i32x4.shr_s", 173: "i32x4.shr_u", 174: "i32x4.add", 177: "i32x4.sub",
        181: "i32x4.mul", 182: "i32x4.min_s", 183: "i32x4.min_u", 184: "i32x4.max_s",
        185: "i32x4.max_u", 186: "i32x4.dot_i16x8_s",
        188: "i32x4.extmul_low_i16x8_s", 189: "i32x4.extmul_high_i16x8_s",
        190: "i32x4.extmul_low_i16x8_u", 191: "i32x4.extmul_high_i16x8_u",
        192: "i64x2.abs", 193: "i64x2.neg", 195: "i64x2.all_true", 196: "i64x2.bitmask",
        199: "i64x2.extend_low_i32x4_s", 200: "i64x2.extend_high_i32x4_s",
        201: "i64x2.extend_low_i32x4_u", 202: "i64x2.extend_high_i32x4_u",
        203: "i64x2.shl", 204: "i64x2.shr_s", 205: "i64x2.shr_u", 206: "i64x2.add", 209: "i64x2.sub",
        213: "i64x2.mul", 214: "i64x2.eq", 215: "i64x2.ne", 216: "i64x2.lt_s", 217: "i64x2.gt_s",
        218: "i64x2.le_s", 219: "i64x2.ge_s",
        220: "i64x2.extmul_low_i32x4_s", 221: "i64x2.extmul_high_i32x4_s",
        222: "i64x2.extmul_low_i32x4_u", 223: "i64x2.extmul_high_i32x4_u",
        224: "f32x4.abs", 225: "f32x4.neg", 227: "f32x4.sqrt", 228: "f32x4.add", 229: "f32x4.sub",
        230: "f32x4.mul", 231: "f32x4.div", 232: "f32x4.min", 233: "f32x4.max", 234: "f32x4.pmin",
        235: "f32x4.pmax", 236: "f64x2.abs", 237: "f64x2.neg", 239: "f64x2.sqrt", 240: "f64x2.add",
        241: "f64x2.sub", 242: "f64x2.mul", 243: "f64x2.div", 244: "f64x2.min", 245: "f64x2.max",
        246: "f64x2.pmin", 247: "f64x2.pmax",
        248: "i32x4.trunc_sat_f32x4_s", 249: "i32x4.trunc_sat_f32x4_u",
        250: "f32x4.convert_i32x4_s", 251: "f32x4.convert_i32x4_u",
        252: "i32x4.trunc_sat_f64x2_s_zero", 253: "i32x4.trunc_sat_f64x2_u_zero",
        254: "f64x2.convert_low_i32x4_s", 255: "f64x2.convert_low_i32x4_u",
        0x100: "i8x16.relaxed_swizzle", 0x101: "i32x4.relaxed_trunc_f32x4_s",
        0x102: "i32x4.relaxed_trunc_f32x4_u", 0x103: "i32x4.relaxed_trunc_f64x2_s_zero",
        0x104: "i32x4.relaxed_trunc_f64x2_u_zero", 0x105: "f32x4.relaxed_madd",
        0x106: "f32x4.relaxed_nmadd", 0x107: "f64x2.relaxed_madd", 0x108: "f64x2.relaxed_nmadd",
        0x109: "i8x16.relaxed_laneselect", 0x10A: "i16x8.relaxed_laneselect",
        0x10B: "i32x4.relaxed_laneselect", 0x10C: "i64x2.relaxed_laneselect",
        0x10D: "f32x4.relaxed_min", 0x10E: "f32x4.relaxed_max", 0x10F: "f64x2.relaxed_min",
        0x110: "f64x2.relaxed_max", 0x111: "i16x8.relaxed_q15mulr_s",
        0x112: "i16x8.relaxed_dot_i8x16_i7x16_s", 0x113: "i32x4.relaxed_dot_i8x16_i7x16_add_s",
    }
    cmp = {35: "i8x16", 45: "i16x8", 55: "i32x4"}
    for first, shape in cmp.items():
        for i, s in enumerate("eq ne lt_s lt_u gt_s gt_u le_s le_u ge_s ge_u".split()):
            simd[first + i] = f"{shape}.{s}"
    for first, shape in {65: "f32x4", 71: "f64x2"}.items():
        for i, s in enumerate("eq ne lt gt le ge".split()):
            simd[first + i] = f"{shape}.{s}"
    for sub, s in simd.items():
        n[0xFD0000 | sub] = s

    # 0xFE: threads
    atomics = {0x00: "memory.atomic.notify", 0x01: "memory.atomic.wait32", 0x02: "memory.atomic.wait64",
               0x03: "atomic.fence"}
    plain = ("i32.atomic.load i64.atomic.load i32.atomic.load8_u i32.atomic.load16_u i64.atomic.load8_u "
             "i64.atomic.load16_u i64.atomic.load32_u i32.atomic.store i64.atomic.store "
             "i32.atomic.store8 i32.atomic.store16 i64.atomic.store8 i64.atomic.store16 "
             "i64.atomic.store32")
    for i, s in enumerate(plain.split()):
        atomics[0x10 + i] = s
    sub = 0x1E
    for rmw in ("add", "sub", "and", "or", "xor", "xchg", "cmpxchg"):
        for s in (f"i32.atomic.rmw.{rmw}", f"i64.atomic.rmw.{rmw}", f"i32.atomic.rmw8.{rmw}_u",
                  f"i32.atomic.rmw16.{rmw}_u", f"i64.atomic.rmw8.{rmw}_u", f"i64.atomic.rmw16.{rmw}_u",
                  f"i64.atomic.rmw32.{rmw}_u"):
            atomics[sub] = s
            sub += 1
    for sub, s in atomics.items():
        n[0xFE0000 | sub] = s
    return n


OPCODE_NAMES: dict[int, str] = _names()


def op_name(op: int) -> str:
    """The text-format mnemonic of ``op`` (``"<0xfd 0x1a2>"`` style for unknown ones)."""
    s = OPCODE_NAMES.get(op)
    if s is not None:
        return s
    if op > 0xFF:
        return f"<0x{op >> 16:02x} 0x{op & 0xFFFF:x}>"
    return f"<0x{op:02x}>"


# immediate kinds
_UNKNOWN = -1
_NONE = 0
_U32 = 1          # one u32 index
_MEMARG = 2
_I32 = 3
_BLOCK = 4
_I64 = 5
_F32 = 6
_F64 = 7
_BR_TABLE = 8
_U32X2 = 9        # two u32 indices
_PREFIX = 10
_SELECT_T = 11
_HEAPTYPE = 12
_TRY_TABLE = 13
_MEMARG_LANE = 14
_LANE = 15
_BYTES16 = 16
_BYTE = 17        # one reserved byte (atomic.fence)
_BR_ON_CAST = 18
_RESUME = 19      # resume, resume_throw_ref: typeidx, then the handlers
_RESUME_THROW = 20  # resume_throw: typeidx, tagidx, then the handlers

_KIND: list[int] = [_UNKNOWN] * 256
for _op in OPCODE_NAMES:
    if _op <= 0xFF:
        _KIND[_op] = _NONE
for _op in (0x0C, 0x0D, 0x10, 0x12, 0x14, 0x15, 0x08, 0x09, 0x07, 0x18, 0x20, 0x21, 0x22, 0x23, 0x24,
            0x25, 0x26, 0x3F, 0x40, 0xD2, 0xD5, 0xD6, 0xE0, 0xE2):
    _KIND[_op] = _U32
for _op in range(0x28, 0x3F):
    _KIND[_op] = _MEMARG
for _op in (0x02, 0x03, 0x04, 0x06):
    _KIND[_op] = _BLOCK
_KIND[0x41] = _I32
_KIND[0x42] = _I64
_KIND[0x43] = _F32
_KIND[0x44] = _F64
_KIND[0x0E] = _BR_TABLE
_KIND[0x11] = _U32X2
_KIND[0x13] = _U32X2
_KIND[0xE1] = _U32X2  # cont.bind
_KIND[0xE6] = _U32X2  # switch
_KIND[0xE3] = _RESUME
_KIND[0xE5] = _RESUME  # resume_throw_ref: the same immediates as resume
_KIND[0xE4] = _RESUME_THROW
_KIND[0x1C] = _SELECT_T
_KIND[0x1F] = _TRY_TABLE
_KIND[0xD0] = _HEAPTYPE
for _op in (0xFB, 0xFC, 0xFD, 0xFE):
    _KIND[_op] = _PREFIX

_SUBKIND: dict[int, int] = {op: _NONE for op in OPCODE_NAMES if op > 0xFF}
for _sub in (0, 1, 6, 7, 11, 12, 13, 14, 16, 32, 33, 34):  # struct.new… array.get… array.fill: typeidx
    _SUBKIND[0xFB0000 | _sub] = _U32
for _sub in (2, 3, 4, 5, 8, 9, 10, 17, 18, 19):         # two indices
    _SUBKIND[0xFB0000 | _sub] = _U32X2
for _sub in (20, 21, 22, 23, 35, 36):
    _SUBKIND[0xFB0000 | _sub] = _HEAPTYPE
for _sub in (24, 25, 37, 38):
    _SUBKIND[0xFB0000 | _sub] = _BR_ON_CAST
for _sub in (9, 11, 13, 15, 16, 17):                    # data.drop memory.fill elem.drop table.grow/size/fill
    _SUBKIND[0xFC0000 | _sub] = _U32
for _sub in (8, 10, 12, 14):                            # memory.init/copy table.init/copy
    _SUBKIND[0xFC0000 | _sub] = _U32X2
for _sub in (*range(0, 12), 92, 93):
    _SUBKIND[0xFD0000 | _sub] = _MEMARG
for _sub in range(84, 92):
    _SUBKIND[0xFD0000 | _sub] = _MEMARG_LANE
for _sub in range(21, 35):
    _SUBKIND[0xFD0000 | _sub] = _LANE
_SUBKIND[0xFD0000 | 12] = _BYTES16
_SUBKIND[0xFD0000 | 13] = _BYTES16
for _op in OPCODE_NAMES:
    if _op >> 16 == 0xFE:
        _SUBKIND[_op] = _MEMARG
_SUBKIND[0xFE0003] = _BYTE
del _op, _sub


# --------------------------------------------------------------------------------------------
# Slow paths (multi-byte LEB128, types); the hot loop inlines the one-byte cases
# --------------------------------------------------------------------------------------------

def _heaptype(d, p: int, n: int):
    start = p
    if p < n and d[p] == EXACT_PREFIX:  # custom descriptors: 0x62 then a u32 type index
        v, p = decode_uleb(d, p + 1, n)
        return f"(exact {v})", p
    v, p = decode_sleb(d, p, n, 33)
    if v >= 0:
        return v, p
    name = HEAPTYPE_NAMES.get(v & 0x7F) if p - start == 1 else None  # an abstract heap type is one byte
    if name is None:
        raise ParseError(f"unknown heap type {v & 0x7F:#04x}", start)
    return name, p


def _valtype(d, p: int, n: int):
    if p >= n:
        raise ParseError("unexpected end of data in a value type", p)
    b = d[p]
    name = VALTYPE_NAMES.get(b)
    if name is not None:
        return name, p + 1
    if b == 0x63 or b == 0x64:
        ht, p = _heaptype(d, p + 1, n)
        return (f"(ref null {ht})" if b == 0x63 else f"(ref {ht})"), p
    raise ParseError(f"unknown value type {b:#04x}", p)


def _blocktype(d, p: int, n: int):
    if p >= n:
        raise ParseError("unexpected end of data in a block type", p)
    b = d[p]
    if b == 0x40:
        return None, p + 1
    if b in VALTYPE_NAMES or b == 0x63 or b == 0x64:
        return _valtype(d, p, n)
    v, q = decode_sleb(d, p, n, 33)
    if v < 0:
        raise ParseError(f"unknown block type {b:#04x}", p)
    return v, q


def _memarg(d, p: int, n: int):
    start = p
    flags, p = decode_uleb(d, p, n)
    if flags >= 0x80:  # bit 6 says a memory index follows; nothing above it is defined
        raise ParseError(f"malformed memop flags {flags:#x}", start)
    memidx = 0
    if flags & 0x40:
        memidx, p = decode_uleb(d, p, n)
        flags &= ~0x40
    offset, p = decode_uleb(d, p, n, 64)
    return (flags, offset, memidx), p


def _imm(kind: int, d, p: int, n: int, op: int):
    """Immediates of the less common kinds; returns ``(imm, new_pos)``."""
    if kind == _U32:
        return decode_uleb(d, p, n)
    if kind == _MEMARG:
        return _memarg(d, p, n)
    if kind == _U32X2:
        a, p = decode_uleb(d, p, n)
        b, p = decode_uleb(d, p, n)
        return (a, b), p
    if kind == _BLOCK:
        return _blocktype(d, p, n)
    if kind == _BR_TABLE:
        start = p
        count, p = decode_uleb(d, p, n)
        if count > n - p:
            raise ParseError(f"br_table: {count} labels cannot fit in the {n - p} bytes left", start)
        labels = []
        append = labels.append
        for _ in range(count):
            b = d[p]
            if b < 0x80:
                p += 1
                append(b)
            else:
                v, p = decode_uleb(d, p, n)
                append(v)
        default, p = decode_uleb(d, p, n)
        return (tuple(labels), default), p
    if kind == _I64:
        return decode_sleb(d, p, n, 64)
    if kind == _I32:
        return decode_sleb(d, p, n, 32)
    if kind == _F32:
        if p + 4 > n:
            raise ParseError("f32.const runs past the end", p)
        return _UNPACK_F32(d, p)[0], p + 4
    if kind == _F64:
        if p + 8 > n:
            raise ParseError("f64.const runs past the end", p)
        return _UNPACK_F64(d, p)[0], p + 8
    if kind == _HEAPTYPE:
        return _heaptype(d, p, n)
    if kind == _SELECT_T:
        start = p
        count, p = decode_uleb(d, p, n)
        if count > n - p:
            raise ParseError(f"select: {count} types cannot fit in the {n - p} bytes left", start)
        types = []
        for _ in range(count):
            t, p = _valtype(d, p, n)
            types.append(t)
        return tuple(types), p
    if kind == _TRY_TABLE:
        bt, p = _blocktype(d, p, n)
        start = p
        count, p = decode_uleb(d, p, n)
        if count > n - p:
            raise ParseError(f"try_table: {count} catch clauses cannot fit in the {n - p} bytes left", start)
        catches = []
        for _ in range(count):
            if p >= n:
                raise ParseError("unexpected end of data in a try_table catch clause", p)
            ck = d[p]
            if ck > 3:
                raise ParseError(f"unknown try_table catch kind {ck:#04x}", p)
            p += 1
            tag = None
            if ck < 2:
                tag, p = decode_uleb(d, p, n)
            label, p = decode_uleb(d, p, n)
            catches.append((ck, tag, label))
        return (bt, tuple(catches)), p
    if kind == _MEMARG_LANE:
        (a, o, m), p = _memarg(d, p, n)
        if p >= n:
            raise ParseError("unexpected end of data: missing lane index", p)
        return (a, o, m, d[p]), p + 1
    if kind == _LANE or kind == _BYTE:
        if p >= n:
            raise ParseError("unexpected end of data: missing immediate byte", p)
        return (d[p] if kind == _LANE else None), p + 1
    if kind == _BYTES16:
        if p + 16 > n:
            raise ParseError(f"{op_name(op)}: 16 immediate bytes run past the end", p)
        return bytes(d[p:p + 16]), p + 16
    if kind == _BR_ON_CAST:
        if p >= n:
            raise ParseError("unexpected end of data in br_on_cast", p)
        flags = d[p]
        label, p = decode_uleb(d, p + 1, n)
        ht1, p = _heaptype(d, p, n)
        ht2, p = _heaptype(d, p, n)
        return (flags, label, ht1, ht2), p
    if kind == _RESUME or kind == _RESUME_THROW:
        ct, p = decode_uleb(d, p, n)
        tag = None
        if kind == _RESUME_THROW:
            tag, p = decode_uleb(d, p, n)
        start = p
        count, p = decode_uleb(d, p, n)
        if count > n - p:
            raise ParseError(f"{op_name(op)}: {count} handlers cannot fit in the {n - p} bytes left", start)
        handlers = []
        for _ in range(count):
            if p >= n:
                raise ParseError(f"unexpected end of data in a {op_name(op)} handler", p)
            hk = d[p]
            if hk > 1:
                raise ParseError(f"unknown {op_name(op)} handler kind {hk:#04x}", p)
            htag, p = decode_uleb(d, p + 1, n)
            label = None
            if hk == 0:  # (on $tag $label); 1 is (on $tag switch)
                label, p = decode_uleb(d, p, n)
            handlers.append((hk, htag, label))
        return ((ct, tuple(handlers)) if kind == _RESUME else (ct, tag, tuple(handlers))), p
    if kind == _NONE:
        return None, p
    raise AssertionError(f"immediate kind {kind}")  # pragma: no cover


def _prefixed(prefix: int, d, p: int, n: int, start: int):
    """Decode the sub-opcode and immediates after a prefix byte; returns ``(op, imm, new_pos)``."""
    b = d[p] if p < n else 0x80
    if b < 0x80:
        sub = b
        p += 1
    else:
        sub, p = decode_uleb(d, p, n)
    op = (prefix << 16) | sub
    kind = _SUBKIND.get(op)
    if kind is None:
        raise ParseError(f"unknown opcode 0x{prefix:02x} 0x{sub:02x}", start)
    if kind == _NONE:
        return op, None, p
    try:
        imm, p = _imm(kind, d, p, n, op)
    except ParseError as exc:
        raise _truncated(exc, op, start, n) from None
    return op, imm, p


# --------------------------------------------------------------------------------------------
# Public API
# --------------------------------------------------------------------------------------------

def decode_locals(data, start: int, end: int) -> tuple[list[tuple[int, str]], int]:
    """Parse a body's local declarations: ``([(count, valtype), …], offset of the first instruction)``.

    Groups are returned as declared, never expanded (a body may declare billions of locals in a few
    bytes). A total above ``MAX_LOCALS`` is a ``ParseError``.
    """
    if end > len(data):
        raise ParseError(f"body ends at {end:#x}, past the end of the file ({len(data):#x} bytes)", start)
    d = data
    p = start
    ngroups, p = decode_uleb(d, p, end)
    if ngroups * 2 > end - p:
        raise ParseError(f"{ngroups} local declarations cannot fit in the {end - p} bytes of the body", start)
    groups: list[tuple[int, str]] = []
    total = 0
    for _ in range(ngroups):
        gp = p
        count, p = decode_uleb(d, p, end)
        t, p = _valtype(d, p, end)
        total += count
        if total > MAX_LOCALS:
            raise ParseError(f"too many locals: {total} in total (at most {MAX_LOCALS})", gp)
        groups.append((count, t))
    return groups, p


def iter_instructions(data, start: int, end: int) -> Iterator[Instr]:
    """Lazily decode the instructions in ``data[start:end]`` as ``Instr`` objects.

    ``data`` is indexed in place (bytes, bytearray, memoryview or mmap); nothing is copied. An
    unknown opcode, a malformed immediate or an instruction that runs past ``end`` raises
    ``ParseError`` (when the iterator reaches it) with the offending absolute offset.
    """
    return _decode(data, start, end, False)


def iter_instruction_tuples(data, start: int, end: int) -> Iterator[tuple[int, int, object]]:
    """Like ``iter_instructions`` but yields plain ``(offset, op, imm)`` tuples: about twice as fast
    for whole-module scans. ``Instr`` unpacks the same way (``offset, op, imm = instr``)."""
    return _decode(data, start, end, True)


def _decode(data, start: int, end: int, raw: bool):
    d = data
    n = end
    if n > len(d):
        raise ParseError(f"instructions end at {n:#x}, past the end of the file ({len(d):#x} bytes)", start)
    kinds = _KIND
    slow = _imm
    prefixed = _prefixed
    make = Instr
    p = start
    s = start
    op = -1
    try:
        while p < n:
            s = p
            op = d[p]
            p += 1
            k = kinds[op]
            if k == 1:  # _U32
                b = d[p]
                if b < 0x80:
                    p += 1
                    imm = b
                else:
                    imm, p = decode_uleb(d, p, n)
            elif k == 0:  # _NONE
                imm = None
            elif k == 2:  # _MEMARG
                a = d[p]
                b = d[p + 1]
                if a < 0x40 and b < 0x80:
                    p += 2
                    imm = (a, b, 0)
                else:
                    imm, p = _memarg(d, p, n)
            elif k == 3:  # _I32
                b = d[p]
                if b < 0x80:
                    p += 1
                    imm = b - 0x80 if b & 0x40 else b
                else:
                    imm, p = decode_sleb(d, p, n, 32)
            elif k == 4:  # _BLOCK
                if d[p] == 0x40:
                    p += 1
                    imm = None
                else:
                    imm, p = _blocktype(d, p, n)
            elif k == 10:  # _PREFIX
                op, imm, p = prefixed(op, d, p, n, s)
            elif k == -1:
                raise ParseError(f"unknown opcode 0x{op:02x}", s)
            else:
                imm, p = slow(k, d, p, n, op)
            if p > n:
                raise ParseError(f"{op_name(op)} at {s:#x} runs past the end of the code ({n:#x})", s)
            if raw:
                yield (s, op, imm)
            else:
                yield make(s, op, imm)
    except IndexError:
        # a one-byte fast path read past the end of the whole buffer
        raise ParseError(f"{op_name(op) if op >= 0 else 'instruction'} at {s:#x} runs past the end "
                         f"of the code ({n:#x})", s) from None
    except ParseError as exc:
        raise _truncated(exc, op, s, n) from None


def function_prefix(data, body_start: int, body_end: int, max_instrs: int) -> list[Instr]:
    """The first ``max_instrs`` instructions of a function body (local declarations skipped)."""
    _, p = decode_locals(data, body_start, body_end)
    return list(islice(iter_instructions(data, p, body_end), max_instrs))


CALL_OPS = frozenset((0x10, 0x11, 0x12, 0x13, 0x14, 0x15))


def find_calls(data, start: int, end: int) -> list[tuple[int, int, object]]:
    """The ``(offset, op, imm)`` of every call instruction (``call``, ``call_indirect``, ``return_call*``,
    ``call_ref``, ``return_call_ref``) in ``data[start:end]``, in order.

    The whole range is decoded and checked exactly as ``iter_instruction_tuples`` does (the same
    ``ParseError`` at the same offset), but in one loop with no per-instruction objects: for whole-module
    scans that only need the call graph, this is about twice as fast."""
    d = data
    n = end
    if n > len(d):
        raise ParseError(f"instructions end at {n:#x}, past the end of the file ({len(d):#x} bytes)", start)
    kinds = _KIND
    slow = _imm
    prefixed = _prefixed
    out: list[tuple[int, int, object]] = []
    append = out.append
    p = start
    s = start
    op = -1
    try:
        while p < n:
            s = p
            op = d[p]
            p += 1
            k = kinds[op]
            if k == 1:  # _U32
                b = d[p]
                if b < 0x80:
                    p += 1
                    imm = b
                else:
                    imm, p = decode_uleb(d, p, n)
                if 0x10 <= op <= 0x15:
                    if p > n:
                        raise ParseError(f"{op_name(op)} at {s:#x} runs past the end of the code ({n:#x})", s)
                    append((s, op, imm))
                    continue
            elif k == 0:  # _NONE
                continue
            elif k == 2:  # _MEMARG
                a = d[p]
                b = d[p + 1]
                if a < 0x40 and b < 0x80:
                    p += 2
                else:
                    imm, p = _memarg(d, p, n)
            elif k == 3:  # _I32
                if d[p] < 0x80:
                    p += 1
                else:
                    imm, p = decode_sleb(d, p, n, 32)
            elif k == 4:  # _BLOCK
                if d[p] == 0x40:
                    p += 1
                else:
                    imm, p = _blocktype(d, p, n)
            elif k == 10:  # _PREFIX
                op, imm, p = prefixed(op, d, p, n, s)
            elif k == -1:
                raise ParseError(f"unknown opcode 0x{op:02x}", s)
            else:
                imm, p = slow(k, d, p, n, op)
                if op == 0x11 or op == 0x13:
                    if p > n:
                        raise ParseError(f"{op_name(op)} at {s:#x} runs past the end of the code ({n:#x})", s)
                    append((s, op, imm))
                    continue
            if p > n:
                raise ParseError(f"{op_name(op)} at {s:#x} runs past the end of the code ({n:#x})", s)
    except IndexError:
        raise ParseError(f"{op_name(op) if op >= 0 else 'instruction'} at {s:#x} runs past the end "
                         f"of the code ({n:#x})", s) from None
    except ParseError as exc:
        raise _truncated(exc, op, s, n) from None
    return out


def _truncated(exc: ParseError, op: int, s: int, n: int) -> ParseError:
    """``exc`` naming the instruction whose immediates ran out of code (a reader's "unexpected end of
    data" says only where); any other error as it is."""
    if op < 0 or not exc.message.startswith("unexpected end"):
        return exc
    return ParseError(f"{op_name(op)} at {s:#x} runs past the end of the code ({n:#x})", exc.offset)
