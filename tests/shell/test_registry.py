"""The shell's registry: commands by topic with their preconditions declared; ``execute`` dispatches on
the declarations alone (no command is special-cased by name)."""

import ast
import pathlib

from wasmem.shell import COMMANDS
from wasmem.shell.registry import TOPICS, Command, in_help_order

CORE = pathlib.Path(__file__).resolve().parents[2] / "wasmem" / "shell" / "core.py"


def test_every_command_has_a_topic_and_a_precondition():
    topics = {c.topic for c in COMMANDS.values()}
    assert topics == set(TOPICS)
    # `help` lists them by topic, whatever order Python imported the topics' modules in
    assert [c.name for c in in_help_order()] == [
        "call", "bt", "x", "dump", "chase", "str", "p", "alloc", "free", "write", "grow", "snapshot", "restore",
        "diff", "reset", "watch", "unwatch", "heap", "info", "assert", "view", "help", "quit"]
    assert all(c.needs in ("live", "any") for c in COMMANDS.values())
    assert {n for n, c in COMMANDS.items() if c.runs_code} == {"call", "alloc", "free"}
    assert {n for n, c in COMMANDS.items() if c.takes_format} == {"x"}
    # reading commands work on a coredump; those that run code or change memory do not
    assert not COMMANDS["x"].live and not COMMANDS["p"].live and not COMMANDS["bt"].live
    assert COMMANDS["call"].live and COMMANDS["write"].live and COMMANDS["restore"].live


def test_execute_names_no_command():
    tree = ast.parse(CORE.read_text())
    shell = next(n for n in tree.body if isinstance(n, ast.ClassDef) and n.name == "Shell")
    execute = next(n for n in shell.body if isinstance(n, ast.FunctionDef) and n.name == "execute")
    strings = {n.value for n in ast.walk(execute) if isinstance(n, ast.Constant) and isinstance(n.value, str)}
    assert not strings & set(COMMANDS), strings & set(COMMANDS)


def test_a_command_the_registry_knows_runs_with_its_declared_preconditions(tmp_path):
    from conftest import sample

    from wasmem.shell import Shell

    calls = []

    class Probe(Shell):
        def cmd_probe(self, fmt, words):
            calls.append((fmt, [w.text for w in words]))

    COMMANDS["probe"] = Command("probe", "probe/F X", "test", method="cmd_probe", needs="live", takes_format=True)
    try:
        sh = Probe(sample("memdemo.wasm"))
        try:
            sh.execute("probe/8x here")
        finally:
            sh.close()
        assert calls == [("8x", ["here"])]
    finally:
        del COMMANDS["probe"]
