"""What heap tracking cannot judge (issue 25): the frees and blocks of an allocator family's members that wasmem
does not understand, counted by reason instead of reported.

A member of the family found through the call graph but with no shape wasmem can interpret (role ``opaque``,
``model/allocfamily.py``) is logged, not interpreted: the live blocks it is passed may be freed or moved by it,
and the block it returns may be one the module frees later. :class:`Unjudged` remembers those blocks (bounded,
the oldest forgotten first) so that the tracker (``runtime/heap.py``) counts a later free of one it cannot
match, with the reason, instead of reporting an invalid or double free; it also keeps the tracker's other
counts of unjudged frees (a free found behind another function, a block past the live-block budget) and of the
--memcheck reads that are not findings by rule (``partial_load_ok``). None of them is a finding or fails the exit
status.
"""

from __future__ import annotations

from collections import OrderedDict

PLAIN_LOADS = (0x28, 0x35)  # i32.load … i64.load32_u
PARTIAL_LOADS = ("aligned word reads that start inside a live block and run past its end (word-at-a-time string "
                 "code such as musl's strlen: they cannot fault and the bytes past the end do not change the "
                 "result; valgrind's --partial-loads-ok), not reported")


def partial_load_ok(op: int, write: bool, size: int | None, addr: int, n: int) -> bool:
    """Whether a plain read of ``n`` bytes at ``addr`` whose first bytes are in a block and later ones are not is
    the word-at-a-time pattern (valgrind's ``--partial-loads-ok``): a plain (not SIMD, not atomic) load of 2, 4 or 8
    bytes aligned to its size (it never crosses a page, so it cannot fault where a byte-wise loop would not)."""
    return PLAIN_LOADS[0] <= op <= PLAIN_LOADS[1] and not write and size == n and n in (2, 4, 8) and addr % n == 0


class Unjudged:
    def __init__(self, limit: int):
        self.limit = limit
        self.counts: dict[str, int] = {}  # reason → how many (the reports list them)
        self.frees = 0  # of those, the frees
        self.untracked: OrderedDict[int, str] = OrderedDict()  # block → the opaque member that returned/was passed it

    def count(self, reason: str, free: bool = True) -> None:
        """One more free (or, ``free`` False, block) wasmem cannot judge, for ``reason``."""
        self.frees += free
        self.counts[reason] = self.counts.get(reason, 0) + 1

    def opaque_call(self, name: str, args: list[int], res: int, live: dict, freed) -> int:
        """A call of the opaque member ``name`` with ``args`` returned ``res`` (0: none): the live blocks it was
        passed leave ``live`` (it may have freed or moved them: they are no longer counted as live, nor as
        leaks), and they and the block it returned are remembered. Returns the bytes that left ``live``."""
        gone = 0
        touched = [a for a in args if a in live]
        for a in touched:
            gone += live.pop(a)[0]
            self.count(f"live blocks passed to {name}, no longer counted as live ({name} belongs to the allocator, "
                       "but whether it frees or moves them is not known)", free=False)
        if res:
            touched.append(res)
            freed.pop(res, None)  # handed out again: a free of it is no double free
        for a in touched:
            self.untracked[a] = name
            self.untracked.move_to_end(a)
        while len(self.untracked) > self.limit:
            self.untracked.popitem(last=False)
        return gone

    def handed_out(self, ptr: int) -> None:
        """The tracked allocator handed out the block at ``ptr``: it is judged again (no longer an opaque
        member's)."""
        if self.untracked:
            self.untracked.pop(ptr, None)

    def judged_free(self, ptr: int) -> bool:
        """Whether a free of ``ptr`` that matches no live block can be judged: False (and counted) when an opaque
        member returned or was passed it."""
        name = self.untracked.get(ptr)
        if name is None:
            return True
        self.count(f"frees of blocks that {name} returned or was passed ({name} belongs to the allocator, but what "
                   "it does is not known)")
        return False

    def judged_access(self, addr: int, live_below: int | None) -> bool:
        """Whether --memcheck can judge an access at ``addr`` outside every live block (``live_below``: the
        nearest live block's start below it, or None): False (and counted) when the nearest block below is one an
        opaque member returned, whose size is not known."""
        if not self.untracked:
            return True
        below = max((p for p in self.untracked if p <= addr), default=None)
        if below is None or (live_below is not None and live_below >= below):
            return True
        name = self.untracked[below]
        self.count(f"accesses after the start of a block {name} returned or was passed ({name} belongs to the "
                   "allocator, but the block's size is not known)", free=False)
        return False

    def as_list(self) -> list[dict]:
        return [{"reason": r, "count": n} for r, n in self.counts.items()]

    def copy(self) -> Unjudged:
        c = Unjudged(self.limit)
        c.counts, c.frees, c.untracked = dict(self.counts), self.frees, OrderedDict(self.untracked)
        return c
