"""`wasmem shell`: one live instance and a gdb-like command language over the library.

Every command is a thin use of what the one-shot commands use: `call` is ``call_function`` on the live
session, `x`/`dump` are ``dump_memory``, `chase` is ``chase_memory``, `p` is the symbol table's
``resolve_path`` and ``format_value``, `info symbols` is ``symbol_listing``; their views come from
``wasmem.render``. The shell adds only what a session needs across steps: kept values (``$1``, ``$_``),
named snapshots, allocated blocks, the last call's changed bytes and trap.

``Shell.execute(line)`` runs one line and raises on an error (a script stops there); ``Shell.onecmd``
prints the error and carries on (the interactive prompt: errors never leave the shell).
"""

from __future__ import annotations

import math
import struct
from dataclasses import dataclass, field

from ..errors import CheckFailed, RunError, UsageError, WasmemError
from .words import Word, arithmetic, parse_hex, split_words, substitute, substitute_value

PROMPT = "(wasmem) "
SCALAR_READERS = {"i8": ("<b", 1), "u8": ("<B", 1), "i16": ("<h", 2), "u16": ("<H", 2), "i32": ("<i", 4),
                  "u32": ("<I", 4), "i64": ("<q", 8), "u64": ("<Q", 8), "f32": ("<f", 4), "f64": ("<d", 8)}
# gdb's x/FMT letters → wasmem's dump formats
X_FORMATS = {"x": "hex", "b": "hex", "d": "i32", "u": "u32", "w": "u32", "h": "u16", "g": "u64", "f": "f64",
             "a": "ptr", "c": "u8"}
DUMP_FORMATS = ("hex", "i8", "u8", "i16", "u16", "i32", "u32", "i64", "u64", "f32", "f64", "ptr")
INFO_TOPICS = ("exports", "imports", "globals", "regions", "symbols", "memory", "sp")
MAX_STR = 4096
RUNS_CODE = ("call", "alloc", "free")  # the commands that run the module's code: their watch hits are shown
HEAP_VALUES = ("heap.live", "heap.bytes", "heap.findings", "heap.allocations", "heap.frees")  # assert operands
DEFAULT_WATCH_SLOTS = 8  # the watch ranges a shell's instance is rewritten for at its first `watch`
MAX_DUMP = 1 << 20  # one x/dump shows at most 1 MiB


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
    live: bool = False  # runs code or changes memory: refused in a coredump session


COMMANDS: dict[str, Command] = {}


def command(name: str, usage: str, summary: str, details: str = "", args: tuple[str, ...] = (),
            live: bool = False):
    def deco(fn):
        COMMANDS[name] = Command(name, usage, summary, details, args, fn.__name__, live)
        return fn
    return deco


ALIASES = {"print": "p", "exit": "quit", "q": "quit", "backtrace": "bt", "?": "help", "examine": "x"}


@dataclass
class Output:
    """What a line produced besides printing: the values it kept (for tests and scripts)."""

    kept: list = field(default_factory=list)


class Shell:
    """A live session of ``path`` and the state the commands share. ``console`` is a rich console from
    ``wasmem.render.common.make_console``; ``options`` are Session keywords; ``alloc`` names the
    allocator ("NAME[,FREE]") for `alloc` and for `s:` call arguments.

    With ``core`` (a coredump of the module) the session is that dump, read-only (``app.core``):
    the reading commands work on the dumped memory and globals, `bt` shows the dump's frames, and the
    commands that would run code or change memory (``Command.live``) are refused."""

    def __init__(self, path, *, console=None, options: dict | None = None, alloc: str | None = None,
                 view=None, core=None, watch_slots: int = 0, watch_reads: bool = False, heap: bool = False,
                 allocator: str | None = None):
        from ..app import open_session, symbols_for
        from ..render.common import make_console

        self.path = path
        self.options = dict(options or {})
        self.alloc = alloc
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
        self.blocks: dict[int, object] = {}  # address → runtime.liveops.Block
        self.changed: set[int] = set()  # bytes the last call changed (highlighted by x/dump/view)
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
        if slash and name != "x":
            raise UsageError(f"{name} takes no /FORMAT (only x/NFMT does)")
        if cmd.live and self.core is not None:
            raise UsageError(self.refusal(name))
        rest = words[1:]
        if name == "x":
            return self.cmd_x(fmt, rest)
        rec = self._recorder() if name in RUNS_CODE else None
        if rec is None:
            out = getattr(self, cmd.method)(rest)
        else:
            first, notes = len(rec.report.hits), len(rec.report.notes)
            rec.call_label = line.strip()[:80]
            out = getattr(self, cmd.method)(rest)
            self._show_hits(rec, first, notes)
        if name in RUNS_CODE:
            self._show_heap_findings()
        return out

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

    # -- calls ----------------------------------------------------------------------------------
    @command("call", "call FUNC [ARGS...]", "Call an export; its results are kept as $N.",
             "Arguments as `wasmem call` takes them (numbers, s:TEXT, b:HEX, z:TEXT, p:HEX) and $N or $_. "
             "Each result is kept as the next $N; a struct returned through a hidden pointer keeps its "
             "address. The call view shows what changed in memory; x/dump/view highlight those bytes until "
             "the next call. After a trap, `bt` shows the backtrace again.", ("export",), live=True)
    def cmd_call(self, words):
        from ..app import call_function
        from ..render.call import render_call

        self._need(words, 1, "call FUNC [ARGS...]")
        func = words[0].text
        args = [self._text(w) for w in words[1:]]
        outcome = call_function(self.session, func, args, alloc=self.alloc)
        r = outcome.result
        self.last_call = outcome
        self.changed = {i for c in r.changes if c.memory == 0 for i in range(c.start, c.end)
                        if c.before[i - c.start] != c.after[i - c.start]}
        self.print(render_call(outcome))
        out = Output()
        if r.trap is not None:
            self.trap_call = outcome
            return out
        if r.sret is not None:
            out.kept.append(self._keep(r.sret.address, "sret result address: a stack slot the next call may reuse"))
        for i, v in enumerate(r.results):
            out.kept.append(self._keep(v, outcome.result_notes.get(i)))
        return out

    @command("bt", "bt", "The backtrace of the last call that trapped (in a coredump: the dump's frames).",
             "In a coredump session `bt` shows the frames as `wasmem backtrace` does: names, offsets, file:line "
             "and the variables the dump gives.", args=())
    def cmd_bt(self, words):
        from ..render.call import trap_panel
        from ..render.shell import message

        if self.core is not None:
            from ..render.backtrace import BacktraceView

            self.print(BacktraceView(self.session.backtrace()))
            return Output()
        if self.trap_call is None:
            self.print(message("no call has trapped in this session", "dim"))
            return Output()
        self.print(trap_panel(self.trap_call.result, self.trap_call.frame_locations))
        return Output()

    # -- memory views ---------------------------------------------------------------------------
    def cmd_x(self, fmt: str, words):
        """x/NFMT ADDR (see `help x`)."""
        import re

        self._need(words, 1, "x/NFMT ADDR", 1)
        m = re.fullmatch(r"(\d*)([a-z]\w*)?", fmt or "")
        if not m:
            raise UsageError(f"x/{fmt}: give a count and a format, e.g. x/32x, x/4i32, x/8d")
        count = int(m.group(1)) if m.group(1) else None
        unit = m.group(2) or "x"
        if unit == "s":
            return self._show_string(self._text(words[0]), count or MAX_STR)
        f = X_FORMATS.get(unit, unit)
        if f not in DUMP_FORMATS:
            raise UsageError(f"x/{fmt}: unknown format {unit!r}; use one of "
                             f"{', '.join(sorted(X_FORMATS))}, s, or {', '.join(DUMP_FORMATS)}")
        size = 1 if f == "hex" else (4 if f == "ptr" and not self.session.is64 else
                                     8 if f == "ptr" else SCALAR_READERS[f][1])
        n = (count if count is not None else (64 if f == "hex" else 8)) * size
        return self._dump(self._text(words[0]), n, f)

    @command("x", "x/NFMT ADDR", "Examine memory: N units of FMT at ADDR (x/64x, x/8i32, x/4f64, x/s).",
             "FMT is a wasmem format (hex i8 u8 i16 u16 i32 u32 i64 u64 f32 f64 ptr) or a gdb letter: x/b hex "
             "bytes, d i32, u/w u32, h u16, g u64, f f64, a pointers, c u8, s a C string. N counts units "
             "(default 64 bytes of hex, 8 values). Bytes the last call changed are highlighted.",
             ("address",))
    def _x_doc(self, words):  # pragma: no cover - x is dispatched to cmd_x with its /FMT
        return self.cmd_x("", words)

    @command("dump", "dump ADDR [LEN] [FMT]", "Memory as `wasmem dump` shows it (LEN default: the symbol's size, "
             "else 256).", "FMT: hex (default) or a typed format (i32, f64, ptr, …).", ("address",))
    def cmd_dump(self, words):
        self._need(words, 1, "dump ADDR [LEN] [FMT]", 3)
        length = self._int(words[1], "LEN") if len(words) > 1 else None
        fmt = words[2].text if len(words) > 2 else "hex"
        return self._dump(self._text(words[0]), length, fmt)

    def _dump(self, at: str, length, fmt: str) -> Output:
        from ..app import dump_memory
        from ..render.dump import dump_renderable

        if length is not None and not 0 <= length <= MAX_DUMP:
            raise UsageError(f"{length} bytes: show from 0 to {MAX_DUMP} bytes at a time")
        t = self.target(at)
        outcome = dump_memory(self.session, f"{t.address:#x}" if t.type is None and t.size is None else at,
                              length if length is not None else t.size, fmt=fmt, changed=self.changed)
        self.print(dump_renderable(outcome))
        return Output()

    @command("chase", "chase ADDR [DEPTH]", "Follow pointers from ADDR or a symbol, as `wasmem chase` does.",
             args=("address",))
    def cmd_chase(self, words):
        from ..app import chase_memory
        from ..render.chase import render_chase

        self._need(words, 1, "chase ADDR [DEPTH]", 2)
        depth = self._int(words[1], "DEPTH") if len(words) > 1 else 4
        at = self._text(words[0])
        if arithmetic(at) is not None:
            at = f"{self.address(at):#x}"
        outcome = chase_memory(self.session, at, depth=depth, alloc=self.alloc)
        self.print(render_chase(outcome))
        return Output()

    @command("str", "str ADDR [MAX]", "The C string at ADDR (up to MAX bytes, default 4096); kept as $N.",
             "A symbol path of pointer type (config.title, names[1]) reads where the pointer points; x/s reads "
             "at the address itself.", args=("address",))
    def cmd_str(self, words):
        self._need(words, 1, "str ADDR [MAX]", 2)
        limit = self._int(words[1], "MAX") if len(words) > 1 else MAX_STR
        return self._show_string(self._text(words[0]), limit)

    def _show_string(self, at: str, limit: int) -> Output:
        from ..debuginfo import read_c_string

        if not 1 <= limit <= 1 << 20:
            raise UsageError(f"MAX {limit}: from 1 to {1 << 20} bytes")
        addr = self._string_address(at)
        self.session.read(addr, 1)  # bounds
        text, complete = read_c_string(self._read, addr, limit)
        return Output([self._keep(text, None if complete else f"(no NUL within {limit} bytes)")])

    def _string_address(self, at: str) -> int:
        """Where `str` reads: the address, or for a symbol path of pointer type (``config.title``,
        ``names[1]``) the address it holds."""
        from ..debuginfo import PointerType

        target = self.target(at)
        s = target.type.strip() if target.type is not None else None
        if isinstance(s, PointerType):
            return int.from_bytes(self._read(target.address, s.size or 4), "little")
        return target.address

    @command("p", "p EXPR", "Print a value: a symbol path with its DWARF type (p config, p names[2], "
             "p *node_a->next, p (Point)0x1000), a number or arithmetic over $N.",
             "A scalar is kept as $N (a pointer as its address, a char array as its text), an aggregate as "
             "its address. Without DWARF a symbol prints its address.", ("address",))
    def cmd_p(self, words):
        from ..debuginfo import format_value
        from ..render.value import ValueView

        self._need(words, 1, "p EXPR")
        expr = " ".join(self._text(w) if not w.quoted else w.text for w in words).strip()
        if len(words) == 1 and (words[0].quoted or self._var(words[0]) is not None):
            return Output([self._keep(words[0].text if words[0].quoted else self._var(words[0]))])
        num = arithmetic(expr)
        if num is not None:
            return Output([self._keep(num)])
        t, addr, label = self._typed(expr)
        if t is None:
            target = self.target(expr)
            note = target.label
            return Output([self._keep(target.address, note)])
        v = format_value(t, self._read, addr, label=label, depth=4, symbols=self.symbols)
        self.print(ValueView(v))
        kept = v.value if v.kind not in ("struct", "union", "class", "array") else v.address
        return Output([self._keep(kept)])

    def _typed(self, expr: str):
        """(type, address, label) for ``*PATH``, ``(TYPE)ADDR`` or a symbol path; (None, …) when untyped."""
        import re

        from ..debuginfo import PointerType

        cast = re.fullmatch(r"\(\s*([^()]+?)\s*\)\s*(.+)", expr)
        if cast:
            if not self.symbols.has_dwarf:
                raise UsageError("a cast needs DWARF types (build with -g)")
            tname, at = cast.groups()
            ptr = tname.endswith("*")
            t = self.symbols.find_type(tname.rstrip("*").strip())
            if t is None:
                raise UsageError(f"no type named {tname.rstrip('*').strip()!r} in the DWARF info")
            addr = self.address(at)
            if ptr:  # (T *)ADDR reads T at ADDR, as *(T *)ADDR would
                return t, addr, f"*({tname}){at}"
            return t, addr, expr
        if expr.startswith("*"):
            inner = expr[1:].strip()
            target = self.target(inner)
            s = target.type.strip() if target.type is not None else None
            if not isinstance(s, PointerType):
                raise UsageError(f"{inner} is not a pointer ({target.type.name if target.type else 'no type'}): "
                                 f"cannot dereference it")
            ptr = int.from_bytes(self._read(target.address, s.size or 4), "little")
            if ptr == 0:
                raise UsageError(f"{inner} is a null pointer")
            return s.pointee, ptr, expr
        target = self.target(expr)
        return target.type, target.address, expr

    # -- changing memory ------------------------------------------------------------------------
    @command("alloc", "alloc N [NAME[,FREE]]", "Allocate N bytes with the module's allocator; the address is kept "
             "as $N.",
             "Uses allocate, malloc, __wbindgen_malloc or cabi_realloc, or the export NAME (and FREE to give it "
             "back; default: the shell's --alloc), called as `call` calls it for an s: argument. `free` gives "
             "the block back.", live=True)
    def cmd_alloc(self, words):
        from ..runtime.liveops import allocate

        self._need(words, 1, "alloc N [NAME[,FREE]]", 2)
        block = allocate(self.session, self._int(words[0], "N"), words[1].text if len(words) > 1 else self.alloc)
        self.blocks[block.address] = block
        return Output([self._keep(block.address, f"{block.size} bytes via {block.alloc}")])

    @command("free", "free PTR", "Give back a block `alloc` made (with the allocator's free/deallocate).",
             args=("address",), live=True)
    def cmd_free(self, words):
        from ..render.shell import message
        from ..runtime.liveops import release

        self._need(words, 1, "free PTR", 1)
        addr = self.address(self._text(words[0]))
        block = self.blocks.get(addr)
        if block is None:
            have = ", ".join(f"{a:#x}" for a in sorted(self.blocks)) or "none"
            raise UsageError(f"{addr:#x} is not a block this shell allocated (blocks: {have})")
        release(self.session, block)
        del self.blocks[addr]
        self.print(message(f"freed {block.size} bytes at {addr:#x} with {block.free}", "dim"))
        return Output()

    @command("write", 'write ADDR HEX|"text"', 'Write bytes (de ad be ef) or quoted text ("hi\\0") at ADDR.',
             'Quoted text is UTF-8 with \\n \\t \\0 \\xHH escapes and no NUL added; unquoted words are hex.',
             ("address",), live=True)
    def cmd_write(self, words):
        from ..render.shell import message

        self._need(words, 2, 'write ADDR HEX|"text"')
        addr = self.address(self._text(words[0]))
        data = b""
        for w in words[1:]:
            data += w.text.encode("utf-8", "surrogateescape") if w.quoted else parse_hex(w.text)
        self.session.write(addr, data)
        self.print(message(f"wrote {len(data)} byte{'' if len(data) == 1 else 's'} at {addr:#x}", "dim"))
        return Output()

    @command("grow", "grow N", "Grow memory 0 by N pages (as memory.grow would, within the memory budget).", live=True)
    def cmd_grow(self, words):
        from ..render.shell import message
        from ..runtime.liveops import grow

        self._need(words, 1, "grow N", 1)
        before, after = grow(self.session, self._int(words[0], "N"))
        self.print(message(f"memory 0: {before} → {after} pages ({after * 65536} bytes)"))
        return Output([self._keep(before)])

    @command("snapshot", "snapshot NAME", "Save memory and globals under NAME (restore/diff use it).",
             args=("snap",), live=True)
    def cmd_snapshot(self, words):
        from ..render.shell import message

        self._need(words, 1, "snapshot NAME", 1)
        tr = self.session.heap_tracker
        self.snapshots[words[0].text] = (self.session.snapshot(), tr.state() if tr is not None else None, tr)
        self.print(message(f"snapshot {words[0].text!r} saved", "dim"))
        return Output()

    def _snap(self, words, usage, whole: bool = False):
        """The snapshot NAME names: the session's snapshot, or with ``whole`` (snapshot, heap tracker state or
        None, the tracker it was taken from)."""
        self._need(words, 1, usage, 1)
        snap = self.snapshots.get(words[0].text)
        if snap is None:
            have = ", ".join(sorted(self.snapshots)) or "none yet"
            raise UsageError(f"no snapshot named {words[0].text!r} (snapshots: {have})")
        return snap if whole else snap[0]

    @command("restore", "restore NAME", "Put memory and mutable globals back as snapshot NAME had them (and the heap tracker's "
             "blocks, when the heap is tracked).",
             args=("snap",), live=True)
    def cmd_restore(self, words):
        from ..render.shell import message

        snap, heap, tracker = self._snap(words, "restore NAME", whole=True)
        self.session.restore(snap)
        tr = self.session.heap_tracker
        note = ""
        if tr is not None and heap is not None and tr.compatible(tracker):  # the tracker's blocks as they were too
            tr.set_state(heap)
            self.heap_seen = min(self.heap_seen, len(tr.findings))
        elif tr is not None:
            note = " (the heap tracker was not running on this instance when it was saved: its blocks stay as now)"
        self.print(message(f"restored {words[0].text!r}{note}", "dim"))
        return Output()

    @command("diff", "diff NAME", "Bytes that changed since snapshot NAME.", args=("snap",), live=True)
    def cmd_diff(self, words):
        from ..render.call import changes_lines
        from ..render.shell import group
        from ..runtime.liveops import diff_snapshot

        changes = diff_snapshot(self.session, self._snap(words, "diff NAME"))
        self.print(group(changes_lines(changes, self.session.regions, f"since {words[0].text}")))
        return Output([self._keep(sum(c.size for c in changes), "bytes changed")])

    @command("reset", "reset", "A fresh instance of the module (kept values and snapshots stay; blocks go).", live=True)
    def cmd_reset(self, words):
        from ..app import open_session
        from ..render.shell import message

        fresh = open_session(self.session.module, **self.options)
        old = self._recorder()
        self.session.close()
        self.session = fresh
        self.blocks.clear()
        self.changed = set()
        self.trap_call = None
        self.print(message("a fresh instance", "dim"))
        self._heap_notes(fresh)
        self.heap_seen = 0
        if old is not None:  # the same watches on the fresh instance (re-resolved there)
            self._rewatch(old, fresh)
            if old.targets:
                self.print(message(f"watching again: {', '.join(t.text for t in old.targets)}", "dim"))
        return Output()

    def _rewatch(self, old, fresh) -> None:
        """``old``'s watch targets on the session ``fresh`` (rewritten with a watch pass too)."""
        from ..app.watch import resolve_watch_target, watch_resolver
        from ..runtime.watch import WatchRecorder

        rec = WatchRecorder(fresh, fresh.watch_pass, [], self.symbols, stop=False, access=self.watch_access,
                            resolve=watch_resolver(fresh, self.symbols))
        fresh.watch_recorder = rec
        rec.stop_targets = set(old.stop_targets)
        rec.set_targets([resolve_watch_target(t.text, fresh, self.symbols, pending_ok=True)
                         for t in old.targets], list(old.slots))

    def _reopen(self, options: dict) -> None:
        """Replaces the instance by one opened with ``options`` (rewritten for watching or heap tracking): memory
        and globals are carried over (``Session.reinstrument``), and so are the watches and the heap tracker's
        blocks. Host state (WASI files, output so far) and table entries set at run time are not."""
        changes = {k: v for k, v in options.items() if self.options.get(k) is not v}
        fresh = self.session.reinstrument(**changes)
        try:
            old_rec, old_heap = self._recorder(), self.session.heap_tracker
            if old_rec is not None:
                self._rewatch(old_rec, fresh)
            self._heap_notes(fresh)
            if old_heap is not None and not fresh.heap_tracker.adopt(old_heap):
                fresh.heap_tracker.notes.append("the instance was rewritten again and its allocation sites "
                                                "changed: the blocks allocated before were forgotten")
        except BaseException:
            fresh.close()
            raise
        self.session.close()
        self.session = fresh
        self.options = options

    # -- watchpoints ----------------------------------------------------------------------------
    def _recorder(self):
        return getattr(self.session, "watch_recorder", None)

    def _show_hits(self, rec, first: int, notes: int) -> None:
        from ..render.watch import HitsView

        hits = rec.report.hits[first:]
        self.watch_last = len(hits) + max(0, rec.report.dropped - getattr(self, "_dropped_seen", 0))
        self._dropped_seen = rec.report.dropped
        new_notes = rec.report.notes[notes:]
        if rec.targets or hits or new_notes:
            self.print(HitsView(rec.report, hits, new_notes))

    def _watching(self):
        """The session's recorder, made on the first `watch`. A session not rewritten for watching (no
        --watch-slots) is reopened rewritten, and its memories and globals are carried over."""
        from ..app.watch import watch_resolver
        from ..render.shell import message
        from ..runtime.watch import WatchRecorder

        rec = self._recorder()
        if rec is not None:
            return rec
        if self.session.watch_pass is None:
            self._reopen(dict(self.options, watch=watch_slot_spec(DEFAULT_WATCH_SLOTS, self.session.module,
                                                                  self.watch_access == "rw")))
            self.print(message(
                f"watch: the instance was reopened rewritten for {DEFAULT_WATCH_SLOTS} watch slots (every store"
                f"{' and load' if self.watch_access == 'rw' else ''} now checks them inline); its memory and globals were carried over, host state was not (WASI files, "
                f"stdout/stderr so far) nor table entries set at run time. Start with --watch-slots N to have "
                f"it rewritten from the start.", "yellow"))
        rec = WatchRecorder(self.session, self.session.watch_pass, [], self.symbols, stop=False,
                            resolve=watch_resolver(self.session, self.symbols),
                            access=self.watch_access)
        self.session.watch_recorder = rec
        return rec

    @command("watch", "watch [TARGET [--stop]]", "Report every write into TARGET after each command that runs code; "
             "`watch` alone lists the watches.",
             "TARGET as `call --watch` takes it: ADDR:LEN, a symbol or symbol path (settings.limit, names[2], "
             "head->value: re-resolved before every call), a region (.data, .bss, stack, heap), or sp on a "
             "data-first stack (writes below the stack's low end: an overflow running over the data). Hits are "
             "shown after each call (and alloc/free) as `call --watch` shows them; --stop makes a hit of this "
             "target a trap before the write (bt shows it). The first watch of a shell started without "
             "--watch-slots reopens the instance rewritten for watching (memory and globals carried over). "
             "With --watch-reads loads are reported too. assert watch.hits == N checks the last command's hits, "
             "watch.total all of them.",
             ("address",), live=True)
    def cmd_watch(self, words):
        from ..app.watch import resolve_watch_target
        from ..render.shell import message, table

        stop = any(not w.quoted and w.text == "--stop" for w in words)
        rest = [w for w in words if w.quoted or w.text != "--stop"]
        if not rest:
            if stop:
                raise UsageError("usage: watch TARGET --stop")
            rec = self._recorder()
            if rec is None or not rec.targets:
                self.print(message("no watches (watch TARGET sets one)", "dim"))
                return Output()
            rows = []
            for n, t in zip(self.watch_ids, rec.targets, strict=True):
                hits = sum(1 for h in rec.report.hits if t.text in h.targets)
                rng = ("not resolved yet" if t.start == t.end else f"[sp, {t.end:#x})" if t.dynamic else
                       f"[{t.start:#x}, {t.end:#x})")
                rows.append([n, t.text, rng, t.label or "", hits, "stop" if t.text in rec.stop_targets else ""])
            k = rec.wp.nranges - (rec.wp.sp_range is not None)
            slots = f"{k} slot{'' if k == 1 else 's'}" + (" and sp" if rec.wp.sp_range is not None else "")
            self.print(table(f"{len(rows)} watch{'es' if len(rows) != 1 else ''} ({slots}, "
                             f"{len(rec.wp.sites)} instructions checked)",
                             ["#", "target", "range", "at", "hits", ""], rows, right=(0, 4)))
            return Output()
        self._need(rest, 1, "watch [TARGET [--stop]]", 1)
        text = self._text(rest[0]).strip()
        is_sp = text.lower() == "sp"
        for n, t in zip(self.watch_ids, getattr(self._recorder(), "targets", ()), strict=True):
            if t.text.lower() == text.lower():
                raise UsageError(f"{text} is already watched (watch {n})")
        t = resolve_watch_target(text, self.session, self.symbols, pending_ok=True)  # before any reopen
        rec = self._watching()
        if is_sp:
            if rec.wp.sp_range is None:
                raise UsageError("watch sp: this instance was rewritten without a stack-overflow range")
            free = [rec.wp.sp_range]
        else:
            free = [k for k in range(rec.wp.nranges) if k not in rec.slots and k != rec.wp.sp_range]
        if not free:
            n = rec.wp.nranges - (rec.wp.sp_range is not None)
            raise UsageError(f"every watch slot ({n}) is in use: unwatch one, or start the shell with "
                             f"--watch-slots N (up to 63)")
        rec.set_targets([*rec.targets, t], [*rec.slots, free[0]])
        if stop:
            rec.stop_targets.add(t.text)
        n = self.watch_next
        self.watch_next += 1
        self.watch_ids.append(n)
        where = "not resolved yet (a null pointer): watched once it is" if t.start == t.end else \
            (f"[sp, {t.end:#x})" if t.dynamic else f"[{t.start:#x}, {t.end:#x})") + \
            (f" {t.label}" if t.label and t.label != t.text else "")
        self.print(message(f"watch {n}: {t.text} {where}{' (--stop)' if stop else ''}"))
        return Output()

    @command("unwatch", "unwatch N", "Remove watch N (`watch` lists them).", live=True)
    def cmd_unwatch(self, words):
        from ..render.shell import message

        self._need(words, 1, "unwatch N", 1)
        n = self._int(words[0], "N")
        rec = self._recorder()
        if rec is None or n not in self.watch_ids:
            have = ", ".join(str(i) for i in self.watch_ids) or "none"
            raise UsageError(f"no watch {n} (watches: {have})")
        k = self.watch_ids.index(n)
        t = rec.targets[k]
        rec.set_targets(rec.targets[:k] + rec.targets[k + 1:], rec.slots[:k] + rec.slots[k + 1:])
        rec.stop_targets.discard(t.text)
        del self.watch_ids[k]
        self.print(message(f"watch {n} ({t.text}) removed", "dim"))
        return Output()

    # -- heap tracking --------------------------------------------------------------------------
    def _heap_spec(self, module) -> dict:
        from ..app import symbols_for
        from ..app.heap import heap_spec

        return heap_spec(module, self.allocator, symbols_for(module))

    def _heap_notes(self, session) -> None:
        spec = self.options.get("heap")
        if spec and session.heap_tracker is not None:
            session.heap_tracker.notes[:0] = spec["notes"]

    def _heap_report(self):
        from ..app.heap import live_heap

        return live_heap(self.session, self.symbols)

    def _show_heap_findings(self) -> None:
        """The double and invalid frees the last command's code made (shown as they happen)."""
        tr = self.session.heap_tracker
        if tr is None:
            return
        tr.disarm()
        if len(tr.findings) > self.heap_seen:
            from ..render.heap import render_findings

            report = self._heap_report()
            report.findings = report.findings[self.heap_seen:]
            self.print(render_findings(report))
        self.heap_seen = len(tr.findings)

    def _heap_tracking(self):
        """The session's heap tracker; a session opened without one (no --heap) is reopened rewritten with
        the heap pass (and the watch pass it had), memory, globals, watches carried over."""
        from ..render.shell import message

        if self.session.heap_tracker is not None:
            return self.session.heap_tracker
        options = dict(self.options, heap=self._heap_spec(self.session.module))
        self._reopen(options)
        self.print(message(
            "heap: the instance was reopened with its allocator calls hooked; its memory and globals were carried "
            "over, host state was not (WASI files, stdout/stderr so far) nor table entries set at run time. Blocks "
            "allocated before now are not known to the tracker (freeing one is reported as an invalid free): start "
            "with --heap to track from the start.", "yellow"))
        return self.session.heap_tracker

    @command("heap", "heap [findings]", "The live heap blocks by allocating site, as `wasmem heap` shows them; "
             "`heap findings`: the double and invalid frees so far.",
             "Every call of the allocator is tracked, the module's own and the shell's (alloc, free, s: "
             "arguments go through the same hooked exports). The first `heap` of a shell started without --heap "
             "reopens the instance with the allocator hooked (memory and globals carried over; blocks allocated "
             "before are unknown to it). assert heap.live == N (live blocks), heap.bytes (live bytes), "
             "heap.findings, heap.allocations, heap.frees check the tracker.", ("heap",), live=True)
    def cmd_heap(self, words):
        from ..render.heap import render_findings, render_heap

        self._need(words, 0, "heap [findings]", 1)
        if words and words[0].text != "findings":
            raise UsageError(f"heap {words[0].text}: use `heap` or `heap findings`")
        self._heap_tracking()
        report = self._heap_report()
        self.heap_seen = len(report.findings)
        self.print(render_findings(report) if words else render_heap(report))
        return Output()

    # -- information ----------------------------------------------------------------------------
    @command("info", "info TOPIC", "What the module and the instance have: info exports, imports, globals, "
             "regions, symbols [GLOB], memory, sp.", args=("info",))
    def cmd_info(self, words):
        self._need(words, 1, "info " + "|".join(INFO_TOPICS), 2)
        topic = words[0].text
        if topic not in INFO_TOPICS:
            raise UsageError(f"info {topic}: use one of {', '.join(INFO_TOPICS)}")
        getattr(self, f"_info_{topic}")(words[1:])
        return Output()

    def _info_exports(self, words):
        from ..render.shell import table

        mod = self.session.module
        rows = []
        for e in mod.exports:
            what = ""
            if e.kind == "func":
                what = self.session.signature(e.name, e.index, mod.get_function_type(e.index))
            rows.append([e.name, e.kind, what])
        self.print(table(f"{len(rows)} exports", ["name", "kind", "type"], rows))

    def _info_imports(self, words):
        from ..render.shell import table

        rows = [[f"{i.module}.{i.name}", i.kind] for i in self.session.module.imports]
        self.print(table(f"{len(rows)} imports", ["name", "kind"], rows))

    def _info_globals(self, words):
        from ..render.shell import table
        from ..runtime.liveops import global_values

        rows = []
        for idx, name, vt, mut, v in global_values(self.session):
            shown = "(not visible to the host)" if v is None else (
                f"{v} ({v & 0xFFFFFFFF:#x})" if isinstance(v, int) and vt == "i32" else str(v))
            rows.append([idx, name, vt, "mut" if mut else "const", shown])
        self.print(table(f"{len(rows)} globals", ["#", "name", "type", "", "value"], rows, right=(0,)))

    def _info_regions(self, words):
        from ..render.shell import table

        rows = [[r.kind, f"{r.start:#x}", f"{r.end:#x}", r.size, r.label] for r in self.session.regions]
        self.print(table("regions of memory 0", ["kind", "start", "end", "bytes", "label"], rows, right=(3,)))

    def _info_symbols(self, words):
        from ..debuginfo import symbol_listing
        from ..render.symbols import SymbolsView

        pattern = words[0].text if words else None
        self.print(SymbolsView(symbol_listing(self.session.module, filter=pattern)))

    def _info_memory(self, words):
        from ..render.shell import table

        rows = []
        for i in sorted(self.session.memories):
            m = self.session.memory(i)
            rows.append([i, m.pages, m.size, m.min_pages, "none" if m.max_pages is None else m.max_pages,
                         "yes" if m.shared else "", m.imported or m.export or ""])
        self.print(table("memories", ["#", "pages", "bytes", "min", "max", "shared", "name"], rows,
                         right=(0, 1, 2, 3, 4)))

    def _info_sp(self, words):
        from ..render.shell import message

        sp = self.session.get_sp()
        if sp is None:
            self.print(message("this module has no known stack pointer"))
            return
        rng = self.session.stack_range
        where = f"; stack [{rng[0]:#x}, {rng[1]:#x}), {sp - rng[0]} bytes free below it" if rng else ""
        self.print(message(f"sp = {sp:#x} (global {self.session.sp_global}){where}"))
        self._keep(sp)

    # -- checks ---------------------------------------------------------------------------------
    @command("assert", "assert LHS OP RHS", "Stop a script (exit 1) unless the comparison holds.",
             'Operands: numbers and arithmetic, $N, "text", a symbol path (its typed value), '
             'bytes ADDR ("de ad be ef" on the other side gives the length), str ADDR, i8..u64/f32/f64 ADDR. '
             "OP: == != < <= > >=. Examples: assert $1 == 5; assert bytes 0x1000 == \"de ad be ef\"; "
             'assert str $1 == "HELLO"; assert config.version == 3.', ("address",))
    def cmd_assert(self, words):
        from ..render.shell import message

        ops = ("==", "!=", "<=", ">=", "<", ">")
        k = next((i for i, w in enumerate(words) if not w.quoted and w.text in ops), None)
        if k is None or k == 0 or k == len(words) - 1:
            raise UsageError("usage: assert LHS OP RHS (OP: == != < <= > >=)")
        op = words[k].text
        lhs_w, rhs_w = words[:k], words[k + 1:]
        rhs = self._operand(rhs_w, None)
        lhs = self._operand(lhs_w, rhs)
        if isinstance(lhs, (bytes, bytearray)) and isinstance(rhs, str):
            rhs = parse_hex(rhs)
        ok = _compare(lhs, op, rhs)
        from ..render.shell import value_text

        text = " ".join(w.text if not w.quoted else f'"{w.text}"' for w in words)
        if not ok:
            raise AssertionFailed(f"assertion failed: {text} (left side is {value_text(lhs)})")
        self.print(message(f"ok: {text}", "green"))
        return Output()

    def _var(self, w: Word):
        """The kept value a lone ``$N``/``$_`` word names (any type: a string too), else None."""
        from .words import VAR

        if w.quoted or not VAR.fullmatch(w.text):
            return None
        return substitute_value(w.text, self.values, self.last)

    def _operand(self, words: list[Word], other):
        if len(words) == 1 and words[0].quoted:
            return words[0].text
        if len(words) == 1 and self._var(words[0]) is not None:
            return self._var(words[0])
        head = words[0].text
        if head in ("watch.hits", "watch.total") and len(words) == 1:
            rec = self._recorder()
            if head == "watch.hits":
                return self.watch_last if rec is not None else 0
            return (len(rec.report.hits) + rec.report.dropped) if rec is not None else 0
        if head.startswith("heap.") and len(words) == 1:
            if head not in HEAP_VALUES:
                raise UsageError(f"{head}: use one of {', '.join(HEAP_VALUES)}")
            tr = self.session.heap_tracker
            if tr is None:
                raise UsageError(f"{head} needs heap tracking: start the shell with --heap, or run `heap` first "
                                 f"(it reopens the instance tracked)")
            tr.disarm()
            return {"heap.live": len(tr.live), "heap.bytes": tr.live_bytes, "heap.findings": len(tr.findings),
                    "heap.allocations": tr.allocations, "heap.frees": tr.frees}[head]
        if head in ("bytes", "str") or head in SCALAR_READERS:
            if len(words) not in (2, 3):
                raise UsageError(f"{head} ADDR{' [N]' if head == 'bytes' else ''}")
            addr = (self._string_address if head == "str" else self.address)(self._text(words[1]))
            if head == "str":
                from ..debuginfo import read_c_string

                self.session.read(addr, 1)
                return read_c_string(self._read, addr, MAX_STR)[0]
            if head == "bytes":
                if len(words) == 3:
                    n = self._int(words[2], "N")
                elif isinstance(other, str):
                    n = len(parse_hex(other))
                else:
                    raise UsageError("bytes ADDR N: give a length, or compare with \"hex bytes\"")
                return self._read(addr, n)
            f, size = SCALAR_READERS[head]
            return struct.unpack(f, self._read(addr, size))[0]
        expr = " ".join(self._text(w) for w in words)
        num = arithmetic(expr)
        if num is not None:
            return num
        if len(words) == 1 and words[0].text.startswith("$"):
            raise UsageError(f"{words[0].text} is not a number")
        from ..debuginfo import format_value

        t, addr, label = self._typed(expr)
        if t is None:
            return self.address(expr)
        v = format_value(t, self._read, addr, label=label, depth=1, symbols=self.symbols)
        if v.kind in ("struct", "union", "class", "array"):
            raise UsageError(f"{expr} is {v.type_name}: compare its members, or bytes {expr} == \"…\"")
        return v.value

    # -- the rest -------------------------------------------------------------------------------
    @command("view", "view [ADDR]", "The full-screen memory inspector on this instance (q returns here).",
             args=("address",))
    def cmd_view(self, words):
        if self.view is None:
            raise UsageError("view needs an interactive terminal (it is not available in a script)")
        at = self.address(self._text(words[0])) if words else None
        self.view(self, at)
        return Output()

    @command("help", "help [COMMAND]", "List the commands, or explain one.", args=("command",))
    def cmd_help(self, words):
        from ..render.shell import help_table, message

        if words:
            name = ALIASES.get(words[0].text, words[0].text.split("/")[0])
            cmd = COMMANDS.get(name)
            if cmd is None:
                raise UsageError(f"no command {words[0].text!r}; `help` lists them")
            self.print(message(cmd.usage, "bold"), message("  " + cmd.summary))
            if cmd.details:
                self.print(message("  " + cmd.details))
            if cmd.live and self.core is not None:
                self.print(message("  " + self.refusal(name), "yellow"))
            return Output()
        off = "(not in a coredump) "
        self.print(help_table([(c.usage, (off if c.live and self.core is not None else "") + c.summary)
                               for c in COMMANDS.values()]))
        self.print(message("Values: $1, $2, … and $_ (the last) stand for kept values in any argument. "
                           "Ctrl-D or `quit` leaves.", "dim"))
        return Output()

    @command("quit", "quit", "Leave the shell.")
    def cmd_quit(self, words):
        raise Quit


def watch_slot_spec(n: int, module, reads: bool = False) -> dict:
    """The Session ``watch`` option for a shell that can watch up to ``n`` targets (writes; ``reads``: loads
    too), and ``sp`` in one more range when the module has a data-first stack (what `call --watch sp` watches)."""
    from ..app import layout_facts
    from ..instrument.watch import MAX_RANGES

    if not 1 <= n <= MAX_RANGES - 1:
        raise UsageError(f"--watch-slots {n}: give 1 to {MAX_RANGES - 1}")
    layout, sp_global, stack_range, _ = layout_facts(module)
    sp = sp_global is not None and stack_range is not None and getattr(layout, "layout_kind", None) == "data-first"
    return {"ranges": n + sp, "reads": reads, "sp_range": n if sp else None}


def _compare(a, op: str, b) -> bool:
    if isinstance(a, float) or isinstance(b, float):
        if isinstance(a, (int, float)) and isinstance(b, (int, float)):
            if math.isnan(a) or math.isnan(b):
                return op == "!="
    if type(a) is not type(b) and not (isinstance(a, (int, float)) and isinstance(b, (int, float))):
        if op in ("==", "!="):
            return op == "!="
        raise UsageError(f"cannot compare {type(a).__name__} with {type(b).__name__} by {op}")
    try:
        return {"==": a == b, "!=": a != b, "<": a < b, "<=": a <= b, ">": a > b, ">=": a >= b}[op]
    except TypeError:
        raise UsageError(f"cannot compare {a!r} {op} {b!r}") from None


__all__ = ["Shell", "COMMANDS", "ALIASES", "PROMPT", "AssertionFailed", "Quit", "RunError"]
