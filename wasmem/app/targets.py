"""Where an address expression lands: numbers, ``sp`` and globals through the memory source's resolver, data
symbols and symbol paths through the symbol table (following pointers in the source's memory); labels for dump
rows; DWARF types by name."""

from __future__ import annotations

import re

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
