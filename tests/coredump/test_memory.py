"""A coredump's memory read through its data segments: zeros between them, later segments winning where
they overlap, segments in any order, several memories, and segments found only as far as a read needs."""

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


def test_segments_are_found_only_as_far_as_a_read_needs():
    segs = [(0, 4096 * i, bytes([i + 1]) * 8) for i in range(16)]
    mem = read_coredump(handmade(segs)).memories[0]
    assert mem.read(4096 * 2, 8) == bytes([3]) * 8
    assert len(mem._segs) <= 4  # the ones up to the first that starts past the read
    assert mem.read(4096 * 15, 8) == bytes([16]) * 8 and mem.num_segments == 16


def test_several_memories():
    dump = read_coredump(handmade([(0, 8, b"zero"), (1, 70000, b"one"), (0, 20, b"more")], pages=(1, 2)))
    m0, m1 = dump.memories
    assert m1.read(70000, 3) == b"one" and m0.read(8, 4) == b"zero" and m0.read(20, 4) == b"more"
    assert m1.size == 2 * 65536


def test_a_segment_outside_its_memory_is_a_parse_error_when_reached():
    dump = read_coredump(handmade([(0, 8, b"ok"), (0, 100, b"x"), (0, 65535, b"too far")]))
    assert dump.memories[0].read(8, 2) == b"ok"  # not reached yet
    with pytest.raises(ParseError, match="outside memory 0"):
        dump.memories[0].read(65000, 8)


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
    assert [(a, n) for a, _s, n, _o in m._segs] == [(4095, 1), (5000, 10), (70000, 1)]
    assert m.read(0, len(data)) == bytes(data)
