"""A live instance of a module in wasmtime: a short composition of parts with one job each.

- engine.py: wasmtime's configuration, the compile cache, refusing what wasmtime cannot run, compiling;
- prepare.py: the observers' passes in one rewrite, the exports the host needs, the offset map back;
- linking.py: every import satisfied (host profiles in hosts/, WASI, memories, tables, globals);
- invoke.py: entering the guest under its limits, observers around it, traps translated;
- memory.py: memories and globals as the host sees them; limits.py: the memory budget;
- calls.py: a user call from planning its arguments to giving back what wasmem took;
- output.py: the guest's stdout and stderr; observers/: stack, call path, watchpoints, heap tracking.

``Session(module, spec=SessionSpec(...))`` (or the same options as keywords) prepares, compiles, links and
instantiates the module, attaches the observers and runs its initialisation exports."""

from __future__ import annotations

import ctypes
import functools
import os

import wasmtime

from ..errors import RunError, UsageError
from ..model.ranges import CHUNK
from ..model.values import check_range
from ..parser.module import WasmModule
from .budget import SignalPipe
from .calls import allocate, find_function, plan_call, run_call
from .engine import compile_module, first_line, make_engine, refuse_unrunnable
from .hosts import Guest, HostState, HostTrap, choose_host
from .invoke import Invoker
from .limits import MemoryBudget
from .linking import Imports
from .memory import GuestMemory, set_global
from .observers import CallPathProbe, HeapProbe, Observer, WatchProbe
from .observers.stack import StackProbe
from .output import GuestOutput
from .prepare import prepare
from .readside import ReadSide
from .results import CallResult, MemoryInfo, Snapshot, TrapInfo
from .rewritecache import cache_dir as rewrite_cache_dir
from .spec import SessionSpec

INIT_EXPORTS = ("_initialize", "__wasm_call_ctors")
__all__ = ["Session", "SessionSpec", "INIT_EXPORTS", "set_global"]


def _stops_progress_on_error(init):
    """Session.__init__ ends the progress display when it raises (an error line must not be drawn under a
    live status)."""
    @functools.wraps(init)
    def wrapper(self, *args, **kwargs):
        try:
            init(self, *args, **kwargs)
        except BaseException as exc:
            self._stop_progress(exc)
            raise
    return wrapper


class Session(ReadSide):
    """One instantiated module. ``observers`` (stack, heap, call path, watch; in this order: it is the order
    of their passes) join every run through one interface (observers/__init__.py)."""

    @_stops_progress_on_error
    def __init__(self, module: WasmModule, spec: SessionSpec | None = None, **options):
        spec = spec if spec is not None else SessionSpec(**options)
        spec.check()
        self.module, self.spec = module, spec
        self.name = os.path.basename(module.path) if module.path else "module.wasm"
        self.sp_global, self.stack_range, self.pages = spec.sp_global, spec.stack_range, spec.pages
        self.timeout, self.fuel, self.max_memory = spec.timeout, spec.fuel, spec.max_memory
        self.regions: list = []  # filled by open_session from the layout model
        self.layout = None
        self.on_trap = None  # called with the TrapInfo when a call traps, before wasmem resets anything
        self._closed, self._progress, self.memories = False, None, {}
        self.init_calls: list[tuple[str, list]] = []  # the initialisation exports called, in order, with their
        # arguments (a host's start has some): init_functions and init_function are read from it
        self.host = HostState(strict=spec.strict_imports, max_output=spec.max_output)
        self.output = GuestOutput(self.host, spec.max_output)
        self.engine, self.cache_location = make_engine(fuel=spec.fuel is not None, cache=spec.cache)
        # before any slow work: a module wasmtime cannot run is refused at once
        refuse_unrunnable(self.engine, module, self.name, self.function_name)
        self._start_progress(spec.on_compile)  # a status while preparing and compiling (the CLI's: on stderr)
        self.store = wasmtime.Store(self.engine)
        self.budget = MemoryBudget(module, self.store, self.name, spec.max_memory, spec.max_table_entries)
        self.host_choice = choose_host(module, spec.host)  # the host profile (hosts/): which functions imports get
        self.wasi = self.host_choice.wasi
        self.observers = self._make_observers(spec)
        self._observers_by_name: dict = {}  # read on hot paths (watch hits, heap events, writes); first wins
        for o in self.observers:
            self._observers_by_name.setdefault(o.name, o)
        self.invoker = Invoker(self.engine, self.store, timeout=self.timeout, fuel=self.fuel, output=self.output,
                               signals=SignalPipe(), on_stuck=spec.on_stuck, deadline=spec.deadline)
        self.prepared = prepare(module, self.observers, host_choice=self.host_choice, budget=self.budget,
                                max_table_entries=spec.max_table_entries,
                                rewrite_cache=self._rewrite_cache)
        self.invoker.code = self.prepared.code
        self._progress_phase("compiling")
        try:
            self.wmodule = compile_module(self.engine, self.prepared.data, self.name, self.function_name,
                                          spec.deadline)
        except BaseException as exc:
            self._stop_progress(exc)
            raise
        self._stop_progress()
        self._instantiate(spec)
        self.guest = Guest(module, invoke=lambda name, args: self.invoke(self.exports[name], args),
                           allocate=lambda fname, size, align=1: allocate(self, fname, size, align),
                           read=self.read, write=self.write)
        for o in self.observers:  # before the initialisation exports: constructors' allocations count
            o.attach(self)
        self.invoker.observers = self.observers
        self._run_init_exports()

    @property
    def init_functions(self) -> list[str]:
        """The initialisation exports that ran, in order."""
        return [name for name, _ in self.init_calls]

    @property
    def init_function(self) -> str | None:
        """The last of them."""
        return self.init_calls[-1][0] if self.init_calls else None

    # -- building it ---------------------------------------------------------------------------------
    def _make_observers(self, spec: SessionSpec) -> list:
        self._rewrite_cache = rewrite_cache_dir() if spec.cache else None
        stack = StackProbe(self.module, self.name, sp_global=spec.sp_global, stack_range=spec.stack_range,
                           check_stack=spec.check_stack, paint=spec.paint, paint_safe=spec.paint_safe,
                           rewrite_cache=self._rewrite_cache)
        watch = WatchProbe(spec.watch, spec.sp_global) if spec.watch else None
        heap = HeapProbe(spec.heap) if spec.heap else None
        wants_path = (watch is not None and spec.watch.get("call_path", True)) or (heap is not None and heap.paths)
        callpath = CallPathProbe() if wants_path else None
        return [o for o in (stack, heap, callpath, watch) if o is not None] + [make() for make in spec.probes]

    def _instantiate(self, spec: SessionSpec) -> None:
        self.linker = wasmtime.Linker(self.engine)
        self.imports = Imports(self.module, self.engine, self.store, self.linker, self.wmodule, name=self.name,
                               host=self.host, host_choice=self.host_choice, budget=self.budget,
                               sp_global=self.sp_global, stack_range=self.stack_range)
        self.imports.define(spec.pages, spec.wasi_dirs, spec.wasi_env, spec.wasi_args, spec.wasi_stdin,
                            output=self.output, memory_of=self._host_memory,
                            hooks={"sp_get": self.get_sp, "sp_set": self.set_sp, "wait": self.invoker.host_wait})
        self.host_context = self.imports.context
        self.budget.limit_instantiation()
        self.invoker.arm()
        try:
            self.instance = self.linker.instantiate(self.store, self.wmodule)
        except HostTrap as exc:
            raise RunError(f"the start function of {self.name} trapped: {exc.message}") from None
        except wasmtime.Trap as exc:
            info = self.invoker.trap_info(exc)
            if not info.frames and info.kind == "memory_out_of_bounds":
                raise RunError(f"cannot instantiate {self.name}: {self._segment_misfit()}") from None
            raise RunError(f"the start function of {self.name} trapped: {info.message}") from None
        except wasmtime.WasmtimeError as exc:
            raise RunError(self.imports.instantiate_message(exc)) from None
        finally:
            self.invoker.disarm()
        self.exports = self.instance.exports(self.store)
        self.memories = dict(self.imports.memories)
        for idx, name in self.prepared.memory_exports.items():
            if idx not in self.memories:
                self.memories[idx] = GuestMemory(self.exports[name], self.module.memories[idx].type.page_size)
        self._grow_to(spec.pages)
        self.budget.limit_growth(self.memories, self._table_sizes())
        self.invoker.get_sp = self.get_sp

    def _segment_misfit(self) -> str:
        """No wasm frame: the engine failed while copying active data segments into memory."""
        mems = self.module.memories
        bad = [s for s in self.module.data_segments if s.mode == "active" and s.address is not None
               and s.memory < len(mems) and s.address + s.size > mems[s.memory].type.min_bytes]
        if not bad:
            return "an active data or element segment does not fit"
        b = bad[0]
        return (f"data segment {b.index} [{b.address:#x}, {b.address + b.size:#x}) does not fit in memory "
                f"{b.memory}'s {mems[b.memory].type.min_bytes} bytes")

    def _grow_to(self, pages: int | None) -> None:
        """``--pages N`` for a defined memory 0: grown to N pages after instantiating."""
        m0 = self.memories.get(0)
        if pages is None or m0 is None or self.module.memories[0].imported is not None:
            return
        if m0.pages(self.store) < pages:
            try:
                m0.grow(self.store, pages - m0.pages(self.store))
            except wasmtime.WasmtimeError as exc:
                raise RunError(f"cannot grow memory 0 to {pages} pages: {first_line(exc)}") from None

    def _run_init_exports(self) -> None:
        module, profile = self.module, self.host_choice.profile

        def exported_init(name: str) -> bool:
            e = module.find_export(name)
            return e is not None and e.kind == "func" and not module.get_function_type(e.index).params

        # a position-independent module (dynamic linking, tool-conventions DynamicLinking.md): the loader
        # applies its data relocations first, whatever the host
        relocs = [n for n in ("__wasm_apply_data_relocs",) if exported_init(n)]
        wanted = [n for n in profile.init_exports if exported_init(n)]
        ctors = [] if wanted and profile.init_replaces_ctors else [n for n in INIT_EXPORTS if exported_init(n)][:1]

        def run(name: str) -> None:
            self.init_calls.append((name, []))
            out = self.invoke(self.exports[name], [])
            if isinstance(out, TrapInfo):
                raise RunError(f"{name} trapped while initialising {self.name}: {out.message}")

        for name in relocs + wanted:
            run(name)
        for name, args in profile.start_runtime(self.guest):  # the host runtime's own start (Emscripten's
            self.init_calls.append((name, list(args)))        # stack limits)
        for name in ctors:
            run(name)
        self.init_output = self.output.take()

    def _host_memory(self, caller):
        """Memory 0 as host functions see it (also while the start function runs, before ``memories``)."""
        if 0 in self.memories:
            return self.memories[0]
        if 0 in self.imports.memories:
            return self.imports.memories[0]
        name = self.prepared.memory_exports.get(0)
        if name is not None:
            try:
                obj = caller.get(name)
            except Exception:  # noqa: BLE001
                obj = None
            if obj is not None:
                return GuestMemory(obj)
        return None

    def _table_sizes(self) -> dict[int, int]:
        """Current entries of the tables wasmem can see (imported ones and exported ones)."""
        sizes = {}
        imported = self.host_context.data.get("tables", [])
        k = 0  # (called once the instance exists: its exports are there)
        for t in self.module.tables:
            obj = None
            if t.imported is not None:
                obj = imported[k] if k < len(imported) else None
                k += 1
            else:
                name = self.prepared.table_exports.get(t.index)
                obj = self.exports[name] if name is not None else None
            if isinstance(obj, wasmtime.Table):
                try:
                    sizes[t.index] = obj.size(self.store)
                except Exception:  # noqa: BLE001
                    pass
        return sizes

    def memory_limit_notes(self) -> list[str]:
        """Memories (tables) the budget keeps from growing by one more page (entry): see limits.py."""
        return self.budget.notes(self.memories, self._table_sizes)

    # -- the progress display (cosmetic: a hook that fails is ignored) -------------------------------
    def _start_progress(self, on_compile) -> None:
        """Enters ``on_compile(name, size, cached)``'s context manager, if any."""
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

    def _stop_progress(self, exc: BaseException | None = None) -> None:
        """Leaves the hook's context manager (with ``exc``: the start failed)."""
        cm, self._progress = getattr(self, "_progress", None), None
        if cm is not None:
            try:
                cm.__exit__(*((type(exc), exc, exc.__traceback__) if exc is not None else (None, None, None)))
            except Exception:  # noqa: BLE001
                pass

    # -- observers ----------------------------------------------------------------------------------
    def observer(self, name: str):
        """The observer called ``name`` (stack, heap, callpath, watch), or None."""
        return self._observers_by_name.get(name)

    @property
    def stack_probe(self) -> StackProbe:
        return self.observer("stack")

    @property
    def measure(self) -> str | None:
        """How stack use is measured: "paint", "instrument" or None (see observers/stack.py)."""
        return self.stack_probe.measure

    @property
    def paint_reason(self) -> str:
        return self.stack_probe.paint_reason

    @property
    def check_stack(self) -> bool:
        return self.stack_probe.check_stack

    @property
    def instrumented(self):
        """instrument/stack.py's Instrumented when the stack pointer's writes are instrumented, else None."""
        return self.stack_probe.instrumented

    @property
    def rewritten(self):
        return self.prepared.code.rewritten

    @property
    def watch_pass(self):
        w = self.observer("watch")
        return w.pass_ if w is not None else None

    @property
    def watch_recorder(self):
        """runtime/watch.py's WatchRecorder once watch targets are attached (``attach_watch``), else None."""
        w = self.observer("watch")
        return w.recorder if w is not None else None

    @watch_recorder.setter
    def watch_recorder(self, recorder) -> None:
        w = self.observer("watch")
        if w is None:
            raise UsageError("--watch: this session was not instrumented for watching")
        w.recorder = recorder

    @property
    def memcheck_pass(self):
        h = self.observer("heap")
        return h.memcheck_pass if h is not None else None

    @property
    def heap_tracker(self):
        """runtime/heap.py's HeapTracker when the session tracks the heap, else None."""
        h = self.observer("heap")
        return h.tracker if h is not None else None

    def call_path(self, keep: int) -> tuple[list[str], int] | None:
        """(the innermost ``keep`` functions active now, outermost first; how many are active) from the
        call-path pass's shadow stack (instrument/callpath.py), or None when the module was not rewritten
        with it. Read by a host function the module called (a watch hit, a heap event)."""
        c = self.observer("callpath")
        return c.read(keep) if c is not None else None

    def observer_states(self) -> dict:
        """What each observer knows now (by name; those with nothing to keep are left out): kept beside a
        snapshot, given back to ``restore_observers``."""
        states = {o.name: o.state() for o in self.observers}
        return {k: v for k, v in states.items() if v is not None}

    def restore_observers(self, states: dict) -> list[str]:
        """Puts back what ``observer_states`` returned; the names of the observers whose state was not put
        back (none was kept for them, or it does not fit them)."""
        keeping = [o for o in self.observers if type(o).state is not Observer.state]  # those that keep a state
        return [o.name for o in keeping if not o.set_state(states.get(o.name))]

    def reinstrument(self, **changes) -> Session:
        """A new session of the same module with the options ``changes`` replaced (e.g. ``watch=`` or
        ``heap=``: rewritten for watching or heap tracking), its memories and globals carried over from this
        one (memories grown to this one's size first). Host state (WASI files, output so far) and table
        entries set at run time are not carried over. This session stays open: the caller closes it."""
        snap = self.snapshot()
        changes.setdefault("deadline", self.deadline)  # the running command's, not the one that opened this
        fresh = Session(self.module, self.spec.replace(**changes))
        try:
            fresh.layout, fresh.regions = self.layout, self.regions
            for i, image in zip(sorted(fresh.memories), snap.memories, strict=False):
                short = len(image) - fresh.memory_size(i)
                if short > 0:
                    fresh.memories[i].grow(fresh.store, -(-short // 65536))
            fresh.restore(snap)
        except BaseException:
            fresh.close()
            raise
        return fresh

    # -- invoking -----------------------------------------------------------------------------------
    @property
    def deadline(self):
        """The deadline of the command this session works for (wasmem.deadline.Deadline, or None): each call's
        limit is the smaller of ``timeout`` and what it leaves. The shell sets one per command."""
        return self.invoker.deadline

    @deadline.setter
    def deadline(self, deadline) -> None:
        self.invoker.deadline = deadline

    def invoke(self, func, args: list):
        """Calls the wasmtime function ``func`` under the session's limits, observers around it: the results
        as a list, or a TrapInfo. A call made while another runs (from a hook) gets its own limits."""
        return self.invoker.invoke(func, args)

    # -- globals and the stack pointer ------------------------------------------------------------
    def _global_obj(self, index: int):
        if index in self.imports.globals:
            return self.imports.globals[index]
        name = self.prepared.global_exports.get(index)
        if name is None:
            raise UsageError(f"global {index} does not exist ({len(self.module.globals)} globals)")
        return self.exports[name]

    def get_global(self, index: int):
        return self._global_obj(index).value(self.store)

    def set_global(self, index: int, value) -> None:
        self._global_obj(index).set_value(self.store, value)

    def set_sp(self, value: int) -> None:
        if self.sp_global is None:
            raise UsageError("this module has no known stack pointer")
        if not self.is64 and value >= 2**31:
            value -= 2**32
        elif self.is64 and value >= 2**63:
            value -= 2**64
        self.set_global(self.sp_global, value)

    # -- memory -------------------------------------------------------------------------------------
    def memory(self, index: int = 0) -> MemoryInfo:
        m = self.guest_memory(index)
        decl = self.module.memories[index]
        imp = f"{decl.imported.module}.{decl.imported.name}" if decl.imported else None
        exp = self.module.get_export_names("memory", index)
        return MemoryInfo(index, m.pages(self.store), m.size(self.store), decl.type.min_pages, decl.type.max_pages,
                          decl.type.shared, decl.type.is64, imp, exp[0] if exp else None)

    def memory_size(self, index: int = 0) -> int:
        return self.guest_memory(index).size(self.store)

    def read(self, addr: int, n: int, memory: int = 0) -> bytes:
        m = self.guest_memory(memory)
        size = m.size(self.store)
        check_range(addr, n, size, f"memory {memory}")
        return ctypes.string_at(m.address(self.store) + addr, n) if n else b""

    def write(self, addr: int, data: bytes, memory: int = 0) -> None:
        m = self.guest_memory(memory)
        size = m.size(self.store)
        if addr < 0 or addr + len(data) > size:
            raise UsageError(f"cannot write {len(data)} bytes at {addr:#x}: memory {memory} is {size} bytes")
        if data:
            ctypes.memmove(m.address(self.store) + addr, bytes(data), len(data))
            if memory == 0 and self.heap_tracker is not None:  # --memcheck-uninit: written bytes are written
                self.heap_tracker.host_wrote(addr, len(data))

    def image(self, index: int) -> bytes:
        """A copy of all of memory ``index``."""
        return self.memories[index].image(self.store)

    def snapshot(self) -> Snapshot:
        globals_ = {}
        for idx in range(len(self.module.globals)):
            try:
                globals_[idx] = self.get_global(idx)
            except Exception:  # noqa: BLE001 - reference-typed globals
                pass
        return Snapshot([self.image(i) for i in sorted(self.memories)], globals_, self.get_sp())

    def restore(self, snap: Snapshot) -> None:
        for i, data in zip(sorted(self.memories), snap.memories, strict=False):
            size = min(self.memory_size(i), len(data))
            for off in range(0, size, CHUNK):  # a chunk at a time: no second copy of the image
                self.write(off, data[off:min(off + CHUNK, size)], i)
        for idx, v in snap.globals.items():
            if self.module.globals[idx].type.mutable:
                try:
                    self.set_global(idx, v)
                except Exception:  # noqa: BLE001
                    pass

    # -- calls --------------------------------------------------------------------------------------
    def find_function(self, name: str):
        """(function index, FuncType) of the exported function ``name`` (a UsageError with suggestions)."""
        return find_function(self.module, name, self.name)

    def call(self, name: str, args: list[str], *, returns: str | None = None, ret_size: int = 16,
             alloc: str | None = None, sret: bool | None = None, writes=()) -> CallResult:
        """Calls the export ``name`` with command-line style ``args`` and reports what happened.

        A hidden result pointer (sret) is passed only when asked: ``sret=True``, or ``returns`` given (the
        CLI also passes sret=True when DWARF says the function returns a struct). Otherwise the arguments
        must match the parameters one to one (``s:``/``b:`` fill two). ``writes`` are ``ADDR=HEX`` texts
        written into memory 0 just before the call (not counted as the call's changes)."""
        plan = plan_call(self, name, args, returns=returns, ret_size=ret_size, sret=sret, writes=writes)
        return run_call(self, plan, alloc=alloc)

    # -- lifetime -----------------------------------------------------------------------------------
    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        self._stop_progress()
        invoker = getattr(self, "invoker", None)
        if invoker is not None:
            invoker.disarm()
            invoker.signals.close()
        output = getattr(self, "output", None)
        if output is not None:
            output.close()

    def __enter__(self) -> Session:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def __del__(self) -> None:
        try:
            self.close()
        except Exception:  # noqa: BLE001
            pass

