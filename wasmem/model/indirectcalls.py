"""Indirect calls in the stack analysis: which recursion is proven and which is only possible.

The stack analysis (``stackframes.py``) resolves a ``call_indirect`` site to every function of the
module's tables with the site's type: a guess that may be far wider than what the program really calls
(a table of 3,000 functions of type ``(i32) -> i32`` makes every site of that type a call of each). A
cycle that needs such an edge is recursion that *may* happen, not recursion the code proves. So the
analysis also solves the call graph of direct calls alone (``StackAnalysis.direct_roots``); this module
puts the two side by side:

- each cycle with the indirect edges it needs, and for each the evidence (the site's kind, its type, the
  table, how many candidates that type has there);
- each entry point's worst case with and without indirect calls, and whether its recursion is proven
  (it remains without indirect calls) or possible (it needs one).

A stack size is only safe with the indirect edges (the worst case wasmem cannot rule out); the figure
without them is shown beside it, never used for advice.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..parser.module import WasmModule
from .stackframes import StackAnalysis, WorstCase

__all__ = ["CycleEvidence", "IndirectEdge", "IndirectView", "indirect_view"]


@dataclass(frozen=True)
class IndirectEdge:
    """A call on a cycle that only an indirect call site makes: ``caller`` → ``callee``."""

    caller: str
    callee: str
    kind: str  # call_indirect | return_call_indirect | call_ref | return_call_ref
    type_index: int
    type_text: str  # "(i32, i32) -> (i32)"
    table: int | None
    candidates: int  # functions of that type the site may reach (its table's, or all referenced ones)
    resolved: bool  # False: the table is imported/exported and may hold other functions too

    @property
    def text(self) -> str:
        where = f" in table {self.table}" if self.table is not None else ""
        open_ = "" if self.resolved else " (the table is imported or exported: it may hold others)"
        return (f"{self.caller} → {self.callee} via {self.kind} type {self.type_text}{where}, "
                f"{self.candidates:,} table candidate(s){open_}")

    def to_dict(self) -> dict:
        return {"caller": self.caller, "callee": self.callee, "kind": self.kind, "type": self.type_index,
                "signature": self.type_text, "table": self.table, "candidates": self.candidates,
                "resolved": self.resolved}


@dataclass(frozen=True)
class CycleEvidence:
    """One recursive cycle (``StackAnalysis.cycles``) and the indirect edges it needs (none: proven)."""

    names: tuple[str, ...]
    edges: tuple[IndirectEdge, ...]

    @property
    def possible(self) -> bool:
        return bool(self.edges)

    def to_dict(self) -> dict:
        return {"functions": list(self.names), "recursion": "possible" if self.possible else "proven",
                "via": [e.to_dict() for e in self.edges]}


@dataclass
class IndirectView:
    """The analysis with and without indirect call edges (see the module docstring)."""

    sa: StackAnalysis
    cycles: list[CycleEvidence]
    direct: dict[str, WorstCase]  # entry point name → its worst case over direct calls only

    def cycle_for(self, names: tuple[str, ...]) -> CycleEvidence | None:
        for c in self.cycles:
            if c.names == names:
                return c
        return None

    def recursion(self, r: WorstCase) -> str | None:
        """"proven" when the entry point still reaches recursion without indirect calls, "possible" when
        only an indirect call makes it recursive, None when it reaches none."""
        if not r.cycle:
            return None
        d = self.direct.get(r.name)
        if d is not None and (d.unbounded == "recursion" or d.cycle):
            return "proven"
        return "possible"

    def proven_cycle(self, r: WorstCase) -> tuple[str, ...]:
        """The cycle to show for a proven recursion: one of direct calls only."""
        d = self.direct.get(r.name)
        return d.cycle if d is not None and d.cycle else r.cycle

    def evidence(self, r: WorstCase) -> CycleEvidence | None:
        return self.cycle_for(r.cycle) if r.cycle else None

    @property
    def possible_roots(self) -> list[WorstCase]:
        return [r for r in self.sa.roots if self.recursion(r) == "possible"]

    @property
    def worst_direct(self) -> WorstCase | None:
        known = [r for r in self.direct.values() if r.effective_bytes is not None]
        return max(known, key=lambda r: r.effective_bytes, default=None)  # type: ignore[arg-type,return-value]

    @property
    def without_bound_direct(self) -> list[WorstCase]:
        return [r for r in self.direct.values() if r.effective_bytes is None]

    def to_dict(self) -> dict:
        w = self.worst_direct
        return {
            "cycles": [c.to_dict() for c in self.cycles],
            "roots": [{"function": r.name, "recursion": self.recursion(r),
                       "bytes_without_indirect": self.direct[r.name].bytes if r.name in self.direct else None,
                       "unbounded_without_indirect": self.direct[r.name].unbounded if r.name in self.direct else None,
                       "bounded_bytes_without_indirect":
                           self.direct[r.name].bounded_bytes if r.name in self.direct else None}
                      for r in self.sa.roots],
            "worst_bytes_without_indirect": None if w is None else w.effective_bytes,
            "worst_entry_without_indirect": None if w is None else w.name,
        }


def _type_text(module: WasmModule | None, tidx: int) -> str:
    if module is None:
        return f"type {tidx}"
    types = module.types
    ft = types[tidx].func if 0 <= tidx < len(types) else None
    return str(ft) if ft is not None else f"type {tidx}"


def indirect_view(sa: StackAnalysis, module: WasmModule | None = None) -> IndirectView | None:
    """The comparison, or None when the module has no indirect call site (nothing to compare: every call
    is direct). ``module`` gives the signatures of the sites' types (without it: "type N")."""
    if sa.direct_roots is None:
        return None
    fr = sa.frames
    cycles: list[CycleEvidence] = []
    for cyc in sa.cycles:
        k = len(cyc)
        edges: list[IndirectEdge] = []
        for i in range(k):
            a, b = cyc[i], cyc[(i + 1) % k]
            if b in fr.calls(a):
                continue
            for ic in fr.indirect(a):
                if ic.targets and b in ic.targets:
                    edges.append(IndirectEdge(fr.name(a), fr.name(b), ic.kind, ic.type_index,
                                              _type_text(module, ic.type_index), ic.table, len(ic.targets),
                                              ic.resolved))
                    break
        cycles.append(CycleEvidence(tuple(fr.name(v) for v in cyc), tuple(edges)))
    direct = {r.name: r for r in sa.direct_roots}
    return IndirectView(sa, cycles, direct)
