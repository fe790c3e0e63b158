"""The layout model with the DWARF facts it needs: one analysis that `inspect`, `symbols`, `dump`,
`chase` and `call` share, so that no two commands disagree about what lives at an address."""

from __future__ import annotations

from ..errors import ParseError

# Without `debug` given, DWARF is read for the data end only up to this much .debug_info: pyelftools reads
# about 200 KB of it a second (yosys: 2 MB, 254,000 entries, 10 s and 300 MB), which would make every
# `inspect` of a large module that slow for one fact (the data end then comes from the module's own
# sources, marked "at least" when it is not exact; `symbols` still reads the DWARF).
LAYOUT_DWARF_LIMIT = 256 << 10


def dwarf_variables(module, debug=None) -> list[tuple[str, int, int | None]]:
    """(name, address, size) of every static variable DWARF places in linear memory; empty without
    DWARF or when the DWARF cannot be read (over budget, damaged)."""
    if debug is None:
        if not any(s.name == ".debug_info" for s in module.debug_sections):
            return []
        from .symbols import load_debug_info

        try:
            debug = load_debug_info(module)
            if debug is not None:
                debug.load()
        except ParseError:
            return []
        if debug is None:
            return []
    try:
        return [(v.display_name, v.address, v.size) for v in debug.variables]
    except ParseError:
        return []


def analyze_layout(module, *, debug=None, **options):
    """``wasmem.model.layout.analyze`` with the DWARF variables as facts about where .bss ends. Given
    ``debug`` (a loaded DebugInfo), its variables are used; otherwise DWARF is read only when the module
    has it and the layout does not already know the exact data end (``__data_end``) — the variables
    can only add to what the module says itself."""
    from ..model.layout import analyze

    if debug is not None:
        return analyze(module, variables=dwarf_variables(module, debug), **options)
    layout = analyze(module, **options)
    if layout.data_end_exact:
        return layout
    info = next((sec for sec in module.debug_sections if sec.name == ".debug_info"), None)
    if info is not None and info.size > LAYOUT_DWARF_LIMIT:
        # reading it would cost seconds and hundreds of MB for one fact: say so, since `symbols`, `dump`
        # and `chase` read it and may place variables above this data end
        from ..model.layout import Finding

        end = f" above {layout.data_end:#x}" if layout.data_end is not None else ""
        layout.findings.append(Finding(
            "info", "dwarf-not-read",
            f"the data end does not use the module's DWARF ({info.size} bytes of .debug_info, more than the "
            f"{LAYOUT_DWARF_LIMIT} that inspect reads for it): symbols, dump and chase read it and may place "
            f"variables in .bss{end}",
            "wasmem symbols MODULE lists the variables' addresses; link with --export=__data_end for an exact "
            "data end"))
        return layout
    variables = dwarf_variables(module)
    return analyze(module, variables=variables, **options) if variables else layout
