"""Static stack analysis: per-function frame sizes from the prologue, the call graph, and the worst-case
stack depth of every export and of the start function.

Pure stdlib. Each function body is decoded exactly once: a small symbolic interpreter follows the
stack pointer through the operand stack and the locals (so -O0 code that passes values through
locals and -O2 ``local.tee`` prologues look the same), and the same pass collects the calls.

Frame size of a function = the largest constant it subtracts from the stack pointer it read on entry
(``global.get SP; i32.const N; i32.sub``), whether or not it writes the result back (leaf functions
use the 128-byte red zone without a ``global.set``). This is what ``clang -fstack-usage`` reports.
An over-aligned frame (``… i32.const -64; i32.and``) may lose up to ``align - 16`` more bytes to the
rounding (SP is 16-byte aligned): that is ``align_slack``, added to the worst case but not to
``size``. Subtracting a run-time value (VLA, ``alloca``) makes a frame dynamic.

Imported functions cost 0 bytes of linear stack (their frames live in the host).
"""

from __future__ import annotations

import multiprocessing
import os
import re
import threading
from dataclasses import dataclass, field

from ..errors import ParseError
from ..parser.code import decode_locals, find_calls, iter_instruction_tuples
from ..parser.module import WasmModule

ALIGN = 16  # the C ABI keeps SP 16-byte aligned

# -- stack effects of the instructions the interpreter does not model specially ------------------
_EFFECT: dict[int, tuple[int, int]] = {}
for _op in range(0x28, 0x36):
    _EFFECT[_op] = (1, 1)  # loads
for _op in range(0x36, 0x3F):
    _EFFECT[_op] = (2, 0)  # stores
_EFFECT[0x3F] = (0, 1)  # memory.size
_EFFECT[0x40] = (1, 1)  # memory.grow
for _op in (0x45, 0x50, 0x67, 0x68, 0x69, 0x79, 0x7A, 0x7B, *range(0x8B, 0x92), *range(0x99, 0xA0),
            *range(0xA7, 0xC5)):
    _EFFECT[_op] = (1, 1)  # eqz, clz/ctz/popcnt, float unary, conversions, sign extension
for _op in (*range(0x46, 0x50), *range(0x51, 0x67), *range(0x6A, 0x79), *range(0x7C, 0x8B),
            *range(0x92, 0x99), *range(0xA0, 0xA7)):
    _EFFECT.setdefault(_op, (2, 1))  # comparisons and binary arithmetic
_EFFECT[0x1A] = (1, 0)  # drop
_EFFECT[0x1B] = (3, 1)  # select
_EFFECT[0x1C] = (3, 1)
_EFFECT[0x43] = (0, 1)  # f32.const
_EFFECT[0x44] = (0, 1)  # f64.const
_EFFECT[0xD0] = (0, 1)  # ref.null
_EFFECT[0xD1] = (1, 1)  # ref.is_null
_EFFECT[0xD2] = (0, 1)  # ref.func
_EFFECT[0x25] = (1, 1)  # table.get
_EFFECT[0x26] = (2, 0)  # table.set
_EFFECT[0x04] = (1, 0)  # if
_EFFECT[0x0D] = (1, 0)  # br_if
for _sub in range(8):
    _EFFECT[0xFC0000 | _sub] = (1, 1)  # saturating truncation
for _sub in (8, 10, 11, 12, 14):
    _EFFECT[0xFC0000 | _sub] = (3, 0)  # memory.init/copy/fill, table.init/copy
_EFFECT[0x02] = (0, 0)  # block
_EFFECT[0x03] = (0, 0)  # loop
_EFFECT[0x05] = (0, 0)  # else
_EFFECT[0x0B] = (0, 0)  # end
_EFFECT[0x01] = (0, 0)  # nop
del _op, _sub

_SUB = (0x6B, 0x7D)  # i32.sub, i64.sub
_ADD = (0x6A, 0x7C)
_AND = (0x71, 0x83)
_CONST = (0x41, 0x42)
_BARRIER = (0x00, 0x0C, 0x0E, 0x0F)  # unreachable, br, br_table, return: the stack is dead after them


@dataclass(frozen=True)
class IndirectCall:
    """A ``call_indirect``/``call_ref`` site and the functions it may reach (resolved by type)."""

    offset: int
    kind: str  # call_indirect | return_call_indirect | call_ref | return_call_ref
    type_index: int
    table: int | None
    targets: tuple[int, ...]
    resolved: bool  # False when the table is imported/exported and may hold other functions


@dataclass(frozen=True)
class Frame:
    """What one function does to the linear stack."""

    index: int
    name: str
    size: int  # bytes below the entry SP that the function claims (== clang -fstack-usage)
    align_slack: int = 0  # extra bytes an over-aligned frame can lose to rounding down
    dynamic: bool = False  # lowers SP by a run-time amount (VLA, alloca)
    writes_sp: bool = False  # False for leaf functions that use the red zone only
    imported: bool = False
    calls: tuple[int, ...] = ()  # direct callees, in order of first appearance
    indirect: tuple[IndirectCall, ...] = ()
    note: str | None = None

    @property
    def worst(self) -> int:
        """Static bytes this frame can take, with the alignment slack."""
        return self.size + self.align_slack

    @property
    def callees(self) -> tuple[int, ...]:
        seen = dict.fromkeys(self.calls)
        for ic in self.indirect:
            seen.update(dict.fromkeys(ic.targets))
        return tuple(seen)


@dataclass(frozen=True)
class PathStep:
    index: int
    name: str
    bytes: int  # this frame's worst (size + slack), times ``repeat``
    repeat: int = 1  # > 1 for a recursive cycle bounded by ``recursion_depth``
    via: str = "call"  # call | call_indirect | call_ref | return_call | root


@dataclass(frozen=True)
class WorstCase:
    """The deepest static stack use reachable from one entry point."""

    index: int
    name: str
    kind: str  # export | start
    bytes: int | None  # None when unbounded
    path: tuple[PathStep, ...]  # the deepest path (to the recursion/dynamic frame when unbounded)
    unbounded: str | None = None  # None | "recursion" | "dynamic"
    reason: str | None = None  # human explanation of why it is unbounded
    cycle: tuple[str, ...] = ()  # a recursive cycle reached from here
    dynamic: tuple[str, ...] = ()  # dynamic frames reached from here
    bounded_bytes: int | None = None  # with at most recursion_depth frames of each cycle (None: dynamic)
    bounded_path: tuple[PathStep, ...] = ()
    calls_imports: tuple[str, ...] = ()  # imported functions reachable (counted as 0 bytes)

    @property
    def effective_bytes(self) -> int | None:
        """The static worst case, or the recursion-depth bound when only recursion makes it unbounded."""
        return self.bytes if self.bytes is not None else self.bounded_bytes


@dataclass
class StackAnalysis:
    path: str | None
    sp_global: int | None
    sp_reason: str
    frames: dict[int, Frame]  # by function index (imports included, with size 0)
    roots: list[WorstCase]
    stack_size: int | None
    stack_low: int | None
    stack_high: int | None
    layout_kind: str
    recursion_depth: int | None
    cycles: list[tuple[int, ...]] = field(default_factory=list)  # recursive SCCs (function indices)
    notes: list[str] = field(default_factory=list)

    def find_frame(self, name: str) -> Frame | None:
        for f in self.frames.values():
            if f.name == name:
                return f
        return None

    def find_root(self, name: str) -> WorstCase | None:
        for r in self.roots:
            if r.name == name:
                return r
        return None

    @property
    def worst(self) -> WorstCase | None:
        """The root with the largest effective static bound (unbounded roots without a bound excluded)."""
        known = [r for r in self.roots if r.effective_bytes is not None]
        return max(known, key=lambda r: r.effective_bytes, default=None)  # type: ignore[arg-type,return-value]

    @property
    def worst_bytes(self) -> int | None:
        w = self.worst
        return None if w is None else w.effective_bytes

    @property
    def unbounded(self) -> list[WorstCase]:
        return [r for r in self.roots if r.unbounded]

    def recommended_stack_size(self, headroom_pct: float = 0.0, need: int | None = None) -> int | None:
        """The smallest ``-z stack-size`` (a multiple of 16) that keeps ``headroom_pct`` percent of the stack
        free at the worst case: ``need <= size * (1 - pct/100)``."""
        need = self.worst_bytes if need is None else need
        if need is None:
            return None
        return stack_size_for(need, headroom_pct)

    def headroom_pct(self, need: int | None = None) -> float | None:
        """Percent of the stack left free at the worst case (negative when it does not fit)."""
        need = self.worst_bytes if need is None else need
        if need is None or not self.stack_size:
            return None
        return (self.stack_size - need) * 100.0 / self.stack_size


def stack_size_for(need: int, headroom_pct: float = 0.0) -> int:
    if not 0 <= headroom_pct < 100:
        raise ValueError("headroom must be at least 0 and below 100 percent")
    # exact rational arithmetic: need / (1 - pct/100), rounded up to 16
    num = need * 10000
    den = int(round((100 - headroom_pct) * 100))
    size = -(-num // den)
    return -(-size // ALIGN) * ALIGN


# ------------------------------------------------------------------------------------------------
# per-function analysis
# ------------------------------------------------------------------------------------------------

def _is_pow2(v: int) -> bool:
    return v > 0 and v & (v - 1) == 0


class _Body:
    """The instructions of one function body, decoded on demand: iterating gives ``(offset, op, imm)``
    tuples; ``calls()`` gives only the call instructions (one loop, no per-instruction objects). Either
    way the whole body is decoded and checked."""

    __slots__ = ("data", "start", "end")

    def __init__(self, data, start: int, end: int):
        self.data, self.start, self.end = data, start, end

    def __iter__(self):
        return iter_instruction_tuples(self.data, self.start, self.end)

    def calls(self) -> list[tuple[int, int, object]]:
        return find_calls(self.data, self.start, self.end)


def iter_instructions(data, start: int, end: int) -> _Body:
    """The one place a body's instructions are decoded for the stack analysis (once per body)."""
    return _Body(data, start, end)


def _sp_access(sp: int | None):
    """A search for the bytes of ``global.get SP`` / ``global.set SP`` (0x23/0x24, then the first byte
    of SP's LEB128, plain or padded) in a byte range; None when there is no stack pointer."""
    if sp is None:
        return None
    firsts = b"".join(re.escape(bytes([f])) for f in sorted({sp & 0x7F, (sp & 0x7F) | 0x80}))
    return re.compile(b"[\\x23\\x24][" + firsts + b"]").search


def _calls_only(instrs: _Body, elems_for, referenced):
    """The result of ``_scan_body`` for a body that never reads or writes the stack pointer: its frame is
    0 bytes and only its calls matter (the operand-stack model can only produce a size, a dynamic frame or
    a write from a value that ``global.get SP`` put on the stack, or at a ``global.set SP``)."""
    calls: dict[int, None] = {}
    indirect: list[IndirectCall] = []
    for off, op, imm in instrs.calls():
        if op == 0x10 or op == 0x12:
            calls.setdefault(imm, None)
        elif op == 0x11 or op == 0x13:
            tidx, table = imm
            targets, resolved = elems_for(table, tidx)
            indirect.append(IndirectCall(off, "call_indirect" if op == 0x11 else "return_call_indirect",
                                         tidx, table, targets, resolved))
        else:
            indirect.append(IndirectCall(off, "call_ref" if op == 0x14 else "return_call_ref",
                                         imm, None, referenced(imm), False))
    return 0, 0, False, False, None, tuple(calls), tuple(indirect)


def _scan_body(module: WasmModule, body, sp: int | None, mask: int, ftypes, elems_for, referenced,
               sp_access=None):
    """One pass over a body: (size, slack, dynamic, writes_sp, note, calls, indirect, ref_funcs).
    ``sp_access`` is ``_sp_access(sp)``: bodies without those bytes take the calls-only fast path."""
    data = module.data
    _, p = decode_locals(data, body.start, body.end)
    instrs = iter_instructions(data, p, body.end)
    if sp_access is None or sp_access(data, p, body.end) is None:
        if sp is None or sp_access is not None:
            return _calls_only(instrs, elems_for, referenced)
    stack: list = []
    local: dict[int, object] = {}
    size = slack = 0
    dynamic = writes = unknown_write = False
    calls: dict[int, None] = {}
    indirect: list[IndirectCall] = []
    effect = _EFFECT
    push = stack.append

    for off, op, imm in instrs:
        if op == 0x20:  # local.get
            push(local.get(imm))
        elif op == 0x21 or op == 0x22:  # local.set / local.tee
            v = stack.pop() if stack else None
            local[imm] = v
            if v is not None and v[0] == "dyn":
                dynamic = True
            if op == 0x22:
                push(v)
        elif op in _CONST:
            push(("k", imm))
        elif op == 0x23:  # global.get
            push(("sp", 0) if imm == sp else None)
        elif op == 0x24:  # global.set
            v = stack.pop() if stack else None
            if imm == sp:
                writes = True
                if v is None or v[0] == "k":
                    unknown_write = True
                elif v[0] in ("dyn", "dynw"):
                    dynamic = True
                elif v[0] == "r":
                    unknown_write = True
                elif v[1] < 0:
                    size = max(size, -v[1])
        elif op in _SUB or op in _ADD:
            b = stack.pop() if stack else None
            a = stack.pop() if stack else None
            if op in _ADD and b is not None and b[0] in ("sp", "al", "dyn") and (a is None or a[0] == "k"):
                a, b = b, a  # constant + sp
            if a is None:
                push(None)
            elif a[0] == "k" and b is not None and b[0] == "k":
                v = ((a[1] - b[1]) if op in _SUB else (a[1] + b[1])) & mask
                push(("k", v - (mask + 1) if v > mask >> 1 else v))
            elif a[0] in ("sp", "al") and b is not None and b[0] == "k":
                k = b[1] if op in _SUB else -b[1]
                off = a[1] - k
                if a[0] == "sp" and a[1] == 0 and k > 0:
                    size = max(size, k)
                push((a[0], off) + a[2:])
            elif op in _SUB and (a[0] in ("dyn", "dynw") or (a[0] in ("sp", "al") and a[1] in (0, -size))):
                # the current SP minus a run-time value: a VLA/alloca when the amount was rounded to 16
                # (clang always rounds them), otherwise only once it is written back to SP
                strong = a[0] == "dyn" or (b is not None and b[0] == "r")
                push(("dyn",) if strong else ("dynw",))
            else:
                push(None)
        elif op in _AND:
            b = stack.pop() if stack else None
            a = stack.pop() if stack else None
            if b is not None and b[0] == "k" and a is not None and a[0] in ("sp", "al"):
                a, b = a, b
            elif a is not None and a[0] == "k" and b is not None and b[0] in ("sp", "al"):
                a, b = b, a
            if a is not None and a[0] in ("sp", "al") and b is not None and b[0] == "k":
                k = b[1]
                if k < 0 and _is_pow2(-k):
                    align = -k
                    if align > ALIGN:
                        slack = max(slack, align - ALIGN)
                        size = max(size, -a[1])
                        push(("al", a[1], align))
                    else:
                        push(a)
                else:
                    push(None)
            elif a is not None and a[0] in ("dyn", "dynw"):
                push(a)
            elif b is not None and b[0] == "k" and b[1] <= -ALIGN:
                push(("r",))  # a run-time amount rounded to a multiple of 16
            else:
                push(None)
        elif op == 0x10 or op == 0x12:  # call / return_call
            calls.setdefault(imm, None)
            ft = ftypes(imm)
            if ft and ft.params:
                del stack[-len(ft.params):]
            if op == 0x12:
                stack.clear()
            else:
                for _ in range(len(ft.results) if ft else 0):
                    push(None)
        elif op == 0x11 or op == 0x13:  # call_indirect / return_call_indirect
            tidx, table = imm
            targets, resolved = elems_for(table, tidx)
            indirect.append(IndirectCall(off, "call_indirect" if op == 0x11 else "return_call_indirect",
                                         tidx, table, targets, resolved))
            stack.clear()
        elif op == 0x14 or op == 0x15:  # call_ref / return_call_ref
            targets = referenced(imm)
            indirect.append(IndirectCall(off, "call_ref" if op == 0x14 else "return_call_ref",
                                         imm, None, targets, False))
            stack.clear()
        elif op in _BARRIER:
            stack.clear()
        else:
            e = effect.get(op)
            if e is None:
                stack.clear()  # an instruction we do not model: forget the operand stack
            else:
                if e[0]:
                    del stack[-e[0]:]
                if e[1]:
                    push(None) if e[1] == 1 else stack.extend((None,) * e[1])
    note = None
    if dynamic:
        note = "lowers the stack pointer by a run-time amount (VLA or alloca)"
    elif unknown_write and size == 0:
        note = "sets the stack pointer to a value not derived from it (a stack switch or restore)"
    elif size and not writes:
        note = "leaf: uses the red zone below SP without moving it"
    return size, slack, dynamic, writes, note, tuple(calls), tuple(indirect)


def _function_names(module: WasmModule) -> dict[int, str]:
    try:
        names = dict(module.names.functions) if module.names else {}
    except ParseError:
        names = {}
    for e in module.exports:
        if e.kind == "func":
            names.setdefault(e.index, e.name)
    k = 0
    for imp in module.imports:
        if imp.kind == "func":
            names.setdefault(k, f"{imp.module}.{imp.name}")
            k += 1
    return names


PARALLEL_MIN_BODIES = 4000  # below this, one process is faster than starting workers

# what forked workers scan: set by _scan_bodies just before the pool forks, read by _scan_chunk
_WORK: tuple | None = None


def _scan_chunk(bounds: tuple[int, int]) -> list[tuple]:
    module, args = _WORK  # type: ignore[misc]
    lo, hi = bounds
    return [_scan_body(module, body, *args) for body in module.functions[lo:hi]]


def _other_threads() -> bool:
    """Whether this process runs threads besides the current one, native ones included (a wasmtime
    engine's, which ``threading`` does not see): forking then may deadlock the child."""
    try:
        return len(os.listdir("/proc/self/task")) > 1
    except OSError:  # no procfs: Python's own threads are all that can be seen
        return threading.active_count() > 1


def _scan_bodies(module: WasmModule, args: tuple, workers: int | None = None) -> list[tuple]:
    """``_scan_body`` over every body, split over forked worker processes for large modules (the
    decode is pure Python and CPU-bound). Falls back to one process where fork is unsafe or absent:
    a parent with other threads (a wasmtime engine's, a session's timer), or a platform without fork."""
    global _WORK
    bodies = module.functions
    if workers is None:
        workers = min(os.cpu_count() or 1, 4) if len(bodies) >= PARALLEL_MIN_BODIES else 1
    if workers > 1 and not _other_threads() and "fork" in multiprocessing.get_all_start_methods():
        step = -(-len(bodies) // (workers * 4))  # a few chunks per worker evens out their sizes
        chunks = [(k, min(k + step, len(bodies))) for k in range(0, len(bodies), step)]
        _WORK = (module, args)
        try:
            with multiprocessing.get_context("fork").Pool(workers) as pool:
                return [r for part in pool.map(_scan_chunk, chunks) for r in part]
        except OSError:
            pass  # no processes to be had: scan here
        finally:
            _WORK = None
    return [_scan_body(module, body, *args) for body in bodies]


def analyze_frames(module: WasmModule, sp_global: int | None, *, workers: int | None = None) -> dict[int, Frame]:
    """Frame sizes and call edges of every function (imports get size 0 and no calls). ``workers``:
    processes for the body scan (default: the CPUs, up to 4, for modules of PARALLEL_MIN_BODIES+)."""
    names = _function_names(module)
    nimp = module.num_imported_funcs
    type_idx = module.function_type_indices
    types = module.types

    def func_type_of_type(t: int):
        return types[t].func if 0 <= t < len(types) else None

    def ftypes(f: int):
        return func_type_of_type(type_idx[f]) if 0 <= f < len(type_idx) else None

    exported_tables = {e.index for e in module.exports if e.kind == "table"}
    by_table: dict[int, list[int]] = {}
    in_elems: dict[int, None] = {}
    for seg in module.elements:
        fs = [f for f in seg.func_indices if f is not None]
        in_elems.update(dict.fromkeys(fs))
        if seg.mode == "active":
            by_table.setdefault(seg.table, []).extend(fs)
        elif seg.mode == "passive":  # may be table.init'ed into any table
            for t in range(len(module.tables)):
                by_table.setdefault(t, []).extend(fs)
    cache: dict[tuple, tuple] = {}

    def elems_for(table: int, tidx: int):
        key = (table, tidx)
        if key not in cache:
            want = func_type_of_type(tidx)
            cands = dict.fromkeys(by_table.get(table, ()))
            targets = tuple(f for f in cands if want is not None and ftypes(f) == want)
            tbl = module.tables[table] if table < len(module.tables) else None
            resolved = tbl is not None and tbl.imported is None and table not in exported_tables
            cache[key] = (targets, resolved)
        return cache[key]

    def referenced(tidx: int):
        want = func_type_of_type(tidx)
        return tuple(f for f in in_elems if want is not None and ftypes(f) == want)

    mask = 0xFFFFFFFFFFFFFFFF if (module.memories and module.memories[0].type.is64) else 0xFFFFFFFF
    frames: dict[int, Frame] = {}
    for i in range(nimp):
        frames[i] = Frame(i, names.get(i, f"func[{i}]"), 0, imported=True,
                          note="imported: runs in the host, 0 bytes of linear stack")
    sp_access = _sp_access(sp_global)
    nfuncs = module.num_functions
    scanned = _scan_bodies(module, (sp_global, mask, ftypes, elems_for, referenced, sp_access), workers)
    for body, (size, slack, dyn, writes, note, calls, ind) in zip(module.functions, scanned, strict=True):
        i = body.index
        missing = [c for c in calls if c >= nfuncs]
        if missing:  # an invalid module: keep analysing what exists and say what does not
            calls = tuple(c for c in calls if c < nfuncs)
            note = "; ".join(filter(None, [note, f"calls function {missing[0]}, which does not exist "
                                                 f"(the module is invalid)"]))
        frames[i] = Frame(i, names.get(i, f"func[{i}]"), size, slack, dyn, writes, False, calls, ind, note)
    return frames


# ------------------------------------------------------------------------------------------------
# call graph: strongly connected components and worst cases
# ------------------------------------------------------------------------------------------------

def _tarjan(nodes, edges) -> list[list[int]]:
    """SCCs in reverse topological order (callees before callers). Iterative."""
    index: dict[int, int] = {}
    low: dict[int, int] = {}
    on: set[int] = set()
    st: list[int] = []
    out: list[list[int]] = []
    counter = 0
    for root in nodes:
        if root in index:
            continue
        work = [(root, iter(edges.get(root, ())))]
        index[root] = low[root] = counter
        counter += 1
        st.append(root)
        on.add(root)
        while work:
            v, it = work[-1]
            advanced = False
            for w in it:
                if w not in index:
                    index[w] = low[w] = counter
                    counter += 1
                    st.append(w)
                    on.add(w)
                    work.append((w, iter(edges.get(w, ()))))
                    advanced = True
                    break
                if w in on:
                    low[v] = min(low[v], index[w])
            if advanced:
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[v])
            if low[v] == index[v]:
                comp = []
                while True:
                    w = st.pop()
                    on.discard(w)
                    comp.append(w)
                    if w == v:
                        break
                out.append(comp)
    return out


def _cycle_in(comp: list[int], edges) -> list[int]:
    """One concrete cycle inside a recursive SCC (for display), starting at its lowest index."""
    members = set(comp)
    start = min(comp)
    if start in edges.get(start, ()):
        return [start]
    # BFS from start back to start inside the component
    prev: dict[int, int] = {}
    frontier = [start]
    seen = {start}
    while frontier:
        nxt = []
        for v in frontier:
            for w in edges.get(v, ()):
                if w == start:
                    path = [v]
                    while path[-1] != start:
                        path.append(prev[path[-1]])
                    return path[::-1]
                if w in members and w not in seen:
                    seen.add(w)
                    prev[w] = v
                    nxt.append(w)
        frontier = nxt
    return sorted(comp)  # pragma: no cover - an SCC always has a cycle


def analyze_stack(module: WasmModule, layout=None, *, recursion_depth: int | None = None) -> StackAnalysis:
    """Frame sizes, call graph and worst-case stack depth of every export and of the start function.

    ``layout`` is a :class:`wasmem.model.layout.MemoryLayout` (computed when omitted); it supplies the
    stack-pointer global and the stack's size. ``recursion_depth`` bounds how many frames of a recursive
    cycle can be on the stack at once, giving a finite bound for recursive entry points.
    """
    if layout is None:
        from .layout import analyze

        layout = analyze(module)
    if recursion_depth is not None and recursion_depth < 1:
        raise ValueError("recursion_depth must be at least 1")
    sp = layout.stack_pointer
    sp_index = sp.global_index if sp is not None else None
    notes: list[str] = []
    if sp is None:
        sp_reason = "no stack pointer: every frame is 0 bytes of linear stack"
        notes.append("no stack-pointer global was found, so no function uses the linear stack "
                     "(frames are all 0)" if not layout.go else
                     "Go's wasm backend keeps its stacks in the Go heap: there is no C linear stack")
    else:
        sp_reason = f"global {sp.global_index}: {sp.detail}"
    frames = analyze_frames(module, sp_index)
    edges = {i: f.callees for i, f in frames.items()}
    nimp = module.num_imported_funcs
    if nimp:
        notes.append("imported functions are counted as 0 bytes: their frames live in the host, not in "
                     "linear memory")
    unresolved = [(f, ic) for f in frames.values() for ic in f.indirect if not ic.resolved]
    if unresolved:
        notes.append(f"{len(unresolved)} indirect call site(s) go through an imported/exported table or call_ref: "
                     "resolved to the module's own functions of the right type only")

    comps = _tarjan(sorted(frames), edges)
    comp_of: dict[int, int] = {}
    for ci, comp in enumerate(comps):
        for v in comp:
            comp_of[v] = ci
    recursive = [len(c) > 1 or c[0] in edges.get(c[0], ()) for c in comps]
    cycles = [tuple(_cycle_in(c, edges)) for c, r in zip(comps, recursive, strict=True) if r]
    cycle_of_comp = {ci: tuple(_cycle_in(c, edges)) for ci, (c, r) in enumerate(zip(comps, recursive, strict=True)) if r}

    # best[ci] = (bytes, path) for the static worst case ignoring recursion (each frame once), plus flags
    # For the bound: a recursive SCC contributes depth × its largest frame.
    depth = recursion_depth or 1
    static: dict[int, tuple[int, tuple]] = {}  # comp → (bytes, path of (index, repeat))
    bound: dict[int, tuple[int, tuple]] = {}
    has_rec: dict[int, tuple | None] = {}  # comp → a cycle reached (or None)
    has_dyn: dict[int, tuple] = {}  # comp → dynamic function indices reached
    imports_reached: dict[int, frozenset] = {}
    for ci, comp in enumerate(comps):  # callees first
        members = set(comp)
        out_comps = {comp_of[w] for v in comp for w in edges.get(v, ()) if w not in members}
        rec = cycle_of_comp.get(ci)
        if rec is None:
            for oc in out_comps:
                if has_rec[oc] is not None:
                    rec = has_rec[oc]
                    break
        has_rec[ci] = rec
        dyn = tuple(v for v in comp if frames[v].dynamic)
        for oc in sorted(out_comps):
            dyn += tuple(d for d in has_dyn[oc] if d not in dyn)
        has_dyn[ci] = dyn
        imps = frozenset(v for v in comp if frames[v].imported)
        for oc in out_comps:
            imps |= imports_reached[oc]
        imports_reached[ci] = imps
        # best continuation outside the component, from each member
        def best_exit(v, table, members=members):
            best = (0, ())
            for w in edges.get(v, ()):
                if w in members:
                    continue
                cand = table[comp_of[w]]
                if not best[1] or cand[0] > best[0]:
                    best = cand
            return best

        if len(comp) == 1 and not recursive[ci]:
            v = comp[0]
            for table, target in ((static, static), (bound, bound)):
                b, pth = best_exit(v, table)
                target[ci] = (frames[v].worst + b, ((v, 1),) + pth)
        else:
            # static (each frame once): the worst member frame plus the best exit of any member
            top = max(comp, key=lambda v: (frames[v].worst, -v))
            best_s = (0, ())
            best_b = (0, ())
            for v in comp:
                s = best_exit(v, static)
                if s[1] and (not best_s[1] or s[0] > best_s[0]):
                    best_s = s
                b = best_exit(v, bound)
                if b[1] and (not best_b[1] or b[0] > best_b[0]):
                    best_b = b
            static[ci] = (frames[top].worst + best_s[0], ((top, 1),) + best_s[1])
            bound[ci] = (frames[top].worst * depth + best_b[0], ((top, depth),) + best_b[1])

    roots: list[WorstCase] = []
    seen_roots: set[tuple[int, str]] = set()
    entry = []
    if module.start is not None:
        entry.append((module.start, frames[module.start].name if module.start in frames else str(module.start),
                      "start"))
    for e in module.exports:
        if e.kind == "func":
            entry.append((e.index, e.name, "export"))
    for idx, name, kind in entry:
        if (idx, name) in seen_roots or idx not in frames:
            continue
        seen_roots.add((idx, name))
        ci = comp_of[idx]
        rec = has_rec[ci]
        dyn = has_dyn[ci]
        b_static, p_static = static[ci]
        path = _steps(frames, p_static)
        bpath = _steps(frames, bound[ci][1])
        imps = tuple(sorted(frames[i].name for i in imports_reached[ci]))
        if not rec and not dyn:
            roots.append(WorstCase(idx, name, kind, b_static, path, calls_imports=imps))
            continue
        reasons = []
        if rec:
            cyc = " → ".join(frames[v].name for v in rec + (rec[0],))
            reasons.append(f"recursion: {cyc}")
        if dyn:
            reasons.append("dynamic frame: " + ", ".join(frames[v].name for v in dyn))
        bounded = None if dyn or recursion_depth is None else bound[ci][0]
        roots.append(WorstCase(
            idx, name, kind, None, _path_to(frames, edges, idx, set(rec) if rec else set(dyn)),
            "dynamic" if dyn and not rec else "recursion", "; ".join(reasons),
            tuple(frames[v].name for v in rec) if rec else (), tuple(frames[v].name for v in dyn),
            bounded, bpath if bounded is not None else (), imps))
    return StackAnalysis(module.path, sp_index, sp_reason, frames, roots, layout.stack_size, layout.stack_low,
                         layout.stack_high, layout.layout_kind, recursion_depth, cycles, notes)


def _steps(frames: dict[int, Frame], pth) -> tuple[PathStep, ...]:
    return tuple(PathStep(v, frames[v].name, frames[v].worst * rep, rep) for v, rep in pth)


def _path_to(frames, edges, start: int, targets: set[int]) -> tuple[PathStep, ...]:
    """Shortest call path from ``start`` into ``targets`` (to show where the recursion is)."""
    prev: dict[int, int | None] = {start: None}
    frontier = [start]
    hit = start if start in targets else None
    while frontier and hit is None:
        nxt = []
        for v in frontier:
            for w in edges.get(v, ()):
                if w not in prev:
                    prev[w] = v
                    if w in targets:
                        hit = w
                        break
                    nxt.append(w)
            if hit is not None:
                break
        frontier = nxt
    if hit is None:  # pragma: no cover
        return (PathStep(start, frames[start].name, frames[start].worst),)
    out = []
    v: int | None = hit
    while v is not None:
        out.append(v)
        v = prev[v]
    return tuple(PathStep(i, frames[i].name, frames[i].worst) for i in reversed(out))


# ------------------------------------------------------------------------------------------------
# JSON
# ------------------------------------------------------------------------------------------------

def _step_dict(s: PathStep) -> dict:
    return {"function": s.name, "index": s.index, "bytes": s.bytes, "repeat": s.repeat}


def stack_to_dict(sa: StackAnalysis, headroom_pct: float | None = None) -> dict:
    worst = sa.worst_bytes
    # the functions an indirect call may reach depend only on (table, type): list each set once
    target_sets: dict[tuple, int] = {}

    def target_set(ic) -> int:
        key = (ic.table, ic.type_index, ic.targets)
        if key not in target_sets:
            target_sets[key] = len(target_sets)
        return target_sets[key]

    frames = [{"function": f.name, "index": f.index, "size": f.size, "align_slack": f.align_slack,
               "dynamic": f.dynamic, "writes_sp": f.writes_sp, "imported": f.imported, "note": f.note,
               "calls": [sa.frames[c].name if c in sa.frames else c for c in f.calls],
               "indirect": [{"kind": ic.kind, "type": ic.type_index, "table": ic.table,
                             "targets": target_set(ic), "resolved": ic.resolved} for ic in f.indirect]}
              for f in sorted(sa.frames.values(), key=lambda f: (-f.worst, f.index))]
    return {
        "schema": 1,
        "file": sa.path,
        "stack_pointer": {"global": sa.sp_global, "reason": sa.sp_reason},
        "stack": {"low": sa.stack_low, "high": sa.stack_high, "size": sa.stack_size, "layout": sa.layout_kind},
        "recursion_depth": sa.recursion_depth,
        "frames": frames,
        "indirect_targets": [[sa.frames[t].name for t in targets if t in sa.frames]
                             for (_table, _type, targets) in target_sets],
        "roots": [{"function": r.name, "index": r.index, "kind": r.kind, "bytes": r.bytes,
                   "unbounded": r.unbounded, "reason": r.reason, "cycle": list(r.cycle),
                   "dynamic": list(r.dynamic), "bounded_bytes": r.bounded_bytes,
                   "path": [_step_dict(s) for s in r.path],
                   "bounded_path": [_step_dict(s) for s in r.bounded_path],
                   "calls_imports": list(r.calls_imports)} for r in sa.roots],
        "cycles": [[sa.frames[v].name for v in c] for c in sa.cycles],
        "worst_bytes": worst,
        "headroom_pct": sa.headroom_pct(),
        "recommended_stack_size": (None if worst is None else
                                   sa.recommended_stack_size(headroom_pct or 0.0)),
        "requested_headroom_pct": headroom_pct,
        "notes": list(sa.notes),
    }
