"""Pointer chasing in linear memory: a wasm-aware telescope and a typed walk (pure stdlib).

Everything here works on a ``read(addr, n) -> bytes`` callback, the memory's regions (the layout
model's ``Region`` objects: ``kind``, ``start``, ``end``, ``label``) and an optional symbol table
(duck-typed: ``symbol_at(addr)``, ``label(addr)``, ``region_of(addr)``,
``function_for_table_index(i)``); nothing imports wasmtime or the DWARF reader.

**Telescope** (no types): memory is split into words (4 bytes, 8 for memory64). Each word is
classified as

- ``null`` (0),
- ``pointer`` into the data segments, the heap or the *live* stack ``[sp, stack_high)`` (in a
  stack-first layout every small integer is "inside the stack", so only the live part counts),
- ``string`` — a pointer to a C string (the preview is the end of that chain),
- ``function`` — a valid index into the function table (wasm function pointers are table
  indices, not addresses),
- ``value`` — anything else.

A pointer is followed: the words it points at (to the end of the symbol holding the target,
else ``span`` words) become its children, up to ``depth`` pointers deep. A pointer back into a
block on the current path is a cycle (``↺ cycle to 0x…``); a block already shown elsewhere is not
shown twice.

**Typed walk**: a value tree decoded through DWARF types (``wasmem.debuginfo.format_value``,
passed in as ``decode``) whose pointer members are followed the same way; a pointer to the same
struct type as the one holding it (``struct node *next``) is a list link and does not use up depth,
so linked lists are walked until null, a cycle or ``max_list`` nodes.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from ..budgets import BUDGETS

Read = Callable[[int, int], bytes]

DEFAULT_SPAN = 4  # words shown at a pointer target whose size is unknown
MAX_BLOCK_WORDS = 16  # words shown at one pointer target at most
MAX_WORDS = BUDGETS["chase-words"].default  # words in one telescope at most (--budget chase-words=N)
STRING_MIN = 2  # printable bytes before the NUL for a C-string guess


# -- classification ------------------------------------------------------------------------------
@dataclass
class MemoryMap:
    """What a pointer may point at: the regions of memory 0, its current size and the stack pointer."""

    regions: list = field(default_factory=list)
    memory_size: int = 0
    sp: int | None = None
    word_size: int = 4
    symbols: object = None

    def __post_init__(self):
        from .values import region_finder

        self._find = region_finder(self.regions)
        heaps = [r for r in self.regions if r.kind == "heap"]
        self._heap_start = heaps[-1].start if heaps else None

    def region_kind(self, addr: int) -> str | None:
        """stack / data / heap / free / reserved for an address inside memory, else None. The heap
        runs to the end of the memory (it may have grown past the layout's initial heap)."""
        if not 0 <= addr < self.memory_size:
            return None
        r = self._find(addr)
        if r is not None:
            return r.kind
        if self._heap_start is not None and addr >= self._heap_start:
            return "heap"
        return None

    def stack_range(self) -> tuple[int, int] | None:
        for r in self.regions:
            if r.kind == "stack":
                return r.start, r.end
        return None

    def pointer_region(self, value: int) -> str | None:
        """The region a value points into when it looks like a pointer: data (or rodata/bss with
        symbols), heap, or the live stack; None otherwise."""
        kind = self.region_kind(value)
        if kind == "stack":
            st = self.stack_range()
            live_low = self.sp if self.sp is not None else (st[1] if st else value + 1)
            if st is None or not live_low <= value < st[1]:
                return None
            return "stack"
        if kind not in ("data", "heap"):
            return None
        if kind == "data" and self.symbols is not None:
            try:
                return self.symbols.region_of(value) or "data"
            except Exception:  # noqa: BLE001 - a label is a nicety
                return "data"
        return kind

    def label(self, addr: int) -> str | None:
        if self.symbols is None:
            return None
        try:
            return self.symbols.label(addr)
        except Exception:  # noqa: BLE001
            return None

    def function_name(self, index: int) -> str | None:
        if self.symbols is None or index <= 0:
            return None
        try:
            f = self.symbols.function_for_table_index(index)
        except Exception:  # noqa: BLE001
            return None
        return None if f is None else getattr(f, "display_name", None) or getattr(f, "name", None)

    def span_at(self, addr: int) -> int:
        """Bytes to show at a pointer target: to the end of the sized symbol holding it, else
        ``DEFAULT_SPAN`` words; never past the end of memory."""
        n = DEFAULT_SPAN * self.word_size
        if self.symbols is not None:
            try:
                got = self.symbols.symbol_at(addr)
            except Exception:  # noqa: BLE001
                got = None
            if got is not None:
                sym, off = got
                if sym.kind not in ("segment", "marker") and sym.size:
                    n = max(self.word_size, sym.size - off)
        n = min(n, MAX_BLOCK_WORDS * self.word_size)
        return max(0, min(n, self.memory_size - addr))


def c_string_at(read: Read, addr: int, limit: int = 64) -> tuple[str, bool] | None:
    """(text, complete) when ``addr`` holds a plausible C string: at least ``STRING_MIN`` printable
    bytes then a NUL, or ``limit`` printable bytes; None otherwise."""
    try:
        raw = read(addr, limit)
    except Exception:  # noqa: BLE001 - near the end of memory: try a shorter read
        try:
            raw = read(addr, 8)
        except Exception:  # noqa: BLE001
            return None
    z = raw.find(0)
    body = raw if z < 0 else raw[:z]
    if len(body) < STRING_MIN or (z < 0 and len(body) < len(raw)):
        return None
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        return None
    if not all(c.isprintable() or c in "\t\n\r" for c in text):
        return None
    return text, z >= 0


# -- the telescope -------------------------------------------------------------------------------
@dataclass
class TelescopeWord:
    """One word of a telescope, classified; a followed pointer holds the block it points at."""

    address: int
    value: int
    kind: str  # null | pointer | string | function | value
    label: str | None = None  # <sym+off> of this word's own address
    region: str | None = None  # pointers: region of the target
    target: str | None = None  # pointers: <sym+off> of the target; functions: the function's name
    string: str | None = None
    string_complete: bool = True
    note: str | None = None  # cycle | seen | depth | None
    cycle_to: int | None = None
    block: TelescopeBlock | None = None  # the words at the target, when followed

    def to_dict(self) -> dict:
        d: dict = {"address": self.address, "value": self.value, "kind": self.kind, "label": self.label}
        if self.region is not None:
            d["region"] = self.region
        if self.target is not None:
            d["target"] = self.target
        if self.string is not None:
            d["string"] = self.string
        if self.note is not None:
            d["note"] = self.note
        if self.cycle_to is not None:
            d["cycle_to"] = self.cycle_to
        if self.block is not None:
            d["block"] = self.block.to_dict()
        return d


@dataclass
class TelescopeBlock:
    """The words of one range of memory, as the telescope shows them."""

    address: int
    size: int
    label: str | None
    words: list[TelescopeWord] = field(default_factory=list)
    truncated: bool = False  # the word limit or the end of memory was reached
    words_cut: bool = False  # it was the word limit (chase-words): a note names the option

    @property
    def end(self) -> int:
        return self.address + self.size

    def to_dict(self) -> dict:
        d = {"address": self.address, "size": self.size, "label": self.label,
             "words": [w.to_dict() for w in self.words]}
        if self.truncated:
            d["truncated"] = True
        return d


def telescope(read: Read, address: int, length: int, mem: MemoryMap, *, depth: int = 4,
              max_words: int = MAX_WORDS) -> TelescopeBlock:
    """The words of ``[address, address + length)`` classified, pointers followed ``depth`` deep."""
    tel = _Telescope(read, mem, max_words)
    root = tel.block(address, length, depth, ())
    root.words_cut = root.words_cut or tel.cut  # on the root too: the tree lost words somewhere
    return root


class _Telescope:
    def __init__(self, read: Read, mem: MemoryMap, max_words: int):
        self.read = read
        self.mem = mem
        self.budget = max_words
        self.cut = False  # the word budget ran out somewhere in the tree
        self.shown: set[int] = set()  # start addresses of blocks already shown

    def block(self, address: int, length: int, depth: int, path: tuple[tuple[int, int], ...]) -> TelescopeBlock:
        ws = self.mem.word_size
        n = length // ws if length >= ws else (1 if length > 0 else 0)
        b = TelescopeBlock(address, n * ws, self.mem.label(address))
        self.shown.add(address)
        here = path + ((address, address + n * ws),)
        for i in range(n):
            if self.budget <= 0:
                b.truncated = b.words_cut = True
                self.cut = True
                break
            self.budget -= 1
            a = address + i * ws
            try:
                raw = self.read(a, ws)
            except Exception:  # noqa: BLE001 - the block runs off the end of memory
                b.truncated = True
                break
            b.words.append(self.word(a, int.from_bytes(raw, "little"), depth, here))
        return b

    def word(self, addr: int, v: int, depth: int, path) -> TelescopeWord:
        mem = self.mem
        w = TelescopeWord(addr, v, "value", label=mem.label(addr))
        if v == 0:
            w.kind = "null"
            return w
        region = mem.pointer_region(v)
        if region is not None:
            w.kind, w.region, w.target = "pointer", region, mem.label(v)
            s = c_string_at(self.read, v)
            if s is not None:  # a string preview ends the chain
                w.kind, (w.string, w.string_complete) = "string", s
                return w
            for lo, hi in path:
                if lo <= v < hi:
                    w.note, w.cycle_to = "cycle", v
                    return w
            if v in self.shown:
                w.note = "seen"
                return w
            if depth <= 0:
                w.note = "depth"
                return w
            span = mem.span_at(v)
            nxt = min((b for b in self.shown if b > v), default=None)
            if nxt is not None and nxt - v < span:  # do not run into a block already shown
                span = max(mem.word_size, nxt - v)
            w.block = self.block(v, span, depth - 1, path)
            return w
        fname = mem.function_name(v)
        if fname is not None:
            w.kind, w.target = "function", fname
        return w


# -- the typed walk ------------------------------------------------------------------------------
def _strip(t):
    return t.strip() if t is not None and hasattr(t, "strip") else t


def _size(t) -> int | None:
    if t is None:
        return None
    if getattr(t, "size", None):
        return t.size
    s = _strip(t)
    return getattr(s, "size", None)


def pointee_of(t):
    """The type a data pointer type points to, when following it makes sense (not void, not a
    function, not char: those are shown by the decoder); else None."""
    s = _strip(t)
    if s is None or getattr(s, "kind", None) != "pointer":
        return None
    p = getattr(s, "pointee", None)
    ps = _strip(p)
    if ps is None or getattr(ps, "kind", None) in ("void", "function", "unknown"):
        return None
    if getattr(ps, "kind", None) == "base" and ps.size == 1:
        return None  # char *: the decoder shows the string
    if getattr(ps, "kind", None) == "struct" and getattr(ps, "declaration", False):
        return None  # incomplete type
    return p if _size(p) else None


def typed_walk(root, decode: Callable, *, depth: int = 4, memory_size: int | None = None,
               max_nodes: int = 256, max_list: int = 64):
    """Follows the pointers in a decoded value tree (``wasmem.debuginfo.Value``): each non-null
    data pointer gets its target, ``decode(type, addr, label)``, as its one child. Marks pointers
    (``note``): ``cycle`` (``cycle_to``) back to an object on the current path, ``seen`` for a
    target shown elsewhere, ``out of bounds``, ``depth`` when the depth ran out, ``list limit``."""
    _Walker(decode, memory_size, max_nodes, max_list).walk(root, depth, (root.address,), None, 0)
    return root


class _Walker:
    def __init__(self, decode, memory_size, max_nodes, max_list):
        self.decode = decode
        self.memory_size = memory_size
        self.budget = max_nodes
        self.max_list = max_list
        self.shown: set[tuple[int, int]] = set()

    def walk(self, v, depth: int, path: tuple[int, ...], enclosing, list_len: int) -> None:
        kind = getattr(v, "kind", None)
        if kind in ("struct", "union", "class"):
            self.shown.add((v.address, id(_strip(v.type))))
            for c in list(v.children):
                self.walk(c, depth, path, _strip(v.type), list_len)
            return
        if kind == "array":
            for c in list(v.children):
                self.walk(c, depth, path, enclosing, list_len)
            return
        if kind != "pointer" or not v.value or v.string is not None:
            return
        pointee = pointee_of(v.type)
        if pointee is None:
            return
        p = v.value
        size = _size(pointee) or 1
        link = enclosing is not None and _strip(pointee) is enclosing
        if p in path:
            v.note, v.cycle_to = "cycle", p
            return
        if self.memory_size is not None and p + size > self.memory_size:
            v.note = "out of bounds"
            return
        if (p, id(_strip(pointee))) in self.shown:
            v.note = "seen"
            return
        if link and list_len + 1 >= self.max_list:
            v.note = "list limit"
            return
        if not link and depth <= 0:
            v.note = "depth"
            return
        if self.budget <= 0:
            v.note = "limit"
            return
        self.budget -= 1
        child = self.decode(pointee, p, "*" + v.label.lstrip("."))
        v.children.append(child)
        self.walk(child, depth if link else depth - 1, path + (p,), enclosing, list_len + 1 if link else 0)


# -- the outcome ---------------------------------------------------------------------------------
@dataclass
class Chase:
    """What ``wasmem chase`` shows: where it started, and a telescope or a typed tree."""

    address: int
    expression: str
    depth: int
    word_size: int
    label: str | None = None
    type_name: str | None = None
    words: TelescopeBlock | None = None  # untyped
    value: object = None  # typed: a wasmem.debuginfo.Value with pointers followed
    memory_size: int = 0
    sp: int | None = None
    source: str = "instance"
    symbols_from: str | None = None

    @property
    def mode(self) -> str:
        return "typed" if self.value is not None else "words"

    def to_dict(self) -> dict:
        d = {"address": self.address, "expression": self.expression, "label": self.label, "mode": self.mode,
             "type": self.type_name, "depth": self.depth, "word_size": self.word_size,
             "memory_size": self.memory_size, "sp": self.sp, "symbols": self.symbols_from}
        if self.words is not None:
            d["words"] = self.words.to_dict()
        if self.value is not None:
            d["value"] = self.value.to_dict()
        return d
