"""Allocators reached through function pointers, and sites past Zig's interface shims (issue 15).

The heap pass (``heap.py``) rewrites every *direct* ``call F`` of an allocator function F. A call through a
function pointer — ``call_indirect`` through a table, ``call_ref`` — names no function, so it cannot be
rewritten at the call; Zig's ``std.mem.Allocator`` (a vtable of four functions behind an allocator value)
and C function-pointer allocators are reached that way. This pass, run right after the heap pass in the
same walk, makes those calls go through tracking code too:

- **Table entries.** For each allocator F that an element segment puts in a table it appends
  ``T_F(params of F…) -> results of F``, with F's own type index (so ``call_indirect``'s type check still
  passes and a typed table still accepts it), and redirects every element-segment entry of F to T_F
  (``Builder.redirect_elements``: active, passive and declarative segments, index vectors and ``ref.func``
  expressions). ``ref.func F`` in code is redirected to T_F too, so a ``call_ref`` of it is seen; a funcref
  cannot be compared inside wasm (``funcref`` is not an ``eqref``), so the program cannot tell T_F from F,
  and a host that gets the funcref calls a function of the same type that does what F does. A
  ``ref.func F`` in a global's initialiser keeps F (not seen when called). T_F calls the heap pass's
  wrapper ``W_F`` with the site the caller left in the appended global ``via`` and sets ``via`` back to
  "none" (so a stale value is never used twice); with no site there (the host called the table entry) the
  site is the host's.
- **Call sites.** Every ``call_indirect``/``return_call_indirect``/``call_ref``/``return_call_ref`` whose
  type is the type of such an F gets a site number (its function and original offset, like a direct call)
  and sets ``via`` to it just before the call. Calls through other types are left alone: they cannot
  reach an allocator.
- **Interface shims** (``shims``: Zig's ``mem.Allocator.*`` functions, see ``model/allocators.py``): a
  call of a shim from a function that is not one sets the appended global ``outer`` to the call's site
  when it is "none", and puts the old value back after the call. While ``outer`` is set, every allocator
  site (direct: through the heap pass's ``site_code``; through a pointer) reports ``outer`` instead of its
  own: the allocation made inside
  ``mem.Allocator.alloc__func_0`` is attributed to the program's line that called ``wa.alloc(u8, 24)``,
  and an ``ArenaAllocator``'s buffer to the line whose arena allocation needed it. A ``return_call`` of a
  shim cannot restore ``outer`` after it and sets nothing (the shim's own sites are used).

The host resets ``via`` and ``outer`` before each call (a trap leaves them set). Cost: two instructions
before each pointer call of an allocator's type (five with shims), five instructions wherever a site is
pushed when there are shims, eight around each call of a shim. Measured on a Zig loop of 10^6
``alloc``/``free`` pairs through the vtable and shims (pairs settled in wasm): 1.6x the plain run.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..parser.encode import uleb
from .emit import global_get, global_set, i32_const, local_get, local_tee
from .heap import HOST_SITE, HeapSite
from .rewriter import Builder, Edit, FunctionContext, Pass
from .skip import leb_forms

VIA_EXPORT = "__wasmem_heap_via"
OUTER_EXPORT = "__wasmem_heap_outer"
NONE = 0xFFFFFFFE  # no site in `via`/`outer` (HOST_SITE is 0xFFFFFFFF; site numbers are small)

_CALL_INDIRECT = frozenset({0x11, 0x13})
_CALL_REF = frozenset({0x14, 0x15})


@dataclass(frozen=True)
class PointerSite(HeapSite):
    """A site this pass numbered: ``allocator`` is -1 (the callee is known only at run time) and ``via``
    says what the site is: a call through a function pointer, or the shim the program called."""

    via: str = ""


class FunctionPointerPass(Pass):
    """See the module docstring. ``hp``: the HeapPass (set up before this one, same walk); ``shims``:
    function index → name of the interface functions whose callers are the sites."""

    ops = frozenset({0x10, 0x11, 0x12, 0x13, 0x14, 0x15, 0xD2})

    def __init__(self, hp, shims: dict[int, str] | None = None):
        self.hp = hp
        self.shims = dict(shims or {})
        hp.pointers = self  # the tracker finds this pass through the heap pass (its globals are reset per call)

    def setup(self, b: Builder) -> None:
        m = b.module
        hp = self.hp
        self.via = b.add_global("i32", i32_const(NONE))
        self.outer = b.add_global("i32", i32_const(NONE))
        self.exports = {"via": b.export(VIA_EXPORT, "global", self.via),
                        "outer": b.export(OUTER_EXPORT, "global", self.outer)}
        in_tables = {f for seg in m.elements for f in seg.func_indices if f is not None}
        self.entries: dict[int, int] = {}  # F → T_F
        self.redirected: dict[int, int] = {}  # F → element entries redirected
        keys = set()
        tindex = m.function_type_indices
        for a in hp.allocators:
            f = a.index
            if f not in in_tables or f not in hp.wrappers:
                continue
            self.entries[f] = b.add_function(tindex[f])
            self.redirected[f] = b.redirect_elements(f, self.entries[f])
            ft = m.get_function_type(f)
            keys.add((tuple(ft.params), tuple(ft.results)))
        self.types = {t.index for t in m.types if t.func is not None
                      and (tuple(t.func.params), tuple(t.func.results)) in keys}
        self.pointer_sites = 0
        if self.shims:  # every allocator site the heap pass numbers reports `outer` when it is set
            hp.site_code = self.site_code

    # -- the rewrite cache (runtime/rewritecache.py) ------------------------------------------------
    def cache_key(self) -> tuple:
        """The shims (the allocators are the heap pass's key)."""
        return (tuple(sorted(self.shims.items())),)

    def saved_state(self):
        sites = [[s.id, s.func_index, s.offset, s.via] for s in self.hp.sites if isinstance(s, PointerSite)]
        return {"pointer_sites": self.pointer_sites, "sites": sites}

    def restore_state(self, state) -> None:
        """The heap pass restored its sites first: those this pass numbered become PointerSites again."""
        self.pointer_sites = int(state["pointer_sites"])
        sites = self.hp.sites
        for i, f, o, via in state["sites"]:
            if not 0 <= int(i) < len(sites):
                raise ValueError("a pointer site outside the heap pass's sites")
            sites[int(i)] = PointerSite(int(i), int(f), int(o), -1, str(via))

    def prefixes(self) -> dict[int, list[bytes]]:
        """The instructions this pass changes: ``call`` of a shim, ``ref.func`` of a redirected allocator, a
        pointer call of an allocator's type (never ``return_call``)."""
        shims = [form for f in self.shims for form in leb_forms(f)]
        refs = [form for f in self.entries for form in leb_forms(f)]
        types = [form for t in self.types for form in leb_forms(t)] if self.entries else []
        return {0x10: [b"\x10" + x for x in shims], 0x12: [], 0xD2: [b"\xd2" + x for x in refs],
                0x11: [b"\x11" + x for x in types], 0x13: [b"\x13" + x for x in types],
                0x14: [b"\x14" + x for x in types], 0x15: [b"\x15" + x for x in types]}

    # -- the code around each instruction ------------------------------------------------------------
    def _site(self, fn: FunctionContext, offset: int, via: str) -> int:
        sid = len(self.hp.sites)
        self.hp.sites.append(PointerSite(sid, fn.index, offset, -1, via))
        return sid

    def site_code(self, sid: int) -> bytes:
        """Code that pushes site ``sid``, or ``outer`` when a shim call set it (the heap pass's sites too)."""
        return (global_get(self.outer) + i32_const(sid) + global_get(self.outer) + i32_const(NONE)
                + b"\x47\x1b")  # i32.ne; select

    def visit(self, fn: FunctionContext, offset: int, op: int, imm) -> Edit | None:
        if op in (0x10, 0x12):
            if op == 0x10 and imm in self.shims and fn.index not in self.shims:
                sid = self._site(fn, offset, self.shims[imm])
                saved = fn.scratch("i32", 80)
                before = (global_get(self.outer) + local_tee(saved) + i32_const(NONE) + b"\x46"
                          + b"\x04\x40" + i32_const(sid) + global_set(self.outer) + b"\x0b")
                return Edit(before, True, local_get(saved) + global_set(self.outer))
            return None
        if op == 0xD2:
            t = self.entries.get(imm)
            return Edit(b"\xd2" + uleb(t), keep=False) if t is not None else None
        if not self.entries:
            return None
        ti = imm[0] if op in _CALL_INDIRECT else imm
        if ti not in self.types:
            return None
        sid = self._site(fn, offset, "function pointer")
        self.pointer_sites += 1
        site = self.site_code(sid) if self.shims else i32_const(sid)
        return Edit(site + global_set(self.via))

    def finish(self, b: Builder) -> None:
        m = b.module
        for f, t in self.entries.items():
            n = len(m.get_function_type(f).params)
            body = b"\x00" + b"".join(local_get(i) for i in range(n))
            body += (global_get(self.via) + i32_const(HOST_SITE) + global_get(self.via) + i32_const(NONE) + b"\x47\x1b"
                     + i32_const(NONE) + global_set(self.via))
            body += b"\x10" + uleb(self.hp.wrappers[f]) + b"\x0b"
            b.set_body(t, body)
