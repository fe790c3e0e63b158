"""Linear memories and globals as the host sees them: one adapter over wasmtime's Memory and SharedMemory,
whole-memory images, live memory read a slice at a time (``LiveBytes``), the diff of an image and live memory
(what a call changed: ``diff_memory``), and writing a global."""

from __future__ import annotations

import ctypes

import wasmtime

from ..model.ranges import MAX_RANGES, MERGE_GAP, find_changes
from .results import ChangedRange

PAGE = 65536
EXCERPT = 1024  # bytes of a changed range kept, before and after (the rest of a longer range is counted)
__all__ = ["PAGE", "EXCERPT", "MERGE_GAP", "MAX_RANGES", "GuestMemory", "LiveBytes", "diff_memory", "set_global"]


def set_global(g: wasmtime.Global, store, value) -> None:
    """``g = value``, written only when it differs: wasmtime-py reads a global in about 2 µs and writes one in
    about 10, and the per-call set-up (the stack check's bounds, the heap tracker's globals) mostly finds
    them as they should be."""
    if g.value(store) != value:
        g.set_value(store, value)


class PatchedSharedMemory(wasmtime.SharedMemory):
    """wasmtime-py 50's SharedMemory with two fixes: ``_as_extern`` (used by ``Linker.define``) wrapped the
    handle in one pointer too many, so defining an imported shared memory raised ``TypeError: incompatible
    types, LP_LP_wasmtime_sharedmemory…``; ``size()`` passed the wrong pointer type likewise."""

    def _as_extern(self):
        from wasmtime import _ffi as ffi

        union = ffi.wasmtime_extern_union(sharedmemory=self.ptr())
        return ffi.wasmtime_extern_t(ffi.WASMTIME_EXTERN_SHAREDMEMORY, union)

    def size(self) -> int:
        from wasmtime import _ffi as ffi

        return ffi.wasmtime_sharedmemory_size(self.ptr())


class GuestMemory:
    """One memory, Memory or SharedMemory (a shared memory belongs to the engine: its calls take no store).
    ``page_size`` is the memory's declared page size (65536 unless custom-page-sizes)."""

    def __init__(self, obj, page_size: int = PAGE):
        self.obj = obj
        self.shared = isinstance(obj, wasmtime.SharedMemory)
        self.page_size = page_size

    def size(self, store) -> int:
        return self.obj.data_len() if self.shared else self.obj.data_len(store)

    def pages(self, store) -> int:
        if self.shared:  # from the byte length: wasmtime-py 50's SharedMemory.size() passes a wrong pointer
            return self.obj.data_len() // self.page_size
        return self.obj.size(store)

    def grow(self, store, delta: int) -> int:
        return self.obj.grow(delta) if self.shared else self.obj.grow(store, delta)

    def ptr(self, store):
        return self.obj.data_ptr() if self.shared else self.obj.data_ptr(store)

    def address(self, store) -> int:
        return ctypes.addressof(self.ptr(store).contents)

    def image(self, store) -> bytes:
        """A copy of the whole memory: a ctypes array, not string_at, whose size is a C int (memories may
        exceed 2 GiB)."""
        return bytes((ctypes.c_ubyte * self.size(store)).from_address(self.address(store)))

    def view(self, store) -> LiveBytes:
        """The memory as it is, read a slice at a time (nothing copied until sliced). Valid until the memory
        grows (wasmtime may move it)."""
        return LiveBytes(self.address(store), self.size(store))


class LiveBytes:
    """Live memory whose slices are ``bytes`` read when asked: what ``diff_memory`` compares an image with,
    so that a diff holds one image, not two."""

    def __init__(self, address: int, size: int):
        self.address = address
        self.size = size

    def __len__(self) -> int:
        return self.size

    def __getitem__(self, s: slice) -> bytes:
        start, stop, _ = s.indices(self.size)
        return ctypes.string_at(self.address + start, stop - start) if stop > start else b""


def diff_memory(memory: int, before, after, *, limit: int = MAX_RANGES,
                tick=None) -> tuple[list[ChangedRange], int, int]:
    """What differs between ``before`` (an image) and ``after`` (an image or ``LiveBytes``): ``(ranges,
    omitted ranges, omitted bytes)``. Runs of changed bytes at most ``MERGE_GAP`` equal bytes apart are one
    range; the first ``limit`` ranges are kept, each with its first ``EXCERPT`` bytes before and after; the
    rest are counted. Bytes past the old end (after growth) are compared with zeros. Compared a chunk at a
    time by C code (``model.ranges.find_changes``): time and temporary memory do not grow with the bytes
    changed. ``tick(offset)`` is called before each chunk; a true answer stops the diff (``find_changes``)."""
    found, omitted, omitted_bytes = find_changes(before, after, len(after), limit=limit, tick=tick)
    old_len = len(before)
    out = []
    for s, e in found:
        k = min(e, s + EXCERPT)
        old = before[s:k] if s < old_len else b""
        out.append(ChangedRange(memory, s, e, bytes(old) + bytes(k - s - len(old)), bytes(after[s:k])))
    return out, omitted, omitted_bytes


def deadline_tick(deadline, memory: int, size: int, notes: list[str]):
    """The ``tick`` of a diff made for a command with a ``deadline`` (wasmem.deadline.Deadline, or None:
    none): once it has passed the diff stops, and ``notes`` gets the note that says which bytes were not
    compared (wasmem's own work is bounded by the command's deadline; the call's result is kept)."""
    if deadline is None or not deadline.limited:
        return None

    def tick(offset: int) -> bool:
        if not deadline.expired():
            return False
        notes.append(deadline.cut_note(f"comparing memory {memory} with its image before the call",
                                       f"bytes {offset:#x}..{size:#x} were not compared, so changes there are "
                                       f"not shown"))
        return True

    return tick
