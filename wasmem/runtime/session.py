"""A live instance of a module in wasmtime: every import satisfied, limits on every call, memory access,
calls with argument parsing, sret slots, string arguments, memory diffs, stack painting and traps."""

from __future__ import annotations

import ctypes
import functools
import math
import os
import re
import tempfile
import time
from dataclasses import dataclass, field

import wasmtime

from ..errors import ParseError, RunError, UsageError
from ..instrument.callpath import CallPathPass
from ..instrument.rewriter import rewrite
from ..instrument.stack import Instrumented, instrument_stack
from ..instrument.watch import WatchPass
from ..model.layout import pic_bases
from ..model.values import (
    Layout,
    MemoryArg,
    check_range,
    decode_fields,
    eval_address,
    format_value,
    parse_arg,
    parse_layout,
    parse_memory_arg,
    parse_write,
)
from ..parser.encode import cap_memory_maximum, rewrite_exports
from ..parser.features import LEGACY_EH_REMEDY, LegacyEH, scan_legacy_eh
from ..parser.module import WasmModule
from ..parser.types import FuncType
from .budget import (
    MAX_FUEL,
    MAX_OUTPUT,
    MAX_TABLE_ENTRIES,
    SignalPipe,
    Watcher,
    budget_for,
    check_timeout,
    level,
    output_stop_message,
    stop_after,
)
from .hosts import (
    HostCall,
    HostState,
    HostString,
    HostTrap,
    choose_host,
    define_host_imports,
    required_exports,
    trap_frames,
)
from .hosts import wasm_valtype as _valtype
from .hosts.wasi import make_config as wasi_config

PAGE = 65536
PAINT = 0xAA
# Without a proven stack to paint, the stack pointer's writes are instrumented by default only up to this
# much code (the rewrite is Python work on every run); --no-paint instruments any size
AUTO_INSTRUMENT_CODE = 4 << 20
# Painting never goes below this address: a read through a null (or small) pointer must see what a plain
# host shows, and in a stack-first module the lowest KiB of the stack is the null page.
NULL_GUARD = 1024
_SCAN = 4096
_PAINTED = bytes([PAINT]) * _SCAN
_PAINT_RUN = re.compile(b"\\x%02x+" % PAINT)
BLOCK = 4096
MERGE_GAP = 8  # changed ranges closer than this are reported as one range
ALLOCATORS = (("allocate", "deallocate"), ("malloc", "free"), ("__wbindgen_malloc", "__wbindgen_free"),
              ("alloc", "dealloc"), ("cabi_realloc", None))
INIT_EXPORTS = ("_initialize", "__wasm_call_ctors")


def set_global(g: wasmtime.Global, store, value) -> None:
    """``g = value``, written only when it differs: wasmtime-py reads a global in about 2 µs and writes one in
    about 10, and the per-call set-up (the stack check's bounds, the heap tracker's globals) mostly finds
    them as they should be."""
    if g.value(store) != value:
        g.set_value(store, value)


def _align_up(n: int, a: int) -> int:
    return (n + a - 1) // a * a


# -- results ------------------------------------------------------------------------------------
@dataclass
class TraceFrame:
    func_index: int
    name: str
    func_offset: int | None  # None when the engine gives no position (e.g. a frame cut off by exhaustion)
    module_offset: int | None  # offset in the original file (before wasmem appended exports)

    def to_dict(self) -> dict:
        return {"func_index": self.func_index, "name": self.name, "func_offset": self.func_offset,
                "module_offset": self.module_offset}


@dataclass
class StackOverflow:
    """A linear-stack overflow caught by ``check_stack`` instrumentation before the frame was used."""

    function: str  # the function whose write of the stack pointer would have overflowed
    func_index: int
    needed: int  # bytes from the top of the stack to the stack pointer it tried to set (at least this)
    stack_size: int
    past: int  # bytes below the stack's low end
    low: int
    high: int
    sp_min: int  # the stack pointer it tried to set (wrapped around when the low end is 0)

    @property
    def message(self) -> str:
        return (f"stack overflow in {self.function}: needed at least {self.needed} bytes, the stack is "
                f"{self.stack_size} bytes ({self.past} bytes past its low end at {self.low:#x})")

    def to_dict(self) -> dict:
        return {"function": self.function, "func_index": self.func_index, "needed": self.needed,
                "stack_size": self.stack_size, "past": self.past, "low": self.low, "high": self.high,
                "sp_min": self.sp_min}


@dataclass
class TrapInfo:
    kind: str  # unreachable, memory_out_of_bounds, …, timeout, out_of_fuel, abort, strict_import, exit,
    #            stack_overflow (the linear stack, caught by check_stack: see ``overflow``),
    #            call_stack_exhausted (the engine's own call stack: a too-deep native recursion)
    message: str
    frames: list[TraceFrame] = field(default_factory=list)
    sp: int | None = None  # the stack pointer where the trap left it
    exit_code: int | None = None
    overflow: StackOverflow | None = None  # set for a linear-stack overflow caught by check_stack

    def to_dict(self) -> dict:
        return {"kind": self.kind, "message": self.message, "frames": [f.to_dict() for f in self.frames],
                "sp": self.sp, "exit_code": self.exit_code,
                "overflow": self.overflow.to_dict() if self.overflow else None}


@dataclass
class ChangedRange:
    memory: int
    start: int
    end: int
    before: bytes
    after: bytes

    @property
    def size(self) -> int:
        return self.end - self.start

    def to_dict(self) -> dict:
        return {"memory": self.memory, "start": self.start, "end": self.end, "before": self.before.hex(),
                "after": self.after.hex()}


@dataclass
class MemoryGrowth:
    memory: int
    old_pages: int
    new_pages: int

    @property
    def warning(self) -> str:
        return (f"memory {self.memory} grew from {self.old_pages} to {self.new_pages} pages: JS typed-array "
                f"views (new Uint8Array(memory.buffer)) created before the call are now detached")

    def to_dict(self) -> dict:
        return {"memory": self.memory, "old_pages": self.old_pages, "new_pages": self.new_pages,
                "warning": self.warning}


@dataclass
class StackUse:
    """Stack use of one call, measured by ``method``:

    - ``paint``: the free stack below the stack pointer was filled with a pattern before the call and
      restored after it; ``lowest`` is the lowest byte the call changed (sees red-zone use by leaf
      functions). Used only where the stack's bounds are proven (see ``Session.paint_reason``).
    - ``instrument``: every write of the stack pointer goes through a hook that records the lowest value
      (``sp_min``); no byte of memory is written. Red-zone use by leaf functions is not seen.

    With ``--check-stack`` both may run: ``exact_peak``/``sp_min`` come from the instrumentation. They
    agree within the 128-byte red zone. ``low``/``high`` are None when the stack's bounds are not known."""

    sp: int  # stack pointer when the function was entered
    lowest: int  # lowest byte the call touched (paint) or lowest stack pointer (instrument); == sp: none
    low: int | None
    high: int | None
    sp_min: int | None = None  # lowest stack pointer set during the call (== sp when it never moved)
    exact_peak: int | None = None  # sp - sp_min (modulo the address width when it wrapped)
    overflowed: bool = False  # check_stack stopped the call at a linear-stack overflow
    method: str = "paint"  # paint | instrument
    note: str = ""  # why this method (e.g. why the stack was not painted)
    floor: int | None = None  # paint: the lowest painted address (NULL_GUARD or the stack's low end)

    @property
    def peak(self) -> int:
        return max(0, self.sp - self.lowest)

    @property
    def exhausted(self) -> bool:
        if self.overflowed:
            return True
        if self.method == "paint" and self.floor is not None:
            return self.lowest <= self.floor  # reached the lowest painted byte (the guard below is not seen)
        return self.low is not None and self.lowest <= self.low

    def to_dict(self) -> dict:
        return {"sp": self.sp, "lowest": self.lowest, "peak_bytes": self.peak, "low": self.low,
                "high": self.high, "exhausted": self.exhausted, "sp_min": self.sp_min,
                "exact_peak_bytes": self.exact_peak, "overflowed": self.overflowed, "method": self.method,
                "note": self.note}


@dataclass
class SretResult:
    address: int
    size: int
    data: bytes
    layout: Layout | None
    fields: list[tuple[str, str, object]]  # (name, type, value)

    def to_dict(self) -> dict:
        return {"address": self.address, "size": self.size, "hex": self.data.hex(),
                "fields": [{"name": n, "type": t, "value": _jsonable(v)} for n, t, v in self.fields]}


@dataclass
class Allocation:
    arg: str
    address: int
    size: int
    via: str  # allocator export name, or "stack"


@dataclass
class CallResult:
    name: str
    signature: str
    args: list  # values passed to wasm, in order (sret pointer and (ptr, len) pairs included)
    param_types: tuple[str, ...]
    result_types: tuple[str, ...]
    results: list = field(default_factory=list)
    sret: SretResult | None = None
    allocations: list[Allocation] = field(default_factory=list)
    writes: list[tuple[int, bytes]] = field(default_factory=list)  # --write ADDR=HEX, before the call
    changes: list[ChangedRange] = field(default_factory=list)
    growth: list[MemoryGrowth] = field(default_factory=list)
    stack: StackUse | None = None
    stack_note: str | None = None  # why the stack was not measured (stack is None), when there is a stack pointer
    limit_notes: list[str] = field(default_factory=list)  # memories/tables the budget keeps from growing
    host_calls: list[HostCall] = field(default_factory=list)
    stdout: bytes = b""
    stderr: bytes = b""
    stdout_truncated: int = 0  # bytes of stdout past --max-output, counted and not kept
    stderr_truncated: int = 0
    trap: TrapInfo | None = None
    sp_before: int | None = None
    sp_after: int | None = None
    seconds: float = 0.0
    user_args: list[str] = field(default_factory=list)  # as typed

    @property
    def ok(self) -> bool:
        return self.trap is None or (self.trap.kind == "exit" and self.trap.exit_code == 0)

    @property
    def changed_bytes(self) -> int:
        return sum(c.size for c in self.changes)

    def to_dict(self) -> dict:
        return {
            "function": self.name, "signature": self.signature, "user_args": list(self.user_args),
            "args": [_jsonable(a) for a in self.args],
            "results": [{"type": t, "value": _jsonable(v)} for t, v in zip(self.result_types, self.results, strict=False)],
            "sret": self.sret.to_dict() if self.sret else None,
            "allocations": [vars(a) for a in self.allocations],
            "writes": [{"address": a, "hex": d.hex()} for a, d in self.writes],
            "changes": [c.to_dict() for c in self.changes],
            "growth": [g.to_dict() for g in self.growth],
            "stack": self.stack.to_dict() if self.stack else None,
            "stack_note": self.stack_note,
            "limit_notes": list(self.limit_notes),
            "host_calls": [h.to_dict() for h in self.host_calls],
            "stdout": self.stdout.decode("utf-8", "replace"), "stderr": self.stderr.decode("utf-8", "replace"),
            "stdout_truncated": self.stdout_truncated, "stderr_truncated": self.stderr_truncated,
            "trap": self.trap.to_dict() if self.trap else None,
            "sp_before": self.sp_before, "sp_after": self.sp_after, "ok": self.ok,
        }


def _jsonable(v):
    if isinstance(v, float) and (math.isnan(v) or math.isinf(v)):
        return format_value(v)
    if isinstance(v, (bytes, bytearray)):
        return bytes(v).hex()
    if isinstance(v, list):
        return [_jsonable(x) for x in v]
    return v


@dataclass
class MemoryInfo:
    index: int
    pages: int
    size: int
    min_pages: int
    max_pages: int | None
    shared: bool
    is64: bool
    imported: str | None  # "env.memory" when imported
    export: str | None

    def to_dict(self) -> dict:
        return dict(vars(self))


@dataclass
class Snapshot:
    memories: list[bytes]
    globals: dict[int, object]
    sp: int | None


# -- memory adapter (Memory and SharedMemory have different APIs) ---------------------------------
class _SharedMemory(wasmtime.SharedMemory):
    """wasmtime-py 50's SharedMemory with two fixes: ``_as_extern`` (used by ``Linker.define``) wrapped the
    handle in one pointer too many, so defining an imported shared memory raised ``TypeError: incompatible
    types, LP_LP_wasmtime_sharedmemory…``; ``size()`` passed the wrong pointer type likewise."""

    def _as_extern(self):
        from wasmtime import _ffi as ffi

        union = ffi.wasmtime_extern_union(sharedmemory=self.ptr())
        return ffi.wasmtime_extern_t(ffi.WASMTIME_EXTERN_SHAREDMEMORY, union)

    def size(self) -> int:
        from wasmtime import _ffi as ffi

        return ffi.wasmtime_sharedmemory_size(self.ptr())


class _Mem:
    """One memory, Memory or SharedMemory (a shared memory belongs to the engine: its calls take no store).
    ``page_size`` is the memory's declared page size (65536 unless custom-page-sizes)."""

    def __init__(self, obj, page_size: int = PAGE):
        self.obj = obj
        self.shared = isinstance(obj, wasmtime.SharedMemory)
        self.page_size = page_size

    def size(self, store) -> int:
        return self.obj.data_len() if self.shared else self.obj.data_len(store)

    def pages(self, store) -> int:
        if self.shared:  # from the byte length: wasmtime-py 50's SharedMemory.size() passes a wrong pointer
            return self.obj.data_len() // self.page_size
        return self.obj.size(store)

    def grow(self, store, delta: int) -> int:
        return self.obj.grow(delta) if self.shared else self.obj.grow(store, delta)

    def ptr(self, store):
        return self.obj.data_ptr() if self.shared else self.obj.data_ptr(store)

    def address(self, store) -> int:
        return ctypes.addressof(self.ptr(store).contents)


# wasmtime's words for legacy exception handling: the validator's and the compiler's
_LEGACY_EH_ERROR = re.compile(r"legacy_exceptions feature required|legacy exception handling proposal|"
                              r"legacy-exceptions not supported")


def _stops_progress_on_error(init):
    """Session.__init__ ends the progress display when it raises (an error line must not be drawn under a
    live status)."""
    @functools.wraps(init)
    def wrapper(self, *args, **kwargs):
        try:
            init(self, *args, **kwargs)
        except BaseException:
            self._stop_progress()
            raise
    return wrapper


# -- the session ----------------------------------------------------------------------------------
class Session:
    """One instantiated module. See the module docstring and issue 3 for the behaviour."""

    @_stops_progress_on_error
    def __init__(self, module: WasmModule, *, sp_global: int | None = None,
                 stack_range: tuple[int, int] | None = None, pages: int | None = None,
                 wasi_dirs=(), wasi_env=(), strict_imports: bool = False, timeout: float = 10.0,
                 fuel: int | None = None, max_memory: int = 256 * 2**20, cache: bool = True,
                 check_stack: bool = False, paint: bool | None = None,
                 paint_safe: tuple[bool, str] | None = None, host: str | None = "auto", wasi_args=(),
                 wasi_stdin: str | None = None, on_compile=None, max_table_entries: int = MAX_TABLE_ENTRIES,
                 max_output: int = MAX_OUTPUT, on_stuck=None, watch: dict | None = None,
                 heap: dict | None = None):
        self.module = module
        # called (from the watcher's thread) with (reason, message) when a stopped call does not return: a
        # host call the engine cannot interrupt (budget.Watcher); the command line exits there
        self.on_stuck = on_stuck
        self.watch_recorder = None  # runtime/watch.py's WatchRecorder once --watch targets are attached
        self.heap_tracker = None  # runtime/heap.py's HeapTracker with heap= (attached before initialising)
        self.sp_global = sp_global
        self.stack_range = stack_range
        self.pages = pages
        self.timeout = check_timeout(timeout)
        if fuel is not None and not 1 <= fuel <= MAX_FUEL:
            raise UsageError(f"--fuel {fuel}: give a number of units from 1 to {MAX_FUEL}")
        self.fuel = fuel
        self.max_memory = max_memory  # the total over all memories (0 = no limit); see budget.py
        self.max_table_entries = max_table_entries  # the total over all tables (0 = no limit)
        self.max_output = max_output  # bytes of stdout and of stderr kept per call (0 = no limit)
        self._mem_level = self._table_level = None  # the per-object store limits in force (budget.level)
        self._shared_caps: dict[int, int] = {}  # shared memory index → maximum pages under the budget
        self._import_bytes: dict[int, int] = {}  # imported memory index → bytes wasmem created it with
        self._import_entries: dict[int, int] = {}  # import index of a table → entries wasmem created it with
        self._watch: Watcher | None = None
        self._signals = SignalPipe()
        self.truncated = (0, 0)  # bytes of stdout, stderr dropped by the last _take_output
        self.regions: list = []  # filled by open_session from the layout model
        self.layout = None
        self.on_trap = None  # called with the TrapInfo when a call traps, before wasmem resets anything
        self.name = os.path.basename(module.path) if module.path else "module.wasm"
        self.host = HostState(strict=strict_imports, max_output=max_output)
        self._tmpfiles: list[str] = []  # WASI's stdout and stderr files
        self._out_pos = [0, 0]
        self._closed = False
        self._progress = None

        self.engine = wasmtime.Engine(self._config(cache))
        self._refuse_unrunnable()  # before any slow work: a module wasmtime cannot run is refused at once
        self._start_progress(on_compile)  # a status while preparing and compiling (the CLI's: on stderr)
        self.store = wasmtime.Store(self.engine)
        self._set_limits(max_memory or None, max_table_entries or None)  # each object; the total before instantiating
        self.host_choice = choose_host(module, host)  # the host profile (hosts/): which functions imports get
        self.wasi = self.host_choice.wasi

        # make every global and memory reachable from the host
        self._global_exports: dict[int, str] = {}
        self._memory_exports: dict[int, str] = {}
        wanted: list[tuple[str, str, int]] = []
        for g in module.globals:
            names = module.get_export_names("global", g.index)
            if names:
                self._global_exports[g.index] = names[0]
            elif g.imported is None:
                wanted.append((f"__wasmem_global_{g.index}", "global", g.index))
        for m in module.memories:
            names = module.get_export_names("memory", m.index)
            if names:
                self._memory_exports[m.index] = names[0]
            elif m.imported is None:
                wanted.append((f"__wasmem_memory_{m.index}", "memory", m.index))
        self._table_exports: dict[int, str] = {}  # growable tables, so that the budget notes see their size
        for t in module.tables:
            lim = t.type.limits
            if t.imported is None and max_table_entries and (lim.max is None or lim.max > lim.min):
                names = module.get_export_names("table", t.index)
                if names:
                    self._table_exports[t.index] = names[0]
                else:
                    wanted.append((f"__wasmem_table_{t.index}", "table", t.index))
        wanted += required_exports(module, self.host_choice)  # WASI finds memory 0 as the export `memory`
        raw = bytes(module.data)
        self.watch_pass = self._watch_pass(watch, sp_global)  # rewritten in the same walk as the stack pass
        # with a watch, a shadow stack of function indices gives each hit its call path
        self.heap_pass = self._heap_pass(heap)  # allocator calls logged (instrument/heap.py)
        # allocators reached through function pointers (tables, call_ref) and Zig's interface shims
        self.heap_pointer_pass = None
        if self.heap_pass is not None:
            from ..instrument.heap_pointers import FunctionPointerPass

            self.heap_pointer_pass = FunctionPointerPass(self.heap_pass, heap.get("shims"))
        self.memcheck_pass = None
        if self.heap_pass is not None and heap.get("memcheck"):
            from ..instrument.memcheck import MemcheckPass

            self.memcheck_pass = MemcheckPass(self.heap_pass, uninit=bool(heap.get("memcheck_uninit")))
        self.callpath_pass = CallPathPass() if (self.watch_pass is not None and watch.get("call_path", True)) or (
            self.heap_pass is not None and heap.get("paths")) else None
        extra = tuple(p for p in (self.heap_pass, self.heap_pointer_pass, self.memcheck_pass, self.callpath_pass,
                                  self.watch_pass) if p is not None)
        self.check_stack = bool(check_stack)
        self.instrumented: Instrumented | None = None
        # How stack use is measured. By default the stack pointer's writes are instrumented: no byte of memory
        # is written, so the program sees exactly what a plain host gives it. Painting (paint=True, --paint)
        # fills the free stack below the stack pointer with a pattern, which also sees red-zone use, but a
        # program that reads uninitialised stack (struct padding copied to the heap, uninitialised locals)
        # then reads the pattern: it is used only when asked, and only on a stack proven by the layout model.
        safe, why = paint_safe if paint_safe is not None else (bool(stack_range), "the stack range given")
        self.paint_reason = ""
        self.measure: str | None = None
        if paint is True:
            if safe and stack_range:
                self.measure = "paint"
                self.paint_reason = f"painted (--paint): {why}"
            else:
                self.paint_reason = f"not painted although --paint asked: {why}"
        if self.check_stack:
            if sp_global is None or not stack_range:
                what = "stack pointer" if sp_global is None else "stack range"
                raise UsageError(f"--check-stack: {self.name} has no known {what} to check (see `wasmem stack` "
                                 f"for what the layout analysis found)")
            try:
                self.instrumented = instrument_stack(raw, sp_global, stack_range[0], high=stack_range[1],
                                                     passes=extra)
            except ParseError as exc:
                raise UsageError(f"--check-stack: {exc}") from None
            raw = self.instrumented.data
            self._check_bounds = stack_range
            self.measure = self.measure or "instrument"
        elif self.measure is None and sp_global is not None and paint is None and self._code_size() > AUTO_INSTRUMENT_CODE:
            # rewriting every body in Python takes ~0.15 s per MB of code on every run: not by default
            mb = self._code_size() / 2**20
            self.paint_reason = (f"instrumenting {mb:.1f} MB of code would take seconds on every call: pass "
                                 f"--no-paint to instrument anyway, or --paint to paint the stack "
                                 f"({'proven: ' + why if safe and stack_range else 'not possible: ' + why})")
        elif self.measure is None and sp_global is not None:
            try:  # measurement only: the hook records the minimum and never traps (bounds 0 and 2**bits-1)
                self.instrumented = instrument_stack(raw, sp_global, 0, passes=extra)
            except ParseError:
                self.instrumented = None
            else:
                raw = self.instrumented.data
                self._check_bounds = (0, (1 << self.instrumented.bits) - 1)
                self.measure = "instrument"
                self.paint_reason = self.paint_reason or "instrumented: the stack pointer's writes are recorded"
        self.rewritten = self.instrumented.rewritten if self.instrumented is not None else None
        if extra and self.instrumented is None:
            try:
                self.rewritten = rewrite(raw, list(extra))
            except ParseError as exc:
                raise UsageError(f"{'--watch' if self.watch_pass is not None else 'heap tracking'}: {exc}") from None
            raw = self.rewritten.data
        self._offset_at, self._offset_delta = len(raw), 0
        if wanted:
            rw = rewrite_exports(raw, wanted)
            raw = rw.data
            self._offset_at, self._offset_delta = rw.at, rw.delta
            for (_, kind, index), used in zip(wanted, rw.names, strict=True):
                {"global": self._global_exports, "table": self._table_exports}.get(
                    kind, self._memory_exports)[index] = used
        self._plan_shared_memories()
        raw = self._cap_shared_memories(raw)
        self._progress_phase("compiling")
        try:
            self.wmodule = wasmtime.Module(self.engine, raw)
        except wasmtime.WasmtimeError as exc:
            if _LEGACY_EH_ERROR.search(str(exc)):  # a legacy `try` the byte scan could not see
                raise RunError(self._legacy_eh_message(None, str(exc))) from None
            raise RunError(f"wasmtime cannot compile {self.name}: {_first_line(exc)}") from None
        finally:
            self._stop_progress()

        self.linker = wasmtime.Linker(self.engine)
        self._imported_memories: dict[int, _Mem] = {}
        self._imported_globals: dict[int, wasmtime.Global] = {}
        self._define_imports(pages, wasi_dirs, wasi_env, wasi_args, wasi_stdin)
        self._limit_instantiation()

        self._arm()
        try:
            self.instance = self.linker.instantiate(self.store, self.wmodule)
        except HostTrap as exc:
            raise RunError(f"the start function of {self.name} trapped: {exc.message}") from None
        except wasmtime.Trap as exc:
            info = self._trap_info(exc)
            if not info.frames and info.kind == "memory_out_of_bounds":
                # no wasm frame: the engine failed while copying active data segments into memory
                bad = [s for s in self.module.data_segments if s.mode == "active" and s.address is not None
                       and s.memory < len(self.module.memories)
                       and s.address + s.size > self.module.memories[s.memory].type.min_bytes]
                what = (f"data segment {bad[0].index} [{bad[0].address:#x}, {bad[0].address + bad[0].size:#x}) "
                        f"does not fit in memory {bad[0].memory}'s "
                        f"{self.module.memories[bad[0].memory].type.min_bytes} bytes" if bad
                        else "an active data or element segment does not fit")
                raise RunError(f"cannot instantiate {self.name}: {what}") from None
            raise RunError(f"the start function of {self.name} trapped: {info.message}") from None
        except wasmtime.WasmtimeError as exc:
            raise RunError(self._link_message(exc)) from None
        finally:
            self._disarm()
        self.exports = self.instance.exports(self.store)
        self.memories: dict[int, _Mem] = dict(self._imported_memories)
        for idx, name in self._memory_exports.items():
            if idx not in self.memories:
                self.memories[idx] = _Mem(self.exports[name], module.memories[idx].type.page_size)
        if pages is not None:
            m0 = self.memories.get(0)
            if m0 is not None and module.memories[0].imported is None and m0.pages(self.store) < pages:
                try:
                    m0.grow(self.store, pages - m0.pages(self.store))
                except wasmtime.WasmtimeError as exc:
                    raise RunError(f"cannot grow memory 0 to {pages} pages: {_first_line(exc)}") from None
        self._limit_growth()
        if self.heap_pass is not None:  # before the initialisation exports: constructors' allocations count
            from .heap import HeapTracker

            self.heap_tracker = HeapTracker(self, self.heap_pass, heap["functions"], paths=bool(heap.get("paths")),
                                            memcheck=self.memcheck_pass, heap_base=heap.get("heap_base"),
                                            ignore=heap.get("memcheck_ignore", ()))
        self.init_function: str | None = None  # the last initialisation export that ran
        self.init_functions: list[str] = []  # every one, in order
        self.init_trap: TrapInfo | None = None
        profile = self.host_choice.profile

        def exported_init(name: str) -> bool:
            e = module.find_export(name)
            return e is not None and e.kind == "func" and not module.get_function_type(e.index).params

        # a position-independent module (dynamic linking, tool-conventions DynamicLinking.md): the loader
        # applies its data relocations first, whatever the host
        relocs = [n for n in ("__wasm_apply_data_relocs",) if exported_init(n)]
        wanted = [n for n in profile.init_exports if exported_init(n)]
        if not (wanted and profile.init_replaces_ctors):  # then the first of _initialize/__wasm_call_ctors
            wanted += [n for n in INIT_EXPORTS if exported_init(n)][:1]
        wanted = relocs + wanted
        for name in wanted:
            self.init_function = name
            self.init_functions.append(name)
            out = self._invoke(self.exports[name], [])
            if isinstance(out, TrapInfo):
                raise RunError(f"{name} trapped while initialising {self.name}: {out.message}")
        self.init_output = self._take_output()

    # -- configuration -------------------------------------------------------------------------
    def _config(self, cache: bool) -> wasmtime.Config:
        cfg = wasmtime.Config()
        cfg.epoch_interruption = True
        if self.fuel is not None:
            cfg.consume_fuel = True
        for feat in ("wasm_multi_memory", "wasm_memory64", "wasm_threads", "wasm_bulk_memory",
                     "wasm_reference_types", "wasm_simd", "wasm_multi_value", "wasm_tail_call", "shared_memory"):
            try:
                setattr(cfg, feat, True)
            except Exception:  # noqa: BLE001 - a feature this wasmtime build lacks
                pass
        if cache:
            self.cache_location = _configure_cache(cfg)
        else:
            self.cache_location = None
        return cfg

    def _define_imports(self, pages, wasi_dirs, wasi_env, wasi_args=(), wasi_stdin=None) -> None:
        module, store, linker = self.module, self.store, self.linker
        wc = None
        if self.wasi:
            out = tempfile.NamedTemporaryFile(prefix="wasmem-stdout-", delete=False)
            err = tempfile.NamedTemporaryFile(prefix="wasmem-stderr-", delete=False)
            out.close()
            err.close()
            self._tmpfiles = [out.name, err.name]
            wc = wasi_config(self.name, args=wasi_args, env=wasi_env, dirs=wasi_dirs, stdin=wasi_stdin,
                             stdout=out.name, stderr=err.name)
            self.host.sync = self._pull_wasi_output  # host output after WASI's, in the order they came
        elif wasi_args or wasi_stdin is not None or wasi_dirs or wasi_env:
            what = ("--arg" if wasi_args else "--stdin" if wasi_stdin is not None else "--dir" if wasi_dirs
                    else "--env")
            raise UsageError(f"{what}: {self.name} does not use WASI (host profile {self.host_choice.name}: "
                             f"{self.host_choice.reason}), so it has no argv, stdin, directories or environment "
                             f"to give")
        # every function import, each (module, name) once: WASI, the host profile's functions, stubs
        self.host_context = define_host_imports(linker, store, module, self.host, choice=self.host_choice,
                                                memory_of=self._host_memory, wasi_config=wc)
        self.host_context.data["sp_get"] = self.get_sp
        self.host_context.data["sp_set"] = self.set_sp
        self.host_context.data["wait"] = self._host_wait  # WASI poll_oneoff sleeps through it (budget.Watcher)
        defined: dict[tuple[str, str], object] = {}  # a memory, table or global imported twice is one object

        dylink = module.dylink
        memory_base, table_base = pic_bases(module)  # the layout model and DWARF use the same
        initial_top = None  # top of the first memory, for an imported __stack_pointer

        for imp in module.imports:
            if imp.kind == "func":
                continue
            if (imp.module, imp.name) in defined:
                if imp.kind == "memory":
                    self._imported_memories[len(self._imported_memories)] = defined[imp.module, imp.name]
                elif imp.kind == "global":
                    gindex = sum(1 for j in module.imports[:imp.index] if j.kind == "global")
                    self._imported_globals[gindex] = defined[imp.module, imp.name]
                continue
            if imp.kind == "memory":
                mt = imp.type
                idx = len(self._imported_memories)
                want = mt.min_pages
                if dylink is not None and pages is None:
                    want = max(want, -(-(memory_base + dylink.mem_size + 65536) // PAGE))
                if pages is not None:
                    if pages < mt.min_pages:
                        raise RunError(
                            f"LinkError: memory import has {pages} pages which is smaller than the declared "
                            f"initial of {mt.min_pages} ({imp.module}.{imp.name}). Give the host memory at "
                            f"least {mt.min_pages} pages (--pages {mt.min_pages}), or relink the module with "
                            f"a smaller --initial-memory=… (currently {mt.min_bytes} bytes)")
                    if mt.max_pages is not None and pages > mt.max_pages:
                        raise RunError(
                            f"LinkError: memory import has {pages} pages which is larger than the declared "
                            f"maximum of {mt.max_pages} ({imp.module}.{imp.name}); use --pages {mt.max_pages} "
                            f"or fewer, or relink with a larger --max-memory=…")
                    want = pages
                if self.max_memory and want * mt.page_size > self.max_memory:
                    raise RunError(self._over_limit(f"memory import {imp.module}.{imp.name}", want, mt.page_size))
                self._import_bytes[idx] = want * mt.page_size
                self._refuse_over_budget()
                limits = wasmtime.Limits(want, self._host_maximum(mt, want, idx))
                mtype = wasmtime.MemoryType(limits, is_64=mt.is64, shared=mt.shared)
                try:
                    obj = _SharedMemory(self.engine, mtype) if mt.shared else wasmtime.Memory(store, mtype)
                except wasmtime.WasmtimeError as exc:
                    raise RunError(f"cannot create memory {imp.module}.{imp.name} with {want} pages: "
                                   f"{_first_line(exc)}") from None
                self._imported_memories[idx] = defined[imp.module, imp.name] = _Mem(obj)
                if idx == 0:
                    initial_top = want * mt.page_size
                linker.define(store, imp.module, imp.name, obj)
            elif imp.kind == "table":
                tt = imp.type
                want = tt.limits.min
                if dylink is not None:
                    want = max(want, table_base + dylink.table_size)
                if tt.limits.max is not None:
                    want = min(want, tt.limits.max) if want > tt.limits.max else want
                self._import_entries[imp.index] = want
                et = wasmtime.ValType.externref() if "extern" in tt.elem_type else wasmtime.ValType.funcref()
                table = wasmtime.Table(store, wasmtime.TableType(et, wasmtime.Limits(want, tt.limits.max)), None)
                linker.define(store, imp.module, imp.name, table)
                defined[imp.module, imp.name] = table
                self.host_context.data.setdefault("tables", []).append(table)  # for invoke_* (Emscripten)
            elif imp.kind == "global":
                gt = imp.type
                gindex = sum(1 for j in module.imports[:imp.index] if j.kind == "global")
                value = self._global_default(imp.name, gt.valtype, gindex, memory_base, table_base, initial_top)
                g = wasmtime.Global(store, wasmtime.GlobalType(_valtype(gt.valtype), gt.mutable), value)
                self._imported_globals[gindex] = defined[imp.module, imp.name] = g
                linker.define(store, imp.module, imp.name, g)
            elif imp.kind == "tag":  # exception tags: a fresh host tag of the declared type
                ft = module.get_func_type(imp.type)
                try:
                    wft = wasmtime.FuncType([_valtype(t) for t in ft.params], [_valtype(t) for t in ft.results])
                    linker.define(store, imp.module, imp.name, wasmtime.Tag(store, wasmtime.TagType(wft)))
                    defined[imp.module, imp.name] = wft
                except (RunError, wasmtime.WasmtimeError):
                    pass  # left for define_unknown_imports_as_traps (which names it if it cannot)
        try:
            linker.define_unknown_imports_as_traps(self.wmodule)
        except wasmtime.WasmtimeError:
            pass

    def _global_default(self, name, valtype, gindex, memory_base, table_base, initial_top):
        if valtype in ("f32", "f64"):
            return 0.0
        if valtype not in ("i32", "i64"):
            return None
        if name == "__memory_base":
            return memory_base
        if name == "__table_base":
            return table_base
        if name == "__stack_pointer" or gindex == self.sp_global:
            if self.stack_range:
                return self.stack_range[1]
            top = initial_top
            if top is None and self.module.memories:
                top = self.module.memories[0].type.min_bytes
            return (top or 0) & ~15
        if name == "__heap_base" and self.module.dylink is not None:
            return _align_up(memory_base + self.module.dylink.mem_size, 16)
        return 0

    def _host_memory(self, caller):
        mem = getattr(self, "memories", None)
        if mem and 0 in mem:
            return mem[0]
        if 0 in self._imported_memories:
            return self._imported_memories[0]
        name = self._memory_exports.get(0)
        if name is not None:
            try:
                obj = caller.get(name)
            except Exception:  # noqa: BLE001
                obj = None
            if obj is not None:
                return _Mem(obj)
        return None

    def _link_message(self, exc: Exception) -> str:
        msg = str(exc)
        first = _first_line(exc)
        if "incompatible import type" in msg:
            return f"LinkError: {first}"
        if "unknown import" in msg:
            return f"LinkError: {first}"
        if "exceeds memory limits" in msg and self.max_memory:
            big = max((m for m in self.module.memories if m.imported is None), default=None,
                      key=lambda m: m.type.min_bytes)
            if big is not None and big.type.min_bytes > self.max_memory:
                return self._over_limit(f"memory {big.index}", big.type.min_pages, big.type.page_size, "declares")
        return f"cannot instantiate {self.name}: {first}"

    # -- what wasmtime cannot run, memory limits, the progress display --------------------------------
    def _over_limit(self, what: str, pages: int, page_size: int, verb: str = "needs") -> str:
        """One line for a memory refused by --max-memory: what it needs and the option that lifts it."""
        need = pages * page_size
        return (f"{what} {verb} {pages} pages ({need} bytes), more than --max-memory {self.max_memory} "
                f"bytes; run with --max-memory {need} or more (0 = no limit)")

    def _host_maximum(self, mt, want: int, index: int) -> int | None:
        """The maximum (pages) of a memory wasmem creates for an import. A shared memory lives in the engine,
        out of reach of the store's limit on growth, so its maximum is what enforces --max-memory: the
        declared maximum, lowered to its share of the budget (a host may give a smaller maximum; the import
        still matches). memory.grow past it returns -1, as for an ordinary memory at the limit."""
        if not (mt.shared and self.max_memory) or mt.max_pages is None:
            return mt.max_pages
        return max(want, self._shared_caps.get(index, mt.max_pages))

    # -- the budget: one total for all memories, one for all tables (see budget.py) ------------------
    @staticmethod
    def _distinct(declarations) -> list:
        """Each memory or table once (an import named twice is one object)."""
        seen, out = set(), []
        for d in declarations:
            key = (d.imported.module, d.imported.name) if d.imported else d.index
            if key not in seen:
                seen.add(key)
                out.append(d)
        return out

    def _distinct_memories(self) -> list:
        return self._distinct(self.module.memories)

    def _distinct_tables(self) -> list:
        return self._distinct(self.module.tables)

    @staticmethod
    def _max_bytes(t) -> int | None:
        return t.max_pages * t.page_size if t.max_pages is not None else None

    def _plan_shared_memories(self) -> None:
        """Each shared memory's maximum under the budget (its share when every memory grows alike): fixed
        before compiling, as the module's own maximum is patched (defined) or the host's given (imported)."""
        if not self.max_memory:
            return
        mems = self._distinct_memories()
        lim = level([(m.type.min_bytes, self._max_bytes(m.type)) for m in mems], self.max_memory)
        for m in mems:
            t = m.type
            if t.shared and t.max_pages is not None:
                self._shared_caps[m.index] = max(t.min_pages, min(t.max_pages, lim // t.page_size))

    def _memory_objects(self, sizes: dict[int, int]) -> tuple[list, int]:
        """(the growable memories as (index, size, maximum bytes), the bytes shared memories may reach)."""
        growable, fixed = [], 0
        for m in self._distinct_memories():
            t = m.type
            size = sizes.get(m.index, t.min_bytes)
            if t.shared and t.max_pages is not None:
                fixed += max(size, self._shared_caps.get(m.index, t.max_pages) * t.page_size)
            else:
                growable.append((m.index, size, self._max_bytes(t)))
        return growable, fixed

    def _table_objects(self, sizes: dict[int, int]) -> list:
        return [(t.index, sizes.get(t.index, t.type.limits.min), t.type.limits.max) for t in self._distinct_tables()]

    def _refuse_over_budget(self) -> None:
        """Refuses what needs more than the budget before any growth: the memories' declared minimums (and
        the imports wasmem creates) together, the tables' likewise."""
        if self.max_memory:
            mems = self._distinct_memories()
            need = {m.index: self._import_bytes.get(m.index, m.type.min_bytes) for m in mems}
            for m in mems:
                if m.imported is None and need[m.index] > self.max_memory:
                    raise RunError(self._over_limit(f"memory {m.index}", m.type.min_pages, m.type.page_size,
                                                    "declares"))
            total = sum(need.values())
            if total > self.max_memory and len(mems) > 1:
                parts = ", ".join(f"memory {i} {n}" for i, n in list(need.items())[:8])
                raise RunError(f"the {len(mems)} memories of {self.name} need {total} bytes together ({parts}"
                               f"{' …' if len(need) > 8 else ''}), more than --max-memory {self.max_memory} bytes "
                               f"(the total over all memories); run with --max-memory {total} or more "
                               f"(0 = no limit)")
        if self.max_table_entries:
            tables = self._distinct_tables()
            need_t = sum(self._import_entries.get(t.imported.index, t.type.limits.min) if t.imported else
                         t.type.limits.min for t in tables)
            if need_t > self.max_table_entries:
                raise RunError(f"the table{'s' if len(tables) > 1 else ''} of {self.name} need {need_t} entries "
                               f"at the start, more than --max-table-entries {self.max_table_entries} (the total "
                               f"over all tables); run with --max-table-entries {need_t} or more (0 = no limit)")

    def _set_limits(self, memory: int | None, tables: int | None) -> None:
        self._mem_level, self._table_level = memory, tables
        self.store.set_limits(memory_size=-1 if memory is None else memory,
                              table_elements=-1 if tables is None else tables)

    def _limit_instantiation(self) -> None:
        """The store limits while instantiating: the budget's level for the declared sizes, but never below
        an object's own minimum (wasmtime checks the limit when it creates it). Only a start function that
        grows several memories can then pass the total: the level after instantiating is exact."""
        self._refuse_over_budget()
        mem = tab = None
        if self.max_memory:
            growable, fixed = self._memory_objects(self._import_bytes)
            mem = level([(s, m) for _, s, m in growable], max(0, self.max_memory - fixed))
            mem = max([mem] + [m.type.min_bytes for m in self.module.memories])
        if self.max_table_entries:
            sizes = {t.index: self._import_entries.get(t.imported.index, t.type.limits.min)
                     for t in self.module.tables if t.imported}
            objs = self._table_objects(sizes)
            tab = max([level([(s, m) for _, s, m in objs], self.max_table_entries)] + [s for _, s, _ in objs])
        self._set_limits(mem, tab)

    def _limit_growth(self) -> None:
        """The store limits for calls, from the sizes after instantiating: every memory (table) may grow to
        the level at which all of them together still fit the budget."""
        mem = tab = None
        if self.max_memory:
            sizes = {i: m.size(self.store) for i, m in self.memories.items()}
            growable, fixed = self._memory_objects(sizes)
            mem = level([(s, m) for _, s, m in growable], max(0, self.max_memory - fixed))
        if self.max_table_entries:
            objs = self._table_objects(self._table_sizes())
            tab = level([(s, m) for _, s, m in objs], self.max_table_entries)
        self._set_limits(mem, tab)

    def _table_sizes(self) -> dict[int, int]:
        """Current entries of the tables wasmem can see (imported ones and exported ones)."""
        sizes = {}
        tables = [t for t in self.module.tables]
        imported = self.host_context.data.get("tables", []) if getattr(self, "host_context", None) else []
        k = 0
        for t in tables:
            obj = None
            if t.imported is not None:
                obj = imported[k] if k < len(imported) else None
                k += 1
            else:
                name = self._table_exports.get(t.index)
                exports = getattr(self, "exports", None)
                obj = exports[name] if name is not None and exports is not None else None
            if isinstance(obj, wasmtime.Table):
                try:
                    sizes[t.index] = obj.size(self.store)
                except Exception:  # noqa: BLE001
                    pass
        return sizes

    def _cap_shared_memories(self, raw: bytes) -> bytes:
        """The module with each defined shared memory's maximum lowered to its share of --max-memory (see
        ``_host_maximum``), patched in place so that no offset moves."""
        if not self.max_memory:
            return raw
        caps = {}
        for m in self.module.memories:
            t = m.type
            cap = self._shared_caps.get(m.index)
            if m.imported is None and cap is not None and t.max_pages > cap >= t.min_pages:
                caps[m.index] = cap
        if not caps:
            return raw
        try:
            return cap_memory_maximum(raw, caps)
        except (ParseError, ValueError):
            return raw

    def memory_limit_notes(self) -> list[str]:
        """Facts about memories (and tables) that cannot grow by one more page (entry) because of the budget
        while their declared maximum would allow it: a memory.grow (table.grow) in the last call that went
        past the limit returned -1 to the guest (wasmtime gives no callback, so whether one was attempted is
        not known). Each names the option value that would let it grow."""
        notes = []
        mems = getattr(self, "memories", {})
        if self.max_memory and mems:
            sizes = {i: m.size(self.store) for i, m in mems.items()}
            growable, fixed = self._memory_objects(sizes)
            n = len(self._distinct_memories())
            for m in self._distinct_memories():
                decl = m.type
                if m.index not in sizes:
                    continue
                size = sizes[m.index]
                room = (decl.max_pages * decl.page_size - size) if decl.max_pages is not None else decl.page_size
                if decl.shared and decl.max_pages is not None:
                    limit = max(size, self._shared_caps.get(m.index, decl.max_pages) * decl.page_size)
                else:
                    limit = self._mem_level if self._mem_level is not None else self.max_memory
                if size + decl.page_size <= limit or room < decl.page_size:
                    continue
                target = size + decl.page_size
                objs = [(s, mx) for _, s, mx in growable]
                if decl.shared:
                    need = budget_for(objs + [(size, None)], len(objs), target) + fixed - size
                else:
                    k = [i for i, _, _ in growable].index(m.index)
                    need = budget_for(objs, k, target) + fixed
                need = max(need, target)
                what = (f"the --max-memory limit of {self.max_memory} bytes" if n == 1 else
                        f"the --max-memory total of {self.max_memory} bytes over {n} memories (each may grow "
                        f"to {limit} bytes)")
                notes.append(f"memory {m.index} is {size} bytes: it cannot grow by a page under {what} "
                             f"(memory.grow returns -1); run with --max-memory {need} or more to let it grow")
        if self.max_table_entries and self._table_level is not None:
            sizes = self._table_sizes()
            objs = self._table_objects(sizes)
            for k, (i, size, mx) in enumerate(objs):
                if i not in sizes or size + 1 <= self._table_level or (mx is not None and size >= mx):
                    continue
                need = budget_for([(s, m) for _, s, m in objs], k, size + 1)
                notes.append(f"table {i} has {size} entries: it cannot grow under the --max-table-entries total "
                             f"of {self.max_table_entries} (table.grow returns -1); run with "
                             f"--max-table-entries {need} or more to let it grow")
        return notes

    def _refuse_unrunnable(self) -> None:
        """Refuses, before any compile work, a module that wasmtime would reject only after compiling for
        a long time: legacy exception handling (see ``wasmem.parser.features``). When the byte scan was not
        complete, wasmtime's validator (Rust, parallel: 0.3 s on a 35 MB module) decides."""
        scan = scan_legacy_eh(self.module)
        if scan.hit is not None:
            raise RunError(self._legacy_eh_message(scan.hit))
        if scan.complete:
            return
        try:
            wasmtime.Module.validate(self.engine, bytes(self.module.data))
        except wasmtime.WasmtimeError as exc:
            if _LEGACY_EH_ERROR.search(str(exc)):
                raise RunError(self._legacy_eh_message(None, str(exc))) from None
            raise RunError(f"wasmtime cannot compile {self.name}: {_first_line(exc)}") from None

    def _legacy_eh_message(self, hit: LegacyEH | None, engine_text: str = "") -> str:
        if hit is not None:
            where = f" (`{hit.op}` at {hit.offset:#x} in {self.function_name(hit.func_index)})"
        else:
            m = re.search(r"offset (0x[0-9a-fA-F]+|\d+)", engine_text)
            where = f" (at offset {int(m.group(1), 0):#x})" if m else ""
        return (f"{self.name} uses legacy exception handling{where}, which wasmtime cannot run (browsers and "
                f"Node can): {LEGACY_EH_REMEDY}")

    def _start_progress(self, on_compile) -> None:
        """Enters ``on_compile(name, size, cached)``'s context manager, if any. The display is cosmetic:
        a hook that fails is ignored."""
        if on_compile is None:
            return
        try:
            cm = on_compile(self.name, self.module.size, self.cache_location is not None)
            cm.__enter__()
        except Exception:  # noqa: BLE001
            return
        self._progress = cm

    def _progress_phase(self, text: str) -> None:
        phase = getattr(self._progress, "phase", None)
        if phase is not None:
            try:
                phase(text)
            except Exception:  # noqa: BLE001
                pass

    def _stop_progress(self) -> None:
        cm, self._progress = getattr(self, "_progress", None), None
        if cm is not None:
            try:
                cm.__exit__(None, None, None)
            except Exception:  # noqa: BLE001
                pass

    # -- limits and invocation -------------------------------------------------------------------
    def _arm(self) -> None:
        """Starts the limits of one call: the fuel, and a Watcher for the deadline, Ctrl-C and runaway
        output (each stop increments the engine's epoch, so wasm code traps at its next check; a host
        function that waits, such as WASI's poll_oneoff, wakes up through ``_host_wait``)."""
        self.store.set_epoch_deadline(1)
        if self.fuel is not None:
            self.store.set_fuel(self.fuel)
        self._disarm()
        files = self._tmpfiles if self.max_output else ()
        limit = None
        if files:  # a stream's stop size, from what it had when the call started
            pos = max(self._file_size(f) for f in files)
            limit = pos + stop_after(self.max_output)
        stuck = None
        if self.on_stuck is not None:
            def stuck(reason: str) -> None:
                what = (f"timed out after {self.timeout:g} s (--timeout)" if reason == "timeout" else
                        "interrupted" if reason == "interrupt" else "stopped: too much output (--max-output)")
                self.on_stuck(reason, f"{what}, but the call is blocked in a host call that cannot be interrupted "
                                      "(a WASI open or read of a FIFO or a device under --dir?)")
        self._watch = Watcher(self.engine.increment_epoch, self.timeout or None, files, limit,
                              self._signals.arm(), on_stuck=stuck)

    def _disarm(self) -> None:
        w, self._watch = getattr(self, "_watch", None), None
        if w is not None:
            w.stop()
        signals = getattr(self, "_signals", None)
        if signals is not None:
            signals.disarm()

    @staticmethod
    def _file_size(path: str) -> int:
        try:
            return os.stat(path).st_size
        except OSError:
            return 0

    def _host_wait(self, seconds: float) -> None:
        """A host function's sleep (WASI poll_oneoff): at most until the call's deadline, Ctrl-C or its
        output limit, which then stop the call as they would stop wasm code."""
        w = self._watch
        reason = w.wait(seconds) if w is not None else (time.sleep(seconds) or None)
        if reason is not None:
            kind, message = self._stop_text(reason, w)
            raise HostTrap(kind, message)

    def _stop_text(self, reason: str | None, w: Watcher | None) -> tuple[str, str]:
        if reason == "interrupt":
            return "interrupted", "interrupted (Ctrl-C)"
        if reason == "output":
            stream = "stdout" if w is None or not w.stream else "stderr"
            return "output_limit", output_stop_message(stream, self.max_output)
        return "timeout", f"timed out after {self.timeout:g} s (--timeout)"

    def _invoke(self, func, args: list):
        """Calls ``func`` under the limits. Returns the results as a list, or a TrapInfo."""
        if self.instrumented is not None:
            self._reset_check()
        if self.watch_recorder is not None:
            self.watch_recorder.arm()
        if self.heap_tracker is not None:
            self.heap_tracker.arm()
        self._arm()
        try:
            r = func(self.store, *args)
        except HostTrap as exc:  # raised by a host function: the frames are those that called it
            return TrapInfo(exc.kind, exc.message, self._frames(trap_frames(exc)), self.get_sp(), exc.exit_code)
        except wasmtime.ExitTrap as exc:
            return TrapInfo("exit", f"the program exited with status {exc.code}", [], self.get_sp(), exc.code)
        except wasmtime.Trap as exc:
            return self._trap_info(exc)
        except wasmtime.WasmtimeError as exc:
            return TrapInfo("error", _first_line(exc), [], self.get_sp())
        finally:
            self._disarm()
            if self.watch_recorder is not None:
                self.watch_recorder.disarm()
            if self.heap_tracker is not None:
                self.heap_tracker.disarm()
        try:
            count = len(func.type(self.store).results)
        except Exception:  # noqa: BLE001 - not a wasmtime Func: go by what came back
            count = 0 if r is None else len(r) if isinstance(r, (list, tuple)) else 1
        if count == 0:
            return []
        values = list(r) if count > 1 else [r]  # one result comes back bare, a null reference as None
        return [self._host_value(v) for v in values]

    def _host_value(self, v):
        """A result as plain data: numbers as they are, a null reference as None, and a non-null
        reference (wasmtime hands back host objects) as a short description such as
        ``<func (i32) -> (f64)>``: its identity means nothing outside this process."""
        if v is None or isinstance(v, (int, float)):
            return v
        if isinstance(v, wasmtime.Func):
            try:
                ft = v.type(self.store)
                return (f"<func ({', '.join(str(t) for t in ft.params)}) -> "
                        f"({', '.join(str(t) for t in ft.results)})>")
            except Exception:  # noqa: BLE001
                return "<func>"
        return f"<{type(v).__name__}>"

    # -- check_stack -------------------------------------------------------------------------------
    def _set_raw(self, name: str, value: int) -> None:
        bits = self.instrumented.bits
        value &= (1 << bits) - 1
        if value >> (bits - 1):
            value -= 1 << bits
        set_global(self.exports[name], self.store, value)

    def _get_raw(self, name: str) -> int:
        return self.exports[name].value(self.store) & ((1 << self.instrumented.bits) - 1)

    def _reset_check(self) -> None:
        ins = self.instrumented
        low, high = self._check_bounds
        self._set_raw(ins.sp_min_export, ins.initial_min)
        self._set_raw(ins.stack_low_export, low)
        self._set_raw(ins.stack_high_export, high)

    def get_sp_min(self) -> int | None:
        """The lowest value the stack pointer was set to since the last call started (check_stack only);
        None without check_stack or when the stack pointer was not written."""
        if self.instrumented is None:
            return None
        v = self._get_raw(self.instrumented.sp_min_export)
        return None if v == self.instrumented.initial_min else v

    def _overflow(self, frames: list) -> StackOverflow | None:
        """A StackOverflow when the trap came from the instrumentation hook (frames = wasmtime frames)."""
        ins = self.instrumented
        if (ins is None or not self.check_stack or not frames or frames[0].func_index != ins.hook_index
                or len(frames) < 2
                or getattr(self, "exports", None) is None):  # a trap in the start function: no exports yet
            return None
        low, high = self.stack_range
        mask = (1 << ins.bits) - 1
        sp_min = self._get_raw(ins.sp_min_export)
        idx = frames[1].func_index
        return StackOverflow(self.function_name(idx, frames[1].func_name), idx, (high - sp_min) & mask,
                             high - low, (low - sp_min) & mask, low, high, sp_min)

    def _trap_info(self, trap: wasmtime.Trap) -> TrapInfo:
        code = trap.trap_code
        kind = code.name.lower() if code is not None else "trap"
        message = _trap_message(trap.message) or kind
        if code is None and "thrown Wasm exception" in (trap.message or ""):
            kind, message = "uncaught_exception", "a wasm exception was thrown and nothing caught it"
        if code == wasmtime.TrapCode.INTERRUPT:
            w = self._watch
            kind, message = self._stop_text(w.reason if w is not None else None, w)
        elif code == wasmtime.TrapCode.OUT_OF_FUEL:
            kind, message = "out_of_fuel", f"ran out of fuel after {self.fuel} units (--fuel)"
        elif code == wasmtime.TrapCode.STACK_OVERFLOW:  # wasmtime's name; not the linear stack
            kind, message = "call_stack_exhausted", _TRAP_TEXT["call_stack_exhausted"]
        elif code is not None:
            message = _TRAP_TEXT.get(kind, message)
        wframes = list(trap.frames)
        overflow = None
        if code == wasmtime.TrapCode.UNREACHABLE:
            overflow = self._overflow(wframes)
            if overflow is not None:
                kind, message = "stack_overflow", overflow.message
                wframes = wframes[1:]  # the hook is wasmem's, not the module's
        frames = self._frames(wframes)
        sp = None
        try:
            sp = self.get_sp()
        except Exception:  # noqa: BLE001
            pass
        return TrapInfo(kind, message, frames, sp, overflow=overflow)

    def _frames(self, wframes) -> list[TraceFrame]:
        frames = []
        for f in wframes:
            idx = f.func_index
            if idx >= self.module.num_functions:
                continue  # appended by instrumentation (the watch pass's check): wasmem's, not the module's
            name = self.function_name(idx, f.func_name)
            fo, mo = f.func_offset, f.module_offset
            known = mo is not None and 0 <= mo < 1 << 48 and fo is not None and 0 <= fo < 1 << 48
            if known and self.rewritten is not None and fo <= mo:
                # the function's own reference point (mo - fo) maps back too: offsets in the original body
                orig = self._original_offset(mo)
                fo = max(0, orig - self._original_offset(mo - fo))
                frames.append(TraceFrame(idx, name, fo, orig))
                continue
            frames.append(TraceFrame(idx, name, fo if known else None,
                                     self._original_offset(mo) if known else None))
        return frames

    def _original_offset(self, off: int) -> int:
        if off >= self._offset_at + self._offset_delta:
            off -= self._offset_delta
        if self.rewritten is not None:
            mapped = self.rewritten.original_offset(off)
            if mapped is not None:
                return mapped
        return off

    def _watch_pass(self, watch: dict | None, sp_global: int | None):
        """The watch pass for ``watch`` (runtime/watch.py's watch_spec), or None."""
        if not watch:
            return None
        sp_range = watch.get("sp_range")
        if sp_range is not None and sp_global is None:
            raise UsageError("--watch sp: no stack pointer known for this module (see `wasmem stack`)")
        try:
            return WatchPass(watch["ranges"], reads=watch.get("reads", False), sp_range=sp_range,
                             sp_global=sp_global if sp_range is not None else None)
        except ParseError as exc:
            raise UsageError(f"--watch: {exc}") from None

    def _heap_pass(self, heap: dict | None):
        """The heap pass for ``heap`` (runtime/heap.py's heap_spec), or None."""
        if not heap:
            return None
        from ..instrument.heap import HeapPass

        try:
            return HeapPass(heap["functions"], immediate=bool(heap.get("paths")))
        except ParseError as exc:
            raise UsageError(str(exc)) from None

    def call_path(self, keep: int) -> tuple[list[str], int] | None:
        """(the innermost ``keep`` functions active now, outermost first; how many are active) from the
        call-path pass's shadow stack (instrument/callpath.py), or None when the module was not rewritten
        with it. Read by a host function the module called (a watch hit, a heap event)."""
        from ..instrument.callpath import RING

        cp = getattr(self, "callpath_pass", None)
        if cp is None:
            return None
        ex, store = self.exports, self.store
        depth = ex[cp.exports["depth"]].value(store) & 0xFFFFFFFF
        n = min(depth, RING, keep)
        raw = ex[cp.exports["memory"]].read(store, 0, RING * 4)
        idx = [int.from_bytes(raw[4 * (k % RING):4 * (k % RING) + 4], "little") for k in range(depth - n, depth)]
        return [self.function_name(i) for i in idx], depth

    def function_name(self, index: int, fallback: str | None = None) -> str:
        n = self.module.names.functions.get(index)
        if n:
            return n
        exp = self.module.get_export_names("func", index)
        if exp:
            return exp[0]
        if fallback and not fallback.startswith("<"):
            return fallback
        return f"func[{index}]"

    def _pull_wasi_output(self) -> None:
        """Moves what WASI wrote to its files since the last time into the host's output buffers: at most
        what --max-output leaves room for; the rest is only counted (from the file's size)."""
        for k, (path, buf) in enumerate(zip(self._tmpfiles, (self.host.stdout, self.host.stderr), strict=False)):
            try:
                with open(path, "rb") as f:
                    size = os.fstat(f.fileno()).st_size
                    new = size - self._out_pos[k]
                    if new <= 0:
                        continue
                    room = new if not self.max_output else max(0, min(new, self.max_output - len(buf)))
                    f.seek(self._out_pos[k])
                    data = f.read(room) if room else b""
            except OSError:
                continue
            self._out_pos[k] += new
            buf.extend(data)
            self.host.truncated[k] += new - len(data)

    def _take_output(self) -> tuple[bytes, bytes]:
        """What the module wrote to stdout and stderr since the last time (WASI's and host functions'), each
        cut at --max-output; ``self.truncated`` says how many bytes of each were dropped."""
        self._pull_wasi_output()
        out = bytes(self.host.stdout), bytes(self.host.stderr)
        self.truncated = tuple(self.host.truncated)
        self.host.stdout.clear()
        self.host.stderr.clear()
        self.host.truncated[:] = [0, 0]
        return out

    # -- globals and the stack pointer ------------------------------------------------------------
    def _global_obj(self, index: int):
        if index in self._imported_globals:
            return self._imported_globals[index]
        name = self._global_exports.get(index)
        if name is None:
            raise UsageError(f"global {index} does not exist ({len(self.module.globals)} globals)")
        return self.exports[name]

    def get_global(self, index: int):
        return self._global_obj(index).value(self.store)

    def set_global(self, index: int, value) -> None:
        self._global_obj(index).set_value(self.store, value)

    def find_global(self, name: str) -> int | None:
        """Global index for an export name or a name-section name."""
        e = self.module.find_export(name)
        if e is not None and e.kind == "global":
            return e.index
        for idx, n in self.module.names.globals.items():
            if n == name:
                return idx
        for imp in self.module.imports:
            if imp.kind == "global" and imp.name == name:
                return sum(1 for j in self.module.imports[:imp.index] if j.kind == "global")
        return None

    @property
    def has_sp(self) -> bool:
        return self.sp_global is not None

    def get_sp(self) -> int | None:
        if self.sp_global is None:
            return None
        v = self.get_global(self.sp_global)
        return v & 0xFFFFFFFF if isinstance(v, int) and v < 0 and not self._is64 else v

    def set_sp(self, value: int) -> None:
        if self.sp_global is None:
            raise UsageError("this module has no known stack pointer")
        if not self._is64 and value >= 2**31:
            value -= 2**32
        elif self._is64 and value >= 2**63:
            value -= 2**64
        self.set_global(self.sp_global, value)

    def _code_size(self) -> int:
        code = self.module.get_section(10)
        return code.size if code is not None else 0

    @property
    def _is64(self) -> bool:
        return bool(self.module.memories and self.module.memories[0].type.is64)

    def resolve_address(self, text: str) -> int:
        """Address expression → int: decimal, 0x hex, ``sp``, an exported or named global, ``name+0x10``."""
        def lookup(name: str):
            if name.lower() == "sp":
                sp = self.get_sp()
                if sp is None:
                    raise UsageError("`sp`: this module has no known stack pointer")
                return sp
            g = self.find_global(name)
            if g is not None:
                v = self.get_global(g)
                return v & 0xFFFFFFFF if isinstance(v, int) and v < 0 else v
            return None
        return eval_address(text, lookup)

    # -- memory -------------------------------------------------------------------------------------
    def _mem(self, index: int) -> _Mem:
        m = self.memories.get(index)
        if m is None:
            n = len(self.module.memories)
            raise UsageError(f"memory {index} does not exist (the module has {n} memor{'y' if n == 1 else 'ies'})")
        return m

    def memory(self, index: int = 0) -> MemoryInfo:
        m = self._mem(index)
        decl = self.module.memories[index]
        imp = f"{decl.imported.module}.{decl.imported.name}" if decl.imported else None
        exp = self.module.get_export_names("memory", index)
        return MemoryInfo(index, m.pages(self.store), m.size(self.store), decl.type.min_pages, decl.type.max_pages,
                          decl.type.shared, decl.type.is64, imp, exp[0] if exp else None)

    def memory_size(self, index: int = 0) -> int:
        return self._mem(index).size(self.store)

    def read(self, addr: int, n: int, memory: int = 0) -> bytes:
        m = self._mem(memory)
        size = m.size(self.store)
        check_range(addr, n, size, f"memory {memory}")
        return ctypes.string_at(m.address(self.store) + addr, n) if n else b""

    def write(self, addr: int, data: bytes, memory: int = 0) -> None:
        m = self._mem(memory)
        size = m.size(self.store)
        if addr < 0 or addr + len(data) > size:
            raise UsageError(f"cannot write {len(data)} bytes at {addr:#x}: memory {memory} is {size} bytes")
        if data:
            ctypes.memmove(m.address(self.store) + addr, bytes(data), len(data))
            if memory == 0 and self.heap_tracker is not None:  # --memcheck-uninit: written bytes are written
                self.heap_tracker.host_wrote(addr, len(data))

    def _image(self, index: int) -> bytes:
        m = self.memories[index]
        # a ctypes array, not string_at: string_at's size is a C int (memories may exceed 2 GiB)
        return bytes((ctypes.c_ubyte * m.size(self.store)).from_address(m.address(self.store)))

    def snapshot(self) -> Snapshot:
        globals_ = {}
        for idx in range(len(self.module.globals)):
            try:
                globals_[idx] = self.get_global(idx)
            except Exception:  # noqa: BLE001 - reference-typed globals
                pass
        return Snapshot([self._image(i) for i in sorted(self.memories)], globals_, self.get_sp())

    def restore(self, snap: Snapshot) -> None:
        for i, data in zip(sorted(self.memories), snap.memories, strict=False):
            size = self.memory_size(i)
            self.write(0, data[:size], i)
        for idx, v in snap.globals.items():
            if self.module.globals[idx].type.mutable:
                try:
                    self.set_global(idx, v)
                except Exception:  # noqa: BLE001
                    pass

    # -- calls --------------------------------------------------------------------------------------
    def find_function(self, name: str):
        e = self.module.find_export(name)
        if e is None or e.kind != "func":
            funcs = [x.name for x in self.module.exports if x.kind == "func"]
            close = [f for f in funcs if name.lower() in f.lower() or f.lower() in name.lower()][:5]
            hint = f"; did you mean {', '.join(close)}?" if close else (
                f"; exported functions: {', '.join(funcs[:12])}{'…' if len(funcs) > 12 else ''}" if funcs
                else "; the module exports no functions")
            raise UsageError(f"{name!r} is not an exported function of {self.name}{hint}")
        return e.index, self.module.get_function_type(e.index)

    def signature(self, name: str, func_index: int, ft: FuncType, *, skip: int = 0) -> str:
        names = self.module.names.locals.get(func_index, {})
        ps = [f"{t} {names[i]}" if names.get(i) else t for i, t in enumerate(ft.params)][skip:]
        res = f" -> {', '.join(ft.results)}" if ft.results else ""
        return f"({', '.join(ps)}){res}"

    def _find_allocator(self, alloc: str | None):
        """(alloc export, free export or None) or None when the module has no allocator."""
        if alloc:
            a, _, f = alloc.partition(",")
            a = a.strip()
            if self.module.find_export(a) is None:
                raise UsageError(f"--alloc {a}: not an exported function")
            f = f.strip() or dict(ALLOCATORS).get(a)
            if f and (self.module.find_export(f) is None):
                f = None
            return a, f
        for a, f in ALLOCATORS:
            e = self.module.find_export(a)
            if e is not None and e.kind == "func":
                fe = self.module.find_export(f) if f else None
                return a, (f if fe is not None and fe.kind == "func" else None)
        return None

    def call(self, name: str, args: list[str], *, returns: str | None = None, ret_size: int = 16,
             alloc: str | None = None, sret: bool | None = None, writes=()) -> CallResult:
        """Calls the export ``name`` with command-line style ``args`` and reports what happened.

        A hidden result pointer (sret) is passed only when asked: ``sret=True``, or ``returns`` given (the
        CLI also passes sret=True when DWARF says the function returns a struct). Otherwise the arguments
        must match the parameters one to one (``s:``/``b:`` fill two). ``writes`` are ``ADDR=HEX`` texts
        written into memory 0 just before the call (not counted as the call's changes)."""
        args = list(args)
        func_index, ft = self.find_function(name)
        self._refuse_init(name)
        params = ft.params
        ptr_t = "i64" if self._is64 else "i32"
        layout = parse_layout(returns) if returns else None

        mem_args = [self._host_arg(parse_memory_arg(a)) for a in args]
        slots = sum(m.slots if m is not None else 1 for m in mem_args)
        could_sret = bool(not ft.results and params and params[0] == ptr_t)
        if sret is None:
            sret = returns is not None
        if sret and not could_sret:
            why = "it returns values" if ft.results else f"its first parameter is not an {ptr_t} pointer"
            raise UsageError(f"{name}{self.signature(name, func_index, ft)} has no hidden result pointer ({why}): "
                             f"drop --sret/--returns")
        if slots != len(params) - (1 if sret else 0):
            shown = self.signature(name, func_index, ft, skip=1 if sret else 0)
            extra = f" (after the hidden {ptr_t} result pointer)" if sret else ""
            hint = ""
            if not sret and could_sret and slots == len(params) - 1:
                hint = ("; if it returns a struct through a hidden pointer (its first parameter), pass --sret or "
                        "--returns LAYOUT")
            raise UsageError(f"{name} expects {shown}{extra} but got {len(args)} argument"
                             f"{'' if len(args) == 1 else 's'}" + (f": {' '.join(args)}" if args else "") + hint)
        sig = self.signature(name, func_index, ft, skip=1 if sret else 0)
        pre_writes = [parse_write(w) for w in writes]

        # parse every argument before touching memory
        plan: list = []  # ints/floats, or MemoryArg for data placed in memory
        k = 1 if sret else 0
        for i, a in enumerate(args):
            marg = mem_args[i]
            if marg is not None:
                want = params[k:k + marg.slots]
                if any(t not in ("i32", "i64") for t in want):
                    what = "a (ptr, len) pair" if marg.pair else "a pointer"
                    at = f"parameter {k + 1 - (1 if sret else 0)}"
                    if marg.pair:
                        at = f"parameters {k + 1 - (1 if sret else 0)}-{k + 2 - (1 if sret else 0)}"
                    raise UsageError(f"{name}: argument {i + 1} {a[:20]!r} is {what} but {at} "
                                     f"{'are' if marg.pair else 'is'} {', '.join(want)}; {name} expects {sig}")
                plan.append(marg)
                k += marg.slots
            else:
                try:
                    plan.append(parse_arg(a, params[k]))
                except UsageError as exc:
                    raise UsageError(f"{name}: argument {i + 1}: {exc.message}; {name} expects {sig}") from None
                k += 1

        result = CallResult(name, sig, [], params, ft.results, user_args=list(args))
        sp0 = self.get_sp()
        result.sp_before = sp0
        self.host.calls.clear()
        self.host.dropped = 0
        self._take_output()  # drop anything left from earlier calls
        frees: list[tuple[str, int, int]] = []
        sp_call = None  # the stack pointer the export is called with (after wasmem's own moves)
        t0 = time.perf_counter()
        try:
            # strings and bytes
            allocator = None
            values: list = []
            sret_addr = None
            if sret:
                size = max(16, _align_up(layout.size if layout else ret_size, 16))
                if sp0 is None:
                    raise UsageError(f"{name} returns through a hidden pointer but this module has no known "
                                     f"stack pointer to allocate the slot on")
                sret_addr = sp0 - size
                self._check_stack(sret_addr, size)
                self.write(sret_addr, b"\0" * size)
                self.set_sp(sret_addr)
                values.append(sret_addr)
            for i, item in enumerate(plan):
                if isinstance(item, HostString):  # the host profile's own convention (AssemblyScript's String)
                    values += self._place_host_string(item, args[i], result.allocations, frees)
                elif isinstance(item, MemoryArg):
                    data = item.data
                    if allocator is None:
                        allocator = self._find_allocator(alloc) or False
                    if allocator:
                        owned = self.host_choice.profile.callee_owns_args
                        ptr = self._alloc(allocator[0], len(data) if owned else max(1, len(data)))
                        if allocator[1] and not owned:
                            frees.append((allocator[1], ptr, max(1, len(data))))
                        via = allocator[0]
                    else:
                        sp = self.get_sp()
                        if sp is None:
                            raise UsageError(f"argument {args[i][:20]!r}: the module exports no allocator "
                                             f"(allocate, malloc, __wbindgen_malloc, cabi_realloc) and has no "
                                             f"known stack pointer; pass --alloc NAME")
                        ptr = sp - max(16, _align_up(len(data) + 1, 16))
                        self._check_stack(ptr, len(data))
                        self.set_sp(ptr)
                        via = "stack"
                    self.write(ptr, data)
                    result.allocations.append(Allocation(args[i], ptr, len(data), via))
                    values += [ptr, len(data)] if item.pair else [ptr]
                else:
                    values.append(item)
            for expr, data in pre_writes:
                addr = self.resolve_address(expr)
                self.write(addr, data)
                result.writes.append((addr, data))
            result.args = values
            self.host.calls.clear()
            self._take_output()

            # before-state, stack paint, call
            before = {i: self._image(i) for i in sorted(self.memories)}
            pages_before = {i: self.memories[i].pages(self.store) for i in sorted(self.memories)}
            sp_call = self.get_sp()
            painted = self._paint(sp_call, result.writes) if self.measure == "paint" else None
            out = self._invoke(self.exports[name], values)
            result.seconds = time.perf_counter() - t0
            if isinstance(out, TrapInfo):
                result.trap = out
            else:
                result.results = out
            result.sp_after = self.get_sp()
            low_high = self.stack_range or (None, None)
            if painted is not None:  # restore the paint in place first, so the after-image is the program's
                low, high = painted
                lowest = self._unpaint(low, high, before[0])
            after = {i: self._image(i) for i in sorted(self.memories)}
            if result.trap is not None and self.on_trap is not None:
                self.on_trap(result.trap)  # the instance as the trap left it (a coredump), before any reset
            if painted is not None:
                result.stack = StackUse(sp_call, min(lowest, sp_call), *low_high, method="paint", floor=low,
                                        note=self.paint_reason)
            if self.instrumented is not None and sp_call is not None:
                sp_min = self.get_sp_min()
                top = low_high[1] if low_high[1] is not None else sp_call
                if sp_min is None or sp_min > sp_call and sp_min <= top:
                    sp_min = sp_call  # never moved below where it started
                if result.stack is None:
                    lowest = sp_min if self.measure == "instrument" and sp_min <= sp_call else sp_call
                    result.stack = StackUse(sp_call, lowest, *low_high, method="instrument",
                                            note=self.paint_reason)
                result.stack.sp_min = sp_min
                result.stack.exact_peak = (sp_call - sp_min) & ((1 << self.instrumented.bits) - 1)
                result.stack.overflowed = result.trap is not None and result.trap.overflow is not None
            if result.stack is None and sp_call is not None:
                result.stack_note = self.paint_reason or "not measured"
            result.limit_notes = self.memory_limit_notes()
            for i in sorted(self.memories):
                result.changes += _diff(i, before[i], after[i])
                pn = self.memories[i].pages(self.store)
                if pn != pages_before[i]:
                    result.growth.append(MemoryGrowth(i, pages_before[i], pn))
            if sret_addr is not None:
                data = self.read(sret_addr, layout.size if layout else ret_size)
                fields = [(f.name, f.type, v) for f, v in decode_fields(data, layout)] if layout else []
                result.sret = SretResult(sret_addr, len(data), data, layout, fields)
        finally:
            result.host_calls = list(self.host.calls)
            result.stdout, result.stderr = self._take_output()
            result.stdout_truncated, result.stderr_truncated = self.truncated
            if sp0 is not None:
                # Give back only what wasmem took: the program's own net move of the stack pointer stays (an
                # export such as stackAlloc or __wbindgen_add_to_stack_pointer exists to move it). After a
                # trap the stack pointer is put back where the call found it, so the instance stays usable
                # (documented: a plain host leaves it where the trap did).
                try:
                    after_sp = result.sp_after
                    if result.trap is not None or sp_call is None or after_sp is None:
                        target = sp0
                    else:
                        target = sp0 + (after_sp - sp_call)
                    if target != self.get_sp():
                        self.set_sp(target & ((1 << (64 if self._is64 else 32)) - 1))
                except Exception:  # noqa: BLE001
                    pass
            for fname, ptr, size in frees:
                self._free(fname, ptr, size)
            self.host.calls.clear()
            self._take_output()
        return result

    def _refuse_init(self, name: str) -> None:
        if name in self.init_functions:
            what = {"_initialize": "a WASI reactor's _initialize runs once, before any other export, and "
                                   "wasi-libc's traps when called again",
                    "__wbindgen_start": "wasm-bindgen's JS calls it once, right after instantiating",
                    "__wasm_apply_data_relocs": "Emscripten's loader applies them once; again would add the "
                                                "memory base a second time"}.get(
                name, "running the constructors twice would initialise the program's data again")
            raise UsageError(f"{name} already ran when wasmem opened {self.name}: {what}. Call the export you "
                             f"want directly")

    def _host_arg(self, marg):
        """An ``s:`` argument the host profile passes its own way (AssemblyScript: one String pointer)."""
        profile = self.host_choice.profile
        if marg is not None and marg.pair and marg.text and profile.takes_string(self):
            return HostString(marg.data, profile.string_pair, True, profile.name)
        return marg

    def _place_host_string(self, item, arg: str, allocations: list, frees: list) -> list:
        placed = self.host_choice.profile.encode_string(self, item.data.decode("utf-8", "surrogateescape"))
        allocations.append(Allocation(arg, placed.ptr, placed.size, placed.via))
        if placed.free:
            frees.append((placed.free, placed.ptr, placed.size))
        return [placed.ptr] if placed.length is None else [placed.ptr, placed.length]

    def _check_stack(self, addr: int, size: int) -> None:
        low = self.stack_range[0] if self.stack_range else 0
        if addr < low:
            raise UsageError(f"no room on the linear stack for {size} bytes (stack pointer near its low end {low:#x})")
        self.read(addr, size)  # bounds check

    def _paint(self, sp: int | None, keep=()):
        """Paints the free stack [max(low, NULL_GUARD), sp); bytes written for the call (``keep``: (addr,
        data) pairs, e.g. --write into free stack) and everything above them stay as they are."""
        if sp is None or not self.stack_range or 0 not in self.memories:
            return None
        low, high = self.stack_range
        low = max(low, NULL_GUARD)
        top = min(sp, high, *(a for a, _ in keep if a < min(sp, high)))
        if not 0 <= low < top <= self.memory_size(0):
            return None
        ctypes.memset(self.memories[0].address(self.store) + low, PAINT, top - low)
        return low, top

    def _unpaint(self, low: int, high: int, before: bytes) -> int:
        """In memory 0: finds the lowest byte of the painted [low, high) that no longer holds the paint and
        puts every byte that still holds it back to what ``before`` (the image taken before painting) had
        there. Returns that lowest address (``high`` when the call touched nothing): one copy of the painted
        range, a chunked scan for the first changed byte, one copy back for the untouched part below it and
        one per run of paint above it (1 MiB: about 0.3 ms)."""
        mem = self.memories[0]
        if mem.size(self.store) < high:
            return high
        base = mem.address(self.store)  # after the call: memory.grow may have moved it
        data = ctypes.string_at(base + low, high - low)
        # the first changed byte: whole chunks compared with memcmp (bytes ==), then one chunk stripped
        n, i = len(data), 0
        while i < n and data[i:i + _SCAN] == _PAINTED[:min(_SCAN, n - i)]:
            i += _SCAN
        i = min(i, n)
        chunk = data[i:i + _SCAN]
        lowest = low + i + len(chunk) - len(chunk.lstrip(_PAINTED[:1]))
        if lowest > low:
            ctypes.memmove(base + low, before[low:lowest], lowest - low)
        for run in _PAINT_RUN.finditer(data, lowest - low):
            a, b = run.span()
            ctypes.memmove(base + low + a, before[low + a:low + b], b - a)
        return lowest

    def _alloc(self, fname: str, size: int, align: int = 1) -> int:
        _, ft = self.find_function(fname)
        n = len(ft.params)
        if n == 4:  # the canonical ABI's cabi_realloc(old_ptr, old_size, align, new_size)
            args = [0, 0, align, size]
        elif n == 2:  # __wbindgen_malloc(size, align), Rust-style alloc(size, align)
            args = [size, align]
        elif n == 1:
            args = [size]
        else:
            raise UsageError(f"the allocator {fname} takes {n} parameters: wasmem knows (size), (size, align) "
                             f"and cabi_realloc's (old_ptr, old_size, align, new_size); pass --alloc NAME")
        out = self._invoke(self.exports[fname], args)
        shown = f"{fname}({', '.join(map(str, args))})"
        if isinstance(out, TrapInfo):
            raise RunError(f"the allocator {shown} trapped: {out.message}")
        if not out or not out[0]:
            raise RunError(f"the allocator {shown} returned NULL")
        return out[0] & (0xFFFFFFFF if not self._is64 else 0xFFFFFFFFFFFFFFFF)

    def _free(self, fname: str, ptr: int, size: int) -> None:
        try:
            _, ft = self.find_function(fname)
        except UsageError:
            return
        args = [ptr, size, 1][:len(ft.params)]  # free(ptr), deallocate(ptr, size), __wbindgen_free(ptr, size, align)
        if not self._is64 and ptr >= 2**31:
            args[0] = ptr - 2**32
        self._invoke(self.exports[fname], args)

    # -- lifetime -----------------------------------------------------------------------------------
    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        self._stop_progress()
        self._disarm()
        self._signals.close()
        for p in self._tmpfiles:
            try:
                os.unlink(p)
            except OSError:
                pass

    def __enter__(self) -> Session:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def __del__(self) -> None:
        try:
            self.close()
        except Exception:  # noqa: BLE001
            pass


_TRAP_TEXT = {
    "unreachable": "wasm `unreachable` instruction executed",
    "memory_out_of_bounds": "out of bounds memory access",
    "call_stack_exhausted": "too deep a native recursion exhausted the engine's call stack (not the "
                            "linear stack)",
    "integer_division_by_zero": "integer divide by zero",
    "integer_overflow": "integer overflow",
    "indirect_call_to_null": "indirect call to a null table entry",
    "table_out_of_bounds": "undefined element: out of bounds table access",
    "bad_signature": "indirect call type mismatch",
    "bad_conversion_to_integer": "invalid conversion to integer",
    "heap_misaligned": "misaligned memory access",
}


def _trap_message(text: str | None) -> str:
    """The informative line of an engine trap message: its "Caused by" when there is one (the first line
    of wasmtime's text is the generic "error while executing at wasm backtrace:")."""
    lines = [ln.strip() for ln in (text or "").strip().splitlines() if ln.strip()]
    if "Caused by:" in lines and lines.index("Caused by:") + 1 < len(lines):
        return lines[lines.index("Caused by:") + 1]
    return lines[0] if lines else ""


def _first_line(exc: Exception) -> str:
    msg = str(exc).strip()
    lines = [ln.strip() for ln in msg.splitlines() if ln.strip()]
    if not lines:
        return type(exc).__name__
    # wasmtime puts the cause under "Caused by:"; show both when present
    if "Caused by:" in lines:
        i = lines.index("Caused by:")
        causes = [ln.lstrip("0123456789: ") for ln in lines[i + 1:]]
        return f"{lines[0]}: {'; '.join(causes)}" if causes else lines[0]
    return lines[0]


def _diff(memory: int, before: bytes, after: bytes) -> list[ChangedRange]:
    """Byte ranges that differ. Compares 4 KiB blocks, then 64-byte lines, then bytes. Bytes past the old
    end (after growth) are compared with zeros."""
    if len(after) > len(before):
        before = before + bytes(len(after) - len(before))
    n = min(len(before), len(after))
    ranges: list[list[int]] = []
    for b in range(0, n, BLOCK):
        e = min(b + BLOCK, n)
        if before[b:e] == after[b:e]:
            continue
        for lb in range(b, e, 64):
            le = min(lb + 64, e)
            x, y = before[lb:le], after[lb:le]
            if x == y:
                continue
            for j in range(le - lb):
                if x[j] != y[j]:
                    a = lb + j
                    if ranges and a - ranges[-1][1] <= MERGE_GAP:
                        ranges[-1][1] = a + 1
                    else:
                        ranges.append([a, a + 1])
    return [ChangedRange(memory, s, e, before[s:e], after[s:e]) for s, e in ranges]


def _configure_cache(cfg: wasmtime.Config) -> str | None:
    """Enables wasmtime's compile cache. ``WASMEM_CACHE_DIR`` overrides wasmtime's default location
    (``~/.cache/wasmtime`` on Linux) through a generated cache config file. Returns the directory used
    or None when caching could not be enabled."""
    d = os.environ.get("WASMEM_CACHE_DIR")
    try:
        if d:
            os.makedirs(d, exist_ok=True)
            # not inside the cache directory: wasmtime's cache cleaner deletes files it does not know. A
            # fresh file of our own (mkstemp: O_EXCL, mode 0600, never through a planted symlink), read by
            # wasmtime when it is set, then removed
            esc = os.path.abspath(d).replace("\\", "\\\\").replace('"', '\\"')
            fd, toml = tempfile.mkstemp(prefix="wasmem-cache-", suffix=".toml")
            try:
                with os.fdopen(fd, "w") as f:
                    f.write(f'[cache]\ndirectory = "{esc}"\n')
                cfg.cache = toml
            finally:
                os.unlink(toml)
            return os.path.abspath(d)
        cfg.cache = True
        base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
        return os.path.join(base, "wasmtime")
    except Exception:  # noqa: BLE001 - caching is an optimisation only
        return None
