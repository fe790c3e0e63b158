"""Allocators found by their code, where no name tells (issue 25 item 3).

Two cases, each conservative: a function is taken only when exactly one fits every test below; when more
than one fits, or only some of the tests, the functions are *candidates*, named ``func[N]`` in a note so
that the user can pass ``--allocator func[N],func[M]``. Nothing here is certain the way a name is, so every
function taken carries its evidence (``found_by`` "shape" and a note), and the heap tracker treats it as it
treats a function found behind another one: a free of a block it never saw allocated is counted, not
reported.

**wasm-bindgen's numbered exports.** wasm-bindgen 0.2.100 and later may export its intrinsics under
numbered names (``__wbindgen_export_0`` …) that its JS glue knows by position: ``passStringToWasm0(arg,
wasm.__wbindgen_export_0, wasm.__wbindgen_export_1)`` is malloc(size, align) and realloc(ptr, old_size,
new_size, align); ``wasm.__wbindgen_export_3(ptr, len, 1)`` is free(ptr, size, align). The numbers follow
the order in which the glue first needs them, so they are recognised by their bodies, in a module that
wasm-bindgen made (imports from ``__wbindgen_placeholder__`` or named ``__wbg_…``/``__wbindgen_…``, or
wasm-bindgen in the producers section):

- malloc ``(size, align) -> ptr``: ``Layout::from_size_align``'s test that ``align`` (parameter 1) is a power
  of two (``i32.popcnt`` = 1, or ``align & (align - 1)``) and the size's bound against it;
- realloc ``(ptr, old_size, new_size, align) -> ptr``: the same test on parameter 3;
- free ``(ptr, size, align)``: returns early when ``size`` (parameter 1) is 0 and makes a direct call, no
  ``call_indirect`` (a closure's invoker has the same type but calls through the table).

Each role must fit exactly one export; malloc and free both, or none is taken. The functions behind them
(the Rust allocator) are then found as for the named exports (``allocators.inner_allocators``).

**C allocators of a stripped build** (wasi-libc's dlmalloc, Emscripten's dlmalloc and emmalloc, Zig's libc
malloc; with or without wasm-opt). A whole-module scan, linear in the code's size and bounded by the
``alloc-shape`` budget (bytes of code), over direct calls only:

1. growers: bodies with ``memory.grow``, or with ``memory.size`` (themselves or in a leaf they call) and a
   call of an imported ``(i32) -> i32`` (Emscripten's ``sbrk`` over ``emscripten_resize_heap``);
2. allocation candidates: ``(size) -> ptr`` functions that reach a grower in at most four calls (forwarding
   thunks collapsed onto their target);
3. free candidates: ``(ptr) -> ()`` functions that read the block's header below the pointer
   (``ptr - 4``, ``- 8`` or ``- 16``, then a load), as dlmalloc (``ptr - 8``), emmalloc (``ptr - 4``) and
   Zig's libc (``ptr - 8``) do;
4. a pair (malloc, free) counts the functions that call both (a program that allocates frees too). The free
   taken is the one free candidate paired with any allocation candidate; the malloc the one paired with it
   that calls no other paired candidate and is the nearest to the code that grows memory (``leak_step`` and
   ``strdup`` call ``malloc``: the innermost is the allocator; ``sbrk`` is paired with nothing). Then ``realloc`` ``(ptr, size) -> ptr`` and ``calloc`` ``(n, size) ->
   ptr`` when exactly one function of that type calls the malloc (and, for realloc, the free too; for
   calloc, with a multiplication).

The evidence names dlmalloc when the malloc's body has its constants (``(n + 11) & -8``, ``-65``:
request2size and MAX_REQUEST). wee_alloc and talc (Rust) are not recognised on their own: a Rust build's
allocator is reached through ``__rust_alloc``/``__wbindgen_malloc`` names or the numbered exports above.
"""

from __future__ import annotations

import re
from collections import deque
from dataclasses import dataclass, field

from ..budgets import lift, value_of
from ..parser.code import decode_locals, find_calls, iter_instruction_tuples

__all__ = ["ShapeHit", "ShapeResult", "wasm_bindgen_numbered", "find_by_shape", "WBG_NUMBERED"]

WBG_NUMBERED = re.compile(r"__wbindgen_export_\d{1,6}")
MAX_DEPTH = 4  # calls from an allocation function to the code that grows memory
MAX_SHOWN = 6  # candidates named per role in a note
_BODY_LIMIT = 4096  # the largest exported wasm-bindgen intrinsic decoded
_HEADER_AT = (4, 8, 16)


@dataclass(frozen=True)
class ShapeHit:
    index: int
    name: str  # an export's name, or func[N]
    role: str  # alloc | free | realloc | calloc (C); wasm-bindgen: the intrinsic's conventional name
    evidence: str


@dataclass
class ShapeResult:
    hits: list[ShapeHit] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    candidates: list[str] = field(default_factory=list)  # "func[N]" of allocation then free candidates


def body_ops(module, index: int, limit: int | None = None) -> tuple[list, list] | None:
    """(declared locals, instructions as (offset, op, imm)) of defined function ``index`` when its body is at
    most ``limit`` bytes (None: any size); None for an import, a larger body or a damaged one (it fits no shape,
    is no shim and no thunk)."""
    nimp = module.num_imported_funcs
    if index < nimp:
        return None
    try:
        body = module.functions[index - nimp]
        if limit is not None and body.end - body.start > limit:
            return None
        declared, pos = decode_locals(module.data, body.start, body.end)
        return declared, list(iter_instruction_tuples(module.data, pos, body.end))
    except Exception:  # noqa: BLE001
        return None


def _ops(module, index: int, limit: int | None = None) -> list | None:
    got = body_ops(module, index, limit)
    return None if got is None else got[1]


def _type(module, index: int):
    try:
        ft = module.get_function_type(index)
        return tuple(ft.params), tuple(ft.results)
    except Exception:  # noqa: BLE001
        return None


def _ptr(module) -> str:
    return "i64" if module.is_memory64 else "i32"


# -- wasm-bindgen ------------------------------------------------------------------------------------------
def _is_wasm_bindgen(module) -> bool:
    try:
        if any(i.module == "__wbindgen_placeholder__" or i.name.startswith(("__wbg_", "__wbindgen_"))
               for i in module.imports):
            return True
        return any(n == "wasm-bindgen" for n, _ in module.producers.get("processed-by", ()))
    except Exception:  # noqa: BLE001 - a damaged section: not known to be wasm-bindgen's
        return False


def _pow2_test(ops, local: int) -> bool:
    """``local.get L; i32.popcnt; i32.const 1`` or ``local.get L; i32.const -1; i32.add; local.get L; i32.and``
    (either order): the alignment checked to be a power of two."""
    for j in range(len(ops) - 2):
        if ops[j][1] != 0x20 or ops[j][2] != local:
            continue
        nxt = ops[j + 1: j + 5]
        if nxt[0][1] in (0x69, 0x7B) and nxt[1][1] in (0x41, 0x42) and nxt[1][2] == 1:
            return True
        pat = [(o, i) for _, o, i in nxt]
        if len(pat) == 4 and pat[0] in ((0x41, -1), (0x42, -1)) and pat[1][0] in (0x6A, 0x7C) \
                and pat[2] == (0x20, local) and pat[3][0] in (0x71, 0x83):
            return True
    return False


def _early_zero_test(ops, local: int) -> bool:
    """``local.get L`` then ``i32.eqz``/``br_if``/``if`` among the first instructions: returns when L is 0."""
    for j in range(min(len(ops) - 1, 12)):
        if ops[j][1] == 0x20 and ops[j][2] == local and ops[j + 1][1] in (0x45, 0x50, 0x0D, 0x04):
            return True
    return False


def wasm_bindgen_numbered(module) -> tuple[dict[int, ShapeHit], list[str]]:
    """function index → the hit (``role`` the conventional name: ``__wbindgen_malloc`` …) for the numbered
    exports whose bodies show the intrinsic; notes when some fit more than one way."""
    numbered = [e for e in module.exports if e.kind == "func" and WBG_NUMBERED.fullmatch(e.name)]
    if not numbered or not _is_wasm_bindgen(module):
        return {}, []
    p = _ptr(module)
    shapes = {"__wbindgen_malloc": ((p, p), (p,)), "__wbindgen_realloc": ((p, p, p, p), (p,)),
              "__wbindgen_free": ((p, p, p), ())}
    fits: dict[str, list[tuple[str, int, str]]] = {k: [] for k in shapes}
    for e in numbered:
        sig = _type(module, e.index)
        role = next((k for k, s in shapes.items() if s == sig), None)
        ops = _ops(module, e.index, _BODY_LIMIT) if role else None
        if not ops:
            continue
        if role == "__wbindgen_malloc" and _pow2_test(ops, 1):
            why = "wasm-bindgen's malloc(size, align): checks that the alignment is a power of two"
        elif role == "__wbindgen_realloc" and _pow2_test(ops, 3):
            why = "wasm-bindgen's realloc(ptr, old_size, new_size, align): checks the alignment"
        elif role == "__wbindgen_free" and _early_zero_test(ops, 1) \
                and not any(o in (0x11, 0x13) for _, o, _ in ops) and any(o == 0x10 for _, o, _ in ops):
            why = "wasm-bindgen's free(ptr, size, align): returns when the size is 0, then calls the allocator"
        else:
            continue
        fits[role].append((e.name, e.index, why))
    out: dict[int, ShapeHit] = {}
    notes = []
    for role, found in fits.items():
        if len(found) == 1:
            name, index, why = found[0]
            out[index] = ShapeHit(index, name, role, f"{name} found by shape: {why}")
        elif found:
            notes.append(f"{', '.join(n for n, _, _ in found)} all look like {role}: none taken")
    if not any(h.role == "__wbindgen_malloc" for h in out.values()) or \
            not any(h.role == "__wbindgen_free" for h in out.values()):
        if out:
            notes.append(f"{', '.join(h.name for h in out.values())}: wasm-bindgen's malloc and free are not both "
                         "recognised among the numbered exports, so neither is taken (--allocator names them)")
        return {}, notes
    return out, notes


# -- C allocators ------------------------------------------------------------------------------------------
def _header_read(ops, local: int = 0) -> int | None:
    """K when the body loads from ``local - K`` (K 4, 8 or 16) within a few instructions: a block header."""
    n = len(ops)
    for j in range(n - 3):
        if ops[j][1] != 0x20 or ops[j][2] != local:
            continue
        a, b = ops[j + 1], ops[j + 2]
        k = None
        if a[1] in (0x41, 0x42) and b[1] in (0x6A, 0x7C) and isinstance(a[2], int) and -a[2] in _HEADER_AT:
            k = -a[2]
        elif a[1] in (0x41, 0x42) and b[1] in (0x6B, 0x7D) and a[2] in _HEADER_AT:
            k = a[2]
        if k is None:
            continue
        # the load: right after (maybe through local.tee), or its address kept and loaded a few steps later
        if any(0x28 <= o <= 0x35 for _, o, _ in ops[j + 3: j + 12]):
            return k
    return None


def _dlmalloc_constants(ops) -> bool:
    consts = {i for _, o, i in ops if o == 0x41}
    return {11, -8, -65} <= consts


def find_by_shape(module, known_alloc: frozenset[int] = frozenset()) -> ShapeResult:
    """The C allocator functions of a stripped module found by their code (see the module's docstring).
    ``known_alloc``: the allocation functions already found by name (a C build whose free has no known name,
    such as Zig's libc's ``c.malloc.free``): the hits are given only when the malloc found is one of them."""
    try:
        out = _find(module)
    except Exception:  # noqa: BLE001 - a module wasmem cannot read whole gets no guess
        return ShapeResult()
    if known_alloc and out.hits and not any(h.index in known_alloc for h in out.hits if h.role == "alloc"):
        return ShapeResult(notes=["the allocator found by its code is not the malloc found by name: neither free "
                                  "nor realloc is taken from it (--allocator ALLOC,FREE names them)"])
    return out


def _find(module) -> ShapeResult:
    out = ShapeResult()
    nimp = module.num_imported_funcs
    try:
        bodies = module.functions
    except Exception:  # noqa: BLE001 - a damaged code section: nothing to look at
        return out
    code = sum(b.end - b.start for b in bodies)
    limit = value_of(module, "alloc-shape")
    if code > limit:
        out.notes.append(f"allocators were not looked for by their code: the code's {code:,} bytes are more than "
                         f"{limit:,}; {lift('alloc-shape')}")
        return out
    data = module.data
    callees: list[set[int]] = []
    growers: set[int] = set()
    sizers: set[int] = set()  # bodies with memory.size
    imported_grow = {i for i in range(nimp) if _type(module, i) == (("i32",), ("i32",))}
    try:
        for k, b in enumerate(bodies):
            _, pos = decode_locals(data, b.start, b.end)
            calls = {imm for _, op, imm in find_calls(data, pos, b.end) if op in (0x10, 0x12)}
            callees.append(calls)
            raw = bytes(data[pos:b.end])
            if b"\x40\x00" in raw or b"\x3f\x00" in raw:
                ops = {o for _, o, _ in iter_instruction_tuples(data, pos, b.end)}
                if 0x40 in ops:
                    growers.add(k + nimp)
                if 0x3F in ops:
                    sizers.add(k + nimp)
    except Exception:  # noqa: BLE001 - a damaged body: no guess on a module wasmem cannot read whole
        return out
    # Emscripten's sbrk: the heap's size (memory.size, maybe in emscripten_get_heap_size) compared, then the
    # host asked to grow it (emscripten_resize_heap, an imported (i32) -> i32)
    by_host = {k + nimp for k, cs in enumerate(callees) if cs & imported_grow and (k + nimp in sizers or any(
        c in sizers and not callees[c - nimp] for c in cs if c >= nimp))} - growers
    growers |= by_host
    if not growers:
        return out
    callers: dict[int, set[int]] = {}
    for k, cs in enumerate(callees):
        for c in cs:
            callers.setdefault(c, set()).add(k + nimp)
    dist = {g: 0 for g in growers}
    queue = deque(growers)
    while queue:
        f = queue.popleft()
        if dist[f] >= MAX_DEPTH:
            continue
        for c in callers.get(f, ()):
            if c not in dist:
                dist[c] = dist[f] + 1
                queue.append(c)
    p = _ptr(module)

    thunks: dict[int, int | None] = {}
    canon_of: dict[int, set[int]] = {}

    def thunk_target(f: int) -> int | None:
        if f not in thunks:
            thunks[f] = _thunk_target(f)
        return thunks[f]

    def _thunk_target(f: int) -> int | None:
        ops = _ops(module, f, 64)
        sig = _type(module, f)
        if not ops or sig is None or len(ops) != len(sig[0]) + 2 or ops[-2][1] not in (0x10, 0x12):
            return None
        if any(o != 0x20 or i != j for j, (_, o, i) in enumerate(ops[:len(sig[0])])):
            return None
        t = ops[-2][2]
        return t if t != f and t >= nimp and _type(module, t) == sig else None

    def canon(f: int) -> int:
        for _ in range(4):
            t = thunk_target(f)
            if t is None:
                break
            f = t
        return f

    def canon_callees(f: int) -> set[int]:
        if f not in canon_of:
            canon_of[f] = {canon(c) for c in callees[f - nimp]} if f >= nimp else set()
        return canon_of[f]

    allocs = {canon(f) for f, d in dist.items() if f >= nimp and _type(module, f) == ((p,), (p,))}
    allocs = {f for f in allocs if f in dist}
    frees: dict[int, int] = {}
    for k in range(len(bodies)):
        f = k + nimp
        if _type(module, f) == ((p,), ()) and f not in growers and canon(f) == f:
            ops = _ops(module, f, 1 << 16)
            at = _header_read(ops) if ops else None
            if at is not None:
                frees[f] = at
    if not allocs:
        return out
    # the functions that call both members of a pair (their canonical callees)
    both: dict[tuple[int, int], int] = {}
    for k in range(len(bodies)):
        cs = canon_callees(k + nimp)
        ma, fr = cs & allocs, cs & frees.keys()
        for m in ma:
            for fx in fr:
                both[(m, fx)] = both.get((m, fx), 0) + 1
    paired_frees = sorted({fx for _, fx in both})

    def both_of(f: int) -> int:
        return sum(n for (m, _), n in both.items() if m == f)

    paired_allocs = {m for m, _ in both}
    # the innermost: calling no other paired candidate, and the nearest to the code that grows memory (a
    # program's function that calls malloc, such as strdup, is farther from it than malloc)
    inner_allocs = [m for m in paired_allocs if not (canon_callees(m) - {m}) & paired_allocs]
    nearest = min((dist[m] for m in inner_allocs), default=0)
    inner_allocs = sorted((m for m in inner_allocs if dist[m] == nearest), key=lambda f: (-both_of(f), f))
    name = _namer(module)
    if len(paired_frees) == 1 and len(inner_allocs) == 1 and both.get((inner_allocs[0], paired_frees[0])):
        m, fx = inner_allocs[0], paired_frees[0]
        n_both = both[(m, fx)]
        mops = _ops(module, m) or []
        flavor = "; dlmalloc's constants ((n + 11) & -8, -65)" if _dlmalloc_constants(mops) else ""
        grower = next((g for g in sorted(growers) if g == m or g in callees[m - nimp]), None)
        how = "the host's heap resize (an import, after memory.size)" if grower in by_host else "memory.grow"
        reach = (f"grows memory itself ({how})" if dist[m] == 0 else
                 f"reaches {how} in {dist[m]} call{'s' if dist[m] != 1 else ''}"
                 + (f" ({name(grower)})" if grower is not None and grower != m else ""))
        shown_m, shown_f = _outer_thunk(m, callers, thunk_target), _outer_thunk(fx, callers, thunk_target)
        pair = f"{n_both} function{'s call' if n_both != 1 else ' calls'} both"
        out.hits.append(ShapeHit(shown_m, name(shown_m), "alloc", f"{name(shown_m)} found by shape as malloc "
                                 f"(size) -> ptr: {reach}; {pair} it and {name(shown_f)}{flavor}"))
        out.hits.append(ShapeHit(shown_f, name(shown_f), "free", f"{name(shown_f)} found by shape as free(ptr): "
                                 f"reads the block's header at ptr-{frees[fx]}"))
        # the allocation core: the malloc and what it calls that grows memory (Zig's realloc and calloc call its
        # BrkAllocator.alloc, not malloc)
        core = {m} | {c for c in canon_callees(m) if c in dist}
        for role, sig in (("realloc", ((p, "i32"), (p,))), ("calloc", (("i32", "i32"), (p,)))):
            fits = []
            for g in range(nimp, nimp + len(bodies)):
                if _type(module, g) != sig or g in (m, fx) or not canon_callees(g) & (core | {fx}):
                    continue
                gops = _ops(module, g, 1 << 16) or []
                # realloc reads the old block's header (and multiplies nothing); calloc multiplies count by size
                header, mul = _header_read(gops) is not None, _has_mul(gops)
                if (role == "realloc" and header and not mul) or (role == "calloc" and mul):
                    fits.append(g)
            if len(fits) == 1:
                g = fits[0]
                calls = sorted(canon_callees(g) & (core | {fx}))
                what = "reads the block's header" if role == "realloc" else "multiplies"
                out.hits.append(ShapeHit(g, name(g), role, f"{name(g)} found by shape as {role}: {what} and calls "
                                         f"{' and '.join(name(x) for x in calls)}"))
        # aligned allocation (posix_memalign, aligned_alloc) is not recognised: say which functions may be it
        taken = {h.index for h in out.hits} | {m, fx}
        shapes = (((p, "i32", "i32"), ("i32",)), (("i32", "i32"), (p,)))
        inner = {c for c in range(nimp, nimp + len(bodies)) if c not in taken and _type(module, c) == shapes[1]
                 and canon_callees(c) & core}  # dlmalloc's internal_memalign
        aligned = sorted(inner | {g for g in range(nimp, nimp + len(bodies)) if g not in taken
                                  and _type(module, g) == shapes[0] and canon_callees(g) & (core | inner)})
        if aligned:
            out.notes.append("not recognised by shape: aligned allocations (posix_memalign, aligned_alloc) that may "
                             f"be {', '.join(name(g) for g in aligned[:MAX_SHOWN])}: a block they return is not seen, "
                             "or seen as a larger block of the tracked allocator, and its free is counted as unmatched")
        return out
    alloc_c = inner_allocs or sorted(allocs, key=lambda f: (-len(callers.get(f, ())), f))
    free_c = paired_frees or sorted(frees, key=lambda f: (-len(callers.get(f, ())), f))
    out.candidates = [name(f) for f in alloc_c[:MAX_SHOWN]] + [name(f) for f in free_c[:MAX_SHOWN]]
    try:
        known = module.names.functions if module.names is not None else {}
    except Exception:  # noqa: BLE001
        known = {}

    def listed(fs: list[int]) -> str:
        return ", ".join(name(f) + (f" ({known[f]})" if isinstance(known.get(f), str) else "")
                         for f in fs[:MAX_SHOWN]) + (" …" if len(fs) > MAX_SHOWN else "")
    if alloc_c and free_c:  # a pair to suggest (malloc-like alone is only a hint: heap's error gives it)
        out.notes.append(f"no allocator is certain by its code; candidates: malloc-like (size) -> ptr reaching "
                         f"memory.grow: {listed(alloc_c)}; free-like (ptr) reading a header below ptr: "
                         f"{listed(free_c)}: try --allocator {name(alloc_c[0])},{name(free_c[0])}")
    return out


def _has_mul(ops) -> bool:
    return any(o in (0x6C, 0x7E) for _, o, _ in ops)


def _outer_thunk(f: int, callers: dict[int, set[int]], thunk_target) -> int:
    """The outermost forwarding thunk over ``f`` when there is exactly one (an exported or named ``malloc`` over
    ``dlmalloc``): the program calls that, so its calls are the sites."""
    for _ in range(4):
        thunks = [c for c in callers.get(f, ()) if thunk_target(c) == f]
        if len(thunks) != 1:
            break
        f = thunks[0]
    return f


def _namer(module):
    """func[N] (an exported function would have been found by its name)."""
    def name(f: int) -> str:
        return f"func[{f}]"
    return name
