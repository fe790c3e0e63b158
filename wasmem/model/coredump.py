"""A coredump as the state of a crashed instance: its memories (sparse, over the dump's data segments),
its globals, its threads' frames; and the check that a given module is the one the dump was taken of.

Nothing here reads a memory whole: a :class:`CoreMemory` keeps the (address, file offset, length) of
each data segment and copies only the bytes a read asks for, out of the memory-mapped dump.
"""

from __future__ import annotations

import bisect
import os
from dataclasses import dataclass, field

from ..errors import ParseError, UsageError
from ..parser.coredump import CoreFrame, CoreInstance, CoreSections, DataScanner, read_core_sections
from ..parser.module import WasmModule
from .values import check_range

PAGE = 65536
_NUMERIC = ("i32", "i64", "f32", "f64", "v128")


class _Segments:
    """The data segments of one dump, found as reads need them (``parser.coredump.DataScanner``) and dealt
    out to their memories. While a memory's segments come in ascending address order (wasmtime and wasmem
    write them so) a read stops scanning at the first segment that starts past it; after one that goes
    back, every read of that memory scans to the end once."""

    def __init__(self, dump: WasmModule):
        self.scanner = DataScanner(dump)
        self.memories: list[CoreMemory] = []

    def advance(self) -> bool:
        got = self.scanner.next()
        if got is None:
            return False
        mem, addr, start, size = got
        if not 0 <= mem < len(self.memories):
            raise ParseError(f"a coredump data segment writes memory {mem}, which the dump does not declare", start)
        self.memories[mem]._add(addr, start, size)
        return True


class CoreMemory:
    """One memory of a coredump: ``size`` bytes (its page count), zero except where a data segment says
    otherwise (later segments win where they overlap, as instantiation would write them)."""

    def __init__(self, dump: WasmModule, index: int, pages: int, max_pages: int | None, is64: bool,
                 shared: bool, segments: _Segments, name: str = "coredump"):
        self.dump = dump
        self.index = index
        self.pages = pages
        self.max_pages = max_pages
        self.is64 = is64
        self.shared = shared
        self.size = pages * PAGE
        self.name = name
        self._source = segments
        # segments seen so far, in file order: starts/ends/data offsets; _sorted while starts ascend
        self._starts: list[int] = []
        self._segs: list[tuple[int, int, int, int]] = []  # (address, data_start, length, order)
        self._reach: list[int] = []  # _reach[i] = the highest end among _segs[:i + 1]
        self._sorted = True
        self._order = 0

    def _add(self, addr: int, start: int, size: int) -> None:
        if addr + size > self.size:
            raise ParseError(f"a coredump data segment [{addr:#x}, {addr + size:#x}) lies outside memory "
                             f"{self.index} ({self.size} bytes)", start)
        self._order += 1
        if not size:
            return
        if self._starts and addr < self._starts[-1]:
            self._sorted = False
        self._starts.append(addr)
        self._segs.append((addr, start, size, self._order))
        self._reach.append(max(self._reach[-1], addr + size) if self._reach else addr + size)

    def _scan_to(self, end: int) -> None:
        """Reads segments until none still unread can cover an address below ``end``."""
        src = self._source
        while not src.scanner.done:
            if self._sorted and self._starts and self._starts[-1] >= end:
                return
            src.advance()

    @property
    def num_segments(self) -> int:
        """Every segment of this memory (scans the whole data section)."""
        self._scan_to(1 << 65)
        return len(self._segs)

    def read(self, addr: int, n: int) -> bytes:
        check_range(addr, n, self.size, f"memory {self.index} of the {self.name}")
        end = addr + n
        self._scan_to(end)
        if self._sorted:
            i = bisect.bisect_left(self._starts, end) - 1
            hits = []
            while i >= 0 and self._reach[i] > addr:
                a, s, ln, order = self._segs[i]
                if a + ln > addr:
                    hits.append((order, a, s, ln))
                i -= 1
        else:
            hits = [(o, a, s, ln) for a, s, ln, o in self._segs if a < end and a + ln > addr]
        if not hits:
            return bytes(n)
        if len(hits) == 1:
            _o, a, s, ln = hits[0]
            if a <= addr and a + ln >= end:  # the common case: one segment holds it all
                return bytes(self.dump.data[s + addr - a: s + end - a])
        out = bytearray(n)
        data = self.dump.data
        for _o, a, s, ln in sorted(hits):
            lo, hi = max(a, addr), min(a + ln, end)
            out[lo - addr: hi - addr] = data[s + lo - a: s + hi - a]
        return bytes(out)

    def iter_chunks(self, block: int = 1 << 20):
        """The whole memory in order as ``block``-sized bytes (for saving a raw image)."""
        for base in range(0, self.size, block):
            yield self.read(base, min(block, self.size - base))


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


def read_coredump(dump: WasmModule) -> CoreDump:
    """A CoreDump over a loaded (memory-mapped) dump file: the custom sections are parsed; data segments
    are located as reads need them (a read near the start of a 256 MiB memory touches only the start of
    the file); no memory content is read here."""
    sections = read_core_sections(dump)
    name = f"coredump {os.path.basename(dump.path)}" if dump.path else "coredump"
    segments = _Segments(dump)
    memories = []
    for m in dump.memories:
        if m.imported is not None:
            raise ParseError("a coredump does not import its memory", None)
        mt = m.type
        memories.append(CoreMemory(dump, m.index, mt.limits.min, mt.limits.max, mt.is64, mt.limits.shared,
                                   segments, name))
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


def match_module(core: CoreDump, module: WasmModule) -> CoreView:
    """The dump's instance of ``module``, checked: its globals (count and types), memories (count,
    memory 0 no larger than the module's maximum) and every frame's function index and code offset
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
    if not problems and module.memories:
        try:
            mem0 = view.memory(0)
        except UsageError as exc:
            problems.append(exc.message)
        else:
            mt = module.memories[0].type
            if mem0.pages < mt.limits.min:
                problems.append(f"memory 0 has {mem0.pages} pages in the dump, fewer than the module's minimum "
                                f"{mt.limits.min}")
            elif mt.limits.max is not None and mem0.pages > mt.limits.max:
                problems.append(f"memory 0 has {mem0.pages} pages in the dump, more than the module's maximum "
                                f"{mt.limits.max}")
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
