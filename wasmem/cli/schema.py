"""`wasmem schema`: print the JSON Schema of a command's JSON output (or list the commands that have one)."""

from __future__ import annotations

import click

from ..errors import UsageError


@click.command("schema")
@click.argument("command", required=False, metavar="[COMMAND]")
@click.option("--list", "list_all", is_flag=True,
              help="List the commands with JSON output and what each schema describes (the default without "
                   "COMMAND).")
def schema_cmd(command, list_all):
    """Print the JSON Schema (draft 2020-12) of COMMAND's JSON output.

    COMMAND is one of inspect, call, dump, stack, symbols, chase, check (for check: --format json).
    The schemas ship inside the package as wasmem/schemas/COMMAND.json; from Python,
    wasmem.schemas.get_schema(COMMAND) returns one as a dict.

    \b
    Examples:
      wasmem schema --list
      wasmem schema inspect
      wasmem schema check > wasmem-check.schema.json
    """
    from ..schemas import COMMANDS, get_schema, get_schema_text

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
