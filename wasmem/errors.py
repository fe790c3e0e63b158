"""Domain exceptions. Formatting for the terminal happens only in ``wasmem.cli``."""

from __future__ import annotations

import contextlib
import os


class WasmemError(Exception):
    """Base class of every error wasmem raises on purpose."""

    exit_code = 2

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message

    def __str__(self) -> str:
        return self.message


class ParseError(WasmemError):
    """A malformed module: ``message`` plus the absolute byte offset where reading failed."""

    def __init__(self, message: str, offset: int | None = None):
        super().__init__(message)
        self.offset = offset

    def __str__(self) -> str:
        if self.offset is None:
            return self.message
        return f"{self.message} (at offset {self.offset:#x})"


class UsageError(WasmemError):
    """Bad arguments: an address that does not resolve, a wrong argument count, a missing file."""


class RunError(WasmemError):
    """The module could not be instantiated or called (link error, engine validation error)."""


class AnalysisTimeout(WasmemError):
    """wasmem's own analysis of a module (untrusted input) ran past its time limit (``--timeout``)."""


class CheckFailed(WasmemError):
    """A CI rule did not hold (exit code 1)."""

    exit_code = 1


@contextlib.contextmanager
def naming_file(path: str | os.PathLike | None):
    """Within it, a ParseError (a malformed or truncated file) names the file first: ``PATH: ...`` (its offset
    kept), once: an error that already starts with the path is left as it is."""
    try:
        yield
    except ParseError as exc:
        where = os.fspath(path) if path else None
        if where is None or exc.message.startswith(f"{where}: "):
            raise
        raise ParseError(f"{where}: {exc.message}", exc.offset) from None
