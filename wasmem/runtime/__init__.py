"""The only package that imports wasmtime: live sessions, calls, memory access.

``open_session(path_or_module, **options)`` is the one entry point the CLI uses: it loads the module
(``.wat`` through wasmtime's assembler), asks the layout model where the stack pointer and the stack are,
and returns a :class:`Session`.
"""

from __future__ import annotations

import os

from ..errors import UsageError
from ..parser.module import WasmModule
from .session import CallResult, MemoryInfo, Session, Snapshot, TrapInfo

__all__ = ["Session", "CallResult", "TrapInfo", "MemoryInfo", "Snapshot", "open_session", "load_module",
           "call_function", "dump_memory", "CallOutcome", "DumpOutcome", "split_call",
           "layout_facts"]


def load_module(path_or_module) -> WasmModule:
    """A WasmModule from a path (``.wasm`` or ``.wat``/``.wast``), bytes, or an existing WasmModule."""
    if isinstance(path_or_module, WasmModule):
        return path_or_module
    if isinstance(path_or_module, (bytes, bytearray, memoryview)):
        return WasmModule.from_bytes(bytes(path_or_module))
    path = os.fspath(path_or_module)
    if not os.path.exists(path):
        raise UsageError(f"{path}: no such file")
    if path.endswith((".wat", ".wast")):
        from .wat import wat_to_wasm

        with open(path, encoding="utf-8") as f:
            return WasmModule.from_bytes(wat_to_wasm(f.read()), path)
    return WasmModule.from_file(path)


def layout_facts(module: WasmModule):
    """(layout or None, sp_global, stack_range, regions) from ``wasmem.model.layout.analyze``.

    Expected interface: ``analyze(module) -> MemoryLayout`` with ``.stack_pointer`` (None or an object
    with ``.global_index``), ``.stack_low`` / ``.stack_high`` (int or None) and ``.regions`` (objects with
    ``.kind``, ``.start``, ``.end``, ``.label``). Missing pieces degrade gracefully."""
    try:
        from ..model.layout import analyze
    except ImportError:
        return None, None, None, []
    layout = analyze(module)
    sp = getattr(layout, "stack_pointer", None)
    sp_global = getattr(sp, "global_index", None) if sp is not None else None
    low, high = getattr(layout, "stack_low", None), getattr(layout, "stack_high", None)
    stack_range = (low, high) if isinstance(low, int) and isinstance(high, int) and low < high else None
    regions = list(getattr(layout, "regions", None) or [])
    return layout, sp_global, stack_range, regions


def open_session(path_or_module, **options) -> Session:
    """Loads, analyses and instantiates a module. ``options`` are Session's keyword arguments; an explicit
    ``sp_global`` / ``stack_range`` overrides what the layout model found."""
    module = load_module(path_or_module)
    layout, sp_global, stack_range, regions = layout_facts(module)
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
    """What ``wasmem call`` shows: the setup calls, the call, and the session they ran in."""

    def __init__(self, session: Session, before: list, result: CallResult):
        self.session = session
        self.before = before
        self.result = result

    @property
    def ok(self) -> bool:
        return self.result.ok and all(b.ok for b in self.before)

    def to_dict(self) -> dict:
        d = self.result.to_dict()
        d["before"] = [b.to_dict() for b in self.before]
        d["module"] = self.session.module.path
        return d


def call_function(path_or_module, func: str, args=(), *, before=(), returns: str | None = None,
                  ret_size: int = 16, alloc: str | None = None, **options) -> CallOutcome:
    """Opens a session, runs each ``before`` call ("FUNC ARGS"), then calls ``func`` with ``args``.
    A setup call that traps stops there: the outcome's result is that call."""
    session = open_session(path_or_module, **options)
    done: list[CallResult] = []
    for text in before:
        name, bargs = split_call(text)
        r = session.call(name, bargs, alloc=alloc)
        if not r.ok:
            return CallOutcome(session, done, r)
        done.append(r)
    return CallOutcome(session, done, session.call(func, list(args), returns=returns, ret_size=ret_size,
                                                   alloc=alloc))


class DumpOutcome:
    """What ``wasmem dump`` shows: the dump, the calls run before it, where the bytes came from."""

    def __init__(self, dump, source: str, calls: list, regions: list, saved: str | None = None, sp=None):
        self.dump = dump
        self.source = source  # "instance" | "snapshot FILE"
        self.calls = calls
        self.regions = regions
        self.saved = saved
        self.sp = sp

    @property
    def ok(self) -> bool:
        return all(c.ok for c in self.calls)

    def to_dict(self) -> dict:
        d = self.dump.to_dict()
        d["source"] = self.source
        d["sp"] = self.sp
        d["saved"] = self.saved
        d["calls"] = [c.to_dict() for c in self.calls]
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


def dump_memory(path_or_module, at: str = "0", length: int = 256, *, fmt: str = "hex", big_endian: bool = False,
                width: int | None = None, memory: int = 0, after=(), snapshot: str | None = None,
                save: str | None = None, alloc: str | None = None, **options) -> DumpOutcome:
    """Reads ``length`` bytes at the address expression ``at`` from a live instance (after the ``after``
    calls) or from a raw ``snapshot`` image, and splits them into labelled rows."""
    from ..model.values import MemoryImage, eval_address, make_dump

    if length < 0:
        raise UsageError(f"--len {length} is negative")
    if snapshot is not None:
        module = load_module(path_or_module)
        layout, sp_global, _, regions = layout_facts(module)
        if not os.path.isfile(snapshot):
            raise UsageError(f"--snapshot {snapshot}: no such file")
        with open(snapshot, "rb") as f:
            image = MemoryImage(f.read(), f"snapshot {os.path.basename(snapshot)}")
        syms = _static_symbols(module, layout)

        def lookup(name):
            if name.lower() == "sp":
                raise UsageError("`sp` is not known for a raw snapshot (the stack pointer is not in the image)")
            return syms.get(name)

        addr = eval_address(at, lookup)
        data = image.read(addr, length)
        if save:
            with open(save, "wb") as f:
                f.write(image.data)
        d = make_dump(data, addr, fmt, width=width, big_endian=big_endian,
                      regions=regions if memory == 0 else (), memory=memory, memory_size=image.size)
        return DumpOutcome(d, f"snapshot {snapshot}", [], regions, save)

    session = open_session(path_or_module, **options)
    calls = []
    changed: set[int] = set()
    for text in after:
        name, cargs = split_call(text)
        r = session.call(name, cargs, alloc=alloc)
        calls.append(r)
        for c in r.changes:
            if c.memory == memory:
                changed.update(i for i in range(c.start, c.end) if c.before[i - c.start] != c.after[i - c.start])
        if not r.ok:
            break
    addr = session.resolve_address(at)
    data = session.read(addr, length, memory)
    if save:
        with open(save, "wb") as f:
            f.write(session._image(memory))
    regions = session.regions if memory == 0 else []
    d = make_dump(data, addr, fmt, width=width, big_endian=big_endian, regions=regions, changed=changed,
                  memory=memory, memory_size=session.memory_size(memory))
    return DumpOutcome(d, "instance", calls, regions, save, session.get_sp())
