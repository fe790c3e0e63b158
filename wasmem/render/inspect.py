"""The `inspect` view of a MemoryLayout: summary, memories, layout map, stack, globals, data, findings."""

from __future__ import annotations

from rich.console import Console, ConsoleOptions, Group, RenderResult
from rich.table import Table
from rich.text import Text

from ..model.layouttypes import MemoryLayout
from .common import REGION_STYLE, SEVERITY_STYLE, add_row, fmt_addr, fmt_bytes, shown

MAX_SEGMENTS = 8
MAX_REGION_ROWS = 24
REGION_GLYPH = {"stack": "▓", "data": "█", "heap": "░", "free": "·"}


class LayoutBar:
    """A proportional bar of memory 0's initial size: one character per slice, coloured by region.
    Every region gets at least one character, so a small stack is still visible; the legend says what
    one cell is and how many regions were widened to be seen (so the bar is to scale but for those)."""

    def __init__(self, layout: MemoryLayout):
        self.layout = layout

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        regions = [r for r in self.layout.regions if r.size > 0]
        if not regions:
            return
        width = max(20, min(options.max_width, 100) - 2)
        total = sum(r.size for r in regions)
        if len(regions) * 2 > width:
            regions = self._coarsen(regions, total, width)
        # largest-remainder allocation with a minimum of one cell per region
        cells = [max(1, r.size * width // total) for r in regions]
        while sum(cells) > width:
            i = max(range(len(cells)), key=lambda k: cells[k])
            cells[i] -= 1
        while sum(cells) < width:
            i = max(range(len(cells)), key=lambda k: regions[k].size / cells[k])
            cells[i] += 1
        bar = Text("|")
        for r, n in zip(regions, cells, strict=True):
            fill = REGION_GLYPH.get(r.kind, "?")
            label = f" {r.kind} " if n >= len(r.kind) + 4 else ""
            bar.append(label.center(n, fill), style=REGION_STYLE.get(r.kind, ""))
        bar.append("|")
        yield bar
        axis = Text(f"0x{0:x}".ljust(width // 2) + f"{fmt_addr(regions[-1].end)}".rjust(width - width // 2 + 2),
                    style="dim")
        yield axis
        widened = [r for r, n in zip(regions, cells, strict=True) if r.size * width / total < n - 0.5]
        scale = f"1 cell = {fmt_bytes(-(-total // width))}"
        if widened:  # say so: a 350-byte region drawn as a whole cell would otherwise pass for ~1 % of memory
            scale += f", {len(widened)} small region{'s' if len(widened) > 1 else ''} widened to 1 cell"
        yield Text("  ".join(f"{g} {k}" for k, g in REGION_GLYPH.items()
                             if any(r.kind == k for r in regions)) + f"   ({scale})", style="dim")


    @staticmethod
    def _coarsen(regions, total, width):
        """Too many regions for one cell each: give every cell the kind that covers most of it."""
        from ..model.layouttypes import Region

        base = regions[0].start
        out: list = []
        k = 0
        for i in range(width):
            lo, hi = base + total * i // width, base + total * (i + 1) // width
            cover: dict[str, int] = {}
            while k < len(regions) and regions[k].end <= lo:
                k += 1
            j = k
            while j < len(regions) and regions[j].start < hi:
                r = regions[j]
                cover[r.kind] = cover.get(r.kind, 0) + min(r.end, hi) - max(r.start, lo)
                j += 1
            kind = max(cover, key=cover.get) if cover else "free"
            if out and out[-1].kind == kind:
                out[-1] = Region(kind, out[-1].start, hi, kind)
            else:
                out.append(Region(kind, lo, hi, kind))
        return out


class InspectView:
    def __init__(self, layout: MemoryLayout, *, max_segments: int = MAX_SEGMENTS, imports=None, exports=None):
        self.layout = layout
        self.max_segments = max_segments
        self.imports = imports  # wasmem.model.interface.describe_imports(...), shown when given
        self.exports = exports

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        lay = self.layout
        yield Text(shown(lay.path or '<module>'), style="bold")
        yield Text(f"  {fmt_bytes(lay.file_size)} ({lay.file_size} bytes)"
                   + (f" · {shown(lay.toolchain)}" if lay.toolchain else ""), style="dim")
        if lay.contents is not None:
            yield self._module(lay.contents)
        yield Text("")
        yield self._memories()
        if lay.memory is not None:
            yield Text("")
            yield Text("Linear memory 0 (initial size)", style="bold")
            yield LayoutBar(lay)
            yield self._regions()
        yield Text("")
        yield self._stack()
        if lay.linker_symbols:
            yield Text("")
            yield self._symbols()
        if lay.value_globals:
            yield Text("")
            yield self._values()
        if lay.segments:
            yield Text("")
            yield self._segments()
        if self.imports is not None:
            yield Text("")
            yield self._imports()
        if self.exports is not None:
            yield Text("")
            yield self._exports()
        yield Text("")
        yield self._findings()

    def _module(self, c):
        g = Table.grid(padding=(0, 1))
        g.add_column(style="dim", no_wrap=True)
        g.add_column()
        std = [h for h in c.sections if h.id != 0]
        custom = [h for h in c.sections if h.id == 0]
        add_row(g, "sections", " · ".join(f"{h.name} {fmt_bytes(h.size)}" for h in std) or "none")
        if custom:
            debug = [h for h in custom if h.name.startswith(".debug_")]
            names = [f"{h.name} {fmt_bytes(h.size)}" for h in custom if not h.name.startswith(".debug_")]
            if debug:
                names.append(f"DWARF ({len(debug)} .debug_* sections, {fmt_bytes(sum(h.size for h in debug))})")
            add_row(g, "custom", " · ".join(names))
        add_row(g, "contents", f"{c.num_functions} functions ({c.num_imported_functions} imported), "
                              f"{c.num_globals} globals, {c.num_imports} imports, {c.num_exports} exports")
        if c.features:
            add_row(g, "features", " ".join(c.features))
        if c.dylink is not None:
            d = c.dylink
            add_row(g, "dylink", f"{'legacy dylink' if d.legacy else 'dylink.0'}: the loader places "
                                f"{d.mem_size} bytes of data (align 2^{d.mem_align}) at __memory_base and "
                                f"{d.table_size} table slots at __table_base"
                                + (f"; needs {', '.join(d.needed)}" if d.needed else ""))
        if c.external_debug_info:
            add_row(g, "debug info", f"external: {c.external_debug_info}")
        if c.source_mapping_url:
            add_row(g, "source map", c.source_mapping_url)
        return g

    def _memories(self):
        lay = self.layout
        if not lay.memories:
            return Text("Memories: none (this module has no linear memory)")
        t = Table(title="Memories", title_justify="left", title_style="bold", show_edge=False, pad_edge=False)
        for col in ("#", "origin", "min", "max", "flags"):
            t.add_column(col)
        for m in lay.memories:
            origin = f"import {m.imported}" if m.imported else "defined"
            if m.exports:
                origin += ", export " + ", ".join(f"'{shown(e)}'" for e in m.exports)
            mx = "none" if m.max_pages is None else f"{m.max_pages} pages ({fmt_bytes(m.max_bytes)})"
            flags = [f for f, on in (("shared", m.shared), ("memory64", m.is64)) if on]
            if m.page_size != 65536:
                flags.append(f"page size {m.page_size}")
            add_row(t, str(m.index), origin, f"{m.min_pages} pages ({fmt_bytes(m.min_bytes)})", mx,
                      ", ".join(flags) or "-")
        return t

    def _regions(self):
        t = Table(show_edge=False, pad_edge=False, show_header=True)
        for col in ("region", "start", "end", "size", ""):
            t.add_column(col, justify="right" if col in ("size",) else "left")
        regions = self.layout.regions
        shown = regions if len(regions) <= MAX_REGION_ROWS else regions[: MAX_REGION_ROWS - 1]
        for r in shown:
            add_row(t, Text(r.kind, style=REGION_STYLE.get(r.kind, "")), fmt_addr(r.start), fmt_addr(r.end),
                      fmt_bytes(r.size), r.label + ("" if r.exact else " (estimate)"))
        if len(shown) < len(regions):
            rest = regions[len(shown):]
            add_row(t, "…", fmt_addr(rest[0].start), fmt_addr(rest[-1].end), fmt_bytes(sum(r.size for r in rest)),
                      f"{len(rest)} more regions (--json lists all)")
        return t

    def _stack(self):
        lay = self.layout
        g = Table.grid(padding=(0, 1))
        g.add_column(style="bold", no_wrap=True)
        g.add_column()

        def row(label: str, value: str, note: str | None = None):
            t = Text(shown(value))
            if note:
                t.append("\n" + shown(note), style="dim")
            add_row(g, label, t)

        sp = lay.stack_pointer
        if sp is None:
            row("stack pointer", "none found")
        else:
            init = "set by the loader" if sp.imported else fmt_addr(sp.initial)
            row("stack pointer", f"global {sp.global_index} ({sp.valtype}), initial {init}",
                f"found by {sp.provenance}: {sp.detail}")
        row("layout", lay.layout_kind, lay.layout_reason)
        if lay.stack_size is not None:
            bound = "" if lay.stack_exact else "at most "
            row("stack", f"[{fmt_addr(lay.stack_low)}, {fmt_addr(lay.stack_high)}) = {bound}"
                f"{fmt_bytes(lay.stack_size)} ({lay.stack_size} bytes)", lay.stack_reason or None)
        if lay.data_end is not None and lay.data_end_source is not None:
            src = next((f for f in lay.data_end_facts if f.source == lay.data_end_source), None)
            row("data end", f"{fmt_addr(lay.data_end)}{'' if lay.data_end_exact else ' at least'} "
                f"(from {lay.data_end_source})", src.detail if src is not None else None)
        if lay.heap_base is not None:
            est = "" if lay.heap_base_exact else " (estimate)"
            row("heap base", f"{fmt_addr(lay.heap_base)}{est}",
                f"{fmt_bytes(lay.heap_available)} of the initial memory left for the heap")
        al = lay.allocators
        if al is not None and (al.functions or al.notes):
            fams = al.families
            by = sorted({f.found_by for f in al.functions})
            text = (", ".join(f.name for f in al.functions) + f" ({', '.join(fams)}; by {', '.join(by)})"
                    if al.functions else "none found")
            detail = list(al.notes)
            pointers = [f.name for f in al.functions if f.in_table]
            if pointers:
                detail.append(f"in a table (also called through function pointers): {', '.join(pointers)}")
            if al.shims:
                detail.append(f"{len(al.shims)} interface function{'s' if len(al.shims) != 1 else ''} "
                              "(mem.Allocator.*): allocations are attributed to their callers")
            row("allocator", text, "; ".join(detail) or None)
        if lay.min_pages_needed is not None:
            row("pages needed", f"{lay.min_pages_needed} (declared minimum "
                f"{lay.memory.min_pages if lay.memory else '?'})")
        return Group(Text("Stack and heap", style="bold"), g)

    def _symbols(self):
        t = Table(title="Linker symbols", title_justify="left", title_style="bold", show_edge=False,
                  pad_edge=False)
        t.add_column("symbol")
        t.add_column("value")
        for name, v in sorted(self.layout.linker_symbols.items(), key=lambda kv: kv[1]):
            add_row(t, name, fmt_addr(v))
        return t

    def _values(self):
        t = Table(title="Exported values (not addresses: never used as labels)", title_justify="left",
                  title_style="bold", show_edge=False, pad_edge=False)
        for col in ("global", "value", "why"):
            t.add_column(col)
        for g in self.layout.value_globals:
            add_row(t, g.name, f"{g.value} ({g.value:#x})", g.reason)
        return t

    @staticmethod
    def _listing(title: str, columns: tuple[str, ...], rows) -> Table:
        t = Table(title=title, title_justify="left", title_style="bold", show_edge=False, pad_edge=False)
        for col in columns:
            t.add_column(col, justify="right" if col == "#" else "left")
        for row in rows:
            add_row(t, *row)
        return t

    def _imports(self):
        return self._listing(f"Imports ({len(self.imports)})", ("module", "name", "kind", "#", "signature"),
                             ((i["module"], i["name"], i["kind"], str(i["index"]), i["signature"])
                              for i in self.imports))

    def _exports(self):
        def fname(e):
            f = e.get("function_name")
            return f if f and f != e["name"] else ""

        return self._listing(f"Exports ({len(self.exports)})", ("name", "kind", "#", "signature", "function"),
                             ((e["name"], e["kind"], str(e["index"]), e["signature"], fname(e))
                              for e in self.exports))

    def _segments(self):
        lay = self.layout
        segs = sorted(lay.segments, key=lambda s: -s.size)[: self.max_segments]
        n = len(lay.segments)
        title = f"Data segments ({n}, {lay.passive_segments} passive)" + (
            f", largest {len(segs)}" if n > len(segs) else "")
        t = Table(title=title, title_justify="left", title_style="bold", show_edge=False, pad_edge=False)
        for col in ("#", "name", "mode", "address", "end", "size"):
            t.add_column(col, justify="right" if col == "size" else "left")
        for s in sorted(segs, key=lambda s: (s.memory, s.address if s.address is not None else -1, s.index)):
            mode = s.mode if s.memory == 0 else f"{s.mode} (memory {s.memory})"
            add_row(t, str(s.index), s.name or "", mode, fmt_addr(s.address), fmt_addr(s.end), fmt_bytes(s.size))
        return t

    def _findings(self):
        f = self.layout.findings
        if not f:
            return Text("Findings: none", style="bold")
        order = {"error": 0, "warning": 1, "info": 2}
        g = Table.grid(padding=(0, 1))
        g.add_column(no_wrap=True, justify="right")
        g.add_column()
        for x in sorted(f, key=lambda x: order[x.severity]):
            msg = Text(shown(x.message))
            if x.hint:
                msg.append(f"\nfix: {shown(x.hint)}", style="dim")
            add_row(g, Text(x.severity, style=SEVERITY_STYLE[x.severity]), msg)
        return Group(Text("Findings", style="bold"), g)
