"""Renderables of `wasmem heap` (live blocks by site) and `wasmem leaks` (live bytes per call)."""

from __future__ import annotations

from rich.console import Group
from rich.table import Table
from rich.text import Text

from ..text import shown
from .common import add_row, fmt_addr, fmt_bytes

MAX_GROUPS = 50
MAX_ITERATIONS = 40


def _site_text(site) -> str:
    if site is None:
        return "?"
    if site.is_host:
        return site.label
    where = site.function or f"func[{site.func_index}]"
    at = f" at {site.offset:#x}" if site.offset is not None else ""
    return f"{where}{at}"


def _n(count: int, noun: str) -> str:
    return f"{count:,} {noun}{'' if count == 1 else 's'}"


def _allocators_line(allocators: list[dict]) -> Text:
    names = ", ".join(f"{a['name']} ({a['role']}, {a['found_by']})" for a in allocators)
    return Text(shown(f"allocators: {names}"), style="dim")


def _findings(findings, sites) -> list:
    out = []
    for f in findings[:50]:
        s = sites.get(f.site)
        line = Text()
        line.append(f"{f.kind}: ", style="bold red")
        line.append(shown(f.message))
        where = f.access if f.access is not None else s
        here = _site_text(where) + (f" ({where.location})" if where is not None and where.location else "")
        if f.kind == "double-free":
            # "already freed" names the first free (when recorded), the finding's own site the second
            first = sites.get(f.freed_at) if f.freed_at is not None else None
            if first is not None:
                line.append(shown(f" in {_site_text(first)}" + (f" ({first.location})" if first.location else "")))
            line.append(shown(f"; freed again in {here}"))
            if f.count > 1:
                line.append(f" ({f.count} times)")
            out.append(line)
            continue
        line.append(shown(f" in {here}"))
        if f.count > 1:
            line.append(f" ({f.count} times)")
        if f.kind == "uninit-read" and s is not None:  # a read of never-written bytes: where the block came from
            line.append(shown(f"; allocated in {_site_text(s)}" + (f" ({s.location})" if s.location else "")))
        if f.freed_at is not None:
            fs = sites.get(f.freed_at)
            verb = "first freed" if f.kind == "double-free" else "freed"
            line.append(shown(f"; {verb} in {_site_text(fs)}"
                              + (f" ({fs.location})" if fs is not None and fs.location else "")))
        out.append(line)
    if len(findings) > 50:
        out.append(Text(f"… {len(findings) - 50} more findings (--json lists them all)"))
    return out


_HEAP_BASE_SOURCES = {"export": "the exported __heap_base", "linker-symbol": "__heap_base, a linker symbol",
                      "estimate": "the layout's estimate", "memory-grow": "the memory grown at run time"}


def render_heap(report) -> Group:
    parts: list = [_allocators_line(report.allocators)]
    if report.calls:
        parts.append(Text(shown("after: " + "; ".join(report.calls)), style="dim"))
    parts.append(Text(f"{_n(len(report.blocks), 'live block')}, {fmt_bytes(report.live_bytes)} "
                      f"({_n(report.allocations, 'allocation')}, {_n(report.frees, 'free')} seen)", style="bold"))
    ext = report.extent
    if ext is not None:
        parts.append(Text(f"extent {fmt_addr(ext.low)}..{fmt_addr(ext.high)} ({fmt_bytes(ext.span)}): "
                          f"{ext.gaps} gaps, largest {fmt_bytes(ext.largest_gap)}, "
                          f"{ext.fragmentation:.0%} of the span not in live blocks"))
    if report.heap_base is not None:
        src = _HEAP_BASE_SOURCES.get(report.heap_base_source or "", "")
        parts.append(Text(f"heap base {fmt_addr(report.heap_base)}{f' ({src})' if src else ''}, memory "
                          f"{fmt_bytes(report.memory_size)}", style="dim"))
    groups = report.groups
    if groups:
        t = Table(box=None, pad_edge=False, show_edge=False)
        for col, just in (("blocks", "right"), ("bytes", "right"), ("site", "left"), ("line", "left"),
                          ("type", "left"), ("first", "left")):
            t.add_column(col, justify=just)
        for g in groups[:MAX_GROUPS]:
            first = min(g.blocks, key=lambda b: b.address)
            add_row(t, str(g.count), str(g.bytes), _site_text(g.site), g.site.location or "",
                    ", ".join(g.types), fmt_addr(first.address))
        parts.append(t)
        if len(groups) > MAX_GROUPS:
            parts.append(Text(f"… {len(groups) - MAX_GROUPS} more sites"))
        paths = [b for g in groups[:MAX_GROUPS] for b in g.blocks[:1] if b.path]
        for b in paths[:10]:
            parts.append(Text(shown(f"  path of {fmt_addr(b.address)}: " + " → ".join(b.path)), style="dim"))
    parts += _findings(report.findings, report.sites)
    if report.trap:
        parts.append(Text(shown(f"trapped: {report.trap}"), style="bold red"))
    return Group(*parts)


def render_leaks(report) -> Group:
    parts: list = [_allocators_line(report.allocators)]
    parts.append(Text(shown(f"{report.call}  × {report.repeat}"), style="bold"))
    t = Table(box=None, pad_edge=False, show_edge=False)
    for col in ("call", "live bytes", "blocks", "allocated", "freed", "note"):
        t.add_column(col, justify="left" if col == "note" else "right")
    add_row(t, "before", str(report.baseline), "", "", "", "")
    its = report.iterations
    shown_its = its if len(its) <= MAX_ITERATIONS else its[:MAX_ITERATIONS // 2] + its[-MAX_ITERATIONS // 2:]
    prev = None
    for it in shown_its:
        if prev is not None and it.n != prev + 1:
            add_row(t, "…", "", "", "", "", "")
        note = f"returned block {fmt_addr(it.returned_block)}" if it.returned_block is not None else ""
        add_row(t, str(it.n), str(it.live_bytes), str(it.live_blocks), str(it.allocated), str(it.freed), note)
        prev = it.n
    parts.append(t)
    g = report.growth_per_call
    style = "bold red" if report.exceeded else ("yellow" if g > 0 else "green")
    limit = f" (--max-growth {report.max_growth})" if report.max_growth is not None else ""
    parts.append(Text(f"growth per call: {g:g} bytes{limit}" + (" — exceeded" if report.exceeded else ""),
                      style=style))
    if report.sites:
        parts.append(Text("blocks that outlive the call (allocated after the first call, still live):"))
        st = Table(box=None, pad_edge=False, show_edge=False)
        for col, just in (("blocks", "right"), ("bytes", "right"), ("per call", "right"), ("site", "left"),
                          ("line", "left"), ("", "left")):
            st.add_column(col, justify=just)
        for ls in report.sites[:MAX_GROUPS]:
            who = ""
            if ls.returned:
                who = ("returned: the caller must free it" if ls.returned == ls.blocks
                       else f"{ls.returned} returned to the caller")
            elif ls.site.is_host:
                who = "allocated by wasmem's host call"
            add_row(st, str(ls.blocks), str(ls.bytes), f"{ls.per_call:g}", _site_text(ls.site),
                    ls.site.location or "", who)
        parts.append(st)
    elif its:
        parts.append(Text("no block allocated by the calls after the first is still live", style="green"))
    parts += _findings(report.findings, report.finding_sites)
    if report.trap:
        parts.append(Text(shown(f"trapped: {report.trap}"), style="bold red"))
    return Group(*parts)


def render_findings(report) -> Group:
    """The double, invalid and size-mismatched frees (and --memcheck's accesses) of a HeapReport, alone (the
    shell's `heap findings`)."""
    n = len(report.findings)
    head = Text(f"{n} finding{'' if n == 1 else 's'}" + ("" if n else ": no double or invalid free so far"),
                style="bold red" if n else "green")
    return Group(head, *_findings(report.findings, report.sites))
