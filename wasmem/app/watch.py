"""``wasmem watch`` and ``call --watch``: what the session is rewritten for (``watch_spec``), the targets
resolved in the live memory (``resolve_watch_target``: ranges, symbols and symbol paths, regions, ``sp``), the
recorder attached (``attach_watch``: runtime/watch.py's WatchRecorder), and a watched sequence of calls."""

from __future__ import annotations

import re

from ..errors import UsageError
from ..model.watch import WatchHit, WatchReport, WatchTarget
from ..runtime.watch import REGION_NAMES, WatchRecorder, through_pointer


def watch_spec(texts, access: str = "w", trace: bool = False) -> dict | None:
    """What Session needs before compiling: the number of ranges and which one is ``sp`` (``trace``:
    one more range, all of memory 0, for ``--trace-writes``)."""
    texts = list(texts)
    if not texts and not trace:
        return None
    if access not in ("w", "rw"):
        raise UsageError(f"--access {access}: give w (writes) or rw (reads and writes)")
    sp = [i for i, t in enumerate(texts) if t.strip().lower() == "sp"]
    if len(sp) > 1:
        raise UsageError("--watch sp given twice")
    from ..instrument.watch import MAX_RANGES

    if len(texts) + trace > MAX_RANGES:
        raise UsageError(f"--watch: at most {MAX_RANGES - trace} targets (got {len(texts)})")
    return {"ranges": len(texts) + trace, "reads": access == "rw", "sp_range": sp[0] if sp else None}


def _size_of(text: str) -> int:
    from ..model.values import parse_int

    try:
        n = parse_int(text)
    except ValueError:
        raise UsageError(f"--watch: {text!r} is not a size (ADDR:LEN, e.g. 0x1000:16)") from None
    if n <= 0:
        raise UsageError(f"--watch: the size {text} must be at least 1")
    return n


def resolve_watch_target(text: str, session, symbols, *, pending_ok: bool = False) -> WatchTarget:
    """``0x1000:16`` / ``sym:16``, a symbol or symbol path, a region name, or ``sp``. ``pending_ok``: a
    path through a pointer that is null for now (``head->value`` before the first push) is an empty
    target that ``WatchRecorder.retarget`` fills once the pointer is set."""
    try:
        return _resolve(text, session, symbols)
    except UsageError as exc:
        if pending_ok and through_pointer(text) and "null pointer" in str(exc):
            return WatchTarget(text.strip(), "symbol", 0, 0, f"not resolved yet: {exc}")
        raise


def _resolve(text: str, session, symbols) -> WatchTarget:
    from .targets import resolve_target

    t = text.strip()
    size_mem = session.memory_size(0)
    if t.lower() == "sp":
        lay = session.layout
        if session.sp_global is None or not session.stack_range:
            raise UsageError("--watch sp: no stack pointer and stack range known for this module (see "
                             "`wasmem stack`)")
        kind = getattr(lay, "layout_kind", None)
        if kind != "data-first":
            raise UsageError(f"--watch sp watches a data-first stack running over the static data below it; "
                             f"this module's layout is {kind or 'unknown'} (a stack-first overflow wraps below "
                             f"address 0 instead: use --check-stack)")
        low = session.stack_range[0]
        return WatchTarget(t, "sp", 0, low, f"below the stack's low end {low:#x}", dynamic=True)
    for name in REGION_NAMES:
        if t.lower() == name:
            regs = [r for r in session.regions if (r.kind == "stack" if name == "stack" else
                                                    r.kind == "heap" if name == "heap" else
                                                    r.label.split(" ")[0] == name)]
            if not regs:
                have = sorted({r.label.split(" ")[0] if r.kind == "data" else r.kind for r in session.regions})
                raise UsageError(f"--watch {t}: the layout has no {name} region (it has: "
                                 f"{', '.join(have) or 'none'})")
            return WatchTarget(t, "region", min(r.start for r in regs), max(r.end for r in regs), name)
    m = re.match(r"^(.*[^:]):([^:]+)$", t)
    if m and not m.group(2).strip().startswith((">", "-")):
        addr = resolve_target(m.group(1), symbols, session.read, session.resolve_address).address
        n = _size_of(m.group(2).strip())
        if addr + n > size_mem:
            raise UsageError(f"--watch {t}: [{addr:#x}, {addr + n:#x}) is past the end of memory 0 ({size_mem:#x})")
        return WatchTarget(t, "range", addr, addr + n, symbols.label(addr))
    tg = resolve_target(t, symbols, session.read, session.resolve_address)
    if not tg.size:
        raise UsageError(f"--watch {t}: its size is unknown (no DWARF type): give {t}:LEN")
    if tg.address + tg.size > size_mem:
        raise UsageError(f"--watch {t}: past the end of memory 0")
    return WatchTarget(t, "symbol", tg.address, tg.address + tg.size, tg.label,
                       tg.type.name if tg.type is not None else None)


def attach_watch(session, texts, symbols, *, stop: bool = False, access: str = "w",
                 trace: bool = False) -> WatchReport:
    """Resolves ``texts`` in the live session and starts recording; returns the (live) report. ``trace``
    (``--trace-writes``): every write of memory 0 is also summed into ``report.write_map``."""
    wp = session.watch_pass
    if wp is None:
        raise UsageError("--watch: this session was not instrumented for watching")
    targets = [resolve_watch_target(t, session, symbols, pending_ok=True) for t in texts]
    if len(targets) + bool(trace) != wp.nranges:
        raise UsageError(f"--watch: the module was rewritten for {wp.nranges} ranges, not "
                         f"{len(targets) + bool(trace)} (give watch_spec the same targets)")
    rec = WatchRecorder(session, wp, targets, symbols, stop=stop, access=access, trace=trace,
                        resolve=watch_resolver(session, symbols))
    session.watch_recorder = rec
    return rec.report


class WatchStep:
    """One call of a ``wasmem watch`` sequence: its text, the CallOutcome, and its hits (report.hits[first:end])."""

    def __init__(self, index: int, text: str, outcome, first: int, end: int):
        self.index = index
        self.text = text
        self.outcome = outcome
        self.first = first
        self.end = end

    def hits(self, report) -> list[WatchHit]:
        return report.hits[self.first:self.end]

    def to_dict(self, report) -> dict:
        d = self.outcome.to_dict()
        for k in ("before", "module", "host", "watch", "coredump"):
            d.pop(k, None)
        extra = {k: d.pop(k) for k in ("result_notes", "result_values") if k in d}
        return {"index": self.index, "call": self.text, "hits": [h.seq for h in self.hits(report)],
                "result": d, **extra}


class WatchSequence:
    """``wasmem watch``: the setup calls (``before``, not watched), the calls of the sequence in order, each
    watched, and the one report over all of them. The sequence stops after the first call that trapped (a
    ``--stop`` hit included); ``skipped`` lists the calls that did not run then."""

    def __init__(self, session, report: WatchReport):
        self.session = session
        self.report = report
        self.before: list[WatchStep] = []  # the --before calls: run first, not watched
        self.steps: list[WatchStep] = []
        self.skipped: list[str] = []

    @property
    def ok(self) -> bool:
        return all(s.outcome.ok for s in self.before + self.steps)

    def to_dict(self) -> dict:
        return {"module": self.session.module.path, "host": self.session.host_choice.to_dict(),
                "ok": self.ok, "before": [s.to_dict(self.report) for s in self.before],
                "calls": [s.to_dict(self.report) for s in self.steps],
                "skipped": list(self.skipped), "watch": self.report.to_dict()}


def watch_calls(path_or_module, targets, calls, *, before=(), stop: bool = False, access: str = "w",
                trace_writes: bool = False, alloc: str | None = None, **options) -> WatchSequence:
    """Runs ``calls`` ("FUNC ARGS", in order) in one instance rewritten for ``targets`` and records every hit
    of every call (``wasmem watch``); the same recorder and semantics as ``call --watch`` (``stop``,
    ``access``, ``trace_writes``). ``before``: setup calls run first, not watched (the rewritten module's
    ranges are all empty until the targets are attached, after them, so the targets are also resolved in the
    memory the setup left). Targets through a pointer are re-resolved before each call. Stops after a call
    that traps. The caller closes ``result.session``."""
    from .call import call_function
    from .modules import load_module, open_session, split_call, symbols_for

    calls, before = list(calls), list(before)
    if not calls:
        raise UsageError('watch: give the calls to watch with --after "FUNC ARGS" (repeatable)')
    targets = list(targets)
    if not targets and not trace_writes:
        raise UsageError("watch: give a TARGET to watch (or --trace-writes)")
    parsed = [split_call(c) for c in before + calls]  # every call parses before anything runs
    module = load_module(path_or_module)
    symbols = symbols_for(module)
    spec = watch_spec(targets, access, trace_writes)
    session = open_session(module, watch=spec, **options)
    try:
        setup = []
        for k, (text, (name, args)) in enumerate(zip(before, parsed, strict=False), 1):
            out = call_function(session, name, args, alloc=alloc)
            setup.append(WatchStep(k, text, out, 0, 0))
            if not out.ok:
                seq = WatchSequence(session, WatchReport([], access=access, stop=stop,
                                                         sites=len(session.watch_pass.sites)))
                seq.before, seq.skipped = setup, before[k:] + calls
                return seq
        report = attach_watch(session, targets, symbols, stop=stop, access=access, trace=trace_writes)
        seq = WatchSequence(session, report)
        seq.before = setup
        for k, (text, (name, args)) in enumerate(zip(calls, parsed[len(before):], strict=True), 1):
            session.watch_recorder.call_label = f"call {k}: {name}"
            first = len(report.hits)
            out = call_function(session, name, args, alloc=alloc)
            seq.steps.append(WatchStep(k, text, out, first, len(report.hits)))
            if not out.ok:
                seq.skipped = calls[k:]
                break
    except BaseException:
        session.close()
        raise
    return seq


def watch_resolver(session, symbols):
    """What a WatchRecorder re-resolves its targets through before each call (in the memory as it is then)."""
    return lambda text: resolve_watch_target(text, session, symbols)
