"""Host functions for every import a module declares: WASI is wasmtime's; the rest are stubs that
return zeros and record each call, plus a few helpers that behave like their JS hosts."""

from __future__ import annotations

import ctypes
from dataclasses import dataclass, field

WASI_MODULES = ("wasi_snapshot_preview1",)

ABORT_NAMES = {"abort", "_abort", "abort_js", "_abort_js", "__assert_fail", "___assert_fail", "__cxa_throw",
               "___cxa_throw", "emscripten_abort"}
MEMCPY_NAMES = {"emscripten_memcpy_big", "_emscripten_memcpy_big", "_emscripten_memcpy_js",
                "emscripten_memcpy_js"}
RESIZE_NAMES = {"emscripten_resize_heap", "_emscripten_resize_heap"}
NOOP_NAMES = {"emscripten_notify_memory_growth", "_emscripten_notify_memory_growth"}


class HostTrap(Exception):
    """Raised inside a host function to stop the guest; becomes the call's trap (kind, message)."""

    def __init__(self, kind: str, message: str):
        super().__init__(message)
        self.kind = kind
        self.message = message


@dataclass
class HostCall:
    module: str
    name: str
    args: tuple
    result: object = None
    handled_by: str = "stub"  # stub | emscripten | odin | strict

    def to_dict(self) -> dict:
        return {"import": f"{self.module}.{self.name}", "args": list(self.args), "result": self.result,
                "handled_by": self.handled_by}

    def __str__(self) -> str:
        return f"{self.module}.{self.name}({', '.join(str(a) for a in self.args)})"


def zero_of(valtype: str):
    if valtype in ("f32", "f64"):
        return 0.0
    if valtype in ("i32", "i64"):
        return 0
    return None


def zeros(results: tuple[str, ...]):
    if not results:
        return None
    if len(results) == 1:
        return zero_of(results[0])
    return [zero_of(t) for t in results]


@dataclass
class HostState:
    """What host functions share with the session: the call log and captured output."""

    strict: bool = False
    calls: list[HostCall] = field(default_factory=list)
    stdout: bytearray = field(default_factory=bytearray)
    stderr: bytearray = field(default_factory=bytearray)
    max_recorded: int = 10000
    dropped: int = 0

    def record(self, call: HostCall) -> None:
        if len(self.calls) < self.max_recorded:
            self.calls.append(call)
        else:
            self.dropped += 1


def make_host_function(state: HostState, module: str, name: str, params: tuple[str, ...],
                       results: tuple[str, ...], memory_of):
    """A Python callable ``f(caller, *args)`` for the import ``module.name``.

    ``memory_of(caller)`` returns a memory adapter (``.ptr(store)``, ``.size(store)``, ``.grow(store, n)``)
    for memory 0, or None."""
    if name in ABORT_NAMES and module in ("env", "a", "wasi", "emscripten"):
        def abort(caller, *args):
            state.record(HostCall(module, name, args, None, "emscripten"))
            raise HostTrap("abort", f"{module}.{name}({', '.join(map(str, args))}) called: the program aborted")
        return abort

    if name in RESIZE_NAMES and params == ("i32",):
        def resize(caller, requested):
            mem = memory_of(caller)
            ok = 0
            if mem is not None:
                requested &= 0xFFFFFFFF
                have = mem.size(caller)
                if requested <= have:
                    ok = 1
                else:
                    need = (requested - have + 65535) // 65536
                    try:
                        mem.grow(caller, need)
                        ok = 1
                    except Exception:
                        ok = 0
            state.record(HostCall(module, name, (requested,), ok, "emscripten"))
            return ok if results else None
        return resize

    if name in MEMCPY_NAMES and len(params) == 3:
        def memcpy(caller, dest, src, n):
            mem = memory_of(caller)
            state.record(HostCall(module, name, (dest, src, n), dest if results else None, "emscripten"))
            if mem is not None:
                size = mem.size(caller)
                dest &= 0xFFFFFFFF
                src &= 0xFFFFFFFF
                n &= 0xFFFFFFFF
                if dest + n > size or src + n > size:
                    raise HostTrap("memory_out_of_bounds", f"{name}({dest:#x}, {src:#x}, {n}) is out of bounds")
                base = ctypes.addressof(mem.ptr(caller).contents)
                ctypes.memmove(base + dest, base + src, n)
            return zeros(results) if not results else dest
        return memcpy

    if name in NOOP_NAMES:
        def noop(caller, *args):
            state.record(HostCall(module, name, args, None, "emscripten"))
            return zeros(results)
        return noop

    if module == "odin_env" and name == "write" and len(params) == 3:
        def odin_write(caller, fd, ptr, n):
            mem = memory_of(caller)
            data = b""
            if mem is not None:
                ptr &= 0xFFFFFFFF
                n &= 0xFFFFFFFF
                if ptr + n <= mem.size(caller):
                    data = ctypes.string_at(ctypes.addressof(mem.ptr(caller).contents) + ptr, n)
            (state.stderr if fd == 2 else state.stdout).extend(data)
            state.record(HostCall(module, name, (fd, ptr, n), None, "odin"))
            return zeros(results)
        return odin_write

    def stub(caller, *args):
        if state.strict:
            state.record(HostCall(module, name, args, None, "strict"))
            raise HostTrap("strict_import", f"called the import {module}.{name}({', '.join(map(str, args))}), "
                                            f"which has no host implementation (--strict-imports)")
        r = zeros(results)
        state.record(HostCall(module, name, args, r, "stub"))
        return r
    return stub
