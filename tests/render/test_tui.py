"""`wasmem view`: the textual memory inspector, driven headless with textual's pilot on real instances;
assertions on the screen's text (and, for highlights, on the styles of the drawn rows)."""

from __future__ import annotations

import pytest
import tui_util as tui
from conftest import sample

pytest.importorskip("textual")

from wasmem.app import call_function, open_session, symbols_for  # noqa: E402
from wasmem.render.tui.app import CHANGED, CHIP, SP_STYLE, HexView  # noqa: E402
from wasmem.shell.view import SessionSource  # noqa: E402


@pytest.fixture
def source():
    s = open_session(sample("memdemo-debug.wasm"))
    r = call_function(s, "allocate", ["16"]).result
    yield SessionSource(s, symbols_for(s.module), r.changed(0))
    s.close()


def drive(source, keys=(), at=None):
    """tui_util.drive with the rows these tests look at: the cursor's, the stack pointer's (0x10000) and the
    first changed byte's."""
    return tui.drive(source, keys, at, rows=lambda app: (app.hexview.cursor // 16, 0x10000 // 16,
                                                        (source.changed.first or 0) // 16))


def test_opens_on_the_first_object_with_chips_regions_sp_and_help(source):
    out = drive(source)
    text = out["screen"]
    assert out["cursor"] == 0x10020  # data_array, the first DWARF object
    assert "memdemo-debug.wasm  memory 0: 131072 bytes  sp=0x10000" in text
    assert " data_array: int32_t[8] " in text and " config: Config " in text and " node_a: Node " in text
    assert "00010000 ▌ 6d 65 6d 64 65 6d 6f 00" in text and "◀ sp" in text
    assert "heap (initial memory)" in text  # the region label where the heap starts
    assert "g go to" in text and "f follow" in text and "e endianness" in text  # keys on screen
    # the inspector: the bytes at the cursor as every type, and the object there
    assert "data_array  int32_t[8]" in text and " i32 1" in text and " i64 8589934593  0x200000001" in text


def test_highlights_changed_bytes_sp_and_objects(source):
    out = drive(source)
    rows = out["rows"]
    changed_row = rows[source.changed.first // 16]
    assert any(seg.style is not None and seg.style.color == CHANGED.color and seg.style.bold for seg in changed_row)
    sp_row = rows[0x10000 // 16]
    assert any(seg.style is not None and seg.style.underline and seg.style.color == SP_STYLE.color
               for seg in sp_row)
    assert any(seg.style == CHIP for seg in rows[out["cursor"] // 16])
    # rows are coloured by region: the address of a stack row magenta, of a data row green, of a heap row blue
    app = out["app"]
    assert [app.hexview.row_segments(a // 16)[0].style.color.name for a in (0xFF00, 0x10020, 0x10100)] == [
        "magenta", "green", "blue"]
    assert "1 bytes changed by the last call" not in out["screen"]
    assert "bytes changed by the last call" in out["screen"]


def test_goto_a_symbol_path_follow_a_pointer_and_come_back(source):
    out = drive(source, ["g", tuple("node_a.next"), "enter"])
    assert out["cursor"] == 0x10094 and "node_a+0x4" in out["screen"]
    out = drive(source, ["g", tuple("node_a.next"), "enter", "f"])
    assert out["cursor"] == 0x100A0 and "node_b  Node" in out["screen"] and "followed 0x100a0" in out["screen"]
    out = drive(source, ["g", tuple("node_a.next"), "enter", "f", "b"])
    assert out["cursor"] == 0x10094


def test_no_color_draws_the_same_rows(source, monkeypatch):
    monkeypatch.setenv("NO_COLOR", "1")  # textual then filters every segment's style
    out = drive(source, ["down"])
    assert " config: Config " in out["screen"] and out["cursor"] == 0x10030


def test_a_bad_goto_says_why_and_stays(source):
    out = drive(source, ["g", tuple("nosuch.x"), "enter"])
    assert out["cursor"] == 0x10020 and "cannot go to 'nosuch.x'" in out["screen"]


def test_moving_paging_sp_and_endianness(source):
    out = drive(source, ["right", "down"])
    assert out["cursor"] == 0x10020 + 17
    out = drive(source, ["pagedown"])
    assert out["cursor"] > 0x10020 + 16 * 20
    out = drive(source, ["s"])
    assert out["cursor"] == 0x10000 and "the stack pointer" in out["screen"]
    out = drive(source, ["e"])
    assert "big endian" in out["screen"] and " i32 16777216  0x1000000" in out["screen"]
    out = drive(source, ["end"])
    assert out["cursor"] == source.size - 1 and "0001fff0" in out["screen"]


def test_view_cli_passes_the_live_instance(monkeypatch, capsys):
    """`wasmem view` runs the --after calls and starts the app at --at (the app itself is tested above)."""
    seen = {}

    def fake_run_view(src, at=None):
        seen["src"], seen["at"] = src, at

    monkeypatch.setattr("wasmem.render.tui.app.run_view", fake_run_view)
    from wasmem.cli.main import main

    with pytest.raises(SystemExit) as ei:
        main(["view", sample("memdemo-debug.wasm"), "--after", "allocate 16", "--at", "config.meta"])
    assert ei.value.code == 0
    assert seen["at"] == 0x10060 and seen["src"].changed and seen["src"].size == 131072


def test_the_hex_view_reads_only_the_rows_it_draws(monkeypatch):
    """A 256 MiB memory: opening and paging read a screenful, never the whole memory."""
    from wasmem.app import open_session as op
    s = op(b"\0asm\x01\0\0\0\x05\x04\x01\x00\x80\x20\x07\x0a\x01\x06memory\x02\x00", max_memory=256 << 20)
    try:
        reads = []
        src = SessionSource(s, symbols_for(s.module))
        real = src.read
        src.read = lambda a, n: reads.append(n) or real(a, n)
        out = drive(src, ["pagedown", "pagedown"], at=200 << 20)
        assert src.size == 256 << 20 and out["cursor"] > 200 << 20
        assert sum(reads) < 64 * 1024
        assert HexView  # the widget class is importable for benchmarks
    finally:
        s.close()


def test_the_opening_screen_matches_its_snapshot(source):
    """The whole first screen as text (160x40), kept as a golden file: a change to what `view` draws shows
    up as a reviewed diff (BLESS=1 rewrites it)."""
    from golden_util import check_golden

    text = "\n".join(line.rstrip() for line in drive(source)["screen"].splitlines()) + "\n"
    check_golden("view-memdemo-debug.txt", text)
