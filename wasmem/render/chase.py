"""`wasmem chase`: a telescope of classified words, or a typed tree with pointers followed."""

from __future__ import annotations

from rich.console import Group
from rich.text import Text
from rich.tree import Tree

from .common import fmt_bytes, shown
from .dump import call_line
from .value import ValueView, append_note

REGION_STYLE = {"stack": "magenta", "data": "green", "rodata": "cyan", "bss": "yellow", "heap": "blue"}



def _quote(s: str, complete: bool = True) -> str:
    esc = s.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n").replace("\t", "\\t").replace("\r", "\\r")
    return f'"{esc}"' + ("" if complete else "…")


def word_text(w, word_size: int = 4, label_width: int = 0) -> Text:
    """``0x00010094 <node_a+0x4>   0x000100a0  → data <node_b>``."""
    t = Text()
    aw = 8 if word_size == 4 else 16
    t.append(f"0x{w.address:0{aw}x} ", style="cyan")
    t.append(f"{shown(w.label):<{label_width}}", style="dim")
    t.append(f"  0x{w.value:0{2 * word_size}x}  ")
    if w.kind == "null":
        t.append("NULL", style="grey50")
    elif w.kind in ("pointer", "string"):
        t.append("→ ", style="bold")
        t.append(w.region or "", style=REGION_STYLE.get(w.region or "", ""))
        if w.target:
            t.append(f" {shown(w.target)}", style="bold")
        if w.kind == "string":
            t.append(f" {shown(_quote(w.string or '', w.string_complete))}", style="green")
        append_note(t, w.note, w.cycle_to, w.target)
    elif w.kind == "function":
        t.append(f"table[{w.value}] → ", style="dim")
        t.append(f"{shown(w.target)}()", style="bold magenta")
    else:
        signed = w.value - (1 << (8 * word_size)) if w.value >> (8 * word_size - 1) else w.value
        t.append(str(signed))
    return t


class TelescopeView:
    """A ``wasmem.model.chase.TelescopeBlock`` as a tree: each followed pointer holds the words it points at."""

    def __init__(self, block, word_size: int = 4):
        self.block = block
        self.word_size = word_size

    def _width(self, block) -> int:
        n = max((len(shown(w.label)) for w in block.words), default=0)
        for w in block.words:
            if w.block is not None:
                n = max(n, self._width(w.block))
        return min(n, 28)

    def _add(self, node: Tree, block, width: int) -> None:
        for w in block.words:
            child = node.add(word_text(w, self.word_size, width))
            if w.block is not None:
                self._add(child, w.block, width)
        if block.truncated:
            why = "the chase-words budget: --budget chase-words=N" if block.words_cut else "end of memory"
            node.add(Text(f"… ({why})", style="dim"))

    def __rich_console__(self, console, options):
        b = self.block
        head = Text(f"{b.size} bytes at {b.address:#x}", style="bold")
        if b.label:
            head.append(f" {shown(b.label)}")
        tree = Tree(head, guide_style="dim")
        self._add(tree, b, self._width(b))
        yield tree


class ChaseView:
    def __init__(self, chase, calls=()):
        self.chase = chase
        self.calls = calls

    def __rich_console__(self, console, options):
        c = self.chase
        for r in self.calls:
            yield call_line(r)
        head = Text("chase ", style="bold")
        head.append(shown(c.expression), style="bold")
        head.append(f" = {c.address:#x}")
        if c.label and c.label != f"<{c.expression}>":
            head.append(f" {shown(c.label)}")
        if c.type_name:
            head.append(f"  ({shown(c.type_name)})", style="dim")
        head.append(f"  depth {c.depth}, memory {fmt_bytes(c.memory_size)}", style="dim")
        if c.sp is not None:
            head.append(f", sp=0x{c.sp:x}", style="magenta")
        head.append(f", symbols from {shown(c.symbols_from)}" if c.symbols_from else "", style="dim")
        yield head
        if c.value is not None:
            yield ValueView(c.value)
        elif c.words is not None:
            yield TelescopeView(c.words, c.word_size)


def render_chase(outcome) -> Group:
    return Group(ChaseView(outcome.chase, outcome.calls))
