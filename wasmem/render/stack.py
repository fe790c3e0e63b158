"""Renderable for `wasmem stack`: frame sizes, worst-case paths as trees, a usage bar, a recommendation."""

from __future__ import annotations

from rich.table import Table
from rich.text import Text
from rich.tree import Tree

from .common import add_row, fmt_bytes

BAR_WIDTH = 32


def _frame_kind(f) -> str:
    if f.imported:
        return "imported (0, host)"
    parts = []
    if f.dynamic:
        parts.append("dynamic")
    if f.align_slack:
        parts.append(f"over-aligned +{f.align_slack}")
    if f.size and not f.writes_sp and not f.dynamic:
        parts.append("leaf, red zone")
    return ", ".join(parts) or "static"


def _bar(label: str, value: int, scale: int, style: str) -> Text:
    n = 0 if scale <= 0 else min(BAR_WIDTH, max(1 if value else 0, round(value * BAR_WIDTH / scale)))
    t = Text(f"{label:<14}")
    t.append("█" * n, style=style)
    t.append("░" * (BAR_WIDTH - n), style="grey50")
    pct = f" {value * 100 / scale:5.1f}%" if scale else ""
    t.append(f" {value:>9,} B{pct}")
    return t


class StackView:
    """Holds a :class:`wasmem.model.stackframes.StackAnalysis` (and optionally a measured call)."""

    def __init__(self, analysis, *, top: int = 15, headroom_pct: float = 0.0, measured=None, trap=None):
        self.sa = analysis
        self.top = top
        self.headroom = headroom_pct
        # (call text, StackUse-like with .peak and optionally .exact_peak) or None
        self.measured = measured
        self.trap = trap  # TrapInfo-like (.kind, .message) of the measured call, or None

    def __rich_console__(self, console, options):
        sa = self.sa
        head = Text()
        head.append("stack of ", style="bold")
        head.append(str(sa.path or "<module>"), style="bold")
        if sa.stack_size is not None:
            head.append(f"\n  stack: {fmt_bytes(sa.stack_size)} ({sa.stack_size} bytes), "
                        f"[{sa.stack_low:#x}, {sa.stack_high:#x}), {sa.layout_kind}")
        else:
            head.append(f"\n  stack: size unknown ({sa.layout_kind})")
        head.append(f"\n  stack pointer: {sa.sp_reason}", style="dim")
        yield head

        frames = sorted((f for f in sa.frames.values() if not f.imported), key=lambda f: (-f.worst, f.index))
        table = Table(title=f"Frames (largest {min(self.top, len(frames))} of {len(frames)})",
                      title_justify="left", show_edge=False, pad_edge=False)
        table.add_column("function")
        table.add_column("frame", justify="right")
        table.add_column("kind")
        table.add_column("calls")
        for f in frames[: self.top]:
            callees = [sa.frames[c].name for c in f.callees if c in sa.frames]
            calls = ", ".join(callees[:4]) + (f", +{len(callees) - 4}" if len(callees) > 4 else "")
            if f.indirect:
                calls = (calls + " " if calls else "") + f"({len(f.indirect)} indirect)"
            add_row(table, f.name, f"{f.worst:,}" + ("+" if f.dynamic else ""), _frame_kind(f), calls)
        yield table
        yield Text("")

        tree = Tree(Text("Worst case per entry point", style="bold"))
        roots = sorted(sa.roots, key=lambda r: (r.bytes is not None, -(r.effective_bytes or 0), r.name))
        zero = [r for r in roots if r.bytes == 0 and len(r.path) <= 1]
        for r in roots:
            if r in zero:
                continue
            label = Text()
            label.append(r.name, style="bold")
            if r.kind == "start":
                label.append(" (start)")
            if r.bytes is not None:
                label.append(f"  {r.bytes:,} B")
                path = r.path
            else:
                label.append("  unbounded", style="bold red")
                label.append(f": {r.reason}")
                if r.bounded_bytes is not None:
                    label.append(f"  (≤ {r.bounded_bytes:,} B with recursion depth {sa.recursion_depth})",
                                 style="yellow")
                path = r.bounded_path or r.path
            node = tree.add(label)
            for step in path[1:]:
                t = Text(step.name)
                t.append(f"  {step.bytes:,} B" if step.repeat == 1 else
                         f"  {step.repeat} × {step.bytes // step.repeat:,} = {step.bytes:,} B")
                if sa.frames[step.index].imported:
                    t.append("  (imported: 0, runs in the host)", style="dim")
                node = node.add(t)
            if path and path[0].repeat > 1:
                node_label = label
                node_label.append(f"  [{path[0].repeat} × {path[0].bytes // path[0].repeat:,} B]", style="dim")
        if zero:
            tree.add(Text(f"{len(zero)} more use no linear stack: " + ", ".join(r.name for r in zero), style="dim"))
        yield tree
        yield Text("")

        worst = sa.worst_bytes
        exact = getattr(self.measured[1], "exact_peak", None) if self.measured else None
        words = self.measured[0].split() if self.measured else []
        root = sa.find_root(words[0]) if words else None
        call_static = root.effective_bytes if root is not None else None
        scale = max([v for v in (sa.stack_size, worst, call_static,
                                 self.measured[1].peak if self.measured else None, exact) if v] or [0])
        if worst is not None and scale:
            w = sa.worst
            yield _bar("static worst", worst, scale, "magenta")
            if call_static is not None and root is not w:
                yield _bar("static (call)", call_static, scale, "magenta")
            if self.measured:
                yield _bar("measured peak", self.measured[1].peak, scale, "cyan")
            if exact is not None:
                yield _bar("exact peak", exact, scale, "red" if exact > (sa.stack_size or exact) else "blue")
            if sa.stack_size:
                yield _bar("stack size", sa.stack_size, scale, "green")
            yield Text(f"  worst entry: {w.name}" + (
                f" (recursion depth {sa.recursion_depth})" if w.bytes is None else ""), style="dim")
        elif self.measured:
            yield _bar("measured peak", self.measured[1].peak, scale or 1, "cyan")
            if exact is not None:
                yield _bar("exact peak", exact, scale or 1, "blue")
        if self.measured:
            t = Text(f"  measured: {self.measured[0]} used {self.measured[1].peak:,} bytes of stack "
                     f"(painted; includes the red zone)")
            if exact is not None:
                t.append(f"; the stack pointer went {exact:,} bytes down (exact, --check-stack)")
            if root is not None:
                t.append(f"; static worst case of {root.name}: " + (
                    f"{root.effective_bytes:,} B" if root.effective_bytes is not None else "unbounded"),
                         style="dim")
            yield t
        if self.trap is not None:
            t = Text()
            t.append(f"{self.trap.kind}: ", style="bold red")
            t.append(self.trap.message)
            yield t

        rec = sa.recommended_stack_size(self.headroom)
        if rec is not None:
            t = Text()
            t.append("recommendation: ", style="bold")
            t.append(f"-z stack-size={rec}")
            unbounded_left = any(r.effective_bytes is None for r in sa.roots)
            t.append(f"  (worst case{' of the bounded entry points' if unbounded_left else ''} {worst:,} B "
                     f"with {self.headroom:g}% headroom")
            hp = sa.headroom_pct()
            if hp is not None:
                t.append(f"; the current {sa.stack_size:,} B leaves {hp:.1f}%")
            t.append(")")
            yield t
        unb = [r for r in sa.unbounded if r.effective_bytes is None]
        if unb:
            t = Text()
            t.append(f"{len(unb)} entry point(s) have no static bound: ", style="yellow")
            t.append(", ".join(r.name for r in unb))
            if any(r.unbounded == "recursion" and not r.dynamic for r in unb):
                t.append(" (give --recursion-depth N to bound the recursive ones)", style="dim")
            yield t
        for n in sa.notes:
            yield Text(f"note: {n}", style="dim")
