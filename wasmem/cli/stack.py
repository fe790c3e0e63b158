"""`wasmem stack`: static frame sizes, worst-case stack depth per export, measured peak, a stack size."""

from __future__ import annotations

import click

from ..errors import UsageError
from .budgets import budget_option
from .call import CALL_TIMEOUT, Seconds
from .common import command_deadline, compile_progress, json_option, print_json, render, svg_option

ANALYSIS_TIMEOUT = 120.0  # seconds: the analysis is linear (a 33 MB module takes about 10 s)


@click.command("stack")
@click.argument("module", type=click.Path())
@click.option("--top", type=click.IntRange(min=1), default=15, show_default=True,
              help="How many of the largest frames to list.")
@click.option("--all", "show_all", is_flag=True,
              help="List every frame, every entry point and every whole path (by default the output is "
                   "bounded: --top frames, 20 entry points, 12 frames per path, each with a \"… N more\" line).")
@click.option("--recursion-depth", type=click.IntRange(min=1), default=None, metavar="N",
              help="Bound recursive cycles by N frames on the stack at once.")
@click.option("--headroom", type=click.FloatRange(min=0, max=100, max_open=True), default=25.0,
              show_default=True, metavar="PCT",
              help="Percent of the stack to keep free when recommending -z stack-size.")
@click.option("--call", "call", default=None, metavar='"FUNC ARGS"',
              help="Also run FUNC with ARGS and show the measured stack peak (the stack pointer's writes "
                   "instrumented, as `call` measures it).")
@click.option("--check-stack", is_flag=True,
              help="With --call: run an instrumented copy that also gives the exact peak and stops a stack "
                   "overflow at the overflowing function (exit code 1).")
@click.option("--timeout", type=Seconds(), default=None, metavar="SECONDS",
              help=f"The whole command's limit, counted from its start: the analysis, and the --call (default: "
                   f"{ANALYSIS_TIMEOUT:g} s, and at most {CALL_TIMEOUT:g} s for the call; 0 = no limit). An "
                   f"analysis cut by it shows what it scanned, with a note.")
@budget_option
@json_option
@svg_option
def stack_cmd(module, top, show_all, recursion_depth, headroom, call, check_stack, timeout, budgets, as_json,
              svg):
    """Show frame sizes, the worst-case stack depth of each export and start function (with its deepest
    call path), recursion and dynamic frames, and the -z stack-size that gives the requested headroom.

    Imported functions count as 0 bytes: their frames live in the host.

    The recommendation is safe by construction: none while an entry point has no static bound (a
    dynamic frame, or recursion without --recursion-depth; the output then says which, and what
    --recursion-depth N would give), and never below the largest frame. --json is always complete.

    With --call the bar compares the static worst case, the measured peak and the stack size; with
    --check-stack also the exact peak, and a stack overflow ends the call at the overflowing function
    with a one-line message and exit code 1 (as does any other trap of the call).

    \b
    Examples:
      wasmem stack app.wasm
      wasmem stack app.wasm --recursion-depth 100 --headroom 50
      wasmem stack app.wasm --call "fib_stack 10"
      wasmem stack app.wasm --call "deep 9" --check-stack
      wasmem stack app.wasm --json
    """
    from ..api import load_module
    from ..model.stackframes import analyze_stack, stack_to_dict

    if check_stack and not call:
        raise UsageError("--check-stack needs --call \"FUNC ARGS\" (it checks a run of the module)")
    from ..debuginfo.layout import analyze_layout

    deadline = command_deadline(ANALYSIS_TIMEOUT if timeout is None else timeout)
    parsed = load_module(module, budgets=budgets)
    if call:  # before the analysis and the compile (minutes for a large module): a misspelt call fails at once
        from ..app import check_calls

        check_calls(parsed, [call])
    layout = analyze_layout(parsed)  # inspect's layout
    if layout.data_end_cut:  # the stack's bounds may move with the data end a budget left unread
        from .main import error_line

        error_line(f"the data end does not use the module's DWARF: {layout.data_end_cut}", "wasmem: note: ")
    analysis = analyze_stack(parsed, layout, recursion_depth=recursion_depth, deadline=deadline, partial=True)
    from ..model.indirectcalls import indirect_view

    indirect = indirect_view(analysis, parsed)  # recursion through call_indirect: possible, not proven
    measured = None
    trap = None
    if call:
        from ..app import open_session, split_call
        from .main import exit_stuck

        name, args = split_call(call)
        session = open_session(parsed, check_stack=check_stack, timeout=CALL_TIMEOUT if timeout is None else timeout,
                               deadline=deadline, on_compile=compile_progress(), on_stuck=exit_stuck)
        try:
            result = session.call(name, args)
        finally:
            close = getattr(session, "close", None)
            if close:
                close()
        if result.stack is not None:
            measured = (call, result.stack)
        if not result.ok:
            trap = result.trap
    if as_json:
        d = stack_to_dict(analysis, headroom, lazy=True)  # frames and roots streamed as they are written
        d["indirect"] = indirect.to_dict() if indirect is not None else None
        if call:
            d["measured"] = None if measured is None else {"call": call, **measured[1].to_dict()}
            d["trap"] = trap.to_dict() if trap is not None else None
        print_json(d)
    else:
        from ..render.stack import StackView

        render(StackView(analysis, top=top, headroom_pct=headroom, measured=measured, trap=trap,
                         show_all=show_all, indirect=indirect), svg)
    if trap is not None:
        raise SystemExit(1)  # the call trapped (a stack overflow with --check-stack)
