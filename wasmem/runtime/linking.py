"""Linking: every import of the module satisfied. Functions come from the host profile (hosts/), WASI and
stubs; memories, tables, globals and tags are created here, sized as the module (and its dylink section)
asks, within the memory budget; the stack pointer an import provides starts at the top of the stack."""

from __future__ import annotations

import wasmtime

from ..errors import RunError, UsageError
from ..model.globalvalues import pic_bases
from .engine import first_line
from .hosts import define_host_imports
from .hosts import wasm_valtype as _valtype
from .hosts.wasi import make_config as wasi_config
from .memory import PAGE, GuestMemory, PatchedSharedMemory


def _align_up(n: int, a: int) -> int:
    return (n + a - 1) // a * a


class Imports:
    """The imports of ``module`` defined in ``linker``: ``memories`` and ``globals`` (by their index among
    memories and globals) are the objects wasmem made; ``context`` is the host functions' HostContext."""

    def __init__(self, module, engine, store, linker, compiled, *, name: str, host, host_choice, budget,
                 sp_global: int | None, stack_range: tuple[int, int] | None):
        self.module = module
        self.engine = engine
        self.store = store
        self.linker = linker
        self.compiled = compiled
        self.name = name
        self.host = host
        self.host_choice = host_choice
        self.budget = budget
        self.sp_global = sp_global
        self.stack_range = stack_range
        self.memories: dict[int, GuestMemory] = {}
        self.globals: dict[int, wasmtime.Global] = {}
        self.context = None

    def define(self, pages, wasi_dirs, wasi_env, wasi_args=(), wasi_stdin=None, *, output, hooks: dict,
               memory_of) -> None:
        """Defines every import in the linker. ``output``: the GuestOutput WASI's files come from; ``hooks``:
        what host functions reach of the session (``sp_get``, ``sp_set``, ``wait``); ``memory_of(caller)``:
        memory 0 as host functions see it."""
        module, store, linker = self.module, self.store, self.linker
        wc = None
        if self.host_choice.wasi:
            out, err = output.open_files()
            wc = wasi_config(self.name, args=wasi_args, env=wasi_env, dirs=wasi_dirs, stdin=wasi_stdin,
                             stdout=out, stderr=err)
        elif wasi_args or wasi_stdin is not None or wasi_dirs or wasi_env:
            what = ("--arg" if wasi_args else "--stdin" if wasi_stdin is not None else "--dir" if wasi_dirs
                    else "--env")
            raise UsageError(f"{what}: {self.name} does not use WASI (host profile {self.host_choice.name}: "
                             f"{self.host_choice.reason}), so it has no argv, stdin, directories or environment "
                             f"to give")
        # every function import, each (module, name) once: WASI, the host profile's functions, stubs
        self.context = define_host_imports(linker, store, module, self.host, choice=self.host_choice,
                                           memory_of=memory_of, wasi_config=wc)
        self.context.data.update(hooks)  # wait: WASI poll_oneoff sleeps through it (budget.Watcher)
        defined: dict[tuple[str, str], object] = {}  # a memory, table or global imported twice is one object

        dylink = module.dylink
        memory_base, table_base = pic_bases(module)  # the layout model and DWARF use the same
        initial_top = None  # top of the first memory, for an imported __stack_pointer

        for imp in module.imports:
            if imp.kind == "func":
                continue
            if (imp.module, imp.name) in defined:
                if imp.kind == "memory":
                    self.memories[len(self.memories)] = defined[imp.module, imp.name]
                elif imp.kind == "global":
                    gindex = sum(1 for j in module.imports[:imp.index] if j.kind == "global")
                    self.globals[gindex] = defined[imp.module, imp.name]
                continue
            if imp.kind == "memory":
                mt = imp.type
                idx = len(self.memories)
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
                if self.budget.max_memory and want * mt.page_size > self.budget.max_memory:
                    raise RunError(self.budget.over_limit(f"memory import {imp.module}.{imp.name}", want, mt.page_size))
                self.budget.import_bytes[idx] = want * mt.page_size
                self.budget.refuse_over_budget()
                limits = wasmtime.Limits(want, self.budget.host_maximum(mt, want, idx))
                mtype = wasmtime.MemoryType(limits, is_64=mt.is64, shared=mt.shared)
                try:
                    obj = PatchedSharedMemory(self.engine, mtype) if mt.shared else wasmtime.Memory(store, mtype)
                except wasmtime.WasmtimeError as exc:
                    raise RunError(f"cannot create memory {imp.module}.{imp.name} with {want} pages: "
                                   f"{first_line(exc)}") from None
                self.memories[idx] = defined[imp.module, imp.name] = GuestMemory(obj)
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
                self.budget.import_entries[imp.index] = want
                et = wasmtime.ValType.externref() if "extern" in tt.elem_type else wasmtime.ValType.funcref()
                table = wasmtime.Table(store, wasmtime.TableType(et, wasmtime.Limits(want, tt.limits.max)), None)
                linker.define(store, imp.module, imp.name, table)
                defined[imp.module, imp.name] = table
                self.context.data.setdefault("tables", []).append(table)  # for invoke_* (Emscripten)
            elif imp.kind == "global":
                gt = imp.type
                gindex = sum(1 for j in module.imports[:imp.index] if j.kind == "global")
                value = self._global_default(imp.name, gt.valtype, gindex, memory_base, table_base, initial_top)
                g = wasmtime.Global(store, wasmtime.GlobalType(_valtype(gt.valtype), gt.mutable), value)
                self.globals[gindex] = defined[imp.module, imp.name] = g
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
            linker.define_unknown_imports_as_traps(self.compiled)
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


    def instantiate_message(self, exc: Exception) -> str:
        """The one line for an error wasmtime raised while instantiating."""
        msg = str(exc)
        first = first_line(exc)
        if "incompatible import type" in msg:
            return f"LinkError: {first}"
        if "unknown import" in msg:
            return f"LinkError: {first}"
        if "exceeds memory limits" in msg and self.budget.max_memory:
            big = max((m for m in self.module.memories if m.imported is None), default=None,
                      key=lambda m: m.type.min_bytes)
            if big is not None and big.type.min_bytes > self.budget.max_memory:
                return self.budget.over_limit(f"memory {big.index}", big.type.min_pages, big.type.page_size, "declares")
        return f"cannot instantiate {self.name}: {first}"
