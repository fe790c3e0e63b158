"""Differential testing: the proof that wasmem does not change what it observes.

The same module runs twice, side by side: once in a *plain host* — a wasmtime engine, store and linker
with WASI (sandboxed, output captured) and the module's bytes unmodified, the way a ten-line embedding
script runs it — and once in a wasmem :class:`~wasmem.runtime.Session` (export rewriting, stack
painting or stack-pointer instrumentation, host profiles). Every call is made on both with the same
values; results, trap kinds, captured output and every byte of every memory must be identical after
each call, and after instantiation.

What the plain host shares with wasmem is the *host* side a real embedder would also have to provide:
the functions for non-WASI imports (wasmem's host profiles: an Emscripten module needs
`emscripten_resize_heap` in any host) and the values of imported globals. What it never has is anything
wasmem adds to observe: no rewritten module, no paint, no instrumentation.

The plain host runs the module's own bytes with two exceptions, both appended exports that change
nothing the module does: memory 0 exported as ``memory`` when the module uses WASI but does not export it
so (wasmtime's WASI finds memory only through that export; Node's WASI is handed the memory instead), and
an export for each memory that has none (so the harness can read it). wasmem does the same.

The host side is made deterministic for both (``deterministic_host``): the clocks and random bytes that
wasmem's host profiles read in Python (Go's nanotime/walltime/getRandomData, Emscripten's
emscripten_date_now/get_now, AssemblyScript's seed) come from a fake clock and a seeded generator that are
reset before each call on each side, so both see the same values. WASI's clocks and random_get are
wasmtime's own and stay real: what they make differ is found by a second plain run (``noise_check``).

Arguments may refer to values known only at run time (resolved on the plain host, the same text then
goes to both): ``$N`` is the first result of call N of the sequence (0-based; ``malloc 64`` then
``free $0``), ``*$N`` the little-endian u32 in memory 0 at the address call N returned, ``@NAME`` the
value of the exported global NAME.

Documented exceptions (not compared): a call that hit a *timeout* on either side (whether a wall-clock
timeout is hit, and where the call stopped, depend on timing and on the machine's load), and calls whose arguments wasmem had to place in memory for the call (a hidden
result pointer on the stack, `s:`/`b:` data): those are replayed on the plain host through the same
allocator calls when the module has one, else skipped.

Used by tests/runtime/test_differential.py (the samples, plus hypothesis-generated calls) and by
bench/differential.py (real-world modules from the package registries).
"""

from __future__ import annotations

import os
import random
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field

import wasmtime

import wasmem
from wasmem.parser.module import WasmModule
from wasmem.runtime.session import INIT_EXPORTS, Session

WASI_MODULES = ("wasi_snapshot_preview1", "wasi_unstable")


def _host_function_factory():
    """wasmem's factory for non-WASI import functions (the host side that any embedder must provide)."""
    try:
        from wasmem.runtime.hosts import make_host_function  # noqa: F401 - newer layout
        return make_host_function
    except ImportError:
        from wasmem.runtime.hostimports import make_host_function
        return make_host_function


@dataclass
class Observed:
    results: list | None  # None when it trapped
    trap: str | None  # the trap kind (wasmtime's trap code, lower case), "exit:N", or None
    memories: dict[int, bytes]
    stdout: bytes = b""
    stderr: bytes = b""


@dataclass
class Mismatch:
    step: str  # "instantiate" or "FUNC ARGS"
    what: str  # results | trap | memory N | stdout | stderr
    plain: object
    wasmem: object
    index: int | None = None  # which call of the sequence (0-based); None for "instantiate"

    def __str__(self) -> str:
        return f"{self.step}: {self.what} differs: plain {self.plain!r} vs wasmem {self.wasmem!r}"


@dataclass
class Report:
    path: str
    calls: list[str] = field(default_factory=list)  # what was compared
    skipped: list[tuple[str, str]] = field(default_factory=list)  # (call, why)
    mismatches: list[Mismatch] = field(default_factory=list)
    stack_method: str | None = None  # how wasmem measured the stack (paint / instrument / None)
    host_profile: str | None = None  # the host profile wasmem chose (None before host profiles existed)
    host_reason: str | None = None  # why, in wasmem's words
    noise: list[tuple[str, str]] = field(default_factory=list)  # (step, what two plain runs disagreed on)
    prepared: object = None  # what compare's ``prepare`` returned

    @property
    def ok(self) -> bool:
        return not self.mismatches


def _kind(exc: BaseException) -> str:
    if isinstance(exc, wasmtime.ExitTrap):
        return f"exit:{exc.code}"
    code = getattr(exc, "trap_code", None)
    if code is not None:
        return code.name.lower()
    return "trap" if isinstance(exc, wasmtime.Trap) else "error"


class PlainHost:
    """The module's own bytes in a plain wasmtime setup. ``wasmem_session`` supplies what the host side
    must agree on: the same page count for imported memories and the same values for imported globals."""

    def __init__(self, module: WasmModule, wasmem_session: Session, *, timeout: float = 10.0,
                 share: PlainHost | None = None, delay: float = 0.0):
        """``share``: another PlainHost of the same module whose engine and compiled module are reused (a
        second, independent instance without compiling again). ``delay``: seconds to wait before defining the
        host: WASI's monotonic clock then starts that much later than an undelayed instance's, so the
        times the module reads differ from that instance's by at least as much."""
        self.module = module
        self.choice = getattr(wasmem_session, "host_choice", None)
        if share is not None:
            self.engine, self.wmodule, self._export_names = share.engine, share.wmodule, share._export_names
        else:
            cfg = wasmtime.Config()
            cfg.epoch_interruption = True
            for feat in ("wasm_multi_memory", "wasm_memory64", "wasm_threads", "wasm_bulk_memory",
                         "wasm_reference_types", "wasm_simd", "wasm_multi_value", "wasm_tail_call",
                         "shared_memory"):
                try:
                    setattr(cfg, feat, True)
                except Exception:  # noqa: BLE001
                    pass
            self.engine = wasmtime.Engine(cfg)
            raw, self._export_names = self._with_exports(module, self.choice)
            self.wmodule = wasmtime.Module(self.engine, raw)
        self.store = wasmtime.Store(self.engine)
        self.timeout = timeout
        self.linker = wasmtime.Linker(self.engine)
        self._out = self._err = None
        self._pos = [0, 0]
        self.memories: dict[int, object] = {}
        if delay:  # before WASI is defined: its monotonic clock counts from here
            time.sleep(delay)
        self._define(wasmem_session)
        self.instance = self._guard(lambda: self.linker.instantiate(self.store, self.wmodule))
        self.exports = self.instance.exports(self.store)
        for m in module.memories:
            if m.index not in self.memories and m.index in self._export_names:
                self.memories[m.index] = self.exports[self._export_names[m.index]]
        self.init_trap = None
        for name, args in _init_calls(module, wasmem_session):
            try:
                self._guard(lambda n=name, a=args: self.exports[n](self.store, *a))
            except (wasmtime.Trap, wasmtime.WasmtimeError) as exc:
                self.init_trap = _kind(exc)
                break

    @staticmethod
    def _with_exports(module: WasmModule, choice) -> tuple[bytes, dict[int, str]]:
        """The module's bytes, plus the exports the harness needs and a plain embedder would add too:
        ``memory`` for WASI (as wasmem's host profile requires it) and one for every memory that has no
        export (only to read it). Returns (bytes, {memory index: export name})."""
        names = {}
        for m in module.memories:
            found = module.get_export_names("memory", m.index)
            if found:
                names[m.index] = found[0]
        wanted = []
        if choice is not None:
            from wasmem.runtime.hosts import required_exports

            wanted += required_exports(module, choice)
        elif any(i.module in WASI_MODULES for i in module.imports if i.kind == "func") and module.memories:
            e = module.find_export("memory")
            if e is None:
                wanted.append(("memory", "memory", 0))
        for m in module.memories:
            if m.index not in names and not any(w[1] == "memory" and w[2] == m.index for w in wanted):
                if m.imported is None:
                    wanted.append((f"__plain_memory_{m.index}", "memory", m.index))
        if not wanted:
            return bytes(module.data), names
        from wasmem.parser.encode import rewrite_exports

        rw = rewrite_exports(bytes(module.data), wanted)
        for (_, kind, index), used in zip(wanted, rw.names, strict=True):
            if kind == "memory":
                names.setdefault(index, used)
        return rw.data, names

    def _wasi_config(self, wm: Session):
        wc = wasmtime.WasiConfig()
        wc.argv = [wm.name]
        fd, self._out = tempfile.mkstemp(prefix="wasmem-plain-out-")
        os.close(fd)
        fd, self._err = tempfile.mkstemp(prefix="wasmem-plain-err-")
        os.close(fd)
        wc.stdout_file, wc.stderr_file = self._out, self._err
        return wc

    def _define(self, wm: Session) -> None:
        module, store, linker = self.module, self.store, self.linker
        strict = bool(getattr(getattr(wm, "host", None), "strict", False))
        if self.choice is not None:
            # the host side wasmem uses, built the way any embedder can (hosts.define_host_imports): the
            # same profile, WASI by wasmtime when the profile provides it, no access to wasmem's rewrites
            from wasmem.runtime.hosts import HostState, define_host_imports

            self.host = HostState(strict=strict)
            wc = self._wasi_config(wm) if self.choice.wasi else None
            define_host_imports(linker, store, module, self.host, choice=self.choice, memory_of=self._memory_of,
                                wasi_config=wc)
        else:  # before host profiles: WASI by wasmtime, every other function by wasmem's factory
            wasi = any(i.module in WASI_MODULES for i in module.imports if i.kind == "func")
            if wasi:
                store.set_wasi(self._wasi_config(wm))
                linker.define_wasi()
            make = _host_function_factory()
            from wasmem.runtime.hostimports import HostState

            self.host = HostState()
            for imp in module.imports:
                if imp.kind == "func" and not (wasi and imp.module in WASI_MODULES):
                    ft = module.get_func_type(imp.type)
                    wft = wasmtime.FuncType([_vt(t) for t in ft.params], [_vt(t) for t in ft.results])
                    fn = make(self.host, imp.module, imp.name, ft.params, ft.results, self._memory_of)
                    try:
                        linker.define_func(imp.module, imp.name, wft, fn, access_caller=True)
                    except wasmtime.WasmtimeError:
                        pass  # the same (module, name) imported twice: defined once
        mem_index = 0
        for imp in module.imports:
            if imp.kind == "memory":
                mt = imp.type
                pages = _initial_pages(module, mt, wm.pages)
                mtype = wasmtime.MemoryType(wasmtime.Limits(pages, mt.max_pages), is_64=mt.is64, shared=mt.shared)
                obj = _shared_memory_class()(self.engine, mtype) if mt.shared else wasmtime.Memory(store, mtype)
                self.memories[mem_index] = obj
                linker.define(store, imp.module, imp.name, obj)
                mem_index += 1
            elif imp.kind == "global":
                gt = imp.type
                gindex = sum(1 for j in module.imports[:imp.index] if j.kind == "global")
                value = wm.imports.globals[gindex].value(wm.store) if gindex in wm.imports.globals else 0
                linker.define(store, imp.module, imp.name,
                              wasmtime.Global(store, wasmtime.GlobalType(_vt(gt.valtype), gt.mutable), value))
            elif imp.kind == "table":
                tt = imp.type
                want = tt.limits.min
                if module.dylink is not None:  # a side module's table must hold its own entries too
                    want = max(want, (1 if module.dylink.table_size else 0) + module.dylink.table_size)
                et = wasmtime.ValType.externref() if "extern" in tt.elem_type else wasmtime.ValType.funcref()
                linker.define(store, imp.module, imp.name,
                              wasmtime.Table(store, wasmtime.TableType(et, wasmtime.Limits(want, tt.limits.max)),
                                             None))
        try:
            linker.define_unknown_imports_as_traps(self.wmodule)
        except wasmtime.WasmtimeError:
            pass

    def _memory_of(self, caller):
        from wasmem.runtime.memory import GuestMemory

        m = self.memories.get(0)
        if m is None:
            try:
                m = caller.get("memory")
            except Exception:  # noqa: BLE001
                m = None
        return GuestMemory(m) if m is not None else None

    def _guard(self, fn):
        self.store.set_epoch_deadline(1)
        timer = threading.Timer(self.timeout, self.engine.increment_epoch) if self.timeout else None
        if timer:
            timer.daemon = True
            timer.start()
        try:
            return fn()
        finally:
            if timer:
                timer.cancel()

    def image(self, index: int) -> bytes:
        m = self.memories[index]
        if isinstance(m, wasmtime.SharedMemory):
            import ctypes

            return ctypes.string_at(ctypes.addressof(m.data_ptr().contents), m.data_len())
        return m.read(self.store, 0, m.data_len(self.store))

    def output(self) -> tuple[bytes, bytes]:
        out = []
        for k, p in enumerate((self._out, self._err)):
            if p is None:
                out.append(b"")
                continue
            with open(p, "rb") as f:  # wasmtime keeps its own file offset: read on from where we stopped
                f.seek(self._pos[k])
                data = f.read()
            self._pos[k] += len(data)
            out.append(data)
        out[0] += bytes(self.host.stdout)
        out[1] += bytes(self.host.stderr)
        self.host.stdout.clear()
        self.host.stderr.clear()
        return out[0], out[1]

    def call(self, name: str, values: list) -> Observed:
        func = self.exports[name]
        try:
            r = self._guard(lambda: func(self.store, *values))
        except (wasmtime.Trap, wasmtime.WasmtimeError, wasmtime.ExitTrap) as exc:
            out, err = self.output()
            return Observed(None, _kind(exc), self.images(), out, err)
        except Exception as exc:  # noqa: BLE001 - a host function raised (wasmem's HostTrap: abort…)
            out, err = self.output()
            kind = getattr(exc, "kind", type(exc).__name__)
            if kind == "exit" and getattr(exc, "exit_code", None) is not None:
                kind = f"exit:{exc.exit_code}"  # as wasmem reports an exit through a host function
            return Observed(None, kind, self.images(), out, err)
        n = len(func.type(self.store).results)
        results = [] if n == 0 else (list(r) if n > 1 else [r])
        out, err = self.output()
        return Observed(results, None, self.images(), out, err)

    def images(self) -> dict[int, bytes]:
        return {i: self.image(i) for i in sorted(self.memories)}

    def close(self) -> None:
        for p in (self._out, self._err):
            if p:
                try:
                    os.unlink(p)
                except OSError:
                    pass


def _init_calls(module: WasmModule, session: Session) -> list[tuple[str, list]]:
    """The exports a host calls once after instantiating, as wasmem called them for ``session`` (the host
    profile's own, e.g. wasm-bindgen's __wbindgen_start or Emscripten's emscripten_stack_init and
    __set_stack_limits(base, end), else _initialize or __wasm_call_ctors), with their arguments: the plain
    host makes the same calls, since a real host's loader does too."""
    calls = getattr(session, "init_calls", None)
    if calls is not None:
        return [(n, list(a)) for n, a in calls]
    return [(n, []) for n in _init_functions(module, session)]


def _init_functions(module: WasmModule, session: Session) -> list[str]:
    """The names alone, from a session older than ``init_calls``."""
    names = getattr(session, "init_functions", None)
    if names is not None:
        return list(names)
    if hasattr(session, "init_function"):
        return [session.init_function] if session.init_function else []
    for name in INIT_EXPORTS:  # before sessions said what they ran
        e = module.find_export(name)
        if e is not None and e.kind == "func" and not module.get_function_type(e.index).params:
            return [name]
    return []


def _shared_memory_class():
    """wasmtime-py 50's SharedMemory cannot be given to ``Linker.define`` (``TypeError: incompatible types,
    LP_LP_wasmtime_sharedmemory…``: a bug in its ``_as_extern``); wasmem carries the fix, and any embedder
    needs one, so the plain host uses the same class."""
    try:
        from wasmem.runtime.memory import PatchedSharedMemory

        return PatchedSharedMemory
    except ImportError:
        return wasmtime.SharedMemory


def _initial_pages(module: WasmModule, mt, pages: int | None) -> int:
    """The pages wasmem gives an imported memory when it opens the module (not its size now: the module's
    initialisation may have grown it since)."""
    if pages is not None:
        return pages
    want = mt.min_pages
    if module.dylink is not None:  # a side module: its own data and 64 KiB of stack above __memory_base
        base = module.memory_base  # the embedder's choice, when one was made (--memory-base)
        if base is None:
            base = -(-1024 // (1 << module.dylink.mem_align)) * (1 << module.dylink.mem_align)
        want = max(want, -(-(base + module.dylink.mem_size + 65536) // 65536))
    return want


def _vt(t: str):
    from wasmem.runtime.hosts import wasm_valtype as _valtype

    return _valtype(t)


def _wasmem_kind(trap) -> str:
    """wasmem's trap kind in the plain host's terms (wasmem renames a few for people)."""
    if trap.kind == "exit":
        return f"exit:{trap.exit_code}"
    return {"call_stack_exhausted": "stack_overflow", "timeout": "interrupt",
            "uncaught_exception": "trap"}.get(trap.kind, trap.kind)


def _norm(values) -> list:
    out = []
    for v in values or []:
        if isinstance(v, float) and v != v:
            out.append("nan")
        else:
            out.append(v)
    return out


def compare(path_or_module, calls, *, noise_check: bool = True, deterministic_host: bool = True,
            prepare=None, **session_options) -> Report:
    """Opens ``path_or_module`` under wasmem (``session_options`` as for ``wasmem.open``) and under a plain
    host, then makes each call of ``calls`` (``(export, [arg text…])``, wasmem's command-line syntax, with
    the ``$N``/``*$N``/``@NAME`` references of the module docstring) on both and compares. Returns a Report;
    ``report.ok`` is the verdict.

    ``noise_check``: a second plain instance runs the same calls; what differs between the two plain runs
    (bytes, results, traps, output that depend on the clock or on WASI's random_get) is not the program's
    deterministic behaviour and is left out of the comparison, and listed in ``report.noise``. When the
    module imports a clock, the second instance starts CLOCK_DELAY seconds later, so that times it stores
    differ from the first's in every byte that a run-to-run difference can reach (WASI's monotonic clock
    counts from the host's creation: a slower start under wasmem gives a larger value).

    ``deterministic_host``: the host profiles' Python clocks and random sources are replaced for the
    duration of the comparison (see the module docstring).

    ``prepare``: called with the wasmem session once it is open, before any call (e.g. to attach
    ``--watch`` targets to a session opened with ``watch=``); ``report.prepared`` keeps what it returns."""
    with _DeterministicHost(enabled=deterministic_host) as det:
        return _compare(path_or_module, list(calls), noise_check, det, session_options, prepare)


def _compare(path_or_module, calls, noise_check: bool, det: _DeterministicHost, session_options,
             prepare=None) -> Report:
    from wasmem.app import load_module

    module = load_module(path_or_module)
    session_options.setdefault("timeout", 10.0)
    det.reset(0)
    session = wasmem.open(module, **session_options)
    choice = getattr(session, "host_choice", None)
    report = Report(module.path or "<bytes>", stack_method=session.measure,
                    host_profile=getattr(choice, "name", None),
                    host_reason=getattr(choice, "explanation", None) if choice is not None else None)
    plain = twin = None
    try:
        if prepare is not None:
            report.prepared = prepare(session)
        det.reset(0)
        plain = PlainHost(module, session, timeout=session_options["timeout"])
        det.reset(0)
        twin = PlainHost(module, session, timeout=session_options["timeout"], share=plain,
                         delay=CLOCK_DELAY if reads_clock(module, not det.enabled) else 0.0) if noise_check else None
        results: list[list | None] = []  # the plain host's results of each call, for $N
        init_out = getattr(session, "init_output", None)
        o_out = plain.output()
        t_out = twin.output() if twin is not None else o_out
        if init_out is not None and o_out == t_out and tuple(o_out) != tuple(init_out):
            report.mismatches.append(Mismatch("instantiate", "output", (o_out[0][:200], o_out[1][:200]),
                                              (init_out[0][:200], init_out[1][:200])))
        _compare_images(report, "instantiate", plain.images(), _images(session),
                        twin.images() if twin is not None else None)
        for k, (name, args) in enumerate(calls):
            for m in report.mismatches:  # those of the previous call
                if m.index is None and m.step != "instantiate":
                    m.index = k - 1
            last = k == len(calls) - 1
            step = " ".join([name, *map(str, args)])
            try:
                resolved = [_resolve(a, results, plain) for a in args]
            except _Unresolved as exc:
                report.skipped.append((step, str(exc)))
                return _finish(report, stop=step, last=last)
            if resolved != list(args):
                step = f"{step} (= {' '.join(map(str, resolved))})"
            args = resolved
            det.reset(k + 1)
            r = session.call(name, list(args))
            if r.sret is not None or r.allocations:
                report.skipped.append((step, "wasmem placed arguments in memory (sret / s: / b:)"))
                # keep the two instances in step: the plain host cannot replay this call
                return _finish(report, stop=step, last=last)
            det.reset(k + 1)
            o = plain.call(name, list(r.args))
            det.reset(k + 1)
            t = twin.call(name, list(r.args)) if twin is not None else o
            results.append(o.results)
            report.calls.append(step)
            wk = _wasmem_kind(r.trap) if r.trap else None
            if "interrupt" in (o.trap, t.trap, wk):
                # a wall-clock timeout on one side only is the machine's load, not a difference
                report.skipped.append((step, f"timed out (plain: {o.trap}, wasmem: {wk}): not compared"))
                return _finish(report, stop=step, last=last)
            if o.trap != t.trap:
                report.noise.append((step, f"trap: {o.trap} / {t.trap} in two plain runs"))
            elif wk != o.trap:
                report.mismatches.append(Mismatch(step, "trap", o.trap, wk))
            if o.trap is None and wk is None:
                if _norm(o.results) != _norm(t.results):
                    report.noise.append((step, f"results: {o.results} / {t.results} in two plain runs"))
                elif _norm(o.results) != _norm(r.results):
                    report.mismatches.append(Mismatch(step, "results", o.results, r.results))
            if (o.stdout, o.stderr) != (t.stdout, t.stderr):
                report.noise.append((step, "output differs between two plain runs"))
            elif (o.stdout, o.stderr) != (r.stdout, r.stderr):
                report.mismatches.append(Mismatch(step, "output", (o.stdout[:200], o.stderr[:200]),
                                                  (r.stdout[:200], r.stderr[:200])))
            _compare_images(report, step, o.memories, _images(session), t.memories if twin is not None else None)
            if r.trap is not None and r.sp_after != r.sp_before:
                # documented: after a trap wasmem puts the stack pointer back where the call found it, so
                # the instance stays usable; a plain host leaves it where the trap did
                if not last:
                    report.skipped.append((step, "trapped with the stack pointer moved; wasmem reset it"))
                return _finish(report, stop=step, last=last)
    finally:
        for m in report.mismatches:
            if m.index is None and m.step != "instantiate":
                m.index = len(report.calls) - 1
        session.close()
        for p in (plain, twin):
            if p is not None:
                p.close()
    return report


class _FakeSources:
    """Stands in for the ``time``, ``os`` and ``random`` modules inside wasmem's host profiles: a clock that
    advances 1 µs per reading from a start fixed by ``reset(k)`` (k = the call's index: 1000 s apart, so
    it never runs backwards from one call to the next) and random bytes from a generator seeded with k.
    Everything else is the real module's."""

    EPOCH_NS = 1_767_225_600 * 10**9  # 2026-01-01T00:00:00Z

    def __init__(self, real):
        self._real = real
        self.reset(0)

    def reset(self, k: int) -> None:
        self._k, self._n, self._rng = k, 0, random.Random(k)

    def _tick(self) -> int:
        self._n += 1
        return self._k * 10**12 + self._n * 1000

    def time_ns(self) -> int:
        return self.EPOCH_NS + self._tick()

    def time(self) -> float:
        return self.time_ns() / 1e9

    def perf_counter_ns(self) -> int:
        return self._tick()

    def perf_counter(self) -> float:
        return self.perf_counter_ns() / 1e9

    monotonic_ns = perf_counter_ns
    monotonic = perf_counter

    def urandom(self, n: int) -> bytes:
        return self._rng.randbytes(n)

    def random(self) -> float:
        return self._rng.random()

    def getrandbits(self, n: int) -> int:
        return self._rng.getrandbits(n)

    def randbytes(self, n: int) -> bytes:
        return self._rng.randbytes(n)

    def __getattr__(self, name):
        return getattr(self._real, name)


class _DeterministicHost:
    """Within ``with``: the modules of ``wasmem.runtime.hosts`` see :class:`_FakeSources` for ``time``,
    ``os`` and ``random``; restored on exit. ``reset(k)`` restarts every stand-in at call k."""

    def __init__(self, enabled: bool = True):
        self.enabled = enabled
        self.fakes = {name: _FakeSources(mod) for name, mod in (("time", time), ("os", os), ("random", random))}
        self.saved: list[tuple[object, str, object]] = []

    def reset(self, k: int) -> None:
        for f in self.fakes.values():
            f.reset(k)

    def __enter__(self):
        if self.enabled:
            import wasmem.runtime.hosts  # noqa: F401 - loads every profile module

            for modname, mod in list(sys.modules.items()):
                if not modname.startswith("wasmem.runtime.hosts") or mod is None:
                    continue
                for attr, fake in self.fakes.items():
                    if getattr(mod, attr, None) is fake._real:
                        self.saved.append((mod, attr, fake._real))
                        setattr(mod, attr, fake)
        return self

    def __exit__(self, *exc) -> None:
        for mod, attr, real in reversed(self.saved):
            setattr(mod, attr, real)
        self.saved.clear()


CLOCK_DELAY = 1.1  # s: the second plain run reads clocks at least a second later (tv_sec differs too)
_CLOCK_WORDS = ("clock", "time", "now", "date")


def reads_clock(module: WasmModule, python_clocks: bool = True) -> bool:
    """Whether the module imports a function that may read a real clock (WASI clock_time_get; with
    ``python_clocks`` also Emscripten's emscripten_date_now/get_now, Go's nanotime1/walltime …, which
    the deterministic host replaces): its memory may then hold times, which differ from run to run."""
    return any(i.kind == "func" and (python_clocks or i.module in WASI_MODULES)
               and any(w in i.name.lower() for w in _CLOCK_WORDS) for i in module.imports)


def _images(session: Session) -> dict[int, bytes]:
    return {i: session.image(i) for i in sorted(session.memories)}


class _Unresolved(Exception):
    pass


def _resolve(arg, results: list, plain: PlainHost):
    """``$N`` → the first result of call N; ``*$N`` → the u32 in memory 0 at that address; ``@NAME`` → the
    exported global NAME's value (all on the plain host). Anything else is returned as it is."""
    text = str(arg)
    deref = text.startswith("*$")
    if deref or (text.startswith("$") and text[1:].isdigit()):
        n = int(text[2:] if deref else text[1:])
        if n >= len(results):
            raise _Unresolved(f"{text}: there is no call {n} before this one")
        if not results[n]:
            raise _Unresolved(f"{text}: call {n} trapped or returned nothing")
        value = results[n][0]
        if not deref:
            return str(value)
        m = plain.memories.get(0)
        if m is None:
            raise _Unresolved(f"{text}: no memory 0 to read")
        addr = value & 0xFFFFFFFF
        data = plain.image(0)
        if addr + 4 > len(data):
            raise _Unresolved(f"{text}: address {addr:#x} is outside memory 0")
        return str(int.from_bytes(data[addr:addr + 4], "little"))
    if text.startswith("@") and len(text) > 1:
        g = plain.exports.get(text[1:]) if hasattr(plain.exports, "get") else None
        if not isinstance(g, wasmtime.Global):
            raise _Unresolved(f"{text}: no exported global {text[1:]!r}")
        return str(g.value(plain.store))
    return arg


def _finish(report: Report, stop: str, last: bool = False) -> Report:
    if not last:
        report.skipped.append((stop, "the rest of the sequence was not compared"))
    return report


def _diff_positions(a, b, block: int = 1 << 14):
    """The offsets where two equally long byte strings differ (compared a block at a time)."""
    va, vb = memoryview(a), memoryview(b)
    for off in range(0, len(a), block):
        if va[off:off + block] != vb[off:off + block]:
            yield from (j for j in range(off, min(off + block, len(a))) if a[j] != b[j])


def _compare_images(report: Report, step: str, plain: dict[int, bytes], ours: dict[int, bytes],
                    twin: dict[int, bytes] | None = None) -> None:
    """Memory after a step: wasmem's images must equal the plain host's, except for bytes where two plain
    runs (``twin``) differ from each other, widened to their aligned 8-byte words (recorded in
    ``report.noise``)."""
    if sorted(plain) != sorted(ours):
        report.mismatches.append(Mismatch(step, "memories", sorted(plain), sorted(ours)))
        return
    for i in plain:
        a, b = plain[i], ours[i]
        noise: set[int] = set()
        if twin is not None and i in twin and twin[i] != a:
            if len(twin[i]) != len(a):
                report.noise.append((step, f"memory {i}: {len(a)} / {len(twin[i])} bytes in two plain runs"))
                continue
            # a value that varies from run to run is a scalar of up to 8 bytes: its unchanged bytes (a
            # clock's high bytes, a small random number's zeros) vary too, in other runs
            words = {j & ~7 for j in _diff_positions(a, twin[i])}
            noise = {w + k for w in words for k in range(8)}
            report.noise.append((step, f"memory {i}: {len(words)} aligned 8-byte words differ between two "
                                       f"plain runs"))
        if a == b:
            continue
        if len(a) != len(b):
            report.mismatches.append(Mismatch(step, f"memory {i} size", len(a), len(b)))
            continue
        diff = [j for j in _diff_positions(a, b) if j not in noise]
        if not diff:
            continue
        first, last = diff[0], diff[-1]
        report.mismatches.append(Mismatch(step, f"memory {i} bytes [{first:#x}, {last + 1:#x}) ({len(diff)} bytes)",
                                          a[first:min(last + 1, first + 16)].hex(),
                                          b[first:min(last + 1, first + 16)].hex()))
