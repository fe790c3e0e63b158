"""The ``--watch`` section of ``wasmem call``: the targets, then one line per hit."""

from __future__ import annotations

from rich.text import Text

from ..budgets import lift
from .common import shown
from .dump import call_line
from .trap import trap_panel

MAX_SHOWN_HITS = 50
MAX_PATH_SHOWN = 8


def _bytes(b: bytes | None) -> str:
    if b is None:
        return "?"
    return b.hex() if len(b) <= 16 else b[:16].hex() + "…"


class WatchView:
    def __init__(self, report):
        self.report = report

    def __rich_console__(self, console, options):
        rep = self.report
        if rep.targets:
            yield from self._hits(rep)
        if rep.write_map is not None:
            yield from self._write_map(rep.write_map)

    def _write_map(self, wm):
        from rich.table import Table

        yield Text(f"writes by function: {wm.writes} write{'s' if wm.writes != 1 else ''} of memory 0",
                   style="bold")
        if not wm.rows:
            return
        t = Table(box=None, padding=(0, 1), show_edge=False)
        for col, just in (("function", "left"), ("wrote", "left"), ("region", "left"), ("bytes", "right"),
                          ("writes", "right"), ("", "left")):
            t.add_column(col, justify=just)
        rows = sorted(wm.rows, key=lambda r: (r.flag is None, r.function, -r.bytes))
        for r in rows[:MAX_SHOWN_HITS]:
            t.add_row(shown(r.function), shown(r.target), shown(r.region or ""), f"{r.bytes:,}", f"{r.count:,}",
                      Text(f"! {shown(r.flag)}", style="bold red") if r.flag else "")
        yield t
        if len(rows) > MAX_SHOWN_HITS:
            yield Text(f"  … {len(rows) - MAX_SHOWN_HITS} more rows (--json has all of them)", style="dim")
        if wm.dropped:
            yield Text(f"  {wm.dropped} writes that would have made more rows were counted but not kept "
                       f"({lift('watch-hits')})", style="dim")
    def _hits(self, rep):
        yield self._header(rep)
        if not rep.hits:
            yield Text("  no hit", style="dim")
        for h in rep.hits[:MAX_SHOWN_HITS]:
            yield from self._hit(h)
        if len(rep.hits) > MAX_SHOWN_HITS:
            yield Text(f"  … {len(rep.hits) - MAX_SHOWN_HITS} more hits (--json has all of them)", style="dim")
        yield from self._tail(rep)

    def _header(self, rep) -> Text:
        what = "reads and writes" if rep.access == "rw" else "writes"
        head = Text("watch: ", style="bold")
        for i, t in enumerate(rep.targets):
            if i:
                head.append(", ")
            head.append(shown(t.text), style="bold cyan")
            rng = (f" [sp, 0x{t.end:x})" if t.dynamic else f" [0x{t.start:x}, 0x{t.end:x})")
            head.append(rng, style="dim")
            if t.label and t.label != t.text:
                head.append(f" {shown(t.label)}", style="dim")
        head.append(f"  ({what}; {rep.sites} instructions checked)", style="dim")
        return head

    def _hit(self, h, call: bool = True):
        """The lines of one hit (``call``: with the call it happened in)."""
        line = Text(f"  #{h.seq:<3} ", style="dim")
        if h.access == "host":
            line.append("host write", style="bold magenta")
            if h.function:
                line.append(f" by {shown(h.function)}", style="bold")
                line.append(" (seen by comparing the watched bytes after it returned)", style="dim")
            else:
                line.append(" (no code site: a host function such as WASI fd_read, seen by comparing the "
                            "watched bytes)", style="dim")
        else:
            line.append(shown(h.function or "?"), style="bold")
            if h.location:
                line.append(f"  {shown(h.location)}", style="cyan")
            line.append(f"  {h.op}", style="yellow" if h.access == "write" else "blue")
            if h.offset is not None:
                line.append(f"  file offset 0x{h.offset:x}", style="dim")
        yield line
        body = Text("        ")
        body.append(f"{h.size} byte{'s' if h.size != 1 else ''} at 0x{h.address:x}")
        if h.label:
            body.append(f" {shown(h.label)}", style="green")
        if h.access == "read":
            body.append(f"  = {shown(h.old_value) if h.old_value is not None else _bytes(h.old)}")
        elif not h.wrote:
            body.append(f"  {_bytes(h.old)} (compare failed: not written)", style="dim")
        elif h.old_value is not None and h.new_value is not None:
            body.append(f"  {shown(h.old_value)} → {shown(h.new_value)}", style="bold")
            body.append(f"  ({_bytes(h.old)} → {_bytes(h.new)})", style="dim")
        else:
            body.append(f"  {_bytes(h.old)} → {_bytes(h.new)}")
        if h.call and call:
            body.append(f"  [{shown(h.call)}]", style="dim")
        yield body
        if h.path and len(h.path) > 1:
            runs: list[list] = []  # consecutive repeats (recursion) as one "name ×n"
            for name in h.path[:-1]:
                if runs and runs[-1][0] == name:
                    runs[-1][1] += 1
                else:
                    runs.append([name, 1])
            shown_runs = [shown(n) + (f" ×{k}" if k > 1 else "") for n, k in runs]
            if len(shown_runs) > MAX_PATH_SHOWN:
                shown_runs = ["…"] + shown_runs[-MAX_PATH_SHOWN:]
            yield Text("        called from " + " → ".join(shown_runs), style="dim")

    def _tail(self, rep):
        if rep.dropped:
            yield Text(f"  {rep.dropped} more hits were counted but not kept ({lift('watch-hits')})", style="dim")
        if rep.stopped_at is not None:
            yield Text(f"  stopped at hit #{rep.stopped_at} (--stop): the write did not happen", style="red")
        for n in rep.notes:
            yield Text(f"  {shown(n)}", style="dim")


class SequenceView(WatchView):
    """``wasmem watch``: the targets once, then each call of the sequence with its result and its hits."""

    def __init__(self, sequence):
        super().__init__(sequence.report)
        self.sequence = sequence

    def __rich_console__(self, console, options):
        seq, rep = self.sequence, self.report
        if rep.targets:
            yield self._header(rep)
        for step in seq.before:
            head = Text(f"before {step.index}: ", style="dim")
            head.append_text(call_line(step.outcome.result))
            head.append("  (not watched)", style="dim")
            yield head
            if step.outcome.result.trap is not None:
                yield trap_panel(step.outcome.result, step.outcome.frame_locations)
        budget = MAX_SHOWN_HITS
        for step in seq.steps:
            r = step.outcome.result
            hits = step.hits(rep)
            head = Text(f"call {step.index}: ", style="bold")
            head.append_text(call_line(r))
            if rep.targets:
                head.append(f"  {len(hits)} hit{'' if len(hits) == 1 else 's'}", style="bold cyan" if hits else "dim")
            yield head
            if r.trap is not None:
                yield trap_panel(r, step.outcome.frame_locations)
            for h in hits[:budget]:
                yield from self._hit(h, call=False)
            if len(hits) > budget:
                yield Text(f"  … {len(hits) - budget} more hits in this call (--json has all of them)", style="dim")
            budget = max(0, budget - len(hits))
        for text in seq.skipped:
            yield Text(f"not run (a call before it trapped): {shown(text)}", style="dim")
        yield from self._tail(rep)
        if rep.write_map is not None:
            yield from self._write_map(rep.write_map)


class HitsView(WatchView):
    """The shell's hits of one command (``hits``) and the notes it added, as `call --watch` shows hits."""

    def __init__(self, report, hits, notes=()):
        super().__init__(report)
        self.hits = hits
        self.notes = list(notes)

    def __rich_console__(self, console, options):
        n = len(self.hits)
        yield Text(f"watch: {n} hit{'' if n == 1 else 's'}", style="bold cyan" if n else "dim")
        for h in self.hits[:MAX_SHOWN_HITS]:
            yield from self._hit(h, call=False)
        if n > MAX_SHOWN_HITS:
            yield Text(f"  … {n - MAX_SHOWN_HITS} more hits", style="dim")
        if self.report.stopped_at is not None and any(h.seq == self.report.stopped_at for h in self.hits):
            yield Text(f"  stopped at hit #{self.report.stopped_at} (--stop): the write did not happen", style="red")
        for note in self.notes:
            yield Text(f"  {shown(note)}", style="dim")
