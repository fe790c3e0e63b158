"""Text format → binary through wasmtime's own parser."""

from __future__ import annotations

import re

from ..errors import ParseError


def wat_to_wasm(text: str | bytes) -> bytes:
    """Assembles WebAssembly text. A syntax error becomes ``ParseError("… line L column C")``."""
    import wasmtime

    try:
        return bytes(wasmtime.wat2wasm(text))
    except wasmtime.WasmtimeError as exc:
        msg = str(exc)
        first = msg.strip().splitlines()[0] if msg.strip() else "invalid text format"
        m = re.search(r"-->\s*[^:\n]*:(\d+):(\d+)", msg)
        if m:
            raise ParseError(f"invalid WebAssembly text: {first} at line {m.group(1)} column {m.group(2)}") from None
        raise ParseError(f"invalid WebAssembly text: {first}") from None
