"""Where the static data lies and what the globals point into: the data segments at their addresses (a
passive one where ``__wasm_init_memory`` copies it, with the ranges it zero-fills as .bss), the linker
symbols' values, the ``GOT.data.internal`` slots, every piece of evidence for where the data (with .bss)
ends, and the exported integer globals classified as addresses or plain values."""

from __future__ import annotations

from dataclasses import dataclass, replace
from itertools import islice

from ..errors import ParseError
from ..parser.code import decode_locals, iter_instructions
from ..parser.module import WasmModule
from .globalvalues import global_value, segment_address
from .layouttypes import DataEndFact, Finding, GlobalClass, MemoryLayout, Segment

# Linker-synthesised globals whose values are addresses (wasm-ld names).
LINKER_SYMBOLS = ("__data_end", "__heap_base", "__global_base", "__stack_low", "__stack_high",
                  "__heap_end", "__memory_base", "__table_base", "__dso_handle")
GOT_DATA_PREFIX = "GOT.data.internal."
# name tokens of globals that hold sizes, counts, ids and versions, not addresses
VALUE_NAME_TOKENS = {"len", "length", "size", "sizes", "count", "num", "number", "pages", "page", "id", "ids",
                     "max", "min", "cap", "capacity", "version", "flags", "flag", "mask", "bits", "align",
                     "alignment", "limit", "total", "nbytes", "bytes", "kind", "tag", "type", "magic"}
ADDRESS_NAME_TOKENS = {"ptr", "pointer", "addr", "address"}
MEMORY_INIT = (0xFC << 16) | 8
MEMORY_FILL = (0xFC << 16) | 11
INIT_SCAN_INSTRS = 200_000


def passive_placements(module: WasmModule, func_names: dict[int, str]
                       ) -> tuple[dict[int, int], list[tuple[int, int]]]:
    """Where the memory-initialisation function (`__wasm_init_memory`, else the start function) copies
    passive segments — ``i32.const dest; i32.const src; i32.const n; memory.init seg`` — and which
    ranges it zero-fills (.bss) with ``memory.fill``. Only constant operands count (not PIC)."""
    from collections import deque

    fidx = next((i for i, n in func_names.items() if n == "__wasm_init_memory"), module.start)
    if fidx is None or fidx < module.num_imported_funcs or fidx >= module.num_functions:
        return {}, []
    body = module.functions[fidx - module.num_imported_funcs]
    placed: dict[int, int] = {}
    fills: list[tuple[int, int]] = []
    window: deque = deque(maxlen=3)
    try:
        _, p = decode_locals(module.data, body.start, body.end)
        for ins in islice(iter_instructions(module.data, p, body.end), INIT_SCAN_INSTRS):
            if ins.op in (MEMORY_INIT, MEMORY_FILL) and len(window) == 3 and all(w.op == 0x41 for w in window):
                dest, src, n = (w.imm & 0xFFFFFFFF for w in window)
                if ins.op == MEMORY_INIT and ins.imm[1] == 0:
                    placed.setdefault(ins.imm[0], dest - src)
                elif ins.op == MEMORY_FILL and ins.imm == 0 and src == 0 and n:
                    fills.append((dest, dest + n))
            window.append(ins)
    except ParseError:
        pass  # a malformed body: whatever was found before it still holds
    return placed, fills


def place_segments(module: WasmModule, names, findings: list[Finding]):
    """(the data segments at their addresses, how many are passive, the ranges ``__wasm_init_memory``
    fills with zeros): a passive segment is placed where ``__wasm_init_memory`` copies it."""
    seg_names = names.data_segments if names else {}
    segments = []
    append = segments.append
    # an offset is an address in its memory: unsigned 32-bit in a memory32 (i32.const -1 is 0xffffffff)
    masks = [0xFFFFFFFFFFFFFFFF if m.type.is64 else 0xFFFFFFFF for m in module.memories]
    seg_name = seg_names.get
    for s in module.data_segments:
        e = s.offset_expr
        mask = masks[s.memory] if s.memory < len(masks) else 0xFFFFFFFF
        if e is None:
            addr = None
        elif len(e.ops) == 1 and e.ops[0][0] == "i32.const":  # the usual case, inline
            addr = e.ops[0][1] & mask
        else:
            addr = segment_address(module, s, mask)
            missing = [imm for op, imm in e.ops if op == "global.get" and not imm < len(module.globals)]
            if missing:
                findings.append(Finding("error", "unknown-global",
                                        f"the offset of data segment {s.index} reads global {missing[0]}, but the "
                                        f"module has {len(module.globals)} globals: the module is invalid"))
        append(Segment(s.index, seg_name(s.index), s.mode, s.memory, addr, s.size, s.data_start))
    passive = sum(1 for s in segments if s.mode == "passive")
    zero_filled: list[tuple[int, int]] = []
    if passive:  # shared-memory builds: __wasm_init_memory copies passive segments into place
        placed, zero_filled = passive_placements(module, names.functions if names else {})
        segments = [replace(s, address=placed[s.index]) if s.mode == "passive" and s.index in placed else s
                    for s in segments]
    return segments, passive, zero_filled


@dataclass
class StaticData:
    """Where the static data starts and ends, and the evidence (``analyze`` works on it step by step)."""

    start: int | None
    end: int | None
    end_exact: bool
    end_source: str | None
    facts: list[DataEndFact]
    symbols: dict[str, int]  # the linker symbols' values


def static_data(module: WasmModule, gnames: dict[int, str], segments: list[Segment], zero_filled,
                variables) -> StaticData:
    placed0 = [s for s in segments if s.memory == 0 and s.address is not None and s.size]
    data_start = min([s.address for s in placed0] + [lo for lo, _ in zero_filled], default=None)
    syms = _linker_symbols(module, gnames)
    facts = _data_end_facts(module, gnames, segments, zero_filled, syms, variables)
    data_end, data_end_exact, data_end_source = _data_end_from(facts)
    if data_start is None and "__global_base" in syms and data_end is not None:
        data_start = syms["__global_base"]
    if data_start is None and data_end is not None:
        # no data in the file at all (only .bss), but DWARF variables or GOT.data.internal globals place
        # static data: it starts at the lowest of them (the stack can then be placed against it)
        got, _ = got_data_internal(module, gnames)
        lows = [a for _n, a, _s in variables if a is not None and 0 < a < 0xFFFFFFFF] + list(got.values())
        if lows:
            data_start = min(lows)
    return StaticData(data_start, data_end, data_end_exact, data_end_source, facts, syms)


def _data_end_facts(module: WasmModule, gnames: dict[int, str], segments: list[Segment], zero_filled,
                    syms: dict[str, int], variables) -> list[DataEndFact]:
    """Every piece of evidence for the end of the data that does not depend on the layout kind."""
    facts: list[DataEndFact] = []
    placed = [sg for sg in segments if sg.memory == 0 and sg.address is not None and sg.size]
    if placed:
        last = max(placed, key=lambda sg: sg.end)
        facts.append(DataEndFact("segments", last.end, "at-least",
                                 f"the last active data segment ({last.name or f'segment {last.index}'}) ends here"))
    if zero_filled:
        lo, hi = max(zero_filled, key=lambda r: r[1])
        facts.append(DataEndFact("__wasm_init_memory", hi, "at-least",
                                 f"the memory-initialisation function zero-fills [{lo:#x}, {hi:#x}) (.bss)"))
    got, _ = got_data_internal(module, gnames)
    if got:
        name, addr = max(got.items(), key=lambda kv: (kv[1], kv[0]))
        facts.append(DataEndFact("GOT.data.internal", addr + 1, "at-least",
                                 f"{GOT_DATA_PREFIX}{name} = {addr:#x}: the variable {name} starts there "
                                 f"({len(got)} GOT.data.internal global{'s' if len(got) != 1 else ''})"))
    top = None
    for name, addr, size in variables:
        if addr is None or addr <= 0 or addr >= 0xFFFFFFFF:
            continue
        end = addr + max(size or 0, 1)
        if top is None or end > top[1]:
            top = (name, end, addr, size)
    if top is not None:
        name, end, addr, size = top
        facts.append(DataEndFact("dwarf", end, "at-least",
                                 f"the DWARF variable {name} occupies [{addr:#x}, {end:#x})"
                                 + ("" if size else " (size unknown: 1 byte counted)")))
    if "__data_end" in syms:
        facts.append(DataEndFact("__data_end", syms["__data_end"], "end", f"__data_end = {syms['__data_end']:#x}"))
    return facts


def _data_end_from(facts: list[DataEndFact]) -> tuple[int | None, bool, str | None]:
    """(data end, exact, source): ``__data_end`` when known, else the highest proven address."""
    for f in facts:
        if f.bound == "end":
            return f.value, True, f.source
    best = max(facts, key=lambda f: f.value, default=None)
    return (None, False, None) if best is None else (best.value, False, best.source)


def _linker_symbols(module: WasmModule, names: dict[int, str]) -> dict[str, int]:
    """Values of linker symbols, from exports and from the name section's global names."""
    out: dict[str, int] = {}
    by_index: dict[int, str] = {}
    for e in module.exports:
        if e.kind == "global":
            by_index.setdefault(e.index, e.name)
    for i, n in names.items():
        by_index.setdefault(i, n)
    for idx, name in by_index.items():
        if name in LINKER_SYMBOLS and idx < len(module.globals):
            g = module.globals[idx]
            if g.type.mutable or g.init is None:
                continue
            v = global_value(module, idx)
            if isinstance(v, int):
                out[name] = v & (0xFFFFFFFFFFFFFFFF if g.type.valtype == "i64" else 0xFFFFFFFF)
    return out


def _name_tokens(name: str) -> list[str]:
    import re

    spaced = re.sub(r"([a-z0-9])([A-Z])", r"\1_\2", name)
    return [t for t in re.split(r"[^A-Za-z0-9]+", spaced.lower()) if t]


def _named_globals(module: WasmModule, names: dict[int, str]) -> dict[int, list[str]]:
    """Global index → its export names, then its name-section name."""
    out: dict[int, list[str]] = {}
    for e in module.exports:
        if e.kind == "global":
            out.setdefault(e.index, []).append(e.name)
    for i, n in names.items():
        if n not in out.get(i, ()):
            out.setdefault(i, []).append(n)
    return out


def _constant(module: WasmModule, idx: int) -> int | None:
    """An immutable i32/i64 global's constant value (unsigned), else None."""
    if not 0 <= idx < len(module.globals):
        return None
    g = module.globals[idx]
    if g.type.mutable or g.init is None or g.type.valtype not in ("i32", "i64"):
        return None
    v = global_value(module, idx)
    if not isinstance(v, int):
        return None
    return v & (0xFFFFFFFFFFFFFFFF if g.type.valtype == "i64" else 0xFFFFFFFF)


def got_data_internal(module: WasmModule, names: dict[int, str]) -> tuple[dict[str, int], list[str]]:
    """``GOT.data.internal.SYM`` globals (wasm-ld's address slots for data symbols of PIC objects): the
    defined ones as SYM → address, and the names of imported ones (set by the loader)."""
    defined: dict[str, int] = {}
    imported: list[str] = []
    for idx, nms in _named_globals(module, names).items():
        for n in nms:
            if not n.startswith(GOT_DATA_PREFIX):
                continue
            if idx < len(module.globals) and module.globals[idx].imported is not None:
                imported.append(n[len(GOT_DATA_PREFIX):])
            else:
                v = _constant(module, idx)
                sym = n[len(GOT_DATA_PREFIX):]
                if v and sym not in LINKER_SYMBOLS:  # __memory_base's own slot is not a variable
                    defined.setdefault(sym, v)
    for imp in module.imports:  # imported from module GOT.mem / env under the GOT name
        if imp.kind == "global" and imp.name.startswith(GOT_DATA_PREFIX):
            imported.append(imp.name[len(GOT_DATA_PREFIX):])
    return defined, imported


def classify_globals(module: WasmModule, names: dict[int, str], lay: MemoryLayout,
                     variables=None) -> list[GlobalClass]:
    """Exported (and linker-named) immutable integer globals, each an address or a value. An address
    is a linker symbol, a GOT slot, a DWARF variable's address, or a pointer into an active data
    segment or the proven .bss; sizes, page counts, class ids and versions (by name), small or
    unaligned numbers, and numbers outside the data and heap are values."""
    var_at = {}
    for name, addr, _size in variables or ():
        var_at.setdefault(addr, name)
    mem = lay.memory
    total = mem.min_bytes if mem is not None else 0
    want = "i64" if module.is_memory64 else "i32"
    placed = sorted((sg.address, sg.end, sg.index) for sg in lay.segments
                    if sg.memory == 0 and sg.address is not None and sg.size)
    lowest = lay.data_start if lay.data_start is not None else 1024
    out: list[GlobalClass] = []
    for idx, nms in sorted(_named_globals(module, names).items()):
        exported = set(module.get_export_names("global", idx))
        v = _constant(module, idx)
        if v is None:
            continue
        g = module.globals[idx]
        for name in nms:
            if name not in exported and name not in LINKER_SYMBOLS and not name.startswith(GOT_DATA_PREFIX):
                continue  # an internal global known only by its name: not a fact about the interface
            toks = _name_tokens(name)
            seg = next((i for lo, hi, i in placed if lo <= v < hi), None)
            if name in LINKER_SYMBOLS:
                kind, why = "address", "a linker symbol"
            elif name.startswith(GOT_DATA_PREFIX):
                kind, why = "address", "a GOT slot: the address of a data symbol"
            elif g.type.valtype != want:
                kind, why = "value", f"an {g.type.valtype}, not a {want} address"
            elif v in var_at:
                kind, why = "address", f"the address of the DWARF variable {var_at[v]}"
            elif any(t in VALUE_NAME_TOKENS for t in toks) and not any(t in ADDRESS_NAME_TOKENS for t in toks):
                kind, why = "value", "named like a size, count, id or version"
            elif v < lowest:
                kind, why = "value", f"below the lowest data address {lowest:#x}"
            elif v >= total:
                kind, why = "value", "past the initial memory"
            elif v % 4:
                kind, why = "value", "not 4-byte aligned"
            elif seg is not None:
                kind, why = "address", f"points into data segment {seg}"
            elif lay.data_end is not None and v < lay.data_end:
                kind, why = "address", f"points into the .bss (data end from {lay.data_end_source})"
            elif any(t in ADDRESS_NAME_TOKENS for t in toks) and lay.heap_base is not None and v >= lay.heap_base:
                kind, why = "address", "named like a pointer, into the heap"
            else:
                kind, why = "value", "not inside any data segment or the proven .bss"
            out.append(GlobalClass(name, idx, v, g.type.valtype, kind, why))
    out.sort(key=lambda c: (c.kind, c.value, c.name))
    return out
