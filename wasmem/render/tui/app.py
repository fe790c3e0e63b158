"""`wasmem view`: a full-screen memory inspector (textual).

The hex view draws only the rows on screen (textual's line API over a virtual height of size/16 rows), so a
256 MiB memory opens as fast as a small one: each row is read from the source when it is drawn. Rows are
coloured by region, bytes of DWARF objects are tinted and the row where an object starts carries a
``name: type`` chip, the bytes the last call changed are red, the stack pointer's byte and row are marked.
The inspector shows the bytes at the cursor as every scalar type and as a pointer (with the symbol it
lands on), in little or big endian.

The app reads memory through a *source*, any object with::

    name: str                    # shown in the title
    size: int                    # bytes of memory 0
    read(addr, n) -> bytes
    regions: list                # layout regions (kind, start, end, label), sorted
    symbols                      # a debuginfo SymbolTable, or None
    sp: int | None
    changed: ByteRanges          # addresses the last call changed (model.ranges; `addr in changed`, .total)
    resolve(text) -> int         # an address expression or symbol path → address (raises WasmemError)
"""

from __future__ import annotations

import bisect
import struct

from rich.segment import Segment
from rich.style import Style
from rich.text import Text
from textual.app import App, ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal
from textual.geometry import Size
from textual.scroll_view import ScrollView
from textual.strip import Strip
from textual.widgets import Footer, Input, Static

from ...text import shown
from ..common import REGION_STYLE

ROW = 16
PLAIN = Style()
ADDR_STYLE = Style(color="cyan")
DIM = Style(dim=True)
CHANGED = Style(color="red", bold=True)
CURSOR = Style(reverse=True)
SP_STYLE = Style(color="magenta", bold=True, underline=True)
OBJECT_STYLES = (Style(bgcolor="grey23"), Style(bgcolor="grey15"))
CHIP = Style(color="black", bgcolor="yellow")
SCALARS = (("i8", "b", 1), ("u8", "B", 1), ("i16", "h", 2), ("u16", "H", 2), ("i32", "i", 4), ("u32", "I", 4),
           ("i64", "q", 8), ("u64", "Q", 8), ("f32", "f", 4), ("f64", "d", 8))
HELP = ("arrows/PgUp/PgDn move · g go to address or symbol · f follow the pointer · b back · s stack pointer · "
        "e endianness · q quit")


class Objects:
    """Data symbols with a size (DWARF variables, exported addresses), sorted, for the rows on screen."""

    def __init__(self, symbols):
        self.items = []
        if symbols is not None:
            try:
                syms = symbols.data_symbols
            except Exception:  # noqa: BLE001 - damaged debug info: no objects
                syms = []
            self.items = sorted(((s.address, s.address + s.size, s) for s in syms
                                 if s.size and s.kind not in ("segment", "marker")), key=lambda x: x[:2])
        self.starts = [a for a, _, _ in self.items]
        self.longest = max((e - a for a, e, _ in self.items), default=0)

    def overlapping(self, lo: int, hi: int) -> list:
        """(index, start, end, symbol) of the objects that overlap [lo, hi)."""
        i = bisect.bisect_right(self.starts, hi - 1)
        out = []
        j = i - 1
        while j >= 0 and self.items[j][0] >= lo - self.longest:
            a, e, s = self.items[j]
            if e > lo and a < hi:
                out.append((j, a, e, s))
            j -= 1
        return out[::-1]


class HexView(ScrollView, can_focus=True):
    """Hex and ASCII rows over the whole memory; only the visible rows are read and drawn."""

    DEFAULT_CSS = "HexView { width: 1fr; height: 1fr; overflow-x: hidden; }"
    # the cursor keys move the cursor (ScrollView's own bindings would scroll the view under it)
    BINDINGS = [
        Binding("up", "move(-16)", "up", show=False),
        Binding("down", "move(16)", "down", show=False),
        Binding("left", "move(-1)", "left", show=False),
        Binding("right", "move(1)", "right", show=False),
        Binding("pageup", "page(-1)", "page up", show=False),
        Binding("pagedown", "page(1)", "page down", show=False),
        Binding("home", "jump(0)", "start", show=False),
        Binding("end", "jump(-1)", "end", show=False),
    ]

    def action_move(self, delta: int) -> None:
        self.app.action_move(delta)

    def action_page(self, direction: int) -> None:
        self.app.action_page(direction)

    def action_jump(self, addr: int) -> None:
        self.app.action_jump(addr if addr >= 0 else self.source.size - 1)

    def __init__(self, source, **kwargs):
        super().__init__(**kwargs)
        self.source = source
        self.cursor = 0
        self.objects = Objects(source.symbols)
        self.regions = list(source.regions or ())
        self._region_starts = [r.start for r in self.regions]
        self.rows = (source.size + ROW - 1) // ROW
        self.aw = max(8, len(f"{max(source.size - 1, 0):x}"))
        self.virtual_size = Size(self.aw + 4 + ROW * 3 + 1 + ROW + 3, self.rows)

    def region_at(self, addr: int):
        i = bisect.bisect_right(self._region_starts, addr) - 1
        if i >= 0 and addr < self.regions[i].end:
            return self.regions[i]
        return None

    def render_line(self, y: int) -> Strip:
        row = self.scroll_offset.y + y
        if row >= self.rows:
            return Strip.blank(self.size.width)
        # every segment styled (textual's NO_COLOR filter reads the style of each)
        strip = Strip([seg if seg.style is not None else Segment(seg.text, PLAIN) for seg in self.row_segments(row)])
        return strip.crop(self.scroll_offset.x, self.scroll_offset.x + self.size.width)

    def row_segments(self, row: int) -> list[Segment]:
        src = self.source
        a = row * ROW
        n = min(ROW, src.size - a)
        data = src.read(a, n)
        region = self.region_at(a)
        rstyle = Style.parse(REGION_STYLE.get(region.kind, "")) if region is not None else DIM
        # the row is coloured by its region: the address and the bar before the bytes
        segs = [Segment(f"{a:0{self.aw}x}", rstyle if region is not None else ADDR_STYLE), Segment(" "),
                Segment("▌", rstyle), Segment(" ")]
        objs = self.objects.overlapping(a, a + n)
        tint = {}
        for idx, lo, hi, _s in objs:
            for k in range(max(lo, a), min(hi, a + n)):
                tint[k] = OBJECT_STYLES[idx % 2]
        changed = src.changed
        sp = src.sp
        cells = []
        for i in range(ROW):
            addr = a + i
            if i == 8:
                segs.append(Segment(" "))
            if i >= n:
                segs.append(Segment("   "))
                continue
            style = tint.get(addr)
            if addr in changed:
                style = CHANGED + style if style else CHANGED
            if sp is not None and addr == sp:
                style = SP_STYLE + style if style else SP_STYLE
            if addr == self.cursor:
                style = (style or Style()) + CURSOR
            segs.append(Segment(f"{data[i]:02x}", style))
            segs.append(Segment(" ", tint.get(addr) if tint.get(addr + 1) is not None and i != 7 else None))
            cells.append((chr(data[i]) if 0x20 <= data[i] < 0x7F else ".", style))
        segs.append(Segment(" |"))
        segs += [Segment(c, s) for c, s in cells]
        segs.append(Segment("|" + " " * (ROW - len(cells))))
        if sp is not None and a <= sp < a + ROW:
            segs.append(Segment(" ◀ sp", Style(color="magenta", bold=True)))
        for _idx, lo, _hi, s in objs:
            if a <= lo < a + ROW:
                tname = s.type_name or "?"
                segs.append(Segment(" "))
                segs.append(Segment(f" {shown(s.display_name)}: {shown(tname)} ", CHIP))
        if region is not None and a == region.start:
            segs.append(Segment(f"  {shown(region.label or region.kind)}", rstyle))
        return segs

    # -- the cursor -------------------------------------------------------------------------------
    def move_to(self, addr: int) -> None:
        size = self.source.size
        self.cursor = max(0, min(size - 1, addr)) if size else 0
        row = self.cursor // ROW
        top = self.scroll_offset.y
        height = max(1, self.size.height)
        if row < top or row >= top + height:
            self.scroll_to(y=max(0, row - height // 3), animate=False, immediate=True)
        self.refresh()


class Inspector(Static):
    DEFAULT_CSS = "Inspector { width: 34; height: 1fr; border-left: solid $accent; padding: 0 1; }"


class MemoryApp(App):
    """The inspector. ``at``: where the cursor starts (default: the first object, else the start of data)."""

    TITLE = "wasmem view"
    CSS = """
    #status { height: 1; color: $text-muted; }
    #goto { dock: bottom; display: none; }
    #goto.open { display: block; }
    """
    BINDINGS = [
        Binding("q", "quit", "quit"),
        Binding("g", "goto", "go to"),
        Binding("f", "follow", "follow ptr"),
        Binding("enter", "follow", "follow ptr", show=False),
        Binding("b", "back", "back"),
        Binding("backspace", "back", "back", show=False),
        Binding("s", "to_sp", "sp"),
        Binding("e", "endian", "endianness"),
    ]

    def __init__(self, source, at: int | None = None):
        super().__init__()
        self.source = source
        self.start = at
        self.big_endian = False
        self.history: list[int] = []

    def compose(self) -> ComposeResult:
        self.hexview = HexView(self.source, id="hex")
        self.inspector = Inspector(id="inspector")
        self.statusbar = Static(HELP, id="status")
        yield Static(id="title")
        with Horizontal():
            yield self.hexview
            yield self.inspector
        yield self.statusbar
        yield Input(placeholder="address, symbol path (config.meta), sp, __heap_base+16 — Enter to go, Esc to cancel",
                    id="goto")
        yield Footer()

    def on_mount(self) -> None:
        src = self.source
        sp = f"  sp={src.sp:#x}" if src.sp is not None else ""
        n = src.changed.total
        ch = f"  {n} byte{'' if n == 1 else 's'} changed by the last call" if n else ""
        self.query_one("#title", Static).update(Text(f"{shown(src.name)}  memory 0: {src.size} bytes{sp}{ch}",
                                                     style="bold"))
        at = self.start
        if at is None:
            if self.hexview.objects.items:
                at = self.hexview.objects.items[0][0]
            else:
                data = next((r for r in self.hexview.regions if r.kind == "data"), None)
                at = data.start if data is not None else 0
        self.hexview.focus()
        self.call_after_refresh(self.action_jump, at)

    # -- actions ------------------------------------------------------------------------------------
    def action_move(self, delta: int) -> None:
        self.hexview.move_to(self.hexview.cursor + delta)
        self.update_inspector()

    def action_page(self, direction: int) -> None:
        rows = max(1, self.hexview.size.height - 1)
        self.hexview.scroll_to(y=max(0, self.hexview.scroll_offset.y + direction * rows), animate=False, immediate=True)
        self.hexview.move_to(self.hexview.cursor + direction * rows * ROW)
        self.update_inspector()

    def action_jump(self, addr: int) -> None:
        self.hexview.move_to(addr)
        self.update_inspector()

    def action_to_sp(self) -> None:
        if self.source.sp is None:
            self.say("this module has no known stack pointer")
            return
        self.history.append(self.hexview.cursor)
        self.action_jump(self.source.sp)

    def action_endian(self) -> None:
        self.big_endian = not self.big_endian
        self.update_inspector()

    def action_follow(self) -> None:
        ws = 4
        try:
            raw = self.source.read(self.hexview.cursor, ws)
        except Exception:  # noqa: BLE001 - at the end of memory
            self.say("no pointer at the end of memory")
            return
        p = int.from_bytes(raw, "big" if self.big_endian else "little")
        if not 0 <= p < self.source.size:
            self.say(f"{p:#x} is not an address in memory 0 ({self.source.size} bytes)")
            return
        self.history.append(self.hexview.cursor)
        self.action_jump(p)
        self.say(f"followed {p:#x}; b goes back")

    def action_back(self) -> None:
        if not self.history:
            self.say("nothing to go back to")
            return
        self.action_jump(self.history.pop())

    def action_goto(self) -> None:
        box = self.query_one("#goto", Input)
        box.add_class("open")
        box.value = ""
        box.focus()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        box = event.input
        box.remove_class("open")
        self.hexview.focus()
        text = event.value.strip()
        if not text:
            return
        try:
            addr = self.source.resolve(text)
        except Exception as exc:  # noqa: BLE001 - the source says why (WasmemError)
            self.say(f"cannot go to {text!r}: {exc}")
            return
        self.history.append(self.hexview.cursor)
        self.action_jump(addr)
        self.say(f"{text} = {addr:#x}")

    def on_key(self, event) -> None:
        if event.key == "escape":
            box = self.query_one("#goto", Input)
            if box.has_class("open"):
                box.remove_class("open")
                self.hexview.focus()
                event.stop()

    # -- the inspector ------------------------------------------------------------------------------
    def say(self, text: str) -> None:
        self.statusbar.update(Text(shown(text)))

    def inspector_text(self) -> Text:
        src, addr = self.source, self.hexview.cursor
        order = ">" if self.big_endian else "<"
        t = Text()
        t.append(f"{addr:#010x}", style="bold cyan")
        t.append(f"  {'big' if self.big_endian else 'little'} endian\n", style="dim")
        region = self.hexview.region_at(addr)
        if region is not None:
            t.append(f"{shown(region.label or region.kind)}\n", style=REGION_STYLE.get(region.kind, ""))
        objs = self.hexview.objects.overlapping(addr, addr + 1)
        for _i, lo, _hi, s in objs:
            off = addr - lo
            t.append(f"{shown(s.display_name)}{f'+{off:#x}' if off else ''}", style="yellow")
            t.append(f"  {shown(s.type_name or '')}\n", style="dim")
        if addr in src.changed:
            t.append("changed by the last call\n", style="red")
        if src.sp is not None and addr == src.sp:
            t.append("the stack pointer\n", style="magenta")
        t.append("\n")
        for name, code, size in SCALARS:
            try:
                raw = src.read(addr, size)
                v = struct.unpack(order + code, raw)[0]
                text = repr(v) if isinstance(v, float) else (f"{v}" if v < 10 else f"{v}  {v & ((1 << 8 * size) - 1):#x}")
            except Exception:  # noqa: BLE001 - past the end of memory
                text = "—"
            t.append(f"{name:>4} ", style="dim")
            t.append(text + "\n")
        try:
            p = int.from_bytes(src.read(addr, 4), "big" if self.big_endian else "little")
            label = src.symbols.label(p) if src.symbols is not None and 0 < p < src.size else None
            inside = "" if 0 <= p < src.size else "  (outside memory)"
            t.append(" ptr ", style="dim")
            t.append(f"{p:#x}{' ' + shown(label) if label else ''}{inside}\n", style="cyan")
        except Exception:  # noqa: BLE001
            pass
        return t

    def update_inspector(self) -> None:
        self.inspector.update(self.inspector_text())


def run_view(source, at: int | None = None) -> None:
    MemoryApp(source, at).run()
