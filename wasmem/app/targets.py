"""Where an address expression lands: numbers, ``sp`` and globals through the memory source's resolver, data
symbols and symbol paths through the symbol table (following pointers in the source's memory); labels for dump
rows; DWARF types by name."""

from __future__ import annotations

import re
import weakref

from ..errors import UsageError
from ..parser.module import WasmModule


def static_symbols(module: WasmModule, layout) -> dict[str, int]:
    syms: dict[str, int] = {}
    for g in module.globals:
        if g.init is not None and isinstance(g.init.simple_value, int):
            v = g.init.simple_value & 0xFFFFFFFF
            for name in module.get_export_names("global", g.index):
                syms[name] = v
            n = module.names.globals.get(g.index)
            if n:
                syms.setdefault(n, v)
    syms.update(getattr(layout, "linker_symbols", None) or {})
    return syms


class Target:
    """Where an address expression lands: the address, and with symbols its type and size."""

    def __init__(self, expression: str, address: int, type=None, size: int | None = None,
                 label: str | None = None):
        self.expression = expression
        self.address = address
        self.type = type
        self.size = size
        self.label = label


def resolve_target(text: str, symbols, read, fallback) -> Target:
    """An address expression → Target. Numbers, ``sp`` and global names go through ``fallback(text)``
    (the session's or a snapshot's resolver); a data symbol starts a symbol path
    (``config.meta.name``, ``names[2]``, ``node_a->next->next``, ``data_array+0x8``) that follows
    pointers through ``read``. Data segment names (``.data``) and exported address globals work
    without DWARF."""
    from ..debuginfo.symbols import FIRST_NAME
    from ..model.values import parse_int

    t = text.strip()
    try:
        addr = parse_int(t)
    except ValueError:
        addr = None
    if addr is None:
        m = FIRST_NAME.match(t)
        name = m.group(1) if m else None
        sym = symbols.find_symbol(name) if name and name.lower() != "sp" else None
        if sym is not None and sym.kind != "function":
            rp = symbols.resolve_path(t, read)
            size = rp.size if rp.type is not None else None
            if rp.type is None and sym.size and sym.address <= rp.address < sym.address + sym.size:
                size = sym.address + sym.size - rp.address  # sym+off: the rest of the symbol
            return Target(t, rp.address, rp.type, size or None, symbols.label(rp.address))
        if name and sym is None and re.match(r"\s*(\.|\[|->)", t[len(name):]) and not _resolves(fallback, name):
            raise UsageError(_not_in_module(name, symbols))
        try:
            addr = fallback(t)
        except UsageError:
            if name and name.lower() != "sp" and sym is None and not _resolves(fallback, name):
                # a name in no symbol table, export or global: say so, not "unknown address"
                raise UsageError(_not_in_module(name, symbols)) from None
            raise
    return Target(t, addr, None, None, symbols.label(addr))


def _not_in_module(name: str, symbols) -> str:
    """A name in no symbol table, export or named global (a C global the linker removed as unused, or one
    never defined): what it is not, why that happens, and where the names the module has are listed."""
    path = getattr(symbols.module, "path", None) or "MODULE"
    listing = f"`wasmem symbols {path}` lists the names it has (in the shell: info symbols)"
    if not symbols.has_dwarf:  # a C variable has no name here without DWARF: not evidence that it is gone
        return (f"no data symbol, export or named global is named {name!r} (symbols from the {symbols.source}: "
                f"without DWARF only data segments, exports and named globals have names); {listing}"
                + symbols.suggest(name))
    return (f"{name!r} is not in the module: no data symbol, export or named global has that name (symbols from "
            f"the {symbols.source}); the linker may have removed it (e.g. unused), or it was never defined; "
            f"{listing}" + symbols.suggest(name))


def _resolves(fallback, name: str) -> bool:
    try:
        fallback(name)
    except UsageError:
        return False
    return True


def row_labeler(symbols):
    """``<sym+off>`` for a row address covered by a variable or exported symbol (not a segment or a
    marker: those are what the region labels already say)."""
    def label(addr: int) -> str | None:
        try:
            got = symbols.symbol_at(addr)
        except Exception:  # noqa: BLE001
            return None
        if got is None:
            return None
        s, off = got
        if s.kind in ("segment", "marker"):
            return None
        return f"<{s.display_name}+{off:#x}>" if off else f"<{s.display_name}>"
    return label


def find_type(symbols, type_name: str, target: Target):
    if type_name in ("auto", "."):
        if target.type is None:
            raise UsageError(f"{target.expression} has no DWARF type: give --type NAME "
                             "(and build with -g for DWARF)")
        return target.type
    if not symbols.has_dwarf:
        raise UsageError(f"--type {type_name} needs DWARF debug info (build with -g); this module has "
                         f"symbols from the {symbols.source} only")
    t = symbols.find_type(type_name)
    if t is None:
        raise UsageError(f"no type named {type_name!r} in the DWARF info")
    return t


RANGE_NAMES = 2  # names a range over several symbols shows before "+N more"
_SECTIONS = {"rodata": ".rodata", "data": ".data", "bss": ".bss", "tls": "TLS"}


_SIZED: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()  # symbol table → its sized data symbols


def _sized_index(symbols) -> tuple[list, list[int]]:
    """The variables and exported symbols with a size, by address, and their addresses: made once per symbol
    table (a shell labels every call's ranges with the same one)."""
    got = _SIZED.get(symbols)
    if got is None:
        try:
            # the index's variables while the DWARF is not read whole: labelling a call's ranges reads none
            sized = [s for s in symbols.label_symbols() if s.size]
        except Exception:  # noqa: BLE001 - labels are extras: a damaged debug section must not lose the call
            return [], []
        sized.sort(key=lambda s: (s.address, -s.size))
        got = _SIZED[symbols] = (sized, [s.address for s in sized])
    return got


def range_labeler(symbols):
    """A label for bytes ``[lo, hi)`` of memory 0 (a range a call changed): the variable it falls in (DWARF),
    else the exported symbol or data segment, with the offset where it starts inside it and its section
    (``counter (.bss)``, ``big+0x7 (.bss)``); a range over several names gives the first ones and how many
    more (``config, names +3 more (.data)``), never a bare count. None when no symbol is known there (the
    caller falls back on the layout's region label: heap, stack). Each label costs two binary searches."""
    from bisect import bisect_left

    sized, starts = _sized_index(symbols)

    def region_of(addr: int) -> str | None:
        try:
            return symbols.region_of(addr)
        except Exception:  # noqa: BLE001
            return None

    def section(region: str | None, named: str) -> str:
        sec = _SECTIONS.get(region or "", region)
        return f" ({sec})" if sec and sec != named else ""

    def label(lo: int, hi: int) -> str | None:
        hi = max(hi, lo + 1)
        first = bisect_left(starts, lo)
        inside = bisect_left(starts, hi) - first  # symbols that start inside the range
        holder = None  # the innermost symbol that holds lo (it starts before the range)
        for k in range(first - 1, max(-1, first - 17), -1):
            s = sized[k]
            if s.address < lo < s.address + s.size and (holder is None or s.size < holder.size):
                holder = s
        names: list[str] = []
        if holder is not None:
            names.append(f"{holder.display_name}+{lo - holder.address:#x}")
        for s in sized[first:first + RANGE_NAMES + 1]:
            if s.address >= hi or len(names) >= RANGE_NAMES:
                break
            if s.display_name not in names:
                names.append(s.display_name)
        region = region_of(lo)
        if names:
            total = inside + (holder is not None)
            more = total - len(names)
            return ", ".join(names) + (f" +{more} more" if more > 0 else "") + section(region, "")
        if region not in _SECTIONS:  # heap, stack, unknown: the layout's region says more than a far symbol
            return None
        try:
            got = symbols.label_symbol_at(lo)  # an unsized export, a marker, or the data segment
        except Exception:  # noqa: BLE001
            got = None
        if got is None:
            return None
        s, off = got
        return (f"{s.display_name}+{off:#x}" if off else s.display_name) + section(region, s.display_name)
    return label
