"""``wasmem watch``: a sequence of calls in one instance rewritten for the targets, every hit of every call
in one report (the watchpoints themselves: watchpoints.py)."""

from __future__ import annotations

from ..errors import UsageError
from ..model.watch import WatchHit, WatchReport
from .call import call_function
from .modules import load_module, open_session, split_call, symbols_for
from .watchpoints import attach_watch, watch_spec


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
    session = open_session(module, watch=spec, calls=before + calls, alloc=alloc, **options)
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
