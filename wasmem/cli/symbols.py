"""`wasmem symbols`: data symbols (and functions) with addresses, sizes, types, regions, sources."""

from __future__ import annotations

import click

from .common import json_option, print_json, render, svg_option


@click.command("symbols")
@click.argument("module", type=click.Path())
@click.option("--filter", "pattern", metavar="GLOB", default=None,
              help="Only names matching this glob (e.g. 'cfg*', '*_table').")
@click.option("--sort", type=click.Choice(["addr", "size", "name"]), default="addr", show_default=True,
              help="Order of the rows.")
@click.option("--functions", is_flag=True, help="Also list functions with code offsets and source lines.")
@json_option
@svg_option
def symbols_cmd(module, pattern, sort, functions, as_json, svg):
    """List a module's data symbols: address, size, type, region and source line.

    Names and types come from DWARF (-g builds, also a file named by external_debug_info);
    without it, from the name section (function and data segment names) and exported globals
    that hold addresses (__heap_base, --export'ed variables).

    \b
    Examples:
      wasmem symbols app.wasm
      wasmem symbols app.wasm --filter 'cfg*' --sort size
      wasmem symbols app.wasm --functions --json
      wasmem symbols app.wasm --svg symbols.svg
    """
    from ..api import load_module
    from ..debuginfo import symbol_listing

    listing = symbol_listing(load_module(module), filter=pattern, sort=sort, functions=functions)
    if as_json:
        print_json(listing.to_list())
    else:
        from ..render.symbols import SymbolsView

        render(SymbolsView(listing), svg)
