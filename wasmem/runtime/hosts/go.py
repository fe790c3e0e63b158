"""Go's ``wasm_exec.js`` (GOOS=js GOARCH=wasm): imports from module ``gojs`` (Go ≥ 1.21; ``go`` before).

Detected by any import from module ``gojs`` or ``go``. Every import but ``debug`` takes one i32, Go's
stack pointer ``sp``, and reads its arguments from memory at ``sp + 8`` onwards (int64 little-endian),
as wasm_exec.js does. The Go linker may import the same name twice; the linker gets each
(module, name) once.

- ``runtime.wasmExit(code)``: ends the run as an exit with that status (``code`` at ``sp + 8``).
- ``runtime.wasmWrite(fd, p, n)``: the bytes to stdout/stderr (captured).
- ``runtime.nanotime1``/``runtime.walltime``: the real clock (wall-clock time in ns since the epoch,
  monotonic within the session; seconds + nanoseconds).
- ``runtime.getRandomData(slice)``: fills the slice with real random bytes (``os.urandom``), as
  ``crypto.getRandomValues`` does: runs are not reproducible.
- ``runtime.scheduleTimeoutEvent``: returns a fresh id (from 1) but nothing ever fires (no event loop);
  ``clearTimeoutEvent``, ``resetMemoryDataView``: nothing to do.
- ``syscall/js.*``: there is no JavaScript. Results read as ``undefined``, calls (``valueCall``,
  ``valueInvoke``, ``valueNew``) report that the JS side threw, byte copies report failure. Recorded as stubs.
- ``debug(value)``: the value to stdout.
"""

from __future__ import annotations

import os
import time

from .base import HostCall, HostContext, HostTrap, Profile, refuse_if_strict

GO_MODULES = ("gojs", "go")
# syscall/js functions: (offset of the result ref or None, offset of the ok byte or None, int64 result offset)
_JS_RESULTS = {
    "syscall/js.stringVal": (24, None, None),
    "syscall/js.valueGet": (32, None, None),
    "syscall/js.valueIndex": (24, None, None),
    "syscall/js.valueCall": (56, 64, None),
    "syscall/js.valueInvoke": (40, 48, None),
    "syscall/js.valueNew": (40, 48, None),
    "syscall/js.valueLength": (None, None, 16),
    "syscall/js.valuePrepareString": (16, None, 24),
    "syscall/js.valueInstanceOf": (None, 24, None),
    "syscall/js.copyBytesToGo": (None, 48, None),
    "syscall/js.copyBytesToJS": (None, 48, None),
}


class Go(Profile):
    name = "go"
    summary = ("Go's wasm_exec.js: wasmExit as an exit, wasmWrite captured, real clocks and random bytes; "
               "syscall/js finds no JavaScript (undefined values, failed calls)")
    wasi = True

    def detect(self, module) -> str | None:
        imps = [i for i in module.imports if i.kind == "func" and i.module in GO_MODULES]
        if not imps:
            return None
        seen: set = set()
        dups = sorted({i.name for i in imps if (i.name in seen or seen.add(i.name))})
        return (f"imports {len(imps)} functions from module `{imps[0].module}` (Go's wasm_exec.js)"
                + (f"; {', '.join(dups[:2])} imported more than once" if dups else ""))

    def function(self, ctx: HostContext, module: str, name: str, params: tuple, results: tuple):
        if module not in GO_MODULES:
            return None
        state = ctx.state
        data = ctx.data
        data.setdefault("origin_ns", time.time_ns() - time.perf_counter_ns())

        def i64(caller, addr):
            return int.from_bytes(ctx.read(caller, addr, 8, name), "little", signed=True)

        def put(caller, addr, value: int, n: int = 8):
            ctx.write(caller, addr, (value & (2 ** (8 * n) - 1)).to_bytes(n, "little"), name)

        def record(args, message=None, stub=False):
            if stub:
                refuse_if_strict(state, module, name, tuple(args), "only a stub in the go host profile")
            state.record(HostCall(module, name, tuple(args), None, self.name, message, stub))

        if name == "debug" and len(params) == 1:
            def debug(caller, value):
                state.out(1, f"{value}\n".encode())
                record((value,), str(value))
            return debug
        if params != ("i32",) or results:
            return None

        if name == "runtime.wasmExit":
            def wasm_exit(caller, sp):
                code = int.from_bytes(ctx.read(caller, (sp & 0xFFFFFFFF) + 8, 4, name), "little", signed=True)
                record((sp,), f"exit code {code}")
                raise HostTrap("exit", f"the program exited with status {code} (runtime.wasmExit)", exit_code=code)
            return wasm_exit

        if name == "runtime.wasmWrite":
            def wasm_write(caller, sp):
                sp &= 0xFFFFFFFF
                fd, p = i64(caller, sp + 8), i64(caller, sp + 16)
                n = int.from_bytes(ctx.read(caller, sp + 24, 4, name), "little", signed=True)
                out = ctx.read(caller, p, n, name)
                state.out(fd, out)
                record((sp,), f"write(fd {fd}, {n} bytes)")
            return wasm_write

        if name == "runtime.nanotime1":
            def nanotime(caller, sp):
                put(caller, (sp & 0xFFFFFFFF) + 8, data["origin_ns"] + time.perf_counter_ns())
                record((sp,))
            return nanotime

        if name == "runtime.walltime":
            def walltime(caller, sp):
                sp &= 0xFFFFFFFF
                msec = time.time_ns() // 1_000_000
                put(caller, sp + 8, msec // 1000)
                put(caller, sp + 16, (msec % 1000) * 1_000_000, 4)
                record((sp,))
            return walltime

        if name == "runtime.getRandomData":
            def random_data(caller, sp):
                sp &= 0xFFFFFFFF
                p, n = i64(caller, sp + 8), i64(caller, sp + 16)
                ctx.write(caller, p, os.urandom(max(0, n)), name)
                record((sp,), f"{n} random bytes at {p:#x}")
            return random_data

        if name == "runtime.scheduleTimeoutEvent":
            def schedule(caller, sp):
                ident = data.get("next_timeout", 1)
                record((sp,), f"timeout id {ident} (never fires: no event loop)", stub=True)
                data["next_timeout"] = ident + 1
                put(caller, (sp & 0xFFFFFFFF) + 16, ident, 4)
            return schedule

        if name in ("runtime.clearTimeoutEvent", "runtime.resetMemoryDataView", "syscall/js.finalizeRef",
                    "syscall/js.valueSet", "syscall/js.valueDelete", "syscall/js.valueSetIndex",
                    "syscall/js.valueLoadString"):
            def nothing(caller, sp):
                record((sp,), stub=name.startswith("syscall/js."))
            return nothing

        if name in _JS_RESULTS:
            ref, ok, num = _JS_RESULTS[name]

            def js(caller, sp):
                record((sp,), "no JavaScript: undefined", stub=True)
                sp &= 0xFFFFFFFF
                if ref is not None:
                    put(caller, sp + ref, 0)  # undefined
                if num is not None:
                    put(caller, sp + num, 0)
                if ok is not None:
                    put(caller, sp + ok, 0, 1)  # the JS side threw / not a byte array / not an instance
            return js
        return None
