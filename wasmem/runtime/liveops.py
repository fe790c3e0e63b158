"""Steps on a live session that no one-shot command needed, for `wasmem shell`: allocate and free a block
with the module's own allocator, grow a memory, compare memory with a snapshot, read the globals.
Each is a thin use of what Session already does for `call` (its allocator conventions, its diff)."""

from __future__ import annotations

from dataclasses import dataclass

from ..errors import RunError, UsageError
from .calls import allocate as call_allocator
from .calls import find_allocator
from .calls import free as call_free
from .memory import MAX_RANGES, deadline_tick, diff_memory
from .results import ChangedRange, Snapshot
from .session import Session


@dataclass
class AllocatedBlock:
    """A block the shell allocated: where, how big, and which export gives it back."""

    address: int
    size: int
    alloc: str
    free: str | None


def allocate(session: Session, size: int, alloc: str | None = None) -> AllocatedBlock:
    """``size`` bytes from the module's allocator (allocate, malloc, __wbindgen_malloc, cabi_realloc, or
    ``alloc`` = "NAME[,FREE]"), called as `call` calls it for an ``s:`` argument."""
    if size <= 0:
        raise UsageError(f"alloc {size}: give a size of at least 1 byte")
    found = find_allocator(session.module, alloc)
    if not found:
        raise UsageError("the module exports no allocator (allocate, malloc, __wbindgen_malloc, cabi_realloc): "
                         "name one: alloc N NAME[,FREE]")
    ptr = call_allocator(session, found[0], size)
    return AllocatedBlock(ptr, size, found[0], found[1])


def release(session: Session, block: AllocatedBlock) -> None:
    """Gives ``block`` back with the allocator's free export (free(ptr), deallocate(ptr, size), …)."""
    if block.free is None:
        raise UsageError(f"{block.alloc} has no matching free export: the block at {block.address:#x} stays")
    call_free(session, block.free, block.address, block.size)


def grow(session: Session, pages: int, memory: int = 0) -> tuple[int, int]:
    """memory.grow from the host: (old pages, new pages). Refused past the session's memory budget or the
    memory's maximum, as the module's own memory.grow would be."""
    if pages < 0:
        raise UsageError(f"grow {pages}: give a number of pages >= 0")
    m = session.guest_memory(memory)
    before = m.pages(session.store)
    try:
        m.grow(session.store, pages)
    except Exception as exc:  # noqa: BLE001 - wasmtime says why (maximum, limiter)
        raise RunError(f"memory {memory} cannot grow by {pages} page{'' if pages == 1 else 's'} from {before}: "
                       f"{str(exc).splitlines()[0] if str(exc) else 'refused'}") from None
    return before, m.pages(session.store)


def diff_snapshot(session: Session, snap: Snapshot,
                  notes: list[str] | None = None) -> tuple[list[ChangedRange], int, int]:
    """Byte ranges of every memory that differ between ``snap`` and now (the comparison `call` makes
    around a call, live memory against the snapshot's image): ``(ranges, omitted ranges, omitted bytes)``.
    The command's deadline stops the comparison; ``notes`` then gets what was not compared."""
    out: list[ChangedRange] = []
    omitted = omitted_bytes = 0
    limit = session.spec.max_changes or MAX_RANGES
    for i, before in zip(sorted(session.memories), snap.memories, strict=False):
        live = session.guest_memory(i).view(session.store)
        found, n, nbytes = diff_memory(i, before, live, limit=max(0, limit - len(out)),
                                       tick=deadline_tick(session.deadline, i, len(live),
                                                          notes if notes is not None else []))
        out += found
        omitted += n
        omitted_bytes += nbytes
    return out, omitted, omitted_bytes


def global_values(session: Session) -> list[tuple[int, str, str, bool, object]]:
    """(index, name, value type, mutable, value) of each global the host can read (exported, imported, or
    the stack pointer wasmem exported); the others are not visible to a host."""
    rows = []
    mod = session.module
    for g in mod.globals:
        names = mod.get_export_names("global", g.index)
        name = names[0] if names else (mod.names.globals.get(g.index) or "")
        try:
            value = session.get_global(g.index)
        except Exception:  # noqa: BLE001 - not visible to the host, or a reference
            value = None
        rows.append((g.index, name, g.type.valtype, g.type.mutable, value))
    return rows
