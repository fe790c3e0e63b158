"""Output of `wasmem check`: a rich summary, GitHub Actions annotations and JUnit XML.

Paths, messages and details embed names from the modules: each goes through ``shown`` (one line, no
control, format or bidi character; valid XML 1.0 characters only) before the format's own escaping
(workflow-command ``%XX``, XML entities)."""

from __future__ import annotations

import os
from xml.sax.saxutils import escape, quoteattr

from rich.text import Text

from .common import shown

STATUS = {"pass": ("✔", "green"), "fail": ("✘", "bold red"), "skip": ("–", "grey50")}


def rule_value(v) -> str:
    """A rule's measured value or limit as the reports print it."""
    if v is None:
        return "?"
    if isinstance(v, float):
        return f"{v:g}"
    return shown(v)


def _display_path(path: str) -> str:
    """A module path as a person reads it: relative to the current directory when it lies inside it
    (config modules are joined to the config's folder, so they arrive absolute)."""
    try:
        if os.path.isabs(path):
            rel = os.path.relpath(path)
            if not rel.startswith(".."):
                return rel
    except ValueError:  # another drive (Windows)
        pass
    return path


class CheckView:
    """Holds a list of :class:`wasmem.model.checks.ModuleReport`."""

    def __init__(self, reports, config: str | None = None):
        self.reports = reports
        self.config = config

    def __rich_console__(self, console, options):
        total = failed = 0
        for m in self.reports:
            # one line whatever its length (a path is copied, not read): never wrapped into the next line
            head = Text(no_wrap=True, overflow="ignore")
            ok = m.passed
            head.append("PASS " if ok else ("ERROR " if m.error else "FAIL "), style="bold green" if ok else "bold red")
            head.append(shown(_display_path(m.path)), style="bold")
            yield head
            if m.error:
                yield Text(f"  {shown(m.error)}", style="red")
                continue
            for r in m.results:
                total += 1
                failed += r.status == "fail"
                mark, style = STATUS[r.status]
                t = Text("  ")
                t.append(f"{mark} {shown(r.rule):<20}", style=style)
                t.append(shown(r.message))
                if r.status != "skip":
                    t.append(f"  [measured {rule_value(r.measured)}, limit {rule_value(r.limit)}]", style="dim")
                yield t
                for d in r.details:
                    yield Text(f"      {shown(d)}", style="red" if r.status == "fail" else "dim")
        errors = sum(1 for m in self.reports if m.error)
        summary = Text()
        bad = failed or errors
        summary.append(f"{total - failed} of {total} rule results hold", style="red" if bad else "green")
        summary.append(f" across {len(self.reports)} module(s)")
        if failed:
            summary.append(f"; {failed} failed", style="bold red")
        if errors:
            summary.append(f"; {errors} module(s) could not be read or analysed", style="bold red")
        if self.config:
            summary.append(f"  (rules from {shown(self.config)})", style="dim")
        yield summary


def _gh_escape(s: str, prop: bool = False) -> str:
    """Workflow-command escaping (what GitHub's runner unescapes): ``%``, CR and LF in the data, and
    also ``:`` and ``,`` in a property value."""
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
        f = _gh_escape(shown(path_in(m.path, base) or m.path), True)
        if m.error:
            lines.append(f"::error file={f},title={_gh_escape('wasmem parse', True)}::{_gh_escape(shown(m.error))}")
            continue
        for r in m.failures:
            # one line per detail: the annotation's own line breaks, escaped as %0A below
            msg = f"{shown(r.message)} (measured {rule_value(r.measured)}, limit {rule_value(r.limit)})"
            if r.details:
                msg += "\n" + "\n".join(shown(d) for d in r.details)
            title = _gh_escape("wasmem " + shown(r.rule), True)
            lines.append(f"::error file={f},title={title}::{_gh_escape(msg)}")
    total = sum(len(m.results) for m in reports)
    nfail = sum(len(m.failures) for m in reports)
    lines.append(f"wasmem check: {total - nfail} of {total} rule results hold in {len(reports)} module(s)")
    return "\n".join(lines) + "\n"


def to_junit(reports) -> str:
    """JUnit XML: a testsuite per module, a testcase per rule (failure / skipped / error). Always
    well-formed XML 1.0: text through ``shown`` has no character XML forbids, attribute values are
    quoted and escaped (``quoteattr``), element text escaped."""
    out = ['<?xml version="1.0" encoding="UTF-8"?>']
    tests = sum(max(1, len(m.results)) if m.error is None else 1 for m in reports)
    failures = sum(len(m.failures) for m in reports)
    errors = sum(1 for m in reports if m.error)
    out.append(f'<testsuites name="wasmem check" tests="{tests}" failures="{failures}" errors="{errors}">')
    for m in reports:
        n = 1 if m.error else len(m.results)
        skipped = sum(1 for r in m.results if r.status == "skip")
        path = shown(m.path)
        out.append(f'  <testsuite name={quoteattr(path)} tests="{n}" failures="{len(m.failures)}" '
                   f'errors="{1 if m.error else 0}" skipped="{skipped}">')
        if m.error:
            out.append(f'    <testcase classname={quoteattr(path)} name="parse">')
            out.append(f'      <error message={quoteattr(shown(m.error))}/>')
            out.append('    </testcase>')
        for r in m.results:
            out.append(f'    <testcase classname={quoteattr(path)} name={quoteattr(shown(r.rule))}>')
            text = f"{shown(r.message)} (measured {rule_value(r.measured)}, limit {rule_value(r.limit)})"
            if r.status == "fail":
                body = escape("\n".join(shown(d) for d in r.details))
                out.append(f'      <failure message={quoteattr(text)}>{body}</failure>')
            elif r.status == "skip":
                out.append(f'      <skipped message={quoteattr(shown(r.message))}/>')
            else:
                out.append(f'      <system-out>{escape(text)}</system-out>')
            out.append('    </testcase>')
        out.append('  </testsuite>')
    out.append('</testsuites>')
    return "\n".join(out) + "\n"
