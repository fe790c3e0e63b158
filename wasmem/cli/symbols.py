"""`wasmem symbols`: data symbols (and functions) with addresses, sizes, types, regions, sources."""

from __future__ import annotations

import click

from .budgets import budget_option
from .common import debug_file_option, json_option, memory_base_option, print_json, render, svg_option


@click.command("symbols")
@click.argument("module", type=click.Path())
@click.option("--filter", "pattern", metavar="GLOB", default=None,
              help="Only names matching this glob (e.g. 'cfg*', '*_table').")
@click.option("--sort", type=click.Choice(["addr", "size", "name"]), default="addr", show_default=True,
              help="Order of the rows.")
@click.option("--functions", is_flag=True, help="Also list functions with code offsets and source lines.")
@debug_file_option
@click.option("--core", type=click.Path(dir_okay=False), default=None, metavar="COREDUMP",
              help="Also show each variable's value in a wasm coredump of this module (one line per symbol).")
@memory_base_option
@budget_option
@json_option
@svg_option
def symbols_cmd(module, pattern, sort, functions, debug_file, core, memory_base, budgets, as_json, svg):
    """List a module's data symbols: address, size, type, region and source line.

    Names and types come from DWARF (-g builds, also a file named by external_debug_info);
    without it, from the name section (function and data segment names) and exported globals
    that hold addresses (__heap_base, --export'ed variables).

    external_debug_info is followed only to a relative path inside the module's folder (no
    absolute path, no .., no symbolic link leading out); --debug-file names any file. DWARF that
    is damaged is not used: the output says so and the name section serves. DWARF larger than its
    budget allows to read whole (--budget dwarf=N) gives names, addresses and sizes from its index
    (one fast pass, kept in the cache for the next run), without types or source lines.

    \b
    Examples:
      wasmem symbols app.wasm
      wasmem symbols app.wasm --filter 'cfg*' --sort size
      wasmem symbols app.wasm --functions --json
      wasmem symbols app.wasm --svg symbols.svg
      wasmem symbols app.wasm --debug-file app.debug.wasm
      wasmem symbols app.wasm --core crash.core
    """
    from ..api import load_module
    from ..debuginfo import symbol_listing

    parsed = load_module(module, memory_base=memory_base, debug_file=debug_file, budgets=budgets)
    listing = symbol_listing(parsed, filter=pattern, sort=sort, functions=functions, debug_file=debug_file)
    if core is not None:  # the variables' values at the crash
        from ..api import open_core
        from ..debuginfo import load_symbols
        from ..debuginfo.frames import symbol_values

        view = open_core(core, parsed)
        mem = view.memory(0) if parsed.memories else None
        listing.values = symbol_values(load_symbols(parsed, debug_file=debug_file), listing.symbols,
                                       mem.read if mem is not None else _no_memory)
        for n in view.notes:
            from .main import error_line

            error_line(n, "wasmem: note: ")
    if as_json:
        if listing.dwarf_note:  # the JSON is a list of symbols: the note goes to stderr
            from .main import error_line

            error_line(listing.dwarf_note, "wasmem: note: ")
        print_json(listing.to_list())
    else:
        from ..render.symbols import SymbolsView

        render(SymbolsView(listing), svg)


def _no_memory(addr: int, n: int) -> bytes:
    from ..errors import UsageError

    raise UsageError("the module has no memory")
