"""`wasmem symbols`: data symbols and functions as tables; typed values as a tree."""

from __future__ import annotations

from rich.console import Console, ConsoleOptions, RenderResult
from rich.table import Table
from rich.text import Text

from .common import add_row, fmt_addr, shown

REGION_STYLE = {"rodata": "cyan", "data": "green", "bss": "yellow", "heap": "blue", "stack": "magenta",
                "code": "white"}
KIND_STYLE = {"segment": "dim", "marker": "dim italic", "exported": ""}


def _where(s) -> str:
    if s.file is None:
        return ""
    return f"{s.file}:{s.line}" if s.line else s.file


def _size(n) -> str:
    return "?" if n is None else str(n)


class SymbolsView:
    """Renders a ``wasmem.debuginfo.SymbolListing``."""

    def __init__(self, listing):
        self.listing = listing

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        lst = self.listing
        # the path gets a line of its own: a long path then wraps alone, never inside the words after it
        yield Text(shown(lst.path or "<module>"), style="bold")
        yield Text(f"  symbols from {shown(lst.source)}", style="dim")
        if lst.source_mapping_url:
            yield Text(f"  sourceMappingURL: {shown(lst.source_mapping_url)} (not followed)", style="dim")
        if lst.external_debug_info and not lst.source.startswith("dwarf"):
            why = getattr(lst, "external_debug_note", None) or "not found"
            yield Text(f"  external_debug_info: {shown(lst.external_debug_info)} ({shown(why)})", style="yellow")
        data = [s for s in lst.symbols if s.kind != "function"]
        funcs = [s for s in lst.symbols if s.kind == "function"]
        if not data and not funcs:
            yield Text("  no symbols" + ("" if lst.source.startswith("dwarf") else
                                         " (build with -g for DWARF, or keep the name section)"), style="dim")
            return
        if data:
            show_kind = any(s.kind != "variable" for s in data)
            t = Table(box=None, pad_edge=False, header_style="bold", title_justify="left")
            t.add_column("address", no_wrap=True)
            t.add_column("size", justify="right")
            t.add_column("name", overflow="fold")
            if show_kind:
                t.add_column("kind", style="dim")
            t.add_column("type", overflow="fold")
            t.add_column("region")
            t.add_column("source", overflow="fold")
            for s in data:
                cells = [fmt_addr(s.address), _size(s.size), Text(shown(s.display_name), style=KIND_STYLE.get(s.kind, ""))]
                if show_kind:
                    cells.append("" if s.kind == "variable" else s.kind)
                cells += [s.type_name or "", Text(s.region or "", style=REGION_STYLE.get(s.region or "", "")),
                          _where(s)]
                add_row(t, *cells)
            yield t
            if lst.values is not None:  # with --core: one line each, cut at the width
                yield Text("")
                yield Text("values in the coredump", style="bold")
                for s, v in zip(lst.symbols, lst.values, strict=True):
                    if v is not None:
                        line = Text.assemble("  ", (shown(s.display_name), "green"), " = ", shown(v))
                        line.no_wrap, line.overflow = True, "ellipsis"
                        yield line
        if funcs:
            if data:
                yield Text("")
            t = Table(box=None, pad_edge=False, header_style="bold", title="functions", title_justify="left")
            t.add_column("code off", no_wrap=True)
            t.add_column("size", justify="right")
            t.add_column("name", overflow="fold")
            t.add_column("signature", overflow="fold")
            t.add_column("source", overflow="fold")
            for f in funcs:
                add_row(t, f"+{f.address:#06x}", _size(f.size), f.display_name, f.type_name or "", _where(f))
            yield t
            yield Text("code offsets are relative to the code section payload "
                       f"(module offset = +{funcs[0].module_offset - funcs[0].address:#x})"
                       if funcs[0].module_offset is not None else "", style="dim")
