"""Output of `wasmem check`: a rich summary, GitHub Actions annotations and JUnit XML."""

from __future__ import annotations

import os
from xml.sax.saxutils import escape, quoteattr

from rich.text import Text

STATUS = {"pass": ("✔", "green"), "fail": ("✘", "bold red"), "skip": ("–", "grey50")}


def _value(v) -> str:
    if v is None:
        return "?"
    if isinstance(v, float):
        return f"{v:g}"
    return str(v)


class CheckView:
    """Holds a list of :class:`wasmem.model.checks.ModuleReport`."""

    def __init__(self, reports, config: str | None = None):
        self.reports = reports
        self.config = config

    def __rich_console__(self, console, options):
        total = failed = 0
        for m in self.reports:
            head = Text()
            ok = m.passed
            head.append("PASS " if ok else ("ERROR " if m.error else "FAIL "), style="bold green" if ok else "bold red")
            head.append(m.path, style="bold")
            yield head
            if m.error:
                yield Text(f"  {m.error}", style="red")
                continue
            for r in m.results:
                total += 1
                failed += r.status == "fail"
                mark, style = STATUS[r.status]
                t = Text("  ")
                t.append(f"{mark} {r.rule:<20}", style=style)
                t.append(r.message)
                if r.status != "skip":
                    t.append(f"  [measured {_value(r.measured)}, limit {_value(r.limit)}]", style="dim")
                yield t
                for d in r.details:
                    yield Text(f"      {d}", style="red" if r.status == "fail" else "dim")
        errors = sum(1 for m in self.reports if m.error)
        summary = Text()
        bad = failed or errors
        summary.append(f"{total - failed} of {total} rule results hold", style="red" if bad else "green")
        summary.append(f" across {len(self.reports)} module(s)")
        if failed:
            summary.append(f"; {failed} failed", style="bold red")
        if errors:
            summary.append(f"; {errors} module(s) could not be read", style="bold red")
        if self.config:
            summary.append(f"  (rules from {self.config})", style="dim")
        yield summary


def _gh_escape(s: str, prop: bool = False) -> str:
    s = s.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")
    if prop:
        s = s.replace(":", "%3A").replace(",", "%2C")
    return s


def path_in(path: str, base: str) -> str | None:
    """``path`` relative to the directory ``base`` when it lies inside it, else None. Modules from a
    config's `modules` are absolute; GitHub places annotations and alerts by a path in the repository."""
    rel = os.path.relpath(os.path.normpath(os.path.join(base, path)), base)
    return None if rel in (os.curdir, os.pardir) or rel.startswith(os.pardir + os.sep) else rel


def to_github(reports, base: str | None = None) -> str:
    """GitHub Actions workflow commands: one ``::error`` per failed rule or unreadable module. File paths
    are relative to ``base`` (default: the current directory, the repository root in a workflow) when
    they lie inside it."""
    base = os.path.abspath(base or os.getcwd())
    lines = []
    for m in reports:
        f = _gh_escape(path_in(m.path, base) or m.path, True)
        if m.error:
            lines.append(f"::error file={f},title={_gh_escape('wasmem parse', True)}::{_gh_escape(m.error)}")
            continue
        for r in m.failures:
            msg = f"{r.message} (measured {_value(r.measured)}, limit {_value(r.limit)})"
            if r.details:
                msg += "\n" + "\n".join(r.details)
            lines.append(f"::error file={f},title={_gh_escape('wasmem ' + r.rule, True)}::{_gh_escape(msg)}")
    total = sum(len(m.results) for m in reports)
    nfail = sum(len(m.failures) for m in reports)
    lines.append(f"wasmem check: {total - nfail} of {total} rule results hold in {len(reports)} module(s)")
    return "\n".join(lines) + "\n"


def to_junit(reports) -> str:
    """JUnit XML: a testsuite per module, a testcase per rule (failure / skipped / error)."""
    out = ['<?xml version="1.0" encoding="UTF-8"?>']
    tests = sum(max(1, len(m.results)) if m.error is None else 1 for m in reports)
    failures = sum(len(m.failures) for m in reports)
    errors = sum(1 for m in reports if m.error)
    out.append(f'<testsuites name="wasmem check" tests="{tests}" failures="{failures}" errors="{errors}">')
    for m in reports:
        n = 1 if m.error else len(m.results)
        skipped = sum(1 for r in m.results if r.status == "skip")
        out.append(f'  <testsuite name={quoteattr(m.path)} tests="{n}" failures="{len(m.failures)}" '
                   f'errors="{1 if m.error else 0}" skipped="{skipped}">')
        if m.error:
            out.append(f'    <testcase classname={quoteattr(m.path)} name="parse">')
            out.append(f'      <error message={quoteattr(m.error)}/>')
            out.append('    </testcase>')
        for r in m.results:
            out.append(f'    <testcase classname={quoteattr(m.path)} name={quoteattr(r.rule)}>')
            text = f"{r.message} (measured {_value(r.measured)}, limit {_value(r.limit)})"
            if r.status == "fail":
                body = escape("\n".join(r.details))
                out.append(f'      <failure message={quoteattr(text)}>{body}</failure>')
            elif r.status == "skip":
                out.append(f'      <skipped message={quoteattr(r.message)}/>')
            else:
                out.append(f'      <system-out>{escape(text)}</system-out>')
            out.append('    </testcase>')
        out.append('  </testsuite>')
    out.append('</testsuites>')
    return "\n".join(out) + "\n"
