"""`wasmem chase`: follow pointers from an address or a symbol (a wasm-aware telescope)."""

from __future__ import annotations

import click

from .call import run_options
from .common import json_option, print_json, render, svg_option


@click.command("chase")
@click.argument("module", type=click.Path())
@click.argument("at", metavar="ADDR|SYMBOL")
@click.option("--depth", type=click.IntRange(min=0), default=4, show_default=True,
              help="How many pointers deep to follow (linked lists are walked to their end).")
@click.option("--after", multiple=True, metavar='"FUNC ARGS"', help="Call a function first (repeatable).")
@click.option("--len", "length", type=click.IntRange(min=1), default=None,
              help="Bytes to classify at the start (default: the symbol's size, else 8 words).")
@click.option("--type", "type_name", default=None, metavar="TYPE",
              help="Decode the start as this DWARF type (e.g. Point, 'struct Node').")
@click.option("--words", "untyped", is_flag=True, help="Show classified words even when DWARF types are known.")
@click.option("--snapshot", type=click.Path(dir_okay=False), default=None,
              help="Chase in a raw memory image instead of running the module (the module gives the layout).")
@click.option("--core", type=click.Path(dir_okay=False), default=None, metavar="COREDUMP",
              help="Chase in the memory of a wasm coredump of this module instead of running it.")
@run_options
@json_option
@svg_option
def chase_cmd(module, at, depth, after, length, type_name, untyped, snapshot, core, session, alloc, as_json, svg):
    """Follow pointer chains from ADDR or SYMBOL in live memory.

    Each word is classified as a pointer into the stack, data or heap (with the <symbol+offset> it
    lands on), a function-table index (function pointers in wasm are table indices) with its
    function, a C string, or a plain value. Pointers are followed to --depth, stopping at NULL,
    out-of-bounds addresses and cycles (↺). With DWARF the start is shown as a typed tree whose
    pointer members are followed.

    \b
    Examples:
      wasmem chase app.wasm node_a
      wasmem chase app.wasm 'config.title'
      wasmem chase app.wasm __heap_base --after "allocate 32" --len 32
      wasmem chase app.wasm 0x10040 --words --json
      wasmem chase app.wasm node_a --snapshot memory.bin
      wasmem chase app.wasm accounts --core crash.core
    """
    from ..app import chase_memory

    outcome = chase_memory(module, at, depth=depth, after=after, length=length, type_name=type_name,
                           untyped=untyped, alloc=alloc, snapshot=snapshot, core=core, **session)
    _notes(outcome)
    try:
        if as_json:
            print_json(outcome.to_dict())
        else:
            from ..render.chase import render_chase

            render(render_chase(outcome), svg)
    finally:
        if outcome.session is not None:
            outcome.session.close()
    return 0 if outcome.ok else 1


def _notes(outcome) -> None:
    from .main import error_line

    for n in getattr(outcome, "notes", ()):  # on stderr: stdout stays the view (or the JSON)
        error_line(n, "wasmem: note: ")
