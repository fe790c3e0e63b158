"""The heap pass: every call of an allocator function goes through a wrapper that logs what it did.

Which functions allocate and free, and what their parameters mean, comes from ``model/allocators.py``
(an :class:`AllocatorFunction` with its :class:`Convention`). For each allocator function F the pass
appends a *wrapper* ``W_F(params of F…, site i32) -> results of F`` and rewrites every ``call F`` of
the module's code into ``i32.const SITE; call W_F`` (``return_call F``: ``i32.const SITE;
return_call W_F``), where SITE numbers the call instruction (:class:`HeapSite`: the calling function
and the call's original code offset, which DWARF's line table turns into file:line). Every export of F
is redirected to an appended ``E_F(params…)`` that calls ``W_F`` with the site ``HOST_SITE``: so
wasmem's own calls of the allocator (``s:`` arguments, ``--before "malloc 32"``, a host profile's
string glue) are tracked like the module's own, and a plain host calling the export sees the same
function type. Function indices never move (everything is appended), so the name section, element
segments, ``ref.func`` and DWARF stay valid; offsets are mapped back by the rewriter.

What a wrapper does::

    depth += 1
    [free, realloc: if depth == 1 && on: log(BEFORE, site, args…, 0)]
    results = F(args…)
    depth -= 1
    [alloc, calloc, realloc, …: if depth == 0 && on: log(AFTER, site, args…, result)]
    results

``depth`` (an appended global) makes only the *outermost* allocator call count: ``realloc`` calling
``malloc`` inside, ``__rust_alloc`` → ``__rdl_alloc`` → ``malloc`` are one event. The host resets it
to 0 before each call (a trap inside an allocator leaves it raised). ``on`` (an appended global the
host sets once the log is ready) keeps the start function's and a plain host's calls from logging
anything. A free is logged *before* the call: when a double or invalid free makes the allocator abort,
the event that explains the abort is already in the log. ``posix_memalign``-shaped functions (a
pointer stored through an out parameter) log the stored pointer as a fourth argument, read after a
successful call only.

Why a log in memory and not a host call per event
-------------------------------------------------
A call from wasm into a Python host function costs microseconds, a ``malloc``/``free`` pair tens of
nanoseconds: one host call per event makes an allocation-heavy loop many times slower. So ``log``
appends a 48-byte record to an appended memory (multi-memory: after the module's memories, exported as
``__wasmem_heap_log``; records: ``code i32, site i32, arg0..arg3 i64, result i64``, code = allocator
number × 2 + phase) and bumps ``count``; only when ``count`` reaches ``limit`` does it call the host,
through an appended funcref table of one entry (``__wasmem_heap_hook``, signature ``() -> ()``: no
import, which would shift every function index), and the host drains the log. The host also drains
after every call. The host may set ``limit`` to 1 to see every event as it happens (then it reads the
call-path pass's shadow stack for each allocation's call path). Memory 0 is never touched: the program
sees the same bytes as under a plain host.

Even a 48-byte record per event costs more than the host can *read*: turning a record into a live block
in Python takes about a microsecond, a malloc/free pair of a fast allocator 20-100 ns. So the commonest
pattern — a block freed soon after it was allocated, before anyone read the log — is settled in wasm: a
free (``$cancel``) whose pointer is the result of the log's *last* record, an allocation by a
malloc-, calloc- or Rust-alloc-shaped function (and, for a free that takes a size, of that size), drops
that record instead of logging itself, and adds one to the exported ``cancelled`` / ``cancelled_bytes``
globals (the host adds them to its counts). ``(pointer, site)`` of that free goes into a 4096-slot table
after the records (hashed by pointer), so that a second free of the same pointer is still a *double*
free with the first free's site (unless another cancelled free took the slot since: then it is reported
as an invalid free).

Not seen: an allocator called through a function pointer (``call_indirect``, ``call_ref``: the table
holds F itself), and allocations the allocator makes for itself (``sbrk``, ``memory.grow``).
"""

from __future__ import annotations

from dataclasses import dataclass

from ..errors import ParseError
from ..parser.encode import sleb, uleb
from .rewriter import Builder, Edit, FunctionContext, Pass

LOG_EXPORT = "__wasmem_heap_log"
COUNT_EXPORT = "__wasmem_heap_count"
LIMIT_EXPORT = "__wasmem_heap_limit"
DEPTH_EXPORT = "__wasmem_heap_depth"
ON_EXPORT = "__wasmem_heap_on"
HOOK_TABLE_EXPORT = "__wasmem_heap_hook"
RECORD = 48
LOG_PAGES = 5  # 4 pages of records, then one page of the recently cancelled frees
CAPACITY = 4 * 65536 // RECORD  # records the log holds (5461)
CANCEL_BASE = 4 * 65536  # the table of cancelled frees: CANCEL_SLOTS entries (pointer i64, site i32, size i32)
CANCEL_SLOTS = 4096
CANCELLED_EXPORT = "__wasmem_heap_cancelled"  # i64: allocation/free pairs cancelled in wasm
CANCELLED_BYTES_EXPORT = "__wasmem_heap_cancelled_bytes"  # i64: their bytes
HOST_SITE = 0xFFFFFFFF  # the site of a call through a redirected export (the host's)
BEFORE, AFTER = 0, 1
PRE_ROLES = frozenset({"free", "realloc"})  # logged before the call
POST_ROLES = frozenset({"alloc", "calloc", "realloc", "alloc_zeroed", "aligned_alloc", "memalign_out"})

_GET, _SET, _TEE, _GGET, _GSET = 0x20, 0x21, 0x22, 0x23, 0x24


@dataclass(frozen=True)
class HeapSite:
    """One rewritten call of an allocator function (``offset``: the call's offset in the original module)."""

    id: int
    func_index: int  # the calling function
    offset: int
    allocator: int  # number of the allocator function called (index into HeapPass.allocators)


def _i(op: int, idx: int) -> bytes:
    return bytes([op]) + uleb(idx)


def _const(v: int) -> bytes:
    return b"\x41" + sleb(v - 2**32 if v >= 2**31 else v)


class HeapPass(Pass):
    """See the module docstring. ``allocators``: AllocatorFunction-like objects (``index``, ``role``,
    ``convention.params``), at most one per function."""

    ops = frozenset({0x10, 0x12})

    def __init__(self, allocators):
        self.allocators = list(allocators)
        if not self.allocators:
            raise ParseError("heap tracking: no allocator function to track (--allocator ALLOC,FREE names one)")
        self.sites: list[HeapSite] = []
        self.exported: dict[int, list[str]] = {}  # allocator number → its export names (redirected)
        self.memcheck = None  # the MemcheckPass (memcheck.py) that sets it: the wrappers then mark its shadow

    def setup(self, b: Builder) -> None:
        m = b.module
        if not m.memories:
            raise ParseError("heap tracking: the module has no memory")
        self.sites = []
        self.is64 = m.memories[0].type.limits.is64
        self.log_memory = b.add_memory(LOG_PAGES)
        self.count = b.add_global("i32", b"\x41\x00")
        self.limit = b.add_global("i32", _const(CAPACITY))
        self.depth = b.add_global("i32", b"\x41\x00")
        self.on = b.add_global("i32", b"\x41\x00")
        self.cancelled = b.add_global("i64", b"\x42\x00")
        self.cancelled_bytes = b.add_global("i64", b"\x42\x00")
        self.hook_type = b.func_type((), (), fresh=True)
        self.table = b.add_table(2)  # entry 0: the log is full; entry 1: a memcheck hit (MemcheckPass)
        self.log_func = b.add_function(b.func_type(("i32", "i32", "i64", "i64", "i64", "i64", "i64")))
        self.cancel_func = b.add_function(b.func_type(("i64", "i32", "i64"), ("i32",)))
        # with --memcheck: $mark(addr, n, state) fills the shadow of [addr, addr + n) in wasm (see MemcheckPass)
        self.mark_func = (b.add_function(b.func_type(("i32", "i32", "i32"))) if self.memcheck is not None
                          else None)
        self.exports = {"log": b.export(LOG_EXPORT, "memory", self.log_memory),
                        "count": b.export(COUNT_EXPORT, "global", self.count),
                        "limit": b.export(LIMIT_EXPORT, "global", self.limit),
                        "depth": b.export(DEPTH_EXPORT, "global", self.depth),
                        "on": b.export(ON_EXPORT, "global", self.on),
                        "cancelled": b.export(CANCELLED_EXPORT, "global", self.cancelled),
                        "cancelled_bytes": b.export(CANCELLED_BYTES_EXPORT, "global", self.cancelled_bytes),
                        "table": b.export(HOOK_TABLE_EXPORT, "table", self.table)}
        self.wrappers: dict[int, int] = {}  # F's function index → W_F
        self.number: dict[int, int] = {}  # F's function index → allocator number
        self._types: dict[int, object] = {}
        self._entries: dict[int, int] = {}  # allocator number → E_F
        seen = set()
        for k, a in enumerate(self.allocators):
            if a.index in seen:
                raise ParseError(f"heap tracking: function {a.index} given twice")
            seen.add(a.index)
            ft = m.get_function_type(a.index)
            if len(ft.params) > 4 or len(ft.results) > 1 or any(t not in ("i32", "i64") for t in
                                                                 (*ft.params, *ft.results)):
                raise ParseError(f"heap tracking: {a.name} has a type the pass cannot log "
                                 f"({', '.join(ft.params)}) -> ({', '.join(ft.results)})")
            self._types[k] = ft
            self.number[a.index] = k
            self.wrappers[a.index] = b.add_function(b.func_type((*ft.params, "i32"), ft.results))
            names = [e.name for e in m.exports if e.kind == "func" and e.index == a.index]
            if names:
                self._entries[k] = b.add_function(b.func_type(ft.params, ft.results))
                self.exported[k] = b.redirect_exports(a.index, self._entries[k])

    def visit(self, fn: FunctionContext, offset: int, op: int, imm) -> Edit | None:
        w = self.wrappers.get(imm)
        if w is None:
            return None
        sid = len(self.sites)
        self.sites.append(HeapSite(sid, fn.index, offset, self.number[imm]))
        return Edit(_const(sid), keep=False, after=bytes([op]) + uleb(w))

    # -- the appended bodies ---------------------------------------------------------------------
    def finish(self, b: Builder) -> None:
        b.set_body(self.log_func, self._log_body())
        b.set_body(self.cancel_func, self._cancel_body())
        if self.mark_func is not None:
            b.set_body(self.mark_func, self._mark_body())
        for k, a in enumerate(self.allocators):
            ft = self._types[k]
            b.set_body(self.wrappers[a.index], self._wrapper_body(k, a, ft))
            if k in self._entries:
                n = len(ft.params)
                body = b"\x00" + b"".join(_i(_GET, i) for i in range(n)) + _const(HOST_SITE)
                body += b"\x10" + uleb(self.wrappers[a.index]) + b"\x0b"
                b.set_body(self._entries[k], body)

    def _log_body(self) -> bytes:
        # params: code 0, site 1, a0..a3 2..5, result 6; local 7: the record's address
        mem = self.log_memory

        def store(op: int, align: int, off: int) -> bytes:
            return bytes([op, 0x40 | align]) + uleb(mem) + uleb(off)

        body = bytearray(b"\x01\x01\x7f")  # one i32 local
        body += _i(_GGET, self.count) + _const(RECORD) + b"\x6c" + _i(_SET, 7)  # base = count * RECORD
        body += _i(_GET, 7) + _i(_GET, 0) + store(0x36, 2, 0)
        body += _i(_GET, 7) + _i(_GET, 1) + store(0x36, 2, 4)
        for j in range(5):
            body += _i(_GET, 7) + _i(_GET, 2 + j) + store(0x37, 3, 8 + 8 * j)
        body += _i(_GGET, self.count) + b"\x41\x01\x6a" + _i(_TEE, 7) + _i(_GSET, self.count)
        body += _i(_GET, 7) + _i(_GGET, self.limit) + b"\x4f"  # count >= limit
        body += b"\x04\x40" + b"\x41\x00" + b"\x11" + uleb(self.hook_type) + uleb(self.table) + b"\x0b"
        return bytes(body + b"\x0b")

    def _cancel_body(self) -> bytes:
        """$cancel(ptr i64, site i32, old_size i64 or -1) -> 1 when the log's last record is the allocation of
        ``ptr`` (by a malloc-, calloc- or Rust-alloc-shaped function) of ``old_size`` bytes (-1: any): that
        record is dropped, the pair counted in two globals, and ``(ptr, site)`` kept in the table of
        cancelled frees (so that a later second free of ``ptr`` is still a double free with this site)."""
        mem = self.log_memory

        def mop(op: int, align: int, off: int) -> bytes:
            return bytes([op, 0x40 | align]) + uleb(mem) + uleb(off)

        # params: ptr 0, site 1, old 2; locals: base 3 (i32), code 4 (i32), size 5 (i64), slot 6 (i32)
        body = bytearray(b"\x03\x02\x7f\x01\x7e\x01\x7f")
        body += _i(_GGET, self.count) + b"\x45\x04\x40\x41\x00\x0f\x0b"  # empty log: 0
        body += _i(_GGET, self.count) + b"\x41\x01\x6b" + _const(RECORD) + b"\x6c" + _i(_SET, 3)
        body += _i(_GET, 3) + mop(0x29, 3, 40) + _i(_GET, 0) + b"\x52\x04\x40\x41\x00\x0f\x0b"  # result != ptr
        body += _i(_GET, 3) + mop(0x28, 2, 0) + _i(_SET, 4)
        body += b"\x42\x7f" + _i(_SET, 5)  # size = -1: not a cancellable record
        for k, a in enumerate(self.allocators):
            params = a.convention.params
            size_at = count_at = None
            if a.role in ("alloc", "aligned_alloc", "alloc_zeroed") and "size" in params:
                size_at = params.index("size")
            elif a.role == "calloc" and "size" in params and "count" in params:
                size_at, count_at = params.index("size"), params.index("count")
            if size_at is None:
                continue
            body += _i(_GET, 4) + _const(2 * k + AFTER) + b"\x46\x04\x40"
            body += _i(_GET, 3) + mop(0x29, 3, 8 + 8 * size_at)
            if count_at is not None:
                body += _i(_GET, 3) + mop(0x29, 3, 8 + 8 * count_at) + b"\x7e"
            body += _i(_SET, 5) + b"\x0b"
        body += _i(_GET, 5) + b"\x42\x7f\x51\x04\x40\x41\x00\x0f\x0b"  # not an allocation record: 0
        # a size given (Rust's dealloc) that differs: leave it to the host (a size mismatch)
        body += (_i(_GET, 2) + b"\x42\x7f\x52" + _i(_GET, 2) + _i(_GET, 5) + b"\x52\x71"
                 + b"\x04\x40\x41\x00\x0f\x0b")
        body += _i(_GGET, self.count) + b"\x41\x01\x6b" + _i(_GSET, self.count)
        body += _i(_GGET, self.cancelled) + b"\x42\x01\x7c" + _i(_GSET, self.cancelled)
        body += _i(_GGET, self.cancelled_bytes) + _i(_GET, 5) + b"\x7c" + _i(_GSET, self.cancelled_bytes)
        # slot = ((ptr >> 4) ^ (ptr >> 16)) & (SLOTS - 1), as an offset
        body += (_i(_GET, 0) + b"\x42\x04\x88" + _i(_GET, 0) + b"\x42\x10\x88\x85\xa7" + _const(CANCEL_SLOTS - 1)
                 + b"\x71\x41\x04\x74" + _i(_TEE, 6))
        body += _i(_GET, 0) + mop(0x37, 3, CANCEL_BASE)
        body += _i(_GET, 6) + _i(_GET, 1) + mop(0x36, 2, CANCEL_BASE + 8)
        body += _i(_GET, 6) + _i(_GET, 5) + b"\xa7" + mop(0x36, 2, CANCEL_BASE + 12)  # its size (for memcheck)
        if self.mark_func is not None:  # the block is freed: its shadow says so at once
            body += _i(_GET, 0) + b"\xa7" + _i(_GET, 5) + b"\xa7" + b"\x41\x01" + b"\x10" + uleb(self.mark_func)
        body += b"\x41\x01\x0b"
        return bytes(body)

    def _mark_body(self) -> bytes:
        """$mark(addr, n, state): the shadow bytes of [addr, addr + n) set to ``state`` — only when the range
        lies inside the shadow (a bad pointer from the allocator must not make wasmem trap where the program
        does not)."""
        shadow = self.memcheck.shadow
        size = b"\x3f" + uleb(shadow) + b"\x41\x10\x74"  # memory.size(shadow) << 16 (bytes; < 4 GiB)
        body = bytearray(b"\x00")
        # if n <= size && addr <= size - n: memory.fill shadow addr state n
        body += _i(_GET, 1) + size + b"\x4d" + _i(_GET, 0) + size + _i(_GET, 1) + b"\x6b\x4d\x71"
        body += b"\x04\x40" + _i(_GET, 0) + _i(_GET, 2) + _i(_GET, 1) + b"\xfc\x0b" + uleb(shadow) + b"\x0b"
        return bytes(body + b"\x0b")

    def _mark_allocation(self, a, ft, res: int) -> bytes:
        """With --memcheck: code that marks the block an allocation returned as live in the shadow, in wasm,
        so that the program's next access to it is not reported whatever the log holds (wasm32 only)."""
        if self.mark_func is None or ft.results != ("i32",):
            return b""
        params = a.convention.params
        if "size" not in params or any(ft.params[i] != "i32" for i in range(len(ft.params))):
            return b""
        size = _i(_GET, params.index("size"))
        state = self.memcheck.allocated_state(a.role)
        if a.role == "calloc" and "count" in params:
            size += _i(_GET, params.index("count")) + b"\x6c"
        if a.role == "memalign_out" and "out" in params:
            ptr = _i(_GET, params.index("out")) + b"\x28\x02\x00"  # the pointer stored through `out`
            ok = _i(_GET, res) + b"\x45"  # status 0
        else:
            ptr = _i(_GET, res)
            ok = _i(_GET, res)  # a non-null block
        return ok + b"\x04\x40" + ptr + size + _const(state) + b"\x10" + uleb(self.mark_func) + b"\x0b"

    def _wrapper_body(self, k: int, a, ft) -> bytes:
        n = len(ft.params)
        site = n
        res_t = ft.results[0] if ft.results else None
        role = a.role
        locals_ = b"\x00"
        res = n + 1
        if res_t is not None:
            locals_ = b"\x01\x01" + (b"\x7f" if res_t == "i32" else b"\x7e")
        ext = {"i32": b"\xad", "i64": b""}

        def args(fourth: bytes | None = None) -> bytes:
            out = b""
            for i in range(4):
                if i < n:
                    out += _i(_GET, i) + ext[ft.params[i]]
                elif i == 3 and fourth is not None:
                    out += fourth
                else:
                    out += b"\x42\x00"
            return out

        body = bytearray(locals_)
        body += _i(_GGET, self.depth) + b"\x41\x01\x6a" + _i(_GSET, self.depth)
        if role in PRE_ROLES:
            body += _i(_GGET, self.depth) + b"\x41\x01\x46" + _i(_GGET, self.on) + b"\x71"
            body += b"\x04\x40"
            params = a.convention.params
            cancel = role == "free" and "ptr" in params and len(params) == n
            if cancel:  # a free of the block the log's last record allocated: both dropped in wasm
                pi = params.index("ptr")
                old = (_i(_GET, params.index("old_size")) + ext[ft.params[params.index("old_size")]]
                       if "old_size" in params else b"\x42\x7f")
                body += (_i(_GET, pi) + ext[ft.params[pi]] + _i(_GET, site) + old + b"\x10" + uleb(self.cancel_func)
                         + b"\x45\x04\x40")
            body += _const(2 * k + BEFORE) + _i(_GET, site) + args() + b"\x42\x00"
            body += b"\x10" + uleb(self.log_func)
            if self.mark_func is not None:  # the host marks the freed block before the program runs on
                body += b"\x41\x00\x11" + uleb(self.hook_type) + uleb(self.table)
            body += b"\x0b"
            if cancel:
                body += b"\x0b"
        body += b"".join(_i(_GET, i) for i in range(n)) + b"\x10" + uleb(a.index)
        if res_t is not None:
            body += _i(_SET, res)
        body += _i(_GGET, self.depth) + b"\x41\x01\x6b" + _i(_GSET, self.depth)
        if role in POST_ROLES:
            fourth = None
            if role == "memalign_out" and n == 3 and res_t == "i32":
                # the pointer stored through `out`, read only after a successful call (status 0)
                load = (b"\x29" if self.is64 else b"\x28") + bytes([3 if self.is64 else 2, 0])
                fourth = (_i(_GET, res) + b"\x45\x04\x7e" + _i(_GET, 0) + load
                          + (b"" if self.is64 else b"\xad") + b"\x05\x42\x00\x0b")
            body += _i(_GGET, self.depth) + b"\x45" + _i(_GGET, self.on) + b"\x71"
            body += b"\x04\x40" + _const(2 * k + AFTER) + _i(_GET, site) + args(fourth)
            body += (_i(_GET, res) + ext[res_t]) if res_t is not None else b"\x42\x00"
            body += b"\x10" + uleb(self.log_func)
            body += self._mark_allocation(a, ft, res)
            body += b"\x0b"
        if res_t is not None:
            body += _i(_GET, res)
        return bytes(body + b"\x0b")
