"""Linear memories and globals as the host sees them: one adapter over wasmtime's Memory and SharedMemory,
whole-memory images, the diff of two images (what a call changed), and writing a global."""

from __future__ import annotations

import ctypes

import wasmtime

from .results import ChangedRange

PAGE = 65536
BLOCK = 4096
MERGE_GAP = 8  # changed ranges closer than this are reported as one range


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


def diff_memory(memory: int, before: bytes, after: bytes) -> list[ChangedRange]:
    """Byte ranges that differ. Compares 4 KiB blocks, then 64-byte lines, then bytes. Bytes past the old
    end (after growth) are compared with zeros."""
    if len(after) > len(before):
        before = before + bytes(len(after) - len(before))
    n = min(len(before), len(after))
    ranges: list[list[int]] = []
    for b in range(0, n, BLOCK):
        e = min(b + BLOCK, n)
        if before[b:e] == after[b:e]:
            continue
        for lb in range(b, e, 64):
            le = min(lb + 64, e)
            x, y = before[lb:le], after[lb:le]
            if x == y:
                continue
            for j in range(le - lb):
                if x[j] != y[j]:
                    a = lb + j
                    if ranges and a - ranges[-1][1] <= MERGE_GAP:
                        ranges[-1][1] = a + 1
                    else:
                        ranges.append([a, a + 1])
    return [ChangedRange(memory, s, e, before[s:e], after[s:e]) for s, e in ranges]

