"""Crafted modules for the stack analysis at scale, built as bytes (no wabt, no binaries in git): call
chains of any depth, many exports, wide fan-out, recursion through strongly connected components,
dynamic frames, imports and call_indirect through a table. Also used by bench/run.py.

Every function has the type ``() -> ()`` and one i32 local; global 0 is the stack pointer (named
``__stack_pointer``). A function with a frame of K bytes runs ``global.get 0; i32.const K; i32.sub;
global.set 0``, its calls, and the matching ``i32.add`` epilogue: the analysis reads K as its size.
"""

from __future__ import annotations

from collections.abc import Sequence

from wasmem.parser.encode import sleb, uleb


def _section(sid: int, payload: bytes) -> bytes:
    return bytes([sid]) + uleb(len(payload)) + payload


def _vec(items) -> bytes:
    items = list(items)
    return uleb(len(items)) + b"".join(items)


def _name(s: str) -> bytes:
    b = s.encode()
    return uleb(len(b)) + b


def build(calls: Sequence[Sequence[int]], *, frames=None, dynamic=(), imports: int = 0,
          exports: Sequence[int] = (), start: int | None = None, indirect: Sequence[int] = (),
          table: Sequence[int] = (), names: bool = True, stack: int = 1 << 20) -> bytes:
    """A module whose function ``imports + j`` (j = 0, 1, …) calls ``calls[j]`` (function indices, imports
    first) in order. ``frames``: a frame size per function (or one for all; default 16); ``dynamic``:
    functions (indices) that also lower SP by a run-time amount (a VLA); ``indirect``: functions with a
    ``call_indirect`` through table 0, which holds ``table``; ``exports``: exported functions (named
    ``e<k>_f<index>``); ``stack``: the stack pointer's initial value (stack-first: the stack size)."""
    n = len(calls)
    if frames is None:
        frames = 16
    if isinstance(frames, int):
        frames = [frames] * n
    dynamic, indirect = set(dynamic), set(indirect)
    out = [b"\0asm\x01\0\0\0", _section(1, _vec([b"\x60\x00\x00"]))]
    if imports:
        out.append(_section(2, _vec(_name("env") + _name(f"imp{i}") + b"\x00\x00" for i in range(imports))))
    out.append(_section(3, uleb(n) + b"\x00" * n))
    if table:
        out.append(_section(4, _vec([b"\x70\x00" + uleb(len(table))])))
    out.append(_section(5, _vec([b"\x00" + uleb(-(-(stack + 1) // 65536) + 1)])))
    out.append(_section(6, _vec([b"\x7f\x01\x41" + sleb(stack) + b"\x0b"])))
    out.append(_section(7, _vec(_name(f"e{k}_f{i}") + b"\x00" + uleb(i) for k, i in enumerate(exports))))
    if start is not None:
        out.append(_section(8, uleb(start)))
    if table:
        out.append(_section(9, _vec([b"\x00\x41\x00\x0b" + _vec(uleb(f) for f in table)])))
    bodies = []
    for j in range(n):
        i = imports + j
        k = frames[j]
        code = bytearray(b"\x01\x01\x7f")  # one i32 local
        if i in dynamic:  # SP = (SP - local 0) & -16: a VLA
            code += b"\x23\x00\x20\x00\x6b\x41\x70\x71\x24\x00"
        if k:
            code += b"\x23\x00\x41" + sleb(k) + b"\x6b\x24\x00"
        for c in calls[j]:
            code += b"\x10" + uleb(c)
        if i in indirect:
            code += b"\x41\x00\x11\x00\x00"
        if k:
            code += b"\x23\x00\x41" + sleb(k) + b"\x6a\x24\x00"
        code += b"\x0b"
        bodies.append(uleb(len(code)) + bytes(code))
    out.append(_section(10, uleb(n) + b"".join(bodies)))
    if names:
        fn = _vec(uleb(i) + _name(f"imp{i}" if i < imports else f"f{i}") for i in range(imports + n))
        gn = _vec([uleb(0) + _name("__stack_pointer")])
        sub = b"\x01" + uleb(len(fn)) + fn + b"\x07" + uleb(len(gn)) + gn
        out.append(_section(0, _name("name") + sub))
    return b"".join(out)


def chain(depth: int, *, frame: int = 16, exports: int = 1, tail=None, **kw) -> bytes:
    """f0 → f1 → … → f<depth-1>; the first ``exports`` functions exported. ``tail``: what the last one
    calls (e.g. ``[depth - 1]`` for recursion at the bottom)."""
    calls = [[i + 1] for i in range(depth - 1)] + [list(tail or [])]
    return build(calls, frames=frame, exports=range(exports), **kw)


def fan_out(width: int, *, frame: int = 16) -> bytes:
    """f0 calls f1 … f<width>, each a leaf with a frame of ``frame`` bytes (f<width> twice as big)."""
    calls = [list(range(1, width + 1))] + [[] for _ in range(width)]
    return build(calls, frames=[frame] * width + [2 * frame], exports=[0])


def scc_ring(size: int, *, lead: int = 3, frame: int = 16, big: int = 64) -> bytes:
    """f0 → … → f<lead-1> → a ring r0 → r1 → … → r<size-1> → r0 of ``size`` functions (the middle one
    has a frame of ``big`` bytes), and every ring member also calls a leaf ``x`` (32 bytes)."""
    ring0 = lead
    x = lead + size
    calls = [[i + 1] for i in range(lead)]
    for k in range(size):
        calls.append([ring0 + (k + 1) % size, x])
    calls.append([])
    frames = [frame] * lead + [big if k == size // 2 else frame for k in range(size)] + [32]
    return build(calls, frames=frames, exports=[0])


def random_graph(seed: int, n: int | None = None) -> dict:
    """The arguments of :func:`build` for a small random call graph (a few imports, frames of several
    sizes, back edges that make recursion, VLAs, a table with call_indirect sites, exports, a start)."""
    import random

    r = random.Random(seed)
    n = n or r.randint(3, 30)
    nimp = r.randint(0, 3)
    total = nimp + n
    p = r.choice([0.05, 0.1, 0.2])
    back = r.choice([0.0, 0.02, 0.08])
    calls = []
    for j in range(n):
        i = nimp + j
        cs = [c for c in range(total)
              if (c < nimp and r.random() < 0.1) or (c > i and r.random() < p)
              or (nimp <= c <= i and r.random() < back)]
        r.shuffle(cs)
        calls.append(cs)
    indirect = [nimp + j for j in range(n) if r.random() < 0.1]
    table = r.sample(range(nimp, total), r.randint(1, min(4, n))) if indirect else []
    return {"calls": calls, "frames": [r.choice([0, 0, 16, 32, 48, 1024]) for _ in range(n)],
            "dynamic": [nimp + j for j in range(n) if r.random() < 0.06], "imports": nimp,
            "exports": r.sample(range(nimp, total), r.randint(1, min(5, n))),
            "start": r.choice([None, r.randrange(nimp, total)]), "indirect": indirect, "table": table}
