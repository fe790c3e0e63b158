"""``wasmem call``: a session (or the shell's), the setup calls, the call, and what DWARF adds to it (a struct
returned through a hidden pointer decoded by its type, ``<sym+off>`` notes for returned pointers, ``file:line``
for trap frames); ``--watch`` and ``--coredump`` on the way."""

from __future__ import annotations

import os

from ..errors import UsageError, WasmemError
from ..runtime.results import CallResult
from ..runtime.session import Session
from .modules import (
    check_calls,
    dwarf_function,
    dwarf_sret,
    load_module,
    open_session,
    return_type,
    split_call,
    symbols_for,
)
from .targets import resolve_target


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
        # aligned with ``result.changes``: the variable/symbol/section each range falls in (None: no symbol
        # there; the renderer falls back on the layout's region label)
        self.change_labels: list = []

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
        for cd, label in zip(d.get("changes", []), self.change_labels, strict=False):
            if label:
                cd["label"] = label
        if self.frame_locations and isinstance(d.get("trap"), dict):
            for fd, loc in zip(d["trap"].get("frames", []), self.frame_locations, strict=False):
                fd["location"] = loc
        return d


def frame_locations(symbols, frames) -> list:
    """``file:line`` (or None) for each trap frame, from the DWARF line table. A frame's
    ``module_offset`` is a file offset; DWARF code addresses are relative to the code section payload."""
    out = []
    if symbols.lazy_debug() is None:  # (reads the units of the frames only)
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


def pointer_note(symbols, value: int) -> str | None:
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
    if live is None:  # every name and argument checked before DWARF is read and the module compiled
        main = (func, list(args), {"returns": returns, "ret_size": ret_size, "sret": sret, "writes": writes})
        check_calls(module, [*before, main], alloc=alloc, host=options.get("host"))
    symbols = symbols_for(module)
    fsym = dwarf_function(symbols, module, func)
    rtype = return_type(fsym)
    sret_type = None
    if rtype is not None and returns is None:
        from ..debuginfo import sizeof

        if rtype.strip().is_aggregate and sizeof(rtype):
            sret_type = rtype
            ret_size = max(ret_size, sizeof(rtype))
            if sret is None:
                sret = True
    from .watchpoints import attach_watch, watch_spec

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
        from ..runtime.coredump import session_coredump

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


def change_labels(symbols, changes) -> list:
    """The label of each changed range (``range_labeler``: the variables it falls in, by name), None for a
    range of another memory or where no symbol is known."""
    if symbols is None or not any(c.memory == 0 for c in changes):
        return [None] * len(changes)
    from .targets import range_labeler

    label = range_labeler(symbols)
    return [label(c.start, c.end) if c.memory == 0 else None for c in changes]


def _annotate(outcome: CallOutcome, sret_type, fsym) -> CallOutcome:
    r, symbols, session = outcome.result, outcome.symbols, outcome.session
    try:
        outcome.change_labels = change_labels(symbols, r.changes)
    except WasmemError:  # a damaged debug section: the ranges keep the layout's labels
        pass
    try:
        if r.trap is not None and r.trap.frames:
            outcome.frame_locations = frame_locations(symbols, r.trap.frames)
        if r.sret is not None and sret_type is not None:
            from ..debuginfo import format_value

            outcome.sret_value = format_value(sret_type, session.read, r.sret.address, label=r.name,
                                              symbols=symbols)
        ptr_t = "i64" if session.is64 else "i32"
        rtype = return_type(fsym)
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
