"""The heap pass: every call of an allocator function is tracked by code around it, in the module.

Which functions allocate and free, and what their parameters mean, comes from ``model/allocators.py``
(an :class:`AllocatorFunction` with its :class:`Convention`). Every ``call F`` of an allocator function
F in the module's code gets the tracking code *inline*, around the call (its operands are kept in scratch
locals): a call from wasm costs a few nanoseconds (more with epoch interruption, which wasmem's sessions
use: every function entry checks the epoch), a malloc/free pair of a fast allocator about ten, so an extra
call per event would be most of the cost; the settling of a pending allocation's free is inline too.
SITE numbers the call instruction (:class:`HeapSite`:
the calling function and the call's original code offset, which DWARF's line table turns into
file:line). A ``return_call F`` cannot have code after it: it becomes ``i32.const SITE; return_call
W_F``, an appended *wrapper* ``W_F(params of F…, site i32) -> results of F`` with the same tracking.
Every export of F is redirected to an appended ``E_F(params…)``, the same with the site ``HOST_SITE``:
so wasmem's own calls of the allocator (``s:`` arguments, ``--before "malloc 32"``, a host profile's
string glue) are tracked like the module's own, and a plain host calling the export sees the same
function type. Function indices never move (everything is appended), so the name section, element
segments, ``ref.func`` and DWARF stay valid; offsets are mapped back by the rewriter.

What the tracking does::

    [free, realloc: if depth == 0: settle a pending allocation (below) or $pre_k(args…, site)]
    depth += 1
    results = F(args…)
    depth -= 1
    [alloc, calloc, realloc, …: if depth == 0: make it a pending allocation (below) or $post_k(args…, site, result)]

``depth`` (an appended global) makes only the *outermost* allocator call count: ``realloc`` calling
``malloc`` inside, ``__rust_alloc`` → ``__rdl_alloc`` → ``malloc`` are one event. The host resets it
to 0 before each call (a trap inside an allocator leaves it raised). A free is logged *before* the call:
when a double or invalid free makes the allocator abort, the event that explains the abort is already
in the log. ``posix_memalign``-shaped functions (a pointer stored through an out parameter) log the
stored pointer as a fourth argument, read after a successful call only. Tracking is on from the start:
the start function runs while the module is instantiated, before the host can fill the hook table, and
its allocations are logged too (the host drains them as soon as it is attached; if the log fills before
that, the record that filled it is dropped and counted in the exported ``lost``).

Why a log in memory and not a host call per event
-------------------------------------------------
A call from wasm into a Python host function costs microseconds: one host call per event makes an
allocation-heavy loop many times slower. So ``$pre_k``/``$post_k`` append a 48-byte record to an appended
memory (``$log``; multi-memory: after the module's memories, exported as ``__wasmem_heap_log``; records:
``code i32, site i32, arg0..arg3 i64, result i64``, code = allocator number × 2 + phase) and bump
``count``; only when ``count`` reaches ``limit`` does it call the host, through an appended funcref table
(``__wasmem_heap_hook``, entry 0, signature ``() -> ()``: no import, which would shift every function
index), and the host drains the log. The host also drains after every call. The host may set ``limit`` to
1 to see every event as it happens (then it reads the call-path pass's shadow stack for each allocation's
call path; the pass is then built ``immediate``: nothing is left pending). Memory 0 is never touched:
the program sees the same bytes as under a plain host.

Pending allocations: pairs settled in wasm
-----------------------------------------
Even a record per event costs more than the host can *read*: turning a record into a live block in
Python takes about a microsecond. So the commonest pattern — a block freed soon after it was allocated —
is settled in wasm. An allocation by a malloc-, calloc- or Rust-alloc-shaped function (operands and result
of the module's pointer type) that returns a block is not logged at once: it becomes a *pending
allocation* in a table of PEND_SLOTS entries after the records (block, size, site, code ``PENDING + k``;
the entry chosen by ``_slot`` from the block's address; the global ``pend_count``, exported as
``__wasmem_heap_pending``, counts the entries taken). An allocation still pending in that entry (a block that lives on) goes
into the log first (``$evict``). A free (without a size, or with the pending block's size: Rust's dealloc)
of a pending block settles both: nothing is logged, the entry is free again, the pair is added to the
exported ``cancelled`` / ``cancelled_bytes`` globals (the host counts what they grew by), and ``(pointer,
site, size)`` of that free goes into a 4096-slot table of settled frees (slot: bits 4-15 of the pointer),
so that a second free of the same pointer is still a *double* free with the first free's site (unless
another settled free took the slot since: then it is reported as an invalid free). Every other event about
a pending block (a free that does not settle it, a realloc, a collector's free) evicts it first
(``$evict_ptr``), so that the log holds each block's events in order; the host reads the table after the
log's records, at every drain, and empties it. A loop that keeps blocks for a while (a ring of buffers)
thus costs the host nothing as long as they fit the table; only blocks that outlive their entry are logged.

Calls through a function pointer (``call_indirect``, ``call_ref``: Zig's ``std.mem.Allocator``) are
tracked by ``heap_pointers.py`` (run right after this pass): the table entries of F reach a wrapper that
calls ``W_F`` with the pointer call's site; it may also give ``site_code`` (Zig's interface shims: the
program's call of ``mem.Allocator.alloc`` is the site). A convention with more than four parameters (Zig's)
logs the ones with a role (``Convention.slots``). Not seen: allocations the allocator makes for itself
(``sbrk``, ``memory.grow``).
"""

from __future__ import annotations

from dataclasses import dataclass

from ..errors import ParseError
from ..parser.encode import sleb, uleb
from .emit import global_get, global_set, i32_const, local_get, local_set, local_tee
from .rewriter import Builder, Edit, FunctionContext, Pass
from .skip import leb_forms

LOG_EXPORT = "__wasmem_heap_log"
COUNT_EXPORT = "__wasmem_heap_count"
LIMIT_EXPORT = "__wasmem_heap_limit"
DEPTH_EXPORT = "__wasmem_heap_depth"
PEND_COUNT_EXPORT = "__wasmem_heap_pending"  # how many entries of the table of pending allocations are taken
LOST_EXPORT = "__wasmem_heap_lost"
HOOK_TABLE_EXPORT = "__wasmem_heap_hook"
RECORD = 48
LOG_PAGES = 6  # 4 pages of records, one of the recently cancelled frees, one of the pending allocations
CAPACITY = 4 * 65536 // RECORD  # records the log holds (5461)
CANCEL_BASE = 4 * 65536  # the table of cancelled frees: CANCEL_SLOTS entries (pointer i64, site i32, size i32)
CANCEL_SLOTS = 4096
PEND_BASE = 5 * 65536  # the table of pending allocations: PEND_SLOTS entries of PEND_ENTRY bytes
PEND_SLOTS = 512  # (block i64, 0 = a free entry; size i64; site i32; code i32); see HeapPass._slot
PEND_ENTRY = 32
CANCELLED_EXPORT = "__wasmem_heap_cancelled"  # i64: allocation/free pairs cancelled in wasm
CANCELLED_BYTES_EXPORT = "__wasmem_heap_cancelled_bytes"  # i64: their bytes
PENDING = 0x10000  # record code PENDING + k: a pending allocation of allocator k, its size in arg0
HOST_SITE = 0xFFFFFFFF  # the site of a call through a redirected export (the host's)
BEFORE, AFTER = 0, 1
# logged before the call; "opaque" (a family member whose calls are logged but not understood,
# model/allocfamily.py) only so that its pointer's pending allocation is logged first
PRE_ROLES = frozenset({"free", "realloc", "gc_free", "resize", "opaque"})
POST_ROLES = frozenset({"alloc", "calloc", "realloc", "alloc_zeroed", "aligned_alloc", "memalign_out", "renew",
                        "resize", "opaque"})


def allocator_key(a) -> tuple:
    """What of an AllocatorFunction-like object decides the heap passes' code: its function index and its
    convention (name, family, role, parameters, result, pointer offset)."""
    c = a.convention
    return (a.index, getattr(a, "name", None), getattr(c, "name", None), getattr(c, "family", None), a.role,
            tuple(c.params), getattr(c, "result", None), getattr(c, "offset", 0))


@dataclass(frozen=True)
class HeapSite:
    """One rewritten call of an allocator function (``offset``: the call's offset in the original module)."""

    id: int
    func_index: int  # the calling function
    offset: int
    allocator: int  # number of the allocator function called (index into HeapPass.allocators)


class HeapPass(Pass):
    """See the module docstring. ``allocators``: AllocatorFunction-like objects (``index``, ``role``,
    ``convention.params``), at most one per function. ``immediate``: every event goes into the log as it
    happens (no pending allocation), for a host that reads each one at once (``limit`` 1, call paths)."""

    ops = frozenset({0x10, 0x12})

    def __init__(self, allocators, *, immediate: bool = False):
        self.allocators = list(allocators)
        if not self.allocators:
            raise ParseError("heap tracking: no allocator function to track (--allocator ALLOC,FREE names one)")
        self.immediate = immediate
        self.sites: list[HeapSite] = []
        self.exported: dict[int, list[str]] = {}  # allocator number → its export names (redirected)
        self.memcheck = None  # the MemcheckPass (memcheck.py) that sets it: the wrappers then mark its shadow
        self.site_code = i32_const  # site number → code pushing the site (heap_pointers.py may say another)

    def setup(self, b: Builder) -> None:
        m = b.module
        if not m.memories:
            raise ParseError("heap tracking: the module has no memory")
        self.sites = []
        self.is64 = m.is_memory64
        self.pt = "i64" if self.is64 else "i32"  # the module's pointer and size type
        self.log_memory = b.add_memory(LOG_PAGES)
        self.count = b.add_global("i32", b"\x41\x00")
        self.limit = b.add_global("i32", i32_const(CAPACITY))
        self.depth = b.add_global("i32", b"\x41\x00")
        self.cancelled = b.add_global("i64", b"\x42\x00")
        self.cancelled_bytes = b.add_global("i64", b"\x42\x00")
        self.lost = b.add_global("i32", b"\x41\x00")  # records dropped before the host could drain the log
        self.pend_count = b.add_global("i32", b"\x41\x00")  # taken entries of the table of pending allocations
        self.hook_type = b.func_type((), (), fresh=True)
        self.table = b.add_table(2)  # entry 0: the log is full; entry 1: a memcheck hit (MemcheckPass)
        self.log_func = b.add_function(b.func_type(("i32", "i32", "i64", "i64", "i64", "i64", "i64")))
        self.evict_func = b.add_function(b.func_type(("i32",)))  # $evict(entry offset): logged, entry freed
        self.evict_ptr_func = b.add_function(b.func_type((self.pt,)))  # $evict_ptr(block): its entry, if any
        # with --memcheck: $mark(addr, n, state) fills the shadow of [addr, addr + n) in wasm (see MemcheckPass)
        self.mark_func = (b.add_function(b.func_type(("i32", "i32", "i32"))) if self.memcheck is not None
                          else None)
        self.exports = {"log": b.export(LOG_EXPORT, "memory", self.log_memory),
                        "count": b.export(COUNT_EXPORT, "global", self.count),
                        "limit": b.export(LIMIT_EXPORT, "global", self.limit),
                        "depth": b.export(DEPTH_EXPORT, "global", self.depth),
                        "cancelled": b.export(CANCELLED_EXPORT, "global", self.cancelled),
                        "cancelled_bytes": b.export(CANCELLED_BYTES_EXPORT, "global", self.cancelled_bytes),
                        "lost": b.export(LOST_EXPORT, "global", self.lost),
                        "pend_count": b.export(PEND_COUNT_EXPORT, "global", self.pend_count),
                        "table": b.export(HOOK_TABLE_EXPORT, "table", self.table)}
        self.wrappers: dict[int, int] = {}  # F's function index → W_F
        self.number: dict[int, int] = {}  # F's function index → allocator number
        self._types: dict[int, object] = {}
        self._entries: dict[int, int] = {}  # allocator number → E_F
        self._pre: dict[int, int] = {}  # allocator number → $pre_k (a free or realloc logged before the call)
        self._post: dict[int, int] = {}  # allocator number → $post_k (an allocation logged after the call)
        seen = set()
        for k, a in enumerate(self.allocators):
            if a.index in seen:
                raise ParseError(f"heap tracking: function {a.index} given twice")
            seen.add(a.index)
            ft = m.get_function_type(a.index)
            if len(a.convention.slots) > 4 or len(ft.results) > 1 or any(t not in ("i32", "i64") for t in
                                                                         (*ft.params, *ft.results)):
                raise ParseError(f"heap tracking: {a.name} has a type the pass cannot log "
                                 f"({', '.join(ft.params)}) -> ({', '.join(ft.results)})")
            self._types[k] = ft
            self.number[a.index] = k
            self.wrappers[a.index] = b.add_function(b.func_type((*ft.params, "i32"), ft.results))
            if a.role in PRE_ROLES:
                self._pre[k] = b.add_function(b.func_type((*ft.params, "i32")))
            if a.role in POST_ROLES:
                self._post[k] = b.add_function(b.func_type((*ft.params, "i32", *ft.results)))
            names = [e.name for e in m.exports if e.kind == "func" and e.index == a.index]
            if names:
                self._entries[k] = b.add_function(b.func_type(ft.params, ft.results))
                self.exported[k] = b.redirect_exports(a.index, self._entries[k])

    # -- the rewrite cache (runtime/rewritecache.py) ------------------------------------------------
    def cache_key(self) -> tuple:
        """Each allocator function and its convention (which decide the code around its calls, its wrappers
        and what is logged), ``immediate``, and whether memcheck marks the shadow (its options: its own key;
        the function-pointer pass's shims: that pass's key)."""
        return (self.immediate, self.memcheck is not None,
                tuple(allocator_key(a) for a in self.allocators))

    def saved_state(self):
        return {"sites": [[s.func_index, s.offset, s.allocator] for s in self.sites]}

    def restore_state(self, state) -> None:
        """The sites; those the function-pointer pass numbered are made PointerSites again by that pass's
        own ``restore_state`` (it runs after this one: the passes' order)."""
        self.sites = [HeapSite(i, int(f), int(o), int(k)) for i, (f, o, k) in enumerate(state["sites"])]

    def prefixes(self) -> dict[int, list[bytes]]:
        """Only ``call F`` and ``return_call F`` of an allocator function F are changed."""
        forms = [form for f in self.wrappers for form in leb_forms(f)]
        return {0x10: [b"\x10" + x for x in forms], 0x12: [b"\x12" + x for x in forms]}

    def visit(self, fn: FunctionContext, offset: int, op: int, imm) -> Edit | None:
        w = self.wrappers.get(imm)
        if w is None:
            return None
        sid = len(self.sites)
        k = self.number[imm]
        self.sites.append(HeapSite(sid, fn.index, offset, k))
        if op == 0x12:  # return_call F: nothing can run after it here, so F's wrapper does the tracking
            return Edit(self.site_code(sid), keep=False, after=bytes([op]) + uleb(w))
        # call F: the tracking inline, around the call (no extra call on the common path)
        a, ft = self.allocators[k], self._types[k]
        # slots 60-64; a sixth and seventh operand (Zig's resize/remap) in 105-106, clear of 65-66
        args = [fn.scratch(t, 60 + i if i < 5 else 100 + i) for i, t in enumerate(ft.params)]
        res = fn.scratch(ft.results[0], 65) if ft.results else None
        before, after = self._track(k, a, ft, args, res, self.site_code(sid), fn.scratch("i32", 66))
        save = b"".join(local_set(x) for x in reversed(args))
        return Edit(save + before + b"".join(local_get(x) for x in args), keep=True, after=after)

    # -- the tracking code -----------------------------------------------------------------------
    def _cancellable(self, a, ft) -> tuple[int, int | None] | None:
        """(the parameter giving the size, the one giving calloc's count or None) when an allocation by ``a``
        can wait as a pending allocation (a malloc-, calloc- or Rust-alloc-shaped function
        returning a pointer, every operand of the module's pointer type); else None."""
        params = a.convention.params
        if ft.results != (self.pt,) or any(t != self.pt for t in ft.params) or "size" not in params:
            return None
        if a.role in ("alloc", "aligned_alloc", "alloc_zeroed"):
            return params.index("size"), None
        if a.role == "calloc" and "count" in params:
            return params.index("size"), params.index("count")
        return None

    def _track(self, k: int, a, ft, args: list[int], res: int | None, site: bytes, tmp: int) -> tuple[bytes, bytes]:
        """(code before the call of F, code after it) for one call of allocator ``k`` whose operands are in the
        locals ``args`` (pushed again between the two), its result going into ``res``; ``site`` pushes the
        call's site number, ``tmp`` is an i32 scratch local."""
        pt = self.pt
        gate = global_get(self.depth) + b"\x45"  # outermost allocator call (depth 0)
        before = bytearray()
        if a.role in PRE_ROLES:
            params = a.convention.params
            slow = b"".join(local_get(x) for x in args) + site + b"\x10" + uleb(self._pre[k])
            cancel = (a.role == "free" and "ptr" in params and len(params) == len(ft.params)
                      and ft.params[params.index("ptr")] == pt
                      and ("old_size" not in params or ft.params[params.index("old_size")] == pt))
            # a collector's free counts at any depth: an allocation may run the collector
            before += (gate if a.role != "gc_free" else b"\x41\x01") + b"\x04\x40"
            if cancel and not self.immediate:
                # a free of a pending allocation's block (of its size, for a free that takes one): both are
                # settled here, nothing logged (see the module docstring)
                p = args[params.index("ptr")]
                w = b"" if self.is64 else b"\xad"
                before += self._slot(p, tmp) + self._pop(0x29, 3, 0) + local_get(p) + w + b"\x51"
                before += local_get(p) + (b"\x50" if self.is64 else b"\x45") + b"\x45\x71"  # and not free(NULL)
                if "old_size" in params:
                    before += (local_get(tmp) + self._pop(0x29, 3, 8) + local_get(args[params.index("old_size")]) + w
                               + b"\x51\x71")
                before += b"\x04\x40" + self._settle(p, site, tmp) + b"\x05" + slow + b"\x0b"
            else:
                before += slow
            before += b"\x0b"
        before += global_get(self.depth) + b"\x41\x01\x6a" + global_set(self.depth)
        after = bytearray(global_get(self.depth) + b"\x41\x01\x6b" + global_set(self.depth))
        if res is not None:
            after += local_set(res)
        if a.role in POST_ROLES:
            slow = (b"".join(local_get(x) for x in args) + site + (local_get(res) if res is not None else b"")
                    + b"\x10" + uleb(self._post[k]))
            shape = None if self.immediate else self._cancellable(a, ft)
            after += gate + b"\x04\x40"
            if shape is not None:
                size_at, count_at = shape
                size = local_get(args[size_at])
                if count_at is not None:
                    size += local_get(args[count_at]) + (b"\x7e" if self.is64 else b"\x6c")
                w = b"" if self.is64 else b"\xad"
                # a block (not null) becomes a pending allocation in its entry of the table, whose occupant (an
                # allocation still live that shares the entry) is logged first
                after += local_get(res) + (b"\x50\x45" if self.is64 else b"") + b"\x04\x40"
                after += self._slot(res, tmp) + self._pop(0x29, 3, 0) + b"\x50\x45"
                after += b"\x04\x40" + local_get(tmp) + b"\x10" + uleb(self.evict_func) + b"\x0b"
                after += global_get(self.pend_count) + b"\x41\x01\x6a" + global_set(self.pend_count)
                after += local_get(tmp) + local_get(res) + w + self._pop(0x37, 3, 0)
                after += local_get(tmp) + size + w + self._pop(0x37, 3, 8)
                after += local_get(tmp) + site + self._pop(0x36, 2, 16)
                after += local_get(tmp) + i32_const(PENDING + k) + self._pop(0x36, 2, 20)
                after += self._mark_allocation(a, ft, lambda i: local_get(args[i]), local_get(res))
                after += b"\x05" + slow + b"\x0b"
            else:
                after += slow
            after += b"\x0b"
        if res is not None:
            after += local_get(res)
        return bytes(before), bytes(after)

    def _pop(self, op: int, align: int, off: int) -> bytes:
        """A load or store (``op``) in the table of pending allocations, ``off`` bytes into the entry whose offset
        is on the stack."""
        return bytes([op, 0x40 | align]) + uleb(self.log_memory) + uleb(PEND_BASE + off)

    def _slot(self, p: int, tmp: int) -> bytes:
        """Pushes the offset of block ``p``'s entry in the table of pending allocations (also into ``tmp``): entry
        ((p >> 4) ^ (p >> 12)) mod PEND_SLOTS, so that blocks of size-class allocators, whose classes sit 64 KiB
        apart, do not share entries."""
        w = b"\xa7" if self.is64 else b""
        return (local_get(p) + w + b"\x41\x04\x76" + local_get(p) + w + b"\x41\x0c\x76\x73"
                + i32_const(PEND_SLOTS - 1) + b"\x71\x41\x05\x74" + local_tee(tmp))

    def _settle(self, p: int, site: bytes, tmp: int) -> bytes:
        """A free of a pending allocation's block (local ``p``, its entry's offset in ``tmp``): the entry is freed,
        the pair counted in two globals, and ``(ptr, site, size)`` kept in the table of cancelled frees (so that a
        later second free of it is still a *double* free with this site, and memcheck knows the freed block)."""
        mem = self.log_memory

        def mop(op: int, align: int, off: int) -> bytes:
            return bytes([op, 0x40 | align]) + uleb(mem) + uleb(off)

        w = b"" if self.is64 else b"\xad"  # to i64
        size = local_get(tmp) + self._pop(0x29, 3, 8)  # the entry's size (i64)
        cslot = local_get(p) + (b"\xa7" if self.is64 else b"") + i32_const((CANCEL_SLOTS - 1) << 4) + b"\x71"
        out = bytearray()
        out += local_get(tmp) + b"\x42\x00" + self._pop(0x37, 3, 0)  # the entry is free again
        out += global_get(self.pend_count) + b"\x41\x01\x6b" + global_set(self.pend_count)
        out += global_get(self.cancelled) + b"\x42\x01\x7c" + global_set(self.cancelled)
        out += global_get(self.cancelled_bytes) + size + b"\x7c" + global_set(self.cancelled_bytes)
        # the slot in the table of cancelled frees: bits 4-15 of the pointer (blocks are at least 8-aligned)
        out += cslot + local_get(p) + w + mop(0x37, 3, CANCEL_BASE)
        out += cslot + site + mop(0x36, 2, CANCEL_BASE + 8)
        out += cslot + size + b"\xa7" + mop(0x36, 2, CANCEL_BASE + 12)
        if self.mark_func is not None:  # the block is freed: its shadow says so at once
            out += local_get(p) + size + b"\xa7\x41\x01\x10" + uleb(self.mark_func)
        return bytes(out)

    # -- the appended bodies ---------------------------------------------------------------------
    def finish(self, b: Builder) -> None:
        b.set_body(self.log_func, self._log_body())
        b.set_body(self.evict_func, self._evict_body())
        b.set_body(self.evict_ptr_func, self._evict_ptr_body())
        if self.mark_func is not None:
            b.set_body(self.mark_func, self._mark_body())
        for k, a in enumerate(self.allocators):
            ft = self._types[k]
            n = len(ft.params)
            res_t = ft.results[0] if ft.results else None
            # W_F(args…, site) and E_F(args…) (site: the host's): the same tracking as an inline call
            for func, site in ((self.wrappers[a.index], local_get(n)), (self._entries.get(k), i32_const(HOST_SITE))):
                if func is None:
                    continue
                first = n + 1 if func == self.wrappers[a.index] else n  # the first local after the params
                res = first if res_t is not None else None
                tmp = first + (res_t is not None)
                before, after = self._track(k, a, ft, list(range(n)), res, site, tmp)
                locals_ = (b"\x02\x01" + (b"\x7f" if res_t == "i32" else b"\x7e") + b"\x01\x7f" if res_t
                           else b"\x01\x01\x7f")
                b.set_body(func, locals_ + before + b"".join(local_get(i) for i in range(n)) + b"\x10"
                           + uleb(a.index) + after + b"\x0b")
            if k in self._pre:
                b.set_body(self._pre[k], self._pre_body(k, a, ft))
            if k in self._post:
                b.set_body(self._post[k], self._post_body(k, a, ft))

    def _args(self, a, ft, fourth: bytes | None = None) -> bytes:
        """The four i64 argument fields of a record from the parameters the convention logs (its ``slots``:
        parameters 0…3, or those with a role when there are more) (``fourth``: code for the fourth field when
        fewer are logged)."""
        slots = a.convention.slots
        ext = {"i32": b"\xad", "i64": b""}
        out = b""
        for i in range(4):
            if i < len(slots):
                out += local_get(slots[i]) + ext[ft.params[slots[i]]]
            elif i == 3 and fourth is not None:
                out += fourth
            else:
                out += b"\x42\x00"
        return out

    def _pre_body(self, k: int, a, ft) -> bytes:
        """$pre_k(args…, site): a free or realloc logged before the call (the block's pending allocation first)."""
        n = len(ft.params)
        body = bytearray(b"\x00")
        params = a.convention.params
        ptr = "ptr" if "ptr" in params else "obj" if "obj" in params else None
        if ptr is not None and ft.params[params.index(ptr)] == self.pt and not self.immediate:
            # the block this call frees may be a pending allocation: logged first, so the log keeps its order
            body += local_get(params.index(ptr))
            if a.convention.offset:
                body += (b"\x42" if self.is64 else b"\x41") + sleb(a.convention.offset) + (b"\x7c" if self.is64 else b"\x6a")
            body += b"\x10" + uleb(self.evict_ptr_func)
        body += i32_const(2 * k + BEFORE) + local_get(n) + self._args(a, ft) + b"\x42\x00" + b"\x10" + uleb(self.log_func)
        if self.mark_func is not None:  # the host marks the freed block before the program runs on
            body += self._hook()
        return bytes(body + b"\x0b")

    def _post_body(self, k: int, a, ft) -> bytes:
        """$post_k(args…, site, result): an allocation logged after the call (one that cannot wait as pending)."""
        n = len(ft.params)
        res_t = ft.results[0] if ft.results else None
        site, res = n, n + 1
        fourth = None
        if a.role == "memalign_out" and n == 3 and res_t == "i32":
            # the pointer stored through `out`, read only after a successful call (status 0)
            load = (b"\x29" if self.is64 else b"\x28") + bytes([3 if self.is64 else 2, 0])
            fourth = (local_get(res) + b"\x45\x04\x7e" + local_get(0) + load
                      + (b"" if self.is64 else b"\xad") + b"\x05\x42\x00\x0b")
        body = bytearray(b"\x00")
        body += i32_const(2 * k + AFTER) + local_get(site) + self._args(a, ft, fourth)
        body += (local_get(res) + (b"\xad" if res_t == "i32" else b"")) if res_t is not None else b"\x42\x00"
        body += b"\x10" + uleb(self.log_func)
        if res_t is not None:
            body += self._mark_allocation(a, ft, lambda i: local_get(i), local_get(res))
        return bytes(body + b"\x0b")

    def _evict_body(self) -> bytes:
        """$evict(entry): the pending allocation in that entry of the table goes into the log (code PENDING + k,
        its size in the first argument field) and the entry is free again (before the log may call the host)."""
        body = bytearray(b"\x01\x01\x7e")  # local 1: the block
        body += local_get(0) + self._pop(0x29, 3, 0) + local_set(1)
        body += local_get(0) + b"\x42\x00" + self._pop(0x37, 3, 0)
        body += global_get(self.pend_count) + b"\x41\x01\x6b" + global_set(self.pend_count)
        body += local_get(0) + self._pop(0x28, 2, 20) + local_get(0) + self._pop(0x28, 2, 16)
        body += local_get(0) + self._pop(0x29, 3, 8) + b"\x42\x00\x42\x00\x42\x00" + local_get(1)
        body += b"\x10" + uleb(self.log_func)
        return bytes(body + b"\x0b")

    def _evict_ptr_body(self) -> bytes:
        """$evict_ptr(block): if ``block`` is a pending allocation, its entry is evicted (logged)."""
        body = bytearray(b"\x01\x01\x7f")  # local 1: the entry's offset
        body += self._slot(0, 1) + self._pop(0x29, 3, 0) + local_get(0) + (b"" if self.is64 else b"\xad") + b"\x51"
        body += b"\x04\x40" + local_get(1) + b"\x10" + uleb(self.evict_func) + b"\x0b"
        return bytes(body + b"\x0b")

    def _log_body(self) -> bytes:
        # params: code 0, site 1, a0..a3 2..5, result 6; local 7: the record's address
        mem = self.log_memory

        def store(op: int, align: int, off: int) -> bytes:
            return bytes([op, 0x40 | align]) + uleb(mem) + uleb(off)

        body = bytearray(b"\x01\x01\x7f")  # one i32 local
        body += global_get(self.count) + i32_const(RECORD) + b"\x6c" + local_set(7)  # base = count * RECORD
        body += local_get(7) + local_get(0) + store(0x36, 2, 0)
        body += local_get(7) + local_get(1) + store(0x36, 2, 4)
        for j in range(5):
            body += local_get(7) + local_get(2 + j) + store(0x37, 3, 8 + 8 * j)
        body += global_get(self.count) + b"\x41\x01\x6a" + local_tee(7) + global_set(self.count)
        body += local_get(7) + global_get(self.limit) + b"\x4f"  # count >= limit
        # the host drains the log; before it has filled the hook table (the start function runs while the
        # module is instantiated) the last record is overwritten instead and counted as lost
        body += b"\x04\x40" + b"\x41\x00\x25" + uleb(self.table) + b"\xd1\x04\x40"
        body += global_get(self.count) + b"\x41\x01\x6b" + global_set(self.count)
        body += global_get(self.lost) + b"\x41\x01\x6a" + global_set(self.lost)
        body += b"\x05\x41\x00\x11" + uleb(self.hook_type) + uleb(self.table) + b"\x0b\x0b"
        return bytes(body + b"\x0b")

    def _hook(self) -> bytes:
        """Calls the host's drain (hook table entry 0), unless the host has not filled the entry yet (while the
        start function runs)."""
        return (b"\x41\x00\x25" + uleb(self.table) + b"\xd1\x45\x04\x40\x41\x00\x11" + uleb(self.hook_type)
                + uleb(self.table) + b"\x0b")

    def _mark_body(self) -> bytes:
        """$mark(addr, n, state): the shadow bytes of [addr, addr + n) set to ``state`` — only when the range
        lies inside the shadow (a bad pointer from the allocator must not make wasmem trap where the program
        does not)."""
        shadow = self.memcheck.shadow
        size = b"\x3f" + uleb(shadow) + b"\x41\x10\x74"  # memory.size(shadow) << 16 (bytes; < 4 GiB)
        body = bytearray(b"\x00")
        # if n <= size && addr <= size - n: memory.fill shadow addr state n
        body += local_get(1) + size + b"\x4d" + local_get(0) + size + local_get(1) + b"\x6b\x4d\x71"
        body += b"\x04\x40" + local_get(0) + local_get(2) + local_get(1) + b"\xfc\x0b" + uleb(shadow) + b"\x0b"
        return bytes(body + b"\x0b")

    def _mark_allocation(self, a, ft, arg, res: bytes) -> bytes:
        """With --memcheck: code that marks the block an allocation returned as live in the shadow, in wasm,
        so that the program's next access to it is not reported whatever the log holds (wasm32 only).
        ``arg(i)`` pushes parameter i, ``res`` the result."""
        if self.mark_func is None or ft.results != ("i32",) or a.role == "resize":
            return b""  # resize: its pointer may be any value (model/allocators.py); the host marks it
        params = a.convention.params
        if "size" not in params or any(ft.params[i] != "i32" for i in range(len(ft.params))):
            return b""
        size = arg(params.index("size"))
        state = self.memcheck.allocated_state(a.role)
        if a.role == "calloc" and "count" in params:
            size += arg(params.index("count")) + b"\x6c"
        if a.role == "memalign_out" and "out" in params:
            ptr = arg(params.index("out")) + b"\x28\x02\x00"  # the pointer stored through `out`
            ok = res + b"\x45"  # status 0
        else:
            ptr = res
            ok = res  # a non-null block
        return ok + b"\x04\x40" + ptr + size + i32_const(state) + b"\x10" + uleb(self.mark_func) + b"\x0b"
