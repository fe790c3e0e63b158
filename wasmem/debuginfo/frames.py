"""Frames of a coredump named through the module's symbols: function names, ``file:line`` from the DWARF
line table, and the frame's recorded locals shown as the DWARF parameters and variables they hold."""

from __future__ import annotations

from ..budgets import BUDGETS, lift, value_of
from ..errors import WasmemError
from ..model.coredump import Backtrace, CoreView, frame_basics

MAX_VARIABLE_FRAMES = BUDGETS["frame-variables"].default  # frames whose variables are decoded (the youngest); deeper
# ones keep their names (--budget frame-variables=N)


def build_backtrace(view: CoreView, symbols) -> Backtrace:
    core = view.core
    frames = frame_basics(view)
    cs = symbols.code_start
    names = view.module.names.functions
    for fr in frames:
        nm = names.get(fr.func_index)
        if nm is None:
            ex = view.module.get_export_names("func", fr.func_index)
            nm = ex[0] if ex else None
        if fr.module_offset is not None:
            addr = fr.module_offset - cs
            try:
                fsym = symbols.function_at(addr)
                if fsym is not None and fsym.func_index in (None, fr.func_index):
                    nm = fsym.display_name
                fr.location = symbols.location_of(addr)
            except WasmemError:  # damaged DWARF: the frame keeps its index and offsets
                pass
        fr.name = nm if nm is not None else fr.host
    sp, g = None, None
    try:
        g, sp = _dumped_sp(view, symbols.layout)
    except WasmemError:
        sp = None
    notes = list(view.notes)
    if symbols.has_dwarf:
        bases = frame_bases(view, g, sp) if sp is not None else {}
        most = value_of(view.module, "frame-variables")
        if len(frames) > most:
            notes.append(f"variables decoded for the youngest {most:,} of {len(frames):,} frames (deeper ones show "
                         f"their names); {lift('frame-variables')}")
        for fr in frames[:most]:
            if fr.module_offset is None:
                continue
            fr.frame_base = bases.get(fr.index)
            if fr.locals or fr.frame_base is not None:
                fr.variables = frame_variables(symbols, fr.module_offset - cs, fr.locals, view, fr.frame_base)
    pages = _memory_pages(view)
    thread = core.sections.threads[0].name if core.sections.threads else None
    return Backtrace(core=core.path, module=view.module.path, executable=core.name, thread=thread, frames=frames,
                     stack_pointer=sp, memory_pages=pages, notes=notes,
                     symbols_from=symbols.source)


def frame_bases(view: CoreView, sp_global: int | None, sp: int) -> dict[int, int]:
    """frame index → the frame base clang's DWARF means (the stack pointer after the function's prologue,
    which its DW_AT_frame_base local holds), worked out from the stack pointer in the dump for a dump that
    records no locals: the youngest frame's is the stack pointer (or, for a leaf function that uses the
    red zone without writing the stack pointer, the stack pointer minus its frame); each caller's is the
    stack pointer its callee found on entry. Frame sizes come from the prologue analysis
    (model.stackframes). Stops at the first frame whose size is not fixed (alloca, over-aligned) or that
    is a host function. Assumes the youngest frame is past its prologue (a trap inside a prologue, e.g.
    a stack overflow, gives a wrong base for that frame)."""
    from ..model.stackframes import analyze_frames

    try:
        table = analyze_frames(view.module, sp_global, workers=1)
    except WasmemError:
        return {}
    out: dict[int, int] = {}
    cur = sp
    mask = (1 << 64) - 1 if view.module.is_memory64 else 0xFFFFFFFF
    for k, f in enumerate(view.frames[:value_of(view.module, "frame-variables")]):
        if f.func_index not in table:
            break
        fr = table[f.func_index]
        if fr.imported or fr.dynamic or fr.align_slack:
            break
        if fr.size == 0:
            continue  # no frame of its own: the caller finds the same stack pointer
        if fr.writes_sp:
            out[k] = cur & mask
            cur = (cur + fr.size) & mask
        else:
            out[k] = (cur - fr.size) & mask
    return out


def frame_variables(symbols, code_address: int, locals_, view, frame_base: int | None = None) -> list:
    """(name, kind, type, value text) of the DWARF parameters and variables of the function at
    ``code_address`` whose location is a wasm local (``DW_OP_WASM_location 0 N``) the frame recorded,
    a global (its value in the dump), or a place in linear memory relative to a frame base held in such
    a local (taken from the recorded locals, else ``frame_base``: see ``frame_bases``)."""
    d = symbols.debug_info
    if d is None or not hasattr(d, "frame_variables"):
        return []
    try:
        found = d.frame_variables(code_address)
    except WasmemError:
        return []
    out = []
    mem = None
    try:
        mem = view.memory(0)
    except WasmemError:
        mem = None
    from .values import format_value

    for name, kind, t, loc in found:
        tname = t.name if t is not None else None
        what, arg = loc[0], loc[1]
        if what == "local":
            if arg >= len(locals_) or locals_[arg].type is None:
                continue
            v = locals_[arg].value
            text = _scalar_text(v, t)
        elif what == "global":
            v = view.global_value(arg)
            if v is None:
                continue
            text = _scalar_text(v, t)
        elif what == "fbreg" and mem is not None and t is not None:
            base_local, off = arg
            if base_local is not None and base_local < len(locals_) and isinstance(locals_[base_local].value, int):
                base = locals_[base_local].value & 0xFFFFFFFF
            elif frame_base is not None:
                base = frame_base
            else:
                continue
            addr = base + off
            try:
                text = format_value(t, mem.read, addr, label=name, depth=2, symbols=symbols).one_line(200)
            except WasmemError:
                continue
        else:
            continue
        out.append((name, kind, tname, text))
    return out


def _scalar_text(v, t) -> str:
    if isinstance(v, int) and t is not None:
        try:
            st = t.strip()
            if st.kind == "pointer":
                return f"{v & 0xFFFFFFFF:#x}"
            size = st.size or 4
            signed = getattr(st, "is_signed", True)
            v &= (1 << (8 * size)) - 1 if size < 8 else 0xFFFFFFFFFFFFFFFF
            if signed and size and v >> (8 * size - 1):
                v -= 1 << (8 * size)
        except (AttributeError, WasmemError):
            pass
    return str(v)


def _dumped_sp(view: CoreView, layout) -> tuple[int | None, int | None]:
    """(the stack pointer's global, its value in the dump) as the layout names the global; Nones when the
    layout has none or the dump holds no integer there."""
    g = layout.stack_pointer.global_index if layout is not None and layout.stack_pointer is not None else None
    if g is None:
        return None, None
    v = view.global_value(g)
    return g, (v & 0xFFFFFFFFFFFFFFFF if isinstance(v, int) else None)


def _memory_pages(view: CoreView) -> int | None:
    """Memory 0's page count in the dump, or None (no memory, or a dump that does not hold it)."""
    if not view.module.memories:
        return None
    try:
        return view.memory(0).pages
    except WasmemError:
        return None


def crash_facts(view: CoreView, layout) -> dict:
    """What `inspect --core` adds to a layout: the dump's file, memory 0's size in it, the stack pointer
    there and how much of the stack it had in use, and the frames (youngest first) by name."""
    _g, sp = _dumped_sp(view, layout)
    pages = _memory_pages(view)
    used = None
    if sp is not None and layout.stack_high is not None and layout.stack_low is not None \
            and layout.stack_low <= sp <= layout.stack_high:
        used = layout.stack_high - sp
    names = view.module.names.functions
    frames = []
    for f in view.frames:
        ex = view.module.get_export_names("func", f.func_index)
        frames.append(names.get(f.func_index) or (ex[0] if ex else f"func[{f.func_index}]"))
    return {"file": view.core.path, "memory_pages": pages, "stack_pointer": sp, "stack_used": used,
            "frames": frames, "notes": list(view.notes)}


def symbol_values(symbols, rows, read, limit: int = 120) -> list:
    """One line of text per row of a symbol listing: a DWARF-typed variable's value read through ``read``
    (a coredump's memory), None for functions, segments and markers, or the error text when it cannot
    be read."""
    from .values import format_value

    out = []
    for s in rows:
        if s.kind != "variable" or s.type is None:
            out.append(None)
            continue
        try:
            out.append(format_value(s.type, read, s.address, label=s.display_name, depth=3,
                                    symbols=symbols).one_line(limit))
        except WasmemError as exc:
            out.append(f"<{exc.message}>")
    return out
