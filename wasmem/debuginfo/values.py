"""Typed values: decode memory bytes through a DWARF type into a tree (data only; ``render`` draws it).

``read(addr, n) -> bytes`` is any memory source: a live instance, a snapshot, or ``StaticMemory``
(the module's active data segments as the initial memory image, with .bss reading as zeros).
"""

from __future__ import annotations

import struct
from bisect import bisect_right
from collections.abc import Callable
from dataclasses import dataclass, field

from ..errors import UsageError
from .typesys import (
    MAX_TYPE_DEPTH,
    ArrayType,
    BaseType,
    EnumType,
    FunctionType,
    PointerType,
    StructType,
    Type,
    VoidType,
    sizeof,
)

Read = Callable[[int, int], bytes]

MAX_VALUE_NODES = 4096  # nodes one decoded value may have (4 levels of 64-element arrays would be 16 million)


class StaticMemory:
    """The initial linear memory of a module: active data segments; everything else reads as zero
    (that is what .bss and the untouched heap hold before the module runs)."""

    def __init__(self, module):
        segs = []
        for seg in module.data_segments:
            addr = seg.address if seg.mode == "active" and seg.memory == 0 else None
            if addr is not None and seg.size:
                segs.append((addr, module.get_segment_bytes(seg)))
        segs.sort(key=lambda s: s[0])
        self._segs = segs
        self._starts = [s[0] for s in segs]
        mem = module.memories[0] if module.memories else None
        data_end = max((a + len(b) for a, b in segs), default=0)
        self.size = max(mem.type.min_bytes, data_end) if mem is not None else data_end

    def read(self, addr: int, n: int) -> bytes:
        if addr < 0 or n < 0 or addr + n > self.size:
            raise UsageError(f"cannot read {n} bytes at {addr:#x}: outside the initial linear memory "
                             f"({self.size:#x} bytes)")
        out = bytearray(n)
        i = max(0, bisect_right(self._starts, addr) - 1)
        end = addr + n
        for start, data in self._segs[i:]:
            if start >= end:
                break
            lo, hi = max(start, addr), min(start + len(data), end)
            if lo < hi:
                out[lo - addr:hi - addr] = data[lo - start:hi - start]
        return bytes(out)

    __call__ = read


@dataclass(eq=False)
class Value:
    """One node of a decoded value.

    ``kind``: int, bool, char, float, enum, pointer, function_pointer, string (a char array),
    struct, union, class, array, function, void, unknown, error."""

    label: str  # the variable, ".member" or "[index]"
    type: Type | None
    address: int
    kind: str
    value: object = None  # int / float / bool / str (strings) / None for aggregates
    text: str = ""  # a short display of a leaf: 42, 2.5, RED, 0x100030 <counter>, "hello"
    children: list[Value] = field(default_factory=list)
    string: str | None = None  # the C string a char pointer points to
    target: str | None = None  # the <symbol+offset> a pointer points to, or a function pointer's function
    truncated: bool = False  # children were left out (depth or element limit)
    error: str | None = None
    note: str | None = None  # set by a pointer walk (wasmem.model.chase): cycle, seen, depth, out of bounds
    cycle_to: int | None = None  # the address a cycle returns to

    @property
    def type_name(self) -> str | None:
        return None if self.type is None else self.type.name

    def one_line(self, limit: int = 120) -> str:
        """A compact C-like spelling: ``{ x = 1, y = 2 }``, ``{1, 2, 3}``, ``0x10 <cfg+16> "hi"``."""
        s = self._one_line()
        return s if len(s) <= limit else s[: limit - 1] + "…"

    def _one_line(self) -> str:
        if self.kind == "error":
            return f"<{self.error}>"
        if self.kind in ("struct", "union", "class"):
            if not self.children:
                return "{…}" if self.truncated else "{}"
            inner = ", ".join(f"{c.label.lstrip('.')} = {c._one_line()}" for c in self.children)
            return "{ " + inner + (", …" if self.truncated else "") + " }"
        if self.kind == "array":
            if not self.children:
                return "[…]" if self.truncated else "{}"
            return "{" + ", ".join(c._one_line() for c in self.children) + (", …" if self.truncated else "") + "}"
        return self.text

    def to_dict(self) -> dict:
        d: dict = {"label": self.label, "type": self.type_name, "address": self.address, "kind": self.kind}
        if self.kind not in ("struct", "union", "class", "array"):
            d["value"] = self.value
            d["text"] = self.text
        if self.string is not None:
            d["string"] = self.string
        if self.target is not None:
            d["target"] = self.target
        if self.children:
            d["children"] = [c.to_dict() for c in self.children]
        if self.truncated:
            d["truncated"] = True
        if self.error:
            d["error"] = self.error
        if self.note:
            d["note"] = self.note
        if self.cycle_to is not None:
            d["cycle_to"] = self.cycle_to
        return d


def read_c_string(read: Read, addr: int, limit: int = 256) -> tuple[str, bool]:
    """(text, complete): bytes up to a NUL, at most ``limit``; reads in chunks so that a string
    near the end of memory still decodes."""
    out = bytearray()
    chunk = 64
    while len(out) < limit:
        n = min(chunk, limit - len(out))
        try:
            b = read(addr + len(out), n)
        except Exception:
            if n == 1:
                break
            chunk = max(1, n // 4)
            continue
        z = b.find(0)
        if z >= 0:
            out += b[:z]
            return out.decode("utf-8", "replace"), True
        out += b
    return out.decode("utf-8", "replace"), False


def _quote(s: str, complete: bool = True) -> str:
    esc = s.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n").replace("\t", "\\t").replace("\r", "\\r")
    esc = "".join(c if c.isprintable() else f"\\x{ord(c):02x}" for c in esc)
    return f'"{esc}"' + ("" if complete else "…")


def _int(data: bytes, signed: bool) -> int:
    return int.from_bytes(data, "little", signed=signed)


def _is_char(t: Type) -> bool:
    """Plain ``char`` (either signedness) or ``char8_t``: text. ``signed char``, ``unsigned char``
    and ``uint8_t`` are numbers."""
    s = t.strip()
    return isinstance(s, BaseType) and s.size == 1 and (s.base_name == "char" or s.encoding == "utf")


def format_value(type: Type, read: Read, addr: int, *, label: str = "", depth: int = 4, symbols=None,
                 max_elements: int = 64, max_string: int = 256) -> Value:
    """Decode the value of ``type`` at ``addr``. ``depth`` limits struct/array nesting (pointers
    are shown, not followed — except that ``char *`` shows its string); it is at most
    MAX_TYPE_DEPTH, and the tree has at most MAX_VALUE_NODES nodes (the rest is marked truncated).
    ``symbols`` (a SymbolTable) labels pointers ``<sym+off>`` and names function-pointer targets."""
    depth = max(0, min(depth, MAX_TYPE_DEPTH))
    return _Decoder(read, symbols, max_elements, max_string).value(type, addr, label, depth)


class _Decoder:
    def __init__(self, read: Read, symbols, max_elements: int, max_string: int):
        self.read = read
        self.symbols = symbols
        self.max_elements = max_elements
        self.max_string = max_string
        self.nodes = MAX_VALUE_NODES

    def value(self, t: Type, addr: int, label: str, depth: int) -> Value:
        self.nodes -= 1
        try:
            return self._value(t, addr, label, depth)
        except Exception as e:  # an unreadable address: keep the rest of the tree
            msg = e.message if isinstance(e, UsageError) else str(e)
            return Value(label, t, addr, "error", error=msg)

    def _value(self, t: Type, addr: int, label: str, depth: int) -> Value:
        s = t.strip()
        if isinstance(s, BaseType):
            return self._base(t, s, addr, label)
        if isinstance(s, EnumType):
            size = s.size or 4
            v = _int(self.read(addr, size), s.is_signed)
            n = s.name_of(v)
            return Value(label, t, addr, "enum", v, n if n is not None else str(v))
        if isinstance(s, PointerType):
            return self._pointer(t, s, addr, label)
        if isinstance(s, ArrayType):
            return self._array(t, s, addr, label, depth)
        if isinstance(s, StructType):
            return self._struct(t, s, addr, label, depth)
        if isinstance(s, FunctionType):
            return Value(label, t, addr, "function", None, f"<function {s.name}>")
        if isinstance(s, VoidType):
            return Value(label, t, addr, "void", None, "void")
        size = sizeof(t)
        if size:
            raw = self.read(addr, min(size, 64))
            return Value(label, t, addr, "unknown", raw.hex(), raw.hex(" "))
        return Value(label, t, addr, "unknown", None, "?")

    def _base(self, t: Type, s: BaseType, addr: int, label: str) -> Value:
        size = s.size or 0
        data = self.read(addr, size)
        if s.encoding == "float":
            if size == 4:
                v = struct.unpack("<f", data)[0]
            elif size == 8:
                v = struct.unpack("<d", data)[0]
            else:  # long double is binary128 on wasm32: show its bits
                return Value(label, t, addr, "float", data.hex(), "0x" + data[::-1].hex())
            return Value(label, t, addr, "float", v, repr(v))
        if s.encoding == "boolean":
            v = _int(data, False)
            return Value(label, t, addr, "bool", bool(v), "true" if v == 1 else "false" if v == 0 else str(v))
        if _is_char(s):
            v = _int(data, s.is_signed)
            ch = chr(v & 0xFF)
            return Value(label, t, addr, "char", v, f"{v} '{_quote(ch)[1:-1]}'")
        v = _int(data, s.is_signed)
        return Value(label, t, addr, "int", v, str(v))

    def _label_for(self, addr: int) -> str | None:
        if self.symbols is None:
            return None
        got = self.symbols.symbol_at(addr)
        if got is None:
            return None
        sym, off = got
        return f"<{sym.display_name}+{off:#x}>" if off else f"<{sym.display_name}>"

    def _pointer(self, t: Type, s: PointerType, addr: int, label: str) -> Value:
        size = s.size or 4
        p = _int(self.read(addr, size), False)
        target_t = s.pointee.strip()
        if isinstance(target_t, FunctionType):
            fname = self.symbols.function_for_table_index(p) if self.symbols is not None and p else None
            fname = fname.display_name if fname is not None else None
            text = "NULL" if p == 0 else f"table[{p}]" + (f" <{fname}>" if fname else "")
            return Value(label, t, addr, "function_pointer", p, text, target=fname)
        if p == 0:
            return Value(label, t, addr, "pointer", 0, "NULL")
        target = self._label_for(p)
        text = f"{p:#x}" + (f" {target}" if target else "")
        string = None
        if _is_char(s.pointee):
            try:
                string, complete = read_c_string(self.read, p, self.max_string)
                text += " " + _quote(string, complete)
            except Exception:
                string = None
        return Value(label, t, addr, "pointer", p, text, string=string, target=target)

    def _array(self, t: Type, s: ArrayType, addr: int, label: str, depth: int) -> Value:
        elem = s.element
        es = sizeof(elem) or 0
        if _is_char(elem) and s.count is not None:
            n = min(s.count, self.max_string)
            raw = self.read(addr, n)
            z = raw.find(0)
            text_bytes = raw if z < 0 else raw[:z]
            string = text_bytes.decode("utf-8", "replace")
            complete = z >= 0 or n == s.count
            return Value(label, t, addr, "string", string, _quote(string, complete), string=string)
        if s.count is None:
            return Value(label, t, addr, "array", None, "[?]", truncated=True)
        v = Value(label, t, addr, "array")
        if depth <= 0:
            v.truncated = s.count > 0
            return v
        shown = min(s.count, self.max_elements)
        for i in range(shown):
            if self.nodes <= 0:
                break
            v.children.append(self.value(elem, addr + i * es, f"[{i}]", depth - 1))
        v.truncated = len(v.children) < s.count
        return v

    def _struct(self, t: Type, s: StructType, addr: int, label: str, depth: int) -> Value:
        v = Value(label, t, addr, s.kind)
        if depth <= 0:
            v.truncated = bool(s.members)
            return v
        for m in s.members:
            if self.nodes <= 0:
                v.truncated = True
                break
            mlabel = f".{m.name}" if m.name is not None else ".<anonymous>"
            if m.bit_size is not None:
                v.children.append(self._bitfield(m, addr, mlabel))
            else:
                v.children.append(self.value(m.type, addr + m.offset, mlabel, depth - 1))
        return v

    def _bitfield(self, m, addr: int, label: str) -> Value:
        try:
            storage = sizeof(m.type) or 4
            raw = _int(self.read(addr + m.offset, storage), False)
            bits = (raw >> (m.bit_offset or 0)) & ((1 << m.bit_size) - 1)
            s = m.type.strip()
            signed = (isinstance(s, BaseType) and s.is_signed) or (isinstance(s, EnumType) and s.is_signed)
            if signed and bits >> (m.bit_size - 1):
                bits -= 1 << m.bit_size
            if isinstance(s, EnumType):
                n = s.name_of(bits)
                return Value(label, m.type, addr + m.offset, "enum", bits, n if n is not None else str(bits))
            if isinstance(s, BaseType) and s.encoding == "boolean":
                return Value(label, m.type, addr + m.offset, "bool", bool(bits), "true" if bits else "false")
            return Value(label, m.type, addr + m.offset, "int", bits, str(bits))
        except Exception as e:
            return Value(label, m.type, addr + m.offset, "error", error=str(e))
