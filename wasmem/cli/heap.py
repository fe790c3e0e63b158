"""`wasmem heap` and `wasmem leaks`: live heap blocks by allocating site, and leaks per call (issue 15)."""

from __future__ import annotations

import click

from .call import run_options
from .common import json_option, print_json, render, svg_option

_ALLOCATOR_HELP = ("The allocator's functions when they are not found by name (stripped, custom): ALLOC or "
                   "ALLOC,FREE, export or name-section names, or func[N] by index in a module stripped of names "
                   "(default: malloc/free/calloc/realloc/posix_memalign, __rust_alloc…, __wbindgen_malloc…, "
                   "AssemblyScript's __new…, Zig's heap.BrkAllocator.alloc…).")
_MEMCHECK_HELP = ("Also check every access of memory 0 (loads and stores, SIMD, atomics, memory.fill/copy/init): "
                  "a use after free, or an access to heap memory no live block holds (past a block's end), is "
                  "reported with its line and the program goes on (slower).")
_UNINIT_HELP = ("With --memcheck: also report reads of heap bytes never written since malloc (not calloc) "
                "handed them out, once per reading instruction (off by default: copying a struct field by field "
                "reads its padding).")
_PATHS_HELP = ("Record each allocation's call path (a shadow call stack in every function, and a host call per "
               "allocation: slower).")


def _show(report, sess, as_json: bool, view: str, svg) -> int:
    """Prints a heap or leak report (its notes on stderr; ``view``: the render.heap function for text), closes
    the session; the exit status: 0, or 1 when the report is not ok."""
    from .main import error_line

    try:
        for n in report.notes:
            error_line(n, "wasmem: note: ")
        if as_json:
            print_json(report.to_dict())
        else:
            from ..render import heap as views

            render(getattr(views, view)(report), svg)
    finally:
        sess.close()
    return 0 if report.ok else 1


def _tracking_options(f):
    """--allocator, --paths, --memcheck, --memcheck-ignore and --memcheck-uninit: how heap and leaks track the
    allocator."""
    for opt in reversed((
            click.option("--allocator", default=None, metavar="ALLOC[,FREE]", help=_ALLOCATOR_HELP),
            click.option("--paths", is_flag=True, help=_PATHS_HELP),
            click.option("--memcheck", is_flag=True, help=_MEMCHECK_HELP),
            click.option("--memcheck-ignore", "memcheck_ignore", multiple=True, metavar="FUNC",
                         help="With --memcheck: do not report the accesses made by the function FUNC "
                              "(repeatable)."),
            click.option("--memcheck-uninit", "memcheck_uninit", is_flag=True, help=_UNINIT_HELP))):
        f = opt(f)
    return f


@click.command("heap")
@click.argument("module", type=click.Path())
@click.option("--after", multiple=True, metavar='"FUNC ARGS"', help="Call a function first (repeatable).")
@_tracking_options
@run_options
@json_option
@svg_option
def heap_cmd(module, after, allocator, paths, memcheck, memcheck_ignore, memcheck_uninit, session, alloc, as_json,
             svg):
    """Show the live heap blocks after some calls, grouped by the call that allocated them.

    The module is rewritten so that every call of its allocator (malloc, calloc, realloc, free,
    posix_memalign, __rust_alloc…, __wbindgen_malloc…, __new…, Zig's wasm_allocator) is logged,
    including calls inside the module, calls through function pointers (a table, call_ref: Zig's
    std.mem.Allocator) and wasmem's own (s: arguments, --after "malloc 32"). Each site is the calling
    function, the call's offset and, with DWARF, file:line; a block that a typed pointer variable points at gets its
    DWARF type. Double and invalid frees are reported (exit 1), and with --memcheck uses after free and
    accesses past a live block (with --memcheck-uninit also reads of bytes never written).

    \b
    Examples:
      wasmem heap app.wasm --after "push 1" --after "push 2"
      wasmem heap app.wasm --after "run 10" --json
      wasmem heap stripped.wasm --allocator my_alloc,my_free --after "run"
      wasmem heap app.wasm --after "run" --memcheck
    """
    from ..app.heap import heap_report

    report, sess = heap_report(module, after=after, allocator=allocator, alloc=alloc, paths=paths,
                               memcheck=memcheck, memcheck_ignore=memcheck_ignore, memcheck_uninit=memcheck_uninit,
                               **session)
    return _show(report, sess, as_json, "render_heap", svg)


@click.command("leaks")
@click.argument("module", type=click.Path())
@click.argument("call", metavar='"FUNC ARGS"')
@click.option("--repeat", "-n", type=click.IntRange(min=1, max=100_000), default=10, show_default=True,
              help="How many times to call it.")
@click.option("--before", multiple=True, metavar='"FUNC ARGS"', help="Call a function first, once (repeatable).")
@click.option("--max-growth", type=click.IntRange(min=0), default=None, metavar="BYTES",
              help="Exit 1 when the live heap grows by more than BYTES per call (after the first call).")
@_tracking_options
@run_options
@json_option
@svg_option
def leaks_cmd(module, call, repeat, before, max_growth, allocator, paths, memcheck, memcheck_ignore, memcheck_uninit,
              session, alloc, as_json, svg):
    """Call a function N times and show how much heap each call leaves behind, and where.

    After each call: the live bytes and blocks, what the call allocated and freed. The growth per call
    is measured from the first call to the last (a cache filled on the first call is not a leak), and
    the sites whose blocks, allocated after the first call, are still live are listed with file:line. A
    block the function returns to its caller is shown as such: the caller must free it. A garbage
    collector wasmem tracks (AssemblyScript's) is run (__collect) after each call, so that the live heap is
    what the program still references. Exit 1 above --max-growth, on a double or invalid free, or a trap.

    \b
    Examples:
      wasmem leaks app.wasm "parse s:hello" --repeat 100
      wasmem leaks app.wasm "step 1" --before "init" --max-growth 0
      wasmem leaks app.wasm "make_greeting 3" -n 5 --json
    """
    from ..app.heap import leak_report

    report, sess = leak_report(module, call, repeat=repeat, before=before, allocator=allocator, alloc=alloc,
                               max_growth=max_growth, paths=paths, memcheck=memcheck,
                               memcheck_ignore=memcheck_ignore, memcheck_uninit=memcheck_uninit, **session)
    return _show(report, sess, as_json, "render_leaks", svg)
