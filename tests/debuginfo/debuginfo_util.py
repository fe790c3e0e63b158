"""Shared helpers for the debuginfo tests (not a conftest: `conftest` is the top-level one)."""

import os

import pytest

DATA = os.path.join(os.path.dirname(os.path.abspath(__file__)), "data")
DWARF_BUILDS = ["globals-dwarf4.wasm", "globals-dwarf5.wasm"]


def data_path(name: str) -> str:
    return os.path.join(DATA, name)


@pytest.fixture(scope="module", name="oracle")
def oracle_fixture():
    """Calls the fixture's exported functions with wasmtime: the linker's and compiler's own answers
    (``addr_cfg()`` is ``&cfg``, ``off_cfg_in()`` is ``offsetof(struct config, in)``)."""
    import wasmtime

    engine = wasmtime.Engine()
    store = wasmtime.Store(engine)
    inst = wasmtime.Instance(store, wasmtime.Module.from_file(engine, data_path("globals-dwarf4.wasm")), [])
    exports = inst.exports(store)

    def call(name: str) -> int:
        return exports[name](store) & 0xFFFFFFFF

    return call
