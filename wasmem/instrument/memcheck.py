"""The memcheck pass (``--memcheck``): a shadow byte per byte of memory 0, checked by the program's accesses.

It works with the heap pass (``heap.py``), whose wrappers and settled frees keep the shadow current in
wasm (``HeapPass._mark_allocation``, ``$cancel``) and whose hook table calls the host on a hit.

Which accesses are checked (every one of memory 0; the accesses of other memories are left alone):

============================================  ========================================================
plain loads and stores; SIMD loads and        every byte the access touches: one load of the shadow as
stores (``v128.load*``, splats, ``*_zero``,   wide as the access (1, 2, 4, 8 or 16 bytes) at the access's
lanes); atomic loads, stores, rmw, cmpxchg;   own address and offset, inline; no call unless a byte is
``memory.atomic.notify``/``wait32/64``        not fine
``memory.fill``, ``memory.init``              every byte of the destination range (``$bulk``)
``memory.copy``                               every byte of the source range (a *read* site) and of the
                                              destination range (a *write* site) (``$bulk``)
``memory.grow``, ``call`` of an import,       the shadow grows to memory 0's size (``fresh`` bytes): the
``call_indirect``, ``call_ref``               host may grow memory 0 in an import (``_sync``)
============================================  ========================================================

A trap stays where it was. The shadow memory is exactly as large as memory 0 (it grows with it), so the
shadow load of an access is out of bounds exactly when the access is: it traps at the same original
offset (inserted code maps to the instruction it checks) with the same trap code. An atomic access is
checked only when its address is aligned: an unaligned one traps as without wasmem (before the shadow is
read, so that an unaligned access out of bounds keeps its trap code), unreported. ``memory.atomic.wait``
on an unshared memory always traps: it is not instrumented then. ``$bulk`` checks the ranges of a bulk
operation only when all of them are in bounds (otherwise the operation traps before it reads or writes a
byte, as without wasmem; nothing is reported) and the length is not 0.

``$bulk(read site, src, write site, dst, n)`` (a site of -1: no such range) scans the shadow of each range
8 bytes at a time (one ``i64.load`` of the shadow per 8 bytes: linear in n, like the operation itself)
and calls the host with the range's first freed or unallocated byte (a 1 or a 2).

Without ``--memcheck-uninit``, ``memory.copy`` does not copy the shadow: a shadow byte then says what kind
of memory an *address* is (in a live block, in a freed one, outside every block), not anything about the
value stored there, and the destination's bytes stay in the block they were in whatever is copied into them.

``--memcheck-uninit`` (``MemcheckPass(heap, uninit=True)``) adds a fourth shadow state, ``UNINIT`` (4):
allocated, never written. A malloc-like allocation (``allocated_state``: not calloc, a zeroing Rust alloc,
realloc, or AssemblyScript's, whose ``__new`` zero-fills) marks its block 4 instead of 0. A plain, SIMD
or atomic *store* whose shadow bytes are all 0 or 4 clears them to 0 inline (``w & 0x03…03 == 0``: no
host call on the common first write); a *load* (and a read-modify-write, a compare-exchange, a wait) of
a 4 byte calls the host, which reports a *read of never-written bytes* once per access site and from then
on counts the bytes read as written (as valgrind's memcheck does: no cascade of reports for one value, no
host call each time a loop reads it again). The bulk operations look for 1 and 2 only (a 4 is not an
error for them), then update the shadow of their destination: ``memory.fill``/``memory.init`` fill it with 0 and
``memory.copy`` *copies the shadow* of its source (definedness goes with the bytes copied: a struct copy
that reads padding is not a finding, a later read of the copied padding is); when a range held a 1 or a
2, the destination's 4 bytes are only cleared (``$clear``). Bytes the host writes are written too: wasmem's
own writes (``Session.write``: ``s:`` arguments, ``--write``) and, after each call of an imported function
(WASI's ``fd_read``, ``random_get``, out parameters…), what its arguments point at (``_import_call``).
A bulk operation updates the shadow before it runs: when it then traps on a range of another memory or of
a data segment, the shadow of memory 0 says written where nothing was (a missed report, never a false one).

The host hook (the heap pass's table entry 1) is ``(site i32, addr i64, n i64, bad i64)``: the access's
site, its first byte (the effective address, computed without wrapping), its length, and the first byte
whose shadow is not fine (a bulk range's, found by the scan; for the other accesses ``addr``: the host
looks through the access's bytes itself). After a call of an import (``--memcheck-uninit``), ``bad`` is
IMPORT_ARG or IMPORT_IOVECS instead (``_import_call``).

Not covered: an import reached by ``return_call`` (the shadow is synced at the next call of an import or
memory.grow, or by the host before each call wasmem makes); memory64 (refused).
"""

from __future__ import annotations

from dataclasses import dataclass

from ..errors import ParseError
from ..parser.code import op_name
from ..parser.encode import sleb, uleb
from .accesses import (
    ATOMIC_OPS,
    CMPXCHG,
    COPY,
    FILL,
    INIT,
    LANE,
    MEMORY_COPY,
    MEMORY_FILL,
    MEMORY_GROW,
    MEMORY_INIT,
    NOTIFY,
    READ_OPS,
    RMW,
    STORE,
    SYNC_OPS,
    V128,
    WAIT,
    WRITE_OPS,
    operands,
)
from .emit import global_get, global_set, i32_const, local_get, local_set, local_tee
from .heap import HeapPass
from .rewriter import Builder, Edit, FunctionContext, Pass

MEMCHECK_SHADOW_EXPORT = "__wasmem_memcheck_shadow"
MEMCHECK_FRESH_EXPORT = "__wasmem_memcheck_fresh"
MEMCHECK_EARLY_EXPORT = "__wasmem_memcheck_early"  # hits while the start function ran (none could be reported)
MEMCHECK_LEARNED_EXPORT = "__wasmem_memcheck_learned"  # where the allocator first grew memory 0 (0: not yet)
OK, FREED, UNALLOCATED, UNINIT = 0, 1, 2, 4  # shadow byte values (UNINIT: --memcheck-uninit)
_ZEROING = frozenset({"calloc", "alloc_zeroed", "realloc"})  # their blocks are written (or copied) when handed out
HOOK_PARAMS = ("i32", "i64", "i64", "i64")  # site, address, length, the first byte not fine
NO_SITE = -1  # $bulk: no range of this kind
IMPORT_ARG, IMPORT_IOVECS = -2, -3  # the hook's `bad` after a call of an import (--memcheck-uninit)
IMPORT = "import"  # the kind of an AccessSite that is a call of an imported function
CALL, CALL_INDIRECT, CALL_REF = 0x10, 0x11, 0x14
_IOVEC_READERS = frozenset({"fd_read", "fd_pread", "sock_recv"})  # (fd, iovs, iovs_len, …)
_VERBS = {RMW: "read-modify-write of", CMPXCHG: "read-modify-write of", NOTIFY: "notify on", WAIT: "wait on"}
# the shadow load for an access of n bytes (opcode bytes), and what makes its value an i32 that is 0 when fine
_SHADOW_LOAD = {1: (b"\x2d", b""), 2: (b"\x2f", b""), 4: (b"\x28", b""),  # i32.load8_u, load16_u, load
                8: (b"\x29", b"\x42\x00\x52"),  # i64.load; i64.ne 0
                16: (b"\xfd\x00", b"\xfd\x53")}  # v128.load; v128.any_true
# --memcheck-uninit, a store's slow path: (mask the shadow value with 0x03 in every byte: non-zero = a 1 or 2;
# store 0 to the shadow), by width
_BAD_BITS = {1: b"\x41\x03\x71", 2: b"\x41\x83\x06\x71", 4: i32_const(0x03030303) + b"\x71",
             8: b"\x42" + sleb(0x0303030303030303) + b"\x83\x42\x00\x52",
             16: b"\xfd\x0c" + b"\x03" * 16 + b"\xfd\x4e\xfd\x53"}
_ZERO = {1: b"\x41\x00", 2: b"\x41\x00", 4: b"\x41\x00", 8: b"\x42\x00", 16: b"\xfd\x0c" + b"\x00" * 16}
_SHADOW_STORE = {1: b"\x3a", 2: b"\x3b", 4: b"\x36", 8: b"\x37", 16: b"\xfd\x0b"}
_SCRATCH_T = {1: "i32", 2: "i32", 4: "i32", 8: "i64", 16: "v128"}
_PURE_WRITES = frozenset({STORE, V128, LANE})  # they write every byte they touch, and read none


@dataclass(frozen=True)
class AccessSite:
    """One checked access: ``offset`` is the instruction's offset in the original module; ``size`` is None
    for a bulk range (its length is a run-time operand). A ``memory.copy`` of memory 0 to memory 0 is two
    sites at one offset: its source range (a read) and its destination range (a write)."""

    id: int
    func_index: int
    offset: int
    size: int | None
    write: bool
    op: int = 0
    kind: str = ""

    @property
    def name(self) -> str:
        return op_name(self.op)

    @property
    def verb(self) -> str:
        return _VERBS.get(self.kind) or ("write of" if self.write else "read of")


class MemcheckPass(Pass):
    """``--memcheck``: every access of memory 0 (the module docstring says which) first reads the *shadow
    bytes* of the bytes it touches, in an appended memory as large as memory 0 (``memory.grow`` of memory 0
    grows it by the same number of pages): 0 = fine, 1 = inside a freed block, 2 = heap memory outside every
    live block (past a block's end, an allocator header, memory not handed out). Heap memory
    ``[__heap_base, end)`` is 2 when tracking starts (the host marks it, and the pages memory.grow adds get
    the global ``fresh``). The shadow is kept current *in wasm*, so the program's next access is judged
    right whatever the log holds: an allocation's wrapper fills its block's shadow with 0 (``$mark``, only
    inside the shadow's bounds), a free settled in wasm (``$cancel``) fills it with 1, and a free the log
    cannot settle drains the log at once, the host marking the block it knows (its size is in the host's
    records, not in the call). A non-zero byte outside the allocator (the heap pass's ``depth`` is 0) calls
    the host through the heap pass's hook table (entry 1), which reports a *use after free* or an *access
    outside a live block* with the access's site and continues."""

    ops = frozenset({*READ_OPS, *WRITE_OPS, *SYNC_OPS, MEMORY_FILL, MEMORY_COPY, MEMORY_INIT, MEMORY_GROW, CALL,
                     CALL_INDIRECT, CALL_REF})

    def __init__(self, heap: HeapPass, *, uninit: bool = False):
        self.heap = heap
        heap.memcheck = self
        self.uninit = uninit
        self.sites: list[AccessSite] = []

    # -- the rewrite cache (runtime/rewritecache.py) ------------------------------------------------
    def cache_key(self) -> tuple:
        """``uninit`` (the allocators and their conventions are the heap pass's key)."""
        return (self.uninit,)

    def saved_state(self):
        return {"sites": [[s.func_index, s.offset, s.size, s.write, s.op, s.kind] for s in self.sites]}

    def restore_state(self, state) -> None:
        self.sites = [AccessSite(i, int(f), int(o), None if n is None else int(n), bool(w), int(op), str(k))
                      for i, (f, o, n, w, op, k) in enumerate(state["sites"])]

    def allocated_state(self, role: str) -> int:
        """The shadow state of a block the allocator function of ``role`` just handed out: with ``uninit``,
        UNINIT for a malloc-like role (unless an AssemblyScript allocator has it: ``__new`` zero-fills)."""
        if not self.uninit or role in _ZEROING or role == "free":
            return OK
        if any(a.role == role and a.convention.family == "assemblyscript" for a in self.heap.allocators):
            return OK
        return UNINIT

    def setup(self, b: Builder) -> None:
        m = b.module
        mt = m.memories[0].type
        if mt.limits.is64:
            raise ParseError("--memcheck: memory64 is not supported")
        self.sites = []
        self.imported = {}  # function index → (module, name) of each imported function
        for imp in m.imports:
            if imp.kind == "func":
                self.imported[len(self.imported)] = (imp.module, imp.name)
        self.param_types = m.get_function_type
        self.shared = mt.shared
        self.mem_is64 = [x.type.limits.is64 for x in m.memories]
        self.shadow = b.add_memory(mt.limits.min, 65536)
        self.hook_type = b.func_type(HOOK_PARAMS, (), fresh=True)
        self.fresh = b.add_global("i32", b"\x41\x00")
        self.early = b.add_global("i32", b"\x41\x00")
        self.learned = b.add_global("i32", b"\x41\x00")
        self.bulk = b.add_function(b.func_type(("i32", "i32", "i32", "i32", "i32")))
        self.scan = b.add_function(b.func_type(("i32", "i32", "i32"), ("i32",)))
        self.clear = b.add_function(b.func_type(("i32", "i32"))) if self.uninit else None
        self.exports = {"shadow": b.export(MEMCHECK_SHADOW_EXPORT, "memory", self.shadow),
                        "fresh": b.export(MEMCHECK_FRESH_EXPORT, "global", self.fresh),
                        "early": b.export(MEMCHECK_EARLY_EXPORT, "global", self.early),
                        "learned": b.export(MEMCHECK_LEARNED_EXPORT, "global", self.learned)}

    def _site(self, fn: FunctionContext, offset: int, op: int, kind: str, size: int | None, write: bool) -> int:
        sid = len(self.sites)
        self.sites.append(AccessSite(sid, fn.index, offset, size, write, op, kind))
        return sid

    def _call_hook(self) -> bytes:
        """Calls the host with the hit's operands (hook table entry 1); while the start function runs the host
        has not filled the entry yet (tracking is on from the start): the hit is only counted in ``early``, which
        the host reports. (The ``if``'s block type is the hook's type index, an s33.)"""
        table = uleb(self.heap.table)
        early = b"\x23" + uleb(self.early) + b"\x41\x01\x6a\x24" + uleb(self.early)
        return (b"\x41\x01\x25" + table + b"\xd1\x04" + sleb(self.hook_type) + b"\x1a" * len(HOOK_PARAMS) + early
                + b"\x05\x41\x01\x11" + uleb(self.hook_type) + table + b"\x0b")

    def _shadow_op(self, opcode: bytes, offset: int = 0) -> bytes:
        """An access of the shadow memory (opcode ``opcode``, alignment hint 1 byte) at ``offset``."""
        return opcode + b"\x40" + uleb(self.shadow) + uleb(offset)

    # -- sites ------------------------------------------------------------------------------------------
    def visit(self, fn: FunctionContext, offset: int, op: int, imm) -> Edit | None:
        if op == CALL:
            return self._import_call(fn, offset, imm)
        if op in (CALL_INDIRECT, CALL_REF):  # the callee may be an import that grew memory 0
            return Edit(b"", True, self._sync(fn))
        if op == MEMORY_GROW:
            return Edit(b"", True, self._sync(fn)) if imm == 0 else None
        if op in (MEMORY_FILL, MEMORY_COPY, MEMORY_INIT):
            return self._bulk_site(fn, offset, op, imm)
        if op in WRITE_OPS:
            kind, vt, size = WRITE_OPS[op]
        else:
            kind, vt, size = READ_OPS.get(op) or SYNC_OPS[op]
        return self._access(fn, offset, op, kind, vt, size, imm, op in WRITE_OPS)

    def _access(self, fn, offset, op, kind, vt, size, imm, write) -> Edit | None:
        off, mem = imm[1], imm[2]
        if mem != 0:
            return None
        if kind == WAIT and not self.shared:
            return None  # it traps whatever its address (a wait needs a shared memory): nothing to check
        sid = self._site(fn, offset, op, kind, size, write)
        a = fn.scratch("i32", 71)
        slots = [fn.scratch(t, 72 + i) for i, t in enumerate(operands(kind, vt))]
        out = bytearray()
        for idx in reversed(slots):
            out += local_set(idx)
        load, nonzero = _SHADOW_LOAD[size]
        ea = local_get(a) + b"\xad" + (b"\x42" + sleb(off) + b"\x7c" if off else b"")  # i64: it never wraps
        report = (global_get(self.heap.depth) + b"\x45"  # outside the allocator: the host
                  + b"\x04\x40" + i32_const(sid) + ea + b"\x42" + sleb(size) + ea + self._call_hook() + b"\x0b")
        if self.uninit and kind in _PURE_WRITES:
            # a store over bytes that are all fine or never written (0 or 4) clears them, others go to the host
            w = fn.scratch(_SCRATCH_T[size], 76)
            check = (self._shadow_op(load, off) + local_tee(w) + nonzero + b"\x04\x40"
                     + local_get(w) + _BAD_BITS[size] + b"\x04\x40" + report
                     + b"\x05" + local_get(a) + _ZERO[size] + self._shadow_op(_SHADOW_STORE[size], off) + b"\x0b\x0b")
        else:
            check = self._shadow_op(load, off) + nonzero + b"\x04\x40" + report + b"\x0b"
        if op in ATOMIC_OPS and size > 1:  # checked only when aligned (an unaligned one traps, untouched)
            out += local_set(a) + local_get(a) + (i32_const(off & 0xFFFFFFFF) + b"\x6a" if off % size else b"")
            out += i32_const(size - 1) + b"\x71\x45\x04\x40" + local_get(a) + check + b"\x0b"
        else:
            out += local_tee(a) + check
        out += local_get(a)
        for idx in slots:
            out += local_get(idx)
        return Edit(bytes(out))

    def _bulk_site(self, fn, offset, op, imm) -> Edit | None:
        if op == MEMORY_COPY:
            dst, src = imm
            if dst != 0 and src != 0:
                return None
            types = ("i64" if self.mem_is64[dst] else "i32", "i64" if self.mem_is64[src] else "i32", "i32")
            if self.mem_is64[dst] and self.mem_is64[src]:  # (never: one of them is memory 0, 32-bit)
                return None
            sr = self._site(fn, offset, op, COPY, None, False) if src == 0 else NO_SITE
            sw = self._site(fn, offset, op, COPY, None, True) if dst == 0 else NO_SITE
        else:
            mem = imm if op == MEMORY_FILL else imm[1]
            if mem != 0:
                return None
            types = ("i32", "i32", "i32")  # (dst, value, n) or (dst, offset in the segment, n)
            sr, sw = NO_SITE, self._site(fn, offset, op, FILL if op == MEMORY_FILL else INIT, None, True)
        d, s, n = (fn.scratch(t, 72 + i) for i, t in enumerate(types))
        out = local_set(n) + local_set(s) + local_set(d)
        out += i32_const(sr) + (local_get(s) if sr != NO_SITE else b"\x41\x00")
        out += i32_const(sw) + (local_get(d) if sw != NO_SITE else b"\x41\x00")
        out += local_get(n) + b"\x10" + uleb(self.bulk)
        out += local_get(d) + local_get(s) + local_get(n)
        return Edit(out)

    def _sync(self, fn) -> bytes:
        """Code that grows the shadow to the size of memory 0 when memory 0 is larger (after ``memory.grow`` of
        memory 0, whether it failed or not, and after a call that may have reached the host, which may have grown
        it: Emscripten's ``emscripten_resize_heap``), the new bytes filled with ``fresh`` (2 when the host knows
        where the heap starts: memory no block holds yet), or with 2 when memory 0 grew inside a tracked allocator
        (the heap pass's ``depth`` is not 0: its ``sbrk``), whose pages are heap whatever the host knows; the
        first such grow's address goes into ``learned`` (the heap's start when nothing else tells). Without it
        the shadow load of an access to the new pages would trap where the program does not."""
        d, t = fn.scratch("i32", 70), fn.scratch("i32", 73)
        depth = global_get(self.heap.depth)
        out = b"\x3f\x00\x3f" + uleb(self.shadow) + b"\x6b" + local_tee(d) + b"\x41\x00\x4a\x04\x40"  # d > 0
        out += local_get(d) + b"\x40" + uleb(self.shadow) + local_tee(t) + b"\x41\x7f\x47\x04\x40"
        out += (local_get(t) + b"\x41\x10\x74" + b"\x41\x02" + global_get(self.fresh) + depth + b"\x1b"
                + local_get(d) + b"\x41\x10\x74" + b"\xfc\x0b" + uleb(self.shadow))
        # the first grow inside the allocator: learned = its old end
        out += (global_get(self.learned) + b"\x45" + depth + b"\x41\x00\x47\x71\x04\x40" + local_get(t)
                + b"\x41\x10\x74" + global_set(self.learned) + b"\x0b")
        out += b"\x0b\x0b"
        return out

    def _import_call(self, fn, offset, func) -> Edit | None:
        """After a call of an imported function: the shadow grown as memory 0 may have been (``_sync``).
        --memcheck-uninit: and the host is told each of its i32 arguments
        (``bad`` = IMPORT_ARG, ``n`` = the argument's position): a pointer into a block may be where the import
        wrote (WASI's out parameters, ``random_get``'s buffer), so the host counts the block as written from
        there. For WASI's readers through an iovec array (``fd_read``, ``fd_pread``, ``sock_recv``) also the
        array (``bad`` = IMPORT_IOVECS, ``addr`` = the array, ``n`` = its length): every buffer it names."""
        if func not in self.imported or func in self.heap.wrappers:
            return None
        params = self.param_types(func).params
        if not self.uninit or "i32" not in params:
            return Edit(b"", True, self._sync(fn))
        sid = self._site(fn, offset, CALL, IMPORT, None, True)
        slots = [fn.scratch(t, 80 + i) for i, t in enumerate(params)]
        before = b"".join(local_set(idx) for idx in reversed(slots)) + b"".join(local_get(idx) for idx in slots)
        after = bytearray()
        for k, t in enumerate(params):
            if t == "i32":
                after += (i32_const(sid) + local_get(slots[k]) + b"\xad\x42" + sleb(k) + b"\x42" + sleb(IMPORT_ARG)
                          + self._call_hook())
        module, name = self.imported[func]
        if module.startswith("wasi") and name in _IOVEC_READERS and params[1:3] == ("i32", "i32"):
            after += (i32_const(sid) + local_get(slots[1]) + b"\xad" + local_get(slots[2]) + b"\xad\x42"
                      + sleb(IMPORT_IOVECS) + self._call_hook())
        return Edit(before, True, self._sync(fn) + bytes(after))

    # -- the appended functions ----------------------------------------------------------------------------
    def finish(self, b: Builder) -> None:
        b.set_body(self.bulk, self._bulk_body())
        b.set_body(self.scan, self._scan_body())
        if self.clear is not None:
            b.set_body(self.clear, self._clear_body())

    def _bulk_body(self) -> bytes:
        """$bulk(read site 0, src 1, write site 2, dst 3, n 4): each range that has a site scanned, when the
        length is not 0, every range is in bounds and the allocator is not running."""
        body = bytearray(b"\x02\x01\x7e\x01\x7f")  # local 5: the shadow's size in bytes (i64); 6: i32
        body += global_get(self.heap.depth) + local_get(4) + b"\x45\x72\x04\x40\x0f\x0b"  # depth || n == 0: done
        body += b"\x3f" + uleb(self.shadow) + b"\xad\x42\x10\x86" + local_set(5)  # memory.size << 16, as i64
        for site, addr in ((0, 1), (2, 3)):  # a range out of bounds: the operation traps, nothing is reported
            body += local_get(site) + i32_const(NO_SITE) + b"\x47\x04\x40"
            body += local_get(addr) + b"\xad" + local_get(4) + b"\xad\x7c" + local_get(5) + b"\x56\x04\x40\x0f\x0b\x0b"
        for site, addr in ((0, 1), (2, 3)):  # local 6: a range held a 1 or a 2
            body += local_get(site) + i32_const(NO_SITE) + b"\x47\x04\x40"
            body += (local_get(site) + local_get(addr) + local_get(4) + b"\x10" + uleb(self.scan) + local_get(6)
                     + b"\x72" + local_set(6) + b"\x0b")
        if self.uninit:  # the destination's shadow: the source's (a copy), or written (fill, init)
            sh = uleb(self.shadow)
            body += local_get(2) + i32_const(NO_SITE) + b"\x47\x04\x40"
            body += local_get(6) + b"\x04\x40" + local_get(3) + local_get(4) + b"\x10" + uleb(self.clear) + b"\x05"
            body += local_get(0) + i32_const(NO_SITE) + b"\x47\x04\x40"
            body += local_get(3) + local_get(1) + local_get(4) + b"\xfc\x0a" + sh + sh  # memory.copy shadow shadow
            body += b"\x05" + local_get(3) + b"\x41\x00" + local_get(4) + b"\xfc\x0b" + sh + b"\x0b"  # memory.fill
            body += b"\x0b\x0b"
        return bytes(body + b"\x0b")

    def _scan_body(self) -> bytes:
        """$scan(site 0, addr 1, n 2) -> 1 when a byte of [addr, addr + n) is freed or unallocated (its shadow has a
        bit of 0x03: a 1 or a 2), the host called with the first one; 8 bytes at a time, then the last n mod 8
        one by one."""
        # locals: p 3, r 4 (i32: the next byte, the bytes left), w 5 (i64: 8 shadow bytes)
        body = bytearray(b"\x02\x02\x7f\x01\x7e")
        body += local_get(1) + local_set(3) + local_get(2) + local_set(4)
        head = local_get(0) + local_get(1) + b"\xad" + local_get(2) + b"\xad"
        body += b"\x02\x40\x03\x40"  # block loop
        body += local_get(4) + b"\x41\x08\x49\x0d\x01"  # r < 8: br_if out
        body += local_get(3) + self._shadow_op(b"\x29") + _BAD_BITS[8][:-3] + local_tee(5) + b"\x42\x00\x52\x04\x40"
        body += head + local_get(3) + b"\xad" + local_get(5) + b"\x7a\x42\x03\x88\x7c"  # p + ctz(w & mask) / 8
        body += self._call_hook() + b"\x41\x01\x0f\x0b"
        body += local_get(3) + b"\x41\x08\x6a" + local_set(3) + local_get(4) + b"\x41\x08\x6b" + local_set(4)
        body += b"\x0c\x00\x0b\x0b"  # br loop; end end
        body += b"\x02\x40\x03\x40"
        body += local_get(4) + b"\x45\x0d\x01"  # r == 0: br_if out
        body += local_get(3) + self._shadow_op(b"\x2d") + _BAD_BITS[1] + b"\x04\x40"
        body += head + local_get(3) + b"\xad" + self._call_hook() + b"\x41\x01\x0f\x0b"
        body += local_get(3) + b"\x41\x01\x6a" + local_set(3) + local_get(4) + b"\x41\x01\x6b" + local_set(4)
        body += b"\x0c\x00\x0b\x0b"
        return bytes(body + b"\x41\x00\x0b")

    def _clear_body(self) -> bytes:
        """$clear(addr 0, n 1): the 4 (never written) bytes of the shadow of [addr, addr + n) set to 0, the others
        left (a bulk write over a range that holds freed or unallocated bytes too)."""
        body = bytearray(b"\x00\x02\x40\x03\x40")
        body += local_get(1) + b"\x45\x0d\x01"  # n == 0: out
        body += local_get(0) + self._shadow_op(b"\x2d") + i32_const(UNINIT) + b"\x46\x04\x40"
        body += local_get(0) + b"\x41\x00" + self._shadow_op(b"\x3a") + b"\x0b"
        body += local_get(0) + b"\x41\x01\x6a" + local_set(0) + local_get(1) + b"\x41\x01\x6b" + local_set(1)
        body += b"\x0c\x00\x0b\x0b"
        return bytes(body + b"\x0b")
