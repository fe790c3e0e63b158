"""Shared formatting helpers for renderables."""

from __future__ import annotations

import re

from rich.console import Console
from rich.segment import Segment
from rich.text import Text

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
    """``table.add_row`` with every str cell as plain Text: cells carry names from the module, which
    must never be read as rich markup whatever console renders the table."""
    table.add_row(*(Text(c) if isinstance(c, str) else c for c in cells))


_UNSAFE = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def escape_controls(text: str) -> str:
    """Control characters as visible escapes (``\\x1b``): a module's names must not drive the terminal."""
    return _UNSAFE.sub(lambda m: f"\\x{ord(m.group()):02x}", text)


class SafeConsole(Console):
    """A Console that escapes control characters in the text of every segment. A module's names go
    into that text; rich's own styling is added after, from the segments' styles, so it is unaffected."""

    def _render_buffer(self, buffer):
        search = _UNSAFE.search
        return super()._render_buffer(
            Segment(escape_controls(seg.text), seg.style, seg.control) if not seg.control and search(seg.text)
            else seg for seg in buffer)


def make_console(file=None, width: int | None = None, color: bool | None = None, record: bool = False):
    # markup off: names come from the module (an export may be called "[/]"), never from rich markup
    kwargs = {"file": file, "width": width, "record": record, "highlight": False, "markup": False}
    if color is False:
        kwargs["color_system"] = None
    return SafeConsole(**kwargs)
