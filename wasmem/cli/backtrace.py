"""`wasmem backtrace`: the frames of a wasm coredump, named through the module it was taken of."""

from __future__ import annotations

import click

from .budgets import budget_option
from .common import json_option, print_json, render, svg_option


@click.command("backtrace")
@click.argument("core", type=click.Path(), metavar="COREDUMP")
@click.argument("module", type=click.Path(), required=False)
@budget_option
@json_option
@svg_option
def backtrace_cmd(core, module, budgets, as_json, svg):
    """Show the frames of a wasm coredump: function names, offsets, file:line and recorded locals.

    COREDUMP is a standard WebAssembly coredump (tool-conventions Coredump.md), as `wasmtime run -D
    coredump=FILE` or `wasmem call --coredump FILE` write; MODULE is the module it was taken of (for
    names, DWARF and the layout); without it, the module the dump names (its executable name) is
    looked for next to the dump, then from the working directory, and a note says which file was used.
    The module must fit the dump (its globals, memories and every
    frame's function and offset), else one error says what differs. Frames are youngest first. A
    frame's locals are shown when the dump records them, as the DWARF parameters and variables they
    hold; wasmtime records none, but where DWARF puts variables on the linear stack (-O0) their frame
    base follows from the dumped stack pointer and the prologues' frame sizes, and they are read from
    the dumped memory. The same dump works with --core in dump, chase, inspect and symbols.

    \b
    Examples:
      wasmem backtrace crash.core app.wasm
      wasmem backtrace crash.core app.wasm --json
      wasmem backtrace crash.core              # the module the dump names, found next to it
      wasmem dump app.wasm --core crash.core --at accounts --type auto
    """
    from ..api import backtrace

    bt = backtrace(core, module, budgets=budgets)  # without MODULE: the one the dump names (a note says which)
    if as_json:
        print_json(bt.to_dict())
    else:
        from ..render.backtrace import BacktraceView

        render(BacktraceView(bt), svg)
