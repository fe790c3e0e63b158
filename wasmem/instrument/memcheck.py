"""The memcheck pass (``--memcheck``): a shadow byte per byte of memory 0, checked by the program's accesses.

It works with the heap pass (``heap.py``), whose wrappers and settled frees keep the shadow current in
wasm (``HeapPass._mark_allocation``, ``$cancel``) and whose hook table calls the host on a hit.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..errors import ParseError
from ..parser.encode import sleb, uleb
from .heap import _GET, _GGET, _SET, _TEE, HeapPass, _const, _i
from .rewriter import Builder, Edit, FunctionContext, Pass

MEMCHECK_SHADOW_EXPORT = "__wasmem_memcheck_shadow"
MEMCHECK_FRESH_EXPORT = "__wasmem_memcheck_fresh"
OK, FREED, UNALLOCATED = 0, 1, 2  # shadow byte values
_LOADS = {op: n for op, n in zip(range(0x28, 0x36), (4, 8, 4, 8, 1, 1, 2, 2, 1, 1, 2, 2, 4, 4), strict=True)}
_STORES = {op: (t, n) for op, (t, n) in zip(range(0x36, 0x3F), (
    ("i32", 4), ("i64", 8), ("f32", 4), ("f64", 8), ("i32", 1), ("i32", 2), ("i64", 1), ("i64", 2), ("i64", 4)),
    strict=True)}


@dataclass(frozen=True)
class AccessSite:
    id: int
    func_index: int
    offset: int
    size: int
    write: bool


class MemcheckPass(Pass):
    """``--memcheck``: every plain load and store of memory 0 (``i32.load`` … ``i64.store32``; not the atomic,
    SIMD and bulk ones) first reads the *shadow bytes* of its first and last byte, in an appended memory as
    large as memory 0 (``memory.grow`` of memory 0 grows it by the same number of pages): 0 = fine,
    1 = inside a freed block, 2 = heap memory outside every live block (past a block's end, an allocator
    header, memory not handed out). Heap memory ``[__heap_base, end)`` is 2 when tracking starts (the host
    marks it, and the pages memory.grow adds get the global ``fresh``). The shadow is kept current *in wasm*,
    so the program's next access is judged right whatever the log holds: an allocation's wrapper fills its
    block's shadow with 0 (``$mark``, only inside the shadow's bounds), a free settled in wasm (``$cancel``)
    fills it with 1, and a free the log cannot settle drains the log at once, the host marking the block it
    knows (its size is in the host's records, not in the call). A non-zero byte outside the allocator (the
    heap pass's ``depth`` is 0) calls the host through the heap pass's hook table (entry 1, ``(site i32,
    addr i64)``), which reports a *use after free* or an *access outside a live block* with the access's
    site and continues. Checked: the first and the last byte of each access (so an access that starts inside
    a block and runs past its end is seen; an access spans at most 8 bytes, so a state change in its middle
    alone is not)."""

    ops = frozenset({*_LOADS, *_STORES, 0x40})

    def __init__(self, heap: HeapPass):
        self.heap = heap
        heap.memcheck = self
        self.sites: list[AccessSite] = []

    def allocated_state(self, role: str) -> int:
        """The shadow state of a block the allocator function of ``role`` just handed out."""
        return OK

    def setup(self, b: Builder) -> None:
        m = b.module
        mt = m.memories[0].type
        if mt.limits.is64:
            raise ParseError("--memcheck: memory64 is not supported")
        self.sites = []
        self.shadow = b.add_memory(mt.limits.min, 65536)
        self.hook_type = b.func_type(("i32", "i64"), (), fresh=True)
        self.fresh = b.add_global("i32", b"\x41\x00")
        self.exports = {"shadow": b.export(MEMCHECK_SHADOW_EXPORT, "memory", self.shadow),
                        "fresh": b.export(MEMCHECK_FRESH_EXPORT, "global", self.fresh)}

    def visit(self, fn: FunctionContext, offset: int, op: int, imm) -> Edit | None:
        if op == 0x40:
            if imm != 0:
                return None
            d, t = fn.scratch("i32", 70), fn.scratch("i32", 73)
            # the delta is kept; after the grow of memory 0 the shadow grows by as much, its new bytes filled
            # with `fresh` (2 when the host knows where the heap starts: memory no block holds yet)
            after = _i(_GET, d) + b"\x40" + uleb(self.shadow) + _i(_TEE, t) + b"\x41\x7f\x47\x04\x40"
            after += (_i(_GET, t) + b"\x41\x10\x74" + _i(_GGET, self.fresh) + _i(_GET, d) + b"\x41\x10\x74"
                      + b"\xfc\x0b" + uleb(self.shadow) + b"\x0b")
            return Edit(_i(_TEE, d), True, after)
        off, mem = imm[1], imm[2]
        if mem != 0:
            return None
        write = op in _STORES
        size = _STORES[op][1] if write else _LOADS[op]
        sid = len(self.sites)
        self.sites.append(AccessSite(sid, fn.index, offset, size, write))
        a = fn.scratch("i32", 71)
        out = bytearray()
        v = None
        if write:
            v = fn.scratch(_STORES[op][0], 72)
            out += _i(_SET, v)
        out += _i(_TEE, a)
        if off:
            out += _const(off & 0xFFFFFFFF) + b"\x6a"
        out += b"\x2d\x40" + uleb(self.shadow) + b"\x00"  # i32.load8_u from the shadow
        if size > 1:  # and the access's last byte: an access that starts in a block and runs past its end
            out += _i(_GET, a)
            if off:
                out += _const(off & 0xFFFFFFFF) + b"\x6a"
            out += b"\x2d\x40" + uleb(self.shadow) + uleb(size - 1) + b"\x72"  # load8_u offset=size-1; or
        out += _i(_GGET, self.heap.depth) + b"\x45\x6c"  # shadow * (depth == 0): non-zero = check
        out += b"\x04\x40" + _const(sid) + _i(_GET, a) + b"\xad"
        if off:
            out += b"\x42" + sleb(off) + b"\x7c"
        out += b"\x41\x01\x11" + uleb(self.hook_type) + uleb(self.heap.table) + b"\x0b"
        out += _i(_GET, a)
        if write:
            out += _i(_GET, v)
        return Edit(bytes(out))
