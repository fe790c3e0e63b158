"""`wasmem dump`: linear memory as hex or typed values, from a live instance or a saved image."""

from __future__ import annotations

import click

from ..model.coredump import DEFAULT_MAX_SAVE
from .call import run_options
from .common import json_option, print_json, render, svg_option

FORMATS = ["hex", "i8", "u8", "i16", "u16", "i32", "u32", "i64", "u64", "f32", "f64", "ptr"]


@click.command("dump")
@click.argument("module", type=click.Path())
@click.option("--at", "at", default="0", show_default=True, metavar="ADDR",
              help="Address: decimal, 0x hex, sp, a global (__heap_base), a symbol or symbol path "
                   "(config.meta, names[2], node_a->next), or name+0x10.")
@click.option("--len", "length", type=click.IntRange(min=0), default=None,
              help="Bytes to show (default: the symbol's or type's size, else 256).")
@click.option("--type", "type_name", default=None, metavar="TYPE",
              help="Show a typed value (a DWARF type: Point, 'struct Node', 'int[4]'; auto = the symbol's type).")
@click.option("-f", "--format", "fmt", type=click.Choice(FORMATS), default="hex", show_default=True,
              help="Show bytes as hex + ASCII or as typed values.")
@click.option("--big-endian", is_flag=True, help="Decode typed values as big endian.")
@click.option("--width", type=click.IntRange(min=1), default=None,
              help="Bytes per row for hex (16), values per row for typed formats.")
@click.option("--memory", type=click.IntRange(min=0), default=0, show_default=True,
              help="Memory index, for multi-memory modules.")
@click.option("--after", multiple=True, metavar='"FUNC ARGS"', help="Call a function first (repeatable).")
@click.option("--snapshot", type=click.Path(dir_okay=False), default=None,
              help="Dump a raw memory image instead of running the module (the module gives the layout).")
@click.option("--core", type=click.Path(dir_okay=False), default=None, metavar="COREDUMP",
              help="Dump the memory of a wasm coredump of this module (wasmtime -D coredump=…, call --coredump) "
                   "instead of running it; `sp` and globals are their values at the crash.")
@click.option("--save", type=click.Path(dir_okay=False, writable=True), default=None,
              help="Write the whole memory to FILE as a raw image (with --core: a coredump's memory becomes a "
                   "--snapshot image, written as a sparse file within --timeout).")
@click.option("--max-save", type=click.IntRange(min=0), default=DEFAULT_MAX_SAVE, show_default=True, metavar="BYTES",
              help="With --core --save: refuse a memory larger than this (0 = no limit). Only the bytes the dump "
                   "holds are written, but a --snapshot of the image reads it whole.")
@run_options
@json_option
@svg_option
def dump_cmd(module, at, length, type_name, fmt, big_endian, width, memory, after, snapshot, core, save, max_save,
             session, alloc, as_json, svg):
    """Show linear memory after instantiation (or after --after calls), labelled by region.

    \b
    Examples:
      wasmem dump app.wasm --at __heap_base --len 64
      wasmem dump app.wasm --at config.meta
      wasmem dump app.wasm --at node_a --type auto
      wasmem dump app.wasm --at 0x10078 --type Point
      wasmem dump app.wasm --at sp --len 128 --after "fill 10"
      wasmem dump app.wasm --at 0x10000 -f f64 --width 2
      wasmem dump app.wasm --snapshot memory.bin --at 1024
      wasmem dump app.wasm --core crash.core --at accounts --type auto
      wasmem dump app.wasm --core crash.core --save memory.bin
    """
    from ..app import dump_memory

    outcome = dump_memory(module, at, length, fmt=fmt, big_endian=big_endian, width=width, memory=memory,
                          after=after, snapshot=snapshot, save=save, max_save=max_save, alloc=alloc,
                          type_name=type_name, core=core, **session)
    _notes(outcome)
    if as_json:
        print_json(outcome.to_dict())
    else:
        from ..render.dump import dump_renderable

        # a hex dump crops its own rows (render/dump.py), so rich need not split 65,536 lines to crop them
        hex_rows = getattr(outcome, "value", None) is None and outcome.dump.fmt == "hex"
        render(dump_renderable(outcome), svg, crop=not hex_rows)
    return 0 if outcome.ok else 1


def _notes(outcome) -> None:
    from .main import error_line

    for n in getattr(outcome, "notes", ()):  # on stderr: stdout stays the view (or the JSON)
        error_line(n, "wasmem: note: ")
