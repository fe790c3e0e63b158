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

Documented exceptions (not compared): the memory after a call that hit a *timeout* (where it stopped
depends on timing), and calls whose arguments wasmem had to place in memory for the call (a hidden
result pointer on the stack, `s:`/`b:` data): those are replayed on the plain host through the same
allocator calls when the module has one, else skipped.

Used by tests/runtime/test_differential.py (the samples, plus hypothesis-generated calls) and by
bench/differential.py (real-world modules from the package registries).
"""

from __future__ import annotations

import os
import tempfile
import threading
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

    def __str__(self) -> str:
        return f"{self.step}: {self.what} differs: plain {self.plain!r} vs wasmem {self.wasmem!r}"


@dataclass
class Report:
    path: str
    calls: list[str] = field(default_factory=list)  # what was compared
    skipped: list[tuple[str, str]] = field(default_factory=list)  # (call, why)
    mismatches: list[Mismatch] = field(default_factory=list)
    stack_method: str | None = None  # how wasmem measured the stack (paint / instrument / None)

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

    def __init__(self, module: WasmModule, wasmem_session: Session, *, timeout: float = 10.0):
        self.module = module
        cfg = wasmtime.Config()
        cfg.epoch_interruption = True
        for feat in ("wasm_multi_memory", "wasm_memory64", "wasm_threads", "wasm_bulk_memory",
                     "wasm_reference_types", "wasm_simd", "wasm_multi_value", "wasm_tail_call", "shared_memory"):
            try:
                setattr(cfg, feat, True)
            except Exception:  # noqa: BLE001
                pass
        self.engine = wasmtime.Engine(cfg)
        self.store = wasmtime.Store(self.engine)
        self.timeout = timeout
        self.linker = wasmtime.Linker(self.engine)
        self.wmodule = wasmtime.Module(self.engine, bytes(module.data))
        self._out = self._err = None
        self._pos = [0, 0]
        self.memories: dict[int, object] = {}
        self._define(wasmem_session)
        self.instance = self._guard(lambda: self.linker.instantiate(self.store, self.wmodule))
        self.exports = self.instance.exports(self.store)
        idx = 0
        for imp in module.imports:
            if imp.kind == "memory":
                idx += 1
        for m in module.memories:
            if m.index not in self.memories:
                names = module.get_export_names("memory", m.index)
                if names:
                    self.memories[m.index] = self.exports[names[0]]
        self.init_trap = None
        for name in INIT_EXPORTS:
            e = module.find_export(name)
            if e is not None and e.kind == "func" and not module.get_function_type(e.index).params:
                try:
                    self._guard(lambda n=name: self.exports[n](self.store))
                except (wasmtime.Trap, wasmtime.WasmtimeError) as exc:
                    self.init_trap = _kind(exc)
                break

    def _define(self, wm: Session) -> None:
        module, store, linker = self.module, self.store, self.linker
        wasi = any(i.module in WASI_MODULES for i in module.imports if i.kind == "func")
        if wasi:
            wc = wasmtime.WasiConfig()
            wc.argv = [wm.name]
            fd, self._out = tempfile.mkstemp(prefix="wasmem-plain-out-")
            os.close(fd)
            fd, self._err = tempfile.mkstemp(prefix="wasmem-plain-err-")
            os.close(fd)
            wc.stdout_file, wc.stderr_file = self._out, self._err
            store.set_wasi(wc)
            linker.define_wasi()
        make = _host_function_factory()
        from wasmem.runtime.hostimports import HostState

        self.host = HostState()
        mem_index = 0
        for imp in module.imports:
            if imp.kind == "func" and not (wasi and imp.module in WASI_MODULES):
                ft = module.get_func_type(imp.type)
                wft = wasmtime.FuncType([_vt(t) for t in ft.params], [_vt(t) for t in ft.results])
                fn = make(self.host, imp.module, imp.name, ft.params, ft.results, self._memory_of)
                try:
                    linker.define_func(imp.module, imp.name, wft, fn, access_caller=True)
                except wasmtime.WasmtimeError:
                    pass  # the same (module, name) imported twice: defined once
            elif imp.kind == "memory":
                mt = imp.type
                pages = wm.memories[mem_index].pages(wm.store) if mem_index in wm.memories else mt.min_pages
                mtype = wasmtime.MemoryType(wasmtime.Limits(pages, mt.max_pages), is_64=mt.is64, shared=mt.shared)
                obj = wasmtime.SharedMemory(self.engine, mtype) if mt.shared else wasmtime.Memory(store, mtype)
                self.memories[mem_index] = obj
                linker.define(store, imp.module, imp.name, obj)
                mem_index += 1
            elif imp.kind == "global":
                gt = imp.type
                gindex = sum(1 for j in module.imports[:imp.index] if j.kind == "global")
                value = wm._imported_globals[gindex].value(wm.store) if gindex in wm._imported_globals else 0
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
        from wasmem.runtime.session import _Mem

        m = self.memories.get(0)
        if m is None:
            try:
                m = caller.get("memory")
            except Exception:  # noqa: BLE001
                m = None
        return _Mem(m) if m is not None else None

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
            return Observed(None, getattr(exc, "kind", type(exc).__name__), self.images(), out, err)
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


def _vt(t: str):
    from wasmem.runtime.session import _valtype

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


def compare(path_or_module, calls, **session_options) -> Report:
    """Opens ``path_or_module`` under wasmem (``session_options`` as for ``wasmem.open``) and under a plain
    host, then makes each call of ``calls`` (``(export, [arg text…])``, wasmem's command-line syntax) on both
    and compares. Returns a Report; ``report.ok`` is the verdict."""
    from wasmem.runtime import load_module

    module = load_module(path_or_module)
    session_options.setdefault("timeout", 10.0)
    session = wasmem.open(module, **session_options)
    report = Report(module.path or "<bytes>", stack_method=session.measure)
    plain = PlainHost(module, session, timeout=session_options["timeout"])
    try:
        _compare_images(report, "instantiate", plain.images(), {i: session._image(i) for i in sorted(session.memories)})
        for name, args in calls:
            step = " ".join([name, *map(str, args)])
            r = session.call(name, list(args))
            if r.sret is not None or r.allocations:
                report.skipped.append((step, "wasmem placed arguments in memory (sret / s: / b:)"))
                # keep the two instances in step: the plain host cannot replay this call
                return _finish(report, plain, session, stop=step)
            o = plain.call(name, list(r.args))
            report.calls.append(step)
            wk = _wasmem_kind(r.trap) if r.trap else None
            if wk != o.trap:
                report.mismatches.append(Mismatch(step, "trap", o.trap, wk))
            if o.trap is None and wk is None and _norm(o.results) != _norm(r.results):
                report.mismatches.append(Mismatch(step, "results", o.results, r.results))
            if (o.stdout, o.stderr) != (r.stdout, r.stderr):
                report.mismatches.append(Mismatch(step, "output", (o.stdout[:200], o.stderr[:200]),
                                                  (r.stdout[:200], r.stderr[:200])))
            if o.trap == "interrupt" or wk == "interrupt":
                report.skipped.append((step, "timed out: memory not compared"))
                return _finish(report, plain, session, stop=step)
            _compare_images(report, step, o.memories, {i: session._image(i) for i in sorted(session.memories)})
            if r.trap is not None and r.sp_after != r.sp_before:
                # documented: after a trap wasmem puts the stack pointer back where the call found it, so
                # the instance stays usable; a plain host leaves it where the trap did
                report.skipped.append((step, "trapped with the stack pointer moved; wasmem reset it"))
                return _finish(report, plain, session, stop=step)
    finally:
        session.close()
        plain.close()
    return report


def _finish(report: Report, plain: PlainHost, session: Session, stop: str) -> Report:
    report.skipped.append((stop, "the rest of the sequence was not compared"))
    return report


def _compare_images(report: Report, step: str, plain: dict[int, bytes], ours: dict[int, bytes]) -> None:
    if sorted(plain) != sorted(ours):
        report.mismatches.append(Mismatch(step, "memories", sorted(plain), sorted(ours)))
        return
    for i in plain:
        a, b = plain[i], ours[i]
        if a == b:
            continue
        if len(a) != len(b):
            report.mismatches.append(Mismatch(step, f"memory {i} size", len(a), len(b)))
            continue
        first = next(j for j in range(len(a)) if a[j] != b[j])
        last = next(j for j in range(len(a) - 1, -1, -1) if a[j] != b[j])
        report.mismatches.append(Mismatch(step, f"memory {i} bytes [{first:#x}, {last + 1:#x})",
                                          a[first:min(last + 1, first + 16)].hex(),
                                          b[first:min(last + 1, first + 16)].hex()))
