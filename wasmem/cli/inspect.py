"""`wasmem inspect`: the declared memory and the layout of linear memory."""

from __future__ import annotations

import click

from .common import json_option, print_json, render, svg_option


@click.command("inspect")
@click.argument("module", type=click.Path())
@click.option("--pages", type=click.IntRange(min=0), default=None,
              help="Check a host-provided memory of N pages against the declared minimum.")
@click.option("--min-stack", type=click.IntRange(min=0), default=None, metavar="BYTES",
              help="Warn when the linear stack is smaller than this (default 16384).")
@click.option("--segments", type=click.IntRange(min=1), default=8, show_default=True,
              help="How many of the largest data segments to list.")
@json_option
@svg_option
def inspect_cmd(module, pages, min_stack, segments, as_json, svg):
    """Show a module's declared memory, stack pointer, stack/data/heap layout and findings.

    Every section is parsed, so a malformed module fails with one error line (exit 2); function
    bodies are decoded in full when the code section is at most 1 MiB, otherwise only their first
    instructions are read (for the stack-pointer search).

    \b
    Examples:
      wasmem inspect app.wasm
      wasmem inspect app.wasm --pages 16     # will a 16-page host memory do?
      wasmem inspect app.wasm --json
    """
    from ..api import inspect

    layout = inspect(module, pages=pages, min_stack=min_stack)
    if as_json:
        from ..model.layout import layout_to_dict

        print_json(layout_to_dict(layout))
    else:
        from ..render.inspect import InspectView

        render(InspectView(layout, max_segments=segments), svg)
    if any(f.severity == "error" for f in layout.findings) and pages is not None:
        raise SystemExit(1)
