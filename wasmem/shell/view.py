"""The memory source `wasmem view` reads (see ``wasmem.render.tui.app``): a session's memory 0, its
layout, symbols, stack pointer and the bytes the last call changed. The session is a live one or a
coredump's (``app.core.CoreSession``, `view --core`: the same read side, rows read lazily
from the dump, the stack pointer at the crash, nothing changed)."""

from __future__ import annotations

from ..model.ranges import ByteRanges


class SessionSource:
    def __init__(self, session, symbols, changed=None, resolve=None):
        self.session = session
        self.symbols = symbols
        self.name = session.name
        self.size = session.memory_size(0) if 0 in session.memories else 0
        self.regions = list(session.regions or ())
        self.sp = session.get_sp()
        self.changed = ByteRanges.from_addresses(changed or ())  # a ByteRanges, or addresses
        self._resolve = resolve

    def read(self, addr: int, n: int) -> bytes:
        return self.session.read(addr, n)

    def resolve(self, text: str) -> int:
        if self._resolve is not None:
            return self._resolve(text)
        from ..app import resolve_target

        return resolve_target(text, self.symbols, self.read, self.session.resolve_address).address


def view_session(session, symbols, *, changed=None, at: int | None = None, resolve=None) -> None:
    from ..errors import UsageError
    from ..render.tui.app import run_view

    if 0 not in session.memories:
        raise UsageError(f"{session.name} has no memory to view")
    run_view(SessionSource(session, symbols, changed, resolve), at)


def view_shell(shell, at: int | None = None) -> None:
    """`view` inside the shell: the live instance, the last call's changes; `q` returns to the prompt."""
    view_session(shell.session, shell.symbols, changed=shell.changed, at=at, resolve=shell.address)
