"""Stack use of each call, and ``--check-stack``.

By default the stack pointer's writes are instrumented (instrument/stack.py): no byte of memory is written,
so the program sees exactly what a plain host gives it. Painting (``paint=True``, ``--paint``) fills the
free stack below the stack pointer with a pattern before a call and finds the lowest byte it changed, which
also sees red-zone use; a program that reads uninitialised stack (struct padding copied to the heap,
uninitialised locals) then reads the pattern, so it is used only when asked, and only on a stack proven by
the layout model. ``--check-stack`` instruments with the stack's real bounds: a write of the stack pointer
past them traps before the frame is used (a ``stack_overflow`` with how far it went)."""

from __future__ import annotations

import ctypes
import re

from ...errors import UsageError
from ...instrument.stack import StackPass
from ...model.redzone import RedZones
from ..memory import set_global
from ..results import StackOverflow, StackUse
from ..rewritecache import cached_red_zones
from . import Observer

PAINT = 0xAA
# Painting never goes below this address: a read through a null (or small) pointer must see what a plain
# host shows, and in a stack-first module the lowest KiB of the stack is the null page.
NULL_GUARD = 1024
_SCAN = 4096
_PAINTED = bytes([PAINT]) * _SCAN
_PAINT_RUN = re.compile(b"\\x%02x+" % PAINT)


class StackProbe(Observer):
    """How stack use is measured (``measure``: "paint", "instrument" or None, and ``paint_reason``: why), the
    stack pass when the stack pointer's writes are instrumented, and the measurement around each call."""

    name = "stack"

    def __init__(self, module, name: str, *, sp_global: int | None, stack_range: tuple[int, int] | None,
                 check_stack: bool, paint: bool | None, paint_safe: tuple[bool, str] | None,
                 rewrite_cache=None):
        """``rewrite_cache``: the rewrite cache's directory (runtime/rewritecache.py), which also keeps the red
        zones of a module (its stack pass's key holds them: a warm run reads them back), or None."""
        self.sp_global = sp_global
        self.stack_range = stack_range
        self.check_stack = bool(check_stack)
        self.instrumented = None  # instrument/stack.py's Instrumented once the module is rewritten
        self.pass_: StackPass | None = None
        self.session = None
        self._bounds = None  # (low, high) the hook checks: the stack's with --check-stack, else everything
        self.red_zones: RedZones | None = None  # leaf functions' extents below SP, counted at their entry
        safe, why = paint_safe if paint_safe is not None else (bool(stack_range), "the stack range given")
        self.paint_reason = ""
        self.measure: str | None = None
        if paint is True:
            if safe and stack_range:
                self.measure = "paint"
                self.paint_reason = f"painted (--paint): {why}"
            else:
                self.paint_reason = f"not painted although --paint asked: {why}"
        if self.check_stack:
            if sp_global is None or not stack_range:
                what = "stack pointer" if sp_global is None else "stack range"
                raise UsageError(f"--check-stack: {name} has no known {what} to check (see `wasmem stack` "
                                 f"for what the layout analysis found)")
            self.red_zones = cached_red_zones(module, sp_global, rewrite_cache)
            self.pass_ = StackPass(sp_global, stack_range[0], high=stack_range[1], leaves=self.red_zones.extents)
        elif self.measure is None and sp_global is not None:
            # measurement only: the hook records the minimum and never traps (bounds 0 and 2**bits-1). On by
            # default whatever the size: the rewrite copies the bodies that never write the stack pointer and
            # is cached on disk (instrument/rewriter.py, runtime/rewritecache.py; ~25 MB of code per second)
            self.red_zones = cached_red_zones(module, sp_global, rewrite_cache)
            self.pass_ = StackPass(sp_global, 0, leaves=self.red_zones.extents)

    @property
    def what(self) -> str:
        return "--check-stack" if self.check_stack else "stack measurement"

    blame = 0

    @property
    def optional(self) -> bool:
        """Without --check-stack the pass only measures: when the module cannot be rewritten with it, the
        session runs without it (stack use is then not measured)."""
        return self.pass_ is not None and not self.check_stack

    def drop_passes(self) -> None:
        self.pass_ = None

    def passes(self) -> list:
        return [self.pass_] if self.pass_ is not None else []

    def rewritten(self, result) -> None:
        if self.pass_ is None:
            return
        self.instrumented = self.pass_.result(result)
        if self.check_stack:
            self._bounds = self.stack_range
            self.measure = self.measure or "instrument"
        else:
            self._bounds = (0, (1 << self.instrumented.bits) - 1)
            self.measure = "instrument"
            self.paint_reason = self.paint_reason or "instrumented: the stack pointer's writes are recorded"

    def attach(self, session) -> None:
        self.session = session

    # -- the instrumentation's globals ---------------------------------------------------------------
    def _set_raw(self, name: str, value: int) -> None:
        bits = self.instrumented.bits
        value &= (1 << bits) - 1
        if value >> (bits - 1):
            value -= 1 << bits
        set_global(self.session.exports[name], self.session.store, value)

    def _get_raw(self, name: str) -> int:
        return self.session.exports[name].value(self.session.store) & ((1 << self.instrumented.bits) - 1)

    def begin_invoke(self) -> None:
        ins = self.instrumented
        if ins is None or self.session is None:
            return
        low, high = self._bounds
        self._set_raw(ins.sp_min_export, ins.initial_min)
        self._set_raw(ins.stack_low_export, low)
        self._set_raw(ins.stack_high_export, high)

    def sp_min(self) -> int | None:
        """The lowest value the stack pointer was set to since the last call started; None without the
        instrumentation or when the stack pointer was not written."""
        if self.instrumented is None:
            return None
        v = self._get_raw(self.instrumented.sp_min_export)
        return None if v == self.instrumented.initial_min else v

    def explain_trap(self, wframes):
        """A linear-stack overflow when the trap came from the hook (with --check-stack)."""
        ins = self.instrumented
        if (ins is None or not self.check_stack or not wframes or wframes[0].func_index != ins.hook_index
                or len(wframes) < 2 or self.session is None):  # a trap in the start function: no exports yet
            return None
        low, high = self.stack_range
        mask = (1 << ins.bits) - 1
        sp_min = self._get_raw(ins.sp_min_export)
        idx = wframes[1].func_index
        overflow = StackOverflow(self.session.function_name(idx, wframes[1].func_name), idx,
                                 (high - sp_min) & mask, high - low, (low - sp_min) & mask, low, high, sp_min)
        return "stack_overflow", overflow.message, wframes[1:], overflow  # the hook is wasmem's

    # -- around a user call ----------------------------------------------------------------------------
    def begin_call(self, call) -> None:
        call.painted = self._paint(call.sp, call.writes) if self.measure == "paint" else None

    def end_call(self, call, result) -> None:
        sp_call = call.sp
        low_high = self.stack_range or (None, None)
        if call.painted is not None:  # the paint is restored in place first, so the after-image is the program's
            low, high = call.painted
            lowest = self._unpaint(low, high, call.before[0])
            result.stack = StackUse(sp_call, min(lowest, sp_call), *low_high, method="paint", floor=low,
                                    note=self.paint_reason)
        if self.instrumented is not None and sp_call is not None:
            sp_min = self.sp_min()
            top = low_high[1] if low_high[1] is not None else sp_call
            if sp_min is None or sp_min > sp_call and sp_min <= top:
                sp_min = sp_call  # never moved below where it started
            if result.stack is None:
                lowest = sp_min if self.measure == "instrument" and sp_min <= sp_call else sp_call
                result.stack = StackUse(sp_call, lowest, *low_high, method="instrument", note=self.paint_reason)
            result.stack.sp_min = sp_min
            rz = self.red_zones
            if rz is not None:
                result.stack.red_zones = self.instrumented.leaves
                result.stack.red_zones_unknown = len(rz.unknown)
            result.stack.exact_peak = (sp_call - sp_min) & ((1 << self.instrumented.bits) - 1)
            result.stack.overflowed = result.trap is not None and result.trap.overflow is not None
        if result.stack is None and sp_call is not None:
            result.stack_note = self.paint_reason or "not measured"

    def _paint(self, sp: int | None, keep=()):
        """Paints the free stack [max(low, NULL_GUARD), sp); bytes written for the call (``keep``: (addr,
        data) pairs, e.g. --write into free stack) and everything above them stay as they are."""
        session = self.session
        if sp is None or not self.stack_range or 0 not in session.memories:
            return None
        low, high = self.stack_range
        low = max(low, NULL_GUARD)
        top = min(sp, high, *(a for a, _ in keep if a < min(sp, high)))
        if not 0 <= low < top <= session.memory_size(0):
            return None
        ctypes.memset(session.memories[0].address(session.store) + low, PAINT, top - low)
        return low, top

    def _unpaint(self, low: int, high: int, before: bytes) -> int:
        """In memory 0: finds the lowest byte of the painted [low, high) that no longer holds the paint and
        puts every byte that still holds it back to what ``before`` (the image taken before painting) had
        there. Returns that lowest address (``high`` when the call touched nothing): one copy of the painted
        range, a chunked scan for the first changed byte, one copy back for the untouched part below it and
        one per run of paint above it (1 MiB: about 0.3 ms)."""
        mem = self.session.memories[0]
        store = self.session.store
        if mem.size(store) < high:
            return high
        base = mem.address(store)  # after the call: memory.grow may have moved it
        data = ctypes.string_at(base + low, high - low)
        # the first changed byte: whole chunks compared with memcmp (bytes ==), then one chunk stripped
        n, i = len(data), 0
        while i < n and data[i:i + _SCAN] == _PAINTED[:min(_SCAN, n - i)]:
            i += _SCAN
        i = min(i, n)
        chunk = data[i:i + _SCAN]
        lowest = low + i + len(chunk) - len(chunk.lstrip(_PAINTED[:1]))
        if lowest > low:
            ctypes.memmove(base + low, before[low:lowest], lowest - low)
        for run in _PAINT_RUN.finditer(data, lowest - low):
            a, b = run.span()
            ctypes.memmove(base + low + a, before[low + a:low + b], b - a)
        return lowest
