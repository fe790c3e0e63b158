"""`wasmem call`: call an exported function and show what it did to memory."""

from __future__ import annotations

import functools
import re

import click

from ..runtime.spec import (
    DEFAULT_MAX_MEMORY,
    HOST_NAMES,
    MAX_FUEL,
    MAX_OUTPUT,
    MAX_RANGES,
    MAX_TABLE_ENTRIES,
)
from .budgets import budget_option, say_cuts
from .common import (
    command_deadline,
    compile_progress,
    debug_file_option,
    json_option,
    memory_base_option,
    print_json,
    render,
    svg_option,
)

CALL_TIMEOUT = 10.0  # seconds each call may run when no --timeout is given

# each run option → the SessionSpec field it sets (repeatable options become tuples)
SPEC_FIELDS = {"pages": "pages", "timeout": "timeout", "fuel": "fuel", "dirs": "wasi_dirs", "envs": "wasi_env",
               "strict_imports": "strict_imports", "max_memory": "max_memory", "paint": "paint", "host": "host",
               "wasi_args": "wasi_args", "stdin": "wasi_stdin", "max_table_entries": "max_table_entries",
               "max_output": "max_output", "max_changes": "max_changes"}  # tests/cli/test_call.py checks that each field exists


class Seconds(click.ParamType):
    """A finite number of seconds >= 0: nan and inf are refused (nan would compare as no limit, inf
    cannot be waited for); 0 means no limit."""

    name = "seconds"

    def convert(self, value, param, ctx):
        if isinstance(value, float):
            v = value
        else:
            try:
                v = float(value)
            except ValueError:
                self.fail(f"{value!r} is not a number of seconds", param, ctx)
        if v != v or v in (float("inf"), float("-inf")) or v < 0:
            self.fail(f"{value} is not a finite number of seconds >= 0 (0 = no limit)", param, ctx)
        return v


def run_options(f):
    """Options shared by the commands that run a module (call, dump, chase). The session's options
    reach the command as one ``session`` dict of `Session` keywords; ``alloc`` stays separate."""

    @functools.wraps(f)
    def wrapper(*args, **kwargs):
        base, debug_file, budgets = kwargs.pop("memory_base"), kwargs.pop("debug_file"), kwargs.pop("budgets")
        if isinstance(kwargs.get("module"), str):  # the module, loaded once with these choices
            from ..api import load_module

            kwargs["module"] = load_module(kwargs["module"], memory_base=base, debug_file=debug_file,
                                           budgets=budgets)
        kwargs["session"] = {field: (tuple(v) if isinstance(v, (list, tuple)) else v)
                             for field, v in ((f, kwargs.pop(k)) for k, f in SPEC_FIELDS.items())}
        # the command's one deadline, from its start: compiling, the calls and the reports after them (the
        # shell and the viewer, interactive, give each of their own commands a fresh one)
        timeout = kwargs["session"]["timeout"]  # None: not given, each call has CALL_TIMEOUT and nothing more
        kwargs["session"]["timeout"] = CALL_TIMEOUT if timeout is None else timeout
        kwargs["session"]["deadline"] = None if timeout is None else command_deadline(timeout)
        kwargs["session"]["on_compile"] = compile_progress()  # a status on stderr while a slow compile runs
        from .main import exit_stuck

        kwargs["session"]["on_stuck"] = exit_stuck  # a call blocked where no stop reaches: exit
        status = f(*args, **kwargs)
        say_cuts(kwargs.get("module"))  # what a budget cut in the symbols the command used, if it did not say
        return status

    opts = [
        click.option("--pages", type=click.IntRange(min=0), default=None,
                     help="Pages for an imported memory (default: its declared minimum)."),
        click.option("--timeout", type=Seconds(), default=None,
                     metavar="SECONDS", help="The whole command's limit, counted from its start: compiling, every "
                                             "call (also while it waits in a host call such as a WASI sleep) and "
                                             "the report after them; a report it cuts says what is missing (0 = "
                                             "no limit; nan and inf are refused). In the shell: each command's. "
                                             f"Without it, each call stops after {CALL_TIMEOUT:g} s."),
        click.option("--fuel", type=click.IntRange(min=1, max=MAX_FUEL), default=None,
                     help="Also stop after N units of fuel."),
        click.option("--max-memory", type=click.IntRange(min=0), default=DEFAULT_MAX_MEMORY, show_default=True,
                     metavar="BYTES", help="The total over all memories (defined, imported and shared): "
                                           "instantiating needs at most this, memory.grow past it returns -1 (0 = "
                                           "no limit)."),
        click.option("--max-table-entries", type=click.IntRange(min=0), default=MAX_TABLE_ENTRIES, show_default=True,
                     metavar="N", help="The total entries over all tables (wasmtime spends 8 bytes on each): "
                                       "table.grow past it returns -1 (0 = no limit)."),
        click.option("--max-output", type=click.IntRange(min=0), default=MAX_OUTPUT, show_default=True,
                     metavar="BYTES", help="Keep this much of the guest's stdout and of its stderr per call; the "
                                           "rest is counted as truncated, and a call that writes 64 times as "
                                           "much (at least 64 MiB) is stopped (0 = no limit)."),
        click.option("--max-changes", type=click.IntRange(min=1), default=MAX_RANGES, show_default=True,
                     metavar="N", help="Keep this many ranges of the memory a call changed (each with its first "
                                       "1024 bytes before and after); the ranges past them are counted, not kept."),
        click.option("--dir", "dirs", multiple=True, metavar="HOST[:GUEST[:ro]]",
                     help="WASI: preopen a host directory (repeatable; none by default). The guest may READ "
                          "AND WRITE there (create, change, delete files) unless the access is :ro."),
        click.option("--env", "envs", multiple=True, metavar="K=V",
                     help="WASI: set an environment variable (repeatable; empty by default)."),
        click.option("--paint/--no-paint", "paint", default=None,
                     help="How stack use is measured. Default: the stack pointer's writes are instrumented "
                          "(no memory is written; red-zone use by leaf functions is not seen). --paint fills "
                          "the free stack below the stack pointer with a pattern (sees the red zone; only where "
                          "the stack's bounds are proven; a program that reads uninitialised stack then reads "
                          "the pattern). --no-paint instruments (the default)."),
        click.option("--host", type=click.Choice(HOST_NAMES, case_sensitive=False), default="auto",
                     metavar="NAME",
                     help="The host the module's imports get: auto (the default) picks it from the imports and "
                          "the producers section, and the output says which and why; wasi, emscripten, "
                          "wasm-bindgen, assemblyscript or go behaves like that toolchain's host; none makes every "
                          "import a recorded stub."),
        click.option("--arg", "wasi_args", multiple=True, metavar="TEXT",
                     help="WASI: an argument for the program (repeatable; argv[0] is the module's file name)."),
        click.option("--stdin", type=click.Path(exists=True, dir_okay=False), default=None, metavar="FILE",
                     help="WASI: read stdin from FILE (default: empty)."),
        click.option("--strict-imports", is_flag=True,
                     help="Make a call to a stubbed import a trap instead of returning zeros."),
        click.option("--alloc", default=None, metavar="NAME[,FREE]",
                     help="Allocator export for s:/b: arguments (default: allocate, malloc, __wbindgen_malloc)."),
    ]
    opts += [memory_base_option, debug_file_option, budget_option]
    for o in reversed(opts):
        wrapper = o(wrapper)
    return wrapper


# how `call` and the shell list the calls to host imports (render.call.host_calls_lines)
host_calls_option = click.option(
    "--host-calls", "host_calls", type=click.Choice(["summary", "all", "none"]), default="summary", metavar="MODE",
    show_default=True,
    help="How the calls the module made to host imports are listed: summary folds them into one line per import "
         "with its count (fd_write ×12; an import called once is shown whole, with its message), all lists "
         "every call in order, none leaves them out. --json always has every call.")

_NUMBER = re.compile(r"-(\d|\.\d|inf|nan|0x)", re.IGNORECASE)


class CallCommand(click.Command):
    """Options are parsed wherever they stand, before or after the function's arguments; a word that
    starts with '-' is an argument only when it is a negative number (``-5``, ``-0x10``, ``-1.5``,
    ``-inf``, ``-nan``) or comes after ``--``. Any other unknown option is an error, never an argument."""

    def parse_args(self, ctx, args):
        known = {o for p in self.params for o in (*getattr(p, "opts", ()), *getattr(p, "secondary_opts", ()))}
        known.update(ctx.help_option_names)
        # options that take a value: the word after them is that value (`--arg -x`), whatever it looks like
        valued = {o: p.nargs for p in self.params if isinstance(p, click.Option) and not p.is_flag
                  and not p.count for o in p.opts}
        skip = 0
        for word in args:
            if skip:
                skip -= 1
                continue
            if word == "--":
                break
            if not word.startswith("-") or word == "-" or _NUMBER.match(word):
                continue
            name, eq, _ = word.partition("=")
            if name not in known:
                raise click.NoSuchOption(name, ctx=ctx)
            if not eq:
                skip = valued.get(name, 0)
        return super().parse_args(ctx, args)


@click.command("call", cls=CallCommand, context_settings={"ignore_unknown_options": True})
@click.argument("module", type=click.Path())
@click.argument("func")
@click.argument("args", nargs=-1)
@run_options
@click.option("--before", multiple=True, metavar='"FUNC ARGS"', help="Run a setup call first (repeatable).")
@click.option("--sret", is_flag=True, default=None,
              help="The function returns a struct through a hidden pointer (its first parameter): wasmem "
                   "makes the slot on the stack and shows it. Implied by --returns and by DWARF.")
@click.option("--write", "writes", multiple=True, metavar="ADDR=HEX",
              help="Write bytes into memory just before the call, e.g. --write 0x1000=deadbeef or "
                   "--write __heap_base+16=00ff (repeatable; not counted as the call's changes).")
@click.option("--returns", default=None, metavar="LAYOUT",
              help="Decode a hidden-pointer (sret) result, e.g. f64,f64 or x:f64,y:f64.")
@click.option("--ret-size", type=click.IntRange(min=1), default=16, show_default=True,
              help="Bytes of an sret result to show when there is no --returns.")
@click.option("--check-stack", is_flag=True,
              help="Run an instrumented copy that records the exact lowest stack pointer and stops a "
                   "linear-stack overflow at the overflowing function (before it overwrites data).")
@click.option("--coredump", type=click.Path(dir_okay=False, writable=True), default=None, metavar="FILE",
              help="When the call (or a --before call) traps, write a standard wasm coredump of the instance to "
                   "FILE (every memory and global, the trap's frames); read it with `wasmem backtrace`.")
@click.option("--watch", "watch", multiple=True, metavar="TARGET",
              help="Report every write into TARGET (repeatable), in the --before calls too: ADDR:LEN "
                   "(0x1000:16, counter:4), a symbol or symbol path (settings.limit, names[2], node_a->next: "
                   "a path through a pointer is re-resolved before each call), a region (.rodata, .data, .bss, "
                   "stack, heap) or sp (writes below a data-first stack's low end: an overflow running over the "
                   "data). Each hit: function, code offset, file:line, the address as symbol.field, size, "
                   "old -> new, and the call path.")
@click.option("--stop", "watch_stop", is_flag=True,
              help="With --watch: the first hit becomes a trap (before the write happens) with a backtrace.")
@click.option("--access", type=click.Choice(["w", "rw"]), default="w", show_default=True,
              help="With --watch: w reports writes, rw reads as well.")
@click.option("--trace-writes", is_flag=True,
              help="Sum up every write of memory 0 per function: which symbols and regions it wrote (bytes, "
                   "count), flagging writes into .rodata and into another function's static variables. "
                   "Every write then calls wasmem (a few microseconds each).")
@host_calls_option
@json_option
@svg_option
def call_cmd(module, func, args, session, alloc, before, sret, writes, returns, ret_size, check_stack, coredump,
             watch, watch_stop, access, trace_writes, host_calls, as_json, svg):
    """Call an exported function and show its results and what it did to memory.

    Arguments are parsed by the function's parameter types: integers in decimal, 0x hex or negative
    (unsigned values wrap), floats incl. inf and nan. `s:TEXT` (UTF-8) and `b:HEX` pass a (ptr, len)
    pair copied through the module's allocator (malloc, allocate, __wbindgen_malloc(size, align),
    cabi_realloc(0, 0, align, size), or --alloc; a C allocator's block gets a NUL after the length, as
    JS glue gives one); `z:TEXT` passes a pointer to NUL-terminated text
    and `p:HEX` a pointer to the bytes, without a length. Options may stand anywhere; a word starting
    with '-' is an argument only when it is a negative number or follows `--`.

    A function that returns a struct through a hidden pointer (its first parameter) gets one when
    DWARF says so, or with --sret or --returns; otherwise the arguments must match the parameters and
    a wrong count is an error that shows the signature. Exit code 1 when the function traps.

    Stack use is measured by instrumenting the stack pointer's writes (no memory written); --paint
    paints the free stack instead (sees the red zone; see --help below). --check-stack also stops a
    linear-stack overflow: it becomes a `stack_overflow` trap that names the function (exit code 1)
    instead of silently overwriting static data in a data-first module.

    --watch TARGET runs a copy of the module in which every store, atomic and bulk-memory write (and
    with --access rw every load) checks the watched ranges inline and reports the hits: who wrote
    this byte, with the source line. Writes by host functions (WASI fd_read) show as host writes.

    \b
    Examples:
      wasmem call app.wasm add 2 3
      wasmem call app.wasm make_point 1.0 2.0 --returns x:f64,y:f64
      wasmem call app.wasm process_string s:Hello
      wasmem call app.wasm checksum b:68656c6c6f --json
      wasmem call app.wasm strlen z:hello
      wasmem call app.wasm get_counter --write counter=2a000000
      wasmem call app.wasm add -- -1 -2
      wasmem call app.wasm spin --timeout 1
      wasmem call app.wasm deep 9 --check-stack
      wasmem call app.wasm reset_scores --watch settings.limit
      wasmem call app.wasm deep 8 --watch sp --stop
      wasmem call app.wasm run --coredump crash.core
    """
    from ..app import call_function

    outcome = call_function(module, func, list(args), before=before, returns=returns, ret_size=ret_size,
                            alloc=alloc, sret=sret, writes=writes, check_stack=check_stack, coredump=coredump,
                            watch=watch, watch_stop=watch_stop, access=access, trace_writes=trace_writes, **session)
    try:
        if as_json:
            print_json(outcome.to_dict())
        else:
            from ..render.call import render_call

            render(render_call(outcome, host_calls), svg)
    finally:
        outcome.session.close()
    return 0 if outcome.ok else 1
