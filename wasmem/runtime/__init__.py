"""The only package that imports wasmtime: live sessions, calls, memory access.

``open_session(path_or_module, **options)`` is the one entry point the CLI uses: it loads the module
(``.wat`` through wasmtime's assembler), asks the layout model where the stack pointer and the stack are,
and returns a :class:`Session`.
"""

from __future__ import annotations

import os
import re

from ..errors import UsageError, WasmemError
from ..model.layout import paint_safety
from ..parser.module import WasmModule
from .session import CallResult, MemoryInfo, Session, Snapshot, TrapInfo

__all__ = ["Session", "CallResult", "TrapInfo", "MemoryInfo", "Snapshot", "open_session", "load_module",
           "call_function", "dump_memory", "chase_memory", "CallOutcome", "DumpOutcome", "ChaseOutcome",
           "split_call", "layout_facts", "resolve_target", "Target", "row_labeler"]


def load_module(path_or_module) -> WasmModule:
    """A WasmModule from a path (binary, or text by name or content: see ``wasmem.api.load_module``),
    bytes, or an existing WasmModule."""
    if isinstance(path_or_module, WasmModule):
        return path_or_module
    if isinstance(path_or_module, (bytes, bytearray, memoryview)):
        return WasmModule.from_bytes(bytes(path_or_module))
    from ..api import load_module as load_path

    return load_path(path_or_module)


def layout_facts(module: WasmModule):
    """(layout, sp_global, stack_range, regions) from the layout model, as plain values for Session."""
    from ..debuginfo.layout import analyze_layout

    layout = analyze_layout(module)  # with DWARF's .bss facts: the same model `symbols` and `inspect` use
    sp_global = layout.stack_pointer.global_index if layout.stack_pointer is not None else None
    low, high = layout.stack_low, layout.stack_high
    stack_range = (low, high) if low is not None and high is not None and low < high else None
    return layout, sp_global, stack_range, list(layout.regions)


def open_session(path_or_module, **options) -> Session:
    """Loads, analyses and instantiates a module. ``options`` are Session's keyword arguments; an explicit
    ``sp_global`` / ``stack_range`` overrides what the layout model found (and is then trusted for
    painting: pass ``paint=False`` not to paint)."""
    module = load_module(path_or_module)
    layout, sp_global, stack_range, regions = layout_facts(module)
    if "stack_range" not in options:
        options.setdefault("paint_safe", paint_safety(layout, stack_range))
    options.setdefault("sp_global", sp_global)
    options.setdefault("stack_range", stack_range)
    session = Session(module, **options)
    session.layout = layout
    session.regions = regions
    return session


# -- the two commands as library calls ----------------------------------------------------------------
def split_call(text: str) -> tuple[str, list[str]]:
    """``"FUNC ARG ARG"`` (shell quoting) → (FUNC, [ARG, ARG])."""
    import shlex

    try:
        parts = shlex.split(text)
    except ValueError as exc:
        raise UsageError(f"cannot parse call {text!r}: {exc}") from None
    if not parts:
        raise UsageError("empty call: give FUNC [ARGS...]")
    return parts[0], parts[1:]


class CallOutcome:
    """What ``wasmem call`` shows: the setup calls, the call, and the session they ran in; with
    symbols: the sret result decoded by its DWARF type (``sret_value``), ``<sym+off>`` notes for
    returned pointers (``result_notes``, by result index) and ``file:line`` of each trap frame
    (``frame_locations``, aligned with ``result.trap.frames``)."""

    def __init__(self, session: Session, before: list, result: CallResult, *, symbols=None, sret_value=None,
                 result_notes: dict | None = None, frame_locations: list | None = None):
        self.result_values: dict = {}  # result index → the typed value a returned pointer points at
        self.watch = None  # a model.watch.WatchReport with --watch
        self.session = session
        self.before = before
        self.result = result
        self.symbols = symbols
        self.sret_value = sret_value
        self.result_notes = result_notes or {}
        self.frame_locations = frame_locations or []
        self.coredump: str | None = None  # the coredump file written when the call trapped (--coredump)

    @property
    def ok(self) -> bool:
        return self.result.ok and all(b.ok for b in self.before)

    def to_dict(self) -> dict:
        d = self.result.to_dict()
        d["before"] = [b.to_dict() for b in self.before]
        d["module"] = self.session.module.path
        d["host"] = self.session.host_choice.to_dict()
        if self.sret_value is not None and isinstance(d.get("sret"), dict):
            d["sret"]["type"] = self.sret_value.type_name
            d["sret"]["value"] = self.sret_value.to_dict()
            d["sret"]["text"] = self.sret_value.one_line(400)
        if self.result_notes:
            d["result_notes"] = {str(k): v for k, v in self.result_notes.items()}
        if self.result_values:
            d["result_values"] = {str(k): {"type": v.type_name, "value": v.to_dict()}
                                  for k, v in self.result_values.items()}
        if self.watch is not None:
            d["watch"] = self.watch.to_dict()
        if self.coredump is not None:
            d["coredump"] = self.coredump
        if self.frame_locations and isinstance(d.get("trap"), dict):
            for fd, loc in zip(d["trap"].get("frames", []), self.frame_locations, strict=False):
                fd["location"] = loc
        return d


def symbols_for(module: WasmModule):
    """The module's SymbolTable (DWARF loaded lazily, only when asked for), made once per module object
    (a shell asks for it on every command)."""
    from ..debuginfo import load_symbols

    table = getattr(module, "_wasmem_symbols", None)
    if table is None:
        table = load_symbols(module)
        try:
            module._wasmem_symbols = table
        except AttributeError:  # a module type with __slots__: no cache
            pass
    return table


def _has_dwarf_sections(module: WasmModule) -> bool:
    return any(s.name == ".debug_info" for s in module.debug_sections)


def dwarf_function(symbols, module: WasmModule, name: str):
    """The DWARF function symbol of the export ``name`` (None without DWARF)."""
    if not _has_dwarf_sections(module) or not symbols.has_dwarf:
        return None
    e = module.find_export(name)
    if e is None or e.kind != "func":
        return None
    for f in symbols.functions:
        if f.func_index == e.index and f.source == "dwarf":
            return f
    return None


def dwarf_sret(symbols, module: WasmModule, name: str) -> bool | None:
    """True when DWARF says the export ``name`` returns a struct (through a hidden pointer), else None
    (no opinion: the arguments then have to match the parameters one to one)."""
    rtype = _return_type(dwarf_function(symbols, module, name))
    if rtype is None:
        return None
    from ..debuginfo import sizeof

    try:
        return True if rtype.strip().is_aggregate and sizeof(rtype) else None
    except WasmemError:
        return None


def _return_type(fsym):
    t = getattr(fsym, "type", None)
    return getattr(t, "returns", None) if t is not None else None


def frame_locations(symbols, frames) -> list:
    """``file:line`` (or None) for each trap frame, from the DWARF line table. A frame's
    ``module_offset`` is a file offset; DWARF code addresses are relative to the code section payload."""
    out = []
    if not symbols.has_dwarf:
        return [None] * len(frames)
    cs = symbols.code_start
    for f in frames:
        loc = None
        if f.module_offset is not None:
            try:
                loc = symbols.location_of(f.module_offset - cs)
            except Exception:  # noqa: BLE001 - a damaged line table must not hide the trap
                loc = None
        out.append(loc)
    return out


def pointer_note(symbols, value: int, pointee_type=None) -> str | None:
    """``<sym+off>`` for a value that points at a known symbol (None otherwise)."""
    if not isinstance(value, int) or value <= 0:
        return None
    try:
        return symbols.label(value)
    except WasmemError:
        return None


def call_function(path_or_module, func: str, args=(), *, before=(), returns: str | None = None,
                  ret_size: int = 16, alloc: str | None = None, sret: bool | None = None, writes=(),
                  coredump: str | os.PathLike | None = None, watch=(), watch_stop: bool = False, access: str = "w",
                  trace_writes: bool = False, **options) -> CallOutcome:
    """Opens a session, runs each ``before`` call ("FUNC ARGS"), then calls ``func`` with ``args``.
    A setup call that traps stops there: the outcome's result is that call.

    With DWARF, a struct returned through a hidden pointer is decoded by the function's return
    type (the slot is made big enough for it), returned pointers get ``<sym+off>`` notes and trap
    frames get ``file:line``. A hidden result pointer is passed only when DWARF says the function returns
    a struct, or when ``sret``/``returns`` asks for it: a missing argument is never taken for one.

    With ``coredump`` (a path), a call that traps (a setup call too) leaves a standard coredump there: every
    memory and global of the instance as the trap left them and the trap's frames; ``outcome.coredump``
    is then the path (it stays None when nothing trapped, and no file is written).

    ``watch``: targets (runtime/watch.py) whose writes (``access="rw"``: and reads) are reported, in the
    ``before`` calls too, as the outcome's ``watch`` report; ``watch_stop`` makes the first hit a trap;
    ``trace_writes`` sums every write per function into the report's ``write_map``."""
    live = path_or_module if isinstance(path_or_module, Session) else None  # the shell's session: kept open
    module = live.module if live is not None else load_module(path_or_module)
    symbols = symbols_for(module)
    fsym = dwarf_function(symbols, module, func)
    rtype = _return_type(fsym)
    sret_type = None
    if rtype is not None and returns is None:
        from ..debuginfo import sizeof

        if rtype.strip().is_aggregate and sizeof(rtype):
            sret_type = rtype
            ret_size = max(ret_size, sizeof(rtype))
            if sret is None:
                sret = True
    from .watch import attach_watch, watch_spec

    spec = watch_spec(watch, access, trace_writes)
    if spec is not None:
        if live is not None:
            raise UsageError("--watch rewrites the module before it is instantiated: it cannot be added to a "
                             "running session")
        options["watch"] = spec
    elif watch_stop:
        raise UsageError("--stop needs --watch TARGET")
    session = live if live is not None else open_session(module, **options)
    report = None
    if spec is not None:
        try:
            report = attach_watch(session, watch, symbols, stop=watch_stop, access=access, trace=trace_writes)
        except BaseException:
            session.close()
            raise
    dumped: list[str] = []
    if coredump is not None:
        from .coredump import session_coredump

        def on_trap(trap):
            if trap.kind == "exit":  # proc_exit ends the program; it is not a trap (wasmtime writes no dump)
                return
            session_coredump(session, coredump, trap)
            dumped.append(os.fspath(coredump))

        session.on_trap = on_trap
    done: list[CallResult] = []
    for k, text in enumerate(before, 1):
        name, bargs = split_call(text)
        if report is not None:
            session.watch_recorder.call_label = f"before {k}: {name}"
        r = session.call(name, bargs, alloc=alloc, sret=dwarf_sret(symbols, module, name))
        if not r.ok:
            out = _dumped(_annotate(CallOutcome(session, done, r, symbols=symbols), None, None), dumped)
            out.watch = report
            return out
        done.append(r)
    if report is not None:
        session.watch_recorder.call_label = f"call: {func}"
    if writes:  # symbols (DWARF variables, data segment names) as well as numbers and globals
        from ..model.values import parse_write

        resolved = []
        for w in writes:
            expr, data = parse_write(w)
            addr = resolve_target(expr, symbols, session.read, session.resolve_address).address
            resolved.append(f"{addr:#x}={data.hex()}")
        writes = resolved
    r = session.call(func, list(args), returns=returns, ret_size=ret_size, alloc=alloc, sret=sret, writes=writes)
    out = _dumped(_annotate(CallOutcome(session, done, r, symbols=symbols), sret_type, fsym), dumped)
    out.watch = report
    return out


def _dumped(outcome: CallOutcome, dumped: list) -> CallOutcome:
    outcome.coredump = dumped[-1] if dumped else None
    return outcome


def _annotate(outcome: CallOutcome, sret_type, fsym) -> CallOutcome:
    r, symbols, session = outcome.result, outcome.symbols, outcome.session
    try:
        if r.trap is not None and r.trap.frames:
            outcome.frame_locations = frame_locations(symbols, r.trap.frames)
        if r.sret is not None and sret_type is not None:
            from ..debuginfo import format_value

            outcome.sret_value = format_value(sret_type, session.read, r.sret.address, label=r.name,
                                              symbols=symbols)
        ptr_t = "i64" if session.is64 else "i32"
        rtype = _return_type(fsym)
        typed_ptr = rtype is not None and rtype.strip().kind == "pointer"
        if fsym is None or typed_ptr:  # without DWARF any address-like result; with it, pointers only
            for i, (ty, v) in enumerate(zip(r.result_types, r.results, strict=False)):
                if ty != ptr_t or not isinstance(v, int):
                    continue
                v &= 0xFFFFFFFF if ptr_t == "i32" else 0xFFFFFFFFFFFFFFFF
                if not 0 < v < session.memory_size(0):
                    continue
                note = pointer_note(symbols, v)
                if typed_ptr:
                    note = f"({rtype.name}){'' if note is None else ' ' + note}"
                    pointee = rtype.strip().target
                    if pointee is not None and pointee.strip().kind != "void" and pointee.size:
                        from ..debuginfo import format_value

                        outcome.result_values[i] = format_value(pointee, session.read, v, label="*result",
                                                                depth=2, symbols=symbols)
                if note is not None:
                    outcome.result_notes[i] = note
    except WasmemError:  # annotations are extras: a damaged debug section must not lose the call's result
        pass
    return outcome


class DumpOutcome:
    """What ``wasmem dump`` shows: the dump, the calls run before it, where the bytes came from;
    ``value`` is the typed tree when ``--type`` was given."""

    def __init__(self, dump, source: str, calls: list, regions: list, saved: str | None = None, sp=None,
                 value=None, target=None):
        self.dump = dump
        self.source = source  # "instance" | "snapshot FILE"
        self.calls = calls
        self.regions = regions
        self.saved = saved
        self.sp = sp
        self.value = value
        self.target = target
        self.notes: list[str] = []  # e.g. a coredump that names another module file (its structure matched)

    @property
    def ok(self) -> bool:
        return all(c.ok for c in self.calls)

    def to_dict(self) -> dict:
        d = self.dump.to_dict()
        d["source"] = self.source
        d["sp"] = self.sp
        d["saved"] = self.saved
        d["calls"] = [c.to_dict() for c in self.calls]
        if self.target is not None:
            d["symbol"] = self.target.label
            d["expression"] = self.target.expression
        if self.value is not None:
            d["type"] = self.value.type_name
            d["value"] = self.value.to_dict()
        return d


def _static_symbols(module: WasmModule, layout) -> dict[str, int]:
    syms: dict[str, int] = {}
    for g in module.globals:
        if g.init is not None and isinstance(g.init.simple_value, int):
            v = g.init.simple_value & 0xFFFFFFFF
            for name in module.get_export_names("global", g.index):
                syms[name] = v
            n = module.names.globals.get(g.index)
            if n:
                syms.setdefault(n, v)
    syms.update(getattr(layout, "linker_symbols", None) or {})
    return syms


class Target:
    """Where an address expression lands: the address, and with symbols its type and size."""

    def __init__(self, expression: str, address: int, type=None, size: int | None = None,
                 label: str | None = None):
        self.expression = expression
        self.address = address
        self.type = type
        self.size = size
        self.label = label


def resolve_target(text: str, symbols, read, fallback) -> Target:
    """An address expression → Target. Numbers, ``sp`` and global names go through ``fallback(text)``
    (the session's or a snapshot's resolver); a data symbol starts a symbol path
    (``config.meta.name``, ``names[2]``, ``node_a->next->next``, ``data_array+0x8``) that follows
    pointers through ``read``. Data segment names (``.data``) and exported address globals work
    without DWARF."""
    from ..debuginfo.symbols import _FIRST
    from ..model.values import parse_int

    t = text.strip()
    try:
        addr = parse_int(t)
    except ValueError:
        addr = None
    if addr is None:
        m = _FIRST.match(t)
        name = m.group(1) if m else None
        sym = symbols.find_symbol(name) if name and name.lower() != "sp" else None
        if sym is not None and sym.kind != "function":
            rp = symbols.resolve_path(t, read)
            size = rp.size if rp.type is not None else None
            if rp.type is None and sym.size and sym.address <= rp.address < sym.address + sym.size:
                size = sym.address + sym.size - rp.address  # sym+off: the rest of the symbol
            return Target(t, rp.address, rp.type, size or None, symbols.label(rp.address))
        if name and sym is None and re.match(r"\s*(\.|\[|->)", t[len(name):]):
            raise UsageError(f"no data symbol named {name!r} (symbols from the {symbols.source})"
                             + symbols._suggest(name))
        addr = fallback(t)
    return Target(t, addr, None, None, symbols.label(addr))


def row_labeler(symbols):
    """``<sym+off>`` for a row address covered by a variable or exported symbol (not a segment or a
    marker: those are what the region labels already say)."""
    def label(addr: int) -> str | None:
        try:
            got = symbols.symbol_at(addr)
        except Exception:  # noqa: BLE001
            return None
        if got is None:
            return None
        s, off = got
        if s.kind in ("segment", "marker"):
            return None
        return f"<{s.display_name}+{off:#x}>" if off else f"<{s.display_name}>"
    return label


def _find_type(symbols, type_name: str, target: Target):
    if type_name in ("auto", "."):
        if target.type is None:
            raise UsageError(f"{target.expression} has no DWARF type: give --type NAME "
                             "(and build with -g for DWARF)")
        return target.type
    if not symbols.has_dwarf:
        raise UsageError(f"--type {type_name} needs DWARF debug info (build with -g); this module has "
                         f"symbols from the {symbols.source} only")
    t = symbols.find_type(type_name)
    if t is None:
        raise UsageError(f"no type named {type_name!r} in the DWARF info")
    return t


DEFAULT_DUMP_LEN = 256


def snapshot_limit(module: WasmModule, memory: int = 0) -> int:
    """The most bytes a snapshot of ``memory`` can have: its declared maximum, else what its index type
    can address (4 GiB for wasm32; memory64 snapshots are capped there too, as wasmem reads them whole)."""
    if not 0 <= memory < len(module.memories):
        n = len(module.memories)
        raise UsageError(f"memory {memory} does not exist (the module has {n} memor{'y' if n == 1 else 'ies'})")
    mt = module.memories[memory].type
    cap = 1 << 32
    if mt.max_pages is not None:
        return min(cap, mt.max_pages * mt.page_size)
    return cap


def _shared_regions(symbols, regions: list) -> list:
    """The map of memory 0 from the layout the symbol table uses (with its DWARF facts), so that a dump's
    region headings and its symbols' regions come from one model even when the session's own layout skipped
    the DWARF (its variables scan ran out of time). The DWARF is read anyway here: the labels need it."""
    if not getattr(symbols, "has_dwarf", False):
        return regions
    try:
        layout = symbols.layout
    except WasmemError:
        return regions
    return list(layout.regions) if layout is not None and layout.regions else regions


class _Memory:
    """Where `dump` and `chase` read from: a live instance after the ``after`` calls, or a raw snapshot
    image (the module then gives only the layout and the names)."""

    def __init__(self, path_or_module, *, memory: int = 0, after=(), snapshot: str | None = None,
                 alloc: str | None = None, core: str | None = None, **options):
        from ..model.values import MemoryImage, eval_address
        from .coresession import CoreSession

        self.calls: list = []
        self.changed: set[int] = set()
        self.session = None
        self.core_memory = None
        self.notes: list[str] = []
        if snapshot is not None and after:
            raise UsageError("--after calls functions of a live instance, --snapshot reads a saved memory image: "
                             "use one or the other")
        from_core = core is not None or isinstance(path_or_module, CoreSession)
        if from_core and (after or snapshot is not None):
            raise UsageError("--core reads a coredump: it takes neither --after calls nor a --snapshot")
        if from_core:
            self._open_core(path_or_module, core, memory)
        elif snapshot is not None:
            module = load_module(path_or_module)
            layout, _, _, regions = layout_facts(module)
            limit = snapshot_limit(module, memory)
            from ..files import read_regular

            data = read_regular(snapshot, limit, what="--snapshot", noun="a memory image", max_size=limit,
                                size_note=f"memory {memory} of this module can hold ({limit} bytes): not a snapshot "
                                          "of it")
            image = MemoryImage(data, f"snapshot {os.path.basename(snapshot)}")
            syms = _static_symbols(module, layout)

            def lookup(name):
                if name.lower() == "sp":
                    raise UsageError("`sp` is not known for a raw snapshot (the stack pointer is not in the image)")
                return syms.get(name)

            self.module, self.source, self.sp = module, f"snapshot {snapshot}", None
            self.regions = regions if memory == 0 else []
            self.read, self.size, self.image = image.read, image.size, image.data
            self.resolve = lambda text: eval_address(text, lookup)
            self.is64 = bool(module.memories and module.memories[0].type.is64)
        else:
            session = self.session = (path_or_module if isinstance(path_or_module, Session)  # a live one
                                      else open_session(path_or_module, **options))
            setup_symbols = symbols_for(session.module) if after else None
            for text in after:
                name, cargs = split_call(text)
                r = session.call(name, cargs, alloc=alloc, sret=dwarf_sret(setup_symbols, session.module, name))
                self.calls.append(r)
                for c in r.changes:
                    if c.memory == memory:
                        self.changed.update(i for i in range(c.start, c.end)
                                            if c.before[i - c.start] != c.after[i - c.start])
                if not r.ok:
                    break
            self.module, self.source, self.sp = session.module, "instance", session.get_sp()
            self.regions = session.regions if memory == 0 else []
            self.read = lambda addr, n: session.read(addr, n, memory)
            self.size = session.memory_size(memory)
            self.resolve, self.is64 = session.resolve_address, session.is64
            self.image = None
        self.symbols = symbols_for(self.module) if memory == 0 else None
        if self.symbols is not None and self.regions:
            self.regions = _shared_regions(self.symbols, self.regions)

    def _open_core(self, path_or_module, core: str | None, memory: int) -> None:
        """A coredump's memory: ``path_or_module`` is a CoreSession (a shell's), or the module ``core``
        was taken of."""
        from .coresession import CoreSession, open_core_session

        cs = path_or_module if isinstance(path_or_module, CoreSession) else open_core_session(path_or_module, core)
        cm = cs.guest_memory(memory)
        self.module, self.source, self.sp = cs.module, f"coredump {cs.core_path}", cs.get_sp()
        self.regions = list(cs.regions) if memory == 0 else []
        self.read, self.size, self.image, self.core_memory = cm.read, cm.size, None, cm
        self.resolve = cs.resolve_address
        self.is64 = cs.is64
        self.notes = list(cs.notes)

    def target(self, at: str) -> Target:
        if self.symbols is None:
            return Target(at, self.resolve(at))
        return resolve_target(at, self.symbols, self.read, self.resolve)

    def save(self, path: str, memory: int) -> None:
        if self.core_memory is not None and self.core_memory.size > 1 << 32:
            raise UsageError(f"--save: memory {memory} of the coredump is {self.core_memory.size} bytes, "
                             f"more than a raw image wasmem writes (4 GiB)")
        with open(path, "wb") as f:
            if self.core_memory is not None:  # a raw image of a coredump's memory, written a block at a time
                for block in self.core_memory.iter_chunks():
                    f.write(block)
                return
            f.write(self.image if self.image is not None else self.session.image(memory))


def dump_memory(path_or_module, at: str = "0", length: int | None = None, *, fmt: str = "hex",
                big_endian: bool = False, width: int | None = None, memory: int = 0, after=(),
                snapshot: str | None = None, save: str | None = None, alloc: str | None = None,
                type_name: str | None = None, depth: int = 4, core: str | None = None, changed=None,
                **options) -> DumpOutcome:
    """Reads ``length`` bytes at the address expression ``at`` from a live instance (after the ``after``
    calls), from a raw ``snapshot`` image or from a coredump (``core``, of this module), and splits them
    into rows labelled ``<symbol+off>`` or by region. ``save`` writes the whole memory as a raw image (so a
    coredump becomes a ``--snapshot`` image). ``at`` may be a symbol path (``config.meta``, ``node_a->next``); without ``length`` a symbol's
    size is used (else 256). ``type_name`` (a DWARF type, or ``auto`` for the symbol's own type) decodes
    the bytes into a typed value tree. ``changed`` adds addresses to highlight (a shell's last call)."""
    from ..model.values import make_dump

    if length is not None and length < 0:
        raise UsageError(f"--len {length} is negative")
    mem = _Memory(path_or_module, memory=memory, after=after, snapshot=snapshot, alloc=alloc, core=core, **options)
    if changed:
        mem.changed |= set(changed)
    target = mem.target(at)
    value = None
    if type_name:
        if mem.symbols is None:
            raise UsageError("--type works on memory 0 only")
        from ..debuginfo import format_value, sizeof

        t = _find_type(mem.symbols, type_name, target)
        value = format_value(t, mem.read, target.address, label=target.expression, depth=depth,
                             symbols=mem.symbols)
        if length is None:
            length = sizeof(t) or 0
    if length is None:
        length = target.size or DEFAULT_DUMP_LEN
    data = mem.read(target.address, length)
    if save:
        mem.save(save, memory)
    d = make_dump(data, target.address, fmt, width=width, big_endian=big_endian, regions=mem.regions,
                  changed=mem.changed, memory=memory, memory_size=mem.size,
                  labeler=row_labeler(mem.symbols) if mem.symbols is not None else None)
    out = DumpOutcome(d, mem.source, mem.calls, mem.regions, save, mem.sp, value=value, target=target)
    out.notes = list(mem.notes)
    return out


class ChaseOutcome:
    """What ``wasmem chase`` shows: the calls run first and the chase."""

    def __init__(self, chase, calls: list, session=None):
        self.chase = chase
        self.calls = calls
        self.session = session
        self.notes: list[str] = []

    @property
    def ok(self) -> bool:
        return all(c.ok for c in self.calls)

    def to_dict(self) -> dict:
        d = self.chase.to_dict()
        d["calls"] = [c.to_dict() for c in self.calls]
        return d


def chase_memory(path_or_module, at: str, *, depth: int = 4, after=(), length: int | None = None,
                 type_name: str | None = None, untyped: bool = False, alloc: str | None = None,
                 snapshot: str | None = None, core: str | None = None, **options) -> ChaseOutcome:
    """Follows pointers from ``at`` (an address expression or a symbol path) in a live instance, after
    the ``after`` calls, in a raw ``snapshot`` image or in a coredump (``core``). With a DWARF type (the symbol's own, or
    ``type_name``) the result is a typed tree with pointer members followed; otherwise a telescope of
    classified words (``length`` bytes, default: the symbol's size, else 8 words)."""
    from ..model.chase import Chase, MemoryMap, telescope, typed_walk

    if depth < 0:
        raise UsageError(f"--depth {depth} is negative")
    mem = _Memory(path_or_module, after=after, snapshot=snapshot, alloc=alloc, core=core, **options)
    symbols = mem.symbols
    target = mem.target(at)
    ws = 8 if mem.is64 else 4
    msize = mem.size
    if not 0 <= target.address < msize:
        raise UsageError(f"address {target.address:#x} is outside memory 0 ({msize} bytes)")
    ch = Chase(target.address, at, depth, ws, label=target.label, memory_size=msize, sp=mem.sp,
               symbols_from=symbols.source)
    t = None
    if not untyped:
        if type_name:
            t = _find_type(symbols, type_name, target)
        elif target.type is not None:
            t = target.type
        elif target.label is not None and symbols.has_dwarf:
            got = symbols.symbol_at(target.address)
            if got is not None and got[1] == 0 and got[0].type is not None:
                t = got[0].type
    if t is not None:
        from ..debuginfo import format_value

        def decode(ty, addr, label):
            return format_value(ty, mem.read, addr, label=label, depth=8, symbols=symbols)

        root = decode(t, target.address, at)
        ch.value = typed_walk(root, decode, depth=depth, memory_size=msize)
        ch.type_name = t.name
    else:
        layout_map = MemoryMap(mem.regions, msize, mem.sp, ws, symbols)
        if length is None:
            length = target.size or 8 * ws
        length = max(0, min(length, msize - target.address))
        ch.words = telescope(mem.read, target.address, length, layout_map, depth=depth)
    out = ChaseOutcome(ch, mem.calls, mem.session)
    out.notes = list(mem.notes)
    return out
