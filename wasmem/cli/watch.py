"""`wasmem watch`: a sequence of calls in one instance, each watched: who wrote the watched bytes, call by call."""

from __future__ import annotations

import click

from .call import run_options
from .common import json_option, print_json, render, svg_option


@click.command("watch")
@click.argument("module", type=click.Path())
@click.argument("targets", nargs=-1)
@click.option("--after", "calls", multiple=True, metavar='"FUNC ARGS"',
              help="A call to run and watch (repeatable; they run in order in one instance).")
@click.option("--before", "before", multiple=True, metavar='"FUNC ARGS"',
              help="A setup call run first and not watched (repeatable); the targets are resolved after them.")
@run_options
@click.option("--stop", "watch_stop", is_flag=True,
              help="The first hit becomes a trap (before the write happens) with a backtrace; the calls after "
                   "it do not run.")
@click.option("--access", type=click.Choice(["w", "rw"]), default="w", show_default=True,
              help="w reports writes, rw reads as well.")
@click.option("--trace-writes", is_flag=True,
              help="Also sum up every write of memory 0 per function over the whole sequence (as call "
                   "--trace-writes does), flagging writes into .rodata and into another function's statics.")
@json_option
@svg_option
def watch_cmd(module, targets, calls, before, session, alloc, watch_stop, access, trace_writes, as_json, svg):
    """Run a sequence of calls and report every write into each TARGET, grouped by call.

    TARGET is what `call --watch` takes: ADDR:LEN (0x1000:16, counter:4), a symbol or symbol path
    (settings.limit, names[2], head->value), a region (.rodata, .data, .bss, stack, heap) or sp. The
    calls given with --after run in order in one instance rewritten once for all the targets; each
    hit shows the function, code offset, file:line, the address as symbol.field, size, old -> new and
    the call path, under the call it happened in. A target that goes through a pointer (head->value,
    p[2]) is re-resolved before every call, so it follows the pointer as the calls move it (a note
    says when it moved); one that is a null pointer at the start is watched from the call after which
    it resolves. --before calls run first without being watched (setup), and the targets are resolved
    in the memory they leave. A call that traps (a --stop hit too) ends the sequence; exit status 1.

    \b
    Examples:
      wasmem watch app.wasm list.used --after "push 1" --after "push 2" --after "push 3"
      wasmem watch app.wasm 'head->value' --after "push 1" --after "bump 5" --after "push 2"
      wasmem watch app.wasm settings.limit --before init --after reset_scores --stop
      wasmem watch app.wasm .data --after "run 3" --trace-writes --json
    """
    from ..app.watch import watch_calls

    seq = watch_calls(module, targets, calls, before=before, stop=watch_stop, access=access, trace_writes=trace_writes,
                      alloc=alloc, **session)
    try:
        if as_json:
            print_json(seq.to_dict())
        else:
            from ..render.watch import SequenceView

            render(SequenceView(seq), svg)
    finally:
        seq.session.close()
    return 0 if seq.ok else 1
