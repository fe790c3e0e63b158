"""Work budgets: how much of each bounded analysis wasmem does before it stops and says so.

Every analysis whose cost grows with its input (reading DWARF, the variables scan, the heap tracker's
records, the watch hits) stops at a budget counted in units of work (attribute decodes, bytes, entries,
records), never in seconds, so that the same input gives the same output on any machine under any load.
Whatever a budget cuts is named in the command's output together with the option that lifts it:
``--budget NAME=N`` on every command that reads a module (repeatable), or ``budgets={"NAME": N}`` for
``wasmem.load_module``. ``BUDGETS`` below is the one list of the names, their units and defaults (the
commands' help prints it; docs/troubleshooting.md has the table).

A ``Budgets`` value rides on the module (its ``budgets`` attribute, set when it is loaded), so that every
analysis of that module (the symbol table, the layout, a session's heap tracker) sees the same choices
without each caller passing them on.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

__all__ = ["Budget", "BUDGETS", "Budgets", "parse_budget", "budget_of", "value_of", "NO_BUDGETS", "lift", "MAX_BUDGET", "budget_help"]


@dataclass(frozen=True)
class Budget:
    name: str
    unit: str  # what one unit of it is
    default: int  # its value when not raised (for dwarf: the most the size-based default can be)
    cuts: str  # what is left out past it
    default_text: str = ""  # how the default is chosen, when not a plain number


MAX_BUDGET = 1 << 62  # any budget at most this (a number Python counts up to without trouble)

BUDGETS: dict[str, Budget] = {b.name: b for b in (
    Budget("dwarf", "attribute decodes", 2_000_000,
           "the DWARF is not read whole: names, addresses and sizes come from its index, types only for the "
           "symbols asked for (their units alone are read), no file:line in listings",
           "50,000 + 1 per byte of .debug_info and .debug_abbrev, at most 2,000,000"),
    Budget("dwarf-read", "bytes", 64 * 1024 * 1024,
           "bytes of DWARF strings, line tables and address tables read out of line: past it in the DIE pass the "
           "DWARF is not used, past it in the line table there is no file:line",
           "32 per attribute decode allowed, at least 67,108,864"),
    Budget("varscan", "entries", 4_000_000,
           "the fast DWARF variables scan (inspect's data end): the layout then stands on the module alone"),
    Budget("heap-blocks", "live blocks", 1_000_000,
           "heap and leaks keep this many live blocks; later ones are counted, not kept"),
    Budget("heap-frees", "frees", 100_000,
           "freed addresses remembered to tell a double free from an invalid one (the oldest are forgotten)"),
    Budget("watch-hits", "hits", 10_000,
           "watchpoint hits kept per session; later ones are counted, not kept"),
    Budget("chase-words", "words", 512,
           "words one untyped chase shows, those at the pointers it follows included; past it the tree ends"),
    Budget("frame-variables", "frames", 1000,
           "a coredump's youngest frames whose DWARF variables are decoded; deeper frames keep their names"),
    Budget("stack-names", "imports or dynamic frames", 1024,
           "the imports and dynamic frames stack's lists per entry point name one by one (each is a bit carried "
           "through the call graph: memory grows with this); past it they name only the first, by index"),
    Budget("validate", "bytes of code", 1 << 20,
           "every function body is decoded in full only when the code section is at most this big; a larger one's "
           "bodies are located and their ends checked (a run's compile checks the rest)"),
    Budget("alloc-shape", "bytes of code", 4 << 20,
           "a module with no allocator found by name is searched for one by its code (a stripped build's malloc "
           "and free) only when its function bodies are at most this big"),
)}

_NUMBER = re.compile(r"^\s*(\d[\d_]*)\s*([kKmMgG]?)\s*$")
_SCALE = {"": 1, "k": 1_000, "m": 1_000_000, "g": 1_000_000_000}


def _unknown(name: str) -> str:
    return f"unknown budget {name!r}: give one of {', '.join(BUDGETS)}"


def parse_budget(text: str) -> tuple[str, int]:
    """``"dwarf=50M"`` → ``("dwarf", 50_000_000)``: a name from BUDGETS and a whole number of its units (k, M and G
    multiply by a thousand, a million, a billion). ValueError (with a message for the user) otherwise."""
    name, eq, value = text.partition("=")
    name = name.strip().lower()
    if not eq:
        raise ValueError(f"{text!r}: give NAME=N (names: {', '.join(BUDGETS)})")
    if name not in BUDGETS:
        raise ValueError(_unknown(name))
    m = _NUMBER.match(value)
    if m is None:
        raise ValueError(f"{text!r}: N is a whole number of {BUDGETS[name].unit} (k, M, G allowed: 50M)")
    n = int(m.group(1).replace("_", "")) * _SCALE[m.group(2).lower()]
    if not 1 <= n <= MAX_BUDGET:
        raise ValueError(f"{text!r}: give 1 to {MAX_BUDGET} {BUDGETS[name].unit}")
    return name, n


class Budgets:
    """The budgets raised (or lowered) from their defaults: name → units. Immutable and hashable (a cache key)."""

    __slots__ = ("_items",)

    def __init__(self, items=()):
        d = dict(items.items() if isinstance(items, dict) else items)
        for name, n in d.items():
            if name not in BUDGETS:
                raise ValueError(_unknown(name))
            if isinstance(n, bool) or not isinstance(n, int) or not 1 <= n <= MAX_BUDGET:
                raise ValueError(f"budget {name}: give a whole number from 1 to {MAX_BUDGET} (got {n!r})")
        self._items = tuple(sorted(d.items()))

    @classmethod
    def parse(cls, texts) -> Budgets:
        """From ``--budget`` texts (``["dwarf=50M", "varscan=10M"]``; a later one of a name wins)."""
        return cls(dict(parse_budget(t) for t in texts))

    def get(self, name: str) -> int | None:
        """The units given for ``name``, or None for its default."""
        if name not in BUDGETS:
            raise KeyError(name)
        return dict(self._items).get(name)

    def value(self, name: str) -> int:
        """The units ``name`` allows: the one given, or its default."""
        got = self.get(name)
        return BUDGETS[name].default if got is None else got

    def __bool__(self) -> bool:
        return bool(self._items)

    def __eq__(self, other) -> bool:
        return isinstance(other, Budgets) and other._items == self._items

    def __hash__(self) -> int:
        return hash(self._items)

    def __repr__(self) -> str:
        return f"Budgets({dict(self._items)!r})"

    def to_dict(self) -> dict[str, int]:
        return dict(self._items)


NO_BUDGETS = Budgets()


def budget_of(module, name: str) -> int | None:
    """The units ``--budget NAME=N`` gave for ``module`` (its ``budgets``), or None for the default."""
    b = getattr(module, "budgets", None)
    return b.get(name) if b is not None else None


def value_of(module, name: str) -> int:
    """The units ``name`` allows for ``module``: the one given, or the default."""
    got = budget_of(module, name)
    return BUDGETS[name].default if got is None else got


def lift(name: str) -> str:
    """The words a note ends with: which option lifts the budget ``name``."""
    return f"raise it with --budget {name}=N ({BUDGETS[name].unit})"


def budget_help() -> str:
    """The ``--budget`` option's help: every name, its unit and default."""
    rows = "; ".join(f"{b.name} ({b.unit}, default {b.default_text or format(b.default, ',')})"
                     for b in BUDGETS.values())
    return ("Raise (or lower) a work budget: NAME=N units (k, M, G allowed; repeatable). Budgets count work, "
            "never time, so the same input gives the same output on any machine; whatever one cuts is named in "
            f"the output with the --budget that lifts it. Names: {rows}.")
