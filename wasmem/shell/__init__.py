"""`wasmem shell`: one live instance, a gdb-like command language over the library (core.py), scripts
with asserts (script.py) and the interactive prompt with completion and history (repl.py)."""

from .core import Shell
from .registry import COMMANDS, PROMPT, AssertionFailed
from .script import ScriptAssertion, ScriptError, read_script, run_lines

__all__ = ["Shell", "COMMANDS", "PROMPT", "AssertionFailed", "ScriptAssertion", "ScriptError", "read_script",
           "run_lines"]
