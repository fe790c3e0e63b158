"""The ``--watch`` section of ``wasmem call``: the targets, then one line per hit."""

from __future__ import annotations

from rich.text import Text

from .common import shown

MAX_SHOWN_HITS = 50


def _bytes(b: bytes | None) -> str:
    if b is None:
        return "?"
    return b.hex() if len(b) <= 16 else b[:16].hex() + "…"


class WatchView:
    def __init__(self, report):
        self.report = report

    def __rich_console__(self, console, options):
        rep = self.report
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
        yield head
        if not rep.hits:
            yield Text("  no hit", style="dim")
        for h in rep.hits[:MAX_SHOWN_HITS]:
            line = Text(f"  #{h.seq:<3} ", style="dim")
            if h.access == "host":
                line.append("host write", style="bold magenta")
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
            if h.call:
                body.append(f"  [{shown(h.call)}]", style="dim")
            yield body
        if len(rep.hits) > MAX_SHOWN_HITS:
            yield Text(f"  … {len(rep.hits) - MAX_SHOWN_HITS} more hits (--json has all of them)", style="dim")
        if rep.dropped:
            yield Text(f"  {rep.dropped} more hits were counted but not kept", style="dim")
        if rep.stopped_at is not None:
            yield Text(f"  stopped at hit #{rep.stopped_at} (--stop): the write did not happen", style="red")
        for n in rep.notes:
            yield Text(f"  {shown(n)}", style="dim")
