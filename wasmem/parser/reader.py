"""A cursor over a bytes-like buffer: LEB128, floats, names, with absolute offsets in every error."""

from __future__ import annotations

import mmap
import struct

from ..errors import ParseError

_F32 = struct.Struct("<f")
_F64 = struct.Struct("<d")


# LEB128 readers over ``d[p:n]`` as plain functions for hot loops: ``(value, new_pos)``. Reader.uleb and
# Reader.sleb use them too, so every LEB128 in the parser has the same checks and messages.
def decode_uleb(d, p: int, n: int, bits: int = 32) -> tuple[int, int]:
    start = p
    result = shift = 0
    last = (bits + 6) // 7 - 1
    for i in range(last + 1):
        if p >= n:
            raise ParseError("unexpected end of data inside LEB128", p)
        b = d[p]
        p += 1
        result |= (b & 0x7F) << shift
        shift += 7
        if b < 0x80:
            if i == last and b >> (bits - 7 * i):
                raise ParseError(f"LEB128 value too large for u{bits}", start)
            return result, p
    raise ParseError(f"LEB128 too long for u{bits}", start)


def decode_sleb(d, p: int, n: int, bits: int) -> tuple[int, int]:
    start = p
    result = shift = 0
    last = (bits + 6) // 7 - 1
    for i in range(last + 1):
        if p >= n:
            raise ParseError("unexpected end of data inside LEB128", p)
        b = d[p]
        p += 1
        result |= (b & 0x7F) << shift
        shift += 7
        if b < 0x80:
            if i == last:
                used = bits - 7 * i
                rest = b >> (used - 1)
                if rest != 0 and rest != (0x7F >> (used - 1)):
                    raise ParseError(f"LEB128 value too large for s{bits}", start)
            if b & 0x40:
                result -= 1 << shift
            return result, p
    raise ParseError(f"LEB128 too long for s{bits}", start)


class Reader:
    """Reads ``data[pos:end]``. Positions are absolute offsets into ``data`` (the whole file)."""

    __slots__ = ("data", "pos", "end")

    def __init__(self, data, pos: int = 0, end: int | None = None):
        self.data = data if isinstance(data, memoryview) else memoryview(data)
        self.pos = pos
        self.end = len(self.data) if end is None else end
        if self.end > len(self.data):
            raise ParseError(f"range ends at {self.end:#x}, past the end of the file ({len(self.data):#x} bytes)", pos)

    # -- basic -------------------------------------------------------------------------------
    def at_end(self) -> bool:
        return self.pos >= self.end

    def remaining(self) -> int:
        return self.end - self.pos

    def sub(self, size: int, what: str = "sub-range") -> Reader:
        """A reader over the next ``size`` bytes; advances past them."""
        start = self.pos
        if size > self.end - start:
            raise ParseError(f"{what} of {size} bytes runs past the end ({self.end - start} bytes left)", start)
        self.pos = start + size
        return Reader(self.data, start, start + size)

    def u8(self) -> int:
        p = self.pos
        if p >= self.end:
            raise ParseError("unexpected end of data", p)
        self.pos = p + 1
        return self.data[p]

    def peek(self) -> int:
        if self.pos >= self.end:
            raise ParseError("unexpected end of data", self.pos)
        return self.data[self.pos]

    def bytes(self, n: int) -> memoryview:
        p = self.pos
        if n < 0 or n > self.end - p:
            raise ParseError(f"expected {n} bytes but only {self.end - p} remain", p)
        self.pos = p + n
        return self.data[p:p + n]

    def skip(self, n: int) -> None:
        if n < 0 or n > self.end - self.pos:
            raise ParseError(f"expected {n} bytes but only {self.end - self.pos} remain", self.pos)
        self.pos += n

    # -- LEB128 ------------------------------------------------------------------------------
    def uleb(self, bits: int = 32) -> int:
        value, self.pos = decode_uleb(self.data, self.pos, self.end, bits)
        return value

    def u32(self) -> int:
        # fast path for the common one-byte case
        p = self.pos
        if p < self.end:
            b = self.data[p]
            if b < 0x80:
                self.pos = p + 1
                return b
        return self.uleb(32)

    def u64(self) -> int:
        return self.uleb(64)

    def sleb(self, bits: int) -> int:
        value, self.pos = decode_sleb(self.data, self.pos, self.end, bits)
        return value

    def s32(self) -> int:
        return self.sleb(32)

    def s33(self) -> int:
        return self.sleb(33)

    def s64(self) -> int:
        return self.sleb(64)

    # -- floats and names --------------------------------------------------------------------
    def f32(self) -> float:
        return _F32.unpack(self.bytes(4))[0]

    def f64(self) -> float:
        return _F64.unpack(self.bytes(8))[0]

    def name(self) -> str:
        n = self.u32()
        start = self.pos
        raw = self.bytes(n)
        try:
            return str(raw, "utf-8")
        except UnicodeDecodeError as exc:
            raise ParseError(f"name is not valid UTF-8: {exc.reason}", start + exc.start) from None

    def count(self, what: str, min_entry_size: int = 1) -> int:
        """A vector length. It is never used to pre-allocate; implausible counts fail early."""
        start = self.pos
        n = self.u32()
        if n * min_entry_size > self.end - self.pos:
            raise ParseError(
                f"{what}: vector count {n} is larger than the {self.end - self.pos} bytes that remain", start)
        return n

    def expect_end(self, what: str) -> None:
        if self.pos != self.end:
            raise ParseError(f"{what}: {self.end - self.pos} unexpected bytes after the last entry", self.pos)


DROP_BYTES = 8 << 20  # bytes scanned between giving their pages back (drop_pages)


def entry_error(exc: ParseError, what: str, n: int, i: int) -> ParseError:
    """The error to raise for ``exc`` in entry ``i`` of the ``n`` a section (``what``) declares: running out of
    bytes there is the section ending inside that entry; any other error stands as it is."""
    if exc.message.startswith("unexpected end"):
        return ParseError(f"{what} declares {n} entries but ends inside entry {i}", exc.offset)
    return exc


def drop_pages(data, start: int, end: int) -> None:
    """Gives back the pages of ``[start, end)`` of a memory-mapped buffer (``MADV_DONTNEED``: clean file
    pages, read again from the page cache if touched again), so that scanning 40 MB of code, or the segment
    headers of a 256 MiB coredump, does not keep it all resident. Nothing for a buffer held in memory."""
    mm = getattr(data, "obj", None)
    drop = getattr(mmap, "MADV_DONTNEED", None)
    if drop is None or not isinstance(mm, mmap.mmap) or end <= start:
        return
    page = mmap.PAGESIZE
    lo = start // page * page
    hi = min(-(-end // page) * page, len(mm))
    if hi > lo:
        try:
            mm.madvise(drop, lo, hi - lo)
        except (OSError, ValueError):  # pragma: no cover - a closed map or an odd platform: keep the pages
            pass
