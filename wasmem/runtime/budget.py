"""The resource budget of a run: one total for all memories, one for all table entries, a cap on guest
output, and the watcher that stops a call at its deadline, on Ctrl-C or when its output runs away.

wasmtime's store limits are per object (``Store.set_limits(memory_size=…)`` bounds each memory, not their
sum; likewise ``table_elements`` each table), and memories and tables only grow. So the total is kept by
choosing the per-object limit ``L`` as the largest value for which the worst case still fits:
``Σ max(size_i, min(L, maximum_i)) ≤ budget`` (every object grown to ``L`` or to its own declared
maximum, those already larger staying as they are). A single memory gets the whole budget; N growable
memories share it. See ``level``.

Output: the guest's stdout and stderr keep at most ``max_output`` bytes each per call; the rest is counted.
A call whose output on one stream passes ``stop_after(max_output)`` is stopped (trap ``output_limit``),
so a runaway writer ends promptly instead of filling the disk with WASI's capture files.
"""

from __future__ import annotations

import contextlib
import math
import os
import signal
import threading
import time

MAX_OUTPUT = 1 << 20  # bytes of stdout and of stderr kept per call (--max-output)
MAX_TABLE_ENTRIES = 10_000_000  # entries over all tables (--max-table-entries): wasmtime spends 8 bytes on each
OUTPUT_STOP_FACTOR = 64  # a call is stopped when one stream passes 64 x the cap …
OUTPUT_STOP_MIN = 64 << 20  # … and at least 64 MiB
STUCK_GRACE = 2.0  # seconds a stopped call may take to return before ``on_stuck`` is called
WATCH_INTERVAL = 0.01  # seconds between the watcher's looks at the output files and the signal pipe
MAX_FUEL = 2**63 - 1


def stop_after(max_output: int) -> int | None:
    """Bytes on one stream after which a call is stopped (None: no limit)."""
    if not max_output:
        return None
    return max(OUTPUT_STOP_MIN, OUTPUT_STOP_FACTOR * max_output)


def output_stop_message(stream: str, max_output: int) -> str:
    stop = stop_after(max_output)
    return (f"stopped: the guest wrote more than {stop} bytes to {stream} in one call (--max-output {max_output} "
            f"keeps that much; a call is stopped at {stop // max_output}x it, at least {OUTPUT_STOP_MIN} bytes); "
            f"run with --max-output 0 for no limit")


def level(objects: list[tuple[int, int | None]], budget: int) -> int:
    """The largest per-object limit L with ``Σ max(size, min(L, maximum)) ≤ budget`` for ``objects`` as
    (size, maximum or None) pairs; 0 when the sizes alone exceed the budget. Never above ``budget``."""
    def worst(lim: int) -> int:
        return sum(max(s, lim if m is None else min(lim, m)) for s, m in objects)

    if worst(0) > budget:
        return 0
    lo, hi = 0, budget
    while lo < hi:
        mid = (lo + hi + 1) // 2
        if worst(mid) <= budget:
            lo = mid
        else:
            hi = mid - 1
    return lo


def budget_for(objects: list[tuple[int, int | None]], index: int, target: int) -> int:
    """The budget under which ``objects[index]`` may reach ``target`` (the others may grow as far too)."""
    return sum(max(s, target if m is None else min(target, m)) if i != index else target
               for i, (s, m) in enumerate(objects))


def check_timeout(value, what: str = "--timeout") -> float:
    """A timeout in seconds: finite and >= 0 (0 = no limit)."""
    from ..errors import UsageError

    try:
        v = float(value)
    except (TypeError, ValueError):
        raise UsageError(f"{what}: {value!r} is not a number of seconds") from None
    if math.isnan(v) or math.isinf(v) or v < 0:
        raise UsageError(f"{what} {value}: give a finite number of seconds >= 0 (0 = no limit)")
    return v


class Watcher:
    """Runs beside one wasm call: at the deadline, on SIGINT (seen through ``signal.set_wakeup_fd``,
    which the C-level handler writes at once even while the main thread is inside wasm) and when an
    output file passes its stop size it records the reason, sets ``stopped`` (host functions waiting on
    it wake up) and calls ``interrupt`` (the engine's epoch increment: wasm code traps at its next
    check). ``stop()`` ends it; a watcher that was stopped never interrupts afterwards.

    A call blocked inside the engine's own WASI (opening or reading a FIFO or a device under ``--dir``:
    wasmtime's WASI waits in a worker thread, where neither the epoch nor a signal reaches) cannot be
    stopped that way: when the call has not returned ``grace`` seconds after the stop, ``on_stuck(reason)``
    is called (the command line's exits the process with the stop's message; a library caller may pass
    its own, or none and wait)."""

    def __init__(self, interrupt, timeout: float | None, files=(), limit: int | None = None,
                 signal_fd: int | None = None, on_stuck=None, grace: float = STUCK_GRACE):
        self.interrupt = interrupt
        self.on_stuck = on_stuck
        self.grace = grace
        self.deadline = time.monotonic() + timeout if timeout else None
        self.files = [f for f in files if f]
        self.limit = limit if self.files else None
        self.signal_fd = signal_fd
        self.reason: str | None = None  # timeout | interrupt | output
        self.stream: int | None = None  # 0 stdout, 1 stderr for "output"
        self.stopped = threading.Event()
        self._done = threading.Event()
        self._lock = threading.Lock()
        self._thread = None
        if self.deadline is not None or self.limit is not None or signal_fd is not None:
            self._thread = threading.Thread(target=self._watch, name="wasmem-watch", daemon=True)
            self._thread.start()

    def fire(self, reason: str, stream: int | None = None) -> None:
        with self._lock:
            if self._done.is_set() or self.reason is not None:
                return
            self.reason, self.stream = reason, stream
            self.stopped.set()
            self.interrupt()

    def stop(self) -> None:
        with self._lock:
            self._done.set()

    def wait(self, seconds: float) -> str | None:
        """Sleeps ``seconds`` (a host function's own wait) or until the call is stopped: the reason, or
        None when the time passed. Never past the deadline: returns "timeout" there."""
        if self.deadline is not None and time.monotonic() + seconds >= self.deadline:
            if not self.stopped.wait(max(0.0, self.deadline - time.monotonic())):
                self.fire("timeout")
            return self.reason
        return self.reason if self.stopped.wait(seconds) else None

    def _watch(self) -> None:
        self._run()
        if self.reason is not None and self.on_stuck is not None and not self._done.wait(self.grace):
            self.on_stuck(self.reason)

    def _run(self) -> None:
        interval = WATCH_INTERVAL if (self.limit is not None or self.signal_fd is not None) else None
        while not self._done.is_set():
            now = time.monotonic()
            wait = interval
            if self.deadline is not None:
                left = self.deadline - now
                if left <= 0:
                    self.fire("timeout")
                    return
                wait = left if wait is None else min(wait, left)
            if self._done.wait(wait):
                return
            if self.signal_fd is not None:
                try:
                    data = os.read(self.signal_fd, 64)
                except (BlockingIOError, InterruptedError):
                    data = b""
                except OSError:
                    data = b""
                    self.signal_fd = None
                if signal.SIGINT in data:
                    self.fire("interrupt")
                    return
            if self.limit is not None:
                for k, path in enumerate(self.files):
                    try:
                        size = os.stat(path).st_size
                    except OSError:
                        continue
                    if size > self.limit:
                        self.fire("output", k)
                        return


class SignalPipe:
    """A non-blocking pipe given to ``signal.set_wakeup_fd`` while a call runs (main thread only), so the
    watcher sees Ctrl-C at once. ``arm()`` returns the read end or None; ``disarm()`` puts back the
    previous wakeup fd."""

    def __init__(self):
        self._r = self._w = None
        self._old = None
        self._armed = False

    def arm(self) -> int | None:
        if threading.current_thread() is not threading.main_thread():
            return None
        try:
            if signal.getsignal(signal.SIGINT) in (signal.SIG_IGN, signal.SIG_DFL, None):
                return None
            if self._r is None:
                self._r, self._w = os.pipe()
                os.set_blocking(self._r, False)
                os.set_blocking(self._w, False)
            while True:  # drop stale bytes
                try:
                    if not os.read(self._r, 256):
                        break
                except BlockingIOError:
                    break
            self._old = signal.set_wakeup_fd(self._w, warn_on_full_buffer=False)
        except (ValueError, OSError):
            return None
        self._armed = True
        return self._r

    def disarm(self) -> None:
        if not self._armed:
            return
        self._armed = False
        with contextlib.suppress(ValueError, OSError):
            signal.set_wakeup_fd(self._old if self._old is not None else -1)

    def close(self) -> None:
        self.disarm()
        for fd in (self._r, self._w):
            if fd is not None:
                with contextlib.suppress(OSError):
                    os.close(fd)
        self._r = self._w = None
