"""What a session reports: the results of a call (values, traps, changed memory, stack use, output) and the
plain records of memories and snapshots. Data only: no wasmtime, no behaviour beyond ``to_dict``."""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from ..model.ranges import ByteRanges, diff_runs
from ..model.values import Layout, format_value


@dataclass
class TraceFrame:
    func_index: int
    name: str
    func_offset: int | None  # None when the engine gives no position (e.g. a frame cut off by exhaustion)
    module_offset: int | None  # offset in the original file (before wasmem appended exports)

    def to_dict(self) -> dict:
        return {"func_index": self.func_index, "name": self.name, "func_offset": self.func_offset,
                "module_offset": self.module_offset}


@dataclass
class StackOverflow:
    """A linear-stack overflow caught by ``check_stack`` instrumentation before the frame was used."""

    function: str  # the function whose write of the stack pointer would have overflowed
    func_index: int
    needed: int  # bytes from the top of the stack to the stack pointer it tried to set (at least this)
    stack_size: int
    past: int  # bytes below the stack's low end
    low: int
    high: int
    sp_min: int  # the stack pointer it tried to set (wrapped around when the low end is 0)

    @property
    def message(self) -> str:
        return (f"stack overflow in {self.function}: needed at least {self.needed} bytes, the stack is "
                f"{self.stack_size} bytes ({self.past} bytes past its low end at {self.low:#x})")

    def to_dict(self) -> dict:
        return {"function": self.function, "func_index": self.func_index, "needed": self.needed,
                "stack_size": self.stack_size, "past": self.past, "low": self.low, "high": self.high,
                "sp_min": self.sp_min}


@dataclass
class TrapInfo:
    kind: str  # unreachable, memory_out_of_bounds, …, timeout, out_of_fuel, abort, strict_import, exit,
    #            stack_overflow (the linear stack, caught by check_stack: see ``overflow``),
    #            call_stack_exhausted (the engine's own call stack: a too-deep native recursion)
    message: str
    frames: list[TraceFrame] = field(default_factory=list)
    sp: int | None = None  # the stack pointer where the trap left it
    exit_code: int | None = None
    overflow: StackOverflow | None = None  # set for a linear-stack overflow caught by check_stack

    def to_dict(self) -> dict:
        return {"kind": self.kind, "message": self.message, "frames": [f.to_dict() for f in self.frames],
                "sp": self.sp, "exit_code": self.exit_code,
                "overflow": self.overflow.to_dict() if self.overflow else None}


@dataclass
class ChangedRange:
    """Bytes ``[start, end)`` of a memory that a call changed (runs of changed bytes a few equal bytes apart
    are one range). ``before``/``after`` hold the range's first bytes: all of them, unless the range is longer
    than ``runtime.memory.EXCERPT`` (``cut`` says how many more there are)."""

    memory: int
    start: int
    end: int
    before: bytes
    after: bytes

    @property
    def size(self) -> int:
        return self.end - self.start

    @property
    def cut(self) -> int:
        """Bytes of the range past the excerpt kept in ``before``/``after``."""
        return self.size - len(self.after)

    def changed_runs(self) -> list[tuple[int, int]]:
        """The addresses whose bytes differ, as runs: exact within the excerpt; past it (a long range), the
        whole rest of the range."""
        out = [(self.start + s, self.start + e) for s, e in diff_runs(self.before, self.after, gap=0)]
        if self.cut:
            out.append((self.start + len(self.after), self.end))
        return out

    def to_dict(self) -> dict:
        d = {"memory": self.memory, "start": self.start, "end": self.end, "before": self.before.hex(),
             "after": self.after.hex()}
        if self.cut:
            d["truncated"] = self.cut
        return d


def changed_set(changes, memory: int = 0, omitted: int = 0, omitted_bytes: int = 0) -> ByteRanges:
    """The bytes of ``memory`` that ``changes`` (ChangedRange) changed, as ranges (what x/dump/view highlight);
    ``omitted``/``omitted_bytes``: ranges the diff counted without keeping."""
    out = ByteRanges()
    for c in changes:
        if c.memory == memory:
            for s, e in c.changed_runs():
                out.add(s, e)
    out.omitted += omitted
    out.omitted_bytes += omitted_bytes
    return out


@dataclass
class MemoryGrowth:
    memory: int
    old_pages: int
    new_pages: int

    @property
    def warning(self) -> str:
        return (f"memory {self.memory} grew from {self.old_pages} to {self.new_pages} pages: JS typed-array "
                f"views (new Uint8Array(memory.buffer)) created before the call are now detached")

    def to_dict(self) -> dict:
        return {"memory": self.memory, "old_pages": self.old_pages, "new_pages": self.new_pages,
                "warning": self.warning}


@dataclass
class StackUse:
    """Stack use of one call, measured by ``method``:

    - ``paint``: the free stack below the stack pointer was filled with a pattern before the call and
      restored after it; ``lowest`` is the lowest byte the call changed (sees red-zone use by leaf
      functions). Used only where the stack's bounds are proven (see ``Session.paint_reason``).
    - ``instrument``: every write of the stack pointer goes through a hook that records the lowest value
      (``sp_min``); no byte of memory is written. Leaf functions, which use the red zone below SP without
      writing it, record ``SP - extent`` at their entry (``red_zones`` of them; the extent is static, from
      ``model/redzone.py``); ``red_zones_unknown`` leaves have no known extent, and while any exists
      the peak is a lower bound (``at_least``).

    With ``--check-stack`` both may run: ``exact_peak``/``sp_min`` come from the instrumentation. They
    agree within the 128-byte red zone. ``low``/``high`` are None when the stack's bounds are not known."""

    sp: int  # stack pointer when the function was entered
    lowest: int  # lowest byte the call touched (paint) or lowest stack pointer (instrument); == sp: none
    low: int | None
    high: int | None
    sp_min: int | None = None  # lowest stack pointer set during the call (== sp when it never moved)
    exact_peak: int | None = None  # sp - sp_min (modulo the address width when it wrapped)
    overflowed: bool = False  # check_stack stopped the call at a linear-stack overflow
    method: str = "paint"  # paint | instrument
    note: str = ""  # why this method (e.g. why the stack was not painted)
    floor: int | None = None  # paint: the lowest painted address (NULL_GUARD or the stack's low end)
    red_zones: int | None = None  # instrumented: leaf functions whose red zone is counted (None: not instrumented)
    red_zones_unknown: int = 0  # instrumented: leaf functions whose extent below SP is not known

    @property
    def at_least(self) -> bool:
        """The instrumented peak is a lower bound: a leaf function with no known red-zone extent exists."""
        return self.red_zones is not None and self.red_zones_unknown > 0

    @property
    def peak(self) -> int:
        return max(0, self.sp - self.lowest)

    @property
    def exhausted(self) -> bool:
        if self.overflowed:
            return True
        if self.method == "paint" and self.floor is not None:
            return self.lowest <= self.floor  # reached the lowest painted byte (the guard below is not seen)
        return self.low is not None and self.lowest <= self.low

    def to_dict(self) -> dict:
        return {"sp": self.sp, "lowest": self.lowest, "peak_bytes": self.peak, "low": self.low,
                "high": self.high, "exhausted": self.exhausted, "sp_min": self.sp_min,
                "exact_peak_bytes": self.exact_peak, "overflowed": self.overflowed, "method": self.method,
                "note": self.note, "red_zone_leaves": self.red_zones,
                "red_zone_unknown_leaves": self.red_zones_unknown, "at_least": self.at_least}


@dataclass
class SretResult:
    address: int
    size: int
    data: bytes
    layout: Layout | None
    fields: list[tuple[str, str, object]]  # (name, type, value)

    def to_dict(self) -> dict:
        return {"address": self.address, "size": self.size, "hex": self.data.hex(),
                "fields": [{"name": n, "type": t, "value": _jsonable(v)} for n, t, v in self.fields]}


@dataclass
class Allocation:
    arg: str
    address: int
    size: int
    via: str  # allocator export name, or "stack"


@dataclass
class CallResult:
    name: str
    signature: str
    args: list  # values passed to wasm, in order (sret pointer and (ptr, len) pairs included)
    param_types: tuple[str, ...]
    result_types: tuple[str, ...]
    results: list = field(default_factory=list)
    sret: SretResult | None = None
    allocations: list[Allocation] = field(default_factory=list)
    writes: list[tuple[int, bytes]] = field(default_factory=list)  # --write ADDR=HEX, before the call
    changes: list[ChangedRange] = field(default_factory=list)
    changes_omitted: int = 0  # ranges past the limit on ranges kept (runtime.memory.MAX_RANGES), counted only
    changes_omitted_bytes: int = 0  # their bytes
    growth: list[MemoryGrowth] = field(default_factory=list)
    stack: StackUse | None = None
    stack_note: str | None = None  # why the stack was not measured (stack is None), when there is a stack pointer
    limit_notes: list[str] = field(default_factory=list)  # memories/tables the budget keeps from growing
    host_calls: list = field(default_factory=list)  # hosts.HostCall records, every one (up to HostState.max_recorded)
    host_calls_dropped: int = 0  # calls past HostState.max_recorded: counted, not kept
    stdout: bytes = b""
    stderr: bytes = b""
    stdout_truncated: int = 0  # bytes of stdout past --max-output, counted and not kept
    stderr_truncated: int = 0
    trap: TrapInfo | None = None
    sp_before: int | None = None
    sp_after: int | None = None
    seconds: float = 0.0
    user_args: list[str] = field(default_factory=list)  # as typed

    @property
    def ok(self) -> bool:
        return self.trap is None or (self.trap.kind == "exit" and self.trap.exit_code == 0)

    @property
    def changed_bytes(self) -> int:
        return sum(c.size for c in self.changes) + self.changes_omitted_bytes

    def changed(self, memory: int = 0) -> ByteRanges:
        """The bytes of ``memory`` this call changed, as ranges (see ``changed_set``)."""
        return changed_set(self.changes, memory, self.changes_omitted if memory == 0 else 0,
                             self.changes_omitted_bytes if memory == 0 else 0)

    def to_dict(self) -> dict:
        return {
            "function": self.name, "signature": self.signature, "user_args": list(self.user_args),
            "args": [_jsonable(a) for a in self.args],
            "results": [{"type": t, "value": _jsonable(v)} for t, v in zip(self.result_types, self.results, strict=False)],
            "sret": self.sret.to_dict() if self.sret else None,
            "allocations": [vars(a) for a in self.allocations],
            "writes": [{"address": a, "hex": d.hex()} for a, d in self.writes],
            "changes": [c.to_dict() for c in self.changes],
            **({"changes_omitted": {"ranges": self.changes_omitted, "bytes": self.changes_omitted_bytes}}
               if self.changes_omitted else {}),
            "growth": [g.to_dict() for g in self.growth],
            "stack": self.stack.to_dict() if self.stack else None,
            "stack_note": self.stack_note,
            "limit_notes": list(self.limit_notes),
            "host_calls": [h.to_dict() for h in self.host_calls],
            "stdout": self.stdout.decode("utf-8", "replace"), "stderr": self.stderr.decode("utf-8", "replace"),
            "stdout_truncated": self.stdout_truncated, "stderr_truncated": self.stderr_truncated,
            "trap": self.trap.to_dict() if self.trap else None,
            "sp_before": self.sp_before, "sp_after": self.sp_after, "ok": self.ok,
        }


def _jsonable(v):
    if isinstance(v, float) and (math.isnan(v) or math.isinf(v)):
        return format_value(v)
    if isinstance(v, (bytes, bytearray)):
        return bytes(v).hex()
    if isinstance(v, list):
        return [_jsonable(x) for x in v]
    return v


@dataclass
class MemoryInfo:
    index: int
    pages: int
    size: int
    min_pages: int
    max_pages: int | None
    shared: bool
    is64: bool
    imported: str | None  # "env.memory" when imported
    export: str | None

    def to_dict(self) -> dict:
        return dict(vars(self))


@dataclass
class Snapshot:
    memories: list[bytes]
    globals: dict[int, object]
    sp: int | None

