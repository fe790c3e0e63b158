"""Preparing the module for wasmtime: the observers' passes applied in one rewrite, an export appended for
every global, memory and growable table the host must reach (wasmtime-py sees only exports), the shared
memories' maximums capped to the budget; and the map from the prepared module's code offsets back to the
original file's."""

from __future__ import annotations

from ..errors import ParseError, UsageError
from ..parser.encode import rewrite_exports
from .hosts import required_exports
from .invoke import CodeMap
from .rewritecache import cached_rewrite


class Prepared:
    """The bytes to compile, the export name of each global/memory/table the host reaches, and the code map."""

    def __init__(self, data: bytes, globals_: dict[int, str], memories: dict[int, str], tables: dict[int, str],
                 code: CodeMap):
        self.data = data
        self.global_exports = globals_
        self.memory_exports = memories
        self.table_exports = tables
        self.code = code


def prepare(module, observers, *, host_choice, budget, max_table_entries: int, rewrite_cache=None) -> Prepared:
    """``rewrite_cache``: the directory of the rewrite cache (runtime/rewritecache.py), None for none."""
    global_exports: dict[int, str] = {}
    memory_exports: dict[int, str] = {}
    table_exports: dict[int, str] = {}  # growable tables, so that the budget notes see their size
    wanted: list[tuple[str, str, int]] = []
    for g in module.globals:
        names = module.get_export_names("global", g.index)
        if names:
            global_exports[g.index] = names[0]
        elif g.imported is None:
            wanted.append((f"__wasmem_global_{g.index}", "global", g.index))
    for m in module.memories:
        names = module.get_export_names("memory", m.index)
        if names:
            memory_exports[m.index] = names[0]
        elif m.imported is None:
            wanted.append((f"__wasmem_memory_{m.index}", "memory", m.index))
    for t in module.tables:
        lim = t.type.limits
        if t.imported is None and max_table_entries and (lim.max is None or lim.max > lim.min):
            names = module.get_export_names("table", t.index)
            if names:
                table_exports[t.index] = names[0]
            else:
                wanted.append((f"__wasmem_table_{t.index}", "table", t.index))
    wanted += required_exports(module, host_choice)  # WASI finds memory 0 as the export `memory`

    raw = bytes(module.data)
    rewritten = _rewrite(raw, observers, module, rewrite_cache)
    if rewritten is not None:
        raw = rewritten.data
    at, delta = len(raw), 0
    if wanted:
        rw = rewrite_exports(raw, wanted)
        raw = rw.data
        at, delta = rw.at, rw.delta
        for (_, kind, index), used in zip(wanted, rw.names, strict=True):
            {"global": global_exports, "table": table_exports}.get(kind, memory_exports)[index] = used
    budget.plan_shared_memories()
    raw = budget.cap_shared_memories(raw)
    return Prepared(raw, global_exports, memory_exports, table_exports, CodeMap(module, rewritten, at, delta))


def _rewrite(raw: bytes, observers, module, cache):
    """Every observer's passes in one walk (None when none has any). An observer whose passes only measure
    (``optional``: the stack probe's without --check-stack) gives them up when the module cannot be rewritten
    with them; otherwise the error names the option that asked for the rewrite."""
    passes = [p for o in observers for p in o.passes()]
    if not passes:
        return None
    try:
        result = cached_rewrite(raw, passes, module, cache)
    except ParseError as exc:
        optional = [o for o in observers if o.optional]
        if not optional:
            raise UsageError(f"{_blamed(observers)}: {exc}") from None
        for o in optional:
            o.drop_passes()
        passes = [p for o in observers for p in o.passes()]
        if not passes:
            return None
        try:
            result = cached_rewrite(raw, passes, module, cache)
        except ParseError as exc2:
            raise UsageError(f"{_blamed(observers)}: {exc2}") from None
    for o in observers:
        o.rewritten(result)
    return result


def _blamed(observers) -> str:
    """The option named for a rewrite that failed: that of the observer with passes first in blame order."""
    return min((o for o in observers if o.passes() and o.what), key=lambda o: o.blame).what
