"""What every host profile shares: the call log (HostCall, HostState), HostTrap, the context a host
function gets (memory access through the calling instance, its exports), and the generic fallback
(the helpers no toolchain owns, and the recording stub)."""

from __future__ import annotations

import ctypes
import math
from collections.abc import Callable
from dataclasses import dataclass, field

import wasmtime

from ...model.values import MemoryArg

WASI_MODULES = ("wasi_snapshot_preview1",)  # wasmtime-py provides preview 1 only
MAX_STRING = 1 << 16  # the longest C or AssemblyScript string a host function decodes (bytes)


class HostTrap(Exception):
    """Raised inside a host function to stop the guest; becomes the call's trap (kind, message). An
    ``exit_code`` makes it an exit (kind ``exit``) rather than a failure."""

    def __init__(self, kind: str, message: str, exit_code: int | None = None):
        super().__init__(message)
        self.kind = kind
        self.message = message
        self.exit_code = exit_code


@dataclass
class HostCall:
    module: str
    name: str
    args: tuple
    result: object = None
    handled_by: str = "stub"  # stub | strict | generic | odin | the host profile's name (emscripten, go, …)
    message: str | None = None  # a decoded string argument (an abort message, a trace line, …)
    stub: bool = False  # the profile knows the import but does nothing for it (returns zeros or a fixed value)

    def to_dict(self) -> dict:
        return {"import": f"{self.module}.{self.name}", "args": list(self.args), "result": self.result,
                "handled_by": self.handled_by, "message": self.message,
                "stub": self.stub}

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
    context: object = field(default=None, repr=False, compare=False)  # the HostContext its functions share
    sync: Callable | None = field(default=None, repr=False, compare=False)  # called before host output
    max_output: int = 0  # bytes of stdout and of stderr kept (0 = no limit); the rest is counted …
    truncated: list[int] = field(default_factory=lambda: [0, 0])  # … here (stdout, stderr)
    on_record: Callable | None = field(default=None, repr=False, compare=False)  # --watch: host writes

    def record(self, call: HostCall) -> None:
        if len(self.calls) < self.max_recorded:
            self.calls.append(call)
        else:
            self.dropped += 1
        if self.on_record is not None:
            self.on_record(call)

    def out(self, fd: int, data: bytes) -> None:
        """Host output to fd 1/2. ``sync`` first brings in what WASI wrote, so the two stay in order. Past
        ``max_output`` bytes the output is counted, not kept; far past it (``budget.stop_after``) the call
        is stopped with an ``output_limit`` trap."""
        if self.sync is not None:
            self.sync()
        k = 1 if fd == 2 else 0
        buf = self.stderr if k else self.stdout
        if not self.max_output:
            buf.extend(data)
            return
        keep = max(0, min(len(data), self.max_output - len(buf)))
        buf.extend(data[:keep])
        self.truncated[k] += len(data) - keep
        from ..budget import output_stop_message, stop_after

        if len(buf) + self.truncated[k] > stop_after(self.max_output):
            raise HostTrap("output_limit", output_stop_message("stderr" if k else "stdout", self.max_output))


def wasm_valtype(t: str) -> wasmtime.ValType:
    """A wasmtime ValType for a parser value type name (numbers and the two nullable references)."""
    from ...errors import RunError

    simple = {"i32": wasmtime.ValType.i32, "i64": wasmtime.ValType.i64, "f32": wasmtime.ValType.f32,
              "f64": wasmtime.ValType.f64}
    if t in simple:
        return simple[t]()
    if t in ("externref", "(ref null extern)", "(ref extern)"):
        return wasmtime.ValType.externref()
    if t in ("funcref", "(ref null func)", "(ref func)"):
        return wasmtime.ValType.funcref()
    raise RunError(f"cannot provide a host value of type {t}")


def js_number(v) -> str:
    """A number as JavaScript's String(n) writes it: 1, 1.5, 0.00001, 1e-7, 1e+21, NaN, Infinity."""
    if not isinstance(v, float):
        return str(v)
    if math.isnan(v):
        return "NaN"
    if math.isinf(v):
        return "Infinity" if v > 0 else "-Infinity"
    if v == 0:
        return "0"
    from decimal import Decimal

    d = Decimal(repr(v))  # the shortest digits that round-trip, as JavaScript uses too
    if 1e-6 <= abs(v) < 1e21:
        text = format(d, "f")
        return text.rstrip("0").rstrip(".") if "." in text else text
    sign, digits, exp = d.normalize().as_tuple()
    mant = str(digits[0]) + ("." + "".join(map(str, digits[1:])) if len(digits) > 1 else "")
    e = exp + len(digits) - 1
    return f"{'-' if sign else ''}{mant}e{'+' if e >= 0 else '-'}{abs(e)}"


def _caller_memory(caller):
    """The calling instance's memory export (``memory``, else Go's ``mem``) as a memory adapter."""
    from ..memory import GuestMemory

    for name in ("memory", "mem"):
        try:
            m = caller.get(name)
        except Exception:  # noqa: BLE001 - a caller that has gone away
            m = None
        if isinstance(m, (wasmtime.Memory, wasmtime.SharedMemory)):
            return GuestMemory(m)
    return None


class Guest:
    """What a host profile may do with the running module (to place a string its way): the module, calling
    an export (results as a list, or a TrapInfo when it trapped), calling the module's allocator export
    (the block's address; a RunError when it fails), and reading and writing memory 0. The session makes
    one; profiles never see the session."""

    def __init__(self, module, *, invoke, allocate, read, write):
        self.module = module
        self.invoke = invoke  # (export name, [args]) -> list | TrapInfo
        self.allocate = allocate  # (allocator export, size, align) -> address
        self.read = read  # (address, length) -> bytes
        self.write = write  # (address, data) -> None


class HostContext:
    """What a host function may use besides its arguments: the shared state, the module (None when a
    function is made for a bare import name), memory 0 of the caller, the caller's exports, and a
    scratch dict per profile (Emscripten's tempRet0, Go's timeout ids …)."""

    def __init__(self, state: HostState, module=None, memory_of: Callable | None = None, profile=None):
        self.state = state
        self.module = module
        self.memory_of = memory_of or _caller_memory
        self.profile = profile
        self.data: dict = {}

    # -- memory ----------------------------------------------------------------------------------
    def mem(self, caller, what: str):
        m = self.memory_of(caller)
        if m is None:
            raise HostTrap("host_error", f"{what}: the module has no memory the host can reach")
        return m

    def read(self, caller, addr: int, n: int, what: str) -> bytes:
        m = self.mem(caller, what)
        addr &= 0xFFFFFFFFFFFFFFFF
        size = m.size(caller)
        if n < 0 or addr + n > size:
            raise HostTrap("memory_out_of_bounds", f"{what}: [{addr:#x}, {addr + n:#x}) is outside memory "
                                                   f"({size} bytes)")
        return ctypes.string_at(m.address(caller) + addr, n) if n else b""

    def write(self, caller, addr: int, data: bytes, what: str) -> None:
        m = self.mem(caller, what)
        size = m.size(caller)
        if addr < 0 or addr + len(data) > size:
            raise HostTrap("memory_out_of_bounds", f"{what}: writing {len(data)} bytes at {addr:#x} is outside "
                                                   f"memory ({size} bytes)")
        if data:
            ctypes.memmove(m.address(caller) + addr, bytes(data), len(data))

    def cstring(self, caller, addr: int, what: str, limit: int = MAX_STRING) -> str:
        """The NUL-terminated UTF-8 string at ``addr`` (Emscripten's UTF8ToString), cut at ``limit`` bytes."""
        m = self.mem(caller, what)
        addr &= 0xFFFFFFFF
        size = m.size(caller)
        if addr >= size:
            raise HostTrap("memory_out_of_bounds", f"{what}: string pointer {addr:#x} is outside memory "
                                                   f"({size} bytes)")
        raw = ctypes.string_at(m.address(caller) + addr, min(limit, size - addr))
        end = raw.find(b"\0")
        return raw[:end if end >= 0 else len(raw)].decode("utf-8", "replace")

    def u32(self, caller, addr: int, what: str) -> int:
        return int.from_bytes(self.read(caller, addr, 4, what), "little")

    # -- the calling instance --------------------------------------------------------------------
    @staticmethod
    def export(caller, name: str):
        try:
            return caller.get(name)
        except Exception:  # noqa: BLE001
            return None

    def call_export(self, caller, name: str, *args):
        """Calls the caller's export ``name`` (None when it has no such function export)."""
        f = self.export(caller, name)
        if not isinstance(f, wasmtime.Func):
            return None
        return f(caller, *args)


Handler = Callable  # (caller, *args) -> result


class Profile:
    """A host profile: which imports it satisfies and how a module is recognised. Subclasses set
    ``name`` and ``summary`` and override ``detect`` and ``function``."""

    name = "none"
    summary = "no host profile: every function import is a stub that returns zeros and records the call"
    wasi = False  # provide WASI preview 1 (wasmtime's) when the module imports it
    init_exports: tuple[str, ...] = ()  # exports the host calls once after instantiating (before _initialize …)
    init_replaces_ctors = True  # a profile init export that ran stands for _initialize/__wasm_call_ctors

    def start_runtime(self, guest: Guest) -> list[tuple[str, list]]:
        """What the host's runtime does after its ``init_exports`` and before the module's constructors: the
        exports it called, with their arguments (the session lists them with its initialisation calls)."""
        return []

    def detect(self, module) -> str | None:
        """Why this profile fits ``module`` (a short reason), or None."""
        return None

    def function(self, ctx: HostContext, module: str, name: str, params: tuple, results: tuple) -> Handler | None:
        """A host function for the import ``module.name``, or None to leave it to the generic fallback."""
        return None

    string_pair = False  # encode_string's strings are passed as (ptr, len), not a pointer alone
    callee_owns_args = False  # s:/b: arguments placed through the allocator belong to the callee (not freed)

    def takes_string(self, guest: Guest) -> bool:
        """True when ``s:TEXT`` arguments go through :meth:`encode_string` (the module's own string
        convention) instead of the default (UTF-8 bytes through the allocator as a (ptr, len) pair)."""
        return False

    def encode_string(self, guest: Guest, text: str) -> StringArg:
        """Places ``text`` in memory the module's way (only called when :meth:`takes_string`)."""
        raise NotImplementedError


@dataclass(frozen=True)
class HostString(MemoryArg):
    """An ``s:`` argument the host profile passes its own way: one pointer (``pair`` False)."""

    profile: str = ""


@dataclass
class StringArg:
    """A string placed in memory by a profile: ``length`` None means the callee takes the pointer alone."""

    ptr: int
    length: int | None
    size: int  # bytes written
    via: str  # the allocator export used
    free: str | None = None  # an export to call with the pointer after the call (e.g. __unpin)


def refuse_if_strict(state: HostState, module: str, name: str, args: tuple, what: str = "no host implementation"):
    """Under ``--strict-imports`` a call to a stub is a trap: record it and raise."""
    if state.strict:
        state.record(HostCall(module, name, tuple(args), None, "strict", stub=True))
        raise HostTrap("strict_import", f"called the import {module}.{name}({', '.join(map(str, args))}), "
                                        f"which has {what} (--strict-imports)")


def stub_for(ctx: HostContext, module: str, name: str, results: tuple, handled_by: str,
             value=None, message: str | None = None) -> Handler:
    """A host function that records the call and returns ``value`` (zeros by default) for an import the
    profile knows but does nothing for (a trap under ``--strict-imports``)."""
    r = zeros(results) if value is None else value

    def known_stub(caller, *args):
        refuse_if_strict(ctx.state, module, name, args, f"only a stub in the {handled_by} host profile")
        ctx.state.record(HostCall(module, name, args, r, handled_by, message, stub=True))
        return r
    return known_stub


ABORT_NAMES = {"abort", "_abort", "abort_js", "_abort_js", "emscripten_abort"}


def generic_function(ctx: HostContext, module: str, name: str, params: tuple, results: tuple) -> Handler:
    """The fallback under every profile: ``abort`` never returns, Odin's ``odin_env.write``, else a stub
    that returns zeros (a trap under ``--strict-imports``)."""
    state = ctx.state
    profile = ctx.profile.name if ctx.profile is not None and ctx.profile.name != "none" else None
    if name in ABORT_NAMES:
        def abort(caller, *args):
            state.record(HostCall(module, name, args, None, profile or "generic"))
            raise HostTrap("abort", f"{module}.{name}({', '.join(map(str, args))}) called: the program aborted")
        return abort

    if module == "odin_env" and name == "write" and len(params) == 3:
        def odin_write(caller, fd, ptr, n):
            data = ctx.read(caller, ptr & 0xFFFFFFFF, n & 0xFFFFFFFF, "odin_env.write")
            state.out(fd, data)
            state.record(HostCall(module, name, (fd, ptr, n), None, "odin"))
            return zeros(results)
        return odin_write

    def stub(caller, *args):
        refuse_if_strict(state, module, name, args)
        r = zeros(results)
        state.record(HostCall(module, name, args, r, "stub", stub=True))
        return r
    return stub


def trap_frames(exc: BaseException) -> list:
    """The wasm frames active when a host function raised ``exc`` (wasmtime-py keeps the engine's error,
    with its backtrace, as the exception's context). Empty when there is none."""
    ctx = exc.__context__
    if not isinstance(ctx, wasmtime.WasmtimeError) or isinstance(ctx, wasmtime.Trap):
        return list(ctx.frames) if isinstance(ctx, wasmtime.Trap) else []
    try:  # wasmtime-py has no public accessor for an error's trace: the C API's, as Trap.frames does it
        from wasmtime import _ffi as ffi
        from wasmtime._trap import Frame, FrameList

        frames = FrameList(ctx)
        ffi.wasmtime_error_wasm_trace(ctx.ptr(), ctypes.byref(frames.vec))
        return [Frame._from_ptr(frames.vec.data[i], frames) for i in range(frames.vec.size)]
    except Exception:  # noqa: BLE001 - a different wasmtime-py: no frames rather than no result
        return []
