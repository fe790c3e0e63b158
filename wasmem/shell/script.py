"""Scripts: the shell's commands from a file, each line echoed before it runs. A failed `assert` stops the
script with exit status 1; any other error stops it with status 2 and ``FILE:LINE``."""

from __future__ import annotations

import os

from ..errors import UsageError, WasmemError
from .core import Shell
from .registry import AssertionFailed, Quit

MAX_SCRIPT = 4 << 20  # bytes of a script file


class ScriptError(WasmemError):
    """An error at a line of a script: ``FILE:LINE: message`` (exit status 2)."""

    exit_code = 2


class ScriptAssertion(AssertionFailed):
    """A failed assert at a line of a script (exit status 1)."""


def read_script(path: str) -> list[str]:
    try:
        size = os.path.getsize(path)
        if size > MAX_SCRIPT:
            raise UsageError(f"{path}: a {size}-byte script is more than the shell reads ({MAX_SCRIPT} bytes)")
        with open(path, encoding="utf-8") as f:
            return f.read().splitlines()
    except FileNotFoundError:
        raise UsageError(f"{path}: no such file") from None
    except UnicodeDecodeError as exc:
        raise UsageError(f"{path}: not UTF-8 text ({exc.reason} at byte {exc.start})") from None
    except OSError as exc:
        raise UsageError(f"{path}: {exc.strerror}") from None


def run_lines(shell: Shell, lines, name: str = "<script>", echo: bool = True) -> int:
    """Runs ``lines`` in ``shell``: 0 when every line ran and every assert held. Raises ScriptAssertion or
    ScriptError (both name ``name:LINE``) at the first failure."""
    from ..render.shell import echo_line

    for no, line in enumerate(lines, 1):
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        if echo:
            shell.print(echo_line("> ", line))
        try:
            shell.execute(line)
        except Quit:
            return 0
        except AssertionFailed as exc:
            raise ScriptAssertion(f"{name}:{no}: {exc}") from None
        except WasmemError as exc:
            raise ScriptError(f"{name}:{no}: {exc}") from None
    return 0
