"""Which functions of a module allocate and free heap memory (issue 15, allocator discovery).

Found by name — an export, the name section, or DWARF's function names (given by the caller: the model
does not read DWARF) — and accepted only with the signature the convention has, so that an unrelated
export called ``free`` with the wrong type is not taken for one. Each role names what its parameters and
result mean, which is what a heap tracker needs to turn a call into "block of N bytes at P":

- C (wasi-libc's dlmalloc, Emscripten's dlmalloc/emmalloc, any libc): ``malloc``, ``free``, ``calloc``,
  ``realloc``, ``aligned_alloc``, ``posix_memalign``, ``memalign``; dlmalloc's own ``dlmalloc``/``dlfree``/…
  and emmalloc's ``emmalloc_*`` names when those are what the name section keeps.
- Rust: ``__rust_alloc``/``__rust_dealloc``/``__rust_realloc``/``__rust_alloc_zeroed`` and the default
  allocator's ``__rdl_*`` (the ``__rg_*`` shims a ``#[global_allocator]`` gets too).
- wasm-bindgen: ``__wbindgen_malloc``/``__wbindgen_free``/``__wbindgen_realloc``.
- AssemblyScript: ``__new(size, id)``, ``__alloc``, ``__free``, ``__renew``/``__realloc``; its garbage
  collector frees blocks on its own (``__collect``), which a tracker can only see as frees.
- Zig (``std.mem.Allocator``): an allocator is a vtable of four functions behind an allocator value, reached
  by ``call_indirect`` (or, once the optimiser sees the allocator, by direct calls). Tracked by their
  name-section names: ``heap.BrkAllocator.{alloc,free,resize,remap}`` (Zig 0.15+: ``std.heap.wasm_allocator``
  and, on wasm, ``std.heap.page_allocator``) and ``heap.WasmAllocator.*`` / ``heap.PageAllocator.*`` (the same
  vtable in earlier Zig). On wasm32 a vtable function takes its slice as two parameters (pointer, length),
  its ``Alignment`` (a log2 enum) as an i32 and its ``?[*]u8`` result as a pointer (0: null); a Debug build
  passes one more parameter first (to every function)::

      alloc(ctx, len, alignment, ret_addr) -> ptr           role aligned_alloc
      free(ctx, ptr, len, alignment, ret_addr)              role free (the length is the block's size)
      resize(ctx, ptr, len, alignment, new_len, ret_addr) -> bool    role resize (true: resized in place)
      remap(ctx, ptr, len, alignment, new_len, ret_addr) -> ptr      role realloc (0: nothing changed)

  Only these *backing* allocators are tracked. Allocators layered on another one (``ArenaAllocator``,
  ``DebugAllocator``/``GeneralPurposeAllocator``, ``SafeAllocator``, ``FixedBufferAllocator``) are not: they
  free in bulk (``arena.deinit()``, ``reset``) without a call per block, so tracking their blocks would report
  false leaks, and tracking them together with their backing allocator would report the backing frees that
  ``deinit`` makes outside their vtable as invalid frees. What is seen of them is what they take from the
  backing allocator (an arena's buffers, a DebugAllocator's buckets), each allocation attributed to the
  program's line that caused it (see ``shims``). ``std.heap.c_allocator`` calls libc's ``malloc``, which is
  tracked as C (its sites are the program's calls of the shims too).
  ``shims``: Zig's interface functions (``mem.Allocator.alloc__func_0``, ``mem.Allocator.free__anon_12`` …,
  every function named ``mem.Allocator.*``) that the program calls and that call the vtable: the heap pass
  attributes an allocation made inside one to the program's call of the outermost shim.
- Odin: its allocators are one procedure with a mode parameter behind a context value; no Odin compiler was
  at hand to check its wasm lowering, so they are not discovered (``--allocator`` does not fit them either).
- ``--allocator`` (``user_names``): ``ALLOC[,FREE]`` names for a stripped or custom allocator, taken as
  malloc/free-shaped; ``func[N]`` names function N of a module stripped of every name.
- The members names did not give (a stripped build's unexported ``realloc``): through the call graph from the
  members found (``model/allocfamily.py``), found by ``call-graph``.
- A found function that only forwards to another of the same type (``forward_target``: a stripped
  Emscripten build's exported ``malloc`` thunk over its dlmalloc) brings that one too (``forwarded``);
  so do the unnamed functions small exported shims call with their own operands (``inner_allocators``:
  wasm-bindgen's ``__wbindgen_*`` over the dlmalloc of a stripped Rust build), when every shim of the
  family leads to one.

A convention with more than four parameters (Zig's) logs only the parameters that have a role: ``slots``
says which parameter goes in each of the heap pass's four logged slots.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from .allocshape import body_ops, find_by_shape, wasm_bindgen_numbered

# role: what the call means. params: the parameter roles in order ("size", "align", "ptr", "count",
# "old_size", "id", "out" = where a pointer is stored, "obj" = an object header (the block is obj + offset),
# "" = ignored); result: "ptr", "status" (0 = ok), "bool" (1 = done) or "".
_C = "c"
_RUST = "rust"
_WBG = "wasm-bindgen"
_AS = "assemblyscript"
_ZIG = "zig"
_USER = "user"
SLOTS = 4  # parameters the heap pass logs per call
ZIG_SHIM_PREFIX = "mem.Allocator."


@dataclass(frozen=True)
class Convention:
    name: str
    family: str
    role: str  # alloc | free | calloc | realloc | alloc_zeroed | aligned_alloc | memalign_out | gc_free | renew
    #            | resize | opaque (a family member whose calls are logged but not understood: allocfamily.py)
    params: tuple[str, ...]
    result: str  # ptr | status | bool | ""
    offset: int = 0  # the block's pointer is the "obj" parameter + offset (AssemblyScript's collector)

    @property
    def slots(self) -> tuple[int, ...]:
        """The parameter logged in each slot: the first four parameters when every parameter with a role is
        among them (so a slot is its parameter's index), else the parameters with a role, in order."""
        n = len(self.params)
        if all(not r for r in self.params[SLOTS:]):
            return tuple(range(min(n, SLOTS)))
        return tuple(i for i, r in enumerate(self.params) if r)

    @property
    def logged(self) -> tuple[str, ...]:
        """The role of the parameter in each logged slot."""
        return tuple(self.params[i] for i in self.slots)


def _conv(family, role, names, params, result, offset=0):
    return [Convention(n, family, role, params, result, offset) for n in names]


def _zig(fn: str) -> tuple[str, ...]:
    return tuple(f"heap.{a}.{fn}" for a in ("BrkAllocator", "WasmAllocator", "PageAllocator"))


CONVENTIONS: list[Convention] = [
    *_conv(_C, "alloc", ("malloc", "dlmalloc", "emmalloc_malloc"), ("size",), "ptr"),
    *_conv(_C, "free", ("free", "dlfree", "emmalloc_free"), ("ptr",), ""),
    *_conv(_C, "calloc", ("calloc", "dlcalloc", "emmalloc_calloc"), ("count", "size"), "ptr"),
    *_conv(_C, "realloc", ("realloc", "dlrealloc", "emmalloc_realloc"), ("ptr", "size"), "ptr"),
    *_conv(_C, "aligned_alloc", ("aligned_alloc", "memalign", "dlmemalign", "emmalloc_memalign",
                                 "emscripten_builtin_memalign"), ("align", "size"), "ptr"),
    *_conv(_C, "memalign_out", ("posix_memalign", "dlposix_memalign"), ("out", "align", "size"), "status"),
    *_conv(_RUST, "aligned_alloc", ("__rust_alloc", "__rdl_alloc", "__rg_alloc"), ("size", "align"), "ptr"),
    *_conv(_RUST, "alloc_zeroed", ("__rust_alloc_zeroed", "__rdl_alloc_zeroed", "__rg_alloc_zeroed"),
           ("size", "align"), "ptr"),
    *_conv(_RUST, "free", ("__rust_dealloc", "__rdl_dealloc", "__rg_dealloc"), ("ptr", "old_size", "align"), ""),
    *_conv(_RUST, "realloc", ("__rust_realloc", "__rdl_realloc", "__rg_realloc"),
           ("ptr", "old_size", "align", "size"), "ptr"),
    *_conv(_WBG, "aligned_alloc", ("__wbindgen_malloc",), ("size", "align"), "ptr"),
    *_conv(_WBG, "alloc", ("__wbindgen_malloc",), ("size",), "ptr"),  # wasm-bindgen before 0.2.88
    *_conv(_WBG, "free", ("__wbindgen_free",), ("ptr", "old_size", "align"), ""),
    *_conv(_WBG, "free", ("__wbindgen_free",), ("ptr", "old_size"), ""),
    *_conv(_WBG, "realloc", ("__wbindgen_realloc",), ("ptr", "old_size", "size", "align"), "ptr"),
    *_conv(_WBG, "realloc", ("__wbindgen_realloc",), ("ptr", "old_size", "size"), "ptr"),
    *_conv(_ZIG, "aligned_alloc", _zig("alloc"), ("", "size", "align", ""), "ptr"),
    *_conv(_ZIG, "free", _zig("free"), ("", "ptr", "old_size", "align", ""), ""),
    *_conv(_ZIG, "resize", _zig("resize"), ("", "ptr", "old_size", "align", "size", ""), "bool"),
    *_conv(_ZIG, "realloc", _zig("remap"), ("", "ptr", "old_size", "align", "size", ""), "ptr"),
    # a Debug build passes every function one more parameter first (a pointer, zig 0.17's backend)
    *_conv(_ZIG, "aligned_alloc", _zig("alloc"), ("", "", "size", "align", ""), "ptr"),
    *_conv(_ZIG, "free", _zig("free"), ("", "", "ptr", "old_size", "align", ""), ""),
    *_conv(_ZIG, "resize", _zig("resize"), ("", "", "ptr", "old_size", "align", "size", ""), "bool"),
    *_conv(_ZIG, "realloc", _zig("remap"), ("", "", "ptr", "old_size", "align", "size", ""), "ptr"),
    *_conv(_AS, "alloc", ("__new", "~lib/rt/itcms/__new", "~lib/rt/tcms/__new", "~lib/rt/stub/__new"),
           ("size", "id"), "ptr"),
    *_conv(_AS, "alloc", ("__alloc", "~lib/rt/tlsf/__alloc", "~lib/rt/stub/__alloc"), ("size",), "ptr"),
    # the collectors (itcms, tcms) free an object's block (the object's pointer - 16) through the memory
    # manager's __free, from __collect or from inside __new (an allocation may run the collector): counted
    # at any depth
    *_conv(_AS, "gc_free", ("~lib/rt/tlsf/__free",), ("obj",), "", 16),
    *_conv(_AS, "free", ("__free", "~lib/rt/stub/__free"), ("ptr",), ""),
    # itcms' and the stub's __renew resize in place or make a new object, the old one left to the collector
    # (the stub never frees); tcms' __renew reallocates (see the fix-up in find_allocators)
    *_conv(_AS, "renew", ("__renew", "~lib/rt/itcms/__renew", "~lib/rt/stub/__renew"), ("ptr", "size"), "ptr"),
    *_conv(_AS, "realloc", ("~lib/rt/tcms/__renew",), ("ptr", "size"), "ptr"),
    *_conv(_AS, "realloc", ("__realloc", "~lib/rt/tlsf/__realloc", "~lib/rt/stub/__realloc"),
           ("ptr", "size"), "ptr"),
]
_BY_NAME: dict[str, list[Convention]] = {}
for _c in CONVENTIONS:
    _BY_NAME.setdefault(_c.name, []).append(_c)


_FUNC_INDEX = re.compile(r"func\[(\d{1,10})\]")

_RANK = {c.name: k for k, c in reversed(list(enumerate(CONVENTIONS)))}


def _rank(name: str) -> int:
    return _RANK.get(name, _RANK.get(name.rsplit("::", 1)[-1], len(CONVENTIONS)))


@dataclass(frozen=True)
class AllocatorFunction:
    """One function of the module that allocates or frees."""

    index: int  # function index (imports first)
    name: str  # the name it was found by
    found_by: str  # export | name-section | dwarf | --allocator | forwarded | shape (allocshape.py) | call-graph (allocfamily.py)
    convention: Convention
    imported: bool  # an import: the host allocates (its calls can be seen only from the module's side)
    in_table: bool = False  # an element segment puts it in a table: it may be called through a function pointer

    @property
    def role(self) -> str:
        return self.convention.role

    @property
    def family(self) -> str:
        return self.convention.family


@dataclass
class Allocators:
    """The allocator functions of a module, at most one per (family, role), the first found by export, then
    by the name section, then by DWARF. ``families`` in order of how much of them was found."""

    functions: list[AllocatorFunction] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    shims: dict[int, str] = field(default_factory=dict)  # function index → name: Zig's mem.Allocator.* functions
    candidates: list[str] = field(default_factory=list)  # func[N] that may allocate or free when none is certain
    found_why: dict[int, str] = field(default_factory=dict)  # function index → why it is a member (call-graph)

    def find(self, role: str, family: str | None = None) -> AllocatorFunction | None:
        return next((f for f in self.functions if f.role == role and (family is None or f.family == family)), None)

    @property
    def families(self) -> list[str]:
        seen: dict[str, int] = {}
        for f in self.functions:
            seen[f.family] = seen.get(f.family, 0) + 1
        return sorted(seen, key=lambda k: -seen[k])

    @property
    def complete(self) -> bool:
        """An allocation function and a matching free were found (what leak tracking needs)."""
        return any(self.find(r, fam) for fam in self.families for r in ("alloc", "aligned_alloc", "calloc")) \
            and any(self.find(r, fam) for fam in self.families for r in ("free", "gc_free"))

    def to_dict(self) -> dict:
        return {"functions": [{"index": f.index, "name": f.name, "found_by": f.found_by, "family": f.family,
                               "role": f.role, "params": list(f.convention.params), "result": f.convention.result,
                               "imported": f.imported, "in_table": f.in_table} for f in self.functions],
                "notes": list(self.notes), "shims": len(self.shims), "candidates": list(self.candidates)}


def _signature_matches(module, index: int, conv: Convention) -> bool:
    try:
        ft = module.get_function_type(index)
    except Exception:
        return False
    ptr = _ptr_type(module)
    if len(ft.params) != len(conv.params):
        return False
    for have, role in zip(ft.params, conv.params, strict=True):
        if have not in ("i32", "i64") or (role in ("ptr", "out", "obj") and have != ptr):
            return False
    want_results = {"ptr": (ptr,), "status": ("i32",), "bool": ("i32",), "": ()}[conv.result]
    return tuple(ft.results) == want_results


def find_allocators(module, *, dwarf_names: dict[int, str] | None = None,
                    user_names: str | None = None) -> Allocators:
    """The allocator functions of ``module``. ``dwarf_names``: function index → DWARF name (the caller reads
    DWARF); ``user_names``: ``ALLOC[,FREE]`` from ``--allocator`` (export or name-section names)."""
    out = Allocators()
    nfuncs = module.num_functions
    candidates: list[tuple[str, int, str]] = []  # (name, index, found_by) in order of preference
    for e in module.exports:
        if e.kind == "func":
            candidates.append((e.name, e.index, "export"))
    # wasm-bindgen's numbered exports (__wbindgen_export_N) known by their bodies (allocshape.py)
    wbg, shape_notes = wasm_bindgen_numbered(module)
    candidates += [(h.name, i, "shape") for i, h in wbg.items()]
    try:
        fnames = module.names.functions if module.names is not None else {}
    except Exception:  # a damaged name section: exports and DWARF still serve
        fnames = {}
    # within the name section and DWARF, the outermost shim first (__rust_alloc before __rg_alloc before
    # __rdl_alloc, malloc before dlmalloc: CONVENTIONS' order), so that a site is the program's call, not
    # the shim's call of the allocator underneath
    candidates += sorted(((n, i, "name-section") for i, n in fnames.items()), key=lambda c: (_rank(c[0]), c[1]))
    candidates += sorted(((n, i, "dwarf") for i, n in (dwarf_names or {}).items()), key=lambda c: (_rank(c[0]), c[1]))
    nimp = module.num_imported_funcs
    for imp in module.imports:
        if imp.kind == "func":
            candidates.append((imp.name, sum(1 for j in module.imports[:imp.index] if j.kind == "func"), "import"))

    taken: set[tuple[str, str]] = set()
    used: set[int] = set()
    try:
        in_tables = {f for seg in module.elements for f in seg.func_indices if f is not None}
    except Exception:  # a damaged element section: the allocators are still found by name
        in_tables = set()

    def take(name: str, index: int, by: str, convs) -> bool:
        for conv in convs:
            key = (conv.family, conv.role)
            if key in taken or index in used or not 0 <= index < nfuncs:
                continue
            if _signature_matches(module, index, conv):
                taken.add(key)
                used.add(index)
                out.functions.append(AllocatorFunction(index, name, by, conv, index < nimp, index in in_tables))
                return True
        return False

    if user_names:
        parts = [p.strip() for p in user_names.split(",")]
        if not parts[0] or len(parts) > 2:
            out.notes.append(f"--allocator {user_names!r}: give ALLOC or ALLOC,FREE")
        else:
            # the shapes a user's allocator may have: malloc-like, or Rust-like with an alignment; a free
            # that takes the pointer, and maybe the size and alignment
            shapes = [("alloc", [(("size",), "ptr"), (("size", "align"), "ptr")]),
                      ("free", [(("ptr",), ""), (("ptr", "old_size"), ""), (("ptr", "old_size", "align"), "")])]
            for want, (role, forms) in zip(parts, shapes, strict=False):  # ALLOC alone: no free
                hit = next(((n, i) for n, i, _by in candidates if n == want), None)
                m = _FUNC_INDEX.fullmatch(want)
                if hit is None and m is not None:  # a stripped module: the function by its index, as wasmem shows it
                    hit = (want, int(m.group(1)))
                    if hit[1] >= nfuncs:
                        last = f" (func[0] to func[{nfuncs - 1}])" if nfuncs else ""
                        out.notes.append(f"--allocator: {want} does not exist: the module has {nfuncs} "
                                         f"function{'s' if nfuncs != 1 else ''}{last}")
                        continue
                if hit is None:
                    out.notes.append(f"--allocator: no function named {want!r} (export, name section or DWARF)")
                    continue
                convs = [Convention(want, _USER, role, params, result) for params, result in forms]
                if not take(hit[0], hit[1], "--allocator", convs):
                    try:
                        ft = module.get_function_type(hit[1])
                        sig = f"({', '.join(ft.params)}) -> ({', '.join(ft.results)})"
                    except Exception:
                        sig = "an unknown type"
                    want_sig = " or ".join(f"({', '.join(p)}) -> ({r})" for p, r in forms)
                    out.notes.append(f"--allocator: {want} has type {sig}, not the {role} shape {want_sig}")
    for name, index, by in candidates:
        convs = _BY_NAME.get(wbg[index].role if by == "shape" else name)
        if convs is None and "::" in name:  # DWARF/demangled Rust names: alloc::alloc::__rust_alloc …
            convs = _BY_NAME.get(name.rsplit("::", 1)[-1])
        if convs and take(name, index, by, convs) and by == "shape":
            out.notes.append(wbg[index].evidence)
    if not user_names and not out.complete and all(f.family == _C for f in out.functions):
        # a stripped build (or a C one whose free has no known name): the allocator by its code (allocshape.py)
        shape = find_by_shape(module, frozenset(f.index for f in out.functions if f.role == "alloc"))
        for h in shape.hits:
            conv = Convention(h.name, _C, h.role, {"alloc": ("size",), "free": ("ptr",), "calloc": ("count", "size"),
                                                   "realloc": ("ptr", "size")}[h.role], "" if h.role == "free" else "ptr")
            if take(fnames.get(h.index) or h.name, h.index, "shape", [conv]):
                out.notes.append(h.evidence)
        shape_notes += shape.notes
        out.candidates = shape.candidates
    out.notes += shape_notes
    shims: dict[str, list[AllocatorFunction]] = {}
    for f in list(out.functions):  # a found function that only forwards: the module calls the one behind it
        target, hops = f.index, 0
        while hops < 4 and (target := forward_target(module, target)) is not None and target not in used:
            used.add(target)
            # its own name when the name section keeps one (a thunk found by its code names none)
            name = fnames.get(target) or (f"func[{target}]" if f.found_by == "shape" else f.name)
            out.functions.append(AllocatorFunction(target, name, "forwarded", f.convention, target < nimp,
                                                   target in in_tables))
            hops += 1
        if hops == 0 and (f.found_by == "export" or f.found_by == "shape" and f.family == _WBG) and f.role in ("free", "alloc", "aligned_alloc", "realloc"):
            shims.setdefault(f.family, []).append(f)
    # shims over unnamed allocator functions (wasm-bindgen's exports over the dlmalloc of a stripped Rust
    # build): the functions behind them are taken only when every shim of the family leads to one, since
    # seeing the module's frees but not its allocations (or the reverse) would report errors it does not have
    for fs in shims.values():
        inner = [(f, [(t, c) for t, c in inner_allocators(module, f) if t not in used]) for f in fs]
        if not any(found for _, found in inner):
            continue
        # a function with nothing behind it must be an allocator itself (a large body), not a shim whose
        # allocator stays unknown
        if all(found or not _small(module, f) for f, found in inner):
            for _, found in inner:
                for target, conv in found:
                    if target not in used:
                        used.add(target)
                        out.functions.append(AllocatorFunction(target, fnames.get(target) or f"func[{target}]",
                                                               "forwarded", conv, target < nimp,
                                                               target in in_tables))
        else:
            # say which: the shims whose inner allocator was found are not the ones in doubt
            # (a large body with nothing behind it is an allocator itself: fully tracked, not named here)
            doubt = [f.name for f, found in inner if _small(module, f)]
            unknown = [f.name for f, found in inner if not found and _small(module, f)]
            out.notes.append(f"the allocator behind {', '.join(unknown)} is not known (a stripped build): calls of "
                             f"{', '.join(doubt)} are tracked, direct calls of the functions behind "
                             f"{'them' if len(doubt) > 1 else 'it'} are not")
    _family_members(module, out, used, fnames, in_tables)
    stub = False
    for k, f in enumerate(out.functions):  # the minimal runtime's __renew (found by export) reallocates
        if f.role == "renew" and fnames.get(f.index, "").startswith("~lib/rt/tcms/"):
            out.functions[k] = AllocatorFunction(f.index, f.name, f.found_by, Convention(
                f.name, _AS, "realloc", ("ptr", "size"), "ptr"), f.imported, f.in_table)
    if out.functions:  # Zig's interface over any allocator (std.heap.c_allocator calls malloc)
        out.shims = {i: n for i, n in fnames.items() if isinstance(n, str) and n.startswith(ZIG_SHIM_PREFIX)}
    if any(f.family == _ZIG for f in out.functions):
        out.notes.append("Zig: the backing allocator is tracked (an ArenaAllocator's or DebugAllocator's blocks "
                         "are seen as the buffers they take from it)")
    if any(f.role == "gc_free" for f in out.functions):
        out.notes.append("AssemblyScript's collector frees objects when it runs (__collect, and inside __new for "
                         "the incremental runtime): an object no longer referenced stays live until then")
    elif stub := any(n.startswith("~lib/rt/stub/") for n in fnames.values()):
        out.notes.append("AssemblyScript's stub runtime never frees an object")
    elif any(f.family == _AS for f in out.functions):
        out.notes.append("AssemblyScript's garbage collector also frees blocks on its own (__collect): those "
                         "frees are seen only as calls of its free function")
    if out.functions and not out.complete and not stub:
        roles = ", ".join(sorted({f.role for f in out.functions}))
        out.notes.append(f"only {roles} found: blocks cannot be matched to their frees without both an "
                         "allocation and a free function (--allocator ALLOC,FREE names them)")
    return out


def _family_members(module, out: Allocators, used: set[int], fnames: dict, in_tables: set[int]) -> None:
    """The members of a C-shaped family the names did not give (``model/allocfamily.py``: through the call
    graph), found by ``call-graph``: for a C library only in a module without function names (with them, its
    standard names found every member), for the functions named with --allocator always."""
    from .allocfamily import FOUND_BY, find_members

    for family in (_C, _USER):
        if family == _C and fnames:  # a name section names every member a C library has: no search needed
            continue
        members, notes = find_members(module, {f.index: f.role for f in out.functions if f.family == family})
        out.notes += notes
        for m in members:
            if m.index in used:
                continue
            used.add(m.index)
            name = fnames.get(m.index) or f"func[{m.index}]"
            out.functions.append(AllocatorFunction(m.index, name, FOUND_BY, Convention(name, family, m.role, m.params,
                                                                                       m.result),
                                                   m.index < module.num_imported_funcs, m.index in in_tables))
            out.found_why[m.index] = m.reason


def forward_target(module, index: int) -> int | None:
    """G when function ``index`` is a forwarding thunk ``F(params…) { return G(params…) }`` of the same type
    (no locals, nothing else): Emscripten's exported ``malloc`` of a stripped build is such a thunk over the
    dlmalloc the module's own code calls, so tracking the export alone would see none of the module's
    allocations (and take its frees for invalid ones)."""
    body = body_ops(module, index, 64)
    if body is None or body[0]:
        return None
    ops = body[1]
    try:
        ft = module.get_function_type(index)
    except Exception:  # noqa: BLE001 - a damaged type is simply not a thunk's
        return None
    n = len(ft.params)
    if len(ops) != n + 2 or ops[-1][1] != 0x0B or ops[-2][1] not in (0x10, 0x12):
        return None
    if any(op != 0x20 or imm != i for i, (_, op, imm) in enumerate(ops[:n])):
        return None
    target = ops[-2][2]
    if target == index or not 0 <= target < module.num_functions:
        return None
    try:
        return target if module.get_function_type(target) == ft else None
    except Exception:  # noqa: BLE001
        return None


_INNER = {"free": ("ptr",), "alloc": ("size",), "aligned_alloc": ("align", "size")}


def inner_allocators(module, f: AllocatorFunction) -> list[tuple[int, Convention]]:
    """The unnamed C-shaped allocator functions a small allocator shim ``f`` calls with its own operands:
    ``local.get PTR; call G`` with G ``(ptr) -> ()`` in a free (wasm-bindgen's ``__wbindgen_free`` over the
    dlmalloc of a stripped Rust build), ``local.get SIZE; call G`` with G ``(size) -> ptr`` (malloc-shaped)
    and ``local.get ALIGN; local.get SIZE; call G`` with G ``(align, size) -> ptr`` (memalign-shaped) in an
    allocation function. Each shape must occur with one callee only; the module's own code calls those
    functions directly, so tracking the shim alone would see none of its allocations."""
    params = f.convention.params
    body = body_ops(module, f.index, SHIM_BYTES)
    if body is None or f.role not in ("free", "alloc", "aligned_alloc", "alloc_zeroed", "realloc"):
        return []
    ops = body[1]
    ptr = _ptr_type(module)
    want: dict[tuple[int, ...], str] = {}  # the locals pushed before the call → the inner role
    if f.role == "free" and "ptr" in params:
        want[(params.index("ptr"),)] = "free"
    elif f.role != "realloc" and "size" in params:
        want[(params.index("size"),)] = "alloc"
        if "align" in params:
            want[(params.index("align"), params.index("size"))] = "aligned_alloc"
    found: dict[str, set[int]] = {}
    convs: dict[int, Convention] = {}
    n = len(params)
    try:
        own = module.get_function_type(f.index)
    except Exception:  # noqa: BLE001
        return []
    for j, (_, op, imm) in enumerate(ops):
        if op != 0x10:
            continue
        # every operand of f, in some order (wasm-bindgen's __wbindgen_realloc(ptr, old, new, align) over
        # Rust's realloc(ptr, old, align, new)): the same role, its parameters in that order
        order = [ops[j - n + i][2] for i in range(n) if j >= n and ops[j - n + i][1] == 0x20]
        if n > 1 and sorted(order) == list(range(n)) and imm != f.index:
            try:
                ft = module.get_function_type(imm)
            except Exception:  # noqa: BLE001
                ft = None
            if ft is not None and ft.params == tuple(own.params[i] for i in order) and ft.results == own.results:
                found.setdefault(f.role, set()).add(imm)
                convs[imm] = Convention(f"func[{imm}]", f.family, f.role, tuple(params[i] for i in order),
                                        f.convention.result)
        for pushed, role in want.items():
            k = len(pushed)
            if j < k or any(ops[j - k + i][1] != 0x20 or ops[j - k + i][2] != pushed[i] for i in range(k)):
                continue
            try:
                ft = module.get_function_type(imm)
            except Exception:  # noqa: BLE001
                continue
            results = () if role == "free" else (ptr,)
            if ft.params == (ptr,) * k and ft.results == results and imm != f.index:
                found.setdefault(role, set()).add(imm)
    return [(g, convs.get(g) or Convention(f"func[{g}]", _C, role, _INNER[role], "" if role == "free" else "ptr"))
            for role, gs in found.items() if len(gs) == 1 for g in gs]


def _small(module, f: AllocatorFunction) -> bool:
    """Whether ``f``'s body is small enough to be a shim over another allocator (at most SHIM_BYTES)."""
    nimp = module.num_imported_funcs
    if f.index < nimp:
        return False
    body = module.functions[f.index - nimp]
    return body.end - body.start <= SHIM_BYTES


SHIM_BYTES = 512  # the largest body taken for a shim over another allocator


def _ptr_type(module) -> str:
    """The module's pointer type: i64 for a memory64 memory 0, else i32."""
    return "i64" if module.is_memory64 else "i32"


assert all(len(c.slots) <= SLOTS for c in CONVENTIONS)  # the heap pass logs four parameters per call
