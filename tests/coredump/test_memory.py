"""A coredump's memory read through its data segments: zeros between them, later segments winning where
they overlap, segments in any order (one index built at the first read, whatever the order), several
memories."""

from __future__ import annotations

import pytest

from wasmem.errors import ParseError
from wasmem.model.coredump import read_coredump
from wasmem.parser.coredump import MemorySpec, write_coredump
from wasmem.parser.encode import encode_name, encode_section, sleb, uleb
from wasmem.parser.module import WasmModule


def handmade(segments, pages=(1,), core=True) -> WasmModule:
    """A dump with these (memory, address, bytes) active data segments, in this order."""
    out = b"\0asm\x01\0\0\0"
    if core:
        out += encode_section(0, encode_name("core") + b"\0" + encode_name("t.wasm"))
    out += encode_section(5, uleb(len(pages)) + b"".join(b"\0" + uleb(p) for p in pages))
    body = uleb(len(segments))
    for mem, addr, data in segments:
        head = b"\0" if mem == 0 else b"\x02" + uleb(mem)
        body += head + b"\x41" + sleb(addr) + b"\x0b" + uleb(len(data)) + data
    out += encode_section(11, body)
    return WasmModule.from_bytes(out, "t.core")


def test_zeros_between_segments_and_reads_across_them():
    mem = read_coredump(handmade([(0, 16, b"abcd"), (0, 100, b"xyz")])).memories[0]
    assert mem.read(0, 4) == bytes(4)
    assert mem.read(14, 8) == b"\0\0abcd\0\0"
    assert mem.read(18, 90) == b"cd" + bytes(80) + b"xyz" + bytes(5)
    assert mem.size == 65536 and mem.read(65532, 4) == bytes(4)


def test_a_later_segment_wins_where_they_overlap_in_any_order():
    mem = read_coredump(handmade([(0, 10, b"AAAAAAAA"), (0, 12, b"bb"), (0, 4, b"cccccccc")])).memories[0]
    # file order: AAAAAAAA at 10..18, bb at 12..14 over it, cccccccc at 4..12 over the first two A's
    assert mem.read(4, 14) == b"cccccccc" + b"bb" + b"AAAA"


def test_a_segment_stored_after_a_higher_one_is_found_by_a_read_below_it():
    """The issue's case: a read at 90 gave zeros while a later segment held 42s there, and the same read
    gave the bytes once a wider read had scanned further. Now the first read sees every segment."""
    mem = read_coredump(handmade([(0, 200, b"x"), (0, 90, b"\x2a" * 5)])).memories[0]
    assert mem.read(90, 5) == b"\x2a" * 5
    assert mem.read(0, 300)[90:95] == b"\x2a" * 5 and mem.read(90, 5) == b"\x2a" * 5


def test_the_index_is_sorted_runs_with_later_segments_winning():
    segs = [(0, 4096 * i, bytes([i + 1]) * 8) for i in range(16)]
    for order in (segs, segs[::-1], segs[5:] + segs[:5]):
        mem = read_coredump(handmade(order)).memories[0]
        assert mem.read(4096 * 2, 8) == bytes([3]) * 8
        runs = mem.index_runs
        assert list(runs.starts) == [4096 * i for i in range(16)] and set(runs.lengths) == {8}
        assert mem.num_segments == 16 and mem.data_bytes == 128
    # a segment inside another, a later one across two, one wholly overwritten, empty ones
    segs = [(0, 0, b"a" * 32), (0, 8, b"b" * 4), (0, 28, b"c" * 8), (0, 40, b"d" * 2), (0, 40, b"e" * 2),
            (0, 50, b""), (0, 100, b"f" * 4), (0, 98, b"g" * 8)]
    mem = read_coredump(handmade(segs)).memories[0]
    want = bytearray(128)
    for _m, a, d in segs:
        want[a:a + len(d)] = d
    assert mem.read(0, 128) == bytes(want)
    assert list(zip(mem.index_runs.starts, mem.index_runs.lengths, strict=True)) == [
        (0, 8), (8, 4), (12, 16), (28, 8), (40, 2), (98, 8)]
    assert mem.num_segments == 8


def test_random_segments_read_as_instantiation_writes_them():
    import random

    rng = random.Random(5)
    for _ in range(40):
        segs = []
        for _ in range(rng.randint(1, 30)):
            a = rng.randrange(0, 400)
            segs.append((0, a, bytes(rng.randrange(256) for _ in range(rng.randint(0, 60)))))
        want = bytearray(65536)
        for _m, a, d in segs:
            want[a:a + len(d)] = d
        mem = read_coredump(handmade(segs)).memories[0]
        for _ in range(20):
            a = rng.randrange(0, 480)
            n = rng.randrange(0, 80)
            assert mem.read(a, n) == bytes(want[a:a + n])
        assert mem.read(0, 512) == bytes(want[:512])
        got = bytearray(512)
        for a, b in mem.iter_runs(block=7):
            got[a:a + len(b)] = b
        assert got == want[:512]


def test_several_memories():
    dump = read_coredump(handmade([(0, 8, b"zero"), (1, 70000, b"one"), (0, 20, b"more")], pages=(1, 2)))
    m0, m1 = dump.memories
    assert m1.read(70000, 3) == b"one" and m0.read(8, 4) == b"zero" and m0.read(20, 4) == b"more"
    assert m1.size == 2 * 65536


def test_a_segment_outside_its_memory_is_a_parse_error_at_every_read():
    dump = read_coredump(handmade([(0, 8, b"ok"), (0, 100, b"x"), (0, 65535, b"too far")]))
    for _ in range(2):  # never a partial index
        with pytest.raises(ParseError, match="outside memory 0"):
            dump.memories[0].read(8, 2)


def test_out_of_range_reads_are_usage_errors():
    from wasmem.errors import UsageError

    mem = read_coredump(handmade([(0, 8, b"ok")])).memories[0]
    with pytest.raises(UsageError, match="memory 0 of the coredump t.core is 65536 bytes"):
        mem.read(65530, 16)


def test_the_writer_trims_zero_runs_per_chunk(tmp_path):
    """As wasmtime does: 4 KiB chunks, zeros trimmed from both ends, all-zero chunks left out."""
    data = bytearray(3 * 65536)
    data[5000:5010] = b"0123456789"
    data[70000] = 1
    data[4095] = 7
    path = tmp_path / "w.core"
    with open(path, "wb") as f:
        write_coredump(f, name="x", memories=[MemorySpec(3, lambda a, n: bytes(data[a:a + n]))], globals=[],
                       modules=["x"], instances=[], threads=[])
    dump = read_coredump(WasmModule.from_file(str(path)))
    m = dump.memories[0]
    assert m.num_segments == 3
    assert list(zip(m.index_runs.starts, m.index_runs.lengths, strict=True)) == [(4095, 1), (5000, 10), (70000, 1)]
    assert m.read(0, len(data)) == bytes(data)
