"""`wasmem backtrace`: the frames of a coredump, youngest first, named through the module."""

from __future__ import annotations

from rich.console import Console, ConsoleOptions, Group, RenderResult
from rich.text import Text

from .common import fmt_addr, fmt_bytes, shown

SHOW_FIRST, SHOW_LAST = 100, 20  # frames shown of a longer backtrace


def _value(v) -> str:
    if v.type is None:
        return "<missing>"
    return f"{v.value}:{v.type}"


class BacktraceView:
    """Renders a ``wasmem.model.coredump.Backtrace``."""

    def __init__(self, bt):
        self.bt = bt

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        bt = self.bt
        yield Text(shown(bt.core or "<coredump>"), style="bold")
        head = [f"  module {shown(bt.module or '?')}"]
        if bt.executable:
            head.append(f"executable {shown(bt.executable)}")
        if bt.thread:
            head.append(f"thread {shown(bt.thread)}")
        yield Text(", ".join(head), style="dim")
        facts = []
        if bt.stack_pointer is not None:
            facts.append(f"stack pointer {fmt_addr(bt.stack_pointer)}")
        if bt.memory_pages is not None:
            facts.append(f"memory {bt.memory_pages} pages ({fmt_bytes(bt.memory_pages * 65536)})")
        if bt.symbols_from:
            facts.append(f"symbols from {shown(bt.symbols_from)}")
        if facts:
            yield Text("  " + "; ".join(facts), style="dim")
        for n in bt.notes:
            yield Text(f"  note: {shown(n)}", style="yellow")
        if not bt.frames:
            yield Text("  no frames recorded", style="dim")
            return
        frames = bt.frames
        if len(frames) > SHOW_FIRST + SHOW_LAST:  # a deep recursion: its ends, and how much is left out
            frames = [*frames[:SHOW_FIRST], None, *frames[-SHOW_LAST:]]
        for f in frames:
            if f is None:
                yield Text(f"  … {len(bt.frames) - SHOW_FIRST - SHOW_LAST} frames not shown (--json has them "
                           f"all) …", style="dim")
                continue
            line = Text(f"  #{f.index:<3}")
            line.append(shown(f.name or f"func[{f.func_index}]"), style="bold")
            if f.location:
                line.append(f"  {shown(f.location)}", style="cyan")
            where = f"func {f.func_index} +{f.code_offset:#x}"
            if f.module_offset is not None:
                where += f" (file offset {f.module_offset:#x})"
            if f.host:
                where += f" host import {shown(f.host)}"
            line.append(f"  {where}", style="dim")
            yield line
            if f.frame_base is not None and f.variables and not f.locals:
                yield Text(f"        frame base {fmt_addr(f.frame_base)} (worked out from the stack pointer)",
                           style="dim")
            if f.locals:
                yield Text("        locals: " + ", ".join(f"{i}={_value(v)}" for i, v in enumerate(f.locals)),
                           style="dim")
            for name, kind, tname, text in f.variables:
                t = Text(f"        {'param' if kind == 'parameter' else 'var  '} ")
                t.append(shown(name), style="green")
                if tname:
                    t.append(f" ({shown(tname)})", style="dim")
                t.append(f" = {shown(text)}")
                yield t
            if f.stack:
                yield Text("        stack: " + ", ".join(_value(v) for v in f.stack), style="dim")


class CrashFactsView:
    """The lines `inspect --core` adds: the state in the coredump (``debuginfo.frames.crash_facts``)."""

    def __init__(self, facts: dict):
        self.facts = facts

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        f = self.facts
        yield Text("")
        yield Text.assemble(("coredump ", "bold"), shown(f["file"] or ""))
        parts = []
        if f["memory_pages"] is not None:
            parts.append(f"memory {f['memory_pages']} pages ({fmt_bytes(f['memory_pages'] * 65536)})")
        if f["stack_pointer"] is not None:
            sp = f"stack pointer {fmt_addr(f['stack_pointer'])}"
            if f["stack_used"] is not None:
                sp += f" ({fmt_bytes(f['stack_used'])} of the stack in use)"
            parts.append(sp)
        if parts:
            yield Text("  " + "; ".join(parts))
        if f["frames"]:
            yield Text("  frames: " + " ← ".join(shown(n) for n in f["frames"]), style="dim")
        for n in f["notes"]:
            yield Text(f"  note: {shown(n)}", style="yellow")


def with_crash_facts(view, facts: dict) -> Group:
    """``view`` (the inspect view) followed by the state in a coredump."""
    return Group(view, CrashFactsView(facts))
