"""`wasmem shell`: one live instance and a gdb-like command language; scripts with -x."""

from __future__ import annotations

import sys

import click

from .call import host_calls_option, run_options


@click.command("shell")
@click.argument("module", type=click.Path())
@click.option("-x", "scripts", multiple=True, type=click.Path(dir_okay=False), metavar="FILE",
              help="Run the commands in FILE (repeatable), echoing each; stop at the first failed assert (exit "
                   "1) or error (exit 2, with FILE:LINE). No prompt afterwards.")
@click.option("-c", "commands", multiple=True, metavar="COMMAND",
              help="Run COMMAND as a script line (repeatable; after the -x files).")
@click.option("-q", "--quiet", is_flag=True, help="Do not echo script lines.")
@click.option("--core", type=click.Path(dir_okay=False), default=None, metavar="COREDUMP",
              help="Work post-mortem on a wasm coredump of MODULE (wasmtime -D coredump=…, call --coredump) "
                   "instead of running it: read-only, `bt` shows the dump's frames.")
@click.option("--watch-slots", type=click.IntRange(min=0, max=63), default=0, metavar="N",
              help="Rewrite the instance for up to N `watch` targets from the start (1-63; `watch sp` gets one "
                   "more). Without it the first `watch` reopens the instance rewritten for 8, carrying its "
                   "memory and globals over.")
@click.option("--watch-reads", is_flag=True,
              help="`watch` reports reads of the watched bytes as well as writes (as call --access rw): every load "
                   "is then checked too.")
@click.option("--heap", "heap", is_flag=True,
              help="Track the heap from the start: every allocator call (the module's and the shell's alloc/free) "
                   "is hooked, `heap` shows the live blocks and `assert heap.live == 0` checks them. Without it the "
                   "first `heap` reopens the instance hooked.")
@click.option("--allocator", default=None, metavar="ALLOC[,FREE]",
              help="With --heap: the allocator's functions when they are not found by name (as `wasmem heap "
                   "--allocator`).")
@run_options
@host_calls_option
def shell_cmd(module, scripts, commands, quiet, core, watch_slots, watch_reads, heap, allocator, session, alloc,
              host_calls):
    """Run a module in one live instance and work on it with gdb-like commands.

    Values persist between commands: `call` keeps results as $1, $2, … ($_ is the last) and `alloc`
    keeps addresses, usable in any later argument. Commands: call, x/NFMT, dump, p (DWARF-typed:
    p config, p *node_a->next, p names[2]), chase, alloc, write, str, free, snapshot/restore/diff,
    grow, info, bt, reset, view, watch/unwatch, heap, assert, help. Errors are printed and the shell goes on.

    `watch TARGET` reports every write into TARGET after each call, as `call --watch` does; the
    watch pass must be compiled into the instance, so either start with --watch-slots N or let the
    first `watch` reopen the instance rewritten for watching (its memory and globals are carried
    over; host state such as WASI files is not, and the output says so).

    `heap` shows the live heap blocks by allocating site as `wasmem heap` does (`heap findings`: the
    double and invalid frees so far). With --heap the allocator is hooked from the start; otherwise
    the first `heap` reopens the instance hooked, as `watch` does. The shell's own alloc and free go
    through the hooked exports and are tracked like the module's; `assert heap.live == 0` (live
    blocks), heap.bytes and heap.findings check the tracker in a script.

    With --core COREDUMP the session is the crashed instance a coredump recorded: x, dump, p, chase,
    str, info, assert and view read its memory and globals, bt shows its frames as `wasmem backtrace`
    does, and the commands that would run code or change memory (call, alloc, write, free, grow,
    snapshot, restore, diff, reset) are refused. MODULE must be the module the dump was taken of.

    With -x FILE or -c COMMAND (or commands on a standard input that is not a terminal) the lines run
    as a script: each is echoed, `assert` lines check values, and the first failed assert ends it
    with exit status 1, any other error with status 2 and FILE:LINE. Interactive use has completion
    (commands, exports, symbols, struct fields after . and ->) and history (WASMEM_HISTORY names the
    file; empty keeps it in memory).

    \b
    Examples:
      wasmem shell app.wasm
      wasmem shell app.wasm -x examples/seed.wms
      wasmem shell app.wasm -c "alloc 16" -c 'write $1 "hello"' -c 'call process_string $1 5' -c 'str $1'
      echo "info sp" | wasmem shell app.wasm
      wasmem shell app.wasm --core crash.core -c bt -c "p accounts[2]"
      wasmem shell app.wasm -c "watch list.used" -c "call push 1" -c "assert watch.hits == 1"
      wasmem shell app.wasm --heap -c "call make_greeting 3" -c "free $_" -c "assert heap.live == 0"
    """
    from ..shell import Shell, read_script, run_lines

    scripted = bool(scripts or commands) or not _is_tty(sys.stdin)
    sh = Shell(module, options=session, alloc=alloc, view=None if scripted else _run_view, core=core,
               watch_slots=watch_slots, watch_reads=watch_reads, heap=heap, allocator=allocator, host_calls=host_calls)
    try:
        sh.announce()
        if scripted:
            for path in scripts:
                run_lines(sh, read_script(path), path, echo=not quiet)
            if commands:
                run_lines(sh, list(commands), "-c", echo=not quiet)
            if not scripts and not commands:
                run_lines(sh, sys.stdin.read(64 << 20).splitlines(), "<stdin>", echo=not quiet)
            return 0
        import signal

        from ..shell.repl import interact

        # Ctrl-C while a command runs: a KeyboardInterrupt the shell reports, not the end of the session
        previous = signal.signal(signal.SIGINT, signal.default_int_handler)
        try:
            return interact(sh)
        finally:
            signal.signal(signal.SIGINT, previous)
    finally:
        sh.close()


def _is_tty(stream) -> bool:
    try:
        return stream is not None and stream.isatty()
    except (AttributeError, ValueError):
        return False


def _run_view(shell, at=None) -> None:
    from ..shell.view import view_shell

    view_shell(shell, at)
