"""Watchpoints for the use cases: what the session is rewritten for (``watch_spec``), the targets resolved in
the live memory (``resolve_watch_target``: ranges, symbols and symbol paths, regions, ``sp``) and the
recorder attached (``attach_watch``: runtime/watch.py's WatchRecorder); `call --watch` and the shell use them."""

from __future__ import annotations

import re

from ..errors import UsageError
from ..model.watch import WatchReport, WatchTarget
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


def watch_resolver(session, symbols):
    """What a WatchRecorder re-resolves its targets through before each call (in the memory as it is then)."""
    return lambda text: resolve_watch_target(text, session, symbols)
