"""Options and output helpers shared by commands."""

from __future__ import annotations

import functools
import json
import math
import os
import sys
import time
from types import GeneratorType

import click


class Address(click.ParamType):
    """A non-negative integer, decimal or 0x-hexadecimal."""

    name = "address"

    def convert(self, value, param, ctx):
        if isinstance(value, int):
            return value
        try:
            v = int(str(value).replace("_", ""), 0)
        except ValueError:
            self.fail(f"{value!r} is not a number (decimal or 0x…)", param, ctx)
        if v < 0:
            self.fail(f"{value} is negative", param, ctx)
        return v


def memory_base_option(f):
    return click.option(
        "--memory-base", type=Address(), default=None, metavar="ADDR",
        help="For a position-independent module (one that imports __memory_base: -shared, PIC, Emscripten "
             "side modules): place its data at ADDR, as a dynamic loader would, in the layout, the DWARF "
             "addresses and a run (default 1024, aligned as its dylink section asks).")(f)


def debug_file_option(f):
    return click.option(
        "--debug-file", "debug_file", metavar="FILE", type=click.Path(dir_okay=False), default=None,
        help="Read the module's DWARF from FILE (a copy of the module with its .debug_* sections, as "
             "emcc -gseparate-dwarf writes) instead of the module's own or the file its "
             "external_debug_info section names.")(f)


def json_option(f):
    return click.option("--json", "as_json", is_flag=True, help="Print the result as JSON (see docs/json.md).")(f)


def svg_option(f):
    return click.option("--svg", "svg", type=click.Path(dir_okay=False, writable=True), default=None,
                        help="Also save the rendered output as an SVG file.")(f)


_STARTED: list[float] = []  # when the running command started (``start_command``), on time.monotonic


def start_command(starting: bool) -> None:
    """Marks the command's start (``starting``; its deadline counts from there: ``command_deadline``) or its
    end (forgotten)."""
    _STARTED[:] = [time.monotonic()] if starting else []


def command_deadline(seconds: float | None):
    """The command's one deadline: ``seconds`` (None or 0: no limit) from the command's start (``main``), or
    from now when the command runs without ``main`` (a test's CliRunner). Everything the command does
    (compiling, the guest's calls, wasmem's analyses) is bounded by it; see ``wasmem.deadline``."""
    import click

    from ..deadline import Deadline, governing

    deadline = Deadline(seconds, started=_STARTED[0] if _STARTED else None)
    ctx = click.get_current_context(silent=True)
    if ctx is not None:  # the lazy work of the command (its first DWARF read) answers to it until the command ends
        ctx.with_resource(governing(deadline))
    return deadline


PROGRESS_ENV = "WASMEM_PROGRESS"  # "1": show the compile status even when stderr is not a terminal; "0": never
PROGRESS_DELAY_ENV = "WASMEM_PROGRESS_DELAY"  # seconds of silence before it appears (default 0.5)
PROGRESS_MIN_BYTES_ENV = "WASMEM_PROGRESS_MIN_BYTES"  # stderr not a terminal: the two lines from this module size
PROGRESS_MIN_BYTES = 1 << 20  # its default: a module under 1 MiB prepares and compiles in about a second or less


def compile_progress():
    """The Session ``on_compile`` hook for the commands that run a module (call, dump, chase, heap, leaks,
    watch, view, stack --call). It never writes to stdout, so ``--json`` output is unaffected.

    - stderr a terminal (or ``WASMEM_PROGRESS=1``): a status line while a slow start runs (module size,
      elapsed seconds, "cached next time"); see ``wasmem.render.progress``. The delay and the elapsed time
      count from this call (the command's start), not from the compile's: loading and analysing a 30 MB
      module before the session starts is part of the wait.
    - stderr not a terminal (a CI log, a pipe): two plain lines, one when preparing and compiling starts and
      one when it ends with the seconds it took, for a module of at least ``WASMEM_PROGRESS_MIN_BYTES``
      bytes (default 1 MiB; smaller ones start in about a second and print nothing). The size decides, not
      a timer, so what a log gets does not depend on the machine's load.
    - ``WASMEM_PROGRESS=0``: nothing (None)."""
    since = time.monotonic()
    mode = os.environ.get(PROGRESS_ENV, "").strip()
    if mode == "0":
        return None
    force = mode == "1"
    if not force:
        try:
            tty = sys.stderr.isatty()
        except (AttributeError, ValueError):  # a closed or replaced stderr
            return None
        if not tty:
            try:
                min_size = max(0, int(os.environ.get(PROGRESS_MIN_BYTES_ENV, "") or PROGRESS_MIN_BYTES))
            except ValueError:
                min_size = PROGRESS_MIN_BYTES
            from ..render.progress import compile_lines_factory

            return compile_lines_factory(min_size=min_size)
    try:
        delay = float(os.environ.get(PROGRESS_DELAY_ENV, "") or 0.5)
    except ValueError:
        delay = 0.5
    from ..render.progress import compile_status_factory

    return compile_status_factory(force=force, delay=delay, since=since)


def print_json(data, out=None) -> None:
    """Writes ``data`` as indented JSON, streamed: objects and lists are opened level by level and each
    element below ``_INLINE_DEPTH`` is encoded on its own by the C encoder, so a layout with 100,000
    segments neither becomes one huge string nor goes through the pure-Python indenting encoder.
    Pieces are collected and written in batches of about ``_FLUSH`` pieces."""
    out = out or sys.stdout
    buf: list[str] = []
    _write_json(data, buf, 0, _finite(_leaf_encoder()), out)
    buf.append("\n")
    out.write("".join(buf))


_INLINE_DEPTH = 3  # below this, containers are expanded one member per line; deeper ones stay inline
_FLUSH = 4096  # pieces collected before a write


def _leaf_encoder():
    """``json.dumps`` with its defaults, minus its per-call setup: the stdlib's C encoder made once
    (``json.dumps`` builds a new one on every call, which dominated output of 100,000 small objects).
    Falls back to ``json.dumps`` where the C encoder is unavailable or behaves differently."""
    try:
        from json.encoder import c_encode_basestring_ascii, c_make_encoder

        enc = json.JSONEncoder()
        make = c_make_encoder(None, enc.default, c_encode_basestring_ascii, None, ": ", ", ",
                              False, False, False)  # allow_nan off: _finite turns them into strings

        def encode(value) -> str:
            return "".join(make(value, 0))

        probe = {"a": [1, -2.5, None, True, "\u00e9\n"], "b": {"c": 1 << 70}}
        if encode(probe) == json.dumps(probe):
            return encode
    except Exception:  # noqa: BLE001 - any difference in a private API means: use the public one
        pass
    return functools.partial(json.dumps, allow_nan=False)


def _finite(encode):
    """``encode`` that writes a float JSON cannot hold as the string ``"nan"``, ``"inf"`` or ``"-inf"``
    (docs/json.md) wherever it stands, instead of the invalid bare ``NaN``/``Infinity``; the common case
    (no such float) costs nothing extra."""
    def enc(value):
        try:
            return encode(value)
        except ValueError:  # out of range float values are not JSON compliant
            return encode(_nonfinite_as_text(value))
    return enc


def _nonfinite_as_text(value):
    if isinstance(value, float) and not math.isfinite(value):
        return "nan" if math.isnan(value) else ("inf" if value > 0 else "-inf")
    if isinstance(value, dict):
        return {k: _nonfinite_as_text(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_nonfinite_as_text(v) for v in value]
    return value


def _write_json(value, buf: list, depth: int, encode, out) -> None:
    if isinstance(value, GeneratorType):  # a list made as it is written (stack --json of a huge module)
        _write_stream(value, buf, depth, encode, out)
        return
    if depth >= _INLINE_DEPTH or not value or not isinstance(value, (dict, list, tuple)):
        buf.append(encode(value))
        return
    pad = "\n" + "  " * (depth + 1)
    deeper = depth + 1
    inline = deeper >= _INLINE_DEPTH
    if isinstance(value, dict):
        buf.append("{")
        sep = pad
        for k, v in value.items():
            buf.append(f"{sep}{encode(str(k))}: ")
            # leaves are encoded here rather than by a recursive call: one call fewer per value
            if isinstance(v, GeneratorType):
                _write_stream(v, buf, deeper, encode, out)
            elif inline or not v or not isinstance(v, (dict, list, tuple)):
                buf.append(encode(v))
            else:
                _write_json(v, buf, deeper, encode, out)
            sep = "," + pad
        buf.append("\n" + "  " * depth + "}")
    else:
        buf.append("[")
        sep = pad
        for v in value:
            buf.append(sep)
            if isinstance(v, GeneratorType):
                _write_stream(v, buf, deeper, encode, out)
            elif inline or not v or not isinstance(v, (dict, list, tuple)):
                buf.append(encode(v))
            else:
                _write_json(v, buf, deeper, encode, out)
            sep = "," + pad
            if len(buf) > _FLUSH:
                out.write("".join(buf))
                buf.clear()
        buf.append("\n" + "  " * depth + "]")
    if len(buf) > _FLUSH:
        out.write("".join(buf))
        buf.clear()


def _write_stream(items, buf: list, depth: int, encode, out) -> None:
    """A generator as a JSON list, one element at a time (each is dropped once written); at or below the
    inline depth, on one line as the encoder writes a list there."""
    if depth >= _INLINE_DEPTH:
        buf.append("[")
        first = True
        for v in items:
            if not first:
                buf.append(", ")
            first = False
            buf.append(encode(v))
            if len(buf) > _FLUSH:
                out.write("".join(buf))
                buf.clear()
        buf.append("]")
        return
    pad = "\n" + "  " * (depth + 1)
    sep, empty = "[" + pad, True
    for v in items:
        buf.append(sep)
        empty = False
        if depth + 1 >= _INLINE_DEPTH or not v or not isinstance(v, (dict, list, tuple, GeneratorType)):
            buf.append(encode(v))
        else:
            _write_json(v, buf, depth + 1, encode, out)
        sep = "," + pad
        if len(buf) > _FLUSH:
            out.write("".join(buf))
            buf.clear()
    buf.append("[]" if empty else "\n" + "  " * depth + "]")


def render(renderable, svg: str | None = None, title: str = "wasmem", crop: bool = True) -> None:
    """Prints to the terminal (and saves an SVG). ``crop=False`` is for renderables whose every line
    already fits the width (hex dumps): rich then skips splitting the output into lines to crop them."""
    from ..render.common import make_console

    console = make_console(record=svg is not None)
    console.print(renderable, crop=crop)
    if svg:
        console.save_svg(svg, title=title)
