"""The result of ``wasmem call``: results, sret fields, trap and backtrace, changed memory, growth,
stack use, host-import calls and captured output."""

from __future__ import annotations

from rich.console import Group
from rich.padding import Padding
from rich.panel import Panel
from rich.text import Text

from ..model.values import region_finder
from .common import fmt_bytes, shown
from .dump import Line, call_line, fmt_typed, hex_row
from .stack import red_zone_text
from .trap import trap_panel
from .value import ValueView
from .watch import WatchView

MAX_RANGES = 8
MAX_RANGE_BYTES = 64
MAX_HOST_CALLS = 20


def _label(addr: int, regions) -> tuple[str, str]:
    r = region_finder(regions)(addr)
    if r is None:
        if regions and addr >= max(getattr(x, "end", 0) for x in regions):  # the layout maps the initial memory
            return "memory grown past its initial size", "grown"
        return "", ""
    return getattr(r, "label", "") or getattr(r, "kind", ""), getattr(r, "kind", "")


def _value(v, t: str) -> str:
    s = fmt_typed(v, t)
    if t in ("i32", "i64") and isinstance(v, int) and v < 0:
        bits = 32 if t == "i32" else 64
        s += f" ({v & ((1 << bits) - 1):#x})"
    elif t in ("i32", "i64") and isinstance(v, int) and v > 9:
        s += f" ({v:#x})"
    return s


class CallView:
    """``sret_value`` (a typed value tree), ``result_notes`` (result index → ``<sym+off>``) and
    ``frame_locations`` (``file:line`` per trap frame) come from the symbols, when there are any."""

    def __init__(self, result, regions=(), before=(), *, sret_value=None, result_notes=None,
                 result_values=None, frame_locations=None, host=None, change_labels=None,
                 host_calls: str = "summary"):
        self.result = result
        self.host_calls = host_calls  # summary (one line per import, with a count), all, none
        self.change_labels = change_labels or []  # per changed range: the symbols it falls in (app.call)
        self.host = host  # the session's HostChoice (runtime.hosts): which host profile and why
        self.regions = regions
        self.before = before
        self.sret_value = sret_value
        self.result_notes = result_notes or {}
        self.result_values = result_values or {}
        self.frame_locations = frame_locations or []

    def __rich_console__(self, console, options):
        r = self.result
        for b in self.before:
            yield call_line(b)
        head = Text()
        head.append(shown(r.name), style="bold")
        head.append(shown(r.signature), style="dim")
        yield head
        shown_args = [shown(a) for a in r.args]
        if shown_args:
            yield Text(f"  args: {', '.join(shown_args)}", style="dim")
        if self.host is not None and self.host.imports_functions:  # nothing to satisfy: no line
            t = Text("  host: ", style="dim")
            t.append(shown(self.host.label), style="bold")
            t.append(f" ({shown(self.host.explanation)})", style="dim")
            yield t
        for a in r.allocations:
            yield Text(f"  {shown(a.arg[:40])} → ptr 0x{a.address:x}, len {a.size} (via {shown(a.via)})", style="dim")
        for addr, data in getattr(r, "writes", ()):
            hexes = data[:16].hex(" ") + (" …" if len(data) > 16 else "")
            yield Text(f"  wrote {len(data)} byte{'' if len(data) == 1 else 's'} at 0x{addr:x} before the call: "
                       f"{hexes}", style="dim")

        if r.trap is not None:
            yield self._trap()
        else:
            if r.results:
                t = Text("→ ", style="bold green")
                for i, (ty, v) in enumerate(zip(r.result_types, r.results, strict=False)):
                    if i:
                        t.append(", ")
                    t.append(f"{ty} {_value(v, ty)}")
                    if i in self.result_notes:
                        t.append(f" {shown(self.result_notes[i])}", style="bold")
                yield t
                for i in sorted(self.result_values):
                    yield Padding(ValueView(self.result_values[i]), (0, 0, 0, 2))
            elif r.sret is None:
                yield Text("→ (no results)", style="green")
        if r.sret is not None:
            s = r.sret
            t = Text("→ ", style="bold green")
            sv = self.sret_value
            if sv is not None:
                t.append(f"{shown(sv.type_name)} " if sv.type_name else "", style="bold")
                t.append(shown(sv.one_line(200)))
                t.append(f"   (returned through a hidden pointer at 0x{s.address:x}, {s.size} bytes)", style="dim")
                yield t
            elif s.fields:
                t.append(", ".join(f"{shown(n)} = {fmt_typed(v, ty) if not isinstance(v, list) else v}"
                                   for n, ty, v in s.fields))
                t.append(f"   (returned through a hidden pointer at 0x{s.address:x}, {s.size} bytes)", style="dim")
                yield t
            else:
                t.append(f"{s.size} bytes returned through a hidden pointer at 0x{s.address:x} "
                         f"(decode with --returns f64,f64):", style="")
                yield t
                for off in range(0, len(s.data), 16):
                    yield Line(hex_row(s.address + off, s.data[off:off + 16]))

        if r.stdout:
            yield Panel(Text(r.stdout.decode("utf-8", "replace").rstrip("\n")), title="stdout", title_align="left",
                        border_style="dim", expand=False)
        if r.stderr:
            yield Panel(Text(r.stderr.decode("utf-8", "replace").rstrip("\n")), title="stderr", title_align="left",
                        border_style="yellow", expand=False)
        for stream in ("stdout", "stderr"):  # output past --max-output: counted, not kept (runtime/budget.py)
            if getattr(r, f"{stream}_truncated", 0):
                yield Text(f"{stream}_truncated: {getattr(r, f'{stream}_truncated')} bytes (--max-output)", style="yellow")

        for g in r.growth:
            yield Text(f"warning: {shown(g.warning)}", style="yellow")
        for note in getattr(r, "limit_notes", ()):
            yield Text(f"warning: {shown(note)}", style="yellow")

        if r.stack is None and getattr(r, "stack_note", None):
            yield Text(f"stack: not measured ({shown(r.stack_note)})", style="dim")
        if r.stack is not None:
            st = r.stack
            t = Text("stack: ")
            bounds = (f"stack [0x{st.low:x}, 0x{st.high:x}), {fmt_bytes(st.high - st.low)}"
                      if st.low is not None and st.high is not None else "stack bounds unknown")
            if st.method == "paint":
                floored = st.floor is not None and st.lowest <= st.floor and st.floor > (st.low or 0)
                t.append(f"peak {'at least ' if floored else ''}{st.peak} bytes", style="bold magenta")
                t.append(f" below sp 0x{st.sp:x} (lowest byte touched 0x{st.lowest:x}; {bounds})", style="dim")
                if st.exact_peak is not None:
                    t.append(f"; exact peak {st.exact_peak} bytes (--check-stack)", style="bold magenta")
            else:
                least = "at least " if getattr(st, "at_least", False) else ""
                t.append(f"peak {least}{st.exact_peak if st.exact_peak is not None else st.peak} bytes",
                         style="bold magenta")
                what = "lowest stack pointer or red zone" if getattr(st, "red_zones", None) else "lowest stack pointer"
                t.append(f" below sp 0x{st.sp:x} ({what} 0x{st.lowest:x}; {bounds}; "
                         f"{red_zone_text(st)})", style="dim")
            if st.exhausted:
                t.append("  the linear stack was exhausted", style="bold red")
            yield t
            if st.method != "paint" and st.note.startswith("not painted"):  # --paint asked, not possible
                yield Text(f"  {shown(st.note)}", style="dim")
            elif st.method == "paint" and st.floor is not None and st.lowest <= st.floor and st.floor > (st.low or 0):
                yield Text(f"  the lowest {st.floor - (st.low or 0)} bytes of the stack are never painted (a read "
                           f"through a null pointer must see what a plain host shows)", style="dim")

        yield from self._changes()

        yield from host_calls_lines(r.host_calls, self.host_calls, getattr(r, "host_calls_dropped", 0))

    def _trap(self):
        return trap_panel(self.result, self.frame_locations)

    def _changes(self):
        r = self.result
        yield from changes_lines(r.changes, self.regions, omitted=r.changes_omitted,
                                 omitted_bytes=r.changes_omitted_bytes, labels=self.change_labels)


HOST_CALL_MODES = ("summary", "all", "none")


def _host_call_line(h) -> Text:
    t = Text(f"  {shown(h.module)}.{shown(h.name)}({', '.join(fmt_typed(a, '') for a in h.args)})")
    if h.result is not None:
        t.append(f" → {shown(h.result)}", style="dim")
    if h.message:
        t.append(_message(h.message))
    _stub_mark(t, h)
    return t


def _message(text: str, lead: str = "") -> str:
    """A host call's message as shown after it: quoted, cut at 120 characters."""
    return shown(f"  {lead}{text!r}" if len(text) < 120 else f"  {lead}{text[:117]!r}…")


def _stub_mark(t: Text, h) -> None:
    if getattr(h, "stub", h.handled_by == "stub"):
        t.append("  [stub]" if h.handled_by in ("stub", "strict") else f"  [{h.handled_by} stub]", style="dim")


def host_calls_lines(calls, mode: str = "summary", dropped: int = 0):
    """The calls a call made to host imports (``HostCall``). ``summary`` (the default): one line per import in
    the order of its first call, with how many times it was called (``env.emscripten_date_now ×30``); an
    import called once shows that call whole (its arguments, result and message: an abort's text). ``all``:
    every call on its own line, in order. ``none``: nothing. ``dropped``: calls past the recording limit."""
    if mode == "none" or not (calls or dropped):
        return
    n = len(calls) + dropped
    if mode == "all":
        yield Text(f"host imports called: {n}", style="bold")
        yield from (_host_call_line(h) for h in calls)
        if dropped:
            yield Text(f"  … {dropped} more not recorded (the first {len(calls)} are kept)", style="dim")
        return
    groups: dict[tuple[str, str], list] = {}
    for h in calls:
        groups.setdefault((h.module, h.name), []).append(h)
    folded = any(len(g) > 1 for g in groups.values())
    head = Text(f"host imports called: {n}", style="bold")
    if folded or dropped:
        head.append(f" ({len(groups)} import{'' if len(groups) == 1 else 's'}; --host-calls all lists every call)",
                    style="dim")
    yield head
    for k, ((module, name), group) in enumerate(groups.items()):
        if k == MAX_HOST_CALLS:
            yield Text(f"  … {len(groups) - MAX_HOST_CALLS} more imports (--host-calls all lists every call)",
                       style="dim")
            break
        if len(group) == 1:
            yield _host_call_line(group[0])
            continue
        t = Text(f"  {shown(module)}.{shown(name)} ×{len(group)}")
        messages = [h.message for h in group if h.message]
        if messages:
            t.append(_message(messages[-1], "last: "))
        _stub_mark(t, group[-1])
        yield t
    if dropped:
        yield Text(f"  … {dropped} more calls not recorded (the first {len(calls)} are kept)", style="dim")


def changes_lines(changes, regions=(), what: str = "memory", *, omitted: int = 0, omitted_bytes: int = 0,
                  labels=()):
    """Changed byte ranges (``ChangedRange``) as `call` shows them: a heading, then each range's bytes
    (``omitted``: ranges past the limit on ranges kept, counted with their ``omitted_bytes``). ``labels``
    (aligned with ``changes``, from ``app.call.change_labels``) name the symbols a range falls in; a range
    without one gets the layout region's label."""
    if not changes and not omitted:
        yield Text(f"{what}: no bytes changed", style="dim")
        return
    total = sum(c.size for c in changes) + omitted_bytes
    n = len(changes) + omitted
    yield Text(f"{what}: {total} bytes changed in {n} range{'' if n == 1 else 's'}", style="bold")
    for i, c in enumerate(changes[:MAX_RANGES]):
        label = (labels[i] if i < len(labels) else None) or (_label(c.start, regions)[0] if c.memory == 0 else "")
        t = Text(f"  [0x{c.start:x}, 0x{c.end:x}) {c.size} bytes", style="")
        if label:
            t.append(f"  {shown(label)}", style="dim")
        yield t
        start = c.start - c.start % 16
        end = min(c.end, c.start + MAX_RANGE_BYTES)
        end = end + (-end % 16)
        for a in range(start, end, 16):
            lo, hi = max(a, c.start), min(a + 16, c.end)
            # bytes outside the range are not known here: show only the range's bytes
            row = bytearray(16)
            changed = []
            for i in range(lo, hi):
                row[i - a] = c.after[i - c.start]
                if c.after[i - c.start] != c.before[i - c.start]:
                    changed.append(i - a)
            yield Line(_partial_row(a, bytes(row), lo - a, hi - a, changed))
        if c.end > c.start + MAX_RANGE_BYTES:
            yield Text(f"    … {c.end - c.start - MAX_RANGE_BYTES} more bytes", style="dim")
    if len(changes) > MAX_RANGES:
        yield Text(f"  … {len(changes) - MAX_RANGES} more ranges (use --json for all)", style="dim")
    if omitted:
        yield Text(f"  … {omitted} more range{'' if omitted == 1 else 's'} ({omitted_bytes} bytes) not kept; "
                   f"--max-changes keeps more", style="dim")


def _partial_row(address, data, lo, hi, changed) -> Text:
    """A hex row showing only the bytes in [lo, hi) (the rest of the row is not part of the change)."""
    out = Text()
    out.append(f"0x{address:08x}  ", style="cyan")
    ch = set(changed)
    for i in range(16):
        if i == 8:
            out.append(" ")
        if lo <= i < hi:
            out.append(f"{data[i]:02x}", style="bold red" if i in ch else "")
        else:
            out.append("  ")
        out.append(" ")
    out.append(" |")
    for i in range(16):
        if lo <= i < hi:
            b = data[i]
            out.append(chr(b) if 0x20 <= b < 0x7F else ".", style="bold red" if i in ch else "")
        else:
            out.append(" ")
    out.append("|")
    return out


def render_call(outcome, host_calls: str = "summary") -> Group:
    """``host_calls``: how the host-import calls are listed (``host_calls_lines``: summary, all, none)."""
    view = CallView(outcome.result, outcome.session.regions, outcome.before, host_calls=host_calls,
                    sret_value=getattr(outcome, "sret_value", None),
                    result_notes=getattr(outcome, "result_notes", None),
                    result_values=getattr(outcome, "result_values", None),
                    frame_locations=getattr(outcome, "frame_locations", None),
                    host=getattr(outcome.session, "host_choice", None),
                    change_labels=getattr(outcome, "change_labels", None))
    parts = [view]
    if getattr(outcome, "watch", None) is not None:
        parts.append(WatchView(outcome.watch))
    core = getattr(outcome, "coredump", None)
    if core is not None:
        mod = getattr(outcome.session.module, "path", None) or "MODULE"
        parts.append(Text.assemble(("coredump: ", "bold"), shown(core),
                                   (f"  (read it: wasmem backtrace {shown(core)} {shown(mod)})", "dim")))
    return Group(*parts)
