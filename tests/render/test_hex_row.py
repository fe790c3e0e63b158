"""hex_row: the exact text of a row and which characters each style covers."""

from wasmem.render.dump import CHANGED, hex_row


def styled(t, style):
    return [t.plain[s.start:s.end] for s in t.spans if s.style == style]


def test_row_text_and_styles():
    t = hex_row(0x10000, b"Hello\x00\x00\x00\x01\x02\x00\x00abcd", changed=[1, 2, 8, 9], label=".rodata",
                kind="data")
    assert t.plain == "0x00010000  48 65 6c 6c 6f 00 00 00  01 02 00 00 61 62 63 64  |Hello.......abcd|  .rodata"
    assert styled(t, CHANGED) == ["65 6c", "el", "01 02", ".."]
    assert styled(t, "grey50") == ["00 00 00", "00 00"]
    assert styled(t, "cyan") == ["0x00010000"]


def test_short_row_pads_and_64_bit_addresses():
    t = hex_row(0x1_0000_0000, b"\x00\x00abc", changed=[4], addr_width=16)
    assert t.plain == "0x0000000100000000  00 00 61 62 63" + " " * 36 + "|..abc|" + " " * 11
    assert styled(t, CHANGED) == ["63", "c"]


def test_unchanged_rows_grey_only_the_zero_runs():
    t = hex_row(0, b"\x00\x00ab\x00" + bytes(5) + b"z" + bytes(5))
    assert styled(t, "grey50") == ["00 00", "00 00 00 00  00 00", "00 00 00 00 00"]  # runs span the gap
    assert styled(t, CHANGED) == []
