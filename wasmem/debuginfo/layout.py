"""The layout model with the DWARF facts it needs: one analysis that `inspect`, `symbols`, `dump`,
`chase` and `call` share, so that no two commands disagree about what lives at an address."""

from __future__ import annotations

from ..errors import ParseError, UsageError


# Without `debug` given, the data end's DWARF facts come from the fast variables-only scan (varscan.py:
# yosys's 2 MB of .debug_info in 0.3 s instead of the full reading's 4-10 s), which finds exactly the
# variables the full reading lists, so `inspect` and `symbols` agree on every module.
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


def _dwarf_holder(module):
    """The module whose .debug_* sections hold ``module``'s DWARF, as `symbols` chooses it: the file
    ``--debug-file`` named, else the module itself, else the file its external_debug_info section names
    when that may be followed; None without DWARF (or when that file cannot be read: symbols says why)."""
    from .symbols import find_external_debug_file, open_debug_file

    chosen = getattr(module, "debug_file", None)
    if not chosen and any(sec.name == ".debug_info" for sec in module.debug_sections):
        return module
    try:
        path = chosen or find_external_debug_file(module)
    except ParseError:  # a damaged external_debug_info section: `inspect` reports it
        return None
    if not path:
        return None
    try:
        dbg = open_debug_file(path)
    except UsageError:
        return None
    return dbg if any(sec.name == ".debug_info" for sec in dbg.debug_sections) else None


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
    dwarf = _dwarf_holder(module)
    if dwarf is None:
        return layout
    from ..model.layout import Finding, _global_value
    from .varscan import VariableScanTimeout, scan_variables

    try:
        variables = scan_variables(dwarf, lambda index: _global_value(module, index))
    except VariableScanTimeout as exc:
        # symbols, dump and chase read the DWARF fully and may place variables above this data end: say so
        end = f" above {layout.data_end:#x}" if layout.data_end is not None else ""
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
