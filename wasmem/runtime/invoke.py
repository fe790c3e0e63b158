"""Entering the guest: one call under its limits (the deadline, fuel, Ctrl-C, runaway output), the observers
told as it begins and ends, and whatever stopped it translated into a ``TrapInfo`` with the module's own
frames and offsets.

Calls nest: a hook that pauses the guest (a stop at a breakpoint, a prompt) may run another call before it
returns. The outer call's deadline pauses while the nested one runs, which gets its own limits; the outer
call's time left and fuel are restored afterwards. ``paused()`` does the same for a hook that waits without
calling."""

from __future__ import annotations

import contextlib
import time

import wasmtime

from .budget import Watcher, output_stop_message, stop_after
from .engine import first_line
from .hosts import HostTrap, trap_frames
from .readside import function_name
from .results import TraceFrame, TrapInfo

MIN_RESUME = 0.001  # seconds: an outer call resumed with no time left still gets a deadline (never none)

TRAP_TEXT = {
    "unreachable": "wasm `unreachable` instruction executed",
    "memory_out_of_bounds": "out of bounds memory access",
    "call_stack_exhausted": "too deep a native recursion exhausted the engine's call stack (not the "
                            "linear stack)",
    "integer_division_by_zero": "integer divide by zero",
    "integer_overflow": "integer overflow",
    "indirect_call_to_null": "indirect call to a null table entry",
    "table_out_of_bounds": "undefined element: out of bounds table access",
    "bad_signature": "indirect call type mismatch",
    "bad_conversion_to_integer": "invalid conversion to integer",
    "heap_misaligned": "misaligned memory access",
}


class CodeMap:
    """The module's names and offsets for trap frames: functions appended by instrumentation are dropped,
    and offsets in the rewritten module map back to the original file (``rewritten``: the rewriter's map;
    ``at``/``delta``: the export section that grew when wasmem appended exports)."""

    def __init__(self, module, rewritten=None, at: int | None = None, delta: int = 0):
        self.module = module
        self.rewritten = rewritten
        self.at = at if at is not None else len(module.data)
        self.delta = delta

    def function_name(self, index: int, fallback: str | None = None) -> str:
        return function_name(self.module, index, fallback)

    def original_offset(self, off: int) -> int:
        if off >= self.at + self.delta:
            off -= self.delta
        if self.rewritten is not None:
            mapped = self.rewritten.original_offset(off)
            if mapped is not None:
                return mapped
        return off

    def frames(self, wframes) -> list[TraceFrame]:
        frames = []
        for f in wframes:
            idx = f.func_index
            if idx >= self.module.num_functions:
                continue  # appended by instrumentation (the watch pass's check): wasmem's, not the module's
            name = self.function_name(idx, f.func_name)
            fo, mo = f.func_offset, f.module_offset
            known = mo is not None and 0 <= mo < 1 << 48 and fo is not None and 0 <= fo < 1 << 48
            if known and self.rewritten is not None and fo <= mo:
                # the function's own reference point (mo - fo) maps back too: offsets in the original body
                orig = self.original_offset(mo)
                fo = max(0, orig - self.original_offset(mo - fo))
                frames.append(TraceFrame(idx, name, fo, orig))
                continue
            frames.append(TraceFrame(idx, name, fo if known else None,
                                     self.original_offset(mo) if known else None))
        return frames


class Invoker:
    """Calls into one store. ``observers`` see each entry begin and end (``begin_invoke``/``end_invoke``) and
    may explain a trap (``explain_trap``); ``get_sp`` reads the stack pointer for the trap's record."""

    def __init__(self, engine, store, *, timeout: float, fuel: int | None, output, signals, on_stuck=None,
                 deadline=None):
        self.engine = engine
        self.store = store
        self.timeout = timeout
        self.deadline = deadline  # the command's (wasmem.deadline.Deadline) or None: see ``limit``
        self._bound = timeout  # the seconds the armed call's message names
        self.fuel = fuel
        self.output = output  # GuestOutput: its files' growth stops a runaway writer
        self.signals = signals
        self.on_stuck = on_stuck
        self.observers: list = []
        self.code: CodeMap | None = None
        self.get_sp = lambda: None
        self.watcher: Watcher | None = None

    # -- the limits of one call ---------------------------------------------------------------------
    def arm(self, timeout: float | None = None, fuel: int | None = None) -> None:
        """Starts the limits of one call: the fuel, and a Watcher for the deadline, Ctrl-C and runaway
        output (each stop increments the engine's epoch, so wasm code traps at its next check; a host
        function that waits, such as WASI's poll_oneoff, wakes up through ``host_wait``)."""
        self.store.set_epoch_deadline(1)
        if self.fuel is not None:
            self.store.set_fuel(self.fuel if fuel is None else fuel)
        self.disarm()
        limit = self.output.stop_size(stop_after)
        files = self.output.files if limit is not None else ()
        stuck = None
        seconds = self.limit(self.timeout if timeout is None else timeout)
        if self.on_stuck is not None:
            def stuck(reason: str) -> None:
                what = (f"timed out after {self._bound:g} s (--timeout)" if reason == "timeout" else
                        "interrupted" if reason == "interrupt" else "stopped: too much output (--max-output)")
                self.on_stuck(reason, f"{what}, but the call is blocked in a host call that cannot be interrupted "
                                      "(a WASI open or read of a FIFO or a device under --dir?)")
        self.watcher = Watcher(self.engine.increment_epoch, seconds, files, limit, self.signals.arm(),
                               on_stuck=stuck)

    def limit(self, seconds: float | None) -> float | None:
        """The limit of one call with its own ``seconds`` (0 or None: none): the smaller of them and what the
        command's deadline leaves (an expired deadline still gives a limit: MIN_RESUME, never none). Sets the
        seconds a timeout's message names: the call's own, or the command's --timeout when that is nearer."""
        own = seconds or None
        self._bound = self.timeout  # (a resumed call's ``seconds`` are what it had left: named by its own limit)
        d = self.deadline
        if d is None or not d.limited:
            return own
        left = d.left()
        if own is None or left < own:
            self._bound = d.seconds
            return max(MIN_RESUME, left)
        return own

    def disarm(self) -> None:
        w, self.watcher = self.watcher, None
        if w is not None:
            w.stop()
        self.signals.disarm()

    def _suspend(self):
        """The outer call's time left and fuel when a call nests inside it (None at the top level); its
        watcher is stopped until ``_resume``."""
        w = self.watcher
        if w is None:
            return None
        left = None if w.deadline is None else max(MIN_RESUME, w.deadline - time.monotonic())
        fuel = None
        if self.fuel is not None:
            try:
                fuel = self.store.get_fuel()
            except wasmtime.WasmtimeError:
                fuel = None
        self.disarm()
        return left, fuel

    def _resume(self, saved) -> None:
        if saved is not None:
            left, fuel = saved
            self.arm(timeout=left if left is not None else 0, fuel=fuel)

    @contextlib.contextmanager
    def paused(self):
        """Within ``with``: the running call's deadline (and the watcher) paused, e.g. while a hook waits for
        a person at a prompt; it resumes with the time it had left."""
        saved = self._suspend()
        try:
            if self.deadline is not None:
                with self.deadline.paused():
                    yield
            else:
                yield
        finally:
            self._resume(saved)

    def host_wait(self, seconds: float) -> None:
        """A host function's sleep (WASI poll_oneoff): at most until the call's deadline, Ctrl-C or its
        output limit, which then stop the call as they would stop wasm code."""
        w = self.watcher
        reason = w.wait(seconds) if w is not None else (time.sleep(seconds) or None)
        if reason is not None:
            kind, message = self.stop_text(reason, w)
            raise HostTrap(kind, message)

    def stop_text(self, reason: str | None, w: Watcher | None) -> tuple[str, str]:
        if reason == "interrupt":
            return "interrupted", "interrupted (Ctrl-C)"
        if reason == "output":
            stream = "stdout" if w is None or not w.stream else "stderr"
            return "output_limit", output_stop_message(stream, self.output.max_output)
        return "timeout", f"timed out after {self._bound:g} s (--timeout)"

    # -- one call ----------------------------------------------------------------------------------
    def invoke(self, func, args: list):
        """Calls ``func`` under the limits. Returns the results as a list, or a TrapInfo."""
        saved = self._suspend()
        for o in self.observers:
            o.begin_invoke()
        self.arm()
        try:
            r = func(self.store, *args)
        except HostTrap as exc:  # raised by a host function: the frames are those that called it
            return TrapInfo(exc.kind, exc.message, self.code.frames(trap_frames(exc)), self.get_sp(), exc.exit_code)
        except wasmtime.ExitTrap as exc:
            return TrapInfo("exit", f"the program exited with status {exc.code}", [], self.get_sp(), exc.code)
        except wasmtime.Trap as exc:
            return self.trap_info(exc)
        except wasmtime.WasmtimeError as exc:
            return TrapInfo("error", first_line(exc), [], self.get_sp())
        finally:
            self.disarm()
            for o in self.observers:
                o.end_invoke()
            self._resume(saved)
        try:
            count = len(func.type(self.store).results)
        except Exception:  # noqa: BLE001 - not a wasmtime Func: go by what came back
            count = 0 if r is None else len(r) if isinstance(r, (list, tuple)) else 1
        if count == 0:
            return []
        values = list(r) if count > 1 else [r]  # one result comes back bare, a null reference as None
        return [self.host_value(v) for v in values]

    def host_value(self, v):
        """A result as plain data: numbers as they are, a null reference as None, and a non-null
        reference (wasmtime hands back host objects) as a short description such as
        ``<func (i32) -> (f64)>``: its identity means nothing outside this process."""
        if v is None or isinstance(v, (int, float)):
            return v
        if isinstance(v, wasmtime.Func):
            try:
                ft = v.type(self.store)
                return (f"<func ({', '.join(str(t) for t in ft.params)}) -> "
                        f"({', '.join(str(t) for t in ft.results)})>")
            except Exception:  # noqa: BLE001
                return "<func>"
        return f"<{type(v).__name__}>"

    def trap_info(self, trap: wasmtime.Trap) -> TrapInfo:
        code = trap.trap_code
        kind = code.name.lower() if code is not None else "trap"
        message = trap_message(trap.message) or kind
        if code is None and "thrown Wasm exception" in (trap.message or ""):
            kind, message = "uncaught_exception", "a wasm exception was thrown and nothing caught it"
        if code == wasmtime.TrapCode.INTERRUPT:
            w = self.watcher
            kind, message = self.stop_text(w.reason if w is not None else None, w)
        elif code == wasmtime.TrapCode.OUT_OF_FUEL:
            kind, message = "out_of_fuel", f"ran out of fuel after {self.fuel} units (--fuel)"
        elif code == wasmtime.TrapCode.STACK_OVERFLOW:  # wasmtime's name; not the linear stack
            kind, message = "call_stack_exhausted", TRAP_TEXT["call_stack_exhausted"]
        elif code is not None:
            message = TRAP_TEXT.get(kind, message)
        wframes = list(trap.frames)
        overflow = None
        if code == wasmtime.TrapCode.UNREACHABLE:
            for o in self.observers:  # a trap of an observer's own check (the stack probe's overflow)
                explained = o.explain_trap(wframes)
                if explained is not None:
                    kind, message, wframes, overflow = explained
                    break
        frames = self.code.frames(wframes)
        sp = None
        try:
            sp = self.get_sp()
        except Exception:  # noqa: BLE001
            pass
        return TrapInfo(kind, message, frames, sp, overflow=overflow)


def trap_message(text: str | None) -> str:
    """The informative line of an engine trap message: its "Caused by" when there is one (the first line
    of wasmtime's text is the generic "error while executing at wasm backtrace:")."""
    lines = [ln.strip() for ln in (text or "").strip().splitlines() if ln.strip()]
    if "Caused by:" in lines and lines.index("Caused by:") + 1 < len(lines):
        return lines[lines.index("Caused by:") + 1]
    return lines[0] if lines else ""
