"""The memory budget of one session (see budget.py for the arithmetic): one total for all memories and one
for all table entries, kept through wasmtime's per-object store limits, the shared memories' maximums
(patched before compiling), and the notes that say which memory could not grow because of it."""

from __future__ import annotations

from ..errors import ParseError, RunError
from ..parser.encode import cap_memory_maximum
from .budget import budget_for, level


class MemoryBudget:
    """``max_memory`` bytes over all memories and ``max_table_entries`` entries over all tables (0 = no
    limit) for ``module``'s instance in ``store``."""

    def __init__(self, module, store, name: str, max_memory: int, max_table_entries: int):
        self.module = module
        self.store = store
        self.name = name
        self.max_memory = max_memory
        self.max_table_entries = max_table_entries
        self.mem_level = self.table_level = None  # the per-object store limits in force (budget.level)
        self.shared_caps: dict[int, int] = {}  # shared memory index → maximum pages under the budget
        self.import_bytes: dict[int, int] = {}  # imported memory index → bytes wasmem created it with
        self.import_entries: dict[int, int] = {}  # import index of a table → entries wasmem created it with
        self.set_limits(max_memory or None, max_table_entries or None)  # each object; the total before instantiating

    def over_limit(self, what: str, pages: int, page_size: int, verb: str = "needs") -> str:
        """One line for a memory refused by --max-memory: what it needs and the option that lifts it."""
        need = pages * page_size
        return (f"{what} {verb} {pages} pages ({need} bytes), more than --max-memory {self.max_memory} "
                f"bytes; run with --max-memory {need} or more (0 = no limit)")

    def host_maximum(self, mt, want: int, index: int) -> int | None:
        """The maximum (pages) of a memory wasmem creates for an import. A shared memory lives in the engine,
        out of reach of the store's limit on growth, so its maximum is what enforces --max-memory: the
        declared maximum, lowered to its share of the budget (a host may give a smaller maximum; the import
        still matches). memory.grow past it returns -1, as for an ordinary memory at the limit."""
        if not (mt.shared and self.max_memory) or mt.max_pages is None:
            return mt.max_pages
        return max(want, self.shared_caps.get(index, mt.max_pages))

    @staticmethod
    def _distinct(declarations) -> list:
        """Each memory or table once (an import named twice is one object)."""
        seen, out = set(), []
        for d in declarations:
            key = (d.imported.module, d.imported.name) if d.imported else d.index
            if key not in seen:
                seen.add(key)
                out.append(d)
        return out

    def _distinct_memories(self) -> list:
        return self._distinct(self.module.memories)

    def _distinct_tables(self) -> list:
        return self._distinct(self.module.tables)

    @staticmethod
    def _max_bytes(t) -> int | None:
        return t.max_pages * t.page_size if t.max_pages is not None else None

    def plan_shared_memories(self) -> None:
        """Each shared memory's maximum under the budget (its share when every memory grows alike): fixed
        before compiling, as the module's own maximum is patched (defined) or the host's given (imported)."""
        if not self.max_memory:
            return
        mems = self._distinct_memories()
        lim = level([(m.type.min_bytes, self._max_bytes(m.type)) for m in mems], self.max_memory)
        for m in mems:
            t = m.type
            if t.shared and t.max_pages is not None:
                self.shared_caps[m.index] = max(t.min_pages, min(t.max_pages, lim // t.page_size))

    def _memory_objects(self, sizes: dict[int, int]) -> tuple[list, int]:
        """(the growable memories as (index, size, maximum bytes), the bytes shared memories may reach)."""
        growable, fixed = [], 0
        for m in self._distinct_memories():
            t = m.type
            size = sizes.get(m.index, t.min_bytes)
            if t.shared and t.max_pages is not None:
                fixed += max(size, self.shared_caps.get(m.index, t.max_pages) * t.page_size)
            else:
                growable.append((m.index, size, self._max_bytes(t)))
        return growable, fixed

    def _table_objects(self, sizes: dict[int, int]) -> list:
        return [(t.index, sizes.get(t.index, t.type.limits.min), t.type.limits.max) for t in self._distinct_tables()]

    def refuse_over_budget(self) -> None:
        """Refuses what needs more than the budget before any growth: the memories' declared minimums (and
        the imports wasmem creates) together, the tables' likewise."""
        if self.max_memory:
            mems = self._distinct_memories()
            need = {m.index: self.import_bytes.get(m.index, m.type.min_bytes) for m in mems}
            for m in mems:
                if m.imported is None and need[m.index] > self.max_memory:
                    raise RunError(self.over_limit(f"memory {m.index}", m.type.min_pages, m.type.page_size,
                                                    "declares"))
            total = sum(need.values())
            if total > self.max_memory and len(mems) > 1:
                parts = ", ".join(f"memory {i} {n}" for i, n in list(need.items())[:8])
                raise RunError(f"the {len(mems)} memories of {self.name} need {total} bytes together ({parts}"
                               f"{' …' if len(need) > 8 else ''}), more than --max-memory {self.max_memory} bytes "
                               f"(the total over all memories); run with --max-memory {total} or more "
                               f"(0 = no limit)")
        if self.max_table_entries:
            tables = self._distinct_tables()
            need_t = sum(self.import_entries.get(t.imported.index, t.type.limits.min) if t.imported else
                         t.type.limits.min for t in tables)
            if need_t > self.max_table_entries:
                verb = "need" if len(tables) > 1 else "needs"
                raise RunError(f"the table{'s' if len(tables) > 1 else ''} of {self.name} {verb} {need_t} entries "
                               f"at the start, more than --max-table-entries {self.max_table_entries} (the total "
                               f"over all tables); run with --max-table-entries {need_t} or more (0 = no limit)")

    def set_limits(self, memory: int | None, tables: int | None) -> None:
        self.mem_level, self.table_level = memory, tables
        self.store.set_limits(memory_size=-1 if memory is None else memory,
                              table_elements=-1 if tables is None else tables)

    def limit_instantiation(self) -> None:
        """The store limits while instantiating: the budget's level for the declared sizes, but never below
        an object's own minimum (wasmtime checks the limit when it creates it). Only a start function that
        grows several memories can then pass the total: the level after instantiating is exact."""
        self.refuse_over_budget()
        mem = tab = None
        if self.max_memory:
            growable, fixed = self._memory_objects(self.import_bytes)
            mem = level([(s, m) for _, s, m in growable], max(0, self.max_memory - fixed))
            mem = max([mem] + [m.type.min_bytes for m in self.module.memories])
        if self.max_table_entries:
            sizes = {t.index: self.import_entries.get(t.imported.index, t.type.limits.min)
                     for t in self.module.tables if t.imported}
            objs = self._table_objects(sizes)
            tab = max([level([(s, m) for _, s, m in objs], self.max_table_entries)] + [s for _, s, _ in objs])
        self.set_limits(mem, tab)

    def limit_growth(self, memories: dict, table_sizes: dict[int, int]) -> None:
        """The store limits for calls, from the sizes after instantiating (``memories``: index → GuestMemory;
        ``table_sizes``: index → entries of the tables the host can see): every memory (table) may grow to
        the level at which all of them together still fit the budget."""
        mem = tab = None
        if self.max_memory:
            sizes = {i: m.size(self.store) for i, m in memories.items()}
            growable, fixed = self._memory_objects(sizes)
            mem = level([(s, m) for _, s, m in growable], max(0, self.max_memory - fixed))
        if self.max_table_entries:
            objs = self._table_objects(table_sizes)
            tab = level([(s, m) for _, s, m in objs], self.max_table_entries)
        self.set_limits(mem, tab)

    def cap_shared_memories(self, raw: bytes) -> bytes:
        """The module with each defined shared memory's maximum lowered to its share of --max-memory (see
        ``host_maximum``), patched in place so that no offset moves."""
        if not self.max_memory:
            return raw
        caps = {}
        for m in self.module.memories:
            t = m.type
            cap = self.shared_caps.get(m.index)
            if m.imported is None and cap is not None and t.max_pages > cap >= t.min_pages:
                caps[m.index] = cap
        if not caps:
            return raw
        try:
            return cap_memory_maximum(raw, caps)
        except (ParseError, ValueError):
            return raw

    def notes(self, memories: dict, table_sizes) -> list[str]:
        """Facts about memories (and tables) that cannot grow by one more page (entry) because of the budget
        while their declared maximum would allow it: a memory.grow (table.grow) in the last call that went
        past the limit returned -1 to the guest (wasmtime gives no callback, so whether one was attempted is
        not known). Each names the option value that would let it grow. ``table_sizes`` is called only when
        the tables' limit is in force."""
        notes = []
        mems = memories
        if self.max_memory and mems:
            sizes = {i: m.size(self.store) for i, m in mems.items()}
            growable, fixed = self._memory_objects(sizes)
            n = len(self._distinct_memories())
            for m in self._distinct_memories():
                decl = m.type
                if m.index not in sizes:
                    continue
                size = sizes[m.index]
                room = (decl.max_pages * decl.page_size - size) if decl.max_pages is not None else decl.page_size
                if decl.shared and decl.max_pages is not None:
                    limit = max(size, self.shared_caps.get(m.index, decl.max_pages) * decl.page_size)
                else:
                    limit = self.mem_level if self.mem_level is not None else self.max_memory
                if size + decl.page_size <= limit or room < decl.page_size:
                    continue
                target = size + decl.page_size
                objs = [(s, mx) for _, s, mx in growable]
                if decl.shared:
                    need = budget_for(objs + [(size, None)], len(objs), target) + fixed - size
                else:
                    k = [i for i, _, _ in growable].index(m.index)
                    need = budget_for(objs, k, target) + fixed
                need = max(need, target)
                what = (f"the --max-memory limit of {self.max_memory} bytes" if n == 1 else
                        f"the --max-memory total of {self.max_memory} bytes over {n} memories (each may grow "
                        f"to {limit} bytes)")
                notes.append(f"memory {m.index} is {size} bytes: it cannot grow by a page under {what} "
                             f"(memory.grow returns -1); run with --max-memory {need} or more to let it grow")
        if self.max_table_entries and self.table_level is not None:
            sizes = table_sizes()
            objs = self._table_objects(sizes)
            for k, (i, size, mx) in enumerate(objs):
                if i not in sizes or size + 1 <= self.table_level or (mx is not None and size >= mx):
                    continue
                need = budget_for([(s, m) for _, s, m in objs], k, size + 1)
                notes.append(f"table {i} has {size} entries: it cannot grow under the --max-table-entries total "
                             f"of {self.max_table_entries} (table.grow returns -1); run with "
                             f"--max-table-entries {need} or more to let it grow")
        return notes
