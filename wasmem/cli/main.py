"""The `wasmem` command group and the one place that maps errors to messages and exit codes."""

from __future__ import annotations

import importlib
import os
import sys

import click

from .. import __version__
from ..errors import WasmemError
from ..text import shown

# command name → "module:attribute", imported only when the command runs (so `inspect` never
# imports wasmtime)
COMMANDS = {
    "inspect": "wasmem.cli.inspect:inspect_cmd",
    "dump": "wasmem.cli.dump:dump_cmd",
    "call": "wasmem.cli.call:call_cmd",
    "symbols": "wasmem.cli.symbols:symbols_cmd",
    "stack": "wasmem.cli.stack:stack_cmd",
    "check": "wasmem.cli.check:check_cmd",
    "chase": "wasmem.cli.chase:chase_cmd",
    "schema": "wasmem.cli.schema:schema_cmd",
    "backtrace": "wasmem.cli.backtrace:backtrace_cmd",
    "shell": "wasmem.cli.shell:shell_cmd",
    "view": "wasmem.cli.view:view_cmd",
    "watch": "wasmem.cli.watch:watch_cmd",
    "heap": "wasmem.cli.heap:heap_cmd",
    "leaks": "wasmem.cli.heap:leaks_cmd",
}


def available_commands() -> dict[str, str]:
    """Every command ships with the package, so all of them are available; no import-time probing."""
    return dict(COMMANDS)


class LazyGroup(click.Group):
    def list_commands(self, ctx):
        return sorted(available_commands())

    def get_command(self, ctx, name):
        target = available_commands().get(name)
        if target is None:
            return None
        mod, attr = target.split(":")
        return getattr(importlib.import_module(mod), attr)


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="wasmem")
@click.option("--traceback", is_flag=True, help="Show the Python traceback of an error (also WASMEM_TRACEBACK=1).")
@click.pass_context
def cli(ctx, traceback):
    """Inspect and debug WebAssembly linear memory.

    \b
    Examples:
      wasmem inspect app.wasm
      wasmem dump app.wasm --at __heap_base --len 64
      wasmem call app.wasm make_point 1.0 2.0
    """
    ctx.ensure_object(dict)
    ctx.obj["traceback"] = traceback


def _quiet_stdout() -> None:
    """After a failed write to standard output, make the interpreter's final flush a no-op (it would
    print a second error about the same failure)."""
    try:
        sys.stdout = open(os.devnull, "w")  # noqa: SIM115 - lives until exit
    except OSError:
        pass


def error_line(text: str, prefix: str = "wasmem: error: ") -> None:
    """One line on standard error: ``prefix`` then ``text`` through ``shown``, so a name from the module
    (or a path, or a value from the command line) inside a message can neither drive the terminal nor
    start a line of its own. Messages may embed names as they are: this is where they are escaped."""
    click.echo(prefix + shown(text), err=True)


def _want_traceback(argv) -> bool:
    return "--traceback" in argv or os.environ.get("WASMEM_TRACEBACK") == "1"


class Interrupted(BaseException):
    """Ctrl-C: raised by the SIGINT handler ``main`` installs. Not a KeyboardInterrupt, which click would
    turn into Abort after printing an empty line; the session's watcher has already stopped a running wasm
    call through the signal's wakeup fd (runtime/budget.py), so this arrives as soon as the call returns."""


def exit_stuck(reason: str, message: str) -> None:
    """A session's ``on_stuck``: the call was stopped (timeout, Ctrl-C, output) but is blocked in a host call
    no one can interrupt, so the process ends here, from the watcher's thread, with the stop's exit code."""
    try:
        sys.stdout.flush()
    except Exception:
        pass
    if reason == "interrupt":
        click.echo("wasmem: interrupted", err=True)
    else:
        error_line(message)
    try:
        sys.stderr.flush()
    except Exception:
        pass
    os._exit(130 if reason == "interrupt" else 1)


def _on_sigint(signum, frame):
    raise Interrupted


def entry() -> None:
    """The console script and ``python -m wasmem``: ``main()``, then an exit that does not free every object
    one by one. After a command on a large module (its DWARF is millions of Python objects) the interpreter's
    own teardown takes a second or more, past the command's ``--timeout`` and for nothing: the output is
    flushed and the exit handlers run first (worker pools, temporary files), then the process ends. Tests call
    ``main`` itself."""
    import atexit

    try:
        main()
        code = 0
    except SystemExit as exc:
        code = exc.code
    if code is None:
        code = 0
    elif not isinstance(code, int):  # sys.exit("message"): the interpreter prints it, exit code 1
        try:
            print(code, file=sys.stderr)
        except Exception:
            pass
        code = 1
    atexit._run_exitfuncs()
    for stream in (sys.stdout, sys.stderr):
        try:
            if stream is not None:
                stream.flush()
        except Exception:  # main() flushed and reported already (a closed pipe, a full disk): nothing to add
            pass
    os._exit(code)


def main(argv=None) -> None:
    import signal

    try:
        previous = signal.signal(signal.SIGINT, _on_sigint)
    except (ValueError, OSError):  # not the main thread
        previous = None
    from .common import start_command

    start_command(True)  # the command's deadline (--timeout) counts from here
    try:
        _main(argv)
    finally:
        start_command(False)
        if previous is not None:
            signal.signal(signal.SIGINT, previous)


def _main(argv=None) -> None:
    argv = list(sys.argv[1:] if argv is None else argv)
    if sys.stdout is None:  # started with standard output closed (`wasmem … >&-`): nothing could be shown
        if sys.stderr is not None:
            sys.stderr.write("wasmem: error: standard output is closed\n")
        sys.exit(2)
    try:
        rv = cli.main(args=argv, prog_name="wasmem", standalone_mode=False)
        sys.stdout.flush()  # a full device or a closed pipe shows here, inside the error handling
    except click.exceptions.Exit as exc:
        sys.exit(exc.exit_code)
    except getattr(click.exceptions, "NoArgsIsHelpError", ()) as exc:  # `wasmem` alone (click >= 8.2)
        click.echo(exc.ctx.get_help())
        sys.exit(0)
    except click.exceptions.Abort:
        click.echo("wasmem: aborted", err=True)
        sys.exit(130)
    except click.ClickException as exc:
        if _want_traceback(argv):
            raise
        error_line(exc.format_message().replace("\n", " "))
        sys.exit(2 if exc.exit_code in (1, 2) else exc.exit_code)
    except WasmemError as exc:
        if _want_traceback(argv):
            raise
        error_line(str(exc) or type(exc).__name__)  # whole: a line break in it is a name's
        sys.exit(exc.exit_code)
    except (KeyboardInterrupt, Interrupted):
        click.echo("wasmem: interrupted", err=True)
        sys.exit(130)
    except BrokenPipeError:
        _quiet_stdout()
        sys.exit(0)
    except OSError as exc:  # writing a report, an SVG, or standard output failed (missing folder, full disk)
        if _want_traceback(argv):
            raise
        what = f"cannot write {exc.filename}" if exc.filename else "cannot write standard output"
        error_line(f"{what}: {exc.strerror or exc}")
        _quiet_stdout()
        sys.exit(2)
    except Exception as exc:  # a bug: still one line unless asked
        if _want_traceback(argv):
            raise
        error_line(f"{type(exc).__name__}: {exc} (run with --traceback and report it)", "wasmem: internal error: ")
        sys.exit(3)
    sys.exit(rv if isinstance(rv, int) else 0)
