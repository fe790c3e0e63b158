"""Shared formatting helpers for renderables."""

from __future__ import annotations

from rich.console import Console
from rich.segment import Segment
from rich.text import Text

from ..text import shown, shown_lines, unsafe_in_lines

SEVERITY_STYLE = {"error": "bold red", "warning": "yellow", "info": "cyan"}
REGION_STYLE = {"stack": "magenta", "data": "green", "heap": "blue", "free": "grey50", "reserved": "grey37"}


def fmt_bytes(n: int | None) -> str:
    """1536 → '1.5 KiB (1536 bytes)'-style compact size."""
    if n is None:
        return "?"
    for unit, scale in (("GiB", 1 << 30), ("MiB", 1 << 20), ("KiB", 1 << 10)):
        if n >= scale:
            v = n / scale
            return f"{v:.0f} {unit}" if v == int(v) else f"{v:.1f} {unit}"
    return f"{n} B"


def fmt_addr(a: int | None, width: int = 8) -> str:
    return "?" if a is None else f"0x{a:0{width}x}"


def add_row(table, *cells) -> None:
    """``table.add_row`` with every str cell as plain Text, through ``shown``: cells carry names from the
    module, which must never be read as rich markup whatever console renders the table, nor break a row
    into lines. A cell that is meant to have several lines is passed as a ``Text``."""
    table.add_row(*(Text(shown(c)) if isinstance(c, str) else c for c in cells))


def _escaped(buffer):
    """Segments with their text through ``shown_lines`` (rich's control segments are its own)."""
    search = unsafe_in_lines
    for seg in buffer:
        if seg.control or not search(seg.text):
            yield seg
        else:
            yield Segment(shown_lines(seg.text), seg.style, seg.control)


class SafeConsole(Console):
    """A Console that escapes control, format and bidi characters in the text of every segment, both in
    what it writes and in what it records for ``save_svg``/``export_*``. The backstop: a name from the
    module that reaches a renderable without ``shown`` still cannot drive the terminal, but its ``\\n``
    does break the line (only ``shown`` can tell it from a line break of the view). rich's own styling
    is added after, from the segments' styles, so it is unaffected."""

    def _write_buffer(self):
        if self.record and not self._buffer_index:  # rich records the buffer before rendering it
            self._buffer[:] = _escaped(self._buffer)
        super()._write_buffer()

    def _render_buffer(self, buffer):
        return super()._render_buffer(_escaped(buffer))


def make_console(file=None, width: int | None = None, color: bool | None = None, record: bool = False):
    # markup off: names come from the module (an export may be called "[/]"), never from rich markup
    kwargs = {"file": file, "width": width, "record": record, "highlight": False, "markup": False}
    if color is False:
        kwargs["color_system"] = None
    return SafeConsole(**kwargs)
