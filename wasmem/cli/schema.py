"""`wasmem schema`: print the JSON Schema of a command's JSON output (or list the commands that have one)."""

from __future__ import annotations

import click

from ..errors import UsageError
from ..schemas import COMMANDS, get_schema, get_schema_text

# the help names every command with a shipped schema, from the same tuple the command reads, so it
# cannot drift from wasmem/schemas/ (tests/test_schemas.py checks both)
_HELP = f"""Print the JSON Schema (draft 2020-12) of COMMAND's JSON output.

    COMMAND is one of {", ".join(c if c != "check" else "check (--format json)" for c in COMMANDS)}.
    The schemas ship inside the package as wasmem/schemas/COMMAND.json; from Python,
    wasmem.schemas.get_schema(COMMAND) returns one as a dict.

    \b
    Examples:
      wasmem schema --list
      wasmem schema inspect
      wasmem schema check > wasmem-check.schema.json
    """


@click.command("schema", help=_HELP)
@click.argument("command", required=False, metavar="[COMMAND]")
@click.option("--list", "list_all", is_flag=True,
              help="List the commands with JSON output and what each schema describes (the default without "
                   "COMMAND).")
def schema_cmd(command, list_all):
    if command is not None and list_all:
        raise UsageError("give COMMAND or --list, not both")
    if command is None:
        width = max(len(c) for c in COMMANDS)
        for c in COMMANDS:
            summary = get_schema(c)["description"].split(". ")[0].rstrip(".")
            click.echo(f"{c:<{width}}  {summary}")
        return
    text = get_schema_text(command)
    click.echo(text, nl=not text.endswith("\n"))
