"""Stack instrumentation: rewrite a module so that every write of the stack pointer goes through a hook.

Pure stdlib; works on bytes and returns new bytes. A pass of the rewriter (``rewriter.py``): every
``global.set SP`` in every function body is replaced by ``call $hook`` (same stack effect: it consumes
the new SP value). The appended hook

    (func $hook (param $new i32)                 ;; i64 for memory64
      (if (i32.lt_u (local.get $new) (global.get $sp_min)) (then (global.set $sp_min (local.get $new))))
      (if (i32.lt_u (local.get $new) (global.get $stack_low)) (then unreachable))
      (if (i32.gt_u (local.get $new) (global.get $stack_high))
        (then (global.set $sp_min (local.get $new)) unreachable))
      (global.set $sp (local.get $new)))

records the lowest stack pointer in an appended mutable global exported as ``__wasmem_sp_min``
(initialised to the largest unsigned value: the host resets it before a call) and traps with
``unreachable`` *before* the stack pointer moves below ``__wasmem_stack_low`` (an appended mutable
global the host may change). So a data-first overflow stops at the function whose prologue overflowed
instead of overwriting static data; ``sp_min`` then says how far it would have gone.
``__wasmem_stack_high`` (initialised to the largest unsigned value, i.e. off) catches the other way a
stack overflows: in a stack-first module the stack's low end is 0, so ``SP - frame`` wraps around to a
huge unsigned value instead of dropping below it. The hook then stores the wrapped value in ``sp_min``
and traps, so ``(stack_low - sp_min) mod 2**bits`` is still how far the stack went past its low end.

Leaf functions use up to 128 bytes below SP without writing it (the red zone). Given ``leaves``
(function index → how many bytes below its entry SP it may touch, from ``model/redzone.py``), the pass
puts ``global.get SP; const extent; call $leaf`` at each such function's entry; the appended

    (func $leaf (param $sp i32) (param $extent i32)   ;; records max(0, sp - extent) in $sp_min
      ...)

only lowers ``sp_min`` (it never traps and never moves SP), so the measured peak includes each leaf's
red zone at the depth it ran. Not seen: writes of SP by the host. A trap inside the hook happens before the frame's first store (clang writes SP back before
using the frame), so the overflowing function has not written anything yet.

Function indices do not move (the hook is appended last), so the name section stays valid; DWARF code
offsets do not (bodies change size when the hook's index has a longer LEB than the global's):
``Instrumented.original_offset`` maps a code offset back. ``StackPass`` runs with other passes in one
walk (``rewrite(data, [StackPass(...), WatchPass(...)])``); ``instrument_stack`` is the stack pass alone.

Cost (measured on the memdemo samples, wasmtime-py 50, median of repeated calls): one extra call per
write of the stack pointer, i.e. two per non-leaf function call. Call-heavy code (``fib_stack``: a frame
per call) runs 1.75-2.2x slower (fib_stack(20) 0.088 -> 0.154 ms, fib_stack(25) 0.71 -> 1.53 ms);
loops that do not call (``checksum`` over 60000 bytes) cost nothing measurable (1.00x). Through
``Session.call`` the per-call overhead of wasmem (painting, diffing: ~0.45 ms) hides most of it:
fib_stack(20) 0.56 -> 0.69 ms, fib_stack(25) 1.3 -> 2.4 ms. The module grows by about 90 bytes and
compiles in ~4 ms more (uncached).
"""

from __future__ import annotations

from dataclasses import dataclass

from ..errors import ParseError
from ..parser.encode import sleb, uleb
from .rewriter import Builder, Edit, FunctionContext, Pass, Rewritten, rewrite
from .skip import leb_forms

SP_MIN_EXPORT = "__wasmem_sp_min"
STACK_LOW_EXPORT = "__wasmem_stack_low"
STACK_HIGH_EXPORT = "__wasmem_stack_high"


@dataclass(frozen=True)
class Instrumented:
    data: bytes
    hook_index: int  # function index of the hook (a trap inside it = stack overflow)
    sp_min_global: int
    stack_low_global: int
    sp_min_export: str
    stack_low_export: str
    sites: int  # global.set SP instructions rewritten
    valtype: str  # i32 | i64
    stack_high_global: int | None = None
    stack_high_export: str | None = None
    rewritten: Rewritten | None = None  # the whole rewrite (other passes' results, the offset map)
    leaf_hook_index: int | None = None  # the red-zone hook (None: no leaf instrumented)
    leaves: int = 0  # leaf functions whose red zone is counted at entry

    @property
    def initial_min(self) -> int:
        """The value ``__wasmem_sp_min`` holds before any write (unsigned max); reset it to this."""
        return 0xFFFFFFFF if self.valtype == "i32" else 0xFFFFFFFFFFFFFFFF

    @property
    def bits(self) -> int:
        return 32 if self.valtype == "i32" else 64

    @property
    def anchors(self) -> tuple:
        return self.rewritten.anchors if self.rewritten is not None else ()

    def original_offset(self, offset: int) -> int | None:
        """The offset in the original module of a code offset in ``data`` (e.g. a trap frame's
        ``module_offset``); None inside an appended function or before the first function body."""
        return self.rewritten.original_offset(offset) if self.rewritten is not None else offset


def _signed(v: int, bits: int) -> int:
    v &= (1 << bits) - 1
    return v - (1 << bits) if v >> (bits - 1) else v


class StackPass(Pass):
    """Every ``global.set sp_global`` becomes ``call $hook``; see the module docstring."""

    ops = frozenset({0x24})

    def __init__(self, sp_global: int, low: int = 0, *, high: int | None = None,
                 sp_min_export: str = SP_MIN_EXPORT, stack_low_export: str = STACK_LOW_EXPORT,
                 stack_high_export: str = STACK_HIGH_EXPORT, leaves: dict[int, int] | None = None):
        self.sp_global, self.low, self.high = sp_global, low, high
        self.leaves = dict(leaves or {})  # function index → bytes below its entry SP (model/redzone.py)
        self.export_names = (sp_min_export, stack_low_export, stack_high_export)
        self.sites = 0

    def setup(self, b: Builder) -> None:
        globals_ = b.module.globals
        sp_global = self.sp_global
        if not 0 <= sp_global < len(globals_):
            raise ParseError(f"cannot instrument: global {sp_global} does not exist")
        g = globals_[sp_global]
        vt = g.type.valtype
        if not g.type.mutable or vt not in ("i32", "i64"):
            raise ParseError(f"cannot instrument: global {sp_global} is not a mutable i32/i64 ({vt})")
        self.valtype = vt
        bits = 32 if vt == "i32" else 64
        const = b"\x41" if vt == "i32" else b"\x42"
        tidx = b.func_type((vt,), ())
        init_min = _signed(-1, bits)
        init_high = init_min if self.high is None else _signed(self.high, bits)
        self.sp_min = b.add_global(vt, const + sleb(init_min))
        self.low_g = b.add_global(vt, const + sleb(_signed(self.low, bits)))
        self.high_g = b.add_global(vt, const + sleb(init_high))
        self.hook = b.add_function(tidx)
        self.names = [b.export(n, "global", g) for n, g in
                      zip(self.export_names, (self.sp_min, self.low_g, self.high_g), strict=True)]
        self._call = b"\x10" + uleb(self.hook)
        self.leaf_hook = b.add_function(b.func_type((vt, vt), ())) if self.leaves else None

    def enter(self, fn: FunctionContext) -> bytes:
        extent = self.leaves.get(fn.index)
        if not extent or self.leaf_hook is None:
            return b""
        const = b"\x41" if self.valtype == "i32" else b"\x42"
        return (b"\x23" + uleb(self.sp_global) + const + sleb(_signed(extent, 32 if self.valtype == "i32" else 64))
                + b"\x10" + uleb(self.leaf_hook))

    def cache_key(self) -> tuple:
        return (self.sp_global, self.low, self.high, self.export_names, tuple(sorted(self.leaves.items())))

    def entered(self) -> frozenset:
        """Only the leaf functions whose red zone is counted at entry."""
        return frozenset(self.leaves) if self.leaf_hook is not None else frozenset()

    def saved_state(self):
        return {"sites": self.sites}

    def restore_state(self, state) -> None:
        self.sites = int(state["sites"])

    def prefixes(self) -> dict[int, list[bytes]]:
        """Only ``global.set SP`` is changed: a body without one is copied as it is."""
        return {0x24: [b"\x24" + form for form in leb_forms(self.sp_global)]}

    def visit(self, fn: FunctionContext, offset: int, op: int, imm) -> Edit | None:
        if imm != self.sp_global:
            return None
        self.sites += 1
        return Edit(self._call, keep=False)

    def finish(self, b: Builder) -> None:
        vt = self.valtype
        lt_u = 0x49 if vt == "i32" else 0x54
        gt_u = 0x4B if vt == "i32" else 0x56
        sp_min, low_g, high_g = self.sp_min, self.low_g, self.high_g
        b.set_body(self.hook, b"\x00"  # no locals
                   + bytes([0x20, 0, 0x23]) + uleb(sp_min) + bytes([lt_u, 0x04, 0x40, 0x20, 0])
                   + b"\x24" + uleb(sp_min) + b"\x0b"
                   + bytes([0x20, 0, 0x23]) + uleb(low_g) + bytes([lt_u, 0x04, 0x40, 0x00, 0x0b])
                   + bytes([0x20, 0, 0x23]) + uleb(high_g) + bytes([gt_u, 0x04, 0x40, 0x20, 0])
                   + b"\x24" + uleb(sp_min) + b"\x00\x0b"
                   + bytes([0x20, 0, 0x24]) + uleb(self.sp_global) + b"\x0b")
        if self.leaf_hook is not None:
            sub, zero = (0x6B, b"\x41\x00") if vt == "i32" else (0x7D, b"\x42\x00")
            # if sp <u extent: sp = 0 else sp = sp - extent; if sp <u sp_min: sp_min = sp
            b.set_body(self.leaf_hook, b"\x00"
                       + bytes([0x20, 0, 0x20, 1, lt_u, 0x04, 0x40]) + zero + bytes([0x21, 0, 0x05])
                       + bytes([0x20, 0, 0x20, 1, sub, 0x21, 0, 0x0B])
                       + bytes([0x20, 0, 0x23]) + uleb(sp_min) + bytes([lt_u, 0x04, 0x40, 0x20, 0])
                       + b"\x24" + uleb(sp_min) + b"\x0b\x0b")

    def result(self, rewritten: Rewritten) -> Instrumented:
        return Instrumented(rewritten.data, self.hook, self.sp_min, self.low_g, self.names[0], self.names[1],
                            self.sites, self.valtype, self.high_g, self.names[2], rewritten, self.leaf_hook,
                            len(self.leaves) if self.leaf_hook is not None else 0)


def instrument_stack(data, sp_global: int, low: int = 0, *, high: int | None = None,
                     sp_min_export: str = SP_MIN_EXPORT, stack_low_export: str = STACK_LOW_EXPORT,
                     stack_high_export: str = STACK_HIGH_EXPORT, passes: tuple = (),
                     leaves: dict[int, int] | None = None) -> Instrumented:
    """Returns ``data`` rewritten so that every ``global.set sp_global`` records the minimum and traps below
    ``low`` or above ``high`` (default: no upper check; see the module docstring). Raises ParseError when
    ``sp_global`` is not a mutable i32/i64. ``passes``: more passes applied in the same walk (after this
    one); their results are in ``.rewritten.passes``. ``leaves``: red-zone extents to count at entry."""
    sp = StackPass(sp_global, low, high=high, sp_min_export=sp_min_export, stack_low_export=stack_low_export,
                   stack_high_export=stack_high_export, leaves=leaves)
    return sp.result(rewrite(data, [sp, *passes]))
