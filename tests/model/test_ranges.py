"""ByteRanges and find_changes (model/ranges.py): the C-speed diff gives the same ranges as the simple
byte-by-byte algorithm it replaced, on sparse, dense, chunk-edge and grown data; past the limit the ranges
are counted, not kept."""

from __future__ import annotations

import random

import pytest

from wasmem.model.ranges import MERGE_GAP, ByteRanges, diff_runs, find_changes, runs, xor


def reference(before: bytes, after: bytes, gap: int = MERGE_GAP) -> list[tuple[int, int]]:
    """The algorithm diff_memory used before: every byte compared, runs `gap` bytes apart merged."""
    if len(after) > len(before):
        before = before + bytes(len(after) - len(before))
    out: list[list[int]] = []
    for a in range(min(len(before), len(after))):
        if before[a] != after[a]:
            if out and a - out[-1][1] <= gap:
                out[-1][1] = a + 1
            else:
                out.append([a, a + 1])
    return [(s, e) for s, e in out]


def mutate(data: bytearray, rng: random.Random, spots, width_max: int) -> None:
    for at in spots:
        w = rng.randint(1, width_max)
        for k in range(at, min(at + w, len(data))):
            if rng.random() < 0.8:
                data[k] = (data[k] + rng.randint(1, 255)) % 256


CHUNK = 256  # small chunks, so that runs cross chunk edges often


@pytest.mark.parametrize("block", [CHUNK, 32])
@pytest.mark.parametrize("seed", range(12))
def test_same_ranges_as_the_byte_by_byte_algorithm(seed, block):
    rng = random.Random(seed)
    size = rng.choice([1000, 4096, 5000, 3 * CHUNK])
    before = bytes(rng.randrange(256) if rng.random() < 0.5 else 0 for _ in range(size))
    after = bytearray(before)
    kind = seed % 4
    if kind == 0:  # sparse
        mutate(after, rng, [rng.randrange(size) for _ in range(5)], 3)
    elif kind == 1:  # dense
        mutate(after, rng, range(0, size, 7), 6)
    elif kind == 2:  # at chunk edges: runs ending just before, at and after each edge, gaps across it
        for edge in range(CHUNK, size, CHUNK):
            for d in (-MERGE_GAP - 2, -MERGE_GAP - 1, -1, 0, MERGE_GAP, MERGE_GAP + 1):
                if 0 <= edge + d < size:
                    after[edge + d] ^= 0x5A
    else:  # grown: the new part compared with zeros
        after += bytes(rng.randrange(256) if rng.random() < 0.1 else 0 for _ in range(CHUNK + 37))
    after = bytes(after)
    want = reference(before, after)
    got, omitted, omitted_bytes = find_changes(before, after, len(after), chunk=CHUNK, block=block)
    assert got == want and omitted == omitted_bytes == 0


def test_edges_exactly_at_the_merge_gap():
    before = bytes(4 * CHUNK)
    for gap in (MERGE_GAP, MERGE_GAP + 1):  # 8 equal bytes between: one range; 9: two
        for at in range(CHUNK - gap - 2, CHUNK + 2):
            after = bytearray(before)
            after[at] = 1
            after[at + gap + 1] = 2
            got, _, _ = find_changes(before, bytes(after), len(after), chunk=CHUNK)
            assert got == reference(before, bytes(after))
            assert len(got) == (1 if gap == MERGE_GAP else 2)


def test_one_fill_is_one_range():
    before = bytes(3 * CHUNK + 5)
    after = b"\x07" * len(before)
    assert find_changes(before, after, len(after), chunk=CHUNK) == ([(0, len(before))], 0, 0)


def test_a_snapshot_larger_than_memory_is_compared_up_to_memory():
    before = bytes(100) + b"\x01" * 100
    after = bytes(100)
    assert find_changes(before, after, 100)[0] == []


@pytest.mark.parametrize("chunk", [CHUNK, 1 << 20])
@pytest.mark.parametrize("edges", [True, False])
@pytest.mark.parametrize("block", [1 << 16, 64])
def test_past_the_limit_ranges_are_counted_with_their_bytes(chunk, edges, block):
    rng = random.Random(7)
    before = bytes(10 * CHUNK)
    after = bytearray(before)
    mutate(after, rng, sorted(rng.randrange(len(after) - 40) for _ in range(300)), 12)
    if edges:  # runs across chunk edges among the counted ones
        for edge in range(CHUNK, len(after), CHUNK):
            after[edge - 1] = after[edge] = 9
    after = bytes(after)
    want = reference(before, after)
    assert len(want) > 50
    got, omitted, omitted_bytes = find_changes(before, after, len(after), limit=20, chunk=chunk, block=block)
    assert got == want[:20]
    assert omitted == len(want) - 20
    assert omitted_bytes == sum(e - s for s, e in want[20:])


def test_runs_and_diff_runs_with_another_gap():
    a = bytes(64)
    b = bytearray(a)
    b[3] = b[10] = b[11] = b[40] = 1
    assert diff_runs(a, bytes(b), gap=0) == [(3, 4), (10, 12), (40, 41)]
    assert diff_runs(a, bytes(b), gap=7) == [(3, 12), (40, 41)]
    assert list(runs(xor(a, bytes(b)), 5)) == [(3, 4), (10, 12), (40, 41)]


def test_byte_ranges_membership_clip_and_cap():
    r = ByteRanges([(10, 20), (30, 40)])
    r.add(20, 25)  # touching: merged
    r.add(5, 12)  # overlapping, out of order
    r.add(50, 51)
    assert list(r) == [(5, 25), (30, 40), (50, 51)]
    assert 5 in r and 24 in r and 25 not in r and 29 not in r and 39 in r and 40 not in r
    assert r.total == 20 + 10 + 1 and r.count == 3 and r.first == 5
    assert list(r.clip(22, 35)) == [(22, 25), (30, 35)]
    assert r.offsets(22, 32) == (0, 1, 2, 8, 9)
    r.add(0, 100)  # covers everything
    assert list(r) == [(0, 100)]
    capped = ByteRanges([(i * 10, i * 10 + 2) for i in range(10)], limit=4)
    assert capped.count == 4 and capped.omitted == 6 and capped.omitted_bytes == 12 and capped.total == 20
    assert ByteRanges.from_addresses({1, 2, 3, 7}) == ByteRanges([(1, 4), (7, 8)])
    assert not ByteRanges() and ByteRanges([(1, 2)])
