"""`wasmem check`: CI rules over one or more modules (exit 0 all hold, 1 any fails, 2 usage/parse error)."""

from __future__ import annotations

import os

import click

from ..errors import UsageError
from ..text import shown
from .budgets import budget_option
from .call import Seconds
from .common import command_deadline, svg_option
from .stack import ANALYSIS_TIMEOUT

FORMATS = ("text", "json", "github", "junit", "sarif")


@click.command("check")
@click.argument("modules", nargs=-1, type=click.Path())
@click.option("--max-initial-pages", type=click.IntRange(min=0), default=None, metavar="N",
              help="Memory 0 may start with at most N pages.")
@click.option("--host-pages", type=click.IntRange(min=0), default=None, metavar="N",
              help="The host provides new WebAssembly.Memory({initial: N}) for the imported memory: fail where "
                   "V8 would (initial below the import's, a maximum or shared flag that does not match).")
@click.option("--host-max-pages", type=click.IntRange(min=0), default=None, metavar="M",
              help="With --host-pages: the host memory's maximum (required when the import declares one).")
@click.option("--host-shared", is_flag=True, default=False,
              help="With --host-pages: the host memory is shared (required when the import is shared).")
@click.option("--min-stack-size", type=click.IntRange(min=0), default=None, metavar="BYTES",
              help="The linear stack must be at least BYTES.")
@click.option("--max-stack-size", type=click.IntRange(min=0), default=None, metavar="BYTES",
              help="The linear stack must be at most BYTES.")
@click.option("--require-stack-first", is_flag=True, default=False,
              help="The stack must sit below the data (an overflow traps instead of corrupting data).")
@click.option("--require-max-memory", is_flag=True, default=False, help="Memory 0 must declare a maximum.")
@click.option("--max-data-size", type=click.IntRange(min=0), default=None, metavar="BYTES",
              help="Static data (including .bss when __data_end is known) must be at most BYTES.")
@click.option("--stack-headroom", type=click.FloatRange(min=0, max=100, max_open=True), default=None,
              metavar="PCT", help="Every export's static worst case must leave PCT percent of the stack free.")
@click.option("--allow-unbounded", is_flag=True, default=False,
              help="Do not fail stack-headroom on recursion or dynamic frames.")
@click.option("--recursion-depth", type=click.IntRange(min=1), default=None, metavar="N",
              help="For stack-headroom: bound recursive cycles by N frames.")
@click.option("--leak-call", default=None, metavar='"FUNC ARGS"',
              help="For leak-per-call: the call to repeat (the module runs, its allocator tracked).")
@click.option("--max-leak-per-call", type=click.IntRange(min=0), default=None, metavar="BYTES",
              help="Rule leak-per-call: repeating --leak-call may grow the live heap by at most BYTES per call "
                   "(after the first call; see `wasmem leaks`).")
@click.option("--leak-repeat", type=click.IntRange(min=1, max=100_000), default=None, metavar="N",
              help="For leak-per-call: how many calls (default 10).")
@click.option("--config", "config", type=click.Path(dir_okay=False), default=None,
              help="Read rules from FILE (default: wasmem.toml, or [tool.wasmem.check] in pyproject.toml, "
                   "in this directory or a parent).")
@click.option("--no-config", is_flag=True, default=False, help="Ignore config files.")
@click.option("--format", "fmt", type=click.Choice(FORMATS), default="text", show_default=True,
              help="Output format: text, json, github (::error annotations), junit (XML) or sarif "
                   "(SARIF 2.1.0, for GitHub code scanning).")
@click.option("--output", "-o", type=click.Path(dir_okay=False, writable=True), default=None,
              help="Write the report to FILE instead of standard output (the usual place for junit and "
                   "sarif).")
@click.option("--timeout", type=Seconds(), default=ANALYSIS_TIMEOUT, show_default=True, metavar="SECONDS",
              help="The whole command's limit, counted from its start: a module whose stack analysis (for "
                   "stack-headroom) it stops reports an error (0 = no limit).")
@budget_option
@svg_option
def check_cmd(modules, config, no_config, fmt, output, svg, timeout, budgets, **flags):
    """Check modules against CI rules: memory size, stack size and layout, data size, stack headroom, leaks.

    Flags override the rules found in a config file, so CI can run just `wasmem check build/app.wasm`.
    Exit status: 0 when every rule holds, 1 when any fails, 2 on a usage or parse error.

    \b
    Examples:
      wasmem check app.wasm --require-stack-first --min-stack-size 65536
      wasmem check app.wasm --stack-headroom 25 --recursion-depth 64
      wasmem check build/*.wasm --format github
      wasmem check app.wasm --format junit --output wasmem.xml
      wasmem check build/*.wasm --format sarif -o wasmem.sarif
      wasmem check app.wasm --require-stack-first --svg check.svg
      wasmem check app.wasm --leak-call "handle s:ping" --max-leak-per-call 0
    \b
    pyproject.toml:
      [tool.wasmem.check]
      modules = ["build/app.wasm"]
      require-stack-first = true
      stack-headroom = 25
    """
    from ..api import load_module
    from ..model.checks import make_rules, reports_to_dict, run_checks

    if config is not None and no_config:
        raise UsageError("--config and --no-config exclude each other")
    if svg and fmt != "text":
        raise UsageError("--svg saves the text report: use it with --format text")
    rules, used, cfg_modules = make_rules(flags, config, use_config=not no_config)
    paths = list(modules) or cfg_modules
    if not paths:
        raise UsageError("no module given (pass MODULE... or list `modules` in the config)")
    if not rules.active:
        raise UsageError("no rules given: pass rule options (see --help) or add [tool.wasmem.check] "
                         "to pyproject.toml")
    from ..debuginfo.layout import analyze_layout

    deadline = command_deadline(timeout)  # the whole command's: every module's analysis and leak run
    leak_of = None
    if rules.max_leak_per_call is not None:
        import functools

        from ..app.heap import leak_per_call

        leak_of = functools.partial(leak_per_call, deadline=deadline)
    if budgets:  # every module loaded with them
        import functools

        load_module = functools.partial(load_module, budgets=budgets)
    reports = run_checks(paths, rules, load_module, analyze_layout, timeout=deadline,  # the layout inspect shows
                         leak_of=leak_of)

    if fmt == "json":
        import json

        text = json.dumps(reports_to_dict(reports), indent=2) + "\n"
    elif fmt == "github":
        from ..render.check import to_github

        text = to_github(reports)
    elif fmt == "junit":
        from ..render.check import to_junit

        text = to_junit(reports)
    elif fmt == "sarif":
        import json

        from ..render.sarif import to_sarif

        text = json.dumps(to_sarif(reports, rules.active), indent=2) + "\n"
    else:
        text = None
    if text is None:
        from ..render.check import CheckView

        if output:
            from ..render.common import make_console

            with _open_report(output) as f:
                make_console(file=f, width=100, color=False).print(CheckView(reports, used))
        else:
            from .common import render

            render(CheckView(reports, used), svg)
    elif output:
        with _open_report(output) as f:
            f.write(text)
        failed = sum(len(m.failures) for m in reports)
        click.echo(f"wasmem check: wrote {fmt} report to {shown(output)} ({failed} failed)", err=True)
    else:
        click.echo(text, nl=False)

    errors = [m for m in reports if m.error]
    if errors:
        from .main import error_line

        for m in errors:
            error_line(m.error)
        raise SystemExit(2)
    if not all(m.passed for m in reports):
        raise SystemExit(1)


def _open_report(path: str):
    """The report file for writing, its directory created first (CI collects reports in reports/ or build/)."""
    try:
        parent = os.path.dirname(path)
        if parent:
            os.makedirs(parent, exist_ok=True)
        return open(path, "w", encoding="utf-8")
    except OSError as exc:
        raise UsageError(f"cannot write the report to {path}: {exc.strerror or exc}") from None
