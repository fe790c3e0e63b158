"""A coredump as the state of a crashed instance: its memories (sparse, over the dump's data segments),
its globals, its threads' frames; and the check that a given module is the one the dump was taken of.

Nothing here reads a memory whole. The coredump format does not order data segments nor forbid
overlaps (tool-conventions Coredump.md: "one active data segment or multiple active data segments"),
so the first read of a dump's memory walks every segment header once (``parser.coredump.DataScanner``,
the bytes between them untouched) and builds, for each memory, a :class:`SegmentIndex`: the
non-overlapping runs (address, end, file offset) the segments leave once applied in file order as
instantiation applies them (a later segment wins where they overlap), sorted by address. Reads bisect
it and copy only the bytes they ask for out of the memory-mapped dump. The index costs 24 bytes per
segment (wasmtime writes one per non-zero 4 KiB chunk: under 1% of the memory's size), whatever the
memory's size; building it is one pass when the segments come sorted and apart (wasmtime and wasmem
write them so), else one sort and one sweep (n log n, about 100 more bytes per segment while it runs).
"""

from __future__ import annotations

import bisect
import heapq
import os
from array import array
from dataclasses import dataclass, field

from ..errors import ParseError, UsageError, naming_file
from ..parser.coredump import CoreFrame, CoreInstance, CoreSections, DataScanner, read_core_sections
from ..parser.module import WasmModule
from ..parser.reader import DROP_BYTES, drop_pages
from .values import check_range

PAGE = 65536
# `dump --core X --save FILE` refuses a memory larger than this (--max-save raises it): the image is written
# sparse, but a --snapshot of it reads it whole; the default is --max-memory's, what a live instance may hold
DEFAULT_MAX_SAVE = 256 * 2**20
_NUMERIC = ("i32", "i64", "f32", "f64", "v128")


def _fmt_size(n: int) -> str:
    for unit, shift in (("EiB", 60), ("PiB", 50), ("TiB", 40), ("GiB", 30), ("MiB", 20), ("KiB", 10)):
        if n >= 1 << shift:
            v = n / (1 << shift)
            return f"{v:.0f} {unit}" if v == int(v) else f"{v:.1f} {unit}"
    return f"{n} byte{'' if n == 1 else 's'}"


class SegmentIndex:
    """The contents of one memory of a dump as sorted, non-overlapping runs: the ``lengths[i]`` bytes at
    ``starts[i]`` are those at file offset ``offsets[i]``; every address outside the runs is zero. Segments
    are given in file order (``add``), a later one winning where segments overlap; ``finish`` resolves them.
    While they come in ascending address order and apart (every real writer's order) each is a run as it
    comes; from the first that does not, they are kept as given and ``finish`` sorts and sweeps them."""

    __slots__ = ("starts", "lengths", "offsets", "_raw")

    def __init__(self):
        # lengths, not ends: a memory64 memory's last run may end at 2**64, one past what an array holds
        self.starts, self.lengths, self.offsets = array("Q"), array("Q"), array("Q")
        self._raw: tuple[array, array, array] | None = None

    def add(self, addr: int, size: int, off: int) -> None:
        """The next segment in file order: ``size`` bytes for ``addr`` at file offset ``off``."""
        if self._raw is None:
            if not self.starts or self.starts[-1] + self.lengths[-1] <= addr:
                self._emit(addr, size, off)
                return
            # below or over an earlier segment: the runs so far are the segments so far, kept as given
            self._raw = (self.starts, self.lengths, self.offsets)
            self.starts, self.lengths, self.offsets = array("Q"), array("Q"), array("Q")
        a, n, o = self._raw
        a.append(addr)
        n.append(size)
        o.append(off)

    def finish(self) -> SegmentIndex:
        if self._raw is not None:
            raw, self._raw = self._raw, None
            self._sweep(*raw)
        return self

    def _emit(self, lo: int, n: int, off: int) -> None:
        if self.starts and self.starts[-1] + self.lengths[-1] == lo and self.offsets[-1] + self.lengths[-1] == off:
            self.lengths[-1] += n  # contiguous in memory and in the file: one run
            return
        self.starts.append(lo)
        self.lengths.append(n)
        self.offsets.append(off)

    def _sweep(self, addrs: array, sizes: array, data: array) -> None:
        """Segments in address order; at each point the latest in file order among those that cover it
        wins (a heap on the file position, stale tops dropped as the sweep passes their end)."""
        order = sorted(range(len(addrs)), key=addrs.__getitem__)
        n = len(order)
        heap: list[tuple[int, int]] = []  # (-file position, end)
        k = 0
        pos = 0
        while k < n or heap:
            if not heap:
                pos = addrs[order[k]]
            while k < n and addrs[order[k]] <= pos:
                i = order[k]
                heapq.heappush(heap, (-i, addrs[i] + sizes[i]))
                k += 1
            while heap and heap[0][1] <= pos:
                heapq.heappop(heap)
            if not heap:
                continue
            top, end = -heap[0][0], heap[0][1]
            stop = min(end, addrs[order[k]]) if k < n else end
            self._emit(pos, stop - pos, data[top] + pos - addrs[top])
            pos = stop

    def __len__(self) -> int:
        return len(self.starts)

    def first(self, addr: int) -> int:
        """The index of the first run that ends past ``addr``."""
        i = bisect.bisect_right(self.starts, addr) - 1
        if i < 0:
            return 0
        return i if self.starts[i] + self.lengths[i] > addr else i + 1

    @property
    def data_bytes(self) -> int:
        """How many bytes of the memory the runs hold (the rest is zeros)."""
        return sum(self.lengths)


class _Segments:
    """The data segments of one dump, read once (the first time any of its memories is read) and dealt out
    to their memories as one :class:`SegmentIndex` each. A damaged segment (a memory the dump does not
    declare, bytes outside its memory) is a ParseError at every read, never a partial index."""

    def __init__(self, dump: WasmModule):
        self.dump = dump
        self.memories: list[CoreMemory] = []
        self.counts: list[int] = []

    def load(self) -> None:
        with naming_file(self.dump.path):
            self._load()

    def _load(self) -> None:
        mems = self.memories
        index = [SegmentIndex() for _ in mems]
        counts = [0] * len(mems)
        scanner = DataScanner(self.dump)
        while (got := scanner.next()) is not None:
            mem, addr, start, size = got
            if not 0 <= mem < len(mems):
                raise ParseError(f"a coredump data segment writes memory {mem}, which the dump does not declare",
                                 start)
            m = mems[mem]
            if addr + size > m.size:
                raise ParseError(f"a coredump data segment [{addr:#x}, {addr + size:#x}) lies outside memory "
                                 f"{m.index} ({m.size} bytes)", start)
            counts[mem] += 1
            if size:
                index[mem].add(addr, size, start)
        for i, m in enumerate(mems):
            m.set_index(index[i].finish(), counts[i])


class CoreMemory:
    """One memory of a coredump: ``size`` bytes (its page count times its page size), zero except where a
    data segment says otherwise (later segments win where they overlap, as instantiation would write them;
    the segments may come in any order)."""

    def __init__(self, dump: WasmModule, index: int, pages: int, max_pages: int | None, is64: bool,
                 shared: bool, segments: _Segments, name: str = "coredump", page_size: int = PAGE,
                 offset: int | None = None):
        self.dump = dump
        self.index = index
        self.pages = pages
        self.max_pages = max_pages
        self.is64 = is64
        self.shared = shared
        self.page_size = page_size
        self.size = pages * page_size
        self.name = name
        self.offset = offset  # of its memory type in the dump file
        self._source = segments
        self._runs: SegmentIndex | None = None
        self._count = 0

    def set_index(self, index: SegmentIndex, count: int) -> None:
        """Called once by the dump's segment reader with this memory's runs and its number of segments."""
        self._runs, self._count = index, count

    @property
    def index_runs(self) -> SegmentIndex:
        """The memory's runs (the dump's segments read once, on first use)."""
        if self._runs is None:
            self._source.load()
        return self._runs

    @property
    def num_segments(self) -> int:
        """The data segments the dump holds for this memory (empty ones included)."""
        if self._runs is None:
            self._source.load()
        return self._count

    @property
    def data_bytes(self) -> int:
        """How many bytes of the memory the dump gives (after overlaps are resolved); the rest is zeros."""
        return self.index_runs.data_bytes

    def read(self, addr: int, n: int) -> bytes:
        check_range(addr, n, self.size, f"memory {self.index} of the {self.name}")
        idx = self.index_runs
        end = addr + n
        i = idx.first(addr)
        starts, lengths, offsets = idx.starts, idx.lengths, idx.offsets
        data = self.dump.data
        if i < len(starts) and starts[i] <= addr and starts[i] + lengths[i] >= end:
            s = offsets[i] + addr - starts[i]  # the common case: one run holds it all
            return bytes(data[s: s + n])
        out = bytearray(n)
        while i < len(starts) and starts[i] < end:
            a = starts[i]
            lo, hi = max(a, addr), min(a + lengths[i], end)
            out[lo - addr: hi - addr] = data[offsets[i] + lo - a: offsets[i] + hi - a]
            i += 1
        return bytes(out)

    def iter_runs(self, block: int = 1 << 20):
        """(address, bytes) of everything the dump gives for this memory, in address order, at most ``block``
        bytes at a time; every other byte is zero (a sparse image writes only these)."""
        idx = self.index_runs
        data = self.dump.data
        lo, hi = None, 0  # the file bytes copied since their pages were last given back
        for a, n, off in zip(idx.starts, idx.lengths, idx.offsets, strict=True):
            for k in range(0, n, block):
                end = off + min(n, k + block)
                yield a + k, bytes(data[off + k: end])
                lo, hi = (off + k if lo is None else min(lo, off + k)), max(hi, end)
                if hi - lo > DROP_BYTES:  # copying a whole dump out must not keep it all resident
                    drop_pages(data, lo, hi)
                    lo, hi = None, 0



@dataclass
class CoreDump:
    """A parsed coredump: its sections, memories and global values (the dump's own index spaces)."""

    path: str | None
    sections: CoreSections
    memories: list[CoreMemory]
    globals: list[tuple[str, int | float | None]]  # (valtype, value) per dump global
    module: WasmModule = field(repr=False)

    @property
    def name(self) -> str | None:
        return self.sections.name

    @property
    def frames(self) -> tuple[CoreFrame, ...]:
        """The first thread's frames, youngest first (wasmtime writes one thread, "main")."""
        return self.sections.threads[0].frames if self.sections.threads else ()

    def instance(self, index: int) -> CoreInstance | None:
        insts = self.sections.instances
        return insts[index] if 0 <= index < len(insts) else None

    def module_name(self, instance: int) -> str | None:
        inst = self.instance(instance)
        mods = self.sections.modules
        return mods[inst.module] if inst is not None and 0 <= inst.module < len(mods) else None

    def close(self) -> None:
        self.module.close()


PAGE_SIZES = (1, PAGE)  # the page sizes wasm allows (custom-page-sizes adds 1 to the default 64 KiB)


def max_pages(is64: bool, page_size: int) -> int:
    """The most pages a memory of this index type and page size can have: its bytes must be addressable
    (4 GiB for a 32-bit memory, 65,536 pages of 64 KiB; 2**64 bytes for memory64)."""
    return (1 << (64 if is64 else 32)) // page_size


def check_memory_type(mt, what: str, offset: int | None) -> None:
    """ParseError unless the memory type ``mt`` (``parser.types.MemoryType``) is one wasm allows: page size
    1 or 64 KiB, minimum and maximum within what the index type addresses, maximum not below minimum."""
    lim = mt.limits
    if mt.page_size not in PAGE_SIZES:
        raise ParseError(f"{what} has a page size of {mt.page_size} bytes (2^{lim.page_size_log2}); wasm allows 1 "
                         f"and 65536", offset)
    cap = max_pages(mt.is64, mt.page_size)
    kind = "a memory64 memory" if mt.is64 else "a 32-bit memory"
    unit = "pages of 1 byte" if mt.page_size == 1 else f"pages of {mt.page_size // 1024} KiB"
    for v, noun in ((lim.min, "size"), (lim.max, "maximum")):
        if v is not None and v > cap:
            raise ParseError(f"{what} has a {noun} of {v} pages: {kind} has at most {cap} {unit} "
                             f"({_fmt_size(cap * mt.page_size)})", offset)
    if lim.max is not None and lim.max < lim.min:
        raise ParseError(f"{what} has a maximum of {lim.max} pages, below its size of {lim.min}", offset)


def read_coredump(dump: WasmModule) -> CoreDump:
    """A CoreDump over a loaded (memory-mapped) dump file: the custom sections are parsed and each
    memory's type checked (page size, the pages its index type can address: a ParseError with the
    offset); no memory content is read here. The first read of any memory reads every segment header
    once (see :class:`SegmentIndex`). Every ParseError names the dump's file."""
    with naming_file(dump.path):
        return _read_coredump(dump)


def _read_coredump(dump: WasmModule) -> CoreDump:
    sections = read_core_sections(dump)
    name = f"coredump {os.path.basename(dump.path)}" if dump.path else "coredump"
    segments = _Segments(dump)
    memories = []
    for m in dump.memories:
        if m.imported is not None:
            raise ParseError("a coredump does not import its memory", m.offset)
        mt = m.type
        check_memory_type(mt, f"memory {m.index} of the {name}", m.offset)
        memories.append(CoreMemory(dump, m.index, mt.limits.min, mt.limits.max, mt.is64, mt.limits.shared,
                                   segments, name, page_size=mt.page_size, offset=m.offset))
    segments.memories = memories
    globals_ = []
    for g in dump.globals:
        v = g.init.simple_value if g.init is not None else None
        globals_.append((g.type.valtype, v))
    return CoreDump(dump.path, sections, memories, globals_, dump)


# -- matching a module against the dump ------------------------------------------------------------
@dataclass
class CoreView:
    """One instance of a dump seen through its module: memory ``i`` and global ``i`` in the module's
    own index spaces, and the frames that belong to the instance."""

    core: CoreDump
    module: WasmModule
    instance: int
    notes: list[str] = field(default_factory=list)

    @property
    def _inst(self) -> CoreInstance | None:
        return self.core.instance(self.instance)

    def memory(self, index: int = 0) -> CoreMemory:
        inst = self._inst
        mems = self.core.memories
        if inst is None:  # no coreinstances section: the dump's own order
            if 0 <= index < len(mems):
                return mems[index]
        elif 0 <= index < len(inst.memories) and inst.memories[index] < len(mems):
            return mems[inst.memories[index]]
        n = len(inst.memories) if inst is not None else len(mems)
        raise UsageError(f"memory {index} is not in the coredump (its instance has {n} memor{'y' if n == 1 else 'ies'})")

    def global_value(self, index: int):
        """The value of the module's global ``index`` at the crash (None when the dump lacks it)."""
        inst = self._inst
        gl = self.core.globals
        j = index if inst is None else (inst.globals[index] if 0 <= index < len(inst.globals) else None)
        if j is None or not 0 <= j < len(gl):
            return None
        return gl[j][1]

    @property
    def frames(self) -> list[CoreFrame]:
        return [f for f in self.core.frames if f.instance == self.instance or self._inst is None]


def _display(name: str) -> str:
    return name if name.isprintable() and len(name) <= 200 else repr(name[:200])


MAX_CHECKED_FRAMES = 64  # frames whose code offset is checked against the module's instructions
_CALLS = frozenset((0x10, 0x11, 0x12, 0x13, 0x14, 0x15))  # call, call_indirect, return_call…, call_ref…


def _frame_instruction_problem(module: WasmModule, body, offset: int, *, youngest: bool) -> str | None:
    """Why a frame's code offset cannot be one this module's body gives, or None: it must start an
    instruction, and in every frame but the youngest that instruction is a call (the frame waits on it).
    A module that differs from the dumped one only in its code (another optimisation level of the same
    source) is caught here, where globals, memories and data all match."""
    from ..parser.code import decode_locals, iter_instruction_tuples

    try:
        _groups, p0 = decode_locals(module.data, body.start, body.end)
        if youngest and offset <= p0 - body.start:
            return None  # wasmtime reports a trap at a body's first instruction as the body's start
        for off, op, _imm in iter_instruction_tuples(module.data, p0, body.end):
            rel = off - body.start
            if rel == offset:
                return None if youngest or op in _CALLS else "is not at a call in this module's code"
            if rel > offset:
                break
    except Exception:  # noqa: BLE001 - a body the decoder cannot read: the other checks decide
        return None
    return "is not at an instruction boundary in this module's code"


def _memory_problem(view: CoreView, decl) -> str | None:
    """Why the dump's memory for the module's memory ``decl`` cannot be that memory, or None: the index
    type, the page size and the size in pages (within the module's minimum and maximum) must fit."""
    try:
        cm = view.memory(decl.index)
    except UsageError as exc:
        return exc.message
    mt = decl.type
    at = f" (the dump's memory type at offset {cm.offset:#x})" if cm.offset is not None else ""
    i = decl.index

    def kind(is64: bool) -> str:
        return "64-bit (memory64)" if is64 else "32-bit"

    if cm.is64 != mt.is64:
        return f"memory {i} is {kind(cm.is64)} in the dump, {kind(mt.is64)} in the module{at}"
    if cm.page_size != mt.page_size:
        return (f"memory {i} has pages of {_fmt_size(cm.page_size)} in the dump, of {_fmt_size(mt.page_size)} "
                f"in the module{at}")
    if cm.pages < mt.min_pages:
        return f"memory {i} has {cm.pages} pages in the dump, fewer than the module's minimum {mt.min_pages}{at}"
    if mt.max_pages is not None and cm.pages > mt.max_pages:
        return f"memory {i} has {cm.pages} pages in the dump, more than the module's maximum {mt.max_pages}{at}"
    return None


def match_module(core: CoreDump, module: WasmModule) -> CoreView:
    """The dump's instance of ``module``, checked: its globals (count and types), memories (count; each
    one's index type, page size, and pages within the module's minimum and maximum) and every frame's function index and code offset
    must fit the module (an offset at an instruction of that function; below the youngest frame, at a
    call). A mismatch is one UsageError naming what differs. A module name that differs
    from the dump's is only a note (files get renamed): the structure decides."""
    given = os.path.basename(module.path) if module.path else None
    ns_name = module.names.module if module.names else None
    insts = core.sections.instances
    mods = core.sections.modules
    # which instance: one whose module name matches, else the youngest frame's, else the first
    pick = None
    for i, inst in enumerate(insts):
        if 0 <= inst.module < len(mods) and mods[inst.module] in (given, ns_name):
            pick = i
            break
    if pick is None:
        pick = core.frames[0].instance if core.frames else 0
    view = CoreView(core, module, pick)
    dumped = core.module_name(pick)
    what = f"the coredump{' ' + _display(core.path) if core.path else ''}"
    problems: list[str] = []
    inst = view._inst
    if inst is not None:
        if len(inst.globals) != len(module.globals):
            problems.append(f"the dumped instance has {len(inst.globals)} globals, the module {len(module.globals)}")
        else:
            for g, j in zip(module.globals, inst.globals, strict=True):
                if j >= len(core.globals):
                    problems.append(f"global {g.index} maps to dump global {j}, which does not exist")
                    break
                dt = core.globals[j][0]
                if dt != g.type.valtype and (dt in _NUMERIC or g.type.valtype in _NUMERIC):
                    problems.append(f"global {g.index} is {g.type.valtype} in the module, {core.globals[j][0]} "
                                    f"in the dump")
                    break
        if len(inst.memories) != len(module.memories):
            problems.append(f"the dumped instance has {len(inst.memories)} memories, the module "
                            f"{len(module.memories)}")
    if not problems:
        for decl in module.memories:
            why = _memory_problem(view, decl)
            if why is not None:
                problems.append(why)
                break
    if not problems:
        bodies = {b.index: b for b in module.functions}
        nimp = module.num_imported_funcs
        for k, f in enumerate(view.frames):
            if f.func_index >= module.num_functions:
                problems.append(f"frame #{k} is in function {f.func_index}, the module has {module.num_functions}")
                break
            if f.func_index < nimp:
                continue  # a host function: no body to check the offset against
            b = bodies.get(f.func_index)
            if b is not None and f.code_offset > b.end - b.start:
                problems.append(f"frame #{k} is at offset {f.code_offset:#x} of function {f.func_index}, whose "
                                f"body is {b.end - b.start} bytes")
                break
            if b is not None and k < MAX_CHECKED_FRAMES:
                why = _frame_instruction_problem(module, b, f.code_offset, youngest=k == 0)
                if why is not None:
                    problems.append(f"frame #{k} (function {f.func_index} +{f.code_offset:#x}) {why}")
                    break
    if problems:
        named = f" (it names the module {_display(dumped)})" if dumped else ""
        raise UsageError(f"{_display(given or 'the module')} is not the module of {what}{named}: {problems[0]}")
    if dumped and dumped not in (given, ns_name) and not dumped.startswith("<anonymous-module"):
        view.notes.append(f"the coredump names the module {_display(dumped)}, not {_display(given or '?')}; "
                          f"its globals, memories and frames match")
    return view


# -- the backtrace, as shown --------------------------------------------------------------------
@dataclass
class BacktraceFrame:
    index: int
    func_index: int
    code_offset: int  # relative to the function body (as the dump stores it)
    module_offset: int | None  # file offset in the module (None for a host function)
    name: str | None = None
    location: str | None = None  # file:line from DWARF
    host: str | None = None  # "module.name" of an imported (host) function
    locals: tuple = ()
    stack: tuple = ()
    variables: list = field(default_factory=list)  # (name, kind, type_name, text) from DWARF and the locals
    frame_base: int | None = None  # worked out from the stack pointer when the dump records no locals

    def to_dict(self) -> dict:
        return {
            "index": self.index, "func_index": self.func_index, "code_offset": self.code_offset,
            "module_offset": self.module_offset, "name": self.name, "location": self.location,
            "host": self.host, "frame_base": self.frame_base,
            "locals": [v.to_dict() for v in self.locals], "stack": [v.to_dict() for v in self.stack],
            "variables": [{"name": n, "kind": k, "type": t, "value": v} for n, k, t, v in self.variables],
        }


@dataclass
class Backtrace:
    """What ``wasmem backtrace`` shows: the dump's frames of the module's instance, named."""

    core: str | None
    module: str | None
    executable: str | None
    thread: str | None
    frames: list[BacktraceFrame]
    stack_pointer: int | None = None
    memory_pages: int | None = None
    notes: list[str] = field(default_factory=list)
    symbols_from: str | None = None

    def to_dict(self) -> dict:
        return {
            "core": self.core, "module": self.module, "executable": self.executable, "thread": self.thread,
            "stack_pointer": self.stack_pointer, "memory_pages": self.memory_pages,
            "symbols_from": self.symbols_from, "notes": list(self.notes),
            "frames": [f.to_dict() for f in self.frames],
        }


def frame_basics(view: CoreView) -> list[BacktraceFrame]:
    """The instance's frames with file offsets and host-function names (no symbols yet)."""
    module = view.module
    bodies = {b.index: b for b in module.functions}
    imports = [i for i in module.imports if i.kind == "func"]
    out = []
    for k, f in enumerate(view.frames):
        body = bodies.get(f.func_index)
        host = None
        if f.func_index < len(imports):
            imp = imports[f.func_index]
            host = f"{imp.module}.{imp.name}"
        out.append(BacktraceFrame(k, f.func_index, f.code_offset,
                                  body.start + f.code_offset if body is not None else None, host=host,
                                  locals=f.locals, stack=f.stack))
    return out
