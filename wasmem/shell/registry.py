"""The shell's command registry: each command's name, usage, help, what completes at its arguments, where it
may run (``needs``: "live" for a command that runs code or changes memory, refused on a coredump; "any"),
whether it runs the module's code (then the topics' displays run around it: watch hits, heap findings) and
whether it takes a /FORMAT (x/NFMT). Topics (commands/) register their commands with ``@command``."""

from __future__ import annotations

from dataclasses import dataclass, field

from ..errors import CheckFailed

PROMPT = "(wasmem) "
SCALAR_READERS = {"i8": ("<b", 1), "u8": ("<B", 1), "i16": ("<h", 2), "u16": ("<H", 2), "i32": ("<i", 4),
                  "u32": ("<I", 4), "i64": ("<q", 8), "u64": ("<Q", 8), "f32": ("<f", 4), "f64": ("<d", 8)}
# gdb's x/FMT letters → wasmem's dump formats
X_FORMATS = {"x": "hex", "b": "hex", "d": "i32", "u": "u32", "w": "u32", "h": "u16", "g": "u64", "f": "f64",
             "a": "ptr", "c": "u8"}
DUMP_FORMATS = ("hex", "i8", "u8", "i16", "u16", "i32", "u32", "i64", "u64", "f32", "f64", "ptr")
INFO_TOPICS = ("exports", "imports", "globals", "regions", "symbols", "memory", "sp")
MAX_STR = 4096
HEAP_VALUES = ("heap.live", "heap.bytes", "heap.findings", "heap.allocations", "heap.frees")  # assert operands
DEFAULT_WATCH_SLOTS = 8  # the watch ranges a shell's instance is rewritten for at its first `watch`
MAX_DUMP = 1 << 20  # one x/dump shows at most 1 MiB
ALIASES = {"print": "p", "exit": "quit", "q": "quit", "backtrace": "bt", "?": "help", "examine": "x"}


class Quit(Exception):
    """`quit`: the interactive loop ends."""


class AssertionFailed(CheckFailed):
    """A failed `assert` line (exit status 1 in a script)."""


@dataclass
class Command:
    name: str
    usage: str
    summary: str
    details: str = ""
    args: tuple[str, ...] = ()  # what completes at each argument: "export", "address", "info", "command", "snap"
    method: str = ""
    needs: str = "any"  # "live": runs code or changes memory, refused in a coredump session; "any"
    runs_code: bool = False  # runs the module's code: the code displays (watch hits, heap findings) follow it
    takes_format: bool = False  # NAME/FORMAT (x/NFMT): the method gets (format, words)
    topic: str = ""

    @property
    def live(self) -> bool:
        return self.needs == "live"


COMMANDS: dict[str, Command] = {}
# the topics (commands/) in the order `help` lists them; within a topic, commands keep their definition order
TOPICS = ("calls", "memory", "state", "watch", "heap", "info", "script", "session")


def in_help_order() -> list[Command]:
    """Every command, by topic (TOPICS), whatever order the topics' modules were imported in."""
    rank = {t: i for i, t in enumerate(TOPICS)}
    return sorted(COMMANDS.values(), key=lambda c: rank.get(c.topic, len(TOPICS)))


def command(name: str, usage: str, summary: str, details: str = "", args: tuple[str, ...] = (),
            live: bool = False, runs_code: bool = False, takes_format: bool = False, method: str | None = None):
    """Registers the decorated method as the command ``name`` (``method``: another method runs it)."""
    def deco(fn):
        topic = fn.__module__.rsplit(".", 1)[-1]
        COMMANDS[name] = Command(name, usage, summary, details, args, method or fn.__name__,
                                 "live" if live else "any", runs_code, takes_format, topic)
        return fn
    return deco


@dataclass
class Output:
    """What a line produced besides printing: the values it kept (for tests and scripts)."""

    kept: list = field(default_factory=list)
