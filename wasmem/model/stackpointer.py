"""Which global is the stack pointer, and why: imported, named or exported as ``__stack_pointer``, else the
mutable i32 (i64 for memory64) global that function prologues lower and write back
(``global.get G … i32.const K … i32.sub … global.set G``), counted over every function or an even sample of
a very large module. A Go module's global 0 is Go's own SP register, not a C stack pointer (``is_go``)."""

from __future__ import annotations

from itertools import islice

from ..errors import ParseError
from ..parser.code import decode_locals, iter_instruction_tuples
from ..parser.module import WasmModule
from .globalvalues import global_value
from .layouttypes import StackPointer

GO_IMPORT_MODULES = {"go", "gojs"}
# Go's wasm backend globals: SP, CTXT, g, RET0..RET3, PAUSE
GO_GLOBAL_TYPES = ("i32", "i32", "i64", "i64", "i64", "i64", "i64", "i32")
PROLOGUE_SCAN_INSTRS = 48
PROLOGUE_SCAN_FUNCTIONS = 3000
PROLOGUE_DECISIVE = 32  # in a sampled module: this many matches and none for another global end the scan


def is_go(module: WasmModule) -> bool:
    if any(i.module in GO_IMPORT_MODULES for i in module.imports):
        return True
    own = [g for g in module.globals if g.imported is None]
    return (len(own) >= 8 and tuple(g.type.valtype for g in own[:8]) == GO_GLOBAL_TYPES
            and own[0].type.mutable and own[0].init is not None and own[0].init.simple_value == 0
            and module.find_export("run") is not None and module.find_export("resume") is not None)


def count_prologues(module: WasmModule, candidates: set[int], max_instrs: int = PROLOGUE_SCAN_INSTRS,
                    max_functions: int = PROLOGUE_SCAN_FUNCTIONS,
                    decisive: int | None = PROLOGUE_DECISIVE) -> tuple[dict[int, int], int]:
    """For each candidate global G, the number of functions whose first instructions lower G and
    write it back: ``global.get G … <k> … i32.sub … global.set G`` (values may pass through locals).
    Returns the counts and the number of functions scanned.

    Modules with more than ``max_functions`` functions are sampled evenly, and the sample is visited
    in interleaved passes (every 16th function first), so that any prefix of the scan is spread over
    the whole module; once one global has ``decisive`` matches and no other global has any, the scan
    stops there. Modules with fewer functions are scanned whole, for exact counts."""
    import re

    counts = dict.fromkeys(candidates, 0)
    if not candidates:
        return counts, 0
    data = module.data
    bodies = module.functions
    if len(bodies) > max_functions:  # bounded: an even sample of a very large module
        step = len(bodies) / max_functions
        bodies = [bodies[int(i * step)] for i in range(max_functions)]
        bodies = [b for k in range(16) for b in bodies[k::16]]
    else:
        decisive = None
    matched = scanned = 0
    # A body can only count if it holds the bytes of `global.set G` (0x24, then G's LEB128, whose first
    # byte is G & 0x7f, with the continuation bit when G > 127 or the LEB is padded). A body without
    # them is skipped undecoded: the result is the same, found by one C-level search.
    firsts = {g & 0x7F for g in candidates} | {(g & 0x7F) | 0x80 for g in candidates}
    has_set = re.compile(b"\\x24[" + b"".join(re.escape(bytes([f])) for f in sorted(firsts)) + b"]").search
    for body in bodies:
        if decisive is not None and matched >= decisive and max(counts.values()) == matched:
            break  # decisive: one global, lowered by every matching prologue so far
        scanned += 1
        if has_set(data, body.start, body.end) is None:
            continue
        g = _prologue_lowers(data, body, candidates, max_instrs)
        if g is not None:
            counts[g] += 1
            matched += 1
    return counts, scanned


def _prologue_lowers(data, body, candidates: set[int], max_instrs: int) -> int | None:
    """The candidate global that the body's first ``max_instrs`` instructions lower and write back, if
    any. Instructions are decoded only as far as the scan reads (a branch ends it early); a body that
    is malformed there counts as no match."""
    try:
        _, p = decode_locals(data, body.start, body.end)
        stack: list = []
        local: dict[int, object] = {}
        for _, op, imm in islice(iter_instruction_tuples(data, p, body.end), max_instrs):
            if op == 0x23:  # global.get
                stack.append(("sp", imm) if imm in candidates else None)
            elif op in (0x41, 0x42):  # i32/i64.const
                stack.append(("k", imm))
            elif op == 0x20:  # local.get
                stack.append(local.get(imm))
            elif op in (0x21, 0x22):  # local.set / local.tee
                v = stack.pop() if stack else None
                local[imm] = v
                if op == 0x22:
                    stack.append(v)
            elif op in (0x6B, 0x7D):  # i32.sub / i64.sub
                b = stack.pop() if stack else None
                a = stack.pop() if stack else None
                stack.append(("low", a[1]) if a and a[0] in ("sp", "low") and b is not None else None)
            elif op in (0x71, 0x83):  # i32.and / i64.and (over-aligned frames)
                b = stack.pop() if stack else None
                a = stack.pop() if stack else None
                stack.append(a if a and a[0] == "low" and b and b[0] == "k" and b[1] < 0 else None)
            elif op == 0x24:  # global.set
                v = stack.pop() if stack else None
                if v and v[0] == "low" and v[1] == imm:
                    return imm
            elif op in (0x02, 0x03, 0x04, 0x05, 0x0B):
                continue  # block structure: values in locals survive (e.g. Emscripten's overflow check)
            elif op in (0x0C, 0x0D, 0x0E, 0x0F):
                break  # a branch leaves straight-line code
            else:
                stack.clear()  # an instruction we do not model: forget what is on the stack
    except ParseError:
        pass
    return None


def find_stack_pointer(module: WasmModule, gnames: dict[int, str], go: bool) -> StackPointer | None:
    globals_ = module.globals
    mem64 = module.is_memory64
    want = "i64" if mem64 else "i32"

    def make(idx: int, prov: str, detail: str, evidence: int = 0) -> StackPointer:
        g = globals_[idx]
        init = None if g.imported else global_value(module, idx)
        if isinstance(init, int):
            init &= 0xFFFFFFFFFFFFFFFF if g.type.valtype == "i64" else 0xFFFFFFFF
        return StackPointer(idx, prov, detail, init, g.imported is not None, evidence, g.type.valtype)

    def pointer_like(idx: int) -> bool:  # a name alone does not make an f64 or a funcref a stack pointer
        return idx < len(globals_) and globals_[idx].type.mutable and globals_[idx].type.valtype in ("i32", "i64")

    for g in globals_:
        if g.imported and g.imported.name == "__stack_pointer" and pointer_like(g.index):
            return make(g.index, "import", f"imported as {g.imported.module}.{g.imported.name}")
    for idx, name in gnames.items():
        if name == "__stack_pointer" and pointer_like(idx):
            return make(idx, "name-section", "named __stack_pointer in the name section")
    for e in module.exports:
        if e.kind == "global" and e.name == "__stack_pointer" and pointer_like(e.index):
            return make(e.index, "export", "exported as __stack_pointer")
    if go:
        return None
    candidates = {g.index for g in globals_ if g.type.mutable and g.type.valtype == want}
    if not candidates:
        return None
    counts, scanned_n = count_prologues(module, candidates)
    best = max(counts, key=lambda k: (counts[k], -k))
    n = counts[best]
    if n == 0:
        return None
    runner_up = max((c for k, c in counts.items() if k != best), default=0)
    if runner_up * 2 > n:
        return None  # ambiguous: two globals used like stack pointers
    nf = len(module.functions)
    what = f"{n} function prologue{'s' if n != 1 else ''}"
    if nf <= PROLOGUE_SCAN_FUNCTIONS:
        detail = f"{what} lower global {best} and write it back"
    elif scanned_n < PROLOGUE_SCAN_FUNCTIONS:
        detail = (f"{what} lower global {best} and write it back, and none lower another global "
                  f"(sampled {scanned_n} of {nf} functions)")
    else:
        detail = f"{what} (of {PROLOGUE_SCAN_FUNCTIONS} sampled from {nf} functions) lower global {best} and write it back"
    return make(best, "prologue-heuristic", detail, n)
