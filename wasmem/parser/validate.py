"""Structural checks over every section, so that a malformed module is reported as one ParseError
even by commands that would otherwise only read a few sections. Function bodies are located (their
sizes checked) but not decoded."""

from __future__ import annotations

from .module import WasmModule

# every lazily parsed part of a module, in file order
SECTION_PARTS = ("types", "imports", "function_type_indices", "tables", "memories", "tags", "globals",
                 "exports", "start", "elements", "data_count", "functions", "data_segments")


def check_structure(module: WasmModule) -> None:
    """Parses every known section's entries (raising ParseError at the first malformed byte)."""
    for part in SECTION_PARTS:
        getattr(module, part)
