"""The heap as tracking sees it: live blocks, the sites that allocated them, findings, and a leak trend.

Pure data (issue 15): ``runtime/heap.py`` turns the heap pass's log into these objects, the commands
(``wasmem heap``, ``wasmem leaks``) build the reports, ``render/heap.py`` shows them. A *site* is a call
of an allocator function: the calling function and the call's offset in the original module (file:line
when DWARF has it), or the host (wasmem's own calls through the allocator's export: ``s:`` arguments,
``--before "malloc 32"``).
"""

from __future__ import annotations

from dataclasses import dataclass, field

MAX_BLOCKS_SHOWN = 2000  # blocks listed in a report (the groups count them all)
MAX_FINDINGS = 1000  # findings a tracker keeps (later ones are counted, and a note says so); --json lists them all


@dataclass
class Site:
    id: int  # the heap pass's site number; -1 = the host
    function: str | None = None
    func_index: int | None = None
    offset: int | None = None  # in the original module
    location: str | None = None  # file:line
    allocator: str | None = None  # the allocator function called there

    @property
    def is_host(self) -> bool:
        return self.id < 0

    @property
    def label(self) -> str:
        if self.is_host:
            return "(host: wasmem's call of " + (self.allocator or "the allocator") + ")"
        at = f"{self.function or f'func[{self.func_index}]'}+{self.offset:#x}" if self.offset is not None else \
            (self.function or "?")
        return at

    def to_dict(self) -> dict:
        return {"id": self.id, "host": self.is_host, "function": self.function, "func_index": self.func_index,
                "offset": self.offset, "location": self.location, "allocator": self.allocator}


@dataclass
class HeapBlock:
    """A live block the tracked allocator handed out and the program has not freed."""

    address: int
    size: int
    site: int  # Site.id
    seq: int  # the allocation's event number (1-based, across the session)
    call: int  # number of the host call it happened in (0 = while the module initialised)
    path: list[str] | None = None  # the call path, outermost first (--paths)
    type: str | None = None  # a DWARF type, when a typed pointer variable points at it

    def to_dict(self) -> dict:
        return {"address": self.address, "size": self.size, "site": self.site, "seq": self.seq,
                "call": self.call, "path": self.path, "type": self.type}


@dataclass
class HeapFinding:
    """A heap error tracking saw: a bad free, or (--memcheck) a bad access."""

    kind: str  # double-free | invalid-free | size-mismatch | use-after-free | outside-block (--memcheck)
    #            | uninit-read (--memcheck-uninit)
    address: int
    site: int  # the free's site (a bad free); an uninit-read: the site that allocated the block; else -1
    call: int
    message: str
    freed_at: int | None = None  # a double free, a use after free: the site of the (first) free
    access: Site | None = None  # --memcheck: the load or store (id = its access number)
    count: int = 1  # --memcheck: how many times that access hit

    def to_dict(self) -> dict:
        return {"kind": self.kind, "address": self.address, "site": self.site, "call": self.call,
                "message": self.message, "freed_at": self.freed_at,
                "access": self.access.to_dict() if self.access is not None else None, "count": self.count}


@dataclass
class SiteGroup:
    """The live blocks one site allocated."""

    site: Site
    count: int = 0
    bytes: int = 0
    blocks: list[HeapBlock] = field(default_factory=list)
    types: list[str] = field(default_factory=list)

    def to_dict(self) -> dict:
        return {"site": self.site.to_dict(), "count": self.count, "bytes": self.bytes,
                "types": list(self.types), "blocks": [b.address for b in self.blocks]}


def group_by_site(blocks: list[HeapBlock], sites: dict[int, Site]) -> list[SiteGroup]:
    """Groups, largest total first."""
    groups: dict[int, SiteGroup] = {}
    for b in blocks:
        g = groups.get(b.site)
        if g is None:
            g = groups[b.site] = SiteGroup(sites.get(b.site) or Site(b.site))
        g.count += 1
        g.bytes += b.size
        g.blocks.append(b)
        if b.type and b.type not in g.types:
            g.types.append(b.type)
    return sorted(groups.values(), key=lambda g: (-g.bytes, -g.count, g.site.id))


@dataclass
class Extent:
    """Where the live blocks lie: lowest start, highest end, and how much of that span is not live."""

    low: int
    high: int
    live_bytes: int
    largest_gap: int
    gaps: int

    @property
    def span(self) -> int:
        return self.high - self.low

    @property
    def fragmentation(self) -> float:
        """The share of the span between the first and the last live block that no live block holds
        (allocator headers and padding count as free here: it is an upper bound)."""
        return 0.0 if self.span <= 0 else max(0.0, 1.0 - self.live_bytes / self.span)

    def to_dict(self) -> dict:
        return {"low": self.low, "high": self.high, "span": self.span, "live_bytes": self.live_bytes,
                "largest_gap": self.largest_gap, "gaps": self.gaps, "fragmentation": round(self.fragmentation, 4)}


def extent_of(blocks: list[HeapBlock]) -> Extent | None:
    if not blocks:
        return None
    bs = sorted(blocks, key=lambda b: b.address)
    live = sum(b.size for b in bs)
    largest = gaps = 0
    end = bs[0].address
    for b in bs:
        if b.address > end:
            gaps += 1
            largest = max(largest, b.address - end)
        end = max(end, b.address + b.size)
    return Extent(bs[0].address, end, live, largest, gaps)


@dataclass
class HeapReport:
    """``wasmem heap``: the live blocks after the calls, grouped by site."""

    allocators: list[dict]
    calls: list[str]
    blocks: list[HeapBlock]
    sites: dict[int, Site]
    findings: list[HeapFinding] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    heap_base: int | None = None
    memory_size: int | None = None
    events: int = 0
    heap_base_source: str | None = None  # export | linker-symbol | estimate (memcheck only): who says heap_base
    allocations: int = 0
    frees: int = 0
    trap: str | None = None
    unjudged: list[dict] = field(default_factory=list)  # frees wasmem could not judge: {"reason", "count"}

    @property
    def groups(self) -> list[SiteGroup]:
        return group_by_site(self.blocks, self.sites)

    @property
    def extent(self) -> Extent | None:
        return extent_of(self.blocks)

    @property
    def live_bytes(self) -> int:
        return sum(b.size for b in self.blocks)

    @property
    def ok(self) -> bool:
        return not self.findings and self.trap is None

    def to_dict(self) -> dict:
        ext = self.extent
        shown = sorted(self.blocks, key=lambda b: b.address)[:MAX_BLOCKS_SHOWN]
        return {"allocators": self.allocators, "calls": list(self.calls), "live_blocks": len(self.blocks),
                "live_bytes": self.live_bytes, "events": self.events, "allocations": self.allocations,
                "frees": self.frees, "heap_base": self.heap_base,
                "heap_base_source": self.heap_base_source, "memory_size": self.memory_size,
                "extent": ext.to_dict() if ext is not None else None,
                "groups": [g.to_dict() for g in self.groups],
                "blocks": [b.to_dict() for b in shown], "blocks_truncated": len(self.blocks) > len(shown),
                "findings": [f.to_dict() for f in self.findings[:MAX_FINDINGS]],
                "sites": {str(k): s.to_dict() for k, s in sorted(self.sites.items())},
                "unjudged": [dict(u) for u in self.unjudged],
                "trap": self.trap, "notes": list(self.notes)}


@dataclass
class Iteration:
    n: int
    live_bytes: int
    live_blocks: int
    allocated: int  # bytes allocated during the call
    freed: int  # bytes freed during the call
    result: list | None = None
    returned_block: int | None = None  # address of a block the call returned to its caller

    def to_dict(self) -> dict:
        return {"n": self.n, "live_bytes": self.live_bytes, "live_blocks": self.live_blocks,
                "allocated": self.allocated, "freed": self.freed, "returned_block": self.returned_block}


@dataclass
class LeakSite:
    """A site whose blocks, allocated during the repeated calls, are still live after the last one."""

    site: Site
    blocks: int
    bytes: int
    per_call: float  # bytes per measured call (LeakReport.measured: the calls after the first)
    returned: int = 0  # of those blocks, how many the call returned to its caller

    def to_dict(self) -> dict:
        return {"site": self.site.to_dict(), "blocks": self.blocks, "bytes": self.bytes,
                "per_call": self.per_call, "returned": self.returned}


@dataclass
class LeakReport:
    """``wasmem leaks``: live bytes after each of N calls of one function."""

    call: str
    repeat: int
    baseline: int  # live bytes before the first call (after --before)
    iterations: list[Iteration]
    sites: list[LeakSite]
    allocators: list[dict]
    findings: list[HeapFinding] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    max_growth: int | None = None
    trap: str | None = None
    finding_sites: dict[int, Site] = field(default_factory=dict)
    retained: int = 0  # bytes of the blocks the measured calls allocated that are still live (``sites``' total)
    blocks_cut: int = 0  # live blocks the command's deadline left out of ``sites`` (then ``retained`` is partial)
    unjudged: list[dict] = field(default_factory=list)  # frees wasmem could not judge: {"reason", "count"}
    heap_base: int | None = None  # --memcheck: where it takes the heap to start …
    heap_base_source: str | None = None  # … and who says so (as HeapReport's)

    # Every per-call figure is over the same *measured calls*: the calls after the first (the first may fill
    # caches), or the one call when there is only one; ``measured`` says how many.
    @property
    def measured(self) -> int:
        return max(1, len(self.iterations) - 1)

    @property
    def growth_per_call(self) -> float:
        """Net live bytes per measured call: (live after the last call − live after the first) / (N − 1), so that
        a cache filled on the first call is not counted; with one call, its own growth. It is
        ``retained_per_call − released_per_call``."""
        its = self.iterations
        if not its:
            return 0.0
        if len(its) == 1:
            return float(its[0].live_bytes - self.baseline)
        return (its[-1].live_bytes - its[0].live_bytes) / (len(its) - 1)

    @property
    def retained_per_call(self) -> float:
        """Bytes per measured call of the blocks those calls allocated and left live (the site table's per-call
        column adds up to it)."""
        return self.retained / self.measured if self.iterations else 0.0

    @property
    def released_per_call(self) -> float:
        """Bytes per measured call by which the live heap shrank otherwise: blocks from before the measured calls
        that they freed (or resized smaller); ``retained_per_call − growth_per_call``."""
        return self.retained_per_call - self.growth_per_call if self.iterations else 0.0

    @property
    def exceeded(self) -> bool:
        return self.max_growth is not None and self.growth_per_call > self.max_growth

    @property
    def ok(self) -> bool:
        return not self.exceeded and self.trap is None and not self.findings

    def to_dict(self) -> dict:
        return {"call": self.call, "repeat": self.repeat, "baseline": self.baseline, "measured_calls": self.measured,
                "growth_per_call": self.growth_per_call, "retained_per_call": self.retained_per_call,
                "released_per_call": self.released_per_call, "max_growth": self.max_growth, "exceeded": self.exceeded,
                "iterations": [i.to_dict() for i in self.iterations], "sites": [s.to_dict() for s in self.sites],
                "allocators": self.allocators, "findings": [f.to_dict() for f in self.findings[:MAX_FINDINGS]],
                "finding_sites": {str(k): s.to_dict() for k, s in sorted(self.finding_sites.items())},
                "unjudged": [dict(u) for u in self.unjudged], "heap_base": self.heap_base,
                "heap_base_source": self.heap_base_source,
                "trap": self.trap, "notes": list(self.notes), "ok": self.ok}
