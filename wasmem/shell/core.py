"""`wasmem shell`: one live instance and a gdb-like command language over the library.

Every command is a thin use of what the one-shot commands use: `call` is ``call_function`` on the live
session, `x`/`dump` are ``dump_memory``, `chase` is ``chase_memory``, `p` is the symbol table's
``resolve_path`` and ``format_value``, `info symbols` is ``symbol_listing``; their views come from
``wasmem.render``. The shell adds only what a session needs across steps: kept values (``$1``, ``$_``),
named snapshots, allocated blocks, the last call's changed bytes and trap.

``Shell.execute(line)`` runs one line and raises on an error (a script stops there); ``Shell.onecmd``
prints the error and carries on (the interactive prompt: errors never leave the shell). The commands live
by topic in commands/ (each a mixin of ``Shell``) and declare in the registry (registry.py) where they may
run and whether they run the module's code; ``execute`` knows none of them by name: it refuses a live-only
command on a coredump and runs the topics' code displays (watch hits, heap findings) around a command that
runs code.
"""

from __future__ import annotations

from ..deadline import TimedOut, governing
from ..errors import UsageError, WasmemError
from ..model.ranges import ByteRanges
from .commands.calls import CallsCommands
from .commands.heap import HeapCommands
from .commands.info import InfoCommands
from .commands.memory import MemoryCommands
from .commands.script import ScriptCommands
from .commands.session import SessionCommands
from .commands.state import StateCommands
from .commands.watch import WatchCommands, watch_slot_spec
from .registry import (
    ALIASES,
    COMMANDS,
    INFO_TOPICS,
    PROMPT,
    AssertionFailed,
    Command,
    Output,
    Quit,
    command,
)
from .words import Word, arithmetic, split_words, substitute


class Shell(CallsCommands, MemoryCommands, StateCommands, WatchCommands, HeapCommands, InfoCommands,
            ScriptCommands, SessionCommands):
    """A live session of ``path`` and the state the commands share. ``console`` is a rich console from
    ``wasmem.render.common.make_console``; ``options`` are Session keywords; ``alloc`` names the
    allocator ("NAME[,FREE]") for `alloc` and for `s:` call arguments.

    With ``core`` (a coredump of the module) the session is that dump, read-only (``app.core``):
    the reading commands work on the dumped memory and globals, `bt` shows the dump's frames, and the
    commands that would run code or change memory (``Command.live``) are refused."""

    def __init__(self, path, *, console=None, options: dict | None = None, alloc: str | None = None,
                 view=None, core=None, watch_slots: int = 0, watch_reads: bool = False, heap: bool = False,
                 allocator: str | None = None, host_calls: str = "summary"):
        from ..app import open_session, symbols_for
        from ..render.common import make_console

        self.path = path
        self.options = dict(options or {})
        self.alloc = alloc
        self.host_calls = host_calls  # how `call` lists the host-import calls: summary, all, none
        self.console = console or make_console()
        self.core = core
        self.watch_ids: list[int] = []  # the number `watch` gave each target of the recorder, in its order
        self.watch_next = 1
        self.watch_last = 0  # hits of the last command that ran code (`assert watch.hits == 1`)
        self.watch_access = "rw" if watch_reads else "w"  # --watch-reads: loads are checked (and reported) too
        if (watch_slots or watch_reads) and core is not None:
            raise UsageError(f"{'--watch-slots' if watch_slots else '--watch-reads'}: a coredump session runs nothing "
                             f"to watch")
        self.allocator = allocator  # --allocator: the functions heap tracking hooks, when not found by name
        self.heap_seen = 0  # heap findings already shown
        if (heap or allocator) and core is not None:
            raise UsageError(f"{'--heap' if heap else '--allocator'}: a coredump session runs nothing to track")
        if allocator and not heap:
            raise UsageError("--allocator names the functions --heap tracks: give --heap too (or use --alloc for "
                             "the function `alloc` calls)")
        if watch_slots or heap:
            from ..app import load_module

            path = load_module(path)
        if watch_slots:
            self.options["watch"] = watch_slot_spec(watch_slots, path, watch_reads)
        if heap:
            self.options["heap"] = self._heap_spec(path)
        if core is not None:
            from ..app.core import open_core_session

            self.session = open_core_session(path, core)
        else:
            self.session = open_session(path, **self.options)
            self._heap_notes(self.session)
        self.symbols = symbols_for(self.session.module)
        self.values: list = []
        self.last = None
        self.snapshots: dict = {}
        self.blocks: dict[int, object] = {}  # address → runtime.liveops.AllocatedBlock
        self.changed = ByteRanges()  # bytes the last call changed (highlighted by x/dump/view)
        self.last_call = None  # CallOutcome
        self.trap_call = None  # the last CallOutcome that trapped (for bt)
        self.view = view  # callable(shell) that runs the full-screen view (None: not available here)

    # -- running lines --------------------------------------------------------------------------
    def close(self) -> None:
        self.session.close()

    def print(self, *renderables) -> None:
        for r in renderables:
            self.console.print(r, crop=False)

    def onecmd(self, line: str) -> bool:
        """Runs a line, printing any error instead of raising it. False after `quit`."""
        from ..render.shell import error_line

        try:
            self.execute(line)
        except Quit:
            return False
        except WasmemError as exc:
            self.print(error_line(str(exc) or type(exc).__name__))
        except KeyboardInterrupt:
            self.print(error_line("interrupted"))
        except Exception as exc:  # noqa: BLE001 - a bug in a command must not end the session
            self.print(error_line(f"internal error: {type(exc).__name__}: {exc}"))
        return True

    def execute(self, line: str) -> Output:
        words = split_words(line)
        if not words:
            return Output()
        head = words[0].text
        name, slash, fmt = head.partition("/")
        name = ALIASES.get(name, name)
        cmd = COMMANDS.get(name)
        if cmd is None:
            close = [c for c in COMMANDS if c.startswith(name[:1])] if name else []
            hint = f" (commands starting with {name[:1]!r}: {', '.join(sorted(close))})" if close else ""
            raise UsageError(f"unknown command {head!r}{hint}; `help` lists them")
        if slash and not cmd.takes_format:
            raise UsageError(f"{name} takes no /FORMAT (only x/NFMT does)")
        if cmd.needs == "live" and self.core is not None:
            raise UsageError(self.refusal(name))
        method = getattr(self, cmd.method)
        args = (fmt, words[1:]) if cmd.takes_format else (words[1:],)
        self.start_deadline()
        try:
            with governing(self.options.get("deadline")):  # the command's own, for lazy work (a first DWARF read)
                if not cmd.runs_code:
                    return method(*args)
                # the topics' displays around a command that runs the module's code, in order: watch hits, heap
                # findings
                shown = [(after, before(line)) for before, after in self.code_displays()]
                out = method(*args)
                for after, token in shown:
                    after(token)
                return out
        except TimedOut as exc:  # a compile (reset, the first watch or heap) the deadline stopped
            raise TimedOut(f"{exc}; the shell goes on with the instance it had", abandoned=exc.abandoned) from None

    def start_deadline(self) -> None:
        """With a deadline in the options (``--timeout`` given), each command gets its own of the same seconds,
        from the command's start, which bounds what it runs: compiling a reopened instance, its calls, its
        reports. Without one, each call has its own timeout only."""
        from ..deadline import Deadline

        given = self.options.get("deadline")
        if given is None:
            return
        d = Deadline(given.seconds)
        self.options["deadline"] = d
        if self.core is None:
            self.session.deadline = d

    def code_displays(self) -> list:
        """(before(line) → token, after(token)) pairs that show what a command running code caused."""
        return [(self.watch_before_code, self.watch_after_code), (lambda line: None, self.heap_after_code)]

    def announce(self) -> None:
        """What a coredump session is, said once when it opens (and the dump's notes, e.g. another file
        name for the module)."""
        import os

        from ..render.shell import message

        if self.core is None:
            return
        sp = self.session.get_sp()
        frames = len(self.session.view.frames)
        self.print(message(f"coredump {os.path.basename(os.fspath(self.core))} of {self.session.module_name}: "
                           f"{frames} frame{'' if frames == 1 else 's'}"
                           f"{'' if sp is None else f', stack pointer {sp:#x}'}; read-only (`bt` shows the "
                           f"frames, `help` what works here)", "dim"))
        for note in self.session.notes:
            self.print(message(f"note: {note}", "yellow"))

    def refusal(self, name: str) -> str:
        """Why ``name`` does not run here: the session is a coredump, which nothing may run in or change."""
        import os

        return (f"{name}: this session is the coredump {os.path.basename(os.fspath(self.core))}, read-only: "
                f"nothing runs in it and its memory and globals stay as the crash left them")

    # -- helpers --------------------------------------------------------------------------------
    def _text(self, w: Word) -> str:
        return w.text if w.quoted else substitute(w.text, self.values, self.last)

    def _keep(self, value, note: str | None = None) -> str:
        from ..render.shell import value_line

        self.values.append(value)
        self.last = value
        name = f"${len(self.values)}"
        self.print(value_line(name, value, note))
        return name

    def _read(self, addr: int, n: int) -> bytes:
        return self.session.read(addr, n)

    def address(self, text: str) -> int:
        """An address expression: a number, arithmetic over numbers and $N, ``sp``, a global, a symbol path
        (``config.meta``, ``node_a->next``), ``name+0x10``."""
        return self.target(text).address

    def target(self, text: str):
        from ..app import Target, resolve_target

        t = substitute(text, self.values, self.last)
        v = arithmetic(t)
        if isinstance(v, int):
            if v < 0:
                raise UsageError(f"address {text!r} is negative ({v})")
            return Target(t, v, None, None, self.symbols.label(v))
        return resolve_target(t, self.symbols, self._read, self.session.resolve_address)

    def _need(self, words: list[Word], n: int, usage: str, most: int | None = None) -> None:
        if len(words) < n or (most is not None and len(words) > most):
            raise UsageError(f"usage: {usage}")

    def _int(self, w: Word, what: str) -> int:
        v = arithmetic(self._text(w))
        if not isinstance(v, int):
            raise UsageError(f"{what}: {w.text!r} is not a number")
        return v


__all__ = ["Shell", "COMMANDS", "ALIASES", "PROMPT", "INFO_TOPICS", "AssertionFailed", "Quit", "Command",
           "command", "watch_slot_spec"]
