"""`wasmem inspect`: the declared memory and the layout of linear memory."""

from __future__ import annotations

import click

from .budgets import budget_option
from .common import debug_file_option, json_option, memory_base_option, print_json, render, svg_option


@click.command("inspect")
@click.argument("module", type=click.Path())
@click.option("--pages", type=click.IntRange(min=0), default=None, metavar="N",
              help="Check a host memory of N pages (new WebAssembly.Memory({initial: N})) against an imported "
                   "memory as V8 does: minimum, maximum and shared flag.")
@click.option("--max-pages", type=click.IntRange(min=0), default=None, metavar="M",
              help="With --pages: the host memory's maximum (new WebAssembly.Memory({initial: N, maximum: M})).")
@click.option("--shared", is_flag=True, default=False, help="With --pages: the host memory is shared.")
@click.option("--min-stack", type=click.IntRange(min=0), default=None, metavar="BYTES",
              help="Warn when the linear stack is smaller than this (default 16384).")
@click.option("--segments", type=click.IntRange(min=1), default=8, show_default=True,
              help="How many of the largest data segments to list.")
@click.option("--imports", "show_imports", is_flag=True, default=False,
              help="Also list every import with its full type (function signature, memory/table limits, global "
                   "type).")
@click.option("--exports", "show_exports", is_flag=True, default=False,
              help="Also list every export with its full type and, for a function, its name-section name.")
@click.option("--core", type=click.Path(dir_okay=False), default=None, metavar="COREDUMP",
              help="Also show the state in a wasm coredump of this module: memory size, stack pointer and "
                   "stack in use, frames.")
@memory_base_option
@debug_file_option
@budget_option
@json_option
@svg_option
def inspect_cmd(module, pages, max_pages, shared, min_stack, segments, show_imports, show_exports, core,
                memory_base, debug_file, budgets, as_json, svg):
    """Show a module's declared memory, stack pointer, stack/data/heap layout and findings.

    Every section is parsed, so a malformed module fails with one error line (exit 2); function
    bodies are decoded in full when the code section is at most 1 MiB (--budget validate=N), otherwise
    only their first instructions are read (for the stack-pointer search) and a note says so.

    \b
    Examples:
      wasmem inspect app.wasm
      wasmem inspect app.wasm --pages 16     # will a 16-page host memory do?
      wasmem inspect app.wasm --pages 17 --max-pages 256 --shared
      wasmem inspect app.wasm --imports --exports
      wasmem inspect app.wasm --json
      wasmem inspect app.wasm --core crash.core
    """
    from ..api import inspect, load_module
    from ..errors import UsageError

    if pages is None and (max_pages is not None or shared):
        raise UsageError("--max-pages and --shared describe the host memory of --pages: give --pages N too")
    parsed = load_module(module, memory_base=memory_base, debug_file=debug_file, budgets=budgets)  # once: the layout and the import/export lists read the same module
    layout = inspect(parsed, pages=pages, min_stack=min_stack, host_max_pages=max_pages, host_shared=shared)
    _say_unchecked_bodies(parsed)
    imports = exports = None
    if show_imports or show_exports:
        from ..model.interface import describe_exports, describe_imports

        imports = describe_imports(parsed) if show_imports else None
        exports = describe_exports(parsed) if show_exports else None
    crash = None
    if core is not None:
        from ..api import open_core
        from ..debuginfo.frames import crash_facts

        crash = crash_facts(open_core(core, parsed), layout)
    if as_json:
        from ..model.layout import layout_to_dict

        d = layout_to_dict(layout)
        if imports is not None:
            d["imports"] = imports
        if exports is not None:
            d["exports"] = exports
        if crash is not None:
            d["core"] = crash
        print_json(d)
    else:
        from ..render.inspect import InspectView

        view = InspectView(layout, max_segments=segments, imports=imports, exports=exports)
        if crash is not None:
            from ..render.backtrace import with_crash_facts

            view = with_crash_facts(view, crash)
        render(view, svg)
    if any(f.severity == "error" for f in layout.findings) and pages is not None:
        raise SystemExit(1)


def _say_unchecked_bodies(module) -> None:
    """A note on stderr when the function bodies were located but not decoded in full (the validate budget)."""
    from ..budgets import lift
    from ..parser.validate import body_check_limit

    code = module.get_section(10)
    limit = body_check_limit(module)
    if code is not None and code.size > limit:
        from .main import error_line

        error_line(f"function bodies located and their ends checked, not decoded in full (the code section's "
                   f"{code.size:,} bytes are more than {limit:,}): a malformed instruction shows when a run "
                   f"compiles the module; {lift('validate')}", "wasmem: note: ")
