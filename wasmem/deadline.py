"""One deadline per command: made once where the command starts (the CLI, the shell for each command it
runs, the Python API for each call that takes a timeout) and passed down to everything the command does:
compiling, the guest's calls, wasmem's own analyses and its rendering.

Each part asks it what it needs: a guest call's own limit is ``limit(call_timeout)`` (the smaller of the
call's timeout and the time left), a long analysis calls ``check(what)`` (raises) or ``expired()`` (to end
with a partial result and a note that says what was cut: ``cut_note``). ``paused()`` stops the clock while
a person is waited for (a prompt inside a call). ``clock`` may be injected (a fake clock in tests).

The deadline is passed down explicitly (a session's calls, the stack analysis, the heap reports). Work that is
done lazily, deep below whoever asked for it (reading a module's DWARF the first time a name or a type is
needed), answers to the deadline that ``governing`` made current for the command instead: ``current()``.

Stdlib only: every layer imports it (the model's stack analysis included)."""

from __future__ import annotations

import contextlib
import contextvars
import time
from collections.abc import Callable

from .errors import AnalysisTimeout, WasmemError

OPTION = "--timeout"


class TimedOut(WasmemError):
    """The command's deadline passed while wasmem ran the module (compiling it, or a call that could not be
    stopped otherwise): exit code 1, as for a call stopped by ``--timeout``. ``abandoned`` is True when a
    compile was left to finish in the background (its result is thrown away)."""

    exit_code = 1

    def __init__(self, message: str, *, abandoned: bool = False):
        super().__init__(message)
        self.abandoned = abandoned


class Deadline:
    """``seconds`` from now, or from ``started`` (None or 0: no limit), on ``clock`` (``time.monotonic`` unless
    injected)."""

    def __init__(self, seconds: float | None = None, *, clock: Callable[[], float] = time.monotonic,
                 option: str = OPTION, started: float | None = None):
        self.seconds = float(seconds) if seconds else None
        self.clock = clock
        self.option = option
        self.started = clock() if started is None else started  # ``started``: when the command began, on ``clock``
        self.at = self.started + self.seconds if self.seconds is not None else None
        self._paused_since: float | None = None
        self._pauses = 0

    @classmethod
    def of(cls, value) -> Deadline:
        """``value`` as a Deadline: one given as is, a number of seconds (None or 0: no limit) from now."""
        return value if isinstance(value, Deadline) else cls(value)

    # -- reading it ----------------------------------------------------------------------------------
    @property
    def limited(self) -> bool:
        return self.at is not None

    def _now(self) -> float:
        return self._paused_since if self._paused_since is not None else self.clock()

    def left(self) -> float | None:
        """Seconds left (never below 0), or None without a limit."""
        if self.at is None:
            return None
        return max(0.0, self.at - self._now())

    def expired(self) -> bool:
        return self.at is not None and self._now() >= self.at

    def elapsed(self) -> float:
        return self.clock() - self.started

    def limit(self, seconds: float | None) -> float | None:
        """The limit of one part that has its own ``seconds`` (None or 0: none): the smaller of them and the
        time left; None when neither limits it. 0.0 when the deadline has passed."""
        left = self.left()
        own = seconds or None
        if left is None:
            return own
        return left if own is None else min(own, left)

    # -- acting on it --------------------------------------------------------------------------------
    def text(self) -> str:
        """``--timeout 2 s`` (what the output names: the option that lifts a cut)."""
        return f"{self.option} {self.seconds:g} s" if self.seconds is not None else f"{self.option} 0"

    def message(self, what: str) -> str:
        return f"{what} did not finish in {self.seconds:g} s ({self.option}; 0 = no limit)"

    def check(self, what: str = "the command") -> None:
        """Raises AnalysisTimeout (exit code 2) once the deadline has passed."""
        if self.expired():
            raise AnalysisTimeout(self.message(what))

    def cut_note(self, what: str, cut: str) -> str:
        """The note of a partial result: ``what`` stopped at the deadline, ``cut`` says what is missing."""
        return (f"{what} was cut at the {self.seconds:g} s deadline ({self.option}, counted from the command's "
                f"start): {cut}; run with {self.option} SECONDS (longer, or 0 for no limit) for all of it")

    @contextlib.contextmanager
    def paused(self):
        """Within ``with``: the clock stopped (a prompt waits for a person); the time spent is added back."""
        if self.at is None:
            yield
            return
        outer = self._pauses == 0
        if outer:
            self._paused_since = self.clock()
        self._pauses += 1
        try:
            yield
        finally:
            self._pauses -= 1
            if outer:
                since, self._paused_since = self._paused_since, None
                self.at += max(0.0, self.clock() - since)

    def __repr__(self) -> str:
        return f"Deadline({self.seconds!r}, left={self.left()!r})"


NO_DEADLINE = Deadline(None)


_CURRENT: contextvars.ContextVar[Deadline | None] = contextvars.ContextVar("wasmem_deadline", default=None)


def current() -> Deadline:
    """The deadline of the command running now (``governing``), or NO_DEADLINE: what lazy work checks."""
    return _CURRENT.get() or NO_DEADLINE


@contextlib.contextmanager
def governing(deadline: Deadline | None):
    """Within ``with``: ``deadline`` (None: none) is ``current()``, e.g. for one command of a shell."""
    token = _CURRENT.set(deadline)
    try:
        yield deadline
    finally:
        _CURRENT.reset(token)
