"""Where things live in linear memory: ``analyze`` reads a module's memories, the stack pointer and its
provenance, the stack, data and heap regions, and findings about the layout into a ``MemoryLayout``, in named
steps; ``layout_to_dict`` is its JSON form and ``paint_safety`` says whether its stack may be painted.

The parts it is made of live beside it: the records in layouttypes.py, the globals' constant values (and the
PIC bases) in globalvalues.py, the stack pointer in stackpointer.py, the data segments, the data end and the
classified globals in staticdata.py, the findings in findings.py."""

from __future__ import annotations

from dataclasses import dataclass, field

from ..errors import ParseError
from ..parser.module import WasmModule
from .findings import add_findings
from .layouttypes import (
    DataEndFact,
    DeclaredMemory,
    Finding,
    MemoryLayout,
    ModuleContents,
    Region,
    Segment,
    StackPointer,
)
from .stackpointer import find_stack_pointer, is_go
from .staticdata import StaticData, classify_globals, place_segments, static_data

# The public names: analyze and its JSON form, and the records docs/python-api.md documents here.
__all__ = ["DEFAULT_MIN_STACK", "DeclaredMemory", "Finding", "MemoryLayout", "Region", "Segment", "StackPointer",
           "analyze", "layout_to_dict", "paint_safety"]

DEFAULT_MIN_STACK = 16 * 1024
MAX_MAP_SEGMENTS = 16
MAP_MERGE_GAP = 256  # bytes between segments that still count as one run in the map


def align_up(v: int, a: int) -> int:
    return (v + a - 1) // a * a


def analyze(module: WasmModule, *, pages: int | None = None, min_stack: int = DEFAULT_MIN_STACK,
            host_max_pages: int | None = None, host_shared: bool = False,
            variables=None) -> MemoryLayout:
    """The layout of a module. ``variables`` are DWARF facts, ``(name, address, size or None)`` for
    each static variable (``wasmem.debuginfo.analyze_layout`` supplies them): they prove where .bss
    reaches when ``__data_end`` is not exported."""
    variables = list(variables or ())
    findings: list[Finding] = []
    names, producers = _names_and_producers(module, findings)
    gnames = names.globals if names else {}
    memories = _declared_memories(module)
    go = is_go(module)
    toolchain = _toolchain(module, producers, go, names)
    segments, passive, zero_filled = place_segments(module, names, findings)
    data = static_data(module, gnames, segments, zero_filled, variables)
    sp = find_stack_pointer(module, gnames, go)
    stack = _place_stack(module, sp, go, data, segments, zero_filled, findings)
    _close_data_end(data, stack)
    if stack.heap_base is None and stack.kind == "stack-first" and data.end is not None:
        stack.heap_base, stack.heap_exact = align_up(data.end, 16), False

    layout = MemoryLayout(
        module.path, module.size, toolchain, producers, memories, sp, stack.kind, stack.reason, stack.low,
        stack.high, stack.exact, stack.how, segments, data.start, data.end, data.end_exact, stack.heap_base,
        stack.heap_exact, data.symbols, _min_pages_needed(memories, stack.heap_base, data.end, stack.high), [],
        findings, go, passive, zero_filled)
    layout.data_end_source, layout.data_end_facts, layout.preinitialised = data.end_source, data.facts, stack.preinit
    layout.regions = _regions(layout)
    layout.contents = _contents(module, findings)
    layout.globals = classify_globals(module, gnames, layout, variables)
    from .allocators import find_allocators

    layout.allocators = find_allocators(module)
    add_findings(module, layout, pages, min_stack, host_max_pages, host_shared)
    return layout


# -- the steps of analyze ---------------------------------------------------------------------
def _names_and_producers(module: WasmModule, findings: list[Finding]):
    """(the name section or None, the producers section as a dict): a malformed one is a finding."""
    try:
        names = module.names
    except ParseError as exc:
        names = None
        findings.append(Finding("warning", "bad-name-section", f"the name section is malformed: {exc}"))
    try:
        producers = module.producers
    except ParseError as exc:
        producers = {}
        findings.append(Finding("warning", "bad-producers", f"the producers section is malformed: {exc}"))
    return names, producers


def _declared_memories(module: WasmModule) -> list[DeclaredMemory]:
    memories = []
    for m in module.memories:
        t = m.type
        memories.append(DeclaredMemory(
            m.index, f"{m.imported.module}.{m.imported.name}" if m.imported else None,
            tuple(module.get_export_names("memory", m.index)), t.min_pages, t.max_pages, t.page_size,
            t.shared, t.is64, m.imported.index if m.imported else None))
    return memories


@dataclass
class _StackPlacement:
    """The layout kind and where the stack and the heap are (``analyze`` works on it step by step)."""

    kind: str
    reason: str
    low: int | None = None
    high: int | None = None
    exact: bool = False
    how: str = ""  # how the bounds are known (MemoryLayout.stack_reason)
    heap_base: int | None = None
    heap_exact: bool = False
    preinit: list[tuple[int, int]] = field(default_factory=list)  # snapshot data inside the stack


def _place_stack(module: WasmModule, sp: StackPointer | None, go: bool, data: StaticData,
                 segments: list[Segment], zero_filled, findings: list[Finding]) -> _StackPlacement:
    """The layout kind from the stack pointer's initial value against the data; a snapshot's stack
    contents move ``data.start`` above the stack."""
    syms = data.symbols
    data_start, data_end = data.start, data.end
    heap_base = syms.get("__heap_base")
    st = _StackPlacement("", "", heap_base=heap_base, heap_exact=heap_base is not None)
    lo_sym = syms.get("__stack_low")
    if go:
        st.kind = "go"
        st.reason = ("Go's wasm backend: its goroutine stacks live in the Go heap and global 0 is Go's own SP "
                     "register, not a C linear stack")
        st.how = "no C linear stack"
        return st
    if sp is None:
        st.kind = "none" if not module.memories else "unknown"
        st.reason = ("no stack-pointer global was found (no name, import or export, and no function prologue "
                     "lowers a global)")
        st.how = "no stack pointer"
        return st
    if sp.imported:
        st.kind = "imported"
        st.reason = f"the stack pointer is {sp.detail}: the loader sets it at run time"
        st.how = "set by the loader"
        return st
    sp0 = sp.initial
    hi_sym = syms.get("__stack_high")
    if sp0 is None:
        st.kind, st.reason, st.how = "unknown", "the stack pointer's initial value is not a constant", ""
    elif data_start is None:
        st.kind = "unknown"
        st.reason = "there is no active data to place the stack against"
        st.low, st.high = (lo_sym if lo_sym is not None else 0), sp0
        st.exact = lo_sym is not None
        st.how = "from __stack_low" if st.exact else "assumed to start at address 0 (upper bound)"
    elif sp0 <= data_start:
        st.kind = "stack-first"
        st.reason = (f"the stack pointer starts at {sp0:#x}, at or below the lowest data address "
                     f"{data_start:#x}: the stack grows down towards address 0, away from the data")
        st.high = sp0
        st.low = lo_sym if lo_sym is not None else 0
        st.exact = True
        st.how = "from __stack_low" if lo_sym is not None else "stack-first: the stack ends at address 0"
    elif data_end is not None and sp0 >= data_end:
        st.kind = "data-first"
        st.reason = (f"the stack pointer starts at {sp0:#x}, above the data (ending at {data_end:#x}): "
                     f"the stack grows down into the data")
        st.high = sp0
        if lo_sym is not None:
            st.low, st.exact, st.how = lo_sym, True, "from __stack_low"
        elif data.end_exact:
            st.low, st.exact, st.how = align_up(data_end, 16), True, "from __data_end (16-byte aligned)"
        else:
            st.low = align_up(data_end, 16)
            st.how = ".bss is not stored in the file, so the data may end higher: the size is an upper bound"
        if st.heap_base is None:
            st.heap_base, st.heap_exact = sp0, False
    elif sp0 % 16 == 0 and data_end is not None and sp0 < data_end:
        # a snapshot (Wizer and the like): the stack's contents at snapshot time are active data
        # below the stack pointer; the static data starts at the stack's top
        st.kind = "stack-first"
        st.preinit = [(max(lo, 0), min(hi, sp0)) for lo, hi in _pieces(segments, zero_filled) if lo < sp0]
        nbytes = sum(h - lo for lo, h in st.preinit)
        st.reason = (f"the stack pointer starts at {sp0:#x}, with data above it; the {nbytes} bytes of data "
                     f"below it are pre-initialised stack contents (a snapshot, e.g. Wizer)")
        st.high = sp0
        st.low = lo_sym if lo_sym is not None else 0
        st.exact = True
        st.how = "from __stack_low" if lo_sym is not None else "stack-first: the stack ends at address 0"
        st.how += "; pre-initialised stack contents (a snapshot, e.g. Wizer)"
        data.start = min([lo for lo, hi in _pieces(segments, zero_filled) if lo >= sp0] + [sp0])
        findings.append(Finding("info", "pre-initialised-stack",
                                f"{len(st.preinit)} data piece{'s' if len(st.preinit) != 1 else ''} ({nbytes} "
                                f"bytes) lie inside the stack [{st.low:#x}, {sp0:#x}): pre-initialised stack "
                                f"contents (a snapshot, e.g. Wizer), not static data"))
    else:
        st.kind = "overlap"
        st.reason = f"the stack pointer starts at {sp0:#x}, inside the data [{data_start:#x}, {data_end:#x})"
        st.high, st.low = sp0, lo_sym if lo_sym is not None else data_start
        st.how = "overlaps the data"
        findings.append(Finding("error", "stack-data-overlap",
                                f"the stack pointer's initial value {sp0:#x} lies inside the data "
                                f"[{data_start:#x}, {data_end:#x}): stack frames overwrite static data"))
    if hi_sym is not None and st.high is not None and hi_sym != st.high:
        findings.append(Finding("warning", "stack-high-mismatch",
                                f"__stack_high is {hi_sym:#x} but the stack pointer starts at {st.high:#x}"))
    return st


def _close_data_end(data: StaticData, stack: _StackPlacement) -> None:
    """An inexact data end made exact by what the layout kind implies: the heap (stack-first) or the stack
    (data-first) starts where the data ends."""
    if data.end_exact or data.end is None:
        return
    lo_sym = data.symbols.get("__stack_low")
    close = None
    if stack.kind == "stack-first" and stack.heap_exact and stack.heap_base >= data.end:
        close = DataEndFact("__heap_base", stack.heap_base, "end", f"__heap_base = {stack.heap_base:#x}: in a "
                            "stack-first layout the heap starts where the data ends (16-byte aligned)")
    elif stack.kind == "data-first" and lo_sym is not None and lo_sym >= data.end:
        close = DataEndFact("__stack_low", lo_sym, "end", f"__stack_low = {lo_sym:#x}: in a data-first layout "
                            "the stack starts where the data ends (16-byte aligned)")
    if close is not None:
        data.facts.append(close)
        data.end, data.end_exact, data.end_source = close.value, True, close.source


def _min_pages_needed(memories: list[DeclaredMemory], heap_base, data_end, stack_high) -> int | None:
    mem0 = memories[0] if memories else None
    need = max([v for v in (heap_base, data_end, stack_high) if v is not None], default=None)
    if need is not None and mem0 is not None:
        return -(-need // mem0.page_size)
    return None


def _pieces(segments: list[Segment], zero_filled) -> list[tuple[int, int]]:
    return sorted([(sg.address, sg.address + sg.size) for sg in segments
                   if sg.memory == 0 and sg.address is not None and sg.size] + list(zero_filled))


def _imports_as_abort(module: WasmModule) -> bool:
    """AssemblyScript's runtime imports env.abort(message, fileName, line, column: i32) -> ()."""
    for imp in module.imports:
        if (imp.kind, imp.module, imp.name) == ("func", "env", "abort"):
            ft = module.get_func_type(imp.type)  # type: ignore[arg-type]
            return ft.params == ("i32",) * 4 and ft.results == ()
    return False


def _toolchain(module: WasmModule, producers: dict, go: bool, names=None) -> str | None:
    if go:
        return "Go"
    parts = []
    for key in ("language", "processed-by", "sdk"):
        for name, version in producers.get(key, []):
            parts.append(f"{name} {version}".strip())
    imports = {(i.module, i.name) for i in module.imports}
    exports = {e.name for e in module.exports}
    if not parts:
        if any(n.startswith("emscripten_") for _, n in imports) or "emscripten_stack_get_base" in exports:
            parts.append("Emscripten")
        elif ({"__new", "__pin", "__collect"} <= exports or ("env", "abort") in imports and "__new" in exports
              or names is not None and any(n.startswith("~lib/") for n in names.functions.values())
              or _imports_as_abort(module)):
            parts.append("AssemblyScript")
    if any(m == "wasi_snapshot_preview1" for m, _ in imports):
        parts.append("WASI preview1")
    return ", ".join(parts) or None


def _regions(lay: MemoryLayout) -> list[Region]:
    mem = lay.memory
    if mem is None:
        return []
    total = mem.min_bytes
    regions: list[Region] = []
    if lay.stack_low is not None and lay.stack_high is not None and lay.layout_kind != "overlap":
        label = "stack (with pre-initialised contents: a snapshot)" if lay.preinitialised else "stack"
        regions.append(Region("stack", lay.stack_low, lay.stack_high, label, lay.stack_exact))
    pieces = sorted([(s.address, s.address + s.size, s.name or f"segment {s.index}") for s in lay.segments
                     if s.memory == 0 and s.address is not None and s.size]
                    + [(lo, hi, ".bss (zero-filled at start-up)") for lo, hi in lay.zero_filled])
    if len(pieces) <= MAX_MAP_SEGMENTS:
        regions += [Region("data", lo, hi, label) for lo, hi, label in pieces]
    elif pieces:  # thousands of segments (Go, some Emscripten builds): one region per contiguous run
        run, run_end = [pieces[0]], pieces[0][1]
        for piece in pieces[1:] + [None]:
            if piece is not None and piece[0] <= run_end + MAP_MERGE_GAP:
                run.append(piece)
                run_end = max(run_end, piece[1])
                continue
            regions.append(Region("data", run[0][0], run_end, _run_label([label for _, _, label in run])))
            if piece is not None:
                run, run_end = [piece], piece[1]
    if lay.data_end is not None:
        last = max((r.end for r in regions if r.kind == "data"), default=None)
        if last is None and lay.data_start is not None:  # only .bss: no data in the file at all
            last = lay.data_start
        if last is not None and lay.data_end > last:
            label = ".bss (zero-initialised)" if lay.data_end_exact else \
                f".bss (zero-initialised; proven to here by {lay.data_end_source})"
            regions.append(Region("data", last, lay.data_end, label))
    if lay.heap_base is not None and lay.heap_base < total:
        regions.append(Region("heap", lay.heap_base, total, "heap (initial memory)", lay.heap_base_exact))
    regions.sort(key=lambda r: (r.start, r.end))
    # fill the gaps with free/reserved space
    out: list[Region] = []
    pos = 0
    for r in regions:
        if r.start > pos:
            if out and out[-1].kind == "data" and r.kind == "data":
                # between two pieces of static data: alignment padding, or zero-initialised statics that the
                # linker (Emscripten splits them out) did not store in the file: static memory, not free
                out.append(Region("data", pos, r.start, "zero-filled gap in the data"))
            else:
                out.append(Region("free", pos, r.start, "unused" if pos else "unused (below the data)"))
        if r.end > pos:
            out.append(r if r.start >= pos else Region(r.kind, pos, r.end, r.label, r.exact))
            pos = r.end
    if pos < total:
        out.append(Region("free", pos, total, "unused"))
    return out


def _run_label(labels: list[str]) -> str:
    """The label of a run of data segments merged into one map region: its pieces' names, the first two and
    how many more (``.rodata, .data +426 more``), never a bare count."""
    names = list(dict.fromkeys(labels))
    if len(names) <= 2:
        return ", ".join(names) + (f" ({len(labels)} segments)" if len(labels) > len(names) else "")
    return f"{names[0]}, {names[1]} +{len(names) - 2} more"


def _contents(module: WasmModule, findings: list[Finding]) -> ModuleContents:
    def best_effort(what: str, get, default):
        try:
            return get()
        except ParseError as exc:
            findings.append(Finding("warning", f"bad-{what}", f"the {what} section is malformed: {exc}"))
            return default

    return ModuleContents(
        tuple(module.sections), module.num_imported_funcs, module.num_functions, len(module.globals),
        len(module.imports), len(module.exports),
        tuple(best_effort("target_features", lambda: module.target_features, [])),
        best_effort("dylink", lambda: module.dylink, None),
        module.get_custom_section("name") is not None,
        tuple(s.name for s in module.debug_sections),
        best_effort("external_debug_info", lambda: module.external_debug_info, None),
        best_effort("sourceMappingURL", lambda: module.source_mapping_url, None))


# -- what a layout is used for -----------------------------------------------------------------
def paint_safety(layout, stack_range) -> tuple[bool, str]:
    """(True, why) when ``stack_range`` is proven to be stack and nothing else, so that painting the free
    part below the stack pointer cannot change what the program sees; else (False, why not). Proven:
    a stack-first layout (the stack is everything below the stack pointer's initial value), or a
    data-first one whose low end is exact (``__stack_low`` or ``__data_end``) — never an estimate that may
    cover .bss, never a stack range that any data segment overlaps (a pre-initialised snapshot)."""
    if stack_range is None:
        return False, "the stack's bounds are not known"
    low, high = stack_range
    kind = layout.layout_kind
    if kind not in ("stack-first", "data-first"):
        return False, f"the layout is {kind}, so the stack's bounds are not proven"
    toolchain = layout.toolchain or ""
    if kind == "data-first" and "__stack_low" not in layout.linker_symbols and "emscripten" in toolchain.lower():
        return False, ("an Emscripten build's JS glue (up to 2.0) keeps words of its own, such as the sbrk pointer, "
                       "between __data_end and the stack's real low end, which only the glue knows")
    if not layout.stack_exact:
        return False, ("the stack's low end is an estimate (.bss is not in the file and may lie "
                       "below it)")
    for seg in layout.segments:
        if seg.memory == 0 and seg.address is not None and seg.size and seg.address < high \
                and seg.address + seg.size > low:
            return False, (f"data segment {seg.index} lies inside the stack range "
                           f"[{low:#x}, {high:#x})")
    return True, f"the stack [{low:#x}, {high:#x}) is proven ({layout.stack_reason})"


JSON_SCHEMA_VERSION = 1


def layout_to_dict(lay: MemoryLayout) -> dict:
    """The stable JSON form of a layout (documented in docs/json.md)."""
    sp = lay.stack_pointer
    c = lay.contents
    return {
        "schema": JSON_SCHEMA_VERSION,
        "file": lay.path,
        "file_size": lay.file_size,
        "toolchain": lay.toolchain,
        "producers": {k: [{"name": n, "version": v} for n, v in vals] for k, vals in lay.producers.items()},
        "memories": [{
            "index": m.index, "imported": m.imported, "exports": list(m.exports), "min_pages": m.min_pages,
            "max_pages": m.max_pages, "min_bytes": m.min_bytes, "max_bytes": m.max_bytes,
            "page_size": m.page_size, "shared": m.shared, "memory64": m.is64} for m in lay.memories],
        "stack_pointer": None if sp is None else {
            "global": sp.global_index, "provenance": sp.provenance, "detail": sp.detail,
            "initial": sp.initial, "imported": sp.imported, "evidence": sp.evidence, "type": sp.valtype},
        "layout": {"kind": lay.layout_kind, "reason": lay.layout_reason},
        "stack": {"low": lay.stack_low, "high": lay.stack_high, "size": lay.stack_size,
                  "exact": lay.stack_exact, "reason": lay.stack_reason,
                  "preinitialised": [{"start": lo, "end": hi} for lo, hi in lay.preinitialised]},
        "data": {"start": lay.data_start, "end": lay.data_end, "end_exact": lay.data_end_exact,
                 "end_source": lay.data_end_source,
                 "end_facts": [{"source": f.source, "value": f.value, "bound": f.bound, "detail": f.detail}
                               for f in lay.data_end_facts],
                 "passive_segments": lay.passive_segments,
                 "segments": [{"index": s.index, "name": s.name, "mode": s.mode, "memory": s.memory,
                               "address": s.address, "size": s.size, "file_offset": s.file_offset}
                              for s in lay.segments]},
        "heap": {"base": lay.heap_base, "exact": lay.heap_base_exact, "available": lay.heap_available,
                 "allocators": lay.allocators.to_dict() if lay.allocators is not None else None},
        "linker_symbols": dict(sorted(lay.linker_symbols.items())),
        "globals": [{"name": g.name, "index": g.index, "value": g.value, "type": g.valtype, "class": g.kind,
                     "reason": g.reason} for g in lay.globals],
        "min_pages_needed": lay.min_pages_needed,
        "regions": [{"kind": r.kind, "start": r.start, "end": r.end, "size": r.size, "label": r.label,
                     "exact": r.exact} for r in lay.regions],
        "module": None if c is None else {
            "sections": [{"id": h.id, "name": h.name, "offset": h.offset, "size": h.size} for h in c.sections],
            "functions": c.num_functions, "imported_functions": c.num_imported_functions,
            "globals": c.num_globals, "imports": c.num_imports, "exports": c.num_exports,
            "target_features": list(c.features), "name_section": c.has_names,
            "debug_sections": list(c.debug_sections), "external_debug_info": c.external_debug_info,
            "source_mapping_url": c.source_mapping_url,
            "dylink": None if c.dylink is None else {
                "legacy": c.dylink.legacy, "mem_size": c.dylink.mem_size, "mem_align": c.dylink.mem_align,
                "table_size": c.dylink.table_size, "table_align": c.dylink.table_align,
                "needed": list(c.dylink.needed)}},
        "findings": [{"severity": f.severity, "code": f.code, "message": f.message, "hint": f.hint}
                     for f in lay.findings],
    }
