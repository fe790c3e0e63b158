"""Hex dumps (``hexdump -C`` style, changed bytes highlighted, region label per row) and typed views."""

from __future__ import annotations

import math
import re
from itertools import groupby

from rich.table import Table
from rich.text import Span, Text

from ..model.values import region_finder
from .common import REGION_STYLE, add_row, fmt_bytes, shown

CHANGED = "bold red"


class Line:
    """A Text printed as one line, never wrapped but cropped to the width (hex rows must stay aligned
    when piped at 80 columns). Renders straight to segments from the Text's spans (spans must not
    overlap), which is several times cheaper than Text.render; it crops itself, so the console may
    print it with ``crop=False``. Rows are ASCII: one cell a character."""

    def __init__(self, text: Text):
        self.text = text

    def __rich_console__(self, console, options):
        plain = self.text.plain
        if console.no_color or console.color_system is None:
            yield from _line_segments(plain, (), options.max_width)
        else:
            yield from _line_segments(plain, [(sp.start, sp.end, sp.style) for sp in self.text.spans],
                                      options.max_width)


_STYLES: dict = {}


def _line_segments(plain: str, spans, width: int) -> list:
    """Segments of one line from ``(start, end, style)`` spans that do not overlap, cropped to ``width``,
    then a newline."""
    from rich.segment import Segment
    from rich.style import Style

    if len(plain) > width:
        plain = plain[:width]
    out = []
    pos = 0
    for start, end, style in sorted(spans):
        if start >= width:
            break
        if start > pos:
            out.append(Segment(plain[pos:start]))
        st = _STYLES.get(style)
        if st is None:
            st = _STYLES[style] = style if isinstance(style, Style) else Style.parse(style)
        out.append(Segment(plain[start:end], st))
        pos = min(end, width)
    if pos < len(plain):
        out.append(Segment(plain[pos:]))
    out.append(Segment.line())
    return out


_PRINTABLE = bytes(b if 0x20 <= b < 0x7F else 0x2E for b in range(256))
_HEX_STYLE = (None, "grey50", CHANGED)  # by key: 0 plain, 1 zero byte, 2 changed by the call
_ZERO_RUN = re.compile(rb"\x00+")


def hex_row(address: int, data: bytes, changed=(), label: str = "", kind: str = "", addr_width: int = 8) -> Text:
    """``0x00010000  48 65 6c 6c 6f 00 00 00  00 00 00 00 00 00 00 00  |Hello...........|  .rodata``.

    Built as one plain string plus merged style spans (a dump of 1 MiB is 65,536 rows)."""
    text, spans = _styled_row(address, bytes(data), changed, label, kind, addr_width)
    return Text(text, spans=[Span(*sp) for sp in spans])


def _styled_row(address: int, data: bytes, changed, label: str, kind: str, addr_width: int):
    """The row's text and its ``(start, end, style)`` spans: the address, runs of zero bytes, bytes
    changed by a call (hex and ASCII), the label."""
    n = len(data)
    base = addr_width + 4  # "0x" + address + two spaces
    text = hex_row_plain(address, data, "", addr_width)
    spans = [(0, base - 2, "cyan")]
    ascii0 = base + 51  # 48 hex columns, then "  |"
    if not changed:  # the common case: only runs of zero bytes are styled (found at C speed)
        for m in _ZERO_RUN.finditer(data):
            i, j = m.start(), m.end() - 1
            spans.append((base + 3 * i + (i >= 8), base + 3 * j + (j >= 8) + 2, "grey50"))
    else:
        ch = set(changed)
        i = 0
        for key, group in groupby(range(n), key=lambda k: 2 if k in ch else (1 if data[k] == 0 else 0)):
            run = sum(1 for _ in group)
            if key:
                j = i + run - 1
                spans.append((base + 3 * i + (i >= 8), base + 3 * j + (j >= 8) + 2, _HEX_STYLE[key]))
                if key == 2:
                    spans.append((ascii0 + i, ascii0 + i + run, CHANGED))
            i += run
    if label:
        label = shown(label)
        spans.append((len(text) + 2, len(text) + 2 + len(label), REGION_STYLE.get(kind, "dim")))
        text += f"  {label}"
    return text, spans


def hex_row_plain(address: int, data: bytes, label: str = "", addr_width: int = 8) -> str:
    """The text of ``hex_row`` without styles, for output that has no colour (a pipe or a file)."""
    hexes = data[:8].hex(" ").ljust(23) + "  " + data[8:].hex(" ").ljust(23)
    text = f"0x{address:0{addr_width}x}  {hexes}  |{data.translate(_PRINTABLE).decode('ascii')}|{' ' * (16 - len(data))}"
    return f"{text}  {shown(label)}" if label else text


_PLAIN_BATCH = 1024  # rows joined into one segment when there is no colour


def fmt_typed(v, fmt: str) -> str:
    if v is None:  # a null reference
        return "null"
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
            head.append(f"  {shown(self.title)}", style="dim")
        yield head
        if d.fmt == "hex":
            row_len = 2 * aw + 62
            longest = max((len(shown(r.label)) for r in d.rows), default=0)
            labelled = not longest or options.max_width >= row_len + 2 + longest
            if console.no_color or console.color_system is None:
                yield from _plain_rows(d.rows, aw, labelled, options.max_width)
                return
            # rows go out as segments made here, with no Text or Line object per row (65,536 rows a MiB)
            width = options.max_width
            if labelled:
                for r in d.rows:
                    yield from _line_segments(*_styled_row(r.address, r.data, r.changed, r.label,
                                                           kind_of(r.address), aw), width)
                return
            # too narrow for a label column: a heading each time the region changes
            last = None
            for r in d.rows:
                if r.label != last:
                    yield Text(f"-- {shown(r.label) or 'unlabelled'}", style=REGION_STYLE.get(
                        kind_of(r.address), "dim"))
                    last = r.label
                yield from _line_segments(*_styled_row(r.address, r.data, r.changed, "", "", aw), width)
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
                          Text(shown(r.label), style=REGION_STYLE.get(kind_of(r.address), "dim")))
        yield table


def _plain_rows(rows, aw: int, labelled: bool, width: int):
    """Hex rows for output without colour: batches of rows as one segment each, no Text per row (the
    same characters as the styled rows, cropped to ``width``). Unlabelled rows get a heading each time
    the region changes; one too long for the width is wrapped, as in colour."""
    from rich.segment import Segment

    out: list[str] = []
    last = None
    for r in rows:
        if labelled:
            row = hex_row_plain(r.address, r.data, r.label, aw)
        else:
            if r.label != last:
                heading = f"-- {shown(r.label) or 'unlabelled'}"
                last = r.label
                if len(heading) > width:  # wrapped by rich, as the coloured heading is
                    if out:
                        out.append("")
                        yield Segment("\n".join(out))
                        out.clear()
                    yield Text(heading)
                else:
                    out.append(heading)
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
    t.append(shown(result.name), style="bold")
    t.append(f"({', '.join(shown(a) for a in (result.user_args or result.args))})")
    if result.trap is not None:
        t.append(f"  trapped: {result.trap.kind}: {shown(result.trap.message)}", style="bold red")
    elif result.results:
        t.append(f" → {', '.join(fmt_typed(v, '') for v in result.results)}")
    if result.changes or getattr(result, "changes_omitted", 0):
        t.append(f"  ({result.changed_bytes} bytes changed)", style="dim")
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
        head.append(f"  {shown(v.type_name)} at 0x{v.address:x}")
        label = getattr(o.target, "label", None)
        if label:
            head.append(f" {shown(label)}")
        if o.sp is not None:
            head.append(f"  sp=0x{o.sp:x}", style="magenta")
        yield head
        yield ValueView(v)


def dump_renderable(outcome):
    """The view of a ``dump`` outcome: a typed value, or the hex/typed rows (printed as they are, not
    inside a Group: every segment of a 1 MiB dump would pass through one more generator)."""
    if getattr(outcome, "value", None) is not None:
        return TypedDumpView(outcome)
    return DumpView(outcome.dump, outcome.regions, calls=outcome.calls, sp=outcome.sp)
