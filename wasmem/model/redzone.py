"""Red zones: how far below the stack pointer a function that never writes it may touch memory.

A leaf function (clang's, at any optimisation level) may use up to 128 bytes below the stack pointer
without moving it: it reads ``__stack_pointer``, subtracts its frame size and stores into the result,
but never executes ``global.set SP``. Counting only the stack pointer's writes (the instrumented
measurement of ``call``/``stack --call``) therefore sees 0 bytes for such a call although the leaf wrote
below SP. This module finds, for every function that reads the stack pointer and never writes it, the
lowest address it may touch relative to its entry SP:

- the largest constant it subtracts from SP (its reserved frame, as ``clang -fstack-usage`` reports it),
- every load and store whose address is SP plus a constant: the effective offset (the constant plus the
  instruction's ``offset=``) counts when it is negative.

The extent is the deepest of those. A function that lowers SP by a run-time amount without writing it
back, or lets an SP-derived value escape (stored to memory, compared, passed on) without reserving a
frame, has no known extent: it is listed in ``unknown``, and a figure that depends on it is a lower
bound ("at least").

The runtime's stack probe uses the extents to instrument each leaf's entry (``instrument/stack.py``): the
measured peak then includes ``SP - extent`` at the moment the leaf ran.

Pure stdlib; each body that reads the stack pointer is decoded once, and only up to its first
``global.set SP`` (a function that writes SP is not a leaf: its frame is counted by that write).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from ..errors import ParseError
from ..parser.code import decode_locals, iter_instruction_tuples
from ..parser.module import WasmModule
from .stackframes import STACK_EFFECT

__all__ = ["RedZones", "leaf_extent", "red_zones"]

_LOADS = range(0x28, 0x36)
_STORES = range(0x36, 0x3F)
_SUB = (0x6B, 0x7D)
_ADD = (0x6A, 0x7C)
_AND = (0x71, 0x83)
_CONST = (0x41, 0x42)
_BARRIER = (0x00, 0x0C, 0x0E, 0x0F)
_DYN = ("dyn",)
NOT_LEAF = object()  # leaf_extent's answer for a body that writes the stack pointer


@dataclass(frozen=True)
class RedZones:
    """``extents``: function index → bytes below its entry SP it may touch (> 0 only); ``unknown``: the
    functions that never write SP but whose extent is not known (a run-time amount)."""

    extents: dict[int, int]
    unknown: tuple[int, ...] = ()

    @property
    def largest(self) -> int:
        return max(self.extents.values(), default=0)

    def __len__(self) -> int:
        return len(self.extents)


def _is_sp(v) -> bool:
    return v is not None and (v[0] == "sp" or v is _DYN)


def leaf_extent(data, start: int, end: int, sp: int, mask: int = 0xFFFFFFFF):
    """The bytes below its entry SP that the body ``data[start:end]`` (after its local declarations) may
    touch: an int >= 0, None when not known (see the module docstring), or ``NOT_LEAF`` when the body
    writes the stack pointer."""
    stack: list = []
    local: dict[int, object] = {}
    lowest = 0  # the lowest offset from the entry SP seen (<= 0)
    dynamic = escaped = False
    push = stack.append
    effect = STACK_EFFECT

    def note(v, off: int = 0) -> None:
        nonlocal lowest, dynamic
        if v is _DYN:
            dynamic = True
        elif v is not None and v[0] == "sp" and v[1] + off < lowest:
            lowest = v[1] + off

    for _off, op, imm in iter_instruction_tuples(data, start, end):
        if op == 0x20:
            push(local.get(imm))
        elif op == 0x21 or op == 0x22:
            v = stack.pop() if stack else None
            local[imm] = v
            if op == 0x22:
                push(v)
        elif op in _CONST:
            push(("k", imm))
        elif op == 0x23:
            push(("sp", 0) if imm == sp else None)
        elif op == 0x24:
            if imm == sp:
                return NOT_LEAF
            if stack and _is_sp(stack.pop()):
                escaped = True
        elif op in _SUB or op in _ADD:
            b = stack.pop() if stack else None
            a = stack.pop() if stack else None
            if op in _ADD and b is not None and b[0] == "sp" and a is not None and a[0] == "k":
                a, b = b, a
            if a is not None and a[0] == "k" and b is not None and b[0] == "k":
                v = ((a[1] - b[1]) if op in _SUB else (a[1] + b[1])) & mask
                push(("k", v - (mask + 1) if v > mask >> 1 else v))
            elif a is not None and a[0] == "sp" and b is not None and b[0] == "k":
                v = ("sp", a[1] - b[1] if op in _SUB else a[1] + b[1])
                note(v)  # a frame reserved below SP counts whether or not each byte is written
                push(v)
            elif _is_sp(a) or _is_sp(b):
                if op in _SUB and _is_sp(a):
                    dynamic = True  # SP minus a run-time amount
                    push(_DYN)
                else:
                    escaped = True
                    push(None)
            else:
                push(None)
        elif op in _AND:
            b = stack.pop() if stack else None
            a = stack.pop() if stack else None
            if b is not None and b[0] == "sp":
                a, b = b, a
            if a is not None and a[0] == "sp" and b is not None and b[0] == "k" and b[1] < 0 and -b[1] & (-b[1] - 1) == 0:
                v = ("sp", a[1] - (-b[1] - 1))  # rounded down to the alignment: at most align - 1 lower
                note(v)
                push(v)
            else:
                if _is_sp(a) or _is_sp(b):
                    escaped = True
                push(None)
        elif op in _LOADS:
            a = stack.pop() if stack else None
            if imm[2] == 0:  # the stack lives in memory 0
                note(a, imm[1])
            push(None)
        elif op in _STORES:
            v = stack.pop() if stack else None
            a = stack.pop() if stack else None
            if _is_sp(v):
                escaped = True
            if imm[2] == 0:
                note(a, imm[1])
        elif op in _BARRIER:
            stack.clear()
        else:
            e = effect.get(op)
            if e is None:  # not modelled (calls, SIMD, atomics, …): whatever SP-derived value it consumes escapes
                if any(_is_sp(v) for v in stack):
                    escaped = True
                stack.clear()
                continue
            if e[0]:
                popped = stack[-e[0]:]
                del stack[-e[0]:]
                if op not in (0x1A, 0x04, 0x0D) and any(_is_sp(v) for v in popped):
                    escaped = True  # drop / if / br_if only test or discard it
            if e[1]:
                stack.extend((None,) * e[1])
    if dynamic or (escaped and lowest == 0):
        return None
    return -lowest


def red_zones(module: WasmModule, sp_global: int | None) -> RedZones:
    """Every own function that reads the stack pointer and never writes it, with its extent (see the
    module docstring). Bodies the decoder cannot read are skipped (the module failed validation first)."""
    if sp_global is None:
        return RedZones({})
    data = module.data
    firsts = b"".join(re.escape(bytes([f])) for f in sorted({sp_global & 0x7F, (sp_global & 0x7F) | 0x80}))
    reads = re.compile(b"\\x23[" + firsts + b"]").search
    mask = 0xFFFFFFFFFFFFFFFF if module.is_memory64 else 0xFFFFFFFF
    extents: dict[int, int] = {}
    unknown: list[int] = []
    for body in module.functions:
        try:
            _, p = decode_locals(data, body.start, body.end)
            if reads(data, p, body.end) is None:
                continue
            r = leaf_extent(data, p, body.end, sp_global, mask)
        except ParseError:
            continue
        if r is NOT_LEAF:
            continue
        if r is None:
            unknown.append(body.index)
        elif r > 0:
            extents[body.index] = r
    return RedZones(extents, tuple(unknown))
