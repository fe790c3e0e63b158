"""`wasmem view`: the full-screen memory inspector on a live instance."""

from __future__ import annotations

import click

from .call import run_options


@click.command("view")
@click.argument("module", type=click.Path())
@click.option("--after", multiple=True, metavar='"FUNC ARGS"',
              help="Call a function first (repeatable); the bytes the last one changed are highlighted.")
@click.option("--at", "at", default=None, metavar="ADDR",
              help="Where the cursor starts: an address, sp, a global or a symbol path (default: the first "
                   "object, else the start of the data).")
@click.option("--core", type=click.Path(dir_okay=False), default=None, metavar="COREDUMP",
              help="Browse the memory of a wasm coredump of MODULE (wasmtime -D coredump=…, call --coredump) "
                   "instead of running it; the dumped stack pointer is marked.")
@run_options
def view_cmd(module, after, at, core, session, alloc):
    """Browse linear memory full-screen: hex rows coloured by region, objects named, values at the cursor.

    Rows are read as they come on screen, so the whole memory can be scrolled whatever its size. Bytes
    of DWARF variables are tinted and each starts with a name: type chip; the stack pointer's byte and
    row are marked; bytes changed by the last --after call are red. The inspector on the right shows the
    bytes at the cursor as i8…u64, f32, f64 and as a pointer with the symbol it lands on.

    Keys: arrows, PgUp/PgDn, Home move; g goes to an address or symbol path; f (or Enter) follows the
    pointer at the cursor and b (or Backspace) comes back; s goes to the stack pointer; e switches
    endianness; q quits. `view` inside `wasmem shell` shows the shell's live instance.

    With --core COREDUMP the memory is the dump's, read as rows come on screen (a large dump opens
    without being read whole), with the stack pointer at the crash marked; MODULE must be the module
    the dump was taken of.

    \b
    Examples:
      wasmem view app.wasm
      wasmem view app.wasm --at config
      wasmem view app.wasm --after "allocate 32" --at __heap_base
      wasmem view app.wasm --core crash.core --at accounts
    """
    from ..app import call_function, open_session, symbols_for
    from ..shell.view import view_session

    if core is not None:
        if after:
            from ..errors import UsageError

            raise UsageError("--core reads a coredump: it takes no --after calls")
        from ..app.core import open_core_session

        s = open_core_session(module, core)
    else:
        s = open_session(module, calls=after, alloc=alloc, **session)
    try:
        symbols = symbols_for(s.module)
        changed = None
        for text in after:
            from ..app import split_call

            name, args = split_call(text)
            r = call_function(s, name, args, alloc=alloc).result
            changed = r.changed(0)
            if not r.ok:
                from ..errors import RunError

                raise RunError(f"--after {text}: {r.trap.message if r.trap else 'failed'}")
        start = None
        if at is not None:
            from ..app import resolve_target

            start = resolve_target(at, symbols, s.read, s.resolve_address).address
        if core is None:
            s.deadline = None  # --timeout bounded opening and the --after calls; browsing has no deadline
        from ..deadline import governing

        with governing(None):  # nor what browsing reads lazily (a first DWARF type)
            view_session(s, symbols, changed=changed, at=start)
    finally:
        s.close()
    return 0
