"""wasmem: inspect and debug WebAssembly linear memory.

Library entry points, one per command (lazy: ``import wasmem`` loads neither wasmtime nor rich)::

    layout = wasmem.inspect("app.wasm")          # MemoryLayout
    session = wasmem.open("app.wasm")            # a running instance (wasmtime)
    out = wasmem.call("app.wasm", "add", ["2", "3"])        # CallOutcome (close out.session)
    dump = wasmem.dump("app.wasm", "__heap_base", 64)      # DumpOutcome
    chase = wasmem.chase("app.wasm", "node_a")             # ChaseOutcome
    seq = wasmem.watch("app.wasm", ["counter:4"], ["bump"])  # WatchSequence
    report, session = wasmem.heap("app.wasm", after=["run"])  # HeapReport and its session
    report, session = wasmem.leaks("app.wasm", "step")      # LeakReport and its session
    analysis = wasmem.stack("app.wasm")          # StackAnalysis (static)
    listing = wasmem.symbols("app.wasm")         # SymbolListing
    bt = wasmem.backtrace("crash.core", "app.wasm")  # a coredump's frames, named through the module
    bt = wasmem.backtrace("crash.core")          # … the module the dump names, found next to it

Each is the function the command runs (``wasmem.app`` holds the use cases), with the command's options as
keyword arguments. As on the command line, a ``timeout`` (seconds) given to one of them is the whole call's
deadline, counted from its start (``wasmem.deadline.Deadline``; a compile it stops raises ``TimedOut`` and
finishes in the background); ``deadline=`` passes one made by the caller.
"""

__version__ = "0.1.0"

__all__ = ["__version__", "inspect", "load_module", "open", "backtrace", "open_core", "call", "dump", "chase",
           "watch", "heap", "leaks", "stack", "symbols"]


def inspect(path, **options):
    from .api import inspect as _inspect

    return _inspect(path, **options)


def load_module(path, **options):
    """``wasmem.api.load_module``: ``validate``, ``memory_base``, ``debug_file``, ``budgets`` ({"dwarf": N}: the
    work budgets of ``--budget NAME=N``, see ``wasmem.budgets``)."""
    from .api import load_module as _load

    return _load(path, **options)


def open(path, **options):  # noqa: A001 - the library's documented name
    from .app.modules import open_session

    return open_session(path, **options)


def backtrace(core, module=None, **options):
    """``wasmem backtrace``: ``wasmem.api.backtrace`` (without ``module``: the one the dump names)."""
    from .api import backtrace as _backtrace

    return _backtrace(core, module, **options)


def open_core(core, module):
    from .api import open_core as _open_core

    return _open_core(core, module)


def call(path, func, args=(), **options):
    """``wasmem call``: ``wasmem.app.call.call_function``. The outcome's ``session`` stays open: close it."""
    from .app.call import call_function

    return call_function(path, func, list(args), **_deadline(options))


def dump(path, at="0", length=None, **options):
    """``wasmem dump``: ``wasmem.app.dump.dump_memory`` (a live instance, a ``snapshot`` image or a ``core``)."""
    from .app.dump import dump_memory

    return dump_memory(path, at, length, **_deadline(options))


def chase(path, at, **options):
    """``wasmem chase``: ``wasmem.app.chase.chase_memory``."""
    from .app.chase import chase_memory

    return chase_memory(path, at, **_deadline(options))


def watch(path, targets, calls, **options):
    """``wasmem watch``: ``wasmem.app.watch.watch_calls``. The sequence's ``session`` stays open: close it."""
    from .app.watch import watch_calls

    return watch_calls(path, list(targets), list(calls), **_deadline(options))


def heap(path, **options):
    """``wasmem heap``: ``wasmem.app.heap.heap_report``: (report, session); close the session."""
    from .app.heap import heap_report

    return heap_report(path, **_deadline(options))


def leaks(path, call, **options):
    """``wasmem leaks``: ``wasmem.app.heap.leak_report``: (report, session); close the session."""
    from .app.heap import leak_report

    return leak_report(path, call, **_deadline(options))


def stack(path, *, recursion_depth=None, timeout=None):
    """``wasmem stack`` without ``--call``: the static analysis of every function's frame and the worst
    call chain (``wasmem.model.stackframes.StackAnalysis``) over the layout ``inspect`` shows."""
    from .deadline import Deadline
    from .debuginfo.layout import analyze_layout
    from .model.stackframes import analyze_stack

    deadline = Deadline(timeout)  # from the call's start (None or 0: no limit); past it AnalysisTimeout
    module = load_module(path)
    return analyze_stack(module, analyze_layout(module), recursion_depth=recursion_depth, deadline=deadline)


def symbols(path, **options):
    """``wasmem symbols``: ``wasmem.debuginfo.symbol_listing``."""
    from .debuginfo import symbol_listing

    return symbol_listing(load_module(path), **options)


def _deadline(options: dict) -> dict:
    """``options`` with the call's deadline: ``timeout`` seconds from now, unless one was given."""
    if options.get("timeout") and options.get("deadline") is None:
        from .deadline import Deadline

        options = dict(options, deadline=Deadline(options["timeout"]))
    return options
