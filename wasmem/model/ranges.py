"""Sets of byte addresses as sorted, disjoint ``[start, end)`` ranges (``ByteRanges``: "the bytes a call
changed"), and finding where two byte strings differ with C-level operations only (``find_changes``).

Neither keeps one Python object per byte: a range set's memory is proportional to its number of ranges, capped
at ``limit`` (the ranges past it are counted, not kept), and the diff works on chunks of ``CHUNK`` bytes: equal
chunks cost one ``memcmp``; in a chunk that differs, the XOR of the two (``int.from_bytes``) is searched by a
compiled regex for its first non-zero byte and by ``bytes.find`` for the zero gap that ends a run, so the
Python work is per run found, not per byte. Past the limit, runs are only counted, by ``re.subn`` over the
XOR (C again), so even a pathological call (every tenth byte changed in 256 MiB) stays bounded."""

from __future__ import annotations

import re
from bisect import bisect_left, bisect_right
from collections.abc import Iterable

MAX_RANGES = 10_000  # ranges a ByteRanges (and a call's list of changes) keeps; the rest are counted
CHUNK = 1 << 20  # bytes compared at a time: what a diff holds in temporary memory (a few times this)
BLOCK = 1 << 16  # inside a chunk that differs, pieces compared before XORing only those that differ
MERGE_GAP = 8  # changed runs separated by at most this many equal bytes are one range

_NONZERO = re.compile(rb"[^\x00]")


class ByteRanges:
    """A set of addresses as sorted disjoint ranges. ``add`` merges touching or overlapping ranges; past
    ``limit`` ranges, further ones are counted in ``omitted``/``omitted_bytes`` and not kept (ranges are
    mostly added in address order, so the ones kept are the lowest)."""

    __slots__ = ("_starts", "_ends", "limit", "omitted", "omitted_bytes")

    def __init__(self, ranges: Iterable[tuple[int, int]] = (), *, limit: int = MAX_RANGES):
        self._starts: list[int] = []
        self._ends: list[int] = []
        self.limit = limit
        self.omitted = 0
        self.omitted_bytes = 0
        for s, e in ranges:
            self.add(s, e)

    @classmethod
    def from_addresses(cls, addresses: Iterable[int], *, limit: int = MAX_RANGES) -> ByteRanges:
        """From single addresses (a user's set of offsets: already one object per address)."""
        if isinstance(addresses, ByteRanges):
            return addresses
        out = cls(limit=limit)
        for a in sorted(set(addresses)):
            out.add(a, a + 1)
        return out

    def add(self, start: int, end: int) -> None:
        if end <= start:
            return
        starts, ends = self._starts, self._ends
        if not starts or start > ends[-1]:  # the common case: in order, after the last range
            if len(starts) >= self.limit:
                self.omitted += 1
                self.omitted_bytes += end - start
                return
            starts.append(start)
            ends.append(end)
            return
        if start >= starts[-1]:  # touching or overlapping the last range
            ends[-1] = max(ends[-1], end)
            return
        # the general case: every range that touches [start, end) becomes one
        i = bisect_left(ends, start)  # the first range ending at or after start
        j = bisect_right(starts, end)  # past the last range starting at or before end
        if i == j:  # touches none: a new range at i
            if len(starts) >= self.limit:
                self.omitted += 1
                self.omitted_bytes += end - start
                return
            starts.insert(i, start)
            ends.insert(i, end)
            return
        new_s, new_e = min(start, starts[i]), max(end, ends[j - 1])
        starts[i:j] = [new_s]
        ends[i:j] = [new_e]

    def __contains__(self, addr) -> bool:
        i = bisect_right(self._starts, addr) - 1
        return i >= 0 and addr < self._ends[i]

    def __bool__(self) -> bool:
        return bool(self._starts) or bool(self.omitted)

    def __iter__(self):
        return iter(zip(self._starts, self._ends, strict=True))

    def __eq__(self, other) -> bool:
        if isinstance(other, ByteRanges):
            return (self._starts == other._starts and self._ends == other._ends
                    and self.omitted == other.omitted and self.omitted_bytes == other.omitted_bytes)
        return NotImplemented

    __hash__ = None

    def __repr__(self) -> str:
        shown = ", ".join(f"[{s:#x}, {e:#x})" for s, e in list(self)[:4])
        more = f", … {self.count - 4} more" if self.count > 4 else ""
        cut = f"; {self.omitted} ranges omitted" if self.omitted else ""
        return f"ByteRanges({shown}{more}{cut})"

    @property
    def count(self) -> int:
        """Ranges kept."""
        return len(self._starts)

    @property
    def total(self) -> int:
        """Bytes in the ranges kept and in those omitted."""
        return sum(e - s for s, e in self) + self.omitted_bytes

    @property
    def first(self) -> int | None:
        return self._starts[0] if self._starts else None

    def clip(self, lo: int, hi: int) -> ByteRanges:
        """The part inside ``[lo, hi)`` (what a window of memory shows)."""
        out = ByteRanges(limit=self.limit)
        i = max(0, bisect_right(self._starts, lo) - 1)
        starts, ends = self._starts, self._ends
        while i < len(starts) and starts[i] < hi:
            s, e = max(starts[i], lo), min(ends[i], hi)
            if s < e:
                out._starts.append(s)
                out._ends.append(e)
            i += 1
        return out

    def offsets(self, lo: int, hi: int) -> tuple[int, ...]:
        """The addresses in ``[lo, hi)`` as offsets from ``lo`` (a row of a dump: a few bytes)."""
        return tuple(a - lo for s, e in self.clip(lo, hi) for a in range(s, e))


def xor(a: bytes, b: bytes) -> bytes:
    """``a ^ b`` byte by byte (equal lengths), by Python's big integers: C speed."""
    n = len(a)
    return (int.from_bytes(a, "little") ^ int.from_bytes(b, "little")).to_bytes(n, "little")


def runs(d: bytes, gap: int = MERGE_GAP, base: int = 0):
    """``(start, end)`` of the runs of non-zero bytes of ``d``, runs at most ``gap`` zero bytes apart merged;
    ``end`` is past the run's last non-zero byte. Python work per run, not per byte."""
    sep = b"\x00" * (gap + 1)
    search = _NONZERO.search
    n = len(d)
    pos = 0
    while True:
        m = search(d, pos)
        if m is None:
            return
        s = m.start()
        e = d.find(sep, s)
        if e < 0:  # the run reaches the end, but for at most `gap` zero bytes
            tail = d[-(gap + 1):]
            yield base + s, base + n - (len(tail) - len(tail.rstrip(b"\x00")))
            return
        yield base + s, base + e
        pos = e + gap + 1


def diff_runs(a: bytes, b: bytes, gap: int = MERGE_GAP) -> list[tuple[int, int]]:
    """Where ``a`` and ``b`` (of equal length; a short one is compared up to the shorter) differ, as runs
    (see ``runs``)."""
    n = min(len(a), len(b))
    if a[:n] == b[:n]:
        return []
    return list(runs(xor(a[:n], b[:n]), gap))


class _Counter:
    """Counts the runs past the limit (and their bytes, gaps inside a run included) chunk by chunk with
    ``re.subn``, joining a run that crosses from one chunk into the next."""

    def __init__(self, gap: int):
        self.gap = gap
        self.big = re.compile(rb"\x00{%d,}" % (gap + 1))
        self.ranges = 0
        self.bytes = 0
        self.open_end: int | None = None  # where a run still open at the last chunk's end stopped

    def chunk(self, d: bytes, base: int) -> None:
        """Counts the runs of ``d``, the XOR of the chunk at ``base``."""
        m = _NONZERO.search(d)
        if m is None:
            self.open_end = None
            return
        first = m.start()
        last = len(d.rstrip(b"\x00"))  # past the last non-zero byte
        stripped, gaps = self.big.subn(b"", d[first:last])  # the gaps between runs taken out
        n_runs, size = gaps + 1, len(stripped)
        if self.open_end is not None and base + first - self.open_end <= self.gap:
            n_runs -= 1  # continues the run the last chunk left open
            size += base + first - self.open_end
        self.ranges += n_runs
        self.bytes += size
        self.open_end = base + last


def _differing_spans(old: bytes, new: bytes, block: int = BLOCK) -> list[tuple[int, int]]:
    """``[lo, hi)`` spans of consecutive ``block``-sized pieces that differ (one ``memcmp`` a piece), so that
    only those are XORed."""
    spans: list[list[int]] = []
    n = len(old)
    for lo in range(0, n, block):
        hi = min(lo + block, n)
        if old[lo:hi] != new[lo:hi]:
            if spans and spans[-1][1] == lo:
                spans[-1][1] = hi
            else:
                spans.append([lo, hi])
    return [(lo, hi) for lo, hi in spans]


def find_changes(before, after, size: int, *, gap: int = MERGE_GAP, limit: int = MAX_RANGES,
                 chunk: int = CHUNK, block: int = BLOCK, tick=None) -> tuple[list[tuple[int, int]], int, int]:
    """Where ``after`` (``size`` bytes) differs from ``before``: ``(ranges, omitted ranges, omitted bytes)``,
    the first ``limit`` ranges kept (runs at most ``gap`` equal bytes apart are one range). Bytes of
    ``before`` past its end (memory that grew) count as zeros; bytes of ``before`` past ``size`` are ignored.
    ``before`` and ``after`` are anything whose slices are bytes-like (``bytes``, or a reader of live memory),
    read ``chunk`` bytes at a time, so temporary memory stays a few chunks whatever the size. ``tick(offset)``,
    when given, is called before each chunk (a deadline's): when it returns true the diff stops there, and
    what it found before ``offset`` is returned (the caller says the rest was not compared)."""
    kept: list[list[int]] = []
    old_len = len(before)
    counter: _Counter | None = None
    for base in range(0, size, chunk):
        if tick is not None and tick(base):
            break
        n = min(chunk, size - base)
        new = bytes(after[base:base + n])
        old = bytes(before[base:base + n]) if base < old_len else b""
        if len(old) < n:
            old += bytes(n - len(old))
        if new == old:
            continue
        for lo, hi in _differing_spans(old, new, block):
            d = xor(old[lo:hi], new[lo:hi]) if hi - lo < n else xor(old, new)
            if counter is not None:
                counter.chunk(d, base + lo)
                continue
            for s, e in runs(d, gap, base + lo):
                if kept and s - kept[-1][1] <= gap:
                    kept[-1][1] = e
                elif len(kept) < limit:
                    kept.append([s, e])
                else:  # the limit reached: count the rest of this span (from this run on) and all after it
                    counter = _Counter(gap)
                    counter.chunk(d[s - base - lo:], s)
                    break
    omitted = (counter.ranges, counter.bytes) if counter is not None else (0, 0)
    return [(s, e) for s, e in kept], *omitted
