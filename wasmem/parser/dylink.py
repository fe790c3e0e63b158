"""`dylink.0` (and the legacy `dylink`) custom section of PIC / shared / side modules."""

from __future__ import annotations

from .reader import Reader
from .types import DylinkInfo

WASM_DYLINK_MEM_INFO = 1
WASM_DYLINK_NEEDED = 2


def parse_dylink(module) -> DylinkInfo | None:
    h = module.get_custom_section("dylink.0")
    if h is not None:
        r = Reader(module.data, h.start, h.end)
        mem = (0, 0, 0, 0)
        needed: tuple[str, ...] = ()
        while not r.at_end():
            kind = r.u8()
            sub = r.sub(r.u32(), f"dylink.0 subsection {kind}")
            if kind == WASM_DYLINK_MEM_INFO:
                mem = (sub.u32(), sub.u32(), sub.u32(), sub.u32())
            elif kind == WASM_DYLINK_NEEDED:
                needed = tuple(sub.name() for _ in range(sub.count("dylink.0 needed")))
        return DylinkInfo(False, *mem, needed)
    h = module.get_custom_section("dylink")
    if h is not None:
        r = Reader(module.data, h.start, h.end)
        mem = (r.u32(), r.u32(), r.u32(), r.u32())
        needed = tuple(r.name() for _ in range(r.count("dylink needed")))
        return DylinkInfo(True, *mem, needed)
    return None
