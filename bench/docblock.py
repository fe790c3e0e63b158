"""The one way the benchmarks put their tables into a document: between ``<!-- KEY:begin -->`` and
``<!-- KEY:end -->``, replaced in place when both markers are there, else appended under ``heading`` (a
missing document starts with ``# title``). Nothing else in the document changes."""

from __future__ import annotations

from pathlib import Path


def write_block(doc: Path, key: str, text: str, *, heading: str = "", title: str = "") -> None:
    begin, end = f"<!-- {key}:begin -->", f"<!-- {key}:end -->"
    block = f"{begin}\n{text}\n{end}"
    old = doc.read_text(encoding="utf-8") if doc.exists() else (f"# {title}\n" if title else "")
    if begin in old and end in old:
        head, rest = old.split(begin, 1)
        _, tail = rest.split(end, 1)
        new = head + block + tail
    else:
        new = old.rstrip("\n") + ("\n\n" if old.strip() else "") + (f"## {heading}\n\n" if heading else "") \
            + block + "\n"
    doc.write_text(new, encoding="utf-8")
