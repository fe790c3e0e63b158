"""Typed values in linear memory: call arguments, C struct layouts, typed dumps, C strings.

Pure stdlib. Parsing errors are ``UsageError`` (they come from what a user typed).
"""

from __future__ import annotations

import math
import re
import struct
from dataclasses import dataclass, field

from ..errors import UsageError
from .ranges import ByteRanges

# scalar types a layout or a dump format may name: size, struct code (little endian, no prefix)
SCALARS: dict[str, tuple[int, str]] = {
    "i8": (1, "b"), "u8": (1, "B"), "i16": (2, "h"), "u16": (2, "H"), "i32": (4, "i"), "u32": (4, "I"),
    "i64": (8, "q"), "u64": (8, "Q"), "f32": (4, "f"), "f64": (8, "d"), "ptr": (4, "I"), "ptr64": (8, "Q"),
    "bool": (1, "?"), "char": (1, "b"),
}
ALIASES = {"int": "i32", "uint": "u32", "long long": "i64", "short": "i16", "float": "f32", "double": "f64",
           "size_t": "u32", "usize": "u32", "isize": "i32", "byte": "u8", "int8_t": "i8", "uint8_t": "u8",
           "int16_t": "i16", "uint16_t": "u16", "int32_t": "i32", "uint32_t": "u32", "int64_t": "i64",
           "uint64_t": "u64"}
DUMP_FORMATS = ("hex", "i8", "u8", "i16", "u16", "i32", "u32", "i64", "u64", "f32", "f64", "ptr")


# -- call arguments -----------------------------------------------------------------------------
_INT_RE = re.compile(r"^([+-]?)(0x[0-9a-f_]+|0o[0-7_]+|0b[01_]+|[0-9_]+)$", re.I)


def parse_int(text: str) -> int:
    """Decimal, ``0x`` hex, ``0o``, ``0b``, with an optional sign; raises ValueError otherwise."""
    m = _INT_RE.match(text.strip())
    if not m:
        raise ValueError(f"not an integer: {text!r}")
    return int(m.group(1) + m.group(2), 0)


def parse_arg(text: str, valtype: str) -> int | float:
    """Parses one argument for a parameter of ``valtype`` (i32/i64/f32/f64). Integers accept decimal,
    ``0x`` hex, negative values and unsigned values that wrap (``0xffffffff`` → -1 for i32); the result is
    the signed value wasm passes. Floats accept ``inf``, ``-inf``, ``nan`` and hex floats."""
    t = text.strip()
    if valtype in ("i32", "i64"):
        bits = 32 if valtype == "i32" else 64
        try:
            v = parse_int(t)
        except ValueError:
            if t.lower() in ("true", "false"):
                return int(t.lower() == "true")
            raise UsageError(f"{text!r} is not a valid {valtype} (decimal, 0x hex or negative)") from None
        if not -(1 << (bits - 1)) <= v < (1 << bits):
            raise UsageError(f"{text!r} does not fit in {valtype}")
        v &= (1 << bits) - 1
        return v - (1 << bits) if v >> (bits - 1) else v
    if valtype in ("f32", "f64"):
        low = t.lower()
        try:
            if low in ("inf", "+inf", "infinity", "+infinity"):
                return math.inf
            if low in ("-inf", "-infinity"):
                return -math.inf
            if low in ("nan", "+nan", "-nan"):
                return math.nan
            if re.match(r"^[+-]?0x", low):
                return float.fromhex(t)
            return float(t)
        except ValueError:
            raise UsageError(f"{text!r} is not a valid {valtype} (a number, inf or nan)") from None
    raise UsageError(f"cannot pass a value of type {valtype} from the command line")


@dataclass(frozen=True)
class MemoryArg:
    """An argument placed in linear memory for the call: ``s:``/``b:`` pass (pointer, length), ``z:``/``p:``
    pass the pointer alone (``z:`` adds the terminating NUL)."""

    data: bytes
    pair: bool  # True: two parameters (ptr, len); False: one (ptr)
    text: bool  # True: a string (s:, z:), False: bytes (b:, p:)

    @property
    def slots(self) -> int:
        return 2 if self.pair else 1


def _hex_arg(text: str) -> bytes:
    raw = text[2:].replace(" ", "").replace("_", "")
    try:
        return bytes.fromhex(raw)
    except ValueError:
        raise UsageError(f"{text[:40]!r}: {text[:2]} takes hex digits, e.g. {text[:2]}68656c6c6f") from None


def _utf8_arg(text: str) -> bytes:
    # command-line text that was not valid UTF-8 arrives with surrogate escapes: pass those bytes as they were
    return text[2:].encode("utf-8", "surrogateescape")


def parse_memory_arg(text: str) -> MemoryArg | None:
    """``s:TEXT``, ``b:HEX`` (pointer and length), ``z:TEXT`` (pointer to NUL-terminated UTF-8), ``p:HEX``
    (pointer to the bytes) → MemoryArg; None for an ordinary argument."""
    kind = text[:2]
    if kind == "s:":
        return MemoryArg(_utf8_arg(text), True, True)
    if kind == "z:":
        return MemoryArg(_utf8_arg(text) + b"\0", False, True)
    if kind == "b:":
        return MemoryArg(_hex_arg(text), True, False)
    if kind == "p:":
        return MemoryArg(_hex_arg(text), False, False)
    return None


def parse_write(text: str) -> tuple[str, bytes]:
    """``ADDR=HEX`` (``--write``) → (address expression, bytes). ADDR is anything an address option takes
    (``0x1000``, ``__heap_base+16``, a symbol); HEX may contain spaces and underscores."""
    addr, sep, hexdata = text.partition("=")
    if not sep or not addr.strip():
        raise UsageError(f"--write {text[:40]!r}: expected ADDR=HEX, e.g. --write 0x1000=deadbeef")
    raw = hexdata.replace(" ", "").replace("_", "")
    try:
        data = bytes.fromhex(raw)
    except ValueError:
        raise UsageError(f"--write {text[:40]!r}: the bytes must be hex digits, e.g. 0x1000=deadbeef") from None
    if not data:
        raise UsageError(f"--write {text[:40]!r}: no bytes to write")
    return addr.strip(), data


def parse_bytes_arg(text: str) -> bytes | None:
    """The bytes of an ``s:``/``b:``/``z:``/``p:`` argument; None for an ordinary argument."""
    m = parse_memory_arg(text)
    return None if m is None else m.data


def format_value(v, valtype: str | None = None) -> str:
    if isinstance(v, float):
        if math.isnan(v):
            return "nan"
        if math.isinf(v):
            return "inf" if v > 0 else "-inf"
        return repr(v)
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int) and valtype in ("i32", "i64") and v < 0:
        bits = 32 if valtype == "i32" else 64
        return f"{v} ({v & ((1 << bits) - 1):#x})"
    return str(v)


# -- struct layouts -----------------------------------------------------------------------------
@dataclass(frozen=True)
class Field:
    name: str
    type: str  # a scalar name from SCALARS
    offset: int
    size: int  # of one element
    align: int
    count: int = 1  # > 1 for arrays: "u8[16]"


@dataclass(frozen=True)
class Layout:
    fields: tuple[Field, ...]
    size: int
    align: int

    def __str__(self) -> str:
        return ", ".join(f"{f.name}: {f.type}" + (f"[{f.count}]" if f.count > 1 else "") for f in self.fields)


_FIELD_RE = re.compile(r"^(?:(?P<name>[A-Za-z_][\w.]*)\s*:\s*)?(?P<type>[A-Za-z_][\w ]*?)\s*"
                       r"(?:\[(?P<count>\d+)\])?\s*(?P<name2>[A-Za-z_]\w*)?$")


def _canon(t: str) -> str:
    t = t.strip().lower()
    return ALIASES.get(t, t)


def parse_layout(text: str) -> Layout:
    """``"f64,f64"``, ``"x:f64,y:f64"``, ``"f64 x, f64 y"`` or ``"i32,u8[16]"`` → fields at C struct offsets
    (each field aligned to its size, the struct padded to its largest alignment)."""
    fields: list[Field] = []
    off = 0
    align = 1
    parts = [p.strip() for p in text.split(",") if p.strip()]
    if not parts:
        raise UsageError("empty layout: give field types like f64,f64")
    for i, part in enumerate(parts):
        name = None
        tname = None
        count = 1
        if ":" in part:
            name, _, rest = part.partition(":")
            name = name.strip()
            tname = rest.strip()
        else:
            bits = part.split()
            if len(bits) == 2 and _canon(bits[0].split("[")[0]) in SCALARS:
                tname, name = bits
            else:
                tname = part
        m = re.match(r"^(.*?)\s*\[(\d+)\]$", tname)
        if m:
            tname, count = m.group(1), int(m.group(2))
        t = _canon(tname)
        if t not in SCALARS:
            raise UsageError(f"unknown field type {tname!r} in layout {text!r}; "
                             f"use {', '.join(k for k in SCALARS if k != 'ptr64')}")
        size = SCALARS[t][0]
        off = (off + size - 1) // size * size
        fields.append(Field(name or f"f{i}", t, off, size, size, count))
        off += size * count
        align = max(align, size)
    total = (off + align - 1) // align * align
    return Layout(tuple(fields), total, align)


def _unpack(t: str, raw: bytes, big_endian: bool = False):
    size, code = SCALARS[t]
    return struct.unpack((">" if big_endian else "<") + code, raw[:size])[0]


def decode_fields(data: bytes, layout: Layout) -> list[tuple[Field, object]]:
    """Decodes each field of ``layout`` from ``data`` (which must hold ``layout.size`` bytes)."""
    if len(data) < layout.size:
        raise UsageError(f"layout needs {layout.size} bytes but only {len(data)} were read")
    out: list[tuple[Field, object]] = []
    for f in layout.fields:
        if f.count == 1:
            out.append((f, _unpack(f.type, data[f.offset:f.offset + f.size])))
        else:
            out.append((f, decode_array(data[f.offset:f.offset + f.size * f.count], f.type)))
    return out


def decode_array(data: bytes, fmt: str, big_endian: bool = False) -> list:
    """Every whole element of type ``fmt`` (i8 … f64, ptr) in ``data``; a trailing partial element is ignored."""
    t = _canon(fmt)
    if t not in SCALARS:
        raise UsageError(f"unknown format {fmt!r}; use one of {', '.join(DUMP_FORMATS)}")
    size, code = SCALARS[t]
    n = len(data) // size
    if n == 0:
        return []
    return list(struct.unpack(f"{'>' if big_endian else '<'}{n}{code}", bytes(data[:n * size])))


def c_string(data: bytes, max: int | None = None) -> str:
    """The NUL-terminated string at the start of ``data`` (at most ``max`` bytes), UTF-8 with replacement."""
    raw = bytes(data if max is None else data[:max])
    end = raw.find(b"\0")
    if end >= 0:
        raw = raw[:end]
    return raw.decode("utf-8", errors="replace")


# -- address expressions ------------------------------------------------------------------------
_ADDR_RE = re.compile(r"^\s*(?P<base>[^+\-\s]+|-?\d+)\s*(?:(?P<op>[+-])\s*(?P<off>\S+))?\s*$")


def eval_address(text: str, resolve) -> int:
    """``1024``, ``0x400``, ``sp``, ``__heap_base``, ``name+0x10``, ``sp-16``. ``resolve(name)`` returns
    the value of a symbol or None; an unknown name is a ``UsageError``."""
    t = text.strip()
    try:
        return parse_int(t)
    except ValueError:
        pass
    m = _ADDR_RE.match(t)
    if not m:
        raise UsageError(f"cannot read address {text!r}: use a number, 0x hex, sp, a global name, or name+0x10")
    base = m.group("base")
    try:
        value = parse_int(base)
    except ValueError:
        value = resolve(base)
        if value is None:
            raise UsageError(f"unknown address {base!r}: not a number, `sp`, or an exported/named global") from None
    if m.group("op"):
        try:
            off = parse_int(m.group("off"))
        except ValueError:
            raise UsageError(f"bad offset {m.group('off')!r} in address {text!r}") from None
        value = value + off if m.group("op") == "+" else value - off
    if value < 0:
        raise UsageError(f"address {text!r} is negative ({value})")
    return value


# -- memory images and typed dumps ---------------------------------------------------------------
@dataclass
class MemoryImage:
    """A raw memory image (e.g. saved from a browser) with the same read API as a live session."""

    data: bytes
    name: str = "snapshot"

    @property
    def size(self) -> int:
        return len(self.data)

    def read(self, addr: int, n: int) -> bytes:
        check_range(addr, n, len(self.data), f"the {self.name}")
        return bytes(self.data[addr:addr + n])


def check_range(addr: int, n: int, size: int, what: str = "memory") -> None:
    if n < 0:
        raise UsageError(f"length {n} is negative")
    if addr < 0 or addr + n > size:
        pages = size / 65536
        ptxt = (f"{size // 65536} page{'' if size == 65536 else 's'}" if size % 65536 == 0
                else f"{pages:.2f} pages")
        raise UsageError(f"cannot read {n} bytes at {addr:#x}: {what} is {size} bytes ({ptxt}), "
                         f"valid addresses are 0x0..{max(size - 1, 0):#x}")


@dataclass
class DumpRow:
    address: int
    data: bytes
    values: list  # decoded values (empty for hex)
    label: str = ""
    changed: tuple[int, ...] = ()  # offsets within the row whose bytes changed


@dataclass
class Dump:
    address: int
    data: bytes
    fmt: str
    width: int
    big_endian: bool
    memory: int
    memory_size: int
    rows: list[DumpRow] = field(default_factory=list)

    def to_dict(self) -> dict:
        return {
            "address": self.address, "length": len(self.data), "format": self.fmt, "width": self.width,
            "big_endian": self.big_endian, "memory": self.memory, "memory_size": self.memory_size,
            "hex": self.data.hex(),
            "rows": [{"address": r.address, "hex": r.data.hex(), "label": r.label,
                      **({"values": [_json_value(v) for v in r.values]} if self.fmt != "hex" else {})}
                     for r in self.rows],
        }


def _json_value(v):
    if isinstance(v, float) and (math.isnan(v) or math.isinf(v)):
        return format_value(v)
    return v


def region_finder(regions):
    """``find(addr) -> region or None`` over regions sorted by start and not overlapping (as the layout
    model makes them), by binary search: a dump of 1 MiB asks 65,536 times."""
    from bisect import bisect_right

    regions = list(regions or ())
    starts = [r.start for r in regions]

    def find(addr: int):
        i = bisect_right(starts, addr) - 1
        if i >= 0 and addr < regions[i].end:
            return regions[i]
        return None

    return find


def make_dump(data: bytes, address: int, fmt: str = "hex", *, width: int | None = None, big_endian: bool = False,
              regions=(), changed=None, memory: int = 0, memory_size: int = 0,
              labeler=None) -> Dump:
    """Splits ``data`` (read at ``address``) into rows of ``width`` bytes (16 for hex), decodes typed
    formats, and labels each row with ``labeler(row_address)`` (e.g. ``<config+0x10>``) when that
    gives a label, else with the region its first byte is in."""
    fmt = _canon(fmt) if fmt != "hex" else "hex"
    if fmt != "hex" and fmt not in SCALARS:
        raise UsageError(f"unknown format {fmt!r}; use one of {', '.join(DUMP_FORMATS)}")
    esize = 1 if fmt == "hex" else SCALARS[fmt][0]
    if width is None:
        width = 16
    elif fmt != "hex":
        width = width * esize  # --width counts elements for typed formats
    if width <= 0:
        raise UsageError("--width must be positive")
    if width % esize:
        width = (width // esize + 1) * esize
    if changed:  # a ByteRanges (what a call changed) or addresses; only the dumped window is looked at
        changed = ByteRanges.from_addresses(changed).clip(address, address + len(data))
    dump = Dump(address, bytes(data), fmt, width, big_endian, memory, memory_size)
    find_region = region_finder(regions)
    for off in range(0, len(data), width):
        chunk = bytes(data[off:off + width])
        a = address + off
        values = [] if fmt == "hex" else decode_array(chunk, fmt, big_endian)
        ch = changed.offsets(a, a + len(chunk)) if changed else ()
        region = find_region(a)
        label = (labeler(a) if labeler is not None else None) or (
            (getattr(region, "label", "") or getattr(region, "kind", "")) if region is not None else "")
        dump.rows.append(DumpRow(a, chunk, values, label, ch))
    return dump
