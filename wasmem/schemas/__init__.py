"""JSON Schemas (draft 2020-12) of every command's JSON output, shipped as package data.

``<command>.json`` in this package describes what ``wasmem <command> --json`` prints (``check``:
``--format json``): every key, its type, which keys are always there, the stable string sets as enums,
and ``additionalProperties: false`` on fixed records, so a key added to the output without updating its
schema fails ``tests/test_schemas.py``. The files are the source of truth; ``docs/json.md`` explains
what the keys mean.

    from wasmem.schemas import COMMANDS, get_schema
    schema = get_schema("inspect")          # a dict, ready for any draft 2020-12 validator

Stdlib only, and read through ``importlib.resources`` so that it works from an installed wheel.
No validator is imported here (``jsonschema`` is a test dependency only).
"""

from __future__ import annotations

import json
from importlib import resources

from ..errors import UsageError

# the commands with JSON output, in the order `wasmem --help` users meet them
COMMANDS = ("inspect", "call", "dump", "stack", "symbols", "chase", "check", "backtrace", "watch", "heap",
            "leaks")
DRAFT = "https://json-schema.org/draft/2020-12/schema"


def _check(command: str) -> None:
    if command not in COMMANDS:
        raise UsageError(f"no JSON schema for {command!r}: commands with JSON output are {', '.join(COMMANDS)}")


def get_schema_text(command: str) -> str:
    """The schema of ``command``'s JSON output as stored (indented JSON text)."""
    _check(command)
    return resources.files(__name__).joinpath(f"{command}.json").read_text(encoding="utf-8")


def get_schema(command: str) -> dict:
    """The schema of ``command``'s JSON output as a new dict (the caller may change it).
    An unknown command is a :class:`wasmem.errors.UsageError`."""
    return json.loads(get_schema_text(command))
