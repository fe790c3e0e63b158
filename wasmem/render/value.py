"""A typed value (``wasmem.debuginfo.Value``) as a rich Tree: struct members, arrays, strings,
pointers with the symbol they land on, and cycle / depth notes from `chase`."""

from __future__ import annotations

from rich.console import Console, ConsoleOptions, RenderResult
from rich.text import Text
from rich.tree import Tree

from .common import shown

NOTE_TEXT = {"seen": "(shown above)", "depth": "… (--depth)", "out of bounds": "✗ out of bounds",
             "list limit": "… (list continues)", "limit": "… (too many nodes)"}


def append_note(t: Text, note: str | None, cycle_to: int | None, label: str | None = None) -> None:
    """A chase note after a value: a cycle back to an address, a depth or node limit."""
    if note == "cycle":
        t.append(f"  ↺ cycle to {cycle_to:#x}" + (f" {shown(label)}" if label else ""), style="bold yellow")
    elif note:
        t.append(f"  {NOTE_TEXT.get(note, note)}", style="dim")


class ValueView:
    """A typed value tree (``wasmem.debuginfo.Value``) as a rich Tree."""

    def __init__(self, value, *, show_addresses: bool = True):
        self.value = value
        self.show_addresses = show_addresses

    def _label(self, v) -> Text:
        t = Text()
        if self.show_addresses:
            t.append(f"{v.address:#010x}  ", style="dim")
        t.append(shown(v.label), style="bold")
        if v.type_name:
            t.append(f" ({shown(v.type_name)})", style="dim")
        if v.kind in ("struct", "union", "class", "array"):
            if not v.children:
                t.append(" = " + shown(v.one_line(80)))
            elif v.truncated:
                t.append("  …", style="dim")
        elif v.kind == "error":
            t.append(f" = <{shown(v.error)}>", style="red")
        else:
            t.append(" = ")
            t.append(shown(v.text), style="cyan" if v.kind in ("string", "pointer", "function_pointer") else "")
            append_note(t, v.note, v.cycle_to, v.target)
        return t

    def _add(self, node: Tree, v) -> None:
        for c in v.children:
            self._add(node.add(self._label(c)), c)

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        root = Tree(self._label(self.value), guide_style="dim")
        self._add(root, self.value)
        yield root
