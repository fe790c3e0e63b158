"""Renderables of `wasmem heap` (live blocks by site) and `wasmem leaks` (live bytes per call)."""

from __future__ import annotations

from rich.console import Group
from rich.measure import Measurement
from rich.table import Table
from rich.text import Text

from ..text import shown
from .common import add_row, fmt_addr, fmt_bytes

MAX_GROUPS = 50
MAX_ITERATIONS = 40


def _site_where(site) -> str:
    """The site and, when known, its ``file:line`` in parentheses."""
    return _site_text(site) + (f" ({site.location})" if site is not None and site.location else "")


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


class SourcePlace:
    """A ``file:line`` cell that keeps its file name and line however narrow the table: the directories are
    elided from the left (``…/heldout/heapbugs.c:42``), never the end (a CI log is 80 columns wide)."""

    def __init__(self, location: str):
        self.location = shown(location)
        head, sep, tail = self.location.rpartition("/")
        self.tail = tail if sep else self.location  # file:line, never cut

    def fit(self, width: int) -> str:
        loc = self.location
        if len(loc) <= width:
            return loc
        if len(self.tail) + 2 > width:
            return self.tail
        return "…" + loc[len(loc) - (width - 1):] if width > 1 else self.tail

    @property
    def min_width(self) -> int:
        """``…/file:line``: the narrowest it is shown."""
        return min(len(self.tail) + (2 if self.tail != self.location else 0), len(self.location))

    def __rich_measure__(self, console, options) -> Measurement:
        return Measurement(self.min_width, len(self.location))

    def __rich_console__(self, console, options):
        yield Text(self.fit(options.max_width), no_wrap=True, overflow="ignore")


class SitesTable:
    """A table of sites whose ``line`` column keeps its file names and lines however narrow the console (a CI
    log is 80 columns wide): the ``site`` column gives up its room first (it wraps), then the directories of the
    paths are elided from the left (``SourcePlace``)."""

    GAP = 2  # rich's padding between two columns

    def __init__(self, columns: list[tuple[str, str]], rows: list[tuple]):
        self.columns = columns  # (header, justify)
        self.rows = rows  # str cells, SourcePlace or "" in the ``line`` column

    def __rich_console__(self, console, options):
        names = [c for c, _ in self.columns]
        site, line = names.index("site"), names.index("line")
        places = [r[line] for r in self.rows if isinstance(r[line], SourcePlace)]
        line_min = max((p.min_width for p in places), default=len("line"))
        others = sum(max([len(c)] + [len(r[k]) for r in self.rows if isinstance(r[k], str)])
                     for k, c in enumerate(names) if k not in (site, line))
        room = options.max_width - others - self.GAP * (len(names) - 1)
        site_w = max([len("site")] + [len(r[site]) for r in self.rows])
        line_w = max([line_min] + [len(p.location) for p in places])
        if site_w + line_w > room:  # the site column gives up what the file names and lines need, then the paths
            site_w = max(12, min(site_w, room - line_min))
            line_w = max(line_min, room - site_w)
        t = Table(box=None, pad_edge=False, show_edge=False)
        for k, (col, just) in enumerate(self.columns):
            width = {site: {"max_width": site_w}, line: {"width": line_w, "no_wrap": True}}.get(k, {})
            t.add_column(col, justify=just, **width)
        for r in self.rows:
            add_row(t, *r)
        yield t


def _place(location: str | None):
    return SourcePlace(location) if location else ""


def _unjudged(unjudged: list[dict]) -> list[Text]:
    """The frees wasmem could not judge (by reason): counted, not findings."""
    out = [Text(shown(f"not judged ({u['count']:,}): {u['reason']}"), style="yellow") for u in unjudged]
    if out:
        out.append(Text("(what wasmem cannot judge is counted, not reported as a finding, and does not fail the exit "
                        "status)", style="dim"))
    return out


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
        here = _site_where(f.access if f.access is not None else s)
        if f.kind == "double-free":
            # "already freed" names the first free (when recorded), the finding's own site the second
            first = sites.get(f.freed_at) if f.freed_at is not None else None
            if first is not None:
                line.append(shown(f" in {_site_where(first)}"))
            line.append(shown(f"; freed again in {here}"))
            if f.count > 1:
                line.append(f" ({f.count} times)")
            out.append(line)
            continue
        line.append(shown(f" in {here}"))
        if f.count > 1:
            line.append(f" ({f.count} times)")
        if f.kind == "uninit-read" and s is not None:  # a read of never-written bytes: where the block came from
            line.append(shown(f"; allocated in {_site_where(s)}"))
        if f.freed_at is not None:  # (a double free said where it was first freed above)
            line.append(shown(f"; freed in {_site_where(sites.get(f.freed_at))}"))
        out.append(line)
    if len(findings) > 50:
        out.append(Text(f"… {len(findings) - 50} more findings (--json lists them all)"))
    return out


_HEAP_BASE_SOURCES = {"export": "the exported __heap_base", "linker-symbol": "__heap_base, a linker symbol",
                      "estimate": "the layout's estimate", "memory-grow": "the memory grown at run time",
                      "allocator-grow": "learned where the allocator first grew memory"}


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
    base = _heap_base_line(report)
    if base is not None:
        parts.append(base)
    groups = report.groups
    if groups:
        rows = []
        for g in groups[:MAX_GROUPS]:
            first = min(g.blocks, key=lambda b: b.address)
            rows.append((str(g.count), str(g.bytes), _site_text(g.site), _place(g.site.location),
                         ", ".join(g.types), fmt_addr(first.address)))
        parts.append(SitesTable([("blocks", "right"), ("bytes", "right"), ("site", "left"), ("line", "left"),
                                 ("type", "left"), ("first", "left")], rows))
        if len(groups) > MAX_GROUPS:
            parts.append(Text(f"… {len(groups) - MAX_GROUPS} more sites"))
        paths = [b for g in groups[:MAX_GROUPS] for b in g.blocks[:1] if b.path]
        for b in paths[:10]:
            parts.append(Text(shown(f"  path of {fmt_addr(b.address)}: " + " → ".join(b.path)), style="dim"))
    parts += _findings(report.findings, report.sites)
    parts += _unjudged(report.unjudged)
    if report.trap:
        parts.append(Text(shown(f"trapped: {report.trap}"), style="bold red"))
    return Group(*parts)


def _heap_base_line(report) -> Text | None:
    if report.heap_base is None:
        return None
    src = _HEAP_BASE_SOURCES.get(report.heap_base_source or "", "")
    size = getattr(report, "memory_size", None)
    mem = f", memory {fmt_bytes(size)}" if size is not None else ""
    return Text(f"heap base {fmt_addr(report.heap_base)}{f' ({src})' if src else ''}{mem}", style="dim")


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
    parts.append(Text(f"growth per call: {_fig(g)} bytes{limit}" + (" — exceeded" if report.exceeded else ""),
                      style=style))
    if its and round(report.released_per_call, 1):  # the sites' total differs from the growth: say why
        parts.append(Text(_figures_line(report), style="dim"))
    base = _heap_base_line(report)
    if base is not None:
        parts.append(base)
    if report.sites:
        last = its[-1].n if its else 0
        calls = f"call {last}" if report.measured == 1 and len(its) == 1 else f"calls 2–{last}"
        parts.append(Text(f"blocks that outlive the call (allocated in {calls}, still live after call {last}; "
                          f"per call: ÷ {report.measured}):"))
        rows = []
        for ls in report.sites[:MAX_GROUPS]:
            who = ""
            if ls.returned:
                who = ("returned: the caller must free it" if ls.returned == ls.blocks
                       else f"{ls.returned} returned to the caller")
            elif ls.site.is_host:
                who = "allocated by wasmem's host call"
            rows.append((str(ls.blocks), str(ls.bytes), _fig(ls.per_call), _site_text(ls.site),
                         _place(ls.site.location), who))
        if len(report.sites) > 1:
            rows.append((str(sum(s.blocks for s in report.sites)), str(report.retained),
                         _fig(report.retained_per_call), "total", "", ""))
        parts.append(SitesTable([("blocks", "right"), ("bytes", "right"), ("per call", "right"), ("site", "left"),
                                 ("line", "left"), ("", "left")], rows))
    elif its:
        parts.append(Text("no block allocated by the calls after the first is still live", style="green"))
    parts += _findings(report.findings, report.finding_sites)
    parts += _unjudged(report.unjudged)
    if report.trap:
        parts.append(Text(shown(f"trapped: {report.trap}"), style="bold red"))
    return Group(*parts)


def _fig(x: float) -> str:
    """A per-call figure: at most one decimal, the same in every view."""
    return f"{round(x, 1):g}"


def _figures_line(report) -> str:
    """How the growth per call is made, with the same figures as the site table: what the measured calls left
    live minus what they freed of older blocks."""
    its = report.iterations
    if len(its) == 1:
        how = "live bytes after the call minus before it"
    else:
        how = f"(live bytes after call {its[-1].n} − after call {its[0].n}) / {report.measured}"
    cut = "at least " if report.blocks_cut else ""
    return (f"  = {cut}{_fig(report.retained_per_call)} per call left live in blocks these calls allocated (the "
            f"sites below) − {_fig(report.released_per_call)} per call of older blocks they freed; growth = {how}")


def render_findings(report) -> Group:
    """The double, invalid and size-mismatched frees (and --memcheck's accesses) of a HeapReport, alone (the
    shell's `heap findings`)."""
    n = len(report.findings)
    head = Text(f"{n} finding{'' if n == 1 else 's'}" + ("" if n else ": no double or invalid free so far"),
                style="bold red" if n else "green")
    return Group(head, *_findings(report.findings, report.sites))
