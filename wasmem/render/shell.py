"""What `wasmem shell` prints besides the views of the commands it wraps (call, dump, chase, symbols, a typed
value): `$N = value` lines, `info` tables, echoed script lines, messages and errors."""

from __future__ import annotations

from rich.table import Table
from rich.text import Text

from .common import add_row, shown


def value_text(value) -> str:
    """A value kept as ``$N``: ints in decimal with hex beside them when that helps, strings quoted."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return f"{value} ({value:#x})" if value > 9 else str(value)
    if isinstance(value, str):
        return '"' + shown(value.replace("\\", "\\\\").replace('"', '\\"')) + '"'
    if isinstance(value, (bytes, bytearray)):
        return " ".join(f"{b:02x}" for b in value)
    return shown(repr(value))


def value_line(name: str, value, note: str | None = None) -> Text:
    t = Text()
    t.append(name, style="bold yellow")
    t.append(" = ")
    t.append(value_text(value), style="cyan")
    if note:
        t.append(f"  {shown(note)}", style="dim")
    return t


def echo_line(prompt: str, line: str) -> Text:
    t = Text(prompt, style="dim")
    t.append(shown(line), style="bold")
    return t


def message(text: str, style: str = "") -> Text:
    return Text(shown(text), style=style)


def error_line(text: str, where: str | None = None) -> Text:
    t = Text()
    if where:
        t.append(f"{shown(where)}: ", style="bold")
    t.append("error: ", style="bold red")
    t.append(shown(text))
    return t


def table(title: str, columns: list[str], rows: list[list], *, right: tuple[int, ...] = ()) -> Table:
    """A plain table of strings (each cell through ``shown``)."""
    t = Table(title=title, title_justify="left", title_style="bold", box=None, padding=(0, 2, 0, 0),
              header_style="dim")
    for i, c in enumerate(columns):
        t.add_column(c, justify="right" if i in right else "left", no_wrap=False)
    for r in rows:
        add_row(t, *("" if c is None else str(c) for c in r))
    return t


def help_table(rows: list[tuple[str, str]]) -> Table:
    t = Table(box=None, show_header=False, padding=(0, 2, 0, 0))
    t.add_column(style="bold", no_wrap=True)
    t.add_column()
    for usage, text in rows:
        add_row(t, usage, text)
    return t


def group(renderables):
    """Several renderables (a generator too) printed as one."""
    from rich.console import Group

    return Group(*renderables)
