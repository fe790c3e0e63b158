"""The DWARF index: which compilation unit holds a function or a variable, found without pyelftools.

A large debug build (ruby's 6.8 MB of .debug_info, yosys's 2 MB) costs pyelftools seconds to minutes to read
whole, and most commands need one unit of it: `call` asks whether one export returns a struct, a trap's frames
need the line table of the units holding them, `p cfg.items[3]` needs one variable's type. The index is one
raw pass over .debug_info (varscan.py's decoder, stdlib only: abbreviation tables read directly, entries whose
attributes have fixed sizes skipped in one step) that records

- every unit's extent (``units``: offset, end),
- every function with code: its range, qualified name and unit (``functions``, sorted by address), the same
  functions ``DebugInfo.functions`` lists,
- every static variable: its name, enclosing function, address, size and unit (``variables``), the variables
  ``DebugInfo.variables`` lists (this is the variables scan, with the units added),
- what reading the whole DWARF through pyelftools would cost in the full reading's budget units
  (``decodes``), so that a reading bound to go over its budget is refused before it starts, not after 14 s.

``DebugInfo`` (dwarf.py, with dwlazy.py) then parses only the units a question needs. The index is kept on disk
(dwcache.py), keyed by the content hash of the file holding the DWARF, so that a second command on the same
module reads no DWARF at all to answer where things are.

Bounded as the variables scan: linear in the section, stopped by the ``varscan`` budget (entries walked).
"""

from __future__ import annotations

import bisect
from dataclasses import dataclass, field

from .varscan import TOMBSTONES, VariableScan

# what DWARF reading this process did (tests and benchmarks observe it): index scans run, units whose DIEs
# pyelftools parsed (dwarf.py), and the disk cache's hits, misses, writes and rejected (damaged) files (dwcache.py)
stats = {"scans": 0, "units_parsed": 0, "hits": 0, "misses": 0, "writes": 0, "rejected": 0}

# the scan's own format: a change of it (or of what it records) must not read an older cache file as its own
INDEX_FORMAT = 1

_AT_LOW_PC, _AT_HIGH_PC = 0x11, 0x12
_ADDR_FORMS = (0x01, 0x1B, 0x29, 0x2A, 0x2B, 0x2C, 0x1F01)  # addr, addrx* (the high_pc form that is an address)
_HUGE = 1 << 64


@dataclass
class DwarfIndex:
    """Where a module's functions and variables are in its DWARF (plain data: kept on disk as JSON)."""

    units: list[tuple[int, int]] = field(default_factory=list)  # (offset, end) of each unit, in order
    functions: list[tuple[int, int, str, int]] = field(default_factory=list)  # (low, high, name, unit), by low
    variables: list[tuple[str, str | None, int, int | None, int]] = field(default_factory=list)
    # ^ (name, enclosing function or None, address, size, unit), sorted by (address, display name)
    entries: int = 0  # entries walked (the varscan budget's units)
    decodes: int = 0  # the full reading's decodes for the whole DWARF (dwarfread.DwarfBudget's units)

    def __post_init__(self):
        self._unit_starts = [u[0] for u in self.units]
        self._lows = [f[0] for f in self.functions]

    # -- look-ups ----------------------------------------------------------------------------------
    def unit_containing(self, offset: int) -> int | None:
        """The offset of the unit whose bytes hold .debug_info offset ``offset``, or None."""
        i = bisect.bisect_right(self._unit_starts, offset) - 1
        if i >= 0 and offset < self.units[i][1]:
            return self.units[i][0]
        return None

    def function_at(self, code_offset: int) -> tuple[int, int, str, int] | None:
        """(low, high, name, unit) of the function whose code holds ``code_offset``, or None. Functions do not
        nest; of two at one address, the one DebugInfo.function_at gives (the later by name)."""
        i = bisect.bisect_right(self._lows, code_offset) - 1
        if i >= 0:
            low, high, _name, _unit = f = self.functions[i]
            if low <= code_offset < low + max(high - low, 1):
                return f
        return None

    def units_of_function(self, name: str) -> list[int]:
        """The units holding a function called ``name`` (qualified as DWARF gives it), in address order."""
        return sorted({f[3] for f in self.functions if f[2] == name})

    def units_of_variable(self, name: str) -> list[int]:
        """The units holding a variable called ``name`` (``func::name`` for a function-static, which also
        answers to its bare name), in address order."""
        out = []
        for v, func, _addr, _size, unit in self.variables:
            if (v == name or (func and f"{func}::{v}" == name)) and unit not in out:
                out.append(unit)
        return out

    def variable_at(self, address: int) -> list[int]:
        """The units holding a variable whose bytes hold ``address``."""
        return sorted({u for _n, _f, a, s, u in self.variables if a <= address < a + max(s or 0, 1)})

    def variable_tuples(self) -> list[tuple[str, int, int | None]]:
        """(display name, address, size) of every variable, as ``scan_variables`` gives them."""
        return [(f"{func}::{name}" if func else name, addr, size) for name, func, addr, size, _u in self.variables]

    def variables_as_read(self) -> list[tuple[str, int, int | None]]:
        """(display name, address, size) of every variable in the full reading's order (by address, then by
        name without its function): what ``debuginfo.layout.dwarf_variables`` gives for a DebugInfo."""
        rows = sorted(self.variables, key=lambda v: (v[2], v[0]))
        return [(f"{func}::{name}" if func else name, addr, size) for name, func, addr, size, _u in rows]

    # -- the cache's form ----------------------------------------------------------------------------
    def to_json(self) -> dict:
        return {"format": INDEX_FORMAT, "units": self.units, "functions": self.functions,
                "variables": self.variables, "entries": self.entries, "decodes": self.decodes}

    @classmethod
    def from_json(cls, d) -> DwarfIndex:
        """The index a cache file holds; ValueError when it is not one (damaged, another format)."""
        if not isinstance(d, dict) or d.get("format") != INDEX_FORMAT:
            raise ValueError("not a DWARF index of this format")
        try:
            units = [(int(a), int(b)) for a, b in d["units"]]
            functions = [(int(lo), int(hi), str(n), int(u)) for lo, hi, n, u in d["functions"]]
            variables = [(str(n), None if f is None else str(f), int(a), None if s is None else int(s), int(u))
                         for n, f, a, s, u in d["variables"]]
            entries, decodes = int(d["entries"]), int(d["decodes"])
        except (KeyError, TypeError, ValueError) as e:
            raise ValueError(f"a damaged DWARF index ({e})") from None
        if units != sorted(units) or [f[0] for f in functions] != sorted(f[0] for f in functions):
            raise ValueError("a damaged DWARF index (not sorted)")
        return cls(units, functions, variables, entries, decodes)


class IndexScan(VariableScan):
    """The variables scan that also records units and functions with code."""

    # the attributes varscan reads for a function's name (name, linkage name, specification, abstract origin)
    # and its code range
    _RANGE_ATTRS = frozenset((0x03, 0x6E, 0x47, 0x31, _AT_LOW_PC, _AT_HIGH_PC))

    def __init__(self, sections, global_value=None, entries=None):
        super().__init__(sections, global_value, entries)
        self.found_functions: list[tuple[int, int, str, int]] = []

    def _subprogram(self, ab, pos, unit, names):
        attrs, pos = self._attrs(ab, pos, unit, self._RANGE_ATTRS)
        name = self._function_name(attrs, unit, names)
        low = self._pc(attrs.get(_AT_LOW_PC), unit)
        if low is None or low in TOMBSTONES or low <= 0 or not name:
            return name, pos  # as DebugInfo._function: no code, removed by the linker, or nameless
        h = attrs.get(_AT_HIGH_PC)
        if h is None:
            high = low + 1
        else:
            form = next((f for at, f, _ in ab.specs if at == _AT_HIGH_PC), None)
            hv = self._pc(h, unit)
            if hv is None:
                high = low + 1
            elif form in _ADDR_FORMS:
                high = hv
            else:
                high = low + hv
        self.found_functions.append((low, high, name, unit.offset))
        return name, pos

    def _pc(self, v, unit) -> int | None:
        if isinstance(v, tuple) and v[0] == "addrx":
            return self._address(unit, v[1])
        if isinstance(v, int) and not isinstance(v, bool) and -_HUGE < v < _HUGE:
            return v
        return None

    @staticmethod
    def _add_variable(out, name, func, addr, size, unit) -> None:
        out.append((name, func, addr, size, unit.offset))

    def index(self) -> DwarfIndex:
        self._read_units()
        out: list = []
        for unit in self._units:
            self.entries += 1  # the unit's top entry
            if self.entries > self.entry_limit:
                raise self._over_budget()
            self._walk_unit(unit, out)
        out.sort(key=lambda v: (v[2], f"{v[1]}::{v[0]}" if v[1] else v[0]))
        # sorted as DebugInfo sorts its functions: by address, then name
        funcs = sorted(self.found_functions, key=lambda f: (f[0], f[2]))
        # the full reading's decodes: one per unit, per entry and per attribute of each entry, and five per
        # attribute specification of each abbreviation table (dwarfread: the scan and pyelftools' parse)
        decodes = len(self._units) + self.entries + self.attributes + 5 * self.abbrev_specs
        return DwarfIndex([(u.offset, u.end) for u in self._units], funcs, out, self.entries, decodes)


INDEX_SECTIONS = (".debug_info", ".debug_abbrev", ".debug_str", ".debug_line_str", ".debug_addr",
                  ".debug_str_offsets")


def build_index(dwarf_holder, global_value=None, entries: int | None = None) -> DwarfIndex | None:
    """The index of the DWARF in ``dwarf_holder`` (the module, or the separate file holding its DWARF), or
    None without .debug_info. Raises ParseError for damaged DWARF, VariableScanOverBudget past ``entries``."""
    sections = {}
    for s in dwarf_holder.debug_sections:
        if s.name in INDEX_SECTIONS and s.name not in sections:
            sections[s.name] = bytes(dwarf_holder.data[s.start:s.end])
    if ".debug_info" not in sections:
        return None
    stats["scans"] += 1
    return IndexScan(sections, global_value, entries).index()
