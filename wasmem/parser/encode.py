"""Small binary rewrites of a module: append exports (and globals) without touching anything else.

Non-exported globals and memories are invisible to a host; the runtime appends exports for them.
Everything here works on the raw bytes and returns new bytes; the input is never modified.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..errors import ParseError
from .module import SECTION_ORDER, WasmModule
from .reader import Reader

KIND_CODES = {"func": 0, "table": 1, "memory": 2, "global": 3, "tag": 4}
VALTYPE_CODES = {"i32": 0x7F, "i64": 0x7E, "f32": 0x7D, "f64": 0x7C}
EXPORT_SECTION = 7
GLOBAL_SECTION = 6


def uleb(n: int) -> bytes:
    if n < 0:
        raise ValueError("uleb of a negative number")
    out = bytearray()
    while True:
        b = n & 0x7F
        n >>= 7
        if n:
            out.append(b | 0x80)
        else:
            out.append(b)
            return bytes(out)


def sleb(n: int) -> bytes:
    out = bytearray()
    while True:
        b = n & 0x7F
        n >>= 7
        if (n == 0 and not b & 0x40) or (n == -1 and b & 0x40):
            out.append(b)
            return bytes(out)
        out.append(b | 0x80)


def encode_name(name: str) -> bytes:
    raw = name.encode("utf-8")
    return uleb(len(raw)) + raw


def encode_section(sid: int, payload: bytes) -> bytes:
    return bytes([sid]) + uleb(len(payload)) + payload


@dataclass(frozen=True)
class Rewrite:
    """The rewritten module plus how file offsets moved: every original offset ``>= at`` moved by ``delta``."""

    data: bytes
    names: list[str]  # the export names actually used, in the order requested
    at: int
    delta: int

    def original_offset(self, new_offset: int) -> int:
        """Maps an offset in the rewritten module back to the original file."""
        if new_offset >= self.at + self.delta:
            return new_offset - self.delta
        return new_offset


def _insertion_point(module: WasmModule, sid: int) -> int:
    """Offset where a new section ``sid`` goes: right after the last known section that must precede it."""
    order = SECTION_ORDER[sid]
    pos = 8
    for h in module.sections:
        if h.id != 0 and SECTION_ORDER[h.id] < order:
            pos = h.end
    return pos


def _replace_section(data: bytes, module: WasmModule, sid: int, payload: bytes) -> tuple[bytes, int, int]:
    """Replaces section ``sid`` (or inserts it) with ``payload``. Returns (new data, at, delta)."""
    h = module.get_section(sid)
    new = encode_section(sid, payload)
    if h is not None:
        out = data[:h.offset] + new + data[h.end:]
        return out, h.offset, len(new) - (h.end - h.offset)
    at = _insertion_point(module, sid)
    return data[:at] + new + data[at:], at, len(new)


def vector_payload(data, module: WasmModule, sid: int) -> tuple[int, bytes]:
    """(entry count, entry bytes) of vector section ``sid``, or (0, b"") when it is absent."""
    h = module.get_section(sid)
    if h is None:
        return 0, b""
    r = Reader(data, h.start, h.end)
    n = r.u32()
    return n, bytes(data[r.pos:h.end])


def rebuild_sections(data: bytes, module: WasmModule, payloads: dict[int, bytes]) -> bytes:
    """The module with the sections in ``payloads`` (id → payload) replaced, or inserted where the
    section order requires them. Every other byte is copied as it is."""
    out = bytearray(data[:8])
    pending = dict(payloads)
    for h in module.sections:
        if h.id != 0:
            order = SECTION_ORDER[h.id]
            for sid in sorted((s for s in pending if SECTION_ORDER[s] < order and module.get_section(s) is None),
                              key=SECTION_ORDER.get):
                out += encode_section(sid, pending.pop(sid))
        if h.id in pending:
            out += encode_section(h.id, pending.pop(h.id))
        else:
            out += data[h.offset:h.end]
    for sid in sorted(pending, key=SECTION_ORDER.get):  # sections after the last existing one
        out += encode_section(sid, pending[sid])
    return bytes(out)


def unique_name(name: str, taken: set[str]) -> str:
    """``name``, or ``name_1``, ``name_2``… when it is taken."""
    if name not in taken:
        return name
    k = 1
    while f"{name}_{k}" in taken:
        k += 1
    return f"{name}_{k}"


def rewrite_exports(data, exports: list[tuple[str, str, int]]) -> Rewrite:
    """Appends ``(name, kind, index)`` exports; see :func:`append_exports`. Also reports the names used
    (clashing names get a ``_1``, ``_2``… suffix) and how offsets after the export section moved."""
    data = bytes(data)
    module = WasmModule.from_bytes(data)
    counts = {"func": module.num_functions, "table": len(module.tables), "memory": len(module.memories),
              "global": len(module.globals), "tag": len(module.tags)}
    existing = module.exports
    taken = {e.name for e in existing}
    new_entries = bytearray()
    names: list[str] = []
    for name, kind, index in exports:
        if kind not in KIND_CODES:
            raise ParseError(f"cannot export {name!r}: unknown kind {kind!r} (func, table, memory, global, tag)")
        if not 0 <= index < counts[kind]:
            raise ParseError(f"cannot export {kind} {index} as {name!r}: the module has {counts[kind]} {kind}s")
        used = unique_name(name, taken)
        taken.add(used)
        names.append(used)
        new_entries += encode_name(used) + bytes([KIND_CODES[kind]]) + uleb(index)
    out, at, delta = _append_entries(data, module, EXPORT_SECTION, len(existing), len(exports), bytes(new_entries))
    return Rewrite(out, names, at, delta)


def _append_entries(data: bytes, module: WasmModule, sid: int, old_count: int, count: int, entries: bytes):
    """Rewrites vector section ``sid`` with ``count`` encoded ``entries`` after its ``old_count`` ones
    (creating the section when absent). Returns what ``_replace_section`` does."""
    _, old = vector_payload(data, module, sid)
    return _replace_section(data, module, sid, uleb(old_count + count) + old + entries)


def append_exports(data, exports: list[tuple[str, str, int]]) -> bytes:
    """Returns ``data`` with the given exports added. ``exports`` holds (name, kind, index) with kind in
    func/table/memory/global/tag. The export section's count and entries are rewritten, or a new export
    section is inserted where the section order requires it. A name that clashes gets a unique suffix."""
    return rewrite_exports(data, exports).data


def append_global(data, valtype: str, mutable: bool, init: int | float) -> tuple[bytes, int]:
    """Appends a module-defined global initialised to a constant. Returns (new data, its global index)."""
    import struct

    data = bytes(data)
    module = WasmModule.from_bytes(data)
    if valtype not in VALTYPE_CODES:
        raise ParseError(f"cannot append a global of type {valtype}")
    if valtype == "i32":
        expr = b"\x41" + sleb(int(init) if int(init) < 2**31 else int(init) - 2**32)
    elif valtype == "i64":
        expr = b"\x42" + sleb(int(init) if int(init) < 2**63 else int(init) - 2**64)
    elif valtype == "f32":
        expr = b"\x43" + struct.pack("<f", init)
    else:
        expr = b"\x44" + struct.pack("<d", init)
    entry = bytes([VALTYPE_CODES[valtype], 1 if mutable else 0]) + expr + b"\x0b"
    own = [g for g in module.globals if g.imported is None]
    out, _, _ = _append_entries(data, module, GLOBAL_SECTION, len(own), 1, entry)
    return out, len(module.globals)


def cap_memory_maximum(data, caps: dict[int, int]) -> bytes:
    """A copy of ``data`` where each *defined* memory in ``caps`` (memory index → pages) declares at most
    that maximum, patched in place: the new maximum is written as a padded LEB128 of the old field's
    length, so no byte moves and every later offset stays valid. A memory whose maximum is absent or not
    above its cap is left alone (adding a maximum would move bytes)."""
    module = WasmModule.from_bytes(data)
    out = bytearray(data)
    h = module.get_section(5)
    if h is None or not caps:
        return bytes(out)
    base = sum(1 for i in module.imports if i.kind == "memory")
    r = Reader(out, h.start, h.end)
    for i in range(r.u32()):
        flags = r.u8()
        read = r.u64 if flags & 0x04 else r.u32
        lo = read()
        if flags & 0x01:
            at = r.pos
            hi = read()
            width = r.pos - at
            cap = caps.get(base + i)
            if cap is not None and hi > cap >= lo:
                out[at:at + width] = padded_uleb(cap, width)
        if flags & 0x08:
            r.u32()
    return bytes(out)


def padded_uleb(n: int, width: int) -> bytes:
    """``n`` as an unsigned LEB128 of exactly ``width`` bytes (continuation bits on every byte but the
    last: a valid encoding of the same number)."""
    if n < 0 or n >= 1 << (7 * width):
        raise ValueError(f"{n} does not fit in a {width}-byte LEB128")
    return bytes(((n >> (7 * k)) & 0x7F) | (0x80 if k < width - 1 else 0) for k in range(width))
