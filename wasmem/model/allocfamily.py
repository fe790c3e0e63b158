"""An allocator family as a whole (issue 25): the members a module's allocator has beyond those found by name.

``model/allocators.py`` finds allocator functions by name (exports, the name section, DWARF, ``--allocator``)
and the thunks behind them. A build may keep some members of the family nameless: a stripped Emscripten build
exports ``malloc`` and ``free`` but not ``realloc``, which the module's own code calls. Blocks that such a
member moves are then freed through the tracked ``free`` without ever having been seen allocated: a tracker
that knew only ``malloc``/``free`` would report them as invalid frees.

The members are found through the call graph. An allocator's *internals* are the functions its known members
call (up to ``DEPTH`` calls deep) that few functions call (at most ``RARE`` callers: a private helper of the
allocator, not ``memcpy`` or ``abort``). A function outside the known members that calls an internal is a
member of the family too (the program calls the allocator's entry points, never its private helpers). Its
role comes from its type and from which internals it reaches:

- ``(ptr, size) -> ptr`` reaching internals that only the known free reaches (it frees) and internals of the
  allocation side: ``realloc``;
- ``(count, size) -> ptr`` that multiplies its two parameters and reaches no free-only internal: ``calloc``;
- ``(size) -> ptr`` reaching allocation internals and no free-only one: ``alloc``; ``(ptr) -> ()`` reaching
  free-only internals: ``free``;
- every other member with an allocator's type (``(ptr, size, flags) -> ptr``, a memalign or calloc that cannot
  be told apart, ``posix_memalign``), and a function that shares only one helper with the known members, when
  that helper is private (at most ``PRIVATE`` callers, all of them members or of an allocator's type: zig's
  libc ``realloc`` beside a ``free`` that calls nothing): ``opaque``. Its calls are logged (the tracker sees its arguments and
  result) but not interpreted: a block it returns or is passed gets no invalid-free or double-free finding
  later, only a count and the reason (``runtime/heap.py``). So do blocks freed through a ``realloc`` or
  ``free`` found here: the tracker reports a free's bad pointer only for members found by name.

A member whose type has no allocator shape (``malloc_usable_size``, ``mallinfo``) does not allocate or free
and is left alone. Bounded: the internals come from at most ``MAX_INTERNALS`` functions, their callers from a
byte search of the code section for ``call N`` (each hit checked by decoding that one body), at most
``MAX_CANDIDATES`` members are added.
"""

from __future__ import annotations

import bisect
from dataclasses import dataclass

from ..parser.encode import uleb
from .allocshape import body_ops

DEPTH = 1  # calls deep from a known member: its internals are the functions it calls itself
RARE = 8  # an internal has at most this many callers (more: a shared utility, memcpy, abort)
MAX_INTERNALS = 32
PRIVATE = 3  # a helper this few functions call, all of them the allocator's, is enough evidence alone
MAX_CANDIDATES = 16
MAX_BODY = 1 << 16  # bodies larger than this are not decoded (a member's body is small)
ALLOC_ROLES = ("alloc", "aligned_alloc", "calloc", "alloc_zeroed")
FOUND_BY = "call-graph"


@dataclass(frozen=True)
class Member:
    """A member of an allocator family found through the call graph."""

    index: int
    role: str  # realloc | calloc | alloc | free | opaque
    params: tuple[str, ...]
    result: str
    reason: str  # in words: why it is a member and why this role


class CallGraph:
    """Direct calls of a module's defined functions, decoded on demand (bounded: bodies up to MAX_BODY)."""

    def __init__(self, module):
        self.module = module
        self.nimp = module.num_imported_funcs
        self.bodies = module.functions
        self._starts = [b.start for b in self.bodies]
        self._callees: dict[int, tuple[frozenset[int], list] | None] = {}
        code = next((s for s in module.sections if s.id == 10), None)
        self.code = (code.start, code.end) if code is not None else (0, 0)
        self.padded = False  # whether the build pads its call immediates (see _lebs): set by _find
        data = module.data
        obj = getattr(data, "obj", None)
        # a byte search needs an object with find(): the file's mmap, else one copy of the code section
        if hasattr(data, "find"):
            self._hay, self._base = data, 0
        elif hasattr(obj, "find") and len(obj) == len(data):
            self._hay, self._base = obj, 0
        else:
            self._hay, self._base = bytes(data[self.code[0]:self.code[1]]), self.code[0]

    def ops(self, index: int) -> list | None:
        got = self._decoded(index)
        return got[1] if got is not None else None

    def callees(self, index: int) -> frozenset[int]:
        got = self._decoded(index)
        return got[0] if got is not None else frozenset()

    def _decoded(self, index: int):
        if index in self._callees:
            return self._callees[index]
        got = None
        if self.nimp <= index < self.nimp + len(self.bodies):
            decoded = body_ops(self.module, index, MAX_BODY)  # None: too large, or damaged (calls nothing seen)
            if decoded is not None:
                ops = decoded[1]
                got = (frozenset(imm for _, op, imm in ops if op in (0x10, 0x12)), ops)
        self._callees[index] = got
        return got

    def callers(self, target: int, limit: int) -> set[int] | None:
        """The defined functions that call ``target`` directly; None when more than ``limit`` do."""
        hay, base = self._hay, self._base
        lo, hi = self.code[0] - base, self.code[1] - base
        out: set[int] = set()
        short, padded = _lebs(target)
        needles = (b"\x10" + short, b"\x10" + padded, b"\x12" + short) if self.padded else (b"\x10" + short,
                                                                                         b"\x12" + short)
        for needle in dict.fromkeys(needles):
            p = hay.find(needle, lo, hi)
            while p != -1:
                k = bisect.bisect_right(self._starts, p + base) - 1
                if k >= 0:
                    f = k + self.nimp
                    if f not in out and target in self.callees(f):
                        out.add(f)
                        if len(out) > limit:
                            return None
                p = hay.find(needle, p + 1, hi)
        return out


def _lebs(n: int) -> tuple[bytes, bytes]:
    """``n`` as the shortest unsigned LEB128 and as one padded to 5 bytes (a build linked without relaxing its
    relocations, Emscripten's at -O0, keeps its call immediates padded)."""
    return uleb(n), bytes([(n >> (7 * i)) & 0x7F | 0x80 for i in range(4)]) + bytes([(n >> 28) & 0x7F])


def reach(graph: CallGraph, roots, depth: int, stop: set[int]) -> set[int]:
    """The functions ``roots`` call, up to ``depth`` calls deep (not through ``stop``), roots excluded."""
    seen: set[int] = set()
    frontier = set(roots)
    for _ in range(depth):
        nxt = set()
        for f in frontier:
            for g in graph.callees(f):
                if g not in seen and g not in stop and g not in roots:
                    seen.add(g)
                    nxt.add(g)
        frontier = nxt
        if len(seen) > 4 * MAX_INTERNALS:
            break
    return seen


def find_members(module, known: dict[int, str]) -> tuple[list[Member], list[str]]:
    """The members of the allocator family whose known members are ``known`` (function index → role: the
    module's own functions found by name, with ``alloc``-side and ``free`` roles among them), found through
    the call graph; and notes. Nothing when the family has no known allocation and free function."""
    try:
        return _find(module, known)
    except Exception as exc:  # noqa: BLE001 - discovery is a help: a damaged module keeps what names found
        return [], [f"the allocator family's unnamed members could not be looked for: {exc}"]


def _find(module, known: dict[int, str]) -> tuple[list[Member], list[str]]:
    nimp = module.num_imported_funcs
    own = {i: r for i, r in known.items() if i >= nimp}
    allocs = {i for i, r in own.items() if r in ALLOC_ROLES}
    frees = {i for i, r in own.items() if r == "free"}
    if not allocs or not frees:
        return [], []
    graph = CallGraph(module)
    graph.padded = any(_padded_call(module, graph, i) for i in own)
    members = set(own)
    alloc_side = reach(graph, allocs, DEPTH, members)
    free_side = reach(graph, frees, DEPTH, members)
    internals: dict[int, set[int]] = {}  # internal → its callers
    for g in sorted(alloc_side | free_side, key=lambda g: (g not in (alloc_side & free_side), g)):
        if len(internals) >= MAX_INTERNALS or g < nimp:
            continue
        callers = graph.callers(g, RARE)
        if callers is not None:
            internals[g] = callers
    inside = members | set(internals)
    free_only = {g for g in internals if g in free_side and g not in alloc_side}
    alloc_only = {g for g in internals if g in alloc_side and g not in free_side} | allocs
    outside = sorted({c for cs in internals.values() for c in cs} - inside)
    ptr = "i64" if module.is_memory64 else "i32"
    outside_typed = {c for c in outside if _allocator_typed(module, c, ptr)}
    found: list[Member] = []
    for c in outside:
        if len(found) >= MAX_CANDIDATES:
            break
        if c not in outside_typed:
            continue
        ft = module.get_function_type(c)
        reached = graph.callees(c) & set(internals)
        weak = len(reached) == 1
        if weak and not _private(internals[next(iter(reached))], own, outside_typed):
            continue  # one helper shared with others is no evidence (a logging or locking function)
        if not reached:
            continue
        frees_ = bool(reached & free_only)
        allocates = bool(reached & alloc_only)
        n, res = len(ft.params), ft.results
        via = ", ".join(f"func[{g}]" for g in sorted(reached)[:3]) + (" …" if len(reached) > 3 else "")
        why = f"it calls the allocator's own functions ({via})"
        member = None
        if weak:  # one private helper shared: a member, but what it does cannot be told from what it calls
            if n == 1:
                continue  # (ptr) -> size or (size) -> ptr: too little to tell malloc_usable_size from valloc
        elif n == 2 and res == (ptr,):
            if frees_ and allocates:
                member = Member(c, "realloc", ("ptr", "size"), "ptr", why + ", on both its allocation and free sides")
            elif allocates and not frees_ and _multiplies(graph, c):
                member = Member(c, "calloc", ("count", "size"), "ptr", why + " and multiplies its two parameters")
        elif n == 1 and res == (ptr,) and allocates and not frees_:
            member = Member(c, "alloc", ("size",), "ptr", why + ", on its allocation side only")
        elif n == 1 and res == () and frees_ and not allocates:
            member = Member(c, "free", ("ptr",), "", why + ", on its free side only")
        elif n == 1:
            continue  # (ptr) -> size: malloc_usable_size and the like neither allocate nor free
        if member is None and res != () and n <= 4:
            member = Member(c, "opaque", ("ptr",) + ("",) * (n - 1), "ptr" if res == (ptr,) else "status",
                            why + "; what it does with its arguments is not known")
        if member is not None:
            found.append(member)
    return found, []


def _allocator_typed(module, index: int, ptr: str) -> bool:
    """Whether function ``index`` has an allocator's type: pointer-typed parameters (at least one), no result,
    a pointer or a status."""
    try:
        ft = module.get_function_type(index)
    except Exception:  # noqa: BLE001
        return False
    return bool(ft.params) and all(t == ptr for t in ft.params) and ft.results in ((), (ptr,), ("i32",))


def _private(callers: set[int], own: dict[int, str], typed: set[int]) -> bool:
    """Whether a helper with these callers is the allocator's alone: at most PRIVATE callers, each a known member
    or a function with an allocator's type."""
    return len(callers) <= PRIVATE and all(c in own or c in typed for c in callers)


def _padded_call(module, graph: CallGraph, index: int) -> bool:
    """Whether a call in function ``index`` has a padded immediate (longer than its shortest LEB128)."""
    data = module.data
    for off, op, imm in graph.ops(index) or []:
        if op == 0x10 and bytes(data[off + 1:off + 6]) == _lebs(imm)[1] and len(uleb(imm)) < 5:
            return True
    return False


def _multiplies(graph: CallGraph, index: int) -> bool:
    """Whether the body multiplies its first two parameters (``local.get 0; local.get 1; i*.mul``, in either
    order, or with a ``local.get`` of each followed by a mul within three instructions)."""
    ops = graph.ops(index) or []
    for j in range(2, len(ops)):
        if ops[j][1] in (0x6C, 0x7E):
            a, b = ops[j - 2], ops[j - 1]
            if a[1] == 0x20 and b[1] == 0x20 and {a[2], b[2]} == {0, 1}:
                return True
    return False
