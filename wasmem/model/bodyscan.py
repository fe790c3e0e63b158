"""One scan per function body over a whole module, in order: in this process, or split over forked worker
processes for a large module (a pure-Python decode is CPU-bound). What a scan computes is the caller's
(the stack analysis' ``_scan_body``); this module knows bodies, chunks, processes and page dropping.

Forking is used only where it is safe: not in a parent that runs other threads (a wasmtime engine's, a
session's timer: the child could deadlock), not on a platform without fork. Then one process scans.
"""

from __future__ import annotations

import multiprocessing
import os
import threading
from collections.abc import Callable, Iterator

from ..parser.reader import DROP_BYTES, drop_pages

PARALLEL_MIN_BODIES = 4000  # below this, one process is faster than starting workers
PARALLEL_MIN_BYTES = 8 << 20  # and below this much code (many tiny bodies: the results cost more to send)
CHUNK_BODIES = 4096  # at most this many bodies per task: what a worker sends back is pickled whole
CHUNK_BYTES = 2 << 20  # and at most about this much code

# what forked workers scan: set by scan_bodies just before the pool forks, read by _scan_chunk
_WORK: tuple | None = None


def _scan_chunk(bounds: tuple[int, int]) -> list:
    """A worker's share: the scans of bodies ``lo..hi``, as the worker sends them back."""
    module, scan, to_parent = _WORK  # type: ignore[misc]
    lo, hi = bounds
    bodies = module.functions[lo:hi]
    out = []
    for body in bodies:
        r = scan(body)
        out.append(to_parent(r) if to_parent is not None else r)
    if bodies:
        drop_pages(module.data, bodies[0].start, bodies[-1].end)
    return out


def other_threads() -> bool:
    """Whether this process runs threads besides the current one, native ones included (a wasmtime
    engine's, which ``threading`` does not see): forking then may deadlock the child."""
    try:
        return len(os.listdir("/proc/self/task")) > 1
    except OSError:  # no procfs: Python's own threads are all that can be seen
        return threading.active_count() > 1


def _chunks(bodies, workers: int) -> list[tuple[int, int]]:
    """Ranges of bodies for the workers: at least a few per worker (evens out their sizes), each small
    enough that the results in flight stay small."""
    total = bodies[-1].end - bodies[0].start if bodies else 0
    target = max(1, min(-(-len(bodies) // (workers * 4)), CHUNK_BODIES))
    budget = min(CHUNK_BYTES, max(1, -(-total // (workers * 4))))
    out = []
    lo = 0
    while lo < len(bodies):
        hi = min(lo + target, len(bodies))
        while hi - lo > 1 and bodies[hi - 1].end - bodies[lo].start > budget:
            hi = lo + (hi - lo) // 2
        out.append((lo, hi))
        lo = hi
    return out


def scan_bodies(module, scan: Callable, *, workers: int | None = None, check: Callable[[], None] | None = None,
                to_parent: Callable | None = None, left: Callable[[], float | None] | None = None) -> Iterator:
    """``scan(body)`` for every function body, in order (an iterator: results are consumed as they come, so
    the per-body results of a large module never exist all at once), split over forked worker processes
    for a large module (``workers`` None: the CPUs, up to 4, for PARALLEL_MIN_BODIES+ bodies in
    PARALLEL_MIN_BYTES+ of code). ``check()`` runs before each body (each chunk, from workers) and may
    raise to stop (``left()``, the seconds until it will, lets the parent wake up then while it waits for a
    worker's chunk); ``to_parent(result)`` is what a worker sends back instead of a result. The pages of
    scanned code are given back to the system as the scan goes (``parser.reader.drop_pages``)."""
    global _WORK
    bodies = module.functions
    if workers is None:
        big = len(bodies) >= PARALLEL_MIN_BODIES and bodies[-1].end - bodies[0].start >= PARALLEL_MIN_BYTES
        workers = min(os.cpu_count() or 1, 4) if big else 1
    if workers > 1 and not other_threads() and "fork" in multiprocessing.get_all_start_methods():
        chunks = _chunks(bodies, workers)
        _WORK = (module, scan, to_parent)
        try:
            try:
                pool = multiprocessing.get_context("fork").Pool(workers)
            except OSError:
                pool = None  # no processes to be had: scan here
            if pool is not None:
                with pool:  # leaving it (also when ``check`` raises) terminates the workers
                    parts = pool.imap(_scan_chunk, chunks)
                    while True:
                        wait = left() if left is not None else None
                        try:
                            part = parts.next(None if wait is None else wait + 0.001)
                        except StopIteration:
                            break
                        except multiprocessing.TimeoutError:
                            part = None
                        if check is not None:
                            check()
                        if part is not None:
                            yield from part
                return
        finally:
            _WORK = None
    since = bodies[0].start if bodies else 0
    for body in bodies:
        if check is not None:
            check()
        yield scan(body)
        if body.end - since > DROP_BYTES:
            drop_pages(module.data, since, body.end)
            since = body.end
    if bodies:
        drop_pages(module.data, since, bodies[-1].end)
