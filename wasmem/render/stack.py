"""Renderable for `wasmem stack`: frame sizes, worst-case paths as trees, a usage bar, a recommendation.

Bounded by default whatever the module's size: the largest ``top`` frames, ``ROOTS_SHOWN`` entry points,
``PATH_SHOWN`` frames per path and ``NAMES_SHOWN`` names per list, each with a "… N more" line;
``show_all`` draws everything."""

from __future__ import annotations

from itertools import islice

from rich.table import Table
from rich.text import Text
from rich.tree import Tree

from ..model.stackframes import cycle_text
from .common import add_row, fmt_bytes, shown

BAR_WIDTH = 32
ROOTS_SHOWN = 20  # entry points drawn as trees (the rest: one "… N more" line; --all: every one)
PATH_SHOWN = 12  # frames of a worst path drawn (the first ones, "… N more calls", the last one)
NAMES_SHOWN = 20  # names in a one-line list


def red_zone_text(st) -> str:
    """How a measured peak (a ``StackUse``) was taken and whether it saw leaf functions' red zones."""
    if st.method == "paint":
        return "painted; includes the red zone"
    n = getattr(st, "red_zones", None)
    if n is None:
        return "instrumented: a leaf function's red zone is not seen"
    if n == 0:
        text = "instrumented: stack pointer writes (no leaf function uses a red zone)"
    elif n == 1:
        text = "instrumented: stack pointer writes and 1 leaf function's red zone (its static size)"
    else:
        text = f"instrumented: stack pointer writes and {n:,} leaf functions' red zones (their static sizes)"
    unknown = getattr(st, "red_zones_unknown", 0)
    if unknown:
        text += (f"; at least: {unknown:,} leaf function(s) use a red zone sized at run time, not counted")
    return text


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


def _names(names, limit: int | None) -> str:
    """``a, b, c``: at most ``limit`` names, then how many more."""
    names = list(names)
    if limit is None or len(names) <= limit:
        return ", ".join(map(shown, names))
    return ", ".join(map(shown, names[:limit])) + f", … {len(names) - limit} more"


class StackView:
    """Holds a :class:`wasmem.model.stackframes.StackAnalysis` (and optionally a measured call)."""

    def __init__(self, analysis, *, top: int = 15, headroom_pct: float = 0.0, measured=None, trap=None,
                 roots: int = ROOTS_SHOWN, show_all: bool = False, indirect=None):
        self.sa = analysis
        # model/indirectcalls.py's IndirectView: recursion through call_indirect marked possible, worst
        # cases without indirect calls beside the others (None: no indirect call in the module)
        self.indirect = indirect
        self.top = None if show_all else top
        self.roots = None if show_all else roots
        self.path_frames = None if show_all else PATH_SHOWN
        self.names = None if show_all else NAMES_SHOWN
        self.headroom = headroom_pct
        # (call text, StackUse-like with .peak and optionally .exact_peak) or None
        self.measured = measured
        self.trap = trap  # TrapInfo-like (.kind, .message) of the measured call, or None

    def __rich_console__(self, console, options):
        sa = self.sa
        fr = sa.frames
        head = Text()
        head.append("stack of ", style="bold")
        head.append(shown(sa.path or "<module>"), style="bold")
        if sa.stack_size is not None:
            head.append(f"\n  stack: {fmt_bytes(sa.stack_size)} ({sa.stack_size} bytes), "
                        f"[{sa.stack_low:#x}, {sa.stack_high:#x}), {sa.layout_kind}")
        else:
            head.append(f"\n  stack: size unknown ({sa.layout_kind})")
        head.append(f"\n  stack pointer: {shown(sa.sp_reason)}", style="dim")
        yield head

        frames = fr.largest(self.top)
        table = Table(title=f"Frames (largest {len(frames)} of {fr.num_own})",
                      title_justify="left", show_edge=False, pad_edge=False)
        table.add_column("function")
        table.add_column("frame", justify="right")
        table.add_column("kind")
        table.add_column("calls")
        for f in frames:
            callees = f.callees
            calls = ", ".join(fr.name(c) for c in callees[:4]) + (f", +{len(callees) - 4}" if len(callees) > 4 else "")
            if f.indirect:
                calls = (calls + " " if calls else "") + f"({len(f.indirect)} indirect)"
            add_row(table, f.name, f"{f.worst:,}" + ("+" if f.dynamic else ""), _frame_kind(f), calls)
        yield table
        yield Text("")
        yield self._tree()
        yield Text("")
        yield from self._bars()
        yield from self._without_indirect()
        yield from self._advice()
        for n in sa.notes:
            yield Text(f"note: {shown(n)}", style="dim")

    def _tree(self) -> Tree:
        sa = self.sa
        tree = Tree(Text("Worst case per entry point", style="bold"))
        roots = sorted(sa.roots, key=lambda r: (r.bytes is not None, -(r.effective_bytes or 0), r.name))
        zero = [r for r in roots if r.bytes == 0 and r.path_length() <= 1]
        drawn = [r for r in roots if not (r.bytes == 0 and r.path_length() <= 1)]
        hidden = 0 if self.roots is None else max(0, len(drawn) - self.roots)
        for r in drawn[: len(drawn) - hidden]:
            self._root(tree, r)
        if hidden:
            tree.add(Text(f"… {hidden} more entry point(s) (--all draws every one)", style="dim"))
        if zero:
            tree.add(Text(f"{len(zero)} more use no linear stack: " + _names((r.name for r in zero), self.names),
                          style="dim"))
        return tree

    def _root(self, tree: Tree, r) -> None:
        sa = self.sa
        label = Text()
        label.append(shown(r.name), style="bold")
        if r.kind == "start":
            label.append(" (start)")
        bounded = False
        view = self.indirect
        status = view.recursion(r) if view is not None else None
        if r.bytes is not None:
            label.append(f"  {r.bytes:,} B")
        elif status == "possible":
            label.append("  possibly unbounded", style="bold yellow")
            label.append(f": {shown(self._reason(r))}")
        else:
            label.append("  unbounded", style="bold red")
            label.append(f": {shown(self._reason(r))}")
            if r.bounded_bytes is not None:
                label.append(f"  (≤ {r.bounded_bytes:,} B with recursion depth {sa.recursion_depth})",
                             style="yellow")
                bounded = True
        node = tree.add(label)
        if status == "possible":
            for line in self._evidence(r):
                node.add(line)
        n = r.path_length(bounded)
        steps = r.iter_path(bounded)
        first = next(steps, None)
        if n <= PATH_SHOWN:  # the path as a staircase: each call under its caller
            for step in steps:
                node = node.add(self._step(step))
        else:  # the first calls as a staircase, then the rest
            drawn = first.bytes if first is not None else 0
            for step in islice(steps, PATH_SHOWN - 2):
                node = node.add(self._step(step))
                drawn += step.bytes
            more = n - PATH_SHOWN + 1
            if self.path_frames is None:  # --all: every call, one line each, in order
                node = node.add(Text(f"then {more:,} more call(s), in order:", style="dim"))
                for step in steps:
                    node.add(self._step(step))
            else:
                last = r.last_step(bounded)
                text = f"… {more - 1:,} more call(s)"
                total = r.bounded_bytes if bounded else r.bytes
                if total is not None and last is not None:  # a sum (a path to recursion is not)
                    text += f", {total - drawn - last.bytes:,} B"
                node = node.add(Text(text + " (--all draws every one)", style="dim"))
                if last is not None:
                    node.add(self._step(last))
        if first is not None and first.repeat > 1:
            label.append(f"  [{first.repeat} × {first.bytes // first.repeat:,} B]", style="dim")

    def _reason(self, r) -> str:
        """The root's reason, with its recursion called possible (through an indirect call) or, when it is
        proven, the cycle of direct calls that proves it."""
        view = self.indirect
        status = view.recursion(r) if view is not None else None
        if status is None or not r.cycle:
            return r.reason or ""
        old = "recursion: " + cycle_text(r.cycle)
        if status == "possible":
            new = "possible recursion through call_indirect: " + cycle_text(r.cycle)
        else:
            new = "recursion: " + cycle_text(view.proven_cycle(r))
        return (r.reason or "").replace(old, new, 1) if old in (r.reason or "") else new

    def _evidence(self, r, indent: str = "") -> list[Text]:
        """The indirect edges a possible recursion needs, and the worst case without indirect calls."""
        view = self.indirect
        out = []
        ev = view.evidence(r)
        edges = ev.edges if ev is not None else ()
        limit = len(edges) if self.names is None else 3
        for e in edges[:limit]:
            out.append(Text(f"{indent}possible, not proven: {shown(e.text)}", style="yellow"))
        if len(edges) > limit:
            out.append(Text(f"{indent}… {len(edges) - limit} more indirect edge(s) on the cycle (--all)", style="dim"))
        d = view.direct.get(r.name)
        if d is not None:
            if d.effective_bytes is not None:
                extra = f" with recursion depth {self.sa.recursion_depth}" if d.bytes is None else ""
                out.append(Text(f"{indent}without indirect calls: {d.effective_bytes:,} B{extra}", style="dim"))
            else:
                out.append(Text(f"{indent}without indirect calls: unbounded ({shown(d.reason or '')})", style="dim"))
        return out

    def _step(self, step) -> Text:
        t = Text(shown(step.name))
        t.append(f"  {step.bytes:,} B" if step.repeat == 1 else
                 f"  {step.repeat} × {step.bytes // step.repeat:,} = {step.bytes:,} B")
        if self.sa.frames.imported(step.index):
            t.append("  (imported: 0, runs in the host)", style="dim")
        return t

    def _bars(self):
        sa = self.sa
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
            yield Text(f"  worst entry: {shown(w.name)}" + (
                f" (recursion depth {sa.recursion_depth})" if w.bytes is None else ""), style="dim")
        elif self.measured:
            yield _bar("measured peak", self.measured[1].peak, scale or 1, "cyan")
            if exact is not None:
                yield _bar("exact peak", exact, scale or 1, "blue")
        if self.measured:
            st = self.measured[1]
            least = "at least " if getattr(st, "at_least", False) else ""
            t = Text(f"  measured: {shown(self.measured[0])} used {least}{st.peak:,} bytes of stack "
                     f"({red_zone_text(st)})")
            if exact is not None:
                t.append(f"; the stack pointer went {exact:,} bytes down (exact, --check-stack)")
            if root is not None:
                t.append(f"; static worst case of {shown(root.name)}: " + (
                    f"{root.effective_bytes:,} B" if root.effective_bytes is not None else "unbounded"),
                         style="dim")
            yield t
        if self.trap is not None:
            t = Text()
            t.append(f"{self.trap.kind}: ", style="bold red")
            t.append(shown(self.trap.message))
            yield t

    def _without_indirect(self):
        """The worst case over direct calls only, beside the one with indirect calls (never advice: a stack
        sized for it overflows if a possible recursion is real)."""
        view = self.indirect
        if view is None:
            return
        possible = view.possible_roots
        w = view.worst_direct
        cycles = [c for c in view.cycles if c.possible]
        if not possible and not cycles and (w.effective_bytes if w is not None else None) == self.sa.worst_bytes:
            return  # the same figures: nothing to tell apart
        t = Text("  without indirect calls (the calls the code proves): ", style="dim")
        unb = view.without_bound_direct
        if w is not None:
            t.append(f"worst case {w.effective_bytes:,} B ({shown(w.name)})", style="dim")
            if unb:
                t.append(f"; {len(unb):,} entry point(s) still unbounded", style="dim")
        else:
            t.append(f"no entry point has a bound either ({len(unb):,} unbounded)" if unb else
                     "no entry point uses the linear stack", style="dim")
        if possible:
            t.append(f"; {len(possible):,} entry point(s) are unbounded only through call_indirect: their "
                     f"recursion is possible, not proven, and no stack size is advised from the smaller figure",
                     style="dim")
        yield t
        if cycles:
            yield Text(f"  recursive cycles that need call_indirect (possible, not proven): {len(cycles):,} of "
                       f"{len(view.cycles):,}", style="yellow")
            limit = len(cycles) if self.names is None else 5
            for c in cycles[:limit]:
                e = c.edges[0]
                more = f" (+{len(c.edges) - 1} more indirect edge(s))" if len(c.edges) > 1 else ""
                yield Text(f"    {shown(cycle_text(c.names, 4))}: {shown(e.text)}{more}", style="dim")
            if len(cycles) > limit:
                yield Text(f"    … {len(cycles) - limit:,} more (--all)", style="dim")

    def _advice(self):
        """A -z stack-size only when it is safe: every entry point bounded, never below the largest
        frame; otherwise which entry points stand in the way and what --recursion-depth N would give."""
        sa = self.sa
        if sa.sp_global is None:
            return
        rec = sa.recommended_stack_size(self.headroom)
        if rec is not None:
            worst = sa.worst_bytes or 0
            t = Text()
            t.append("recommendation: ", style="bold")
            t.append(f"-z stack-size={rec}")
            w = sa.worst
            depth = f" with recursion depth {sa.recursion_depth}" if w is not None and w.bytes is None else ""
            t.append(f"  (worst case {worst:,} B{depth}, {self.headroom:g}% headroom")
            big = sa.largest_frame
            if big is not None and big.worst > worst:
                t.append(f"; raised to fit the largest frame, {shown(big.name)} ({big.worst:,} B), which no entry "
                         f"point reaches through the calls wasmem sees")
            hp = sa.headroom_pct()
            if hp is not None:
                t.append(f"; the current {sa.stack_size:,} B leaves {hp:.1f}%")
            t.append(")")
            yield t
            return
        unb = sa.without_bound
        if not unb:
            if sa.roots:
                yield Text("no -z stack-size recommendation: no entry point uses the linear stack", style="dim")
            return
        t = Text()
        t.append("no -z stack-size recommendation: ", style="bold yellow")
        t.append("1 entry point has no static bound, so no stack size is safe for it" if len(unb) == 1 else
                 f"{len(unb):,} entry points have no static bound, so no stack size is safe for them")
        yield t
        limit = self.names
        for r in unb[:len(unb) if limit is None else limit]:
            t = Text(f"  {shown(r.name)}", style="bold")
            status = self.indirect.recursion(r) if self.indirect is not None else None
            if r.level_bytes is not None:
                cyc = self.indirect.proven_cycle(r) if status == "proven" else r.cycle
                what = "possible recursion, through call_indirect" if status == "possible" else "recursion"
                t.append(f"  {what} ({_names(cyc[:4], None)}{', …' if len(cyc) > 4 else ''}): "
                         f"{r.base_bytes:,} B at recursion depth 1, at most {r.level_bytes:,} B more per "
                         f"further level")
            else:
                t.append(f"  {shown(r.reason)}")
                if r.dynamic:
                    t.append(" (sized at run time: a VLA or alloca)", style="dim")
            yield t
            if status == "possible":
                yield from self._evidence(r, "      ")
            elif status == "proven" and r.level_bytes is not None:
                d = self.indirect.direct.get(r.name)
                if d is not None and d.level_bytes is not None and (d.base_bytes, d.level_bytes) != (
                        r.base_bytes, r.level_bytes):
                    yield Text(f"      these figures count possible recursion through call_indirect too; through "
                               f"the direct calls alone (proven): {d.base_bytes:,} B at recursion depth 1, at most "
                               f"{d.level_bytes:,} B more per further level", style="yellow")
        if limit is not None and len(unb) > limit:
            yield Text(f"  … {len(unb) - limit} more", style="dim")
        recursive = [r for r in unb if r.level_bytes is not None]
        if not recursive:
            return
        t = Text("  --recursion-depth N bounds the recursive ones", style="dim")
        if sa.stack_size:
            allowed = int(sa.stack_size * (100 - self.headroom) / 100)
            depths = [r.depth_for(allowed) for r in recursive]
            fits = [d for d in depths if d is not None]
            room = f"the current {sa.stack_size:,} B stack with {self.headroom:g}% headroom"
            if fits and min(fits) == 0:
                t.append(f"; some do not fit {room} even at depth 1")
            elif fits:
                t.append(f"; with N ≤ {min(fits):,} they fit {room}")
        yield t
