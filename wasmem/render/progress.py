"""A status line on stderr while a session prepares and compiles a module.

``CompileStatus`` is the context manager a ``Session`` enters around its slow start (rewriting the module,
then wasmtime's compile). It shows nothing at first: a timer starts a transient rich ``Status`` after
``delay`` seconds (counted from ``since``, e.g. when the command started, or else from entering), so a
fast start (a small module, or one wasmtime loads from its compile cache) prints nothing at all. The line is redrawn by rich's refresh thread, so the elapsed time moves while wasmtime
compiles (its ctypes calls release the GIL). It goes to the console it is given, the CLI's stderr console,
and disappears when the compile ends.

``CompileLines`` is the same hook's non-interactive form (a CI log, a pipe): no redrawing, just one plain line
when the start begins and one when it ends, with the seconds it took.
"""

from __future__ import annotations

import sys
import threading
import time

from rich.status import Status
from rich.text import Text

from .common import SafeConsole, fmt_bytes, shown

DEFAULT_DELAY = 0.5  # seconds of silence before the status appears


class _Line:
    """The status text, rendered afresh on every refresh (so the elapsed time is current)."""

    def __init__(self, owner: CompileStatus):
        self.owner = owner

    def __rich__(self) -> Text:
        o = self.owner
        elapsed = time.monotonic() - o.started
        text = f"{o.phase_text} {shown(o.name)} ({fmt_bytes(o.size)}): {elapsed:.1f} s"
        if o.cached and o.phase_text == "compiling":
            text += " · cached next time"
        return Text(text)


class CompileStatus:
    """Context manager: after ``delay`` seconds, a transient status on ``console`` naming the phase
    ("preparing", "compiling"), the module and its size, the elapsed seconds and, while compiling with
    wasmtime's compile cache on, "cached next time". ``phase(text)`` changes the phase. ``since`` (a
    ``time.monotonic()`` value) is when the wait began for the user: the delay and the elapsed time count
    from it (default: from entering)."""

    def __init__(self, console, name: str, size: int, cached: bool, delay: float = DEFAULT_DELAY,
                 since: float | None = None):
        self.console = console
        self.name = name
        self.size = size
        self.cached = cached
        self.delay = max(0.0, delay)
        self.phase_text = "preparing"
        self.since = since
        self.started = time.monotonic() if since is None else since
        self.shown_at: float | None = None  # seconds after ``started`` when the status first appeared
        self._status: Status | None = None
        self._timer: threading.Timer | None = None
        self._lock = threading.Lock()
        self._done = False

    def __enter__(self) -> CompileStatus:
        now = time.monotonic()
        self.started = now if self.since is None else self.since
        wait = self.delay - (now - self.started)
        if wait <= 0:  # at once, from this thread
            self._show()
            return self
        self._timer = threading.Timer(wait, self._show)
        self._timer.daemon = True
        self._timer.start()
        return self

    def phase(self, text: str) -> None:
        self.phase_text = text

    def _show(self) -> None:
        with self._lock:
            if self._done:
                return
            self._status = Status(_Line(self), console=self.console, spinner="dots")
            self._status.start()
            self.shown_at = time.monotonic() - self.started

    def __exit__(self, *exc) -> None:
        with self._lock:
            self._done = True
            if self._timer is not None:
                self._timer.cancel()
            if self._status is not None:
                self._status.stop()
                self._status = None


def compile_status_factory(*, force: bool = False, delay: float = DEFAULT_DELAY, file=None,
                           since: float | None = None):
    """The ``on_compile`` hook of a Session: ``hook(name, size, cached)`` → a ``CompileStatus`` on a
    stderr console (``file`` or ``sys.stderr`` at the time of the call). ``force`` draws it even when
    that file is not a terminal (for tests: the text then carries terminal control codes). ``since``:
    see ``CompileStatus``."""

    def hook(name: str, size: int, cached: bool) -> CompileStatus:
        out = file if file is not None else sys.stderr
        console = SafeConsole(file=out, force_terminal=True if force else None, highlight=False, markup=False)
        return CompileStatus(console, name, size, cached, delay, since)

    return hook


class CompileLines:
    """Context manager: one line on ``file`` when preparing and compiling a module begins (its size, and
    whether wasmtime's compile cache will keep it) and one when it ends, with the seconds it took (or after
    how long it stopped, when it raised). For stderr that is not a terminal: nothing is redrawn, so a CI log
    gets two lines, not a spinner's control codes."""

    def __init__(self, file, name: str, size: int, cached: bool):
        self.file = file
        self.name = name
        self.size = size
        self.cached = cached
        self.started = time.monotonic()

    def _say(self, text: str) -> None:
        out = self.file if self.file is not None else sys.stderr
        out.write(f"wasmem: {text}\n")
        out.flush()

    def __enter__(self) -> CompileLines:
        self.started = time.monotonic()
        cache = "; cached for next time" if self.cached else ""
        self._say(f"compiling {shown(self.name)} ({fmt_bytes(self.size)}{cache})…")
        return self

    def phase(self, text: str) -> None:  # the Session hook's optional method: one line per start, not per phase
        pass

    def __exit__(self, exc_type=None, exc=None, tb=None) -> None:
        elapsed = time.monotonic() - self.started
        if exc_type is None:
            self._say(f"compiled {shown(self.name)} in {elapsed:.1f} s")
        else:
            self._say(f"compiling {shown(self.name)} stopped after {elapsed:.1f} s")


class _Quiet:
    """The context manager of a start too small to announce."""

    def __enter__(self):
        return self

    def __exit__(self, *exc) -> None:
        pass


def compile_lines_factory(*, min_size: int, file=None):
    """The ``on_compile`` hook of a Session for a stderr that is not a terminal: ``CompileLines`` on ``file``
    (or ``sys.stderr`` at the time of the call) for a module of at least ``min_size`` bytes, nothing for a
    smaller one (whose start is all but instant: no two lines in every log of a small test)."""

    def hook(name: str, size: int, cached: bool):
        if size < min_size:
            return _Quiet()
        return CompileLines(file, name, size, cached)

    return hook
