"""Heap tracking in a live session: the heap pass's log turned into live blocks and findings (issue 15).

``heap_spec`` picks the allocator functions (``model/allocators.py``: exports, name section, DWARF,
``--allocator``) and gives ``Session(heap=spec)`` what it needs to rewrite the module with
``instrument/heap.py``'s pass. The session attaches a :class:`HeapTracker` right after instantiating,
before any initialisation export runs (so constructors' allocations count), and the tracker:

- sets the one-entry hook table to its flush function and turns the log on;
- before each call (``Session._invoke``) resets the pass's nesting depth (a trap inside an allocator
  leaves it raised) and the call-path depth; after each call drains the log;
- interprets each record by its function's convention: ``malloc``/``__new``/``__rust_alloc``…
  (size), ``calloc`` (count × size), ``realloc``/``__rust_realloc``/``__renew`` (old pointer → new block;
  NULL keeps the old one), ``posix_memalign`` (the pointer stored through its out parameter), frees
  (``__rust_dealloc``'s size compared with the block's);
- keeps every live block (address → size, site, event number, host call) and, for each address freed and
  not reused since, where it was freed, so that a second free is a *double free* with both sites;
  a free of an address never allocated is an *invalid free*.

Bounded: at most MAX_LIVE live blocks and MAX_FREED remembered frees (the oldest frees are forgotten
first; past MAX_LIVE new blocks are counted, not kept, and a note says so).
"""

from __future__ import annotations

from collections import OrderedDict

from ..errors import UsageError
from ..instrument.heap import AFTER, BEFORE, CAPACITY, HOST_SITE, RECORD, HeapPass
from ..model.heap import Block, Finding, Site

MAX_LIVE = 1_000_000
MAX_FREED = 100_000
MAX_PATH = 32
MASK64 = (1 << 64) - 1


def heap_spec(module, allocator: str | None = None, symbols=None, *, paths: bool = False) -> dict:
    """The ``heap=`` option of Session for ``module``: the allocator functions found (raises UsageError when
    there is no allocation function or no free to pair it with)."""
    from ..model.allocators import find_allocators

    dwarf_names = None
    if symbols is not None and getattr(symbols, "has_dwarf", False):
        try:
            dwarf_names = _dwarf_names(module, symbols)
        except Exception:  # noqa: BLE001 - DWARF names are a fallback only
            dwarf_names = None
    found = find_allocators(module, dwarf_names=dwarf_names, user_names=allocator)
    if allocator and any(n.startswith("--allocator") for n in found.notes):
        raise UsageError(next(n for n in found.notes if n.startswith("--allocator")))
    if not found.functions:
        raise UsageError("no allocator found (malloc/free, __rust_alloc, __new …, by export, name section or "
                         "DWARF): name it with --allocator ALLOC[,FREE]")
    if not found.complete:
        raise UsageError(found.notes[-1] if found.notes else "no allocation and free function pair found")
    return {"functions": list(found.functions), "notes": list(found.notes), "paths": paths}


def _dwarf_names(module, symbols) -> dict[int, str]:
    out: dict[int, str] = {}
    for f in symbols.functions:
        idx = getattr(f, "func_index", None)
        if idx is not None and f.name:
            out[idx] = f.name
    return out


class HeapTracker:
    def __init__(self, session, hpass: HeapPass, functions, *, paths: bool = False):
        import wasmtime

        self.session = session
        self.hp = hpass
        self.functions = list(functions)  # AllocatorFunction, numbered as in the pass
        self.paths = paths
        self.live: dict[int, Block] = {}
        self.freed: OrderedDict[int, tuple[int, int]] = OrderedDict()  # addr → (site, call) of its free
        self.findings: list[Finding] = []
        self.notes: list[str] = []
        self.events = self.allocations = self.frees = 0
        self.allocated_bytes = self.freed_bytes = 0
        self.call = 0  # host calls so far (0: initialisation exports)
        self.dropped = 0
        self.last_returned: int | None = None
        self._pending_realloc: dict[int, int] = {}
        ex = session.exports
        self._log = ex[hpass.exports["log"]]
        self._count = ex[hpass.exports["count"]]
        self._depth = ex[hpass.exports["depth"]]
        self._func = wasmtime.Func(session.store, wasmtime.FuncType([], []), self._hook)
        ex[hpass.exports["table"]].set(session.store, 0, self._func)
        if paths:
            ex[hpass.exports["limit"]].set_value(session.store, 1)
        ex[hpass.exports["on"]].set_value(session.store, 1)

    # -- around each call ---------------------------------------------------------------------------
    def arm(self) -> None:
        self.call += 1
        self._depth.set_value(self.session.store, 0)
        cp = getattr(self.session, "callpath_pass", None)
        if cp is not None and self.paths:
            self.session.exports[cp.exports["depth"]].set_value(self.session.store, 0)

    def disarm(self) -> None:
        try:
            self.drain()
        except Exception as exc:  # noqa: BLE001 - reporting must not change the program's outcome
            self.notes.append(f"the allocation log could not be read: {exc}")

    def _hook(self) -> None:
        try:
            self.drain(path=self._call_path() if self.paths else None)
        except Exception as exc:  # noqa: BLE001
            self.notes.append(f"the allocation log could not be read: {exc}")
            self._count.set_value(self.session.store, 0)

    # -- the log ------------------------------------------------------------------------------------
    def drain(self, path=None) -> None:
        store = self.session.store
        n = self._count.value(store) & 0xFFFFFFFF
        if not n:
            return
        n = min(n, CAPACITY)
        raw = self._log.read(store, 0, n * RECORD)
        self._count.set_value(store, 0)
        for k in range(n):
            r = raw[k * RECORD:(k + 1) * RECORD]
            code = int.from_bytes(r[0:4], "little")
            site = int.from_bytes(r[4:8], "little")
            args = [int.from_bytes(r[8 + 8 * j:16 + 8 * j], "little") for j in range(4)]
            res = int.from_bytes(r[40:48], "little")
            self._event(code >> 1, code & 1, -1 if site == HOST_SITE else site, args, res, path)

    def _event(self, number: int, phase: int, site: int, args: list[int], res: int, path) -> None:
        if not 0 <= number < len(self.functions):
            return
        self.events += 1
        f = self.functions[number]
        conv = f.convention
        p = dict(zip(conv.params, args, strict=False))
        role = f.role
        if phase == BEFORE:
            ptr = p.get("ptr", 0)
            if role == "free" and ptr:
                self._free(ptr, site, p.get("old_size") if "old_size" in conv.params else None, f.name)
            elif role == "realloc" and ptr:
                if ptr not in self.live:
                    self._bad_free(ptr, site, f.name)
            return
        if phase != AFTER:
            return
        if role == "realloc":
            ptr, size = p.get("ptr", 0), p.get("size", 0)
            if res == 0:
                if size == 0 and ptr and f.family == "c":
                    self._free(ptr, site, None, f.name, report=False)
                return
            old = self.live.get(ptr) if ptr else None
            if ptr and old is not None:
                self._free(ptr, site, p.get("old_size") if "old_size" in conv.params else None, f.name,
                           report=False)
            self._alloc(res, size, site, path)
            return
        if role == "memalign_out":
            if res != 0:
                return
            ptr = args[3]
            size = p.get("size", 0)
        else:
            ptr = res
            size = p.get("size", 0)
            if role == "calloc":
                size = p.get("count", 0) * p.get("size", 0)
        if ptr:
            self._alloc(ptr, size, site, path)

    def _alloc(self, ptr: int, size: int, site: int, path) -> None:
        self.allocations += 1
        self.allocated_bytes += size
        self.freed.pop(ptr, None)
        if ptr not in self.live and len(self.live) >= MAX_LIVE:
            self.dropped += 1
            if self.dropped == 1:
                self.notes.append(f"more than {MAX_LIVE} live blocks: later ones are counted, not kept")
            return
        self.live[ptr] = Block(ptr, size, site, self.allocations, self.call,
                               list(path[-MAX_PATH:]) if path else None)

    def _free(self, ptr: int, site: int, size: int | None, fname: str, report: bool = True) -> None:
        b = self.live.pop(ptr, None)
        if b is None:
            if report:
                self._bad_free(ptr, site, fname)
            return
        self.frees += 1
        self.freed_bytes += b.size
        if report and size is not None and size != b.size:
            self._finding("size-mismatch", ptr, site, f"{fname}({ptr:#x}, {size}) frees a block of {b.size} bytes")
        self.freed[ptr] = (site, self.call)
        if len(self.freed) > MAX_FREED:
            self.freed.popitem(last=False)

    def _bad_free(self, ptr: int, site: int, fname: str) -> None:
        first = self.freed.get(ptr)
        if first is not None:
            self._finding("double-free", ptr, site, f"{fname}({ptr:#x}): the block was already freed",
                          freed_at=first[0])
        else:
            self._finding("invalid-free", ptr, site, f"{fname}({ptr:#x}): no live block starts there")

    def _finding(self, kind, ptr, site, message, freed_at=None) -> None:
        if len(self.findings) < 1000:
            self.findings.append(Finding(kind, ptr, site, self.call, message, freed_at))

    def _call_path(self) -> list[str] | None:
        from ..instrument.callpath import RING

        cp = getattr(self.session, "callpath_pass", None)
        if cp is None:
            return None
        ex, store = self.session.exports, self.session.store
        depth = ex[cp.exports["depth"]].value(store) & 0xFFFFFFFF
        n = min(depth, RING, MAX_PATH)
        raw = ex[cp.exports["memory"]].read(store, 0, RING * 4)
        idx = [int.from_bytes(raw[4 * (k % RING):4 * (k % RING) + 4], "little") for k in range(depth - n, depth)]
        return [self.session.function_name(i) for i in idx]

    # -- views ----------------------------------------------------------------------------------------
    @property
    def live_bytes(self) -> int:
        return sum(b.size for b in self.live.values())

    def sites(self, symbols=None, ids=None) -> dict[int, Site]:
        """Site objects for ``ids`` (default: every site a live block or finding names)."""
        if ids is None:
            ids = {b.site for b in self.live.values()} | {f.site for f in self.findings} | \
                  {f.freed_at for f in self.findings if f.freed_at is not None}
        out: dict[int, Site] = {}
        hp = self.hp
        for i in ids:
            if i < 0:
                names = [f.name for f in self.functions]
                out[i] = Site(-1, allocator="/".join(names[:3]))
                continue
            if i >= len(hp.sites):
                continue
            s = hp.sites[i]
            loc = None
            if symbols is not None and getattr(symbols, "has_dwarf", False):
                try:
                    loc = symbols.location_of(s.offset - symbols.code_start)
                except Exception:  # noqa: BLE001
                    loc = None
            out[i] = Site(i, self.session.function_name(s.func_index), s.func_index, s.offset, loc,
                          self.functions[s.allocator].name)
        return out

    def allocator_dicts(self) -> list[dict]:
        return [{"index": f.index, "name": f.name, "found_by": f.found_by, "family": f.family, "role": f.role,
                 "exports_redirected": self.hp.exported.get(k, [])} for k, f in enumerate(self.functions)]
