"""The `name` custom section, including the extended-name subsections."""

from __future__ import annotations

from ..errors import ParseError
from .reader import Reader
from .types import Names

# subsection id → field of Names
_MAPS = {1: "functions", 5: "tables", 6: "memories", 7: "globals", 9: "data_segments"}
SUBSECTION_NAMES = {0: "module", 1: "function", 2: "local", 3: "label", 4: "type", 5: "table",
                    6: "memory", 7: "global", 8: "elem", 9: "data", 10: "field", 11: "tag"}


def _namemap(r: Reader, what: str) -> dict[int, str]:
    out: dict[int, str] = {}
    for _ in range(r.count(what, 2)):
        idx = r.u32()
        out[idx] = r.name()
    return out


def parse_names(module) -> Names:
    """Parses the module's `name` section; a module without one gets empty names.

    Raises ParseError for a malformed section (callers that only want best-effort names catch it)."""
    h = module.get_custom_section("name")
    if h is None:
        return Names()
    r = Reader(module.data, h.start, h.end)
    mod_name = None
    maps: dict[str, dict[int, str]] = {v: {} for v in _MAPS.values()}
    local: dict[int, dict[int, str]] = {}
    other: dict[int, dict[int, str]] = {}
    last = -1
    while not r.at_end():
        p = r.pos
        sid = r.u8()
        size = r.u32()
        sub = r.sub(size, f"name subsection {sid}")
        if sid <= last and sid < 12:
            raise ParseError(f"name section: subsection {sid} is duplicated or out of order", p)
        last = sid
        what = f"name subsection {sid} ({SUBSECTION_NAMES.get(sid, 'unknown')})"
        if sid == 0:
            mod_name = sub.name()
        elif sid in _MAPS:
            maps[_MAPS[sid]] = _namemap(sub, what)
        elif sid in (2, 3, 10):
            target = local if sid == 2 else other.setdefault(sid, {})
            for _ in range(sub.count(what, 2)):
                outer = sub.u32()
                inner = _namemap(sub, what)
                if sid == 2:
                    target[outer] = inner  # type: ignore[assignment]
                else:
                    for k, v in inner.items():
                        target[(outer << 32) | k] = v
            sub.expect_end(what)
            continue
        elif sid in (4, 8, 11):
            other[sid] = _namemap(sub, what)
        else:
            continue  # unknown subsections are skipped, as the spec says
        sub.expect_end(what)
    return Names(mod_name, maps["functions"], maps["globals"], maps["data_segments"], maps["memories"],
                 maps["tables"], local, other)
