"""The `producers` and `target_features` custom sections (tool-conventions)."""

from __future__ import annotations

from ..errors import ParseError
from .reader import Reader


def parse_producers(module) -> dict[str, list[tuple[str, str]]]:
    """{"language": [("C11", "")], "processed-by": [("clang", "18.1.2 …")], "sdk": [...]}"""
    h = module.get_custom_section("producers")
    if h is None:
        return {}
    r = Reader(module.data, h.start, h.end)
    out: dict[str, list[tuple[str, str]]] = {}
    for _ in range(r.count("producers fields", 2)):
        field = r.name()
        vals = out.setdefault(field, [])
        for _ in range(r.count(f"producers field {field!r}", 2)):
            vals.append((r.name(), r.name()))
    r.expect_end("producers section")
    return out


def parse_target_features(module) -> list[str]:
    """Features as "+mutable-globals", "-simd128", "=atomics"."""
    h = module.get_custom_section("target_features")
    if h is None:
        return []
    r = Reader(module.data, h.start, h.end)
    out = []
    for _ in range(r.count("target features", 2)):
        p = r.pos
        prefix = r.u8()
        if prefix not in (0x2B, 0x2D, 0x3D):
            raise ParseError(f"target feature prefix must be '+', '-' or '=', not 0x{prefix:02x}", p)
        out.append(chr(prefix) + r.name())
    r.expect_end("target_features section")
    return out
