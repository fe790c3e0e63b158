"""Reading a module's DWARF one compilation unit at a time (a part of ``DebugInfo``, dwarf.py).

The full reading (``DebugInfo.load``) parses every DIE of every unit before answering anything; yosys's 388
units take 10 s, ruby's 423 more than the default budget allows. Most questions are about one place: the
function of an export (is its result a struct?), the line of a trap's frame, the variables of a coredump's
frame. ``LazyUnits`` answers those from the index (dwindex.py: which unit holds a code offset) and parses only
that unit with pyelftools: its DIEs, and the DIEs of any unit a cross-unit reference (``DW_FORM_ref_addr``)
leads to. The answers are the full reading's: the same walk (``_load_cu``), the same types, the same line rows
(those of the unit holding the function, which are all the rows the full reading would look at for it).
When the full reading is refused for its cost (a large build over the decodes budget), single units are still
read on demand, each within the same budget: a variable's type for `p` and `chase`, a frame's line.

``units_parsed`` counts the units parsed with pyelftools (tests observe it). Once the full reading runs, what
was read one unit at a time is dropped and read again in order, so that the full answers never depend on
which questions came first. The units read lazily are charged to one budget per DebugInfo (the same limits
as the full reading), and the command's deadline is asked between units.
"""

from __future__ import annotations

import bisect

from .typesys import freeze


class LazyUnits:
    """The per-unit reading of ``DebugInfo`` (a mixin: it works on DebugInfo's index of DIEs)."""

    def init_lazy(self, index_source) -> None:
        self._index_source = index_source  # () -> DwarfIndex or None (raises ParseError), or None
        self._index = None
        self._index_read = False
        self._refused = False  # the full reading was refused for its cost (check_budget)
        self.index_error: str | None = None
        self._lazy_error = None  # the ParseError a unit read one at a time raised (raised again on every question)
        self.units_parsed = 0  # units whose DIEs pyelftools parsed (the full reading's included)
        self._indexed_units: set[int] = set()
        self._unit_done: dict[int, tuple[list, list, list]] = {}
        self._lazy_budget = None
        self._unit_lines: dict[int, tuple[list, list]] = {}

    def reset_lazy(self) -> None:
        self._indexed_units = set()
        self._unit_done = {}
        self._lazy_budget = None
        self._unit_lines = {}

    # -- the index -------------------------------------------------------------------------------
    @property
    def index(self):
        """The module's DWARF index (dwindex.DwarfIndex), or None when there is none to use (none given, or the
        scan refused the DWARF: ``index_error`` says why; the full reading then decides)."""
        if not self._index_read:
            from ..errors import ParseError

            try:
                self._index = self._index_source() if self._index_source is not None else None
            except ParseError as e:
                self._index, self.index_error = None, e.message
            self._index_read = True
        return self._index

    def check_budget(self) -> None:
        from ..errors import ParseError

        """Raises DwarfLimitExceeded, the full reading's own error, when the index shows that reading every unit
        would cost more decodes than the budget allows (found in a fraction of a second, not after the work)."""
        if self.index is not None:
            try:
                self._new_budget().afford(self.index.decodes)
            except ParseError:
                self._refused = True  # nothing was read: single units may still be (each within the budget)
                raise

    @property
    def lazy(self) -> bool:
        """True while questions are answered a unit at a time (the full reading has not run, and an index
        says where the units are)."""
        return (not self._loaded or self._refused) and self.index is not None

    # -- one unit --------------------------------------------------------------------------------
    def _unit_budget(self):
        if self._lazy_budget is None:
            self._lazy_budget = self._new_budget()
        return self._lazy_budget

    def _parse_unit(self, unit: int) -> None:
        """The DIEs of the unit at ``unit`` into the index of DIEs (no walk)."""
        if unit in self._indexed_units:
            return
        self._indexed_units.add(unit)
        budget = self._unit_budget()
        before = self._meter.budget
        self._meter.budget = budget
        try:
            budget.tick()
            self._guarded(budget, lambda: self._index_cu(self.dwarfinfo.get_CU_at(unit), budget))
        finally:
            self._meter.budget = before

    def die_elsewhere(self, offset: int):
        """The DIE at .debug_info ``offset`` in a unit not read yet (a cross-unit reference), or None."""
        if not self.lazy:
            return None
        unit = self.index.unit_containing(offset)
        if unit is None or unit in self._indexed_units:
            return None
        self._parse_unit(unit)
        return self._dies.get(offset)

    def unit_symbols(self, unit: int) -> tuple[list, list, list]:
        """(variables, functions, subprograms) of the unit at ``unit``, read alone. Raises ParseError (damaged,
        over budget: again on every later question) or AnalysisTimeout (then what was read is forgotten)."""
        got = self._unit_done.get(unit)
        if got is not None:
            return got
        if self._lazy_error is not None:
            raise self._lazy_error
        from ..errors import AnalysisTimeout, ParseError

        try:
            return self._read_unit(unit)
        except ParseError as e:
            self._lazy_error = e
            raise
        except AnalysisTimeout:
            self._forget()
            self.reset_lazy()
            raise

    def _read_unit(self, unit: int) -> tuple[list, list, list]:
        self._parse_unit(unit)
        cu, top = next(((c, t) for c, t in self._tops if c.cu_offset == unit), (None, None))
        nv, nf, ns = len(self._variables), len(self._functions), len(self._subprograms)
        if cu is not None:
            budget = self._unit_budget()
            before = self._meter.budget
            self._meter.budget = budget
            try:
                self._guarded(budget, lambda: self._load_cu(cu, top))
            finally:
                self._meter.budget = before
        variables, functions, subs = self._variables[nv:], self._functions[nf:], self._subprograms[ns:]
        freeze(self._types.values())
        for f in functions:
            freeze((f.type,))
        variables.sort(key=lambda s: (s.address, s.name))
        functions.sort(key=lambda s: (s.address, s.name))
        subs.sort(key=lambda t: t[0])
        got = self._unit_done[unit] = (variables, functions, subs)
        return got

    # -- questions about one place -----------------------------------------------------------------
    def unit_at(self, code_offset: int) -> int | None:
        """The unit holding the function whose code holds ``code_offset`` (from the index), or None."""
        f = self.index.function_at(code_offset)
        return None if f is None else f[3]

    def lazy_function_at(self, code_offset: int):
        """``function_at`` from the one unit holding the offset."""
        unit = self.unit_at(code_offset)
        if unit is None:
            return None
        funcs = self.unit_symbols(unit)[1]
        i = bisect.bisect_right([f.address for f in funcs], code_offset) - 1
        if i >= 0 and funcs[i].address <= code_offset < funcs[i].address + max(funcs[i].size or 0, 1):
            return funcs[i]
        return None

    def function_for_index(self, func_index: int):
        """The DWARF function whose code is function ``func_index``'s body, or None: the full reading's answer
        when it has run, else the one unit's."""
        if not self.lazy:
            return next((f for f in self.functions if f.func_index == func_index), None)
        starts = [off for off, i in self.body_starts.items() if i == func_index]
        for low, _high, _name, unit in self.index.functions:
            if low in starts:
                for f in self.unit_symbols(unit)[1]:
                    if f.func_index == func_index:
                        return f
        return None

    def lazy_subprograms(self, code_offset: int) -> list:
        """The subprograms (low, high, DIE, ctx) of the unit holding ``code_offset``."""
        unit = self.unit_at(code_offset)
        return [] if unit is None else self.unit_symbols(unit)[2]

    def unit_line_rows(self, unit: int):
        """(addresses, rows) of the one unit's line program, as ``_line_rows`` gives them for all units."""
        got = self._unit_lines.get(unit)
        if got is not None:
            return got
        self.unit_symbols(unit)
        tops = [(cu, t) for cu, t in self._tops if cu.cu_offset == unit]
        budget = self._new_budget()
        before = self._meter.budget
        self._meter.budget = budget
        try:
            got = self.read_line_rows(budget, tops)
        except Exception as e:  # noqa: BLE001 - a line table over its budget: no file:line, and why
            from .dwarfread import DwarfLimitExceeded

            if not isinstance(e, DwarfLimitExceeded):
                raise
            self.line_error = e.message
            got = ([], [])
        finally:
            self._meter.budget = before
        self._unit_lines[unit] = got
        return got
