"""At 80 columns (a CI log: COLUMNS=80, not a terminal) the leak and heap tables keep a long source path's
file name and line: the directories are elided from the left, never the end (issue 25)."""

from __future__ import annotations

import io

from wasmem.model.heap import HeapBlock, HeapReport, Iteration, LeakReport, LeakSite, Site
from wasmem.render.common import make_console
from wasmem.render.heap import SourcePlace, render_heap, render_leaks

LONG = "/home/runner/work/some-project/some-project/tests/heldout/heapbugs_with_a_long_name.c:142"


def text(renderable, width: int = 80) -> str:
    buf = io.StringIO()
    make_console(file=buf, width=width, color=False).print(renderable)
    return buf.getvalue()


def site() -> Site:
    return Site(3, "a_rather_long_function_name_from_the_program", 17, 0x1234, LONG, "malloc")


def test_the_leak_table_keeps_the_file_and_line_at_80_columns():
    its = [Iteration(n, 100 + 24 * n, n, 24, 0) for n in range(1, 5)]
    r = LeakReport("leak_step 1", 4, 100, its, [LeakSite(site(), 3, 72, 24.0)], [{"name": "malloc", "role": "alloc",
                                                                                   "found_by": "export"}])
    r.retained = 72
    out = text(render_leaks(r))
    row = next(t for t in out.splitlines() if "heapbugs_with" in t)
    assert row.rstrip().endswith("heapbugs_with_a_long_name.c:142"), out
    assert "…/" in row and "/home/runner" not in row
    assert "hea…" not in out
    head = next(t for t in out.splitlines() if t.startswith("blocks  "))
    assert head.split() == ["blocks", "bytes", "per", "call", "site", "line"]  # every column kept
    assert "a_rather_long" in row and "72" in row
    assert "/home/runner/work/some-project" in text(render_leaks(r), width=200)  # room enough: the whole path


def test_the_heap_table_too():
    r = HeapReport([{"name": "malloc", "role": "alloc", "found_by": "export"}], [], [HeapBlock(0x1000, 24, 3, 1, 1)],
                   {3: site()})
    out = text(render_heap(r))
    row = next(t for t in out.splitlines() if "heapbugs_with" in t)
    assert "heapbugs_with_a_long_name.c:142" in row and "…/" in row


def test_a_place_narrower_than_its_file_name_keeps_the_file_name():
    p = SourcePlace(LONG)
    assert p.fit(200) == LONG
    assert p.fit(40) == "…" + LONG[-39:]
    assert p.fit(10) == "heapbugs_with_a_long_name.c:142"
    assert SourcePlace("x.c:3").fit(2) == "x.c:3"
