"""What each memory instruction accesses, by opcode (``parser.code`` numbering): shared by the passes that
check accesses of linear memory (``watch.py``, ``memcheck.py``).

Every instruction with a *memarg* (``(align, offset, memidx[, lane])``) touches ``size`` bytes at its
effective address; :data:`WRITE_OPS` and :data:`READ_OPS` map it to ``(kind, value type, size)`` (the value
type of the operand it stores; ``""`` for a load). The operands above the address on the stack, which a
pass saves in scratch locals to reach the address, are :func:`operands` of the kind and value type.
:data:`SYNC_OPS` are the atomic ``notify``/``wait`` instructions (they neither read nor write the bytes the
program sees, but they need an address that is in bounds and aligned). The bulk instructions
(``memory.fill``/``copy``/``init``) have no memarg: their ranges are run-time operands.
"""

from __future__ import annotations

# kinds
STORE, RMW, CMPXCHG, V128, LANE, FILL, COPY, INIT, READ, READ_LANE, NOTIFY, WAIT = (
    "store", "rmw", "cmpxchg", "v128", "lane", "fill", "copy", "init", "read", "read_lane", "notify", "wait")

MEMORY_INIT, MEMORY_COPY, MEMORY_FILL = 0xFC0008, 0xFC000A, 0xFC000B
MEMORY_GROW = 0x40

_W7 = (("i32", 4), ("i64", 8), ("i32", 1), ("i32", 2), ("i64", 1), ("i64", 2), ("i64", 4))


def _tables():
    writes: dict[int, tuple[str, str, int]] = {}  # op → (kind, value type, size)
    for op, (t, n) in zip(range(0x36, 0x3F), (("i32", 4), ("i64", 8), ("f32", 4), ("f64", 8), ("i32", 1),
                                               ("i32", 2), ("i64", 1), ("i64", 2), ("i64", 4)), strict=True):
        writes[op] = (STORE, t, n)
    for k, (t, n) in enumerate(_W7):
        writes[0xFE0017 + k] = (STORE, t, n)  # i32.atomic.store … i64.atomic.store32
    for group in range(6):  # add sub and or xor xchg
        for k, (t, n) in enumerate(_W7):
            writes[0xFE001E + 7 * group + k] = (RMW, t, n)
    for k, (t, n) in enumerate(_W7):
        writes[0xFE0048 + k] = (CMPXCHG, t, n)
    writes[0xFD000B] = (V128, "v128", 16)
    for k, n in enumerate((1, 2, 4, 8)):
        writes[0xFD0058 + k] = (LANE, "v128", n)  # v128.store8_lane … store64_lane
    reads: dict[int, tuple[str, str, int]] = {}
    for op, n in zip(range(0x28, 0x36), (4, 8, 4, 8, 1, 1, 2, 2, 1, 1, 2, 2, 4, 4), strict=True):
        reads[op] = (READ, "", n)
    reads[0xFD0000] = (READ, "", 16)  # v128.load
    for k in range(6):
        reads[0xFD0001 + k] = (READ, "", 8)  # v128.load8x8_s … load32x2_u
    for k, n in enumerate((1, 2, 4, 8)):
        reads[0xFD0007 + k] = (READ, "", n)  # v128.load8_splat … load64_splat
        reads[0xFD0054 + k] = (READ_LANE, "v128", n)  # v128.load8_lane … load64_lane
    reads[0xFD005C] = (READ, "", 4)  # v128.load32_zero
    reads[0xFD005D] = (READ, "", 8)  # v128.load64_zero
    for k, n in enumerate((4, 8, 1, 2, 1, 2, 4)):
        reads[0xFE0010 + k] = (READ, "", n)  # i32.atomic.load … i64.atomic.load32_u
    sync = {0xFE0000: (NOTIFY, "i32", 4),  # memory.atomic.notify (address, count)
            0xFE0001: (WAIT, "i32", 4),  # memory.atomic.wait32 (address, expected i32, timeout i64)
            0xFE0002: (WAIT, "i64", 8)}  # memory.atomic.wait64 (address, expected i64, timeout i64)
    return writes, reads, sync


WRITE_OPS, READ_OPS, SYNC_OPS = _tables()
ATOMIC_OPS = frozenset(op for op in (*WRITE_OPS, *READ_OPS, *SYNC_OPS) if op >> 16 == 0xFE)


def operands(kind: str, valtype: str) -> tuple[str, ...]:
    """The types of the operands above the address on the stack, bottom first."""
    return {STORE: (valtype,), RMW: (valtype,), CMPXCHG: (valtype, valtype), V128: ("v128",), LANE: ("v128",),
            READ: (), READ_LANE: ("v128",), NOTIFY: ("i32",), WAIT: (valtype, "i64")}[kind]
