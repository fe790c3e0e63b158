"""Watchpoints as data: what is watched (WatchTarget), each access that hit it (WatchHit), the report.

Pure: the runtime (``runtime/watch.py``) fills these from the instrumented module's hook calls; render
and ``--json`` read them. See ``wasmem.instrument.watch`` for how the check runs inside the module.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ..budgets import BUDGETS

MAX_HITS = BUDGETS["watch-hits"].default  # hits kept per session; the rest are counted (``WatchReport.dropped``)
MAX_VALUE_BYTES = 64  # old/new bytes kept per hit (a memory.fill of 1 MiB keeps its first 64)


@dataclass
class WatchTarget:
    """One ``--watch`` target: ``[start, end)`` in memory 0. ``kind``: range | symbol | region | sp. For
    ``sp`` the low end is the live stack pointer (only writes below the stack's low end ``end`` inside the
    current frames count); ``start`` is then the lowest address such a write could have."""

    text: str
    kind: str
    start: int
    end: int
    label: str | None = None  # <sym+off> or the region's name
    type_name: str | None = None
    dynamic: bool = False  # sp: the low end moves with the stack pointer

    @property
    def size(self) -> int:
        return self.end - self.start

    def to_dict(self) -> dict:
        return {"target": self.text, "kind": self.kind, "start": self.start, "end": self.end,
                "label": self.label, "type": self.type_name, "dynamic": self.dynamic}


@dataclass
class WatchHit:
    """One access that touched a watched range. ``access``: write | read | host (a write done by a host
    function or by anything not instrumented, found by comparing the watched bytes; no code site).
    ``old``/``new`` are the bytes before and after (at most MAX_VALUE_BYTES; None when unknown, e.g. a
    cmpxchg that did not write, a copy from another memory). ``call`` says which call of the command
    ran (``before 1: init``, ``call: corrupt``)."""

    seq: int
    access: str
    address: int
    size: int
    targets: list[str]
    call: str = ""
    function: str | None = None
    func_index: int | None = None
    offset: int | None = None  # original module's file offset of the instruction
    op: str | None = None
    location: str | None = None  # file:line from DWARF
    label: str | None = None  # the address as <symbol+off> or symbol.field
    old: bytes | None = None
    new: bytes | None = None
    value_type: str | None = None  # the DWARF type of the field written, when known
    old_value: str | None = None  # typed rendering of old/new when the DWARF type is a scalar of the size
    new_value: str | None = None
    wrote: bool = True  # False: a cmpxchg whose comparison failed (reported, but nothing changed)
    path: list[str] | None = None  # the call path, outermost first (ends with ``function``); None: unknown

    def to_dict(self) -> dict:
        return {"seq": self.seq, "access": self.access, "address": self.address, "size": self.size,
                "targets": list(self.targets), "call": self.call, "function": self.function,
                "func_index": self.func_index, "offset": self.offset, "op": self.op,
                "location": self.location, "label": self.label,
                "old": None if self.old is None else self.old.hex(),
                "new": None if self.new is None else self.new.hex(),
                "value_type": self.value_type, "old_value": self.old_value, "new_value": self.new_value,
                "wrote": self.wrote, "path": self.path}


@dataclass
class WriteMapRow:
    """What one function wrote into one symbol (or, outside every symbol, one region): ``bytes`` summed
    over ``count`` writes. ``flag``: why this write looks stray (None when it does not): ``rodata`` (a
    write into read-only data), ``static of F`` (a function-static variable of another function),
    ``file-static of CU`` (a ``static`` global of another compile unit)."""

    function: str
    func_index: int
    target: str
    kind: str  # symbol | region
    region: str | None
    bytes: int = 0
    count: int = 0
    flag: str | None = None

    def to_dict(self) -> dict:
        return {"function": self.function, "func_index": self.func_index, "target": self.target,
                "kind": self.kind, "region": self.region, "bytes": self.bytes, "count": self.count,
                "flag": self.flag}


@dataclass
class WriteMap:
    """``--trace-writes``: per function, what it wrote (every write of memory 0 during the calls)."""

    rows: list[WriteMapRow] = field(default_factory=list)
    writes: int = 0
    dropped: int = 0  # writes that would have made a row past the watch-hits budget: counted only

    def to_dict(self) -> dict:
        return {"writes": self.writes, "rows": [r.to_dict() for r in self.rows], "dropped": self.dropped}


@dataclass
class WatchReport:
    """Everything ``--watch`` saw in one command: the targets, the hits in order, and whether it stopped."""

    targets: list[WatchTarget]
    access: str = "w"  # w | rw
    stop: bool = False
    hits: list[WatchHit] = field(default_factory=list)
    dropped: int = 0  # hits past MAX_HITS (or --budget watch-hits=N), counted only
    sites: int = 0  # instructions instrumented
    stopped_at: int | None = None  # seq of the hit that --stop turned into a trap
    notes: list[str] = field(default_factory=list)
    write_map: WriteMap | None = None  # --trace-writes

    def to_dict(self) -> dict:
        return {"targets": [t.to_dict() for t in self.targets], "access": self.access, "stop": self.stop,
                "sites": self.sites, "hits": [h.to_dict() for h in self.hits], "dropped": self.dropped,
                "stopped_at": self.stopped_at, "notes": list(self.notes),
                "write_map": self.write_map.to_dict() if self.write_map is not None else None}
