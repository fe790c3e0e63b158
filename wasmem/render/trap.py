"""A call's trap and its backtrace: the panel `call` prints under the call, `watch` under a call that
trapped and the shell's `bt` on its own."""

from __future__ import annotations

from rich.panel import Panel
from rich.text import Text

from .common import shown

MAX_FRAMES = 12


def collapse_frames(frames):
    """[(frame, repeat count)] with runs of the same function folded (deep recursion)."""
    out: list[list] = []
    for f in frames:
        if out and out[-1][0].func_index == f.func_index and out[-1][0].func_offset == f.func_offset:
            out[-1][1] += 1
        else:
            out.append([f, 1])
    return out


def trap_panel(result, frame_locations=()) -> Panel:
    """The trap of a call result and its backtrace (``frame_locations``: ``file:line`` per trap frame)."""
    frame_locations = list(frame_locations)
    tr = result.trap
    body = Text()
    if tr.kind == "exit":
        body.append(shown(tr.message), style="bold")
    else:
        body.append(f"{tr.kind}: ", style="bold red")
        body.append(shown(tr.message))
    rows = collapse_frames(tr.frames)
    starts = []  # index in tr.frames of each collapsed row
    k = 0
    for _f, n in rows:
        starts.append(k)
        k += n
    for i, (f, n) in enumerate(rows[:MAX_FRAMES]):
        k = starts[i]
        body.append(f"\n  #{i:<2} ", style="dim")
        body.append(shown(f.name), style="bold")
        loc = frame_locations[k] if k < len(frame_locations) else None
        if loc:
            body.append(f"  {shown(loc)}", style="cyan")
        where = ("offset unknown" if f.module_offset is None else
                 f"+0x{f.func_offset:x} (file offset 0x{f.module_offset:x})")
        body.append(f"  func {f.func_index} {where}", style="dim")
        if n > 1:
            body.append(f"  × {n}", style="yellow")
    if len(rows) > MAX_FRAMES:
        body.append(f"\n  … {len(rows) - MAX_FRAMES} more frames", style="dim")
    if tr.sp is not None and tr.kind != "exit":  # an exit (proc_exit) is the program ending, not a trap
        body.append(f"\n  stack pointer at the trap: 0x{tr.sp:x}", style="magenta")
        if result.sp_before is not None:
            body.append(f" (reset to 0x{result.sp_before:x})", style="dim")
    title = "exit" if tr.kind == "exit" else "trap"
    return Panel(body, title=title, title_align="left", border_style="red" if not result.ok else "dim",
                 expand=False)
