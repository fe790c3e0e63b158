"""Options and output helpers shared by commands."""

from __future__ import annotations

import json
import sys

import click


def json_option(f):
    return click.option("--json", "as_json", is_flag=True, help="Print the result as JSON (see docs/json.md).")(f)


def svg_option(f):
    return click.option("--svg", "svg", type=click.Path(dir_okay=False, writable=True), default=None,
                        help="Also save the rendered output as an SVG file.")(f)


def print_json(data, out=None) -> None:
    """Writes ``data`` as indented JSON, streamed: objects and lists are opened level by level and each
    element is encoded on its own by the C encoder, so a layout with 100,000 segments neither becomes
    one huge string nor goes through the pure-Python indenting encoder."""
    out = out or sys.stdout
    _write_json(data, out, 0)
    out.write("\n")


_INLINE_DEPTH = 3  # below this, containers are expanded one member per line; deeper ones stay inline


def _write_json(value, out, depth: int) -> None:
    pad = "  " * (depth + 1)
    if isinstance(value, dict) and value and depth < _INLINE_DEPTH:
        out.write("{")
        sep = "\n"
        for k, v in value.items():
            out.write(f"{sep}{pad}{json.dumps(str(k))}: ")
            _write_json(v, out, depth + 1)
            sep = ",\n"
        out.write(f"\n{'  ' * depth}}}")
    elif isinstance(value, (list, tuple)) and value and depth < _INLINE_DEPTH:
        out.write("[")
        sep = "\n"
        for v in value:
            out.write(f"{sep}{pad}")
            _write_json(v, out, depth + 1)
            sep = ",\n"
        out.write(f"\n{'  ' * depth}]")
    else:
        out.write(json.dumps(value))


def render(renderable, svg: str | None = None, title: str = "wasmem") -> None:
    from ..render.common import make_console

    console = make_console(record=svg is not None)
    console.print(renderable)
    if svg:
        console.save_svg(svg, title=title)
