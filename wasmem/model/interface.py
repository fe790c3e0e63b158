"""A module's interface: every import and export with its full type, as plain data (`inspect --imports`,
`inspect --exports`). Pure: reads only the parsed module."""

from __future__ import annotations

from ..errors import ParseError
from ..parser.module import WasmModule
from ..parser.types import FuncType, GlobalType, Limits, MemoryType, TableType


def _limits(lim: Limits, unit: str, units: str) -> str:
    top = "no maximum" if lim.max is None else f"max {lim.max}"
    return f"{lim.min} {unit if lim.min == 1 else units}, {top}"


def func_text(ft: FuncType) -> str:
    """``(i32, f64) -> i32``; ``-> ()`` for no result."""
    res = ", ".join(ft.results)
    return f"({', '.join(ft.params)}) -> {res if len(ft.results) == 1 else '(' + res + ')'}"


def memory_text(mt: MemoryType) -> str:
    lim = mt.limits
    flags = [f for f, on in (("shared", lim.shared), ("i64", lim.is64)) if on]
    if lim.page_size_log2 != 16:
        flags.append(f"page size {lim.page_size}")
    return f"memory: {_limits(lim, 'page', 'pages')}" + (f" ({', '.join(flags)})" if flags else "")


def table_text(tt: TableType) -> str:
    return f"table of {tt.elem_type}: {_limits(tt.limits, 'entry', 'entries')}"


def global_text(gt: GlobalType) -> str:
    return f"global {'mut ' if gt.mutable else ''}{gt.valtype}"


def _type_of(module: WasmModule, kind: str, type_or_index) -> tuple[str, dict]:
    """(text, data) for one import's or export's type."""
    if kind in ("func", "tag"):
        try:
            ft = module.get_func_type(type_or_index)
        except ParseError:
            return f"type {type_or_index} (not a function type)", {"type_index": type_or_index}
        text = func_text(ft) if kind == "func" else f"tag ({', '.join(ft.params)})"
        return text, {"params": list(ft.params), "results": list(ft.results)}
    if kind == "memory":
        lim = type_or_index.limits
        return memory_text(type_or_index), {"min": lim.min, "max": lim.max, "shared": lim.shared,
                                            "memory64": lim.is64, "page_size": lim.page_size}
    if kind == "table":
        lim = type_or_index.limits
        return table_text(type_or_index), {"elem_type": type_or_index.elem_type, "min": lim.min, "max": lim.max}
    if kind == "global":
        return global_text(type_or_index), {"valtype": type_or_index.valtype, "mutable": type_or_index.mutable}
    return kind, {}


def describe_imports(module: WasmModule) -> list[dict]:
    """Every import in section order: ``module``, ``name``, ``kind``, ``index`` (in its kind's index space),
    ``signature`` (text) and ``type`` (the same as data; ``exact: true`` for an exact function import)."""
    out, counters = [], {}
    for imp in module.imports:
        index = counters.get(imp.kind, 0)
        counters[imp.kind] = index + 1
        text, data = _type_of(module, imp.kind, imp.type)
        if imp.exact:  # custom descriptors: the import must have exactly this type, not a subtype
            text, data = "exact " + text, {**data, "exact": True}
        out.append({"module": imp.module, "name": imp.name, "kind": imp.kind, "index": index,
                    "signature": text, "type": data})
    return out


def describe_exports(module: WasmModule) -> list[dict]:
    """Every export in section order: ``name``, ``kind``, ``index``, ``signature``, ``type`` and, for a
    function, its ``function_name`` from the name section (null when it has none)."""
    try:
        names = module.names.functions
    except ParseError:  # a malformed name section: inspect reports it; the interface does without names
        names = {}
    out = []
    for e in module.exports:
        try:
            if e.kind == "func":
                text, data = _func_export(module, e.index)
            elif e.kind == "memory":
                text, data = _type_of(module, "memory", module.memories[e.index].type)
            elif e.kind == "table":
                text, data = _type_of(module, "table", module.tables[e.index].type)
            elif e.kind == "global":
                text, data = _type_of(module, "global", module.globals[e.index].type)
            elif e.kind == "tag":
                text, data = _type_of(module, "tag", module.tags[e.index].type_index)
            else:
                text, data = e.kind, {}
        except (IndexError, ParseError):
            text, data = f"{e.kind} {e.index} (does not exist)", {}
        item = {"name": e.name, "kind": e.kind, "index": e.index, "signature": text, "type": data}
        if e.kind == "func":
            item["function_name"] = names.get(e.index)
        out.append(item)
    return out


def _func_export(module: WasmModule, index: int) -> tuple[str, dict]:
    ft = module.get_function_type(index)
    return func_text(ft), {"params": list(ft.params), "results": list(ft.results)}
