"""The symbol table: DWARF when the module has it, otherwise the name section and exports.

Everything here is lazy; pyelftools is imported only when a module has ``.debug_info`` and a
caller asks for something DWARF provides.
"""

from __future__ import annotations

import fnmatch
import re
import weakref
from bisect import bisect_right
from dataclasses import dataclass
from functools import cached_property

from ..errors import AnalysisTimeout, ParseError, UsageError
from .debugfile import (
    MAX_DEBUG_FILE_SIZE,  # noqa: F401 - wasmem/api.py reads it from here
    debug_holder,
    find_external_debug_file,
    resolve_external_debug_file,
)
from .records import EXPORTED, FUNCTION, LINKER_MARKERS, MARKER, SEGMENT, VARIABLE, Symbol
from .typesys import ArrayType, PointerType, StructType, Type, sizeof

_DEBUG_CACHE: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def _by_address(s: Symbol):
    """The order of symbol lists: by address, a linker marker after the symbols it shares its address with."""
    return (s.address, s.kind == MARKER, s.name)


def _code_start(module) -> int:
    code = module.get_section(10)
    return code.start if code is not None else 0


def _body_starts(module) -> dict[int, int]:
    cs = _code_start(module)
    return {b.start - cs: b.index for b in module.functions}


def _debug_info_from(module, dbg, source: str | None):
    """A DebugInfo over ``dbg``'s DWARF for ``module`` (``dbg`` is the module itself or a copy of it
    with the .debug_* sections: code offsets are relative to the code section payload, the same in
    both), or None when ``dbg`` has no .debug_info."""
    from .dwarf import DebugInfo
    from .dwarfread import DwarfMeter, build_dwarfinfo

    meter = DwarfMeter()
    di = build_dwarfinfo(dbg, meter)
    if di is None:
        return None
    from ..model.globalvalues import global_value

    # the DebugInfo is the value of a cache keyed weakly by the module (_DEBUG_CACHE): it must not hold the
    # module strongly, or the module (its mmap and file descriptor) would never be freed
    ref = weakref.ref(module)

    def module_global(index: int):
        m = ref()
        return global_value(m, index) if m is not None else None

    holder = weakref.ref(dbg) if dbg is module else (lambda: dbg)

    def index_source():  # the DWARF index (dwindex.py), from the disk cache when it has it
        from .dwcache import module_index

        m, h = ref(), holder()
        return module_index(m, h) if m is not None and h is not None else None

    return DebugInfo(di, _code_start(module), body_starts=_body_starts(module), source=source, meter=meter,
                     global_value=module_global, budgets=getattr(module, "budgets", None),
                     index_source=index_source)


def load_debug_info(module, debug_file: str | None = None):
    """A ``DebugInfo`` for the module's DWARF (or the external debug file it names, when that may be
    followed; or ``debug_file``, which overrides both), or None. Cached per module."""
    debug_file = debug_file or getattr(module, "debug_file", None)
    key = (debug_file or "", getattr(module, "budgets", None))  # a DebugInfo read under other budgets differs
    try:
        return _DEBUG_CACHE[module][key]
    except (KeyError, TypeError):
        pass
    dbg, source = debug_holder(module, debug_file)
    info = _debug_info_from(module, dbg, source) if dbg is not None else None
    if info is None and debug_file:
        raise UsageError(f"the debug file {debug_file} has no .debug_info section")
    try:
        _DEBUG_CACHE.setdefault(module, {})[key] = info
    except TypeError:
        pass
    return info


@dataclass(frozen=True)
class ResolvedPath:
    """Where a symbol path (``cfg.items[3].name``) lands."""

    path: str
    address: int
    type: Type | None
    symbol: Symbol

    @property
    def size(self) -> int | None:
        return sizeof(self.type) if self.type is not None else self.symbol.size


FIRST_NAME = re.compile(r"\s*([A-Za-z_$][\w$]*(?:::[A-Za-z_$~][\w$]*)*|\.[\w$.]+)")
_STEP = re.compile(r"\s*(?:(\.|->)\s*([A-Za-z_$][\w$]*)|\[\s*(0x[0-9a-fA-F]+|\d+)\s*\]|([+-])\s*(0x[0-9a-fA-F]+|\d+)\s*$)")


class SymbolTable:
    """Names for addresses and addresses for names, from the best source the module has."""

    def __init__(self, module, debug=None, *, use_dwarf: bool = True, debug_file: str | None = None):
        self.module = module
        self._use_dwarf = use_dwarf
        self._debug = debug
        self._debug_loaded = debug is not None or not use_dwarf
        self.debug_file = debug_file or getattr(module, "debug_file", None)
        self.dwarf_error: str | None = None
        self._lazy = None  # the DebugInfo that reads a unit at a time, before (or without) the full reading
        self._budget_cut = False  # the full reading was refused for its decodes: the index's names serve

    @classmethod
    def from_module(cls, module, *, use_dwarf: bool = True, debug_file: str | None = None) -> SymbolTable:
        return cls(module, use_dwarf=use_dwarf, debug_file=debug_file)

    # -- sources ---------------------------------------------------------------------------
    @property
    def debug_info(self):
        if not self._debug_loaded:
            self._debug_loaded = True
            try:
                d = load_debug_info(self.module, self.debug_file)
                if d is not None:
                    d.load()  # parse every DIE now, so damage shows here and not half-way through a view
            except ParseError as exc:
                # unreadable DWARF, or DWARF over its reading budget: fall back to the DWARF index's names (over
                # the decodes budget: a large build) or the name section, and say why
                from .dwarfread import DwarfLimitExceeded

                self._budget_cut = isinstance(exc, DwarfLimitExceeded) and "attribute decodes" in exc.message
                self.dwarf_error, d = exc.message, None
            except AnalysisTimeout:  # the command's deadline (never a fallback): a later command reads again
                self._debug_loaded = False
                raise
            self._debug = d
        return self._debug

    @property
    def has_dwarf(self) -> bool:
        return self.debug_info is not None

    def lazy_debug(self):
        """The DebugInfo for questions about one place, reading only the units they need (dwlazy.py): the full
        reading's when it has run; None without usable DWARF. Never reads every unit by itself."""
        if self._debug_loaded:
            return self._debug
        if self._lazy is None:
            try:
                d = load_debug_info(self.module, self.debug_file)
            except ParseError as exc:
                self._debug_loaded, self._debug, self.dwarf_error = True, None, exc.message
                return None
            if d is None or not d.lazy:
                return self.debug_info  # no index (refused by its scan): the full reading decides
            self._lazy = d
        return self._lazy

    def _lazily(self, question, default=None):
        """``question(debug)`` on the lazy DebugInfo; damaged or over-budget DWARF met on the way is what
        the full reading would have met: the DWARF is then not used, and ``dwarf_error`` says why."""
        d = self.lazy_debug()
        if d is None:
            return default
        try:
            return question(d)
        except ParseError as exc:
            self._debug_loaded, self._debug, self._lazy, self.dwarf_error = True, None, None, exc.message
            return default

    def dwarf_function(self, func_index: int) -> Symbol | None:
        """The DWARF function symbol of function ``func_index`` (its name, type, file:line), or None: only
        the unit holding it is read."""
        return self._lazily(lambda d: d.function_for_index(func_index))

    @property
    def dwarf_index(self):
        """The DWARF index (dwindex.DwarfIndex: names, addresses and sizes of every function and variable), or
        None."""
        d = self._lazy or self._debug
        if d is None and not self._debug_loaded:
            d = self.lazy_debug()
        if d is None:
            try:
                d = load_debug_info(self.module, self.debug_file)
            except (ParseError, UsageError):
                return None
        return d.index if d is not None else None

    @property
    def index_only(self) -> bool:
        """True when the full reading was refused for its decodes (a large build) and the DWARF index's names,
        addresses and sizes serve, without types or file:line."""
        return self.debug_info is None and self._budget_cut and self.dwarf_index is not None

    @property
    def dwarf_note(self) -> str | None:
        """One line for a command's notes naming what the reading so far could not use: the whole DWARF
        (damaged, or over its work budget: names and types then come from the name section, no file:line)
        or the line table (over its own budget: names and types, no file:line); None when nothing was cut.
        It reads nothing itself: ask after the command's own look-ups."""
        if self.dwarf_error and self._budget_cut and self.dwarf_index is not None:
            return f"DWARF not read whole: {self.dwarf_error}; names, addresses and sizes come from its index, " \
                   "types only for the symbols asked for, no file:line"
        if self.dwarf_error:
            return f"DWARF not used: {self.dwarf_error}"
        d = self._debug
        if d is not None and d.line_error:
            return f"no file:line from DWARF: {d.line_error}"
        return None

    @property
    def source(self) -> str:
        """Where the names come from: dwarf, dwarf (external FILE), name section, exports or none."""
        d = self.debug_info
        if d is not None:
            return f"dwarf (external {d.source})" if d.source else "dwarf"
        if self.index_only:
            return f"dwarf index: names, addresses and sizes (DWARF not read whole: {self.dwarf_error})"
        note = f" ({self.dwarf_error}; DWARF not used)" if self.dwarf_error else ""
        if self.module.names.functions or self.module.names.data_segments or self.module.names.globals:
            return "name section" + note
        return ("exports" if self.module.exports else "none") + note

    @property
    def external_debug_info(self) -> str | None:
        return self.module.external_debug_info

    @property
    def external_debug_note(self) -> str | None:
        """Why the file ``external_debug_info`` names is not used (``not found``, ``refused: an
        absolute path`` …), or None when it is used or there is none."""
        if not self.external_debug_info or self.debug_file:
            return None
        d = self.debug_info
        if d is not None and (d.source is None or d.source == find_external_debug_file(self.module)):
            return None if d.source else "not needed: the module has its own DWARF"
        why = resolve_external_debug_file(self.module)[1]
        return why or "not used"

    @property
    def source_mapping_url(self) -> str | None:
        return self.module.source_mapping_url

    @property
    def code_start(self) -> int:
        return _code_start(self.module)

    # -- segments and regions --------------------------------------------------------------
    @cached_property
    def segments(self) -> list[Symbol]:
        """Active data segments with a constant address (an offset from an imported ``__memory_base``
        counts, at the base wasmem gives it), named from the name section."""
        from ..model.globalvalues import segment_address

        names = self.module.names.data_segments
        out = []
        for seg in self.module.data_segments:
            addr = seg.address if seg.mode == "active" else None
            if addr is None and seg.mode == "active":
                addr = segment_address(self.module, seg)
            if addr is None:
                continue
            nm = names.get(seg.index)
            out.append(Symbol(name=nm or f"data[{seg.index}]", kind=SEGMENT, address=addr, size=seg.size,
                              source="name" if nm else "module", region=_segment_region(nm)))
        out.sort(key=lambda s: s.address)
        return out

    @cached_property
    def _global_values(self) -> list[tuple[str, int, bool]]:
        """(name, value, exported) of immutable i32/i64 globals with a constant initialiser."""
        out = []
        names = self.module.names.globals
        seen = set()
        for e in self.module.exports:
            if e.kind != "global":
                continue
            g = self._global(e.index)
            if g is not None:
                out.append((e.name, g, True))
                seen.add(e.index)
        for idx, nm in names.items():
            if idx not in seen and nm in LINKER_MARKERS:
                g = self._global(idx)
                if g is not None:
                    out.append((nm, g, False))
        return out

    def _global(self, index: int) -> int | None:
        gs = self.module.globals
        if index >= len(gs):
            return None
        g = gs[index]
        if g.type.mutable or g.type.valtype not in ("i32", "i64") or g.init is None:
            return None
        v = g.init.simple_value
        if not isinstance(v, int):
            return None
        return v & (0xFFFFFFFF if g.type.valtype == "i32" else 0xFFFFFFFFFFFFFFFF)

    @cached_property
    def markers(self) -> list[Symbol]:
        """Linker symbols (``__heap_base``, ``__data_end`` …) whose values are addresses."""
        return sorted((Symbol(name=n, kind=MARKER, address=v, size=0, source="export" if ex else "name")
                       for n, v, ex in self._global_values if n in LINKER_MARKERS),
                      key=lambda s: (s.address, s.name))

    @cached_property
    def layout(self):
        """The layout model with this table's DWARF facts: the one every command shares."""
        from .layout import analyze_layout

        if not self._debug_loaded and self.use_dwarf_index:  # the DWARF's variables without reading it whole
            index = self.dwarf_index
            if index is not None:
                from ..model.layout import analyze

                return analyze(self.module, variables=index.variables_as_read())
        return analyze_layout(self.module, debug=self.debug_info)

    @cached_property
    def _value_globals(self) -> set[str]:
        try:
            return {g.name for g in self.layout.value_globals}
        except ParseError:
            return set()

    @cached_property
    def exported_addresses(self) -> list[Symbol]:
        """Other exported immutable i32/i64 globals that the layout model classifies as addresses:
        data pointers (Odin, C ``--export`` of a variable). Their size is unknown. Sizes, counts and
        ids (``exported_values``) are not addresses and never label one."""
        values = self._value_globals
        return sorted((Symbol(name=n, kind=EXPORTED, address=v, size=None, source="export")
                       for n, v, ex in self._global_values if ex and n not in LINKER_MARKERS and n not in values),
                      key=lambda s: (s.address, s.name))

    @cached_property
    def exported_values(self) -> list:
        """Exported immutable integer globals that are values (sizes, page counts, ids), not addresses:
        the layout model's GlobalClass records."""
        try:
            return list(self.layout.value_globals)
        except ParseError:
            return []

    @cached_property
    def heap_base(self) -> int | None:
        for m in self.markers:
            if m.name == "__heap_base":
                return m.address
        return None

    @cached_property
    def _segment_index(self) -> tuple[list[int], list[Symbol]]:
        segs = sorted(self.segments, key=lambda s: s.address)
        return [s.address for s in segs], segs

    def segment_at(self, addr: int) -> Symbol | None:
        starts, segs = self._segment_index
        i = bisect_right(starts, addr) - 1
        if i >= 0 and addr < segs[i].address + segs[i].size:
            return segs[i]
        return None

    def region_of(self, addr: int) -> str | None:
        """rodata / data / bss (from the containing data segment's name when known, else data
        inside an active segment and bss past the data), heap at or above ``__heap_base``."""
        seg = self.segment_at(addr)
        if seg is not None:
            return seg.region or "data"
        try:  # the layout model's map, shared with inspect, dump and chase
            r = self.layout.region_at(addr)
        except ParseError:
            r = None
        if r is not None:
            return {"data": "bss", "heap": "heap", "stack": "stack"}.get(r.kind)
        hb = self.heap_base
        if hb is not None and addr >= hb:
            return "heap"
        if self.segments and addr >= self.segments[0].address:
            return "bss"
        return None

    # -- symbols ---------------------------------------------------------------------------
    @cached_property
    def data_symbols(self) -> list[Symbol]:
        """Data symbols sorted by address: DWARF variables (or, without DWARF, the named data
        segments and exported address globals), plus linker markers."""
        d = self.debug_info
        if d is not None:
            out = self._with_exports_and_markers(d.variables)
        elif self.index_only:
            out = self._with_exports_and_markers(self._index_variables())
        else:
            out = [s for s in self.segments if s.source == "name"] + self.exported_addresses + self.markers
            out.sort(key=_by_address)
        for s in out:
            if s.region is None or s.kind != SEGMENT:
                s.region = self.region_of(s.address)
        return out

    def _with_exports_and_markers(self, variables) -> list[Symbol]:
        """``variables`` (DWARF's), the exported address symbols at none of their addresses and the linker
        markers, by address."""
        out = list(variables)
        known = {s.address for s in out}
        out.extend(s for s in self.exported_addresses if s.address not in known)
        out.extend(self.markers)
        out.sort(key=_by_address)
        return out

    @cached_property
    def functions(self) -> list[Symbol]:
        """Functions sorted by code offset: from DWARF, else from the name section and exports."""
        d = self.debug_info
        dwarf_funcs = list(d.functions) if d is not None else self._index_functions() if self.index_only else []
        covered = {f.func_index for f in dwarf_funcs if f.func_index is not None}
        cs = self.code_start
        names = self.module.names.functions
        out = list(dwarf_funcs)
        for body in self.module.functions:
            if body.index in covered:
                continue
            nm = names.get(body.index)
            if nm is None:
                ex = self.module.get_export_names("func", body.index)
                nm = ex[0] if ex else None
            if nm is None:
                continue
            out.append(Symbol(name=nm, kind=FUNCTION, address=body.start - cs, size=body.end - body.start,
                              region="code", source="name" if body.index in names else "export",
                              func_index=body.index, module_offset=body.start))
        out.sort(key=lambda s: s.address)
        return out

    @cached_property
    def _by_name(self) -> dict[str, Symbol]:
        out: dict[str, Symbol] = {}
        for s in self.data_symbols:
            out.setdefault(s.display_name, s)
        for s in self.data_symbols:  # a function-static also answers to its bare name
            if s.scope:
                out.setdefault(s.name, s)
        for s in self.segments:
            out.setdefault(s.name, s)
        for s in self.functions:
            out.setdefault(s.name, s)
        return out

    def find_symbol(self, name: str) -> Symbol | None:
        """A data symbol, segment or function by name (``next_id::id_counter`` for a static). From the DWARF
        index (a build over the decodes budget), a variable comes with its type: its unit alone is read."""
        sym = self._by_name.get(name)
        if sym is not None and sym.type is None and sym.kind == VARIABLE and self.index_only:
            sym = self._typed(sym)
        return sym

    def _typed(self, sym: Symbol) -> Symbol:
        """The full reading's symbol for an index variable, from the one unit holding it (``sym`` itself when
        that unit cannot be read)."""
        d = self._lazy or load_debug_info(self.module, self.debug_file)
        for unit in self.dwarf_index.units_of_variable(sym.display_name):
            try:
                variables = d.unit_symbols(unit)[0]
            except ParseError:
                return sym
            for v in variables:
                if v.address == sym.address and v.display_name == sym.display_name:
                    v.region = sym.region
                    return v
        return sym

    @cached_property
    def _sized(self) -> tuple[list[int], list[Symbol]]:
        syms = [s for s in self.data_symbols if s.kind not in (MARKER, SEGMENT) and s.size is not None]
        syms.sort(key=lambda s: s.address)
        return [s.address for s in syms], syms

    @cached_property
    def _unsized(self) -> tuple[list[int], list[Symbol]]:
        syms = sorted((s for s in self.data_symbols if s.size is None), key=lambda s: s.address)
        return [s.address for s in syms], syms

    def symbol_at(self, addr: int) -> tuple[Symbol, int] | None:
        """(symbol, offset) for an address, for ``<sym+off>`` labels: the innermost sized symbol
        holding it; else an unsized exported symbol at or below it (up to the next symbol, inside
        its segment); else a linker marker at exactly that address; else the data segment."""
        return self._symbol_at(addr, self._sized, self._unsized)

    def _symbol_at(self, addr: int, sized, unsized) -> tuple[Symbol, int] | None:
        starts, syms = sized
        i = bisect_right(starts, addr) - 1
        best = None
        for k in range(i, max(-1, i - 16), -1):
            s = syms[k]
            if s.contains(addr) and (best is None or (s.size or 0) < (best.size or 0)):
                best = s
        if best is not None:
            return best, addr - best.address
        ustarts, usyms = unsized
        j = bisect_right(ustarts, addr) - 1
        if j >= 0:
            u = usyms[j]
            nxt = starts[i + 1] if i + 1 < len(starts) else None
            after = i >= 0 and syms[i].address > u.address  # a sized symbol sits between
            useg, aseg = self.segment_at(u.address), self.segment_at(addr)
            if not after and (nxt is None or addr < nxt) and (useg is aseg):
                return u, addr - u.address
        for m in self.markers:
            if m.address == addr:
                return m, 0
        seg = self.segment_at(addr)
        if seg is not None:
            return seg, addr - seg.address
        return None

    @cached_property
    def _label_lists(self):
        """(sized, unsized) symbols for labels: the DWARF index's variables (names, addresses and sizes: all a
        label shows, the same the full reading gives) while the full reading has not run, so that a label
        costs no DWARF reading; else None (``symbol_at``'s lists serve)."""
        if self._debug_loaded or not self.use_dwarf_index:
            return None
        if self.dwarf_index is None:
            return None
        out = self._with_exports_and_markers(self._index_variables())
        sized = [s for s in out if s.kind not in (MARKER, SEGMENT) and s.size is not None]
        unsized = [s for s in out if s.size is None]
        return ([s.address for s in sized], sized), ([s.address for s in unsized], unsized)

    @property
    def use_dwarf_index(self) -> bool:
        """Whether the DWARF (the module's own, or a file it names) may serve through its index."""
        return self._use_dwarf and (bool(self.debug_file) or any(s.name == ".debug_info" for s in
                                                                  self.module.debug_sections))

    def label_symbols(self) -> list[Symbol]:
        """The data symbols with a size that labels name, by address (from the DWARF index while the DWARF has
        not been read whole: a label costs no DWARF reading)."""
        lists = self._label_lists
        return list((self._sized if lists is None else lists[0])[1])

    def label_symbol_at(self, addr: int) -> tuple[Symbol, int] | None:
        """:meth:`symbol_at` for labels: from the DWARF index while the DWARF has not been read whole."""
        lists = self._label_lists
        return self.symbol_at(addr) if lists is None else self._symbol_at(addr, *lists)

    def label(self, addr: int) -> str | None:
        """``<sym>`` / ``<sym+0x10>`` or None (from the DWARF index while the DWARF has not been read whole)."""
        got = self.label_symbol_at(addr)
        if got is None:
            return None
        s, off = got
        return f"<{s.display_name}+{off:#x}>" if off else f"<{s.display_name}>"

    # -- code ------------------------------------------------------------------------------
    def function_at(self, code_offset: int) -> Symbol | None:
        """The function whose body holds ``code_offset`` (relative to the code section payload)."""
        funcs = self.functions
        i = bisect_right([f.address for f in funcs], code_offset) - 1
        if i >= 0 and funcs[i].address <= code_offset < funcs[i].address + max(funcs[i].size or 0, 1):
            return funcs[i]
        return None

    def addr_to_line(self, code_offset: int) -> tuple[str | None, int] | None:
        """(file, line) for a code offset, from the line table of the one unit holding it."""
        return self._lazily(lambda d: d.addr_to_line(code_offset))

    def location_of(self, code_offset: int) -> str | None:
        """``file:line`` for a code offset (relative to the code section payload), or None."""
        return self._lazily(lambda d: d.location_of(code_offset))

    # -- the DWARF index's symbols (the full reading over its budget) ----------------------------------
    def _index_variables(self) -> list[Symbol]:
        return [Symbol(name=name, kind=VARIABLE, address=addr, size=size, source="dwarf", scope=func)
                for name, func, addr, size, _unit in self.dwarf_index.variables]

    def _index_functions(self) -> list[Symbol]:
        cs = self.code_start
        starts = _body_starts(self.module)
        return [Symbol(name=name, kind=FUNCTION, address=low, size=max(0, high - low), region="code", source="dwarf",
                       func_index=starts.get(low), module_offset=cs + low)
                for low, high, name, _unit in self.dwarf_index.functions]

    def function_for_table_index(self, index: int, table: int = 0) -> Symbol | None:
        """The function a function pointer (a table index) refers to, via active element segments."""
        fidx = self._table_image.get((table, index))
        if fidx is None:
            return None
        for f in self.functions:
            if f.func_index == fidx:
                return f
        nm = self.module.names.functions.get(fidx)
        return Symbol(name=nm or f"func[{fidx}]", kind=FUNCTION, address=0, source="name", func_index=fidx)

    @cached_property
    def _table_image(self) -> dict[tuple[int, int], int]:
        out: dict[tuple[int, int], int] = {}
        for el in self.module.elements:
            if el.mode != "active" or el.offset_expr is None:
                continue
            base = el.offset_expr.evaluate()
            if not isinstance(base, int):
                continue
            for k, f in enumerate(el.func_indices):
                if f is not None:
                    out[(el.table, base + k)] = f
        return out

    # -- types and paths -------------------------------------------------------------------
    def find_type(self, name: str) -> Type | None:
        d = self.debug_info
        return None if d is None else d.find_type(name)

    def resolve_path(self, path: str, read=None) -> ResolvedPath:
        """Resolve ``sym``, ``cfg.items[3].name``, ``list_head->next->value``, ``grid[2][1]``,
        ``sym+0x10`` to (address, type). Following a pointer needs ``read(addr, n) -> bytes``
        (e.g. ``StaticMemory(module)`` or a live instance); without it only static paths resolve."""
        m = FIRST_NAME.match(path)
        if not m:
            raise UsageError(f"cannot parse symbol path {path!r}")
        name = m.group(1)
        sym = self.find_symbol(name)
        if sym is None:
            raise UsageError(f"no symbol named {name!r}" + self.suggest(name))
        if sym.kind == FUNCTION:
            raise UsageError(f"{name!r} is a function, not data")
        addr, t = sym.address, sym.type
        done = name
        pos = m.end()
        while pos < len(path):
            step = _STEP.match(path, pos)
            if not step:
                raise UsageError(f"cannot parse symbol path {path!r} at {path[pos:]!r}")
            pos = step.end()
            op, member, index, sign, delta = step.groups()
            if sign:
                addr = addr + int(delta, 0) if sign == "+" else addr - int(delta, 0)
                t = None
                done += f"{sign}{delta}"
                continue
            if t is None:
                raise UsageError(f"{done} has no type information (build with -g for DWARF)")
            s = t.strip()
            if member is not None:
                if isinstance(s, PointerType):
                    addr, t = self._deref(addr, s, done, read), s.pointee
                    s = t.strip()
                if not isinstance(s, StructType):
                    raise UsageError(f"{done} is {t.name}, not a struct or union: no member {member!r}")
                got = s.find_member(member)
                if got is None:
                    names = ", ".join(m.name for m in s.members if m.name) or "none"
                    raise UsageError(f"{s.name} has no member {member!r} (members: {names})")
                off, mem = got
                addr, t = addr + off, mem.type
                done += f"{op}{member}"
            else:
                i = int(index, 0)
                if isinstance(s, ArrayType):
                    if s.count is not None and i >= s.count:
                        raise UsageError(f"index {i} is out of bounds for {done} ({t.name})")
                    addr, t = addr + i * (sizeof(s.element) or 0), s.element
                elif isinstance(s, PointerType):
                    base = self._deref(addr, s, done, read)
                    addr, t = base + i * (sizeof(s.pointee) or 0), s.pointee
                else:
                    raise UsageError(f"{done} is {t.name}: it cannot be indexed")
                done += f"[{index}]"
        return ResolvedPath(path, addr, t, sym)

    def _deref(self, addr: int, ptr: PointerType, what: str, read) -> int:
        if read is None:
            raise UsageError(f"following the pointer {what} needs memory contents")
        size = ptr.size or 4
        value = int.from_bytes(read(addr, size), "little")
        if value == 0:
            raise UsageError(f"{what} is a null pointer")
        return value

    def suggest(self, name: str) -> str:
        close = [n for n in self._by_name if name.lower() in n.lower()][:5]
        return f" (did you mean: {', '.join(close)}?)" if close else ""

    # -- listing ---------------------------------------------------------------------------
    def list_symbols(self, *, filter: str | None = None, sort: str = "addr",
                     functions: bool = False) -> list[Symbol]:
        """Data symbols (and functions when asked), filtered by a glob on the name and sorted by
        ``addr``, ``size`` or ``name``. Data comes before functions when sorting by address."""
        if sort not in ("addr", "size", "name"):
            raise UsageError(f"unknown sort key {sort!r}: use addr, size or name")
        rows = list(self.data_symbols)
        if functions:
            rows += self.functions
        if filter:
            rows = [s for s in rows if fnmatch.fnmatchcase(s.display_name, filter)
                    or fnmatch.fnmatchcase(s.name, filter)]
        if sort == "addr":
            rows.sort(key=lambda s: (s.kind == FUNCTION, s.address, s.kind == MARKER, s.display_name))
        elif sort == "size":
            rows.sort(key=lambda s: (-(s.size or 0), s.address))
        else:
            rows.sort(key=lambda s: (s.display_name.lower(), s.address))
        return rows


def _segment_region(name: str | None) -> str | None:
    if not name:
        return None
    n = name.lstrip(".")
    for prefix, region in (("rodata", "rodata"), ("bss", "bss"), ("tbss", "tls"), ("tdata", "tls"),
                           ("data", "data"), ("init_array", "data"), ("fini_array", "data")):
        if n.startswith(prefix):
            return region
    return "data"


def load_symbols(module, *, use_dwarf: bool = True, debug_file: str | None = None) -> SymbolTable:
    """The symbol table of a module (DWARF when present, else the name section and exports).
    ``debug_file`` names a separate file holding the module's DWARF (a copy of the module with its
    .debug_* sections, as ``emcc -gseparate-dwarf`` writes); it overrides the module's own."""
    return SymbolTable.from_module(module, use_dwarf=use_dwarf, debug_file=debug_file)


@dataclass
class SymbolListing:
    """What ``wasmem symbols`` shows: the rows plus where the names came from."""

    path: str | None
    source: str  # dwarf | dwarf (external FILE) | name section | exports | none
    symbols: list[Symbol]
    external_debug_info: str | None = None
    source_mapping_url: str | None = None
    functions: bool = False
    external_debug_note: str | None = None  # why external_debug_info is not followed (refused, not found)
    dwarf_error: str | None = None  # why the DWARF is not used (damaged, over its reading budget)
    values: list | None = None  # with --core: each symbol's value in the coredump (one line), aligned with symbols
    table_note: str | None = None  # the symbol table's dwarf_note (what a budget cut), when it differs from the above

    @property
    def dwarf_note(self) -> str | None:
        """One line on why DWARF is not used, or None (the text view has it in ``source``)."""
        parts = []
        if self.table_note:
            parts.append(self.table_note)
        elif self.dwarf_error:
            parts.append(f"DWARF not used: {self.dwarf_error}")
        if self.external_debug_info and self.external_debug_note and not self.source.startswith("dwarf"):
            parts.append(f"external_debug_info {self.external_debug_info!r}: {self.external_debug_note}")
        return "; ".join(parts) or None

    def to_list(self) -> list[dict]:
        if self.values is None:
            return [s.to_dict() for s in self.symbols]
        return [{**s.to_dict(), "value": v} for s, v in zip(self.symbols, self.values, strict=True)]


def symbol_listing(module, *, filter: str | None = None, sort: str = "addr",
                   functions: bool = False, debug_file: str | None = None) -> SymbolListing:
    """Data symbols (and functions) of a module for listing, filtered by a name glob."""
    t = load_symbols(module, debug_file=debug_file)
    rows = t.list_symbols(filter=filter, sort=sort, functions=functions)
    return SymbolListing(module.path, t.source, rows, t.external_debug_info, t.source_mapping_url, functions,
                         t.external_debug_note, t.dwarf_error, table_note=t.dwarf_note if t.index_only else None)
