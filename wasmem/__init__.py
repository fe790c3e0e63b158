"""wasmem: inspect and debug WebAssembly linear memory.

Library entry points (lazy: ``import wasmem`` loads neither wasmtime nor rich)::

    layout = wasmem.inspect("app.wasm")          # MemoryLayout
    session = wasmem.open("app.wasm")            # a running instance (wasmtime)
"""

__version__ = "0.1.0"

__all__ = ["__version__", "inspect", "load_module", "open"]


def inspect(path, **options):
    from .api import inspect as _inspect

    return _inspect(path, **options)


def load_module(path):
    from .api import load_module as _load

    return _load(path)


def open(path, **options):  # noqa: A001 - the library's documented name
    from .runtime import open_session

    return open_session(path, **options)
