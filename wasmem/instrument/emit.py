"""The instruction bytes the passes emit most: the variable instructions with their index, and ``i32.const``."""

from __future__ import annotations

from ..parser.encode import sleb, uleb


def local_get(index: int) -> bytes:
    return b"\x20" + uleb(index)


def local_set(index: int) -> bytes:
    return b"\x21" + uleb(index)


def local_tee(index: int) -> bytes:
    return b"\x22" + uleb(index)


def global_get(index: int) -> bytes:
    return b"\x23" + uleb(index)


def global_set(index: int) -> bytes:
    return b"\x24" + uleb(index)


def i32_const(v: int) -> bytes:
    """``i32.const v`` for a signed or an unsigned 32-bit ``v``."""
    return b"\x41" + sleb(v - 2**32 if v >= 2**31 else v)
