"""Heap tracking in a live session: the heap pass's log turned into live blocks and findings (issue 15).

``heap_spec`` (app/heap.py) picks the allocator functions (``model/allocators.py``: exports, name section,
DWARF, ``--allocator``) and gives ``Session(heap=spec)`` what it needs to rewrite the module with
``instrument/heap.py``'s pass. The session's HeapProbe (observers/) attaches a :class:`HeapTracker` right
after instantiating, before any initialisation export runs (so constructors' allocations count), and the
tracker:

- sets the hook table's entries to its drain (and memcheck's hit) and drains what the start function
  logged while the module was instantiated (tracking is on from the start);
- before each entry into the guest resets the pass's nesting depth (a trap inside an allocator
  leaves it raised) and the function-pointer pass's ``via``/``outer`` sites
  (``instrument/heap_pointers.py``); after each call drains the log and the table of pending
  allocations, and counts the pairs wasm settled;
- interprets each record by its function's convention: ``malloc``/``__new``/``__rust_alloc``…
  (size), ``calloc`` (count × size), ``realloc``/``__rust_realloc``/``__renew`` (old pointer → new block;
  NULL keeps the old one; Zig's remap likewise), Zig's resize (true: the block has its new size in place;
  its pointer is trusted only when it names a live block of the old size, see ``_resized``),
  ``posix_memalign`` (the pointer stored through its out parameter), frees (``__rust_dealloc``'s and Zig's
  size compared with the block's);
- keeps every live block (address → size, site, event number, host call) and, for each address freed and
  not reused since, where it was freed, so that a second free is a *double free* with both sites;
  a free of an address never allocated is an *invalid free* — unless wasmem cannot judge it (a block a family
  member it does not understand returned or was passed, a free found behind another function): then it is
  counted with the reason (``heapfamily.py``'s :class:`Unjudged`), not reported.

Bounded: at most MAX_LIVE live blocks and MAX_FREED remembered frees (the oldest frees are forgotten
first; past MAX_LIVE new blocks are counted, not kept; a note says so for each, with the option that lifts it:
``--budget heap-blocks=N`` / ``heap-frees=N``, read from the module's ``budgets``).
"""

from __future__ import annotations

import re
import struct
from collections import OrderedDict

from ..budgets import BUDGETS, lift, value_of
from ..instrument import heap as hp
from ..instrument.accesses import COPY, FILL, INIT, LANE, NOTIFY, STORE, V128
from ..instrument.heap import (
    AFTER,
    BEFORE,
    CANCEL_BASE,
    CANCEL_SLOTS,
    CAPACITY,
    HOST_SITE,
    PEND_BASE,
    PEND_ENTRY,
    PEND_SLOTS,
    RECORD,
    HeapPass,
)
from ..instrument.heap_pointers import NONE as _POINTER_NONE
from ..instrument.memcheck import IMPORT_ARG, IMPORT_IOVECS, UNINIT
from ..model.heap import MAX_FINDINGS, HeapBlock, HeapFinding, Site
from .heapfamily import PARTIAL_LOADS, Unjudged, partial_load_ok
from .hooks import install_hook
from .memory import set_global

MAX_LIVE = BUDGETS["heap-blocks"].default
MAX_FREED = BUDGETS["heap-frees"].default
MAX_PATH = 32
BLOCKS_FLOOR = 8192  # live blocks a report lists even past the command's deadline (``HeapTracker.blocks``)
MASK64 = (1 << 64) - 1
_NOT_LIVE = re.compile(b"[^\\x00\\x04]")  # --memcheck-uninit: a shadow byte outside every live block
_LIVE = bytes.maketrans(b"\x01\x02", b"\x00\x00")  # --memcheck-uninit: a live block's freed/unallocated bytes
_NOT_READS = frozenset({STORE, V128, LANE, NOTIFY, FILL, INIT, COPY})  # a never-written byte is no finding for them
_RECORD = struct.Struct("<II5Q")
_PEND_ENTRY = struct.Struct("<QQIIQ")  # a pending allocation: block, size, site, code (instrument/heap.py)  # code, site, arg0..arg3, result (instrument/heap.py's 48-byte record)


class HeapTracker:
    def __init__(self, session, hpass: HeapPass, functions, *, paths: bool = False, memcheck=None,
                 heap_base: int | None = None, heap_base_source: str | None = None, ignore=()):
        self.session = session
        self.hp = hpass
        self.functions = list(functions)  # AllocatorFunction, numbered as in the pass
        # found behind another function, through the call graph (model/allocfamily.py) or by their code
        # (model/allocshape.py), not by name
        self._inferred = {f.name: f.found_by for f in self.functions
                          if f.found_by in ("forwarded", "call-graph", "shape")}
        self.unjudged = Unjudged(value_of(session.module, "heap-frees"))  # counted, not reported (heapfamily.py)
        self.paths = paths
        self.live: dict[int, list] = {}  # address → [size, site, seq, call, path]
        self.blocks_cut = self.blocks_wanted = 0  # live blocks the last ``blocks(deadline)`` left out, of how many
        self._live_bytes = 0
        self.freed: OrderedDict[int, tuple[int, int]] = OrderedDict()  # addr → (site, call) of its free
        self.findings: list[HeapFinding] = []
        self.notes: list[str] = []
        self.events = self.allocations = self.frees = 0
        self.allocated_bytes = self.freed_bytes = 0
        self.call = 0  # host calls so far (0: initialisation exports)
        self.dropped = 0
        self.max_live = value_of(session.module, "heap-blocks")
        self.max_freed = value_of(session.module, "heap-frees")
        self._forgot_noted = False
        self.findings_dropped = 0
        self._resizes: dict[tuple[int, int], int] = {}  # (old, new) size → unverified resizes in place
        self._resize_noted = False
        self._fast = self._fast_paths()
        ex = session.exports
        self._log = ex[hpass.exports["log"]]
        self._count = ex[hpass.exports["count"]]
        self._depth = ex[hpass.exports["depth"]]
        self._cancelled = ex[hpass.exports["cancelled"]]
        self._cancelled_bytes = ex[hpass.exports["cancelled_bytes"]]
        self._seen_pairs = self._seen_bytes = 0  # what the host has counted of those two
        self._pending = ex[hpass.exports["pend_count"]]  # taken entries of the table of pending allocations
        self._lost = ex[hpass.exports["lost"]]
        self._func = install_hook(session, hpass.exports["table"], 0, (), self._hook)
        self.mc = memcheck  # the MemcheckPass, or None
        self.heap_base = self.heap_base_source = None  # where memcheck takes the heap to start, and who says so
        self.mc_hits: dict[int, HeapFinding] = {}  # access site → its finding
        self.mc_ignore = frozenset(ignore)  # --memcheck-ignore: function names whose accesses are not reported
        self.mc_uninit = bool(memcheck is not None and memcheck.uninit)  # --memcheck-uninit
        if memcheck is not None:
            self._shadow = ex[memcheck.exports["shadow"]]
            self._mc_func = install_hook(session, hpass.exports["table"], 1, ("i32",) + ("i64",) * 3, self._mc_hook)
            self._fresh = 0
            self._heap_base = None
            self._sync_shadow()
            size = session.memory_size(0)
            if heap_base is not None and 0 < heap_base <= size:  # at size: only the memory grown is heap
                self._heap_base = heap_base
                self.heap_base, self.heap_base_source = heap_base, heap_base_source
                if heap_base < size:
                    self._mark(heap_base, size - heap_base, 2)  # heap memory no block holds yet
                self._fresh = 2
                ex[memcheck.exports["fresh"]].set_value(session.store, 2)  # and the pages memory.grow adds
            elif heap_base is not None:
                self.notes.append(f"--memcheck: the heap base {heap_base:#x} ({heap_base_source}) is outside the "
                                  f"memory of {size} bytes: only accesses to freed blocks are checked")
            else:
                self._unknown_note = ("--memcheck: __heap_base is unknown: only accesses to freed blocks and to the "
                                      "memory the allocator grows are checked")
                self.notes.append(self._unknown_note)
            self._learned = ex[memcheck.exports["learned"]]
        self._pointer_globals = []  # instrument/heap_pointers.py's `via` and `outer`: reset before each call
        fp = getattr(hpass, "pointers", None)
        if fp is not None:
            self._pointer_globals = [(ex[fp.exports[k]], _POINTER_NONE - 2**32) for k in ("via", "outer")]
        if paths:  # every event as it happens (its call path is read then)
            ex[hpass.exports["limit"]].set_value(session.store, 1)
        self.drain()  # what the start function allocated and freed while the module was instantiated
        early = ex[memcheck.exports["early"]].value(session.store) if memcheck is not None else 0
        if early:
            self.notes.append(f"--memcheck: {early} access(es) by the start function hit freed or unallocated heap "
                              "memory; they ran before wasmem could report them, so where is not known")
        lost = self._lost.value(session.store)
        if lost:
            self.notes.append(f"the start function's allocator events past the first {CAPACITY} (the log's size) "
                              f"were not recorded: {lost} lost")

    def adopt(self, old: HeapTracker) -> bool:
        """Takes over ``old``'s blocks, frees and counts (the shell reopening an instance rewritten again, with
        the memory carried over): False, and nothing taken, when the two passes numbered their sites
        differently (the blocks' sites would be wrong)."""
        if not self.compatible(old):
            return False
        self.set_state(old.state())
        return True

    def compatible(self, other: HeapTracker) -> bool:
        """Whether ``other``'s state (its site numbers) means the same here: the same sites and allocators."""
        if other is self:
            return True
        key = [(s.func_index, s.offset, s.allocator) for s in self.hp.sites]
        return key == [(s.func_index, s.offset, s.allocator) for s in other.hp.sites] and \
            [f.name for f in self.functions] == [f.name for f in other.functions]

    _COUNTS = ("_live_bytes", "events", "allocations", "frees", "allocated_bytes", "freed_bytes", "call", "dropped",
               "_forgot_noted", "findings_dropped")

    def state(self) -> dict:
        """A copy of what the tracker knows (live and freed blocks, findings, counts): the shell's `snapshot`
        keeps it beside the memory so that `restore` puts both back together."""
        self.disarm()
        return {"live": {a: list(v) for a, v in self.live.items()}, "freed": OrderedDict(self.freed),
                "findings": list(self.findings), "notes": list(self.notes), "resizes": dict(self._resizes),
                "unjudged": self.unjudged.copy(), **{k: getattr(self, k) for k in self._COUNTS}}

    def set_state(self, state: dict) -> None:
        self.live = {a: list(v) for a, v in state["live"].items()}
        self.freed = OrderedDict(state["freed"])
        self.findings = list(state["findings"])
        self.notes = list(state["notes"])
        self._resizes = dict(state.get("resizes", {}))
        for k in self._COUNTS:
            setattr(self, k, state[k])
        if "unjudged" in state:
            self.unjudged = state["unjudged"].copy()

    # -- around each call ---------------------------------------------------------------------------
    def arm(self) -> None:
        self.call += 1
        if self.mc is not None:
            self._sync_shadow()
        store = self.session.store
        set_global(self._depth, store, 0)  # raised by a trap inside an allocator
        for g, v in self._pointer_globals:
            set_global(g, store, v)

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
        total = self._cancelled.value(store)
        if total != self._seen_pairs:  # allocations freed before anyone read them: counted, never live
            # the globals only grow (each tracker has its own instance): the host keeps what it has counted
            # rather than writing them back to 0 (a write through wasmtime-py costs about 10 µs, a read 2)
            total_bytes = self._cancelled_bytes.value(store) & MASK64
            pairs = total - self._seen_pairs
            nbytes = (total_bytes - self._seen_bytes) & MASK64
            self._seen_pairs, self._seen_bytes = total, total_bytes
            self.events += 2 * pairs
            self.allocations += pairs
            self.frees += pairs
            self.allocated_bytes += nbytes
            self.freed_bytes += nbytes
        n = self._count.value(store) & 0xFFFFFFFF
        pending = self._pending.value(store)
        if not n and not pending:
            return
        n = min(n, CAPACITY)
        raw = self._log.read(store, 0, n * RECORD) if n else b""
        if n:
            self._count.set_value(store, 0)
        if pending:  # the pending allocations (every other event about their blocks evicted them to the log)
            table = self._log.read(store, PEND_BASE, PEND_BASE + PEND_SLOTS * PEND_ENTRY)
            raw += b"".join(_RECORD.pack(code, site, size, 0, 0, 0, ptr)
                            for ptr, size, site, code, _pad in _PEND_ENTRY.iter_unpack(table) if ptr)
            self._log.write(store, bytes(PEND_SLOTS * PEND_ENTRY), PEND_BASE)
            self._pending.set_value(store, 0)
        fast = self._fast
        live, freed = self.live, self.freed
        call = self.call
        p = list(path[-MAX_PATH:]) if path else None
        for code, site, a0, a1, a2, a3, res in _RECORD.iter_unpack(raw):
            f = fast.get(code)
            if site == HOST_SITE:
                site = -1
            if f is not None and f[0] == 0:  # an allocation: (0, size arg, count arg or None)
                self.events += 1
                if not res:
                    continue
                args = (a0, a1, a2, a3)
                size = args[f[1]] if f[2] is None else args[f[1]] * args[f[2]]
                if res in live or len(live) < self.max_live:
                    self.allocations += 1
                    self.allocated_bytes += size
                    if freed:
                        freed.pop(res, None)
                    self.unjudged.handed_out(res)
                    old = live.get(res)
                    if old is not None:
                        self._live_bytes -= old[0]
                    live[res] = [size, site, self.allocations, call, p]
                    self._live_bytes += size
                    if self.mc is not None:
                        self._mark_live(res, size)
                    continue
                self._alloc(res, size, site, p)  # counted, and dropped: too many live blocks
                continue
            elif f is not None and f[0] == 1 and f[2] is None:  # a free without a size: (1, ptr arg, None)
                ptr = (a0, a1, a2, a3)[f[1]]
                b = live.pop(ptr, None) if ptr else None
                if b is not None:
                    self.events += 1
                    self.frees += 1
                    self.freed_bytes += b[0]
                    self._live_bytes -= b[0]
                    freed[ptr] = (site, call, b[0])
                    if len(freed) > self.max_freed:
                        self._forget_free()
                    if self.mc is not None:
                        self._mark(ptr, b[0], 1)
                    continue
                if not ptr:
                    self.events += 1
                    continue
            self._event(code >> 1, code & 1, site, [a0, a1, a2, a3], res, p)

    def _fast_paths(self) -> dict:
        """code → how the drain loop's fast path reads it: allocations (0, size index, count index or None)
        logged after the call; frees without a size (1, pointer index, None) logged before it."""
        out = {}
        for k, f in enumerate(self.functions):
            params = f.convention.logged  # the role of each logged slot
            if f.role in ("alloc", "aligned_alloc", "alloc_zeroed") and "size" in params:
                out[2 * k + AFTER] = (0, params.index("size"), None)
            elif f.role == "calloc" and "size" in params and "count" in params:
                out[2 * k + AFTER] = (0, params.index("count"), params.index("size"))
            elif f.role == "free" and "ptr" in params and "old_size" not in params:
                out[2 * k + BEFORE] = (1, params.index("ptr"), None)
            out[hp.PENDING + k] = (0, 0, None)  # a pending allocation: its size in the first argument field
        return out

    def _event(self, number: int, phase: int, site: int, args: list[int], res: int, path) -> None:
        if not 0 <= number < len(self.functions):
            return
        self.events += 1
        f = self.functions[number]
        conv = f.convention
        p = dict(zip(conv.logged, args, strict=False))
        role = f.role
        if phase == BEFORE:
            ptr = p.get("ptr", 0)
            if role == "free" and ptr:
                self._free(ptr, site, p.get("old_size") if "old_size" in conv.params else None, f.name)
            elif role == "realloc" and ptr:
                if ptr not in self.live:
                    self._bad_free(ptr, site, f.name)
            elif role == "gc_free" and p.get("obj"):
                # the collector frees what it manages: an object wasmem did not see allocated (a static one,
                # or one from before tracking) is not the program's error
                ptr = (p["obj"] + conv.offset) & MASK64
                if ptr in self.live:
                    self._free(ptr, site, None, f.name, report=False)
            return
        if phase != AFTER:
            return
        if role == "opaque":
            res = res if conv.result == "ptr" else 0
            self._live_bytes -= self.unjudged.opaque_call(f.name, args[:len(conv.slots)], res, self.live, self.freed)
            if res:  # handed out again: an earlier free of it settled in wasm makes a free of it no double free
                self._forget_cancelled(res)
            return
        if role == "resize":  # Zig's resize: true (1) when the block at ptr now has `size` bytes, in place
            self._resized(p.get("ptr", 0), p.get("old_size", 0), p.get("size", 0), res, site, path)
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
        if role == "renew":  # resized in place (the same pointer), or a new object: the old one stays
            ptr, size = p.get("ptr", 0), p.get("size", 0)
            if res and res == ptr and ptr in self.live:
                self._free(ptr, site, None, f.name, report=False)
            if res:
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

    def _resized(self, ptr: int, old: int, size: int, ok: int, site: int, path) -> None:
        """A successful in-place resize: the block at ``ptr`` of ``old`` bytes now has ``size``. The pointer is
        trusted only when a live block of ``old`` bytes starts there: an optimiser that sees the allocator's
        resize ignore its pointer (Zig's BrkAllocator.resize) passes any value for it. An unverified resize is
        remembered as (old, size), so that the free of its block with ``size`` is not a size mismatch."""
        if not ok:
            return
        b = self.live.get(ptr)
        if b is not None and b[0] == old:
            b[0] = size
            self._live_bytes += size - old
            self.allocated_bytes += max(0, size - old)
            self.freed_bytes += max(0, old - size)
            if self.mc is not None:
                self._mark(ptr, size, 0)
            return
        key = (old, size)
        self._resizes[key] = self._resizes.get(key, 0) + 1
        if len(self._resizes) > self.max_freed:
            self._resizes.pop(next(iter(self._resizes)))
        if not self._resize_noted:
            self._resize_noted = True
            self.notes.append("a resize in place was passed a pointer that is no live block of its size (the "
                              "optimiser passes any value for an argument the allocator ignores): that block "
                              "keeps its old size until it is freed")

    def _resized_away(self, old: int, size: int) -> bool:
        """Whether an unverified resize from ``old`` to ``size`` bytes explains a free's other size (used up)."""
        n = self._resizes.get((old, size))
        if not n:
            return False
        if n == 1:
            del self._resizes[(old, size)]
        else:
            self._resizes[(old, size)] = n - 1
        return True

    def _alloc(self, ptr: int, size: int, site: int, path) -> None:
        self.allocations += 1
        self.allocated_bytes += size
        self.freed.pop(ptr, None)
        self.unjudged.handed_out(ptr)
        if ptr not in self.live and len(self.live) >= self.max_live:
            self.dropped += 1
            if self.dropped == 1:
                self.notes.append(f"more than {self.max_live:,} live blocks: later ones are counted, not kept; "
                                  f"{lift('heap-blocks')}")
            return
        old = self.live.get(ptr)
        if old is not None:
            self._live_bytes -= old[0]
        self.live[ptr] = [size, site, self.allocations, self.call, list(path[-MAX_PATH:]) if path else None]
        self._live_bytes += size
        if self.mc is not None:
            self._mark_live(ptr, size)

    def _forget_free(self) -> None:
        """Forgets the oldest remembered free (past the heap-frees budget), saying so once."""
        self.freed.popitem(last=False)
        if not self._forgot_noted:
            self._forgot_noted = True
            self.notes.append(f"more than {self.max_freed:,} frees: the oldest are forgotten, so a second free of "
                              f"one of those is reported as an invalid free, not a double free; {lift('heap-frees')}")

    def _free(self, ptr: int, site: int, size: int | None, fname: str, report: bool = True) -> None:
        b = self.live.pop(ptr, None)
        if b is None:
            if report:
                self._bad_free(ptr, site, fname)
            return
        self.frees += 1
        self.freed_bytes += b[0]
        self._live_bytes -= b[0]
        if report and size is not None and size != b[0] and not self._resized_away(b[0], size):
            self._finding("size-mismatch", ptr, site, f"{fname}({ptr:#x}, {size}) frees a block of {b[0]} bytes")
        self.freed[ptr] = (site, self.call, b[0])
        if len(self.freed) > self.max_freed:
            self._forget_free()
        if self.mc is not None:
            self._mark(ptr, b[0], 1)

    # -- memcheck -----------------------------------------------------------------------------------------
    def _sync_shadow(self) -> None:
        """The shadow memory as large as memory 0 (the host may have grown memory 0 itself)."""
        store = self.session.store
        want = self.session.memory_size(0) // 65536
        have = self._shadow.size(store)
        if want > have:
            self._shadow.grow(store, want - have)
            if self._fresh:
                self._mark(have * 65536, (want - have) * 65536, self._fresh)

    def _mark(self, addr: int, n: int, value: int) -> None:
        store = self.session.store
        end = min(addr + n, self._shadow.data_len(store))
        if end > addr:
            self._shadow.write(store, bytes([value]) * (end - addr), addr)

    def _mark_live(self, ptr: int, n: int) -> None:
        """The shadow of a block the log says was allocated: live. With --memcheck-uninit only its freed or
        unallocated bytes become 0: the wrapper marked the block in wasm when it was allocated (never written:
        4), and the program may have written some of it since; the host never marks a byte never written."""
        if not self.mc_uninit:
            self._mark(ptr, n, 0)
            return
        store = self.session.store
        end = min(ptr + n, self._shadow.data_len(store))
        if end > ptr:
            old = self._shadow.read(store, ptr, end)
            new = old.translate(_LIVE)
            if new != old:
                self._shadow.write(store, new, ptr)

    def _mc_hook(self, access: int, addr: int, n: int, bad: int) -> None:
        try:
            if bad in (IMPORT_ARG, IMPORT_IOVECS):  # --memcheck-uninit: after a call of an imported function
                self._import_wrote(addr & MASK64, n & MASK64, bad == IMPORT_IOVECS)
                return
            self._mc_hit(access, addr & MASK64, n & MASK64, bad & MASK64)
        except Exception as exc:  # noqa: BLE001 - reporting must not change the program
            self.notes.append(f"a --memcheck hit could not be reported: {exc}")

    def _mc_hit(self, access: int, addr: int, n: int, bad: int) -> None:
        """The access ``access`` of ``n`` bytes at ``addr`` found a shadow byte that is not fine at or after
        ``bad`` (instrument/memcheck.py's hook)."""
        s = self.mc.sites[access]
        clear = self.mc_uninit and s.write and s.size is not None  # it writes its bytes: never-written no more
        f = self.mc_hits.get(access)
        if f is not None and not self.mc_uninit:  # (with --memcheck-uninit a known site's bytes are cleared below)
            f.count += 1
            return
        if f is None and (len(self.mc_hits) >= 1000 or (
                self.mc_ignore and self.session.function_name(s.func_index) in self.mc_ignore)):
            if clear:
                self._clear_uninit(addr, n)
            return
        if f is None:
            self.drain()  # a new finding: the blocks the log holds (not read yet) name its block
        # the first byte of the access the shadow does not call fine (a bulk range's scan found it; the inline
        # check of the other accesses read all their bytes at once: at most 16)
        top = self._shadow.data_len(self.session.store)
        end = min(addr + n, bad + 16, top)
        shadow = self._shadow.read(self.session.store, bad, end) if bad < end else b""
        k = next((k for k, b in enumerate(shadow) if b & 3), None)  # freed (1) or unallocated (2)
        if k is None and self.mc_uninit and s.kind not in _NOT_READS:
            k = next((k for k, b in enumerate(shadow) if b == UNINIT), None)
            # reported once: from now on the bytes count as written (as valgrind's memcheck does, so that a loop
            # that reads them again does not call the host each time, and a value read once is not reported at
            # every later use)
            clear = k is not None
        if clear:
            self._clear_uninit(addr, n)
        if k is None:  # nothing (left) to report: e.g. the log knew the block (drained above)
            return
        if f is not None:
            f.count += 1
            return
        if k > 0 and bad == addr and partial_load_ok(s.op, s.write, s.size, addr, n):
            # an aligned word read that starts in a block and runs past its end (word-at-a-time string code:
            # musl's strlen, memchr): it cannot fault, and the bytes past the end do not change the result
            self.unjudged.count(PARTIAL_LOADS, free=False)
            return
        value = shadow[k]
        what = f"{s.name}: {s.verb} {n} byte{'s' if n != 1 else ''} at {addr:#x}"
        if bad + k > addr:
            what += f" (from its byte {bad + k - addr}, at {bad + k:#x})"
            addr = bad + k
        if value == UNINIT:
            self._uninit_finding(access, s, addr, what)
            return
        freed_at = None
        if value == 1:
            kind = "use-after-free"
            blk = next(((p, v) for p, v in reversed(self.freed.items()) if p <= addr < p + (v[2] or 1)), None)
            if blk is None:  # a block allocated and freed between two reads of the log (settled in wasm)
                blk = self._cancelled_block(addr)
            if blk is not None:
                freed_at = blk[1][0]
                what += f", {addr - blk[0]} bytes into a freed block of {blk[1][2]} bytes at {blk[0]:#x}"
            else:
                what += " in a freed block"
        else:
            kind = "outside-block"
            near = max((p for p in self.live if p <= addr), default=None)
            if not self.unjudged.judged_access(addr, near):  # in a block an opaque member returned (size unknown)
                return
            if near is not None and addr < near + self.live[near][0] + 64:
                past = addr - near - self.live[near][0]
                what += (f", {'just' if past == 0 else f'{past} bytes'} past the end of the block of "
                         f"{self.live[near][0]} bytes at {near:#x}")
            else:
                what += ": heap memory no live block holds"
        site = Site(access, self.session.function_name(s.func_index), s.func_index, s.offset, None, None)
        f = HeapFinding(kind, addr, -1, self.call, what, freed_at, site)
        self.mc_hits[access] = f
        self.findings.append(f)

    def _uninit_finding(self, access: int, s, addr: int, what: str) -> None:
        near = max((p for p in self.live if p <= addr), default=None)
        site = -1
        if near is not None and addr < near + self.live[near][0]:
            what += f": never written, {addr - near} bytes into the block of {self.live[near][0]} bytes at {near:#x}"
            site = self.live[near][1]
        else:
            what += ": never written"
        where = Site(access, self.session.function_name(s.func_index), s.func_index, s.offset, None, None)
        f = HeapFinding("uninit-read", addr, site, self.call, what, None, where)
        self.mc_hits[access] = f
        self.findings.append(f)

    def _import_wrote(self, addr: int, n: int, iovecs: bool) -> None:
        """An imported function (a host function: WASI, the embedder's) returned: it may have written memory 0
        where its arguments point. An argument (``addr``) that points into the heap makes the never-written
        bytes from there written, up to the first byte outside every live block (at most 1 MiB; with
        ``__heap_base`` unknown, where nothing marks the bytes outside the blocks, only when it points at a
        never-written byte, and at most 64 KiB); an iovec array (``n`` entries at ``addr``), every buffer it
        names. Conservative: a byte the host did not write may be counted as written (a missed report), never
        the other way round."""
        store = self.session.store
        top = self._shadow.data_len(store)
        if iovecs:
            n = min(n, 1024)
            if addr + 8 * n > min(top, self.session.memory_size(0)):
                return
            raw = self.session.read(addr, 8 * n)
            for buf, length in struct.iter_unpack("<II", raw):
                self._clear_uninit(buf, length)
            return
        if self._heap_base is None:
            if addr >= top or self._shadow.read(store, addr, addr + 1) != bytes([UNINIT]):
                return
            limit = 1 << 16
        elif addr < self._heap_base:  # the stack or static data: no block there
            return
        else:
            limit = 1 << 20
        p = addr
        while p < top and p - addr < limit:  # the block's bytes from p: 0 (written) or 4 (never written)
            chunk = self._shadow.read(store, p, min(p + 65536, top, addr + limit))
            m = _NOT_LIVE.search(chunk)
            end = m.start() if m else len(chunk)
            if UNINIT in chunk[:end]:
                self._shadow.write(store, chunk[:end].replace(bytes([UNINIT]), b"\x00"), p)
            if m:
                return
            p += end

    def host_wrote(self, addr: int, n: int) -> None:
        """The host wrote [addr, addr + n) of memory 0 (an ``s:`` argument's bytes, ``--write``): with
        --memcheck-uninit, those bytes are written."""
        if self.mc_uninit:
            self._clear_uninit(addr, n)

    def _clear_uninit(self, addr: int, n: int) -> None:
        """The never-written (4) shadow bytes of [addr, addr + n) set to 0: an access wrote them."""
        store = self.session.store
        end = min(addr + n, self._shadow.data_len(store))
        if end > addr:
            old = self._shadow.read(store, addr, end)
            new = old.replace(bytes([UNINIT]), b"\x00")
            if new != old:
                self._shadow.write(store, new, addr)

    def _cancelled_block(self, addr: int):
        """(pointer, (site, None, size)) of a block that wasm allocated and freed without the host reading
        either (a cancelled pair) and that holds ``addr``, from the table of cancelled frees; or None."""
        raw = self._log.read(self.session.store, CANCEL_BASE, CANCEL_BASE + 16 * CANCEL_SLOTS)
        for k in range(CANCEL_SLOTS):
            e = raw[16 * k:16 * k + 16]
            ptr = int.from_bytes(e[:8], "little")
            size = int.from_bytes(e[12:16], "little")
            if size and ptr <= addr < ptr + size:
                site = int.from_bytes(e[8:12], "little")
                return ptr, (-1 if site == HOST_SITE else site, None, size)
        return None

    def _forget_cancelled(self, ptr: int) -> None:
        """Clears ``ptr``'s entry in the table of cancelled frees, if it has one."""
        at = CANCEL_BASE + 16 * ((ptr >> 4) & (CANCEL_SLOTS - 1))  # as instrument/heap.py's _settle
        if int.from_bytes(self._log.read(self.session.store, at, at + 8), "little") == ptr:
            self._log.write(self.session.store, bytes(16), at)

    def _cancelled_free(self, ptr: int) -> int | None:
        """The site of the last free of ``ptr`` that wasm cancelled with its allocation, if the table has it."""
        slot = (ptr >> 4) & (CANCEL_SLOTS - 1)  # as instrument/heap.py's _settle
        raw = self._log.read(self.session.store, CANCEL_BASE + 16 * slot, CANCEL_BASE + 16 * slot + 12)
        if int.from_bytes(raw[:8], "little") != ptr:
            return None
        site = int.from_bytes(raw[8:12], "little")
        return -1 if site == HOST_SITE else site

    def _bad_free(self, ptr: int, site: int, fname: str) -> None:
        first = self.freed.get(ptr)
        if first is None:
            c = self._cancelled_free(ptr)
            first = (c, None) if c is not None else None
        if first is None and not self.unjudged.judged_free(ptr):  # a block an opaque member returned or was passed
            return
        if first is not None:
            self._finding("double-free", ptr, site, f"{fname}({ptr:#x}): the block was already freed",
                          freed_at=first[0])
        elif fname in self._inferred:
            # a free wasmem found behind another function or through the call graph (a stripped build's
            # allocator): code it cannot see may allocate without the functions it tracks (an inlined shim), so an
            # unknown block is no error
            how = {"forwarded": "behind another function", "shape": "by its code, not by name"}.get(
                self._inferred[fname], "through the call graph, not by name")
            self.unjudged.count(f"frees through {fname} of blocks wasmem did not see allocated ({fname} was "
                                f"found {how}: the module may allocate through paths wasmem cannot see)")
        elif self.dropped:
            # past the heap-blocks budget the blocks allocated later were not kept: this may be one of them
            self.unjudged.count(f"frees through {fname} of blocks wasmem did not keep (past the live-block "
                                f"budget); {lift('heap-blocks')}")
        else:
            self._finding("invalid-free", ptr, site, f"{fname}({ptr:#x}): no live block starts there")

    def _finding(self, kind, ptr, site, message, freed_at=None) -> None:
        if len(self.findings) < MAX_FINDINGS:
            self.findings.append(HeapFinding(kind, ptr, site, self.call, message, freed_at))
        else:
            self.findings_dropped += 1
            if self.findings_dropped == 1:
                self.notes.append(f"more than {MAX_FINDINGS:,} findings: later ones are counted, not kept (the first "
                                  "show where to look; the exit status is already 1)")

    def _call_path(self) -> list[str] | None:
        got = self.session.call_path(MAX_PATH)
        return None if got is None else got[0]

    def memcheck_base(self) -> tuple[int | None, str | None]:
        """(heap base, source) memcheck used: the one it was given, else, once the allocator has grown memory 0
        (``instrument/memcheck.py``'s ``learned``), where it first did (``allocator-grow``: the memory from there
        was checked as heap)."""
        if self.mc is not None and self.heap_base is None:
            learned = self._learned.value(self.session.store) & 0xFFFFFFFF
            if learned:
                self.heap_base, self.heap_base_source = learned, "allocator-grow"
                note = getattr(self, "_unknown_note", None)
                if note in self.notes:
                    self.notes.remove(note)
                self.notes.append(f"--memcheck: __heap_base is unknown; the heap's start was learned at run time, "
                                  f"where the allocator first grew memory 0 ({learned:#x}): the memory from there is "
                                  "checked as heap, the memory below it only for freed blocks")
        return self.heap_base, self.heap_base_source

    # -- views ----------------------------------------------------------------------------------------
    @property
    def live_bytes(self) -> int:
        return self._live_bytes

    def blocks(self, deadline=None, min_call: int | None = None) -> list[HeapBlock]:
        """The live blocks as model objects, by address (``min_call``: only those allocated in that host call
        or later). Past ``deadline`` (wasmem.deadline.Deadline: the command's) the list stops, after at least
        BLOCKS_FLOOR blocks (so that a partial report shows some); ``blocks_cut`` is then how many were left
        out (those at the highest addresses) of ``blocks_wanted``, else 0."""
        self.blocks_cut = 0
        live = self.live
        if min_call is not None:
            live = {a: v for a, v in live.items() if v[3] >= min_call}
        self.blocks_wanted = len(live)
        if deadline is None or not deadline.limited:
            return [HeapBlock(a, v[0], v[1], v[2], v[3], v[4]) for a, v in sorted(live.items())]
        out = []
        for k, a in enumerate(sorted(live)):
            if k >= BLOCKS_FLOOR and not k & 4095 and deadline.expired():
                self.blocks_cut = len(live) - k
                break
            v = live[a]
            out.append(HeapBlock(a, v[0], v[1], v[2], v[3], v[4]))
        return out

    def sites(self, symbols=None, ids=None) -> dict[int, Site]:
        """Site objects for ``ids`` (default: every site a live block or finding names)."""
        if ids is None:
            ids = {v[1] for v in self.live.values()} | {f.site for f in self.findings} | \
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
            name = self.functions[s.allocator].name if s.allocator >= 0 else getattr(s, "via", "")
            out[i] = Site(i, self.session.function_name(s.func_index), s.func_index, s.offset, loc, name)
        return out

    def locate_accesses(self, symbols) -> None:
        """file:line of the memcheck findings' accesses (DWARF)."""
        if symbols is None or not getattr(symbols, "has_dwarf", False):
            return
        for f in self.findings:
            a = f.access
            if a is not None and a.location is None and a.offset is not None:
                try:
                    a.location = symbols.location_of(a.offset - symbols.code_start)
                except Exception:  # noqa: BLE001
                    pass

    def allocator_dicts(self) -> list[dict]:
        fp = getattr(self.hp, "pointers", None)
        table = fp.redirected if fp is not None else {}
        return [{"index": f.index, "name": f.name, "found_by": f.found_by, "family": f.family, "role": f.role,
                 "table_entries_redirected": table.get(f.index, 0),
                 "exports_redirected": self.hp.exported.get(k, [])} for k, f in enumerate(self.functions)]


# -- the two commands as library calls ----------------------------------------------------------------
