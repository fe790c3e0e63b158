"""The Python API is worth scripting against: every command has a facade on ``wasmem``, and
docs/python-api.md sends users only to public names (no ``_private`` part, and listed in the module's
``__all__`` where it has one), each of which exists."""

import importlib
import pathlib
import re

import pytest
from conftest import sample

import wasmem

DOC = pathlib.Path(__file__).resolve().parent.parent / "docs" / "python-api.md"
COMMANDS = ("inspect", "call", "dump", "chase", "watch", "heap", "leaks", "stack", "symbols", "backtrace")


def _names_in_the_docs() -> list[str]:
    return sorted(set(re.findall(r"`(wasmem(?:\.[A-Za-z_][A-Za-z0-9_]*)+)", DOC.read_text())))


def _resolve(dotted: str):
    """(the object, why it is not public or None)."""
    parts = dotted.split(".")
    for k in range(len(parts), 0, -1):
        try:
            obj = importlib.import_module(".".join(parts[:k]))
        except ImportError:
            continue
        owner = obj
        for name in parts[k:]:
            if name.startswith("_"):
                return None, f"{name} is private"
            listed = getattr(owner, "__all__", None)
            if listed is not None and name not in listed:
                return None, f"{name} is not in {owner.__name__}.__all__"
            if not hasattr(owner, name):
                return None, f"{owner.__name__} has no {name}"
            obj = owner = getattr(owner, name)
        if any(p.startswith("_") for p in parts[:k]):
            return None, "a private module"
        return obj, None
    return None, "no such module"


def test_the_docs_name_public_things_only():
    names = _names_in_the_docs()
    assert len(names) > 20
    bad = {n: why for n in names for _, why in [_resolve(n)] if why is not None}
    assert not bad, bad


@pytest.mark.parametrize("command", COMMANDS)
def test_every_command_has_a_facade_in_the_package_and_in_the_docs(command):
    assert command in wasmem.__all__ and callable(getattr(wasmem, command))
    assert f"wasmem.{command}(" in DOC.read_text()


def test_the_facades_run_the_commands_use_cases():
    out = wasmem.call(sample("memdemo.wasm"), "divide", ["7", "2"])
    try:
        assert out.ok and out.result.results == [3]
    finally:
        out.session.close()
    d = wasmem.dump(sample("memdemo.wasm"), "__heap_base", 16)
    assert d.dump.to_dict()["length"] == 16 and d.source == "instance"
    assert wasmem.stack(sample("memdemo.wasm")).worst_bytes > 0
    assert any(s.name == "node_a" for s in wasmem.symbols(sample("memdemo-debug.wasm")).symbols)
    heapdemo = str(pathlib.Path(__file__).resolve().parent / "heap" / "data" / "heapdemo.wasm")
    report, session = wasmem.heap(heapdemo, after=["push 5", "push 6"])
    try:
        assert len(report.blocks) == 2
    finally:
        session.close()
    leaks, session = wasmem.leaks(heapdemo, "leak_step 1", repeat=3)
    try:
        assert leaks.growth_per_call > 0
    finally:
        session.close()
    seq = wasmem.watch(sample("watchdemo.wasm"), ["settings.limit"], ["reset_scores"])
    try:
        assert seq.ok and seq.report.hits
    finally:
        seq.session.close()
