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


def print_json(data) -> None:
    json.dump(data, sys.stdout, indent=2)
    sys.stdout.write("\n")


def render(renderable, svg: str | None = None, title: str = "wasmem") -> None:
    from ..render.common import make_console

    console = make_console(record=svg is not None)
    console.print(renderable)
    if svg:
        console.save_svg(svg, title=title)
