"""The layout model with the DWARF facts it needs: one analysis that `inspect`, `symbols`, `dump`,
`chase` and `call` share, so that no two commands disagree about what lives at an address."""

from __future__ import annotations

from ..errors import ParseError, UsageError


def dwarf_variables(debug) -> list[tuple[str, int, int | None]]:
    """(name, address, size) of every static variable a loaded DebugInfo places in linear memory; empty
    when its DWARF cannot be read (over budget, damaged)."""
    try:
        return [(v.display_name, v.address, v.size) for v in debug.variables]
    except ParseError:
        return []


def analyze_layout(module, *, debug=None, **options):
    """``wasmem.model.layout.analyze`` with the DWARF variables as facts about where .bss ends. Given
    ``debug`` (a loaded DebugInfo), its variables are used; otherwise DWARF is read only when the module
    has it and the layout does not already know the exact data end (``__data_end``) — the variables
    can only add to what the module says itself. That reading is the fast variables-only scan (varscan.py:
    yosys's 2 MB of .debug_info in 0.3 s instead of the full reading's 4-10 s), which finds exactly the
    variables the full reading lists, so `inspect` and `symbols` agree on every module."""
    from ..model.layout import analyze

    if debug is not None:
        return analyze(module, variables=dwarf_variables(debug), **options)
    layout = analyze(module, **options)
    if layout.data_end_exact:
        return layout
    from .debugfile import debug_holder

    try:  # the DWARF `symbols` reads: --debug-file, the module's own, or a followed external_debug_info
        dwarf, _ = debug_holder(module)
    except (UsageError, ParseError):  # unreadable (symbols says why), or a damaged external_debug_info
        return layout
    if dwarf is None or not any(sec.name == ".debug_info" for sec in dwarf.debug_sections):
        return layout
    from ..model.layouttypes import Finding
    from .dwcache import module_index
    from .varscan import VariableScanTimeout

    try:  # the DWARF index's variables (dwindex.py: the variables scan, kept on disk per module content)
        index = module_index(module, dwarf)
        variables = index.variable_tuples() if index is not None else []
    except VariableScanTimeout as exc:
        # symbols, dump and chase read the DWARF fully and may place variables above this data end: say so
        end = f" above {layout.data_end:#x}" if layout.data_end is not None else ""
        layout.data_end_cut = exc.message
        layout.findings.append(Finding(
            "info", "dwarf-not-read",
            f"the data end does not use the module's DWARF ({exc.message}): symbols, dump and chase read "
            f"it and may place variables in .bss{end}",
            "wasmem symbols MODULE lists the variables' addresses; link with --export=__data_end for an exact "
            "data end"))
        return layout
    except ParseError:
        return layout  # damaged: the full reading refuses it too, and the layout stands on the module alone
    return analyze(module, variables=variables, **options) if variables else layout
