"""`--budget NAME=N`: the one option that raises a work budget (wasmem.budgets), on every command that reads a
module. The values reach the module as it is loaded (``load_module(..., budgets=...)``), so every analysis of
it sees them."""

from __future__ import annotations

import click

from ..budgets import Budgets, budget_help, parse_budget


class BudgetParam(click.ParamType):
    """NAME=N: a budget's name (wasmem.budgets.BUDGETS) and its units; k, M, G multiply."""

    name = "budget"

    def convert(self, value, param, ctx):
        if isinstance(value, tuple):
            return value
        try:
            return parse_budget(value)
        except ValueError as exc:
            self.fail(str(exc), param, ctx)


def budget_option(f):
    """Adds ``--budget NAME=N`` (repeatable); the command gets ``budgets``: a Budgets (empty when none given)."""
    return click.option("--budget", "budgets", type=BudgetParam(), multiple=True, metavar="NAME=N",
                        callback=lambda ctx, param, value: Budgets(dict(value)), help=budget_help())(f)


def say_cuts(module) -> None:
    """A ``wasmem: note:`` line on stderr for what a work budget cut in the symbols the command read (the whole
    DWARF, or its line table), unless the command's own output said it already (heap and leaks carry it in
    their notes). Nothing when the command did not read the module's symbols."""
    from ..app.modules import dwarf_note_unsaid

    note = dwarf_note_unsaid(module)
    if note:
        from .main import error_line

        error_line(note, "wasmem: note: ")
