"""The watch pass: every write of linear memory 0 is checked inline against watched ranges.

Instrumented: every ``*.store*``, ``v128.store`` and the lane stores, the atomic stores, read-modify-writes
and compare-exchanges, ``memory.fill``, ``memory.copy`` and ``memory.init`` whose destination is memory 0
(and with ``reads=True`` every load of memory 0 as well). Each such instruction is a *site*, numbered in
code order (:class:`WatchSite`: function, original code offset, opcode, access size).

Where the watched ranges live, and why
--------------------------------------
In appended, exported, mutable **globals**, not in a table in linear memory: a table in memory would
take bytes the program may use (a debugger never changes what it observes), and a global read is a
register-speed load the engine can keep hot. Two kinds:

* a *filter*: ``__wasmem_watch_lo`` and ``__wasmem_watch_span`` (the memory's address type). Inline,
  after the operands are saved in scratch locals, the site computes its effective address ``ea`` and
  tests ``(ea - lo) <u span`` — one subtraction and one unsigned compare whatever the number of ranges.
  The host sets ``lo`` = (lowest watched byte - 15, at least 0) and ``span`` = (highest watched byte + 1
  - lo): a conservative box around every range, widened by the largest access (16 bytes) so that a store
  that starts below a range and reaches into it is still a candidate. ``span`` 0 = nothing watched.
* the *exact ranges*: ``__wasmem_watch_lo_<i>`` / ``__wasmem_watch_hi_<i>`` (i64, ``[lo, hi)``), N pairs
  fixed when the module is rewritten. Only a candidate calls the appended ``$check(ea, size)``, which
  tests ``ea < hi && ea + size > lo`` for each range; only on a hit does the site call ``$slow`` with
  the values, which tests again (a zero-size bulk write never hits) and calls the host. Bulk operations
  skip the filter and call ``$slow`` directly (their size is known only at run time).

A range may be the *stack overflow range* (``sp_range``): its low end is the live stack pointer
(``global.get SP``), its high end ``hi`` (the stack's low end, which the host sets): it holds the writes
that land below the stack's low end but inside the current frames, i.e. the frames of a data-first
stack that has run over the static data. It is empty while the stack pointer is at or above ``hi``.

The host is reached through an appended **funcref table** of one entry (exported as
``__wasmem_watch_hook``) that the host fills with its function after instantiating; ``$slow`` calls it
with ``call_indirect``. An imported function would have been simpler to call but would shift the index
of every defined function (imports come first), breaking calls, element segments, exports and the name
section; a table is appended without moving anything.

The hook's signature is ``(site i32, addr i64, size i64, v0 i64, v1 i64)``, called *before* the write
happens (so the host reads the old value from memory and may stop the program before anything changes):

=====================  ============  ===========================  ===========================
kind                   size          v0                           v1
=====================  ============  ===========================  ===========================
store, atomic store    access bytes  the value's bits (f32/f64:   0
/ rmw                                reinterpreted)
cmpxchg                access bytes  expected                     replacement
v128.store             16            low 64 bits                  high 64 bits
store lane             lane bytes    the lane's bits              0
memory.fill            n             the fill byte                0
memory.copy            n             source address               source memory index
memory.init            n             offset in the segment        data segment index
read (``reads=True``)  access bytes  0                            0
=====================  ============  ===========================  ===========================

memory64: the address type is i64 and offsets up to 2**64-1 are honoured; a 32-bit address plus its
offset is computed in i64 for the host, so it never wraps. Other memories (multi-memory) are not
watched: an access of memory k > 0 is left as it is (it cannot write memory 0), and a ``memory.copy``
into memory 0 from another memory is watched with ``v1`` = that memory's index. A module without a
memory 0 is refused.

Cost: per site an extra ~14 instructions on the path the filter rejects (saves, two global loads, one
subtract, one compare, a not-taken branch, reloads): about 1.2x on a store-heavy loop, whatever the
number of ranges; about 2.5x when every store passes the filter and misses the ranges
(``bench/watchcost.py``, docs/performance.md).
"""

from __future__ import annotations

from dataclasses import dataclass

from ..errors import ParseError
from ..parser.code import op_name
from ..parser.encode import sleb, uleb
from .accesses import (
    CMPXCHG,
    COPY,
    FILL,
    INIT,
    LANE,
    MEMORY_COPY,
    MEMORY_FILL,
    MEMORY_INIT,
    READ,
    READ_LANE,
    READ_OPS,
    RMW,
    STORE,
    V128,
    WRITE_OPS,
    operands,
)
from .emit import global_get, local_get, local_set, local_tee
from .rewriter import Builder, Edit, FunctionContext, Pass

HOOK_TABLE_EXPORT = "__wasmem_watch_hook"
FILTER_LO_EXPORT = "__wasmem_watch_lo"
FILTER_SPAN_EXPORT = "__wasmem_watch_span"
HOOK_PARAMS = ("i32", "i64", "i64", "i64", "i64")
MAX_RANGES = 64
MAX_ACCESS = 16  # the widest single access (v128); the filter is widened by it


_TO_I64 = {"i32": b"\xad", "i64": b"", "f32": b"\xbc\xad", "f64": b"\xbd"}  # bits, zero-extended
_EXTRACT = {1: b"\xfd\x16", 2: b"\xfd\x19", 4: b"\xfd\x1b", 8: b"\xfd\x1d"}  # *.extract_lane(_u)


@dataclass(frozen=True)
class WatchSite:
    """One instrumented access. ``offset`` is the instruction's offset in the original module."""

    id: int
    func_index: int
    offset: int
    op: int
    kind: str
    size: int | None  # None for bulk operations (the size is a run-time operand)
    lane: int | None = None

    @property
    def name(self) -> str:
        return op_name(self.op)

    @property
    def is_read(self) -> bool:
        return self.kind in (READ, READ_LANE)


class WatchPass(Pass):
    """See the module docstring. ``nranges`` exact ranges (1..MAX_RANGES); ``sp_range`` is the index of
    the range whose low end is the live stack pointer (global ``sp_global``); ``reads`` also watches loads."""

    def __init__(self, nranges: int, *, reads: bool = False, sp_range: int | None = None,
                 sp_global: int | None = None):
        if not 1 <= nranges <= MAX_RANGES:
            raise ParseError(f"cannot watch {nranges} ranges: give 1 to {MAX_RANGES}")
        if sp_range is not None and (sp_global is None or not 0 <= sp_range < nranges):
            raise ParseError("a stack-overflow watch range needs the stack pointer's global")
        self.nranges = nranges
        self.reads = reads
        self.sp_range = sp_range
        self.sp_global = sp_global
        self.sites: list[WatchSite] = []
        ops = set(WRITE_OPS) | {MEMORY_FILL, MEMORY_COPY, MEMORY_INIT}
        if reads:
            ops |= set(READ_OPS)
        self.ops = frozenset(ops)

    # -- the rewrite cache -----------------------------------------------------------------------
    def cache_key(self) -> tuple:
        return (self.nranges, self.reads, self.sp_range, self.sp_global)

    def saved_state(self):
        return {"sites": [[s.func_index, s.offset, s.op, s.kind, s.size, s.lane] for s in self.sites]}

    def restore_state(self, state) -> None:
        self.sites = [WatchSite(i, int(f), int(o), int(op), str(k), None if n is None else int(n),
                                None if lane is None else int(lane))
                      for i, (f, o, op, k, n, lane) in enumerate(state["sites"])]

    # -- setup ---------------------------------------------------------------------------------
    def setup(self, b: Builder) -> None:
        self.sites = []
        m = b.module
        if not m.memories:
            raise ParseError("cannot watch memory: the module has no memory")
        mems = m.memories
        self.mem_is64 = [mt.type.limits.is64 for mt in mems]
        self.at = "i64" if self.mem_is64[0] else "i32"
        self.sp_valtype = None
        if self.sp_global is not None:
            gs = m.globals
            if not 0 <= self.sp_global < len(gs) or gs[self.sp_global].type.valtype not in ("i32", "i64"):
                raise ParseError(f"cannot watch the stack: global {self.sp_global} is not an i32/i64 stack pointer")
            self.sp_valtype = gs[self.sp_global].type.valtype
        const = b"\x41" if self.at == "i32" else b"\x42"
        self.filter_lo = b.add_global(self.at, const + b"\x00")
        self.filter_span = b.add_global(self.at, const + b"\x00")
        self.lo = []
        self.hi = []
        for _ in range(self.nranges):
            self.lo.append(b.add_global("i64", b"\x42\x00"))
            self.hi.append(b.add_global("i64", b"\x42\x00"))
        self.hook_type = b.func_type(HOOK_PARAMS, (), fresh=True)
        self.table = b.add_table(1)
        self.slow = b.add_function(self.hook_type)
        self.check = b.add_function(b.func_type(("i64", "i64"), ("i32",)))
        self.exports = {
            "table": b.export(HOOK_TABLE_EXPORT, "table", self.table),
            "filter_lo": b.export(FILTER_LO_EXPORT, "global", self.filter_lo),
            "filter_span": b.export(FILTER_SPAN_EXPORT, "global", self.filter_span),
        }
        self.range_exports = [(b.export(f"__wasmem_watch_lo_{i}", "global", lo),
                               b.export(f"__wasmem_watch_hi_{i}", "global", hi))
                              for i, (lo, hi) in enumerate(zip(self.lo, self.hi, strict=True))]
        # address-type opcodes
        is64 = self.at == "i64"
        self._add = b"\x7c" if is64 else b"\x6a"
        self._sub = b"\x7d" if is64 else b"\x6b"
        self._lt_u = b"\x54" if is64 else b"\x49"
        self._ext = b"" if is64 else b"\xad"
        self._filter_tail = (global_get(self.filter_lo) + self._sub + global_get(self.filter_span)
                             + self._lt_u)
        self._call_slow = b"\x10" + uleb(self.slow)
        self._call_check = b"\x10" + uleb(self.check)

    # -- sites -----------------------------------------------------------------------------------
    def _site(self, fn: FunctionContext, offset: int, op: int, kind: str, size, lane=None) -> bytes:
        sid = len(self.sites)
        self.sites.append(WatchSite(sid, fn.index, offset, op, kind, size, lane))
        return b"\x41" + sleb(sid if sid < 2**31 else sid - 2**32)

    def visit(self, fn: FunctionContext, offset: int, op: int, imm) -> Edit | None:
        if op in WRITE_OPS or op in READ_OPS:
            kind, vt, size = WRITE_OPS.get(op) or READ_OPS[op]
            memidx = imm[2]
            if memidx != 0:
                return None
            return self._memarg(fn, offset, op, kind, vt, size, imm)
        if op == MEMORY_FILL:
            if imm != 0:
                return None
            return self._bulk(fn, offset, op, FILL, (self.at, "i32", self.at), v0_slot=1, v1=b"\x42\x00")
        if op == MEMORY_COPY:
            dst, src = imm
            if dst != 0:
                return None
            src_t = "i64" if src < len(self.mem_is64) and self.mem_is64[src] else "i32"
            n_t = "i64" if self.at == "i64" and src_t == "i64" else "i32"
            return self._bulk(fn, offset, op, COPY, (self.at, src_t, n_t), v0_slot=1,
                              v1=b"\x42" + sleb(src))
        if op == MEMORY_INIT:
            seg, mem = imm
            if mem != 0:
                return None
            return self._bulk(fn, offset, op, INIT, (self.at, "i32", "i32"), v0_slot=1, v1=b"\x42" + sleb(seg))
        return None

    def _memarg(self, fn, offset, op, kind, vt, size, imm) -> Edit:
        at = self.at
        off = imm[1]
        lane = imm[3] if len(imm) > 3 else None
        rest = operands(kind, vt)
        a = fn.scratch(at, 0)
        slots = [fn.scratch(t, i + 1) for i, t in enumerate(rest)]
        before = bytearray()
        for idx in reversed(slots):
            before += local_set(idx)
        before += local_tee(a)
        if off:
            before += (b"\x41" + sleb(off - 2**32 if off >= 2**31 else off) if at == "i32"
                       else b"\x42" + sleb(off - 2**64 if off >= 2**63 else off)) + self._add
        before += self._filter_tail + b"\x04\x40"
        ea = local_get(a) + self._ext  # the effective address as i64 (never wraps)
        if off:
            ea += b"\x42" + sleb(off - 2**64 if off >= 2**63 else off) + b"\x7c"
        before += ea + b"\x42" + sleb(size) + self._call_check + b"\x04\x40"  # exact ranges: (addr, size) only
        before += self._site(fn, offset, op, kind, size, lane)
        before += ea + b"\x42" + sleb(size)
        if kind in (STORE, RMW):
            before += local_get(slots[0]) + _TO_I64[vt] + b"\x42\x00"
        elif kind == CMPXCHG:
            before += local_get(slots[0]) + _TO_I64[vt] + local_get(slots[1]) + _TO_I64[vt]
        elif kind == V128:
            before += (local_get(slots[0]) + b"\xfd\x1d\x00" + local_get(slots[0]) + b"\xfd\x1d\x01")
        elif kind == LANE:
            before += (local_get(slots[0]) + _EXTRACT[size] + bytes([lane]) + (b"" if size == 8 else b"\xad")
                       + b"\x42\x00")
        else:  # reads
            before += b"\x42\x00\x42\x00"
        before += self._call_slow + b"\x0b\x0b"
        before += local_get(a)
        for idx in slots:
            before += local_get(idx)
        return Edit(bytes(before))

    def _bulk(self, fn, offset, op, kind, types, *, v0_slot: int, v1: bytes) -> Edit:
        slots = [fn.scratch(t, i) for i, t in enumerate(types)]
        ext = {"i32": b"\xad", "i64": b""}
        before = bytearray()
        for idx in reversed(slots):
            before += local_set(idx)
        before += self._site(fn, offset, op, kind, None)
        before += local_get(slots[0]) + ext[types[0]]
        before += local_get(slots[2]) + ext[types[2]]
        before += local_get(slots[v0_slot]) + ext[types[v0_slot]]
        before += v1 + self._call_slow
        for idx in slots:
            before += local_get(idx)
        return Edit(bytes(before))

    # -- the appended function -------------------------------------------------------------------
    def finish(self, b: Builder) -> None:
        # params: 0 site, 1 addr, 2 size, 3 v0, 4 v1
        body = bytearray(b"\x00")  # no locals
        body += b"\x20\x02\x50\x04\x40\x0f\x0b"  # size == 0: nothing written
        sp = b""
        if self.sp_global is not None:
            sp = global_get(self.sp_global) + (b"\xad" if self.sp_valtype == "i32" else b"")
        call_hook = (b"\x20\x00\x20\x01\x20\x02\x20\x03\x20\x04" + b"\x41\x00"
                     + b"\x11" + uleb(self.hook_type) + uleb(self.table) + b"\x0f")
        for i in range(self.nranges):
            hi = global_get(self.hi[i])
            lo = sp if i == self.sp_range else global_get(self.lo[i])
            body += b"\x20\x01" + hi + b"\x54"  # addr < hi
            body += b"\x20\x01\x20\x02\x7c" + lo + b"\x56"  # addr + size > lo
            body += b"\x71"  # i32.and
            if i == self.sp_range:
                body += sp + hi + b"\x54\x71"  # and SP < hi: the stack has run below its low end
            body += b"\x04\x40" + call_hook + b"\x0b"
        body += b"\x0b"
        b.set_body(self.slow, bytes(body))
        # $check(addr, size) -> i32: the same test without the report, so that a store the filter let
        # through passes two arguments, not five, when it misses every range
        check = bytearray(b"\x00")
        for i in range(self.nranges):
            hi = global_get(self.hi[i])
            lo = sp if i == self.sp_range else global_get(self.lo[i])
            check += b"\x20\x00" + hi + b"\x54" + b"\x20\x00\x20\x01\x7c" + lo + b"\x56\x71"
            if i == self.sp_range:
                check += sp + hi + b"\x54\x71"
            check += b"\x04\x40\x41\x01\x0f\x0b"
        check += b"\x41\x00\x0b"
        b.set_body(self.check, bytes(check))
