"""wasmem: inspect and debug WebAssembly linear memory.

Library entry points (lazy: ``import wasmem`` loads neither wasmtime nor rich)::

    layout = wasmem.inspect("app.wasm")          # MemoryLayout
    session = wasmem.open("app.wasm")            # a running instance (wasmtime)
    bt = wasmem.backtrace("crash.core", "app.wasm")  # a coredump's frames, named through the module
"""

__version__ = "0.1.0"

__all__ = ["__version__", "inspect", "load_module", "open", "backtrace", "open_core"]


def inspect(path, **options):
    from .api import inspect as _inspect

    return _inspect(path, **options)


def load_module(path):
    from .api import load_module as _load

    return _load(path)


def open(path, **options):  # noqa: A001 - the library's documented name
    from .app.modules import open_session

    return open_session(path, **options)


def backtrace(core, module):
    from .api import backtrace as _backtrace

    return _backtrace(core, module)


def open_core(core, module):
    from .api import open_core as _open_core

    return _open_core(core, module)
