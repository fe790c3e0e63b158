"""``wasmem chase``: pointers followed from an address or symbol path in a memory source."""

from __future__ import annotations

from ..errors import UsageError
from .sources import MemorySource
from .targets import find_type


class ChaseOutcome:
    """What ``wasmem chase`` shows: the calls run first and the chase."""

    def __init__(self, chase, calls: list, session=None):
        self.chase = chase
        self.calls = calls
        self.session = session
        self.notes: list[str] = []

    @property
    def ok(self) -> bool:
        return all(c.ok for c in self.calls)

    def to_dict(self) -> dict:
        d = self.chase.to_dict()
        d["calls"] = [c.to_dict() for c in self.calls]
        return d


def chase_memory(path_or_module, at: str, *, depth: int = 4, after=(), length: int | None = None,
                 type_name: str | None = None, untyped: bool = False, alloc: str | None = None,
                 snapshot: str | None = None, core: str | None = None, **options) -> ChaseOutcome:
    """Follows pointers from ``at`` (an address expression or a symbol path) in a live instance, after
    the ``after`` calls, in a raw ``snapshot`` image or in a coredump (``core``). With a DWARF type (the symbol's own, or
    ``type_name``) the result is a typed tree with pointer members followed; otherwise a telescope of
    classified words (``length`` bytes, default: the symbol's size, else 8 words)."""
    from ..budgets import lift, value_of
    from ..model.chase import Chase, MemoryMap, telescope, typed_walk

    if depth < 0:
        raise UsageError(f"--depth {depth} is negative")
    mem = MemorySource(path_or_module, after=after, snapshot=snapshot, alloc=alloc, core=core, **options)
    symbols = mem.symbols
    target = mem.target(at)
    ws = 8 if mem.is64 else 4
    msize = mem.size
    if not 0 <= target.address < msize:
        raise UsageError(f"address {target.address:#x} is outside memory 0 ({msize} bytes)")
    ch = Chase(target.address, at, depth, ws, label=target.label, memory_size=msize, sp=mem.sp,
               symbols_from=symbols.source)
    t = None
    if not untyped:
        if type_name:
            t = find_type(symbols, type_name, target)
        elif target.type is not None:
            t = target.type
        elif target.label is not None and symbols.has_dwarf:
            got = symbols.symbol_at(target.address)
            if got is not None and got[1] == 0 and got[0].type is not None:
                t = got[0].type
    if t is not None:
        from ..debuginfo import format_value

        def decode(ty, addr, label):
            return format_value(ty, mem.read, addr, label=label, depth=8, symbols=symbols)

        root = decode(t, target.address, at)
        ch.value = typed_walk(root, decode, depth=depth, memory_size=msize)
        ch.type_name = t.name
    else:
        layout_map = MemoryMap(mem.regions, msize, mem.sp, ws, symbols)
        if length is None:
            length = target.size or 8 * ws
        length = max(0, min(length, msize - target.address))
        words = value_of(mem.module, "chase-words")
        ch.words = telescope(mem.read, target.address, length, layout_map, depth=depth, max_words=words)
    out = ChaseOutcome(ch, mem.calls, mem.session)
    out.notes = list(mem.notes)
    if ch.words is not None and ch.words.words_cut:
        out.notes.append(f"the chase stopped at {words:,} words (its tree ends with …); {lift('chase-words')}")
    return out
