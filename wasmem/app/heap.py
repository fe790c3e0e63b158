"""``wasmem heap`` and ``wasmem leaks``: the allocator functions found (``heap_spec``), a session with heap
tracking (and memcheck) on, the live blocks after a sequence of calls typed by DWARF, and leaks per call."""

from __future__ import annotations

from ..errors import UsageError
from ..model.heap import HeapBlock, Site
from .call import dwarf_sret
from .modules import check_calls, dwarf_note, layout_facts, load_module, open_session, split_call, symbols_for


def heap_spec(module, allocator: str | None = None, symbols=None, *, paths: bool = False) -> dict:
    """The ``heap=`` option of Session for ``module``: the allocator functions found (raises UsageError when
    there is no allocation function)."""
    from ..model.allocators import find_allocators

    dwarf_names = None
    if symbols is not None and getattr(symbols, "has_dwarf", False):
        try:
            dwarf_names = _dwarf_names(module, symbols)
        except Exception:  # noqa: BLE001 - DWARF names are a fallback only
            dwarf_names = None
    found = find_allocators(module, dwarf_names=dwarf_names, user_names=allocator)
    if allocator and any(n.startswith("--allocator") for n in found.notes):
        raise UsageError(next(n for n in found.notes if n.startswith("--allocator")))
    if not found.functions:
        maybe = "".join(f"; {n}" for n in found.notes if n.startswith("no allocator is certain by its code")
                        or "--budget alloc-shape" in n)
        if found.candidates and "candidates" not in maybe:  # allocation candidates, no free candidate
            maybe += f"; functions that reach memory.grow and may allocate: {', '.join(found.candidates)}"
        raise UsageError("no allocator found (malloc/free, __rust_alloc, __new …, by export, name section, "
                         f"DWARF or code){maybe}: name it with --allocator ALLOC[,FREE]")
    if not any(f.role != "free" for f in found.functions):
        raise UsageError("only a free function found: name the allocation function with --allocator ALLOC,FREE")
    # allocations without a free (AssemblyScript's stub runtime never frees): every block stays live, with a note
    return {"functions": list(found.functions), "notes": list(found.notes), "paths": paths,
            "shims": dict(found.shims)}


def _dwarf_names(module, symbols) -> dict[int, str]:
    out: dict[int, str] = {}
    for f in symbols.functions:
        idx = getattr(f, "func_index", None)
        if idx is not None and f.name:
            out[idx] = f.name
    return out


def memcheck_heap_base(module, symbols) -> int | None:
    """Where memcheck takes the heap to start (``heap_start``'s address)."""
    return heap_start(module, symbols)[0]


def heap_start(module, symbols, layout=None) -> tuple[int | None, str | None, str | None]:
    """(address, source, note): where the heap starts, for memcheck, which marks the memory above it that no
    block holds. The source, in this order: ``export`` (the exported global ``__heap_base``),
    ``linker-symbol`` (``__heap_base`` named in the name section or found by the layout model), ``estimate``
    (the layout's estimate: the end of the static data in a stack-first layout, the stack's top in a
    data-first one; the note names the value and where it comes from), ``memory-grow`` (the estimate is only
    a lower bound, the data's end not being proven: a low one would report the program's own .bss as outside
    every block, so only the memory grown at run time is heap: from the initial memory's end). (None, None,
    None) when nothing tells."""
    marker = None
    if symbols is not None:
        marker = next((m for m in symbols.markers if m.name == "__heap_base"), None)
    if marker is not None:
        return marker.address, ("export" if marker.source == "export" else "linker-symbol"), None
    lay = layout
    if lay is None:
        try:
            lay = layout_facts(module)[0]
        except Exception:  # noqa: BLE001 - no layout: the heap's start stays unknown
            return None, None, None
    if lay.heap_base is None:
        return None, None, None
    if lay.heap_base_exact:
        return lay.heap_base, "linker-symbol", None
    fix = "-Wl,--export=__heap_base makes it exact"
    if lay.layout_kind == "stack-first" and not lay.data_end_exact and lay.memory is not None \
            and lay.heap_base < lay.memory.min_bytes:
        # the data may end above the estimate (.bss is not in the file): checking from there would report the
        # program's own variables; the memory the allocator grows at run time is heap for certain
        top = lay.memory.min_bytes
        return top, "memory-grow", (f"--memcheck: the layout's heap base estimate {lay.heap_base:#x} "
                                    f"({estimate_provenance(lay)}) is a lower bound, so only the memory grown at run "
                                    f"time, from {top:#x}, is checked as heap; __heap_base is not exported ({fix})")
    return lay.heap_base, "estimate", (f"--memcheck: the heap is taken to start at {lay.heap_base:#x}, the layout's "
                                       f"estimate ({estimate_provenance(lay)}); __heap_base is not exported "
                                       f"({fix})")


def estimate_provenance(lay) -> str:
    """Where the layout's heap base estimate comes from, in words."""
    if lay.layout_kind == "stack-first" and lay.data_end is not None:
        src = f", from {lay.data_end_source}" if lay.data_end_source else ""
        text = (f"the end of the static data ({'' if lay.data_end_exact else 'at least '}{lay.data_end:#x}{src}), "
                "16-byte aligned: in a stack-first layout the heap follows the data")
        return text
    if lay.layout_kind == "data-first" and lay.stack_high is not None:
        return (f"the stack pointer's initial value {lay.stack_high:#x}: in a data-first layout the heap follows "
                "the stack")
    return f"{lay.layout_kind} layout"


def open_heap_session(path_or_module, *, allocator: str | None = None, paths: bool = False,
                      memcheck: bool = False, memcheck_ignore=(), memcheck_uninit: bool = False, calls=(),
                      alloc: str | None = None, **options):
    """(session, symbols) with heap tracking on (see heap_spec); ``memcheck``: also every access of memory 0
    checked against the live and freed blocks (MemcheckPass); ``memcheck_uninit``: and reads of heap bytes
    never written. ``calls``, ``alloc``: the calls the command will make, checked first (``check_calls``)."""
    module = load_module(path_or_module)
    check_calls(module, calls, alloc=alloc, host=options.get("host"))  # before the allocator and DWARF work
    symbols = symbols_for(module)
    spec = heap_spec(module, allocator, symbols, paths=paths)
    estimate_note = None
    if memcheck:
        spec["memcheck"] = True
        spec["heap_base"], spec["heap_base_source"], estimate_note = heap_start(module, symbols)
        spec["memcheck_ignore"] = tuple(memcheck_ignore)
        spec["memcheck_uninit"] = bool(memcheck_uninit)
    elif memcheck_ignore or memcheck_uninit:
        raise UsageError(f"{'--memcheck-ignore' if memcheck_ignore else '--memcheck-uninit'} needs --memcheck")
    session = open_session(module, heap=spec, **options)
    session.heap_tracker.notes[:0] = spec["notes"]
    if memcheck and estimate_note and session.heap_tracker.heap_base_source in ("estimate", "memory-grow"):
        session.heap_tracker.notes.append(estimate_note)
    return session, symbols


def _run(session, symbols, calls, alloc, label: str):
    """Runs ``calls`` ("FUNC ARGS"); returns (results, the trap text or None)."""
    done = []
    for text in calls:
        name, args = split_call(text)
        r = session.call(name, args, alloc=alloc, sret=dwarf_sret(symbols, session.module, name))
        done.append(r)
        if not r.ok:
            return done, f"{label} {text!r}: {r.trap.message}"
    return done, None


def type_blocks(blocks: list[HeapBlock], symbols, read, max_blocks: int = 100_000) -> None:
    """Gives live blocks a DWARF type: a typed pointer variable (global or static) that points at a block's
    start types it with the pointee; from a typed struct block, its pointer members type the blocks they
    point at (a linked list is typed along its length). Bounded by ``max_blocks`` blocks typed."""
    if symbols is None or not getattr(symbols, "has_dwarf", False) or not blocks:
        return
    from ..debuginfo.typesys import PointerType, StructType

    live = {b.address: b for b in blocks}
    queue: list[tuple[int, object]] = []

    def ptr_at(addr: int) -> int | None:
        try:
            return int.from_bytes(read(addr, 4), "little")
        except Exception:  # noqa: BLE001
            return None

    for sym in symbols.data_symbols:
        t = sym.type.strip() if sym.type is not None else None
        if isinstance(t, PointerType) and t.target is not None and sym.size == 4:
            p = ptr_at(sym.address)
            if p in live:
                queue.append((p, t.target))
    typed = 0
    while queue and typed < max_blocks:
        addr, target = queue.pop()
        b = live.get(addr)
        if b is None or b.type is not None:
            continue
        b.type = target.name
        typed += 1
        st = target.strip()
        if isinstance(st, StructType):
            for m in st.members:
                mt = m.type.strip() if m.type is not None else None
                if isinstance(mt, PointerType) and mt.target is not None and m.offset + 4 <= b.size:
                    p = ptr_at(addr + m.offset)
                    if p in live and live[p].type is None:
                        queue.append((p, mt.target))


def heap_report(path_or_module, *, after=(), allocator: str | None = None, alloc: str | None = None,
                paths: bool = False, memcheck: bool = False, memcheck_ignore=(), memcheck_uninit: bool = False,
                **options):
    """``wasmem heap``: the live blocks after the ``after`` calls. Returns (report, session); the caller
    closes the session."""
    session, symbols = open_heap_session(path_or_module, allocator=allocator, paths=paths, memcheck=memcheck,
                                         memcheck_ignore=memcheck_ignore, memcheck_uninit=memcheck_uninit,
                                         calls=after, alloc=alloc, **options)
    try:
        _, trap = _run(session, symbols, after, alloc, "--after")
        report = live_heap(session, symbols, list(after), trap=trap)
    except BaseException:
        session.close()
        raise
    return report, session


def live_heap(session, symbols, calls=(), trap: str | None = None):
    """The HeapReport of a session opened with heap tracking, as it stands now (``wasmem heap`` after its
    --after calls; the shell's `heap` at any point)."""
    from ..model.heap import HeapReport

    tr = session.heap_tracker
    if tr is None:
        raise UsageError("this session was opened without heap tracking")
    tr.disarm()
    blocks = tr.blocks(_deadline(session))
    cut = _cut_notes(session, tr, "the heap report", "the table counts those listed")
    tr.locate_accesses(symbols)
    type_blocks(blocks, symbols, session.read)
    hb, hb_source = _memcheck_base(session, symbols, tr)  # the heap base memcheck used, and who says so
    sites = tr.sites(symbols)  # first: the line table is read as the sites are located
    return HeapReport(tr.allocator_dicts(), list(calls), blocks, sites, list(tr.findings),
                      list(tr.notes) + _dwarf_notes(symbols) + cut, heap_base=hb,
                      heap_base_source=hb_source,
                      memory_size=session.memory_size(0), events=tr.events, allocations=tr.allocations,
                      frees=tr.frees, trap=trap, unjudged=_unjudged(tr))


def _unjudged(tracker) -> list[dict]:
    """The frees wasmem could not judge, by reason (``HeapTracker.unjudged``): not findings."""
    return tracker.unjudged.as_list()


def _memcheck_base(session, symbols, tracker) -> tuple[int | None, str | None]:
    """(heap base, its source) as a report shows it: the one memcheck used (``HeapTracker.heap_base``), else the
    one a symbol or an export gives (an estimate is used by memcheck only)."""
    if tracker.mc is not None:
        return tracker.memcheck_base()
    hb, hb_source = heap_start(session.module, symbols, getattr(session, "layout", None))[:2]
    if hb_source in ("estimate", "memory-grow"):
        return None, None
    return hb, hb_source


def _deadline(session):
    """The deadline of the command the session works for (wasmem.deadline.Deadline), or None."""
    return getattr(session, "deadline", None)


def _cut_notes(session, tracker, what: str, counted: str) -> list[str]:
    """The note of a report whose live blocks the command's deadline cut (``HeapTracker.blocks``)."""
    if not tracker.blocks_cut:
        return []
    total = tracker.blocks_wanted
    return [_deadline(session).cut_note(what, f"{tracker.blocks_cut} of {total} live blocks are left out (those at "
                                              f"the highest addresses); {counted}")]


def _dwarf_notes(symbols) -> list[str]:
    """What a DWARF work budget cut (no types, or no file:line), said instead of silently left out (and marked
    said, so that the command does not repeat it: ``modules.dwarf_note``)."""
    note = dwarf_note(symbols.module) if symbols is not None else None
    return [note] if note else []


def leak_report(path_or_module, call: str, *, repeat: int = 10, before=(), allocator: str | None = None,
                alloc: str | None = None, max_growth: int | None = None, paths: bool = False,
                memcheck: bool = False, memcheck_ignore=(), memcheck_uninit: bool = False, **options):
    """``wasmem leaks``: calls ``call`` ("FUNC ARGS") ``repeat`` times after the ``before`` calls and follows
    the live bytes. Returns (report, session); the caller closes the session."""
    from ..model.heap import Iteration, LeakReport, LeakSite

    if repeat < 1:
        raise UsageError(f"--repeat {repeat}: give at least 1")
    name, args = split_call(call)
    session, symbols = open_heap_session(path_or_module, allocator=allocator, paths=paths, memcheck=memcheck,
                                         memcheck_ignore=memcheck_ignore, memcheck_uninit=memcheck_uninit,
                                         calls=[*before, call], alloc=alloc, **options)
    try:
        tr = session.heap_tracker
        _, trap = _run(session, symbols, before, alloc, "--before")
        report = LeakReport(call, repeat, tr.live_bytes, [], [], tr.allocator_dicts(), max_growth=max_growth)
        first_call = None
        returned: set[int] = set()
        if trap is None:

            sret = dwarf_sret(symbols, session.module, name)
            collect = _collector(session, tr)
            if collect and trap is None:  # garbage of the --before calls
                _, trap = _run(session, symbols, [collect], alloc, "the collector")
            for n in range(1, repeat + 1):
                if trap is not None:
                    break
                a0, f0 = tr.allocated_bytes, tr.freed_bytes
                r = session.call(name, args, alloc=alloc, sret=sret)
                if first_call is None:
                    first_call = tr.call
                returned_block = None  # a result (any of them: wasm-bindgen returns (ptr, len)) that is a block
                for v in (r.results or []) if r.ok else []:  # this call allocated
                    if not isinstance(v, int) or returned_block is not None:
                        continue
                    v &= (1 << 64) - 1 if session.is64 else 0xFFFFFFFF
                    b = tr.live.get(v)
                    if b is not None and b[3] == tr.call:
                        returned_block = v
                if not r.ok:
                    trap = f"call {n} of {call!r}: {r.trap.message}"
                elif collect:  # the objects the call left unreferenced are freed before the heap is measured
                    _, trap = _run(session, symbols, [collect], alloc, "the collector")
                it = Iteration(n, tr.live_bytes, len(tr.live), tr.allocated_bytes - a0, tr.freed_bytes - f0,
                               list(r.results) if r.results else None)
                if returned_block is not None and returned_block in tr.live:
                    it.returned_block = returned_block
                    returned.add(returned_block)
                report.iterations.append(it)
        report.trap = trap
        report.findings = list(tr.findings)
        if tr.mc is not None:  # (first: learning the heap's start at run time changes a note)
            report.heap_base, report.heap_base_source = _memcheck_base(session, symbols, tr)
        report.notes = list(tr.notes)
        # the blocks allocated by the calls after the first (the first may fill caches) that are still live
        counted = max(1, len(report.iterations) - 1)
        outliving = [] if first_call is None else \
            tr.blocks(_deadline(session), min_call=first_call + 1 if len(report.iterations) > 1 else first_call)
        cut = _cut_notes(session, tr, "the leak report", "the sites count the blocks listed")
        sites = tr.sites(symbols, {b.site for b in outliving})
        by: dict[int, LeakSite] = {}
        for b in outliving:
            ls = by.get(b.site)
            if ls is None:
                ls = by[b.site] = LeakSite(sites.get(b.site) or Site(b.site), 0, 0, 0.0)
            ls.blocks += 1
            ls.bytes += b.size
            if b.address in returned:
                ls.returned += 1
        for ls in by.values():
            ls.per_call = ls.bytes / counted
        report.sites = sorted(by.values(), key=lambda s: (-s.bytes, s.site.id))
        report.retained = sum(b.size for b in outliving)
        report.blocks_cut = tr.blocks_cut
        report.unjudged = _unjudged(tr)
        tr.locate_accesses(symbols)
        fsites = tr.sites(symbols, {f.site for f in tr.findings} | {f.freed_at for f in tr.findings
                                                                      if f.freed_at is not None})
        report.finding_sites = fsites
        report.notes += _dwarf_notes(symbols) + cut
    except BaseException:
        session.close()
        raise
    return report, session


def _collector(session, tracker) -> str | None:
    """"__collect" when the module's allocator is a garbage collector that wasmem tracks (AssemblyScript's) and
    exports its collection: leaks runs it after each call, so that the live heap is what the program still
    references, not what the collector has not reached yet (a note says so)."""
    if not any(f.role == "gc_free" for f in tracker.functions):
        return None
    e = session.module.find_export("__collect")
    if e is None or e.kind != "func":
        return None
    ft = session.module.get_function_type(e.index)
    if ft.params or ft.results:
        return None
    tracker.notes.append("the collector (__collect) ran after each call: the live heap is what the program "
                         "still references")
    return "__collect"


def leak_per_call(module, call: str, repeat: int = 10, *, deadline=None):
    """The `check` rule leak-per-call's run: a LeakReport of ``call`` made ``repeat`` times (raises
    UsageError when the call or the allocator cannot be found). ``deadline``: the command's, if any."""
    report, session = leak_report(module, call, repeat=repeat, deadline=deadline)
    session.close()
    return report
