"""What a module's globals hold before any code runs: their constant initialisers evaluated, an imported
``__memory_base``/``__table_base`` at the bases wasmem gives a position-independent module (``pic_bases``,
which ``call``, ``dump`` and ``chase`` instantiate with), and the addresses of active data segments."""

from __future__ import annotations

from ..parser.module import WasmModule

PIC_MEMORY_BASE = 1024  # where wasmem (like Emscripten's loader, GLOBAL_BASE) places a PIC module's data


def check_memory_base(module: WasmModule, base: int) -> str | None:
    """Why ``base`` cannot be the ``__memory_base`` of ``module``, or None when it can: the module must
    import ``__memory_base``, the base must be a multiple of the dylink section's mem_align and the data
    (``mem_size`` bytes) must fit below the memory's maximum (or its index type's limit)."""
    g = next((imp for imp in module.imports if imp.kind == "global" and imp.name == "__memory_base"), None)
    if g is None:
        return "the module imports no __memory_base (it is not position-independent): its data has fixed addresses"
    if base < 0:
        return f"{base} is negative"
    dylink = module.dylink
    align = 1 << dylink.mem_align if dylink is not None else 1
    if base % align:
        return f"{base:#x} is not a multiple of {align} (the alignment the dylink section asks for its data)"
    size = dylink.mem_size if dylink is not None else 0
    mems = module.memories
    mem = mems[0].type if mems else None
    cap = 1 << (64 if module.is_memory64 else 32)
    if mem is not None and mem.max_pages is not None:
        cap = min(cap, mem.max_pages * mem.page_size)
    if base + size > cap:
        return (f"{base:#x} + the data's {size} bytes (dylink mem_size) ends past the memory's limit of "
                f"{cap:#x} bytes")
    return None


def pic_bases(module: WasmModule) -> tuple[int, int]:
    """(__memory_base, __table_base) that wasmem gives a position-independent module (one that imports
    them): the data at ``module.memory_base`` when the caller chose it (`--memory-base`), else at 1024
    aligned to the dylink section's mem_align; the table entries from 1 when it has any. `call`, `dump` and
    `chase` instantiate with these, and the layout and DWARF use the same."""
    dylink = module.dylink
    chosen = getattr(module, "memory_base", None)
    if dylink is None:
        return (PIC_MEMORY_BASE if chosen is None else chosen), 0
    align = 1 << dylink.mem_align
    base = (PIC_MEMORY_BASE + align - 1) // align * align if chosen is None else chosen
    return base, 1 if dylink.table_size else 0


def global_value(module: WasmModule, index: int):
    """The constant value of a global's initialiser; None when it is unknown (imported, not constant,
    or an index past the globals of an invalid module). An imported ``__memory_base``/``__table_base``
    has the value wasmem gives it (``pic_bases``)."""
    if not 0 <= index < len(module.globals):
        return None
    g = module.globals[index]
    if g.imported is not None and g.type.valtype in ("i32", "i64") and not g.type.mutable \
            and g.imported.name in ("__memory_base", "__table_base"):
        memory_base, table_base = pic_bases(module)
        return memory_base if g.imported.name == "__memory_base" else table_base
    if g.init is None:
        return None
    return g.init.evaluate(lambda i: global_value(module, i) if i < index else None)


def segment_address(module: WasmModule, seg, mask: int = 0xFFFFFFFF) -> int | None:
    """An active data segment's address: its offset expression with the globals it reads (an imported
    ``__memory_base`` at ``pic_bases``), masked to the memory's index type; None when it is not constant."""
    e = seg.offset_expr
    if e is None:
        return None
    v = e.evaluate(lambda i: global_value(module, i))
    return v & mask if isinstance(v, int) else None
