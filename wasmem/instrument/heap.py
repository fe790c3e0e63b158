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
LOG_PAGES = 4
CAPACITY = LOG_PAGES * 65536 // RECORD  # records the log holds (5461)
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
        self.hook_type = b.func_type((), (), fresh=True)
        self.table = b.add_table(1)
        self.log_func = b.add_function(b.func_type(("i32", "i32", "i64", "i64", "i64", "i64", "i64")))
        self.exports = {"log": b.export(LOG_EXPORT, "memory", self.log_memory),
                        "count": b.export(COUNT_EXPORT, "global", self.count),
                        "limit": b.export(LIMIT_EXPORT, "global", self.limit),
                        "depth": b.export(DEPTH_EXPORT, "global", self.depth),
                        "on": b.export(ON_EXPORT, "global", self.on),
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
            body += b"\x04\x40" + _const(2 * k + BEFORE) + _i(_GET, site) + args() + b"\x42\x00"
            body += b"\x10" + uleb(self.log_func) + b"\x0b"
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
            body += b"\x10" + uleb(self.log_func) + b"\x0b"
        if res_t is not None:
            body += _i(_GET, res)
        return bytes(body + b"\x0b")
