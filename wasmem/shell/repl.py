"""The interactive prompt of `wasmem shell`: line editing, history and completion.

The line editor is prompt_toolkit. Reasons, against cmd2 (the other well-kept choice): prompt_toolkit is
pure Python with one small dependency (wcwidth) and needs no GNU readline, so completion and history work
the same on Linux, macOS and Windows; its ``Completer`` gets the whole line and the cursor, which
completing struct fields after ``config.meta.`` or ``node_a->`` needs; and it reads from a pipe as well
as from a terminal (``create_pipe_input``), so the tests drive real completion without a pseudo-terminal
emulator. cmd2 would bring its own command parser (argparse per command) and output layer beside the
shell's own words and rich views, and rests on readline, which macOS ships as libedit. The shell's
command language itself (core.py) does not depend on the editor: scripts never load it.
"""

from __future__ import annotations

import os
import re

from prompt_toolkit.completion import Completer, Completion

from .core import Shell
from .registry import ALIASES, COMMANDS, INFO_TOPICS, PROMPT
from .words import split_words

HISTORY_ENV = "WASMEM_HISTORY"  # a file for the prompt's history; "" keeps it in memory only
MAX_COMPLETIONS = 200
_PATH_TAIL = re.compile(r"^(?P<base>.*?)(?P<op>\.|->)(?P<part>[A-Za-z_$][\w$]*|)$")


def _typable(name: str) -> bool:
    return name.isprintable() and not any(c.isspace() for c in name)


def history_path() -> str | None:
    env = os.environ.get(HISTORY_ENV)
    if env is not None:
        return env or None
    base = os.environ.get("XDG_STATE_HOME") or os.path.join(os.path.expanduser("~"), ".local", "state")
    return os.path.join(base, "wasmem", "shell_history")


class ShellCompleter(Completer):
    """Completes command names, exported functions after `call`, topics after `info`, snapshot names,
    $N, data symbols and, after ``sym.`` / ``sym->`` / ``sym[2].``, the members of the struct there (through
    a pointer too: symbol paths read ``.`` and ``->`` alike)."""

    def __init__(self, shell: Shell):
        self.shell = shell

    def get_completions(self, document, complete_event):
        for text, start in self.candidates(document.text_before_cursor):
            yield Completion(text, start_position=start)

    def candidates(self, before: str) -> list[tuple[str, int]]:
        """(completion, start position relative to the cursor) for the text before the cursor."""
        try:
            words = split_words(before)
        except Exception:  # noqa: BLE001 - an open quote: nothing to complete
            return []
        if not before or before[-1].isspace():
            current = ""
            index = len(words)
        else:
            current = words[-1].text if words else ""
            index = len(words) - 1
        if index == 0:
            names = sorted(set(COMMANDS) | set(ALIASES))
            if self.shell.core is not None:  # a coredump session: only what runs there
                names = [n for n in names if not COMMANDS[ALIASES.get(n, n)].live]
            return self._starting(current, names)
        head = ALIASES.get(words[0].text.split("/")[0], words[0].text.split("/")[0])
        cmd = COMMANDS.get(head)
        kinds = cmd.args if cmd is not None else ()
        kind = kinds[min(index - 1, len(kinds) - 1)] if kinds else None
        if head == "call" and index > 1:
            kind = "value"
        if kind == "export":
            mod = self.shell.session.module
            return self._starting(current, [e.name for e in mod.exports if e.kind == "func"])
        if kind == "info":
            return self._starting(current, list(INFO_TOPICS))
        if kind == "command":
            return self._starting(current, sorted(COMMANDS))
        if kind == "heap":
            return self._starting(current, ["findings"])
        if kind == "snap":
            return self._starting(current, sorted(self.shell.snapshots))
        if kind in ("address", "value") and head == "assert" and current.startswith("heap."):
            from .registry import HEAP_VALUES

            return self._starting(current, list(HEAP_VALUES))
        if kind in ("address", "value"):
            return self._address(current)
        return []

    @staticmethod
    def _starting(current: str, names) -> list[tuple[str, int]]:
        # a name from the module that is not printable (or has a space) cannot be typed back: not offered
        return [(n, -len(current)) for n in names if n.startswith(current) and _typable(n)][:MAX_COMPLETIONS]

    def _address(self, current: str) -> list[tuple[str, int]]:
        if current.startswith("$"):
            keys = [f"${i}" for i in range(1, len(self.shell.values) + 1)] + (["$_"] if self.shell.values else [])
            return self._starting(current, keys)
        star = current.startswith("*")
        cur = current[1:] if star else current
        m = _PATH_TAIL.match(cur)
        if m and m.group("base"):
            return [(name, -len(m.group("part"))) for name in self._members(m.group("base"), m.group("op"))
                    if name.startswith(m.group("part")) and _typable(name)][:MAX_COMPLETIONS]
        names = sorted({s.display_name for s in self.shell.symbols.data_symbols if s.display_name})
        return [(n, -len(cur)) for n in names if n.startswith(cur) and _typable(n)][:MAX_COMPLETIONS]

    def _members(self, base: str, op: str) -> list[str]:
        from ..debuginfo import PointerType, StructType

        try:
            t = self.shell.target(base).type
        except Exception:  # noqa: BLE001 - an incomplete or unknown path: nothing to offer
            return []
        s = t.strip() if t is not None else None
        if isinstance(s, PointerType):  # `->` (and `.`, as symbol paths take it) steps through a pointer
            s = s.pointee.strip()
        if not isinstance(s, StructType):
            return []
        return [mem.name for mem in s.members if mem.name]


def interact(shell: Shell, *, input=None, output=None) -> int:
    """The prompt loop: reads lines until `quit` or end of input (Ctrl-D). ``input``/``output`` are
    prompt_toolkit's (a pipe input in tests). Returns 0."""
    from prompt_toolkit import PromptSession
    from prompt_toolkit.history import FileHistory, InMemoryHistory

    history = InMemoryHistory()
    path = history_path()
    if path:
        try:
            os.makedirs(os.path.dirname(path) or ".", exist_ok=True)
            with open(path, "a", encoding="utf-8"):
                pass
            history = FileHistory(path)
        except OSError:
            pass
    prompt = PromptSession(history=history, completer=ShellCompleter(shell), complete_while_typing=False,
                           input=input, output=output)
    while True:
        try:
            # an error inside the prompt ends the loop (one error line from the CLI) instead of prompt_toolkit's
            # "press ENTER to continue", which spins for ever once the input has ended
            line = prompt.prompt(PROMPT, set_exception_handler=False)
        except KeyboardInterrupt:
            continue
        except EOFError:
            break
        if not shell.onecmd(line):
            break
    return 0
