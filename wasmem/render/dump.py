"""Hex dumps (``hexdump -C`` style, changed bytes highlighted, region label per row) and typed views."""

from __future__ import annotations

import math
import re
from itertools import groupby

from rich.console import Group
from rich.table import Table
from rich.text import Span, Text

from ..model.values import region_finder
from .common import REGION_STYLE, add_row, fmt_bytes

CHANGED = "bold red"


class Line:
    """A Text printed as one line, never wrapped but cropped to the width (hex rows must stay aligned
    when piped at 80 columns). Renders straight to segments from the Text's spans (spans must not
    overlap), which is several times cheaper than Text.render for the 65,536 rows of a 1 MiB dump; it
    crops itself, so the console may print it with ``crop=False``. Rows are ASCII: one cell a character."""

    _styles: dict = {}

    def __init__(self, text: Text):
        self.text = text

    def __rich_console__(self, console, options):
        from rich.segment import Segment
        from rich.style import Style

        plain = self.text.plain
        width = options.max_width
        if len(plain) > width:
            plain = plain[:width]
        if console.no_color or console.color_system is None:
            yield Segment(plain)
            yield Segment.line()
            return
        styles = Line._styles
        pos = 0
        for sp in sorted(self.text.spans, key=lambda s: s.start):
            if sp.start >= width:
                break
            if sp.start > pos:
                yield Segment(plain[pos:sp.start])
            style = styles.get(sp.style)
            if style is None:
                style = styles[sp.style] = sp.style if isinstance(sp.style, Style) else Style.parse(sp.style)
            yield Segment(plain[sp.start:sp.end], style)
            pos = min(sp.end, width)
        if pos < len(plain):
            yield Segment(plain[pos:])
        yield Segment.line()


_PRINTABLE = bytes(b if 0x20 <= b < 0x7F else 0x2E for b in range(256))
_HEX_STYLE = (None, "grey50", CHANGED)  # by key: 0 plain, 1 zero byte, 2 changed by the call
_ZERO_RUN = re.compile(rb"\x00+")


def hex_row(address: int, data: bytes, changed=(), label: str = "", kind: str = "", addr_width: int = 8) -> Text:
    """``0x00010000  48 65 6c 6c 6f 00 00 00  00 00 00 00 00 00 00 00  |Hello...........|  .rodata``.

    Built as one plain string plus merged style spans (a dump of 1 MiB is 65,536 rows)."""
    data = bytes(data)
    n = len(data)
    head = f"0x{address:0{addr_width}x}  "
    text = hex_row_plain(address, data, "", addr_width)
    spans = [Span(0, len(head) - 2, "cyan")]
    ch = set(changed)
    base, ascii0 = len(head), len(head) + 51  # 48 hex columns, then "  |"

    def hex_span(i: int, j: int, style: str) -> Span:  # bytes i..j inclusive
        return Span(base + 3 * i + (i >= 8), base + 3 * j + (j >= 8) + 2, style)

    if not ch:  # the common case: only runs of zero bytes are styled (found at C speed)
        spans += [hex_span(m.start(), m.end() - 1, "grey50") for m in _ZERO_RUN.finditer(data)]
    else:
        i = 0
        for key, group in groupby(range(n), key=lambda k: 2 if k in ch else (1 if data[k] == 0 else 0)):
            run = sum(1 for _ in group)
            if key:
                spans.append(hex_span(i, i + run - 1, _HEX_STYLE[key]))
                if key == 2:
                    spans.append(Span(ascii0 + i, ascii0 + i + run, CHANGED))
            i += run
    if label:
        spans.append(Span(len(text) + 2, len(text) + 2 + len(label), REGION_STYLE.get(kind, "dim")))
        text += f"  {label}"
    return Text(text, spans=spans)


def hex_row_plain(address: int, data: bytes, label: str = "", addr_width: int = 8) -> str:
    """The text of ``hex_row`` without styles, for output that has no colour (a pipe or a file)."""
    hexes = data[:8].hex(" ").ljust(23) + "  " + data[8:].hex(" ").ljust(23)
    text = f"0x{address:0{addr_width}x}  {hexes}  |{data.translate(_PRINTABLE).decode('ascii')}|{' ' * (16 - len(data))}"
    return f"{text}  {label}" if label else text


_PLAIN_BATCH = 1024  # rows joined into one segment when there is no colour


def fmt_typed(v, fmt: str) -> str:
    if fmt == "ptr":
        return f"0x{v:08x}"
    if isinstance(v, float):
        if math.isnan(v):
            return "nan"
        if math.isinf(v):
            return "inf" if v > 0 else "-inf"
        return f"{v:.9g}" if fmt == "f32" else repr(v)
    return str(v)


def _kinds(regions):
    """``kind(addr)``: the kind of the region holding an address ("" outside every region)."""
    find = region_finder(regions)

    def kind(address: int) -> str:
        r = find(address)
        return getattr(r, "kind", "") if r is not None else ""

    return kind


class DumpView:
    """Renders a ``wasmem.model.values.Dump``; ``regions`` colour the labels by kind."""

    def __init__(self, dump, regions=(), title: str | None = None, calls=(), sp: int | None = None):
        self.dump = dump
        self.regions = regions
        self.title = title
        self.calls = calls
        self.sp = sp

    def __rich_console__(self, console, options):
        d = self.dump
        kind_of = _kinds(self.regions)
        for c in self.calls:
            yield call_line(c)
        aw = 8 if (d.address + len(d.data)) <= 0xFFFFFFFF else 16
        head = Text(f"memory {d.memory}", style="bold")
        head.append(f"  {fmt_bytes(d.memory_size)}", style="dim")
        head.append(f"  [0x{d.address:0{aw}x}, 0x{d.address + len(d.data):0{aw}x})  {len(d.data)} bytes")
        if self.sp is not None:
            head.append(f"  sp=0x{self.sp:x}", style="magenta")
        if self.title:
            head.append(f"  {self.title}", style="dim")
        yield head
        if d.fmt == "hex":
            row_len = 2 * aw + 62
            longest = max((len(r.label) for r in d.rows), default=0)
            labelled = not longest or options.max_width >= row_len + 2 + longest
            if console.no_color or console.color_system is None:
                yield from _plain_rows(d.rows, aw, labelled, options.max_width)
                return
            if labelled:
                for r in d.rows:
                    yield Line(hex_row(r.address, r.data, r.changed, r.label, kind_of(r.address), aw))
                return
            # too narrow for a label column: a heading each time the region changes
            last = None
            for r in d.rows:
                if r.label != last:
                    yield Text(f"-- {r.label or 'unlabelled'}", style=REGION_STYLE.get(
                        kind_of(r.address), "dim"))
                    last = r.label
                yield Line(hex_row(r.address, r.data, r.changed, "", "", aw))
            return
        ncols = max((len(r.values) for r in d.rows), default=0)
        table = Table(show_header=False, box=None, pad_edge=False, padding=(0, 1))
        table.add_column("address", style="cyan", no_wrap=True)
        for _ in range(ncols):
            table.add_column(justify="right", no_wrap=True)
        table.add_column("region", no_wrap=True)
        esize = d.width // max(ncols, 1) if ncols else 1
        for r in d.rows:
            cells = []
            for i, v in enumerate(r.values):
                hit = any(esize * i <= o < esize * (i + 1) for o in r.changed)
                cells.append(Text(fmt_typed(v, d.fmt), style=CHANGED if hit else ""))
            cells += [""] * (ncols - len(cells))
            add_row(table, f"0x{r.address:0{aw}x}", *cells,
                          Text(r.label, style=REGION_STYLE.get(kind_of(r.address), "dim")))
        yield table


def _plain_rows(rows, aw: int, labelled: bool, width: int):
    """Hex rows for output without colour: batches of rows as one segment each, no Text per row (the
    same characters as the styled rows, cropped to ``width``). Unlabelled rows get a heading each time
    the region changes."""
    from rich.segment import Segment

    out: list[str] = []
    last = None
    for r in rows:
        if labelled:
            row = hex_row_plain(r.address, r.data, r.label, aw)
        else:
            if r.label != last:
                out.append(f"-- {r.label or 'unlabelled'}"[:width])
                last = r.label
            row = hex_row_plain(r.address, r.data, "", aw)
        out.append(row if len(row) <= width else row[:width])
        if len(out) >= _PLAIN_BATCH:
            out.append("")
            yield Segment("\n".join(out))
            out.clear()
    if out:
        out.append("")
        yield Segment("\n".join(out))


def call_line(result) -> Text:
    """One line for a setup call: ``process_string(s:Hi) → 2`` or its trap."""
    t = Text("ran ", style="dim")
    t.append(f"{result.name}", style="bold")
    t.append(f"({', '.join(str(a) for a in (result.user_args or result.args))})")
    if result.trap is not None:
        t.append(f"  trapped: {result.trap.kind}: {result.trap.message}", style="bold red")
    elif result.results:
        t.append(f" → {', '.join(fmt_typed(v, '') for v in result.results)}")
    if result.changes:
        t.append(f"  ({sum(c.size for c in result.changes)} bytes changed)", style="dim")
    return t


class TypedDumpView:
    """``dump --type``: the calls, a heading, then the value tree."""

    def __init__(self, outcome):
        self.outcome = outcome

    def __rich_console__(self, console, options):
        from .value import ValueView

        o = self.outcome
        for c in o.calls:
            yield call_line(c)
        v = o.value
        head = Text(f"memory {o.dump.memory}", style="bold")
        head.append(f"  {fmt_bytes(o.dump.memory_size)}", style="dim")
        head.append(f"  {v.type_name} at 0x{v.address:x}")
        label = getattr(o.target, "label", None)
        if label:
            head.append(f" {label}")
        if o.sp is not None:
            head.append(f"  sp=0x{o.sp:x}", style="magenta")
        yield head
        yield ValueView(v)


def render_dump_group(outcome) -> Group:
    if getattr(outcome, "value", None) is not None:
        return Group(TypedDumpView(outcome))
    return Group(DumpView(outcome.dump, outcome.regions, calls=outcome.calls, sp=outcome.sp))
