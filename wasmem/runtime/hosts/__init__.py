"""Host profiles: the functions a module's imports get, chosen for the toolchain that built it.

One module per profile; each says which imports it satisfies and how it recognises a module
(its docstring, ``summary`` and ``detect``):

=================  ===========================================================================
``wasi``           WASI preview 1 by wasmtime (sandboxed), for ``wasi_snapshot_preview1`` imports
``emscripten``     Emscripten's JS runtime (``env.emscripten_*``, ``invoke_*``, ``__assert_fail`` …)
``wasm-bindgen``   wasm-bindgen's JS glue (``__wbindgen_*``, ``__wbg_*``)
``assemblyscript`` AssemblyScript's bindings (``env.abort/trace/seed``, UTF-16 strings via ``__new``)
``go``             Go's wasm_exec.js (``gojs.*``/``go.*``, one ``sp`` argument)
``none``           nothing: every function import is a recorded stub returning zeros, no WASI
=================  ===========================================================================

``auto`` picks the first profile that recognises the module in the order go, assemblyscript,
wasm-bindgen, emscripten, wasi; else ``none``. Every profile but ``none`` also provides WASI when the
module imports it (an Emscripten module imports both). Imports a profile does not know fall back to the
generic helpers (``abort`` traps, Odin's ``odin_env.write``) and then to a recorded stub returning zeros
(a trap with ``--strict-imports``). Every call is recorded as a :class:`HostCall` whose ``handled_by``
is the profile's name (``stub``/``strict``/``odin`` for the fallbacks).

The one entry point for building a linker is :func:`define_host_imports`; the session calls it, and so
can any plain wasmtime embedding that wants the same host functions.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import wasmtime

from ...errors import RunError, UsageError
from ..spec import HOST_NAMES
from .assemblyscript import AssemblyScript
from .base import (
    WASI_MODULES,
    Guest,
    HostCall,
    HostContext,
    HostState,
    HostString,
    HostTrap,
    Profile,
    StringArg,
    generic_function,
    trap_frames,
    wasm_valtype,
    zeros,
)
from .emscripten import Emscripten
from .go import GO_MODULES, Go
from .wasi import (
    WASI_MODULE,
    Wasi,
    describe_wasi,
    legalized,
    make_config,
    memory_export,
    poll_oneoff,
    wasi_imports,
)
from .wasm_bindgen import PLACEHOLDER_MODULES, WasmBindgen

__all__ = ["Guest", "HostCall", "HostState", "HostString", "HostTrap", "HostContext", "HostChoice", "Profile", "StringArg",
           "PROFILES", "HOST_NAMES", "WASI_MODULES", "choose_host", "define_host_imports", "make_host_function",
           "make_config", "required_exports", "trap_frames", "zeros", "wasm_valtype"]

PROFILES: dict[str, Profile] = {p.name: p for p in (Wasi(), Emscripten(), WasmBindgen(), AssemblyScript(), Go(),
                                                     Profile())}
AUTO_ORDER = ("go", "assemblyscript", "wasm-bindgen", "emscripten", "wasi")
NO_IMPORTS = "the module imports no functions"


@dataclass
class HostChoice:
    """The profile a session uses and why; ``wasi``: WASI preview 1 is provided too; ``notes``: what the
    host did to the module for it (e.g. exported an imported memory to WASI)."""

    profile: Profile
    reason: str
    wasi: bool
    requested: str = "auto"
    notes: list[str] = field(default_factory=list)

    @property
    def name(self) -> str:
        return self.profile.name

    @property
    def imports_functions(self) -> bool:
        return self.reason != NO_IMPORTS

    @property
    def label(self) -> str:
        """``emscripten + WASI`` when WASI comes with the profile."""
        return f"{self.name} + WASI" if self.wasi and self.name != "wasi" else self.name

    @property
    def explanation(self) -> str:
        """The reason and the notes, one line."""
        return "; ".join([self.reason, *self.notes])

    def to_dict(self) -> dict:
        return {"profile": self.name, "reason": self.explanation, "requested": self.requested, "wasi": self.wasi}


def _detect(module) -> tuple[Profile, str]:
    for name in AUTO_ORDER:
        why = PROFILES[name].detect(module)
        if why:
            return PROFILES[name], why
    if not any(i.kind == "func" for i in module.imports):
        return PROFILES["none"], NO_IMPORTS
    return PROFILES["none"], "no imports of a known toolchain: every import is a recorded stub"


def choose_host(module, host: str | None = "auto") -> HostChoice:
    """The host profile for ``module``: detected (``auto``) or the one named (``--host NAME``)."""
    host = (host or "auto").lower()
    if host not in HOST_NAMES:
        raise UsageError(f"--host {host}: unknown host profile (choose from {', '.join(HOST_NAMES)})")
    detected, why = _detect(module)
    if host == "auto":
        profile, reason = detected, why
    else:
        profile = PROFILES[host]
        own = profile.detect(module)
        if own:
            reason = f"--host {host} ({own})"
        else:
            reason = f"--host {host} (not detected; auto would choose {detected.name}: {why})"
    wasi = profile.wasi and bool(wasi_imports(module))
    return HostChoice(profile, reason, wasi, host)


def required_exports(module, choice: HostChoice) -> list[tuple[str, str, int]]:
    """Exports the module must gain for the chosen host to work: ``(name, kind, index)``. WASI needs
    memory 0 exported as ``memory``. Adds a note to ``choice`` for each (or for why it cannot)."""
    if not choice.wasi:
        return []
    wanted, note = memory_export(module)
    if note and note not in choice.notes:
        choice.notes.append(note)
    return wanted


def define_host_imports(linker: wasmtime.Linker, store: wasmtime.Store, module, state: HostState | None = None, *,
                        host: str = "auto", choice: HostChoice | None = None, memory_of=None,
                        wasi_config: wasmtime.WasiConfig | None = None) -> HostContext:
    """Defines every function import of ``module`` in ``linker``, each (module, name) once even when the
    module imports it twice: WASI (``wasi_config``, default: sandboxed, argv ``[module.wasm]``, output
    discarded; a WASI import whose i64 parameters were split in two gets the profile's function) when
    the profile provides it, the profile's functions, then the generic fallback. Memories, tables and
    globals are the caller's business. Returns the context the functions share (its ``state`` holds the
    call log and captured output, ``profile`` and ``choice`` what was chosen).

    For WASI the module must export memory 0 as ``memory``: see :func:`required_exports`."""
    choice = choice or choose_host(module, host)
    ctx = HostContext(state or HostState(), module, memory_of, choice.profile)
    ctx.choice = choice
    ctx.state.context = ctx
    if choice.wasi:
        store.set_wasi(wasi_config if wasi_config is not None else make_config("module.wasm"))
        linker.define_wasi()
    defined: set[tuple[str, str]] = set()
    for imp in module.imports:
        if imp.kind != "func" or (imp.module, imp.name) in defined:
            continue
        ft = module.get_func_type(imp.type)
        shadow = False
        fn = None
        if choice.wasi and imp.module == WASI_MODULE:
            if imp.name == "poll_oneoff" and ft.params == ("i32",) * 4 and ft.results == ("i32",):
                fn = poll_oneoff(ctx)  # wasmem's: its sleep ends at --timeout and on Ctrl-C (see wasi.py)
            elif not legalized(imp.name, ft.params):
                continue  # wasmtime's
            shadow = True  # replaces wasmtime's definition (also an i64 split in two: Emscripten without BigInt)
        try:
            wft = wasmtime.FuncType([wasm_valtype(t) for t in ft.params], [wasm_valtype(t) for t in ft.results])
        except RunError:
            continue  # a type the host cannot make (v128 …): left for define_unknown_imports_as_traps
        fn = fn or host_function(ctx, imp.module, imp.name, ft.params, ft.results)
        linker.allow_shadowing = shadow  # a setter property in wasmtime-py
        linker.define_func(imp.module, imp.name, wft, fn, access_caller=True)
        linker.allow_shadowing = False
        defined.add((imp.module, imp.name))
    return ctx


def host_function(ctx: HostContext, module: str, name: str, params: tuple, results: tuple):
    """The profile's function for ``module.name``, else the generic fallback."""
    fn = ctx.profile.function(ctx, module, name, params, results) if ctx.profile is not None else None
    return fn or generic_function(ctx, module, name, params, results)


def profile_for_import(module: str, name: str, params: tuple) -> Profile:
    """The profile an import belongs to by its own name (for a function made without its module)."""
    if module in GO_MODULES:
        return PROFILES["go"]
    if module in PLACEHOLDER_MODULES or name.startswith(("__wbindgen_", "__wbg_")):
        return PROFILES["wasm-bindgen"]
    if module == "env" and name in ("abort", "trace", "seed") and (name != "abort" or params == ("i32",) * 4):
        return PROFILES["assemblyscript"]
    if module in ("env", "a"):
        return PROFILES["emscripten"]
    return PROFILES["none"]


def make_host_function(state: HostState, module: str, name: str, params: tuple, results: tuple, memory_of=None):
    """A host function ``f(caller, *args)`` for one import, its profile guessed from the import's own name
    (kept for callers that build a linker themselves; :func:`define_host_imports` chooses by the whole
    module). Functions made for the same ``state`` share one context."""
    ctx = state.context
    if ctx is None:
        ctx = state.context = HostContext(state, None, memory_of, None)
    prof = profile_for_import(module, name, params)
    fn = prof.function(ctx, module, name, params, results)
    return fn or generic_function(ctx, module, name, params, results)


__all__ += ["describe_wasi", "host_function", "profile_for_import"]
