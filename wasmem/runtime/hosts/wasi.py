"""WASI preview 1 (``wasi_snapshot_preview1``), satisfied by wasmtime's own implementation.

Detected by any function import from ``wasi_snapshot_preview1``. A module that exports ``_start`` is a
*command* (call ``_start``; ``--arg`` and ``--stdin`` give it argv and stdin), one that exports
``_initialize`` a *reactor* (wasmem runs ``_initialize`` once when it opens the module).

wasmtime's WASI functions find memory through the caller's export named ``memory``. A module whose
memory is imported (``--import-memory``, the usual Emscripten shape) or exported under another name
(``ra``, ``mem``) has none, and every WASI call would fail with "missing required memory export": the
session then appends an export ``memory`` of memory 0 to the module it compiles (nothing else changes;
the file is untouched).

The sandbox: no preopened directory and no environment variable unless given (``--dir``, ``--env``),
argv is the module's file name plus ``--arg`` values, stdin is empty unless ``--stdin FILE``, and
stdout/stderr are captured (the session reads WASI's output before each write of a host function, so
the two stay in order). ``wasi_unstable`` (preview 0) is not provided by wasmtime-py: its imports
are stubs.
"""

from __future__ import annotations

import os

import wasmtime

from ...errors import UsageError
from .base import Profile

WASI_MODULE = "wasi_snapshot_preview1"
# the preview 1 functions that take an i64, with their parameter types as wasmtime defines them. Emscripten
# without WASM_BIGINT imports them "legalized": each i64 split into two i32s (low, high), a type wasmtime's
# WASI cannot link; the profile's own function serves such an import instead (see legalized()).
I64_SIGNATURES = {
    "clock_time_get": ("i32", "i64", "i32"),
    "fd_advise": ("i32", "i64", "i64", "i32"),
    "fd_allocate": ("i32", "i64", "i64"),
    "fd_fdstat_set_rights": ("i32", "i64", "i64"),
    "fd_filestat_set_size": ("i32", "i64"),
    "fd_filestat_set_times": ("i32", "i64", "i64", "i32"),
    "fd_pread": ("i32", "i32", "i32", "i64", "i32"),
    "fd_pwrite": ("i32", "i32", "i32", "i64", "i32"),
    "fd_readdir": ("i32", "i32", "i32", "i64", "i32"),
    "fd_seek": ("i32", "i64", "i32", "i32"),
    "path_filestat_set_times": ("i32", "i32", "i32", "i32", "i64", "i64", "i32"),
    "path_open": ("i32", "i32", "i32", "i32", "i32", "i64", "i64", "i32", "i32"),
}


def legalized(name: str, params: tuple) -> bool:
    """True for a WASI import whose i64 parameters were split into i32 pairs (wasmtime cannot link it)."""
    want = I64_SIGNATURES.get(name)
    return want is not None and tuple(params) != want


def wasi_imports(module) -> list[str]:
    return [i.name for i in module.imports if i.kind == "func" and i.module == WASI_MODULE]


def wasi_kind(module) -> str | None:
    """"command" (exports ``_start``), "reactor" (exports ``_initialize``) or None."""
    for name, kind in (("_start", "command"), ("_initialize", "reactor")):
        e = module.find_export(name)
        if e is not None and e.kind == "func":
            return kind
    return None


def describe_wasi(module) -> str:
    names = wasi_imports(module)
    shown = ", ".join(names[:3]) + (f" … {len(names)} in all" if len(names) > 3 else "")
    kind = wasi_kind(module)
    what = {"command": "a command (_start)", "reactor": "a reactor (_initialize)"}.get(kind, "")
    return f"imports {WASI_MODULE} ({shown})" + (f", {what}" if what else "")


def memory_export(module) -> tuple[list[tuple[str, str, int]], str | None]:
    """The export WASI needs appended (``memory`` for memory 0 when no export has that name) and a note
    saying so; ([], None) when nothing is needed; ([], why) when it cannot be done."""
    if not module.memories:
        return [], None
    e = module.find_export("memory")
    if e is not None:
        if e.kind == "memory" and e.index == 0:
            return [], None
        return [], (f"the export `memory` is a {e.kind}, not memory 0: WASI functions that need memory "
                    f"will fail")
    m0 = module.memories[0]
    what = f"the imported memory {m0.imported.module}.{m0.imported.name}" if m0.imported else "memory 0"
    return [("memory", "memory", 0)], f"{what} exported as `memory` for WASI"


def parse_dir(d) -> tuple[str, str, bool]:
    """``--dir`` as (host, guest, writable): ``HOST``, ``HOST:GUEST``, ``HOST:GUEST:ro`` (read-only) or
    ``HOST:GUEST:rw`` (the default: the guest may create, change and delete files there), or a tuple of
    those parts."""
    if isinstance(d, tuple):
        host, guest, *mode = d
    else:
        mode = []
        for suffix in (":ro", ":rw"):
            if d.endswith(suffix) and d.count(":") >= 2:
                d, mode = d[:-3], [suffix[1:]]
        host, _, guest = d.partition(":")
    mode = mode[0] if mode else "rw"
    if mode not in ("ro", "rw"):
        raise UsageError(f"--dir {host}: the access is ro or rw, not {mode!r}")
    return host, guest or host, mode == "rw"


def make_config(argv0: str, *, args=(), env=(), dirs=(), stdin: str | None = None,
                stdout: str | None = None, stderr: str | None = None) -> wasmtime.WasiConfig:
    """A sandboxed WasiConfig: argv ``[argv0, *args]``, only the given ``env`` (``K=V`` or pairs) and
    ``dirs`` (``HOST[:GUEST[:ro|rw]]`` or tuples), stdin from ``stdin`` (else empty), output to the given files
    (else discarded). Files, not wasmtime-py's ``stdout_custom`` callbacks: those are finalised on a
    wasmtime worker thread and made the process panic at exit."""
    wc = wasmtime.WasiConfig()
    wc.argv = [argv0, *[str(a) for a in args]]
    pairs = []
    for item in env:
        k, v = item if isinstance(item, tuple) else (item.split("=", 1) + [""])[:2]
        pairs.append((k, v))
    if pairs:
        wc.env = pairs
    for d in dirs:
        host, guest, writable = parse_dir(d)
        if not os.path.isdir(host):
            raise UsageError(f"--dir {host}: not a directory")
        wc.preopen_dir(host, guest, writable)
    if stdin is not None:
        from ...files import regular_file

        regular_file(stdin, what="--stdin")  # a FIFO or a device would block the guest where no stop reaches
        wc.stdin_file = stdin
    if stdout is not None:
        wc.stdout_file = stdout
    if stderr is not None:
        wc.stderr_file = stderr
    return wc


class Wasi(Profile):
    name = "wasi"
    summary = ("WASI preview 1 by wasmtime (sandboxed: no directories or environment unless granted, argv "
               "from --arg, stdin from --stdin, output captured); other imports are stubs")
    wasi = True

    def detect(self, module) -> str | None:
        return describe_wasi(module) if wasi_imports(module) else None


# -- poll_oneoff: the one WASI call that blocks ---------------------------------------------------------
# wasmtime's poll_oneoff sleeps inside the engine, where neither the epoch (--timeout) nor Ctrl-C reaches
# it: a guest sleeping 60 s held `wasmem call --timeout 1` for 60 s. wasmem defines its own (shadowing
# wasmtime's): a clock subscription waits through the session's ``wait`` hook (HostContext.data["wait"]),
# which ends at the call's deadline, on Ctrl-C or at its output limit and then stops the call. Layouts
# (wasi_snapshot_preview1): subscription 48 bytes {userdata u64 @0, tag u8 @8, clock {id u32 @16,
# timeout u64 @24, precision u64 @32, flags u16 @40} | fd_readwrite {fd u32 @16}}; event 32 bytes
# {userdata u64 @0, error u16 @8, type u8 @10, fd_readwrite {nbytes u64 @16, flags u16 @24}}.
# A subscription on a file descriptor is reported ready at once (wasmtime's files and captured stdio are
# always ready) with nbytes 0 — the one difference from wasmtime's, which reports the bytes available.
SUBSCRIPTION_SIZE = 48
EVENT_SIZE = 32
ERRNO_INVAL = 28
CLOCK_REALTIME, CLOCK_MONOTONIC = 0, 1
SUBCLOCKFLAGS_ABSTIME = 1


def poll_oneoff(ctx) -> object:
    import struct
    import time

    from .base import HostTrap

    def now_ns(clock: int) -> int:
        return time.time_ns() if clock == CLOCK_REALTIME else time.monotonic_ns()

    def wasi_poll_oneoff(caller, in_ptr, out_ptr, nsubs, nevents_ptr):
        in_ptr, out_ptr, nevents_ptr = in_ptr & 0xFFFFFFFF, out_ptr & 0xFFFFFFFF, nevents_ptr & 0xFFFFFFFF
        nsubs &= 0xFFFFFFFF
        if nsubs == 0:
            return ERRNO_INVAL
        try:
            raw = ctx.read(caller, in_ptr, nsubs * SUBSCRIPTION_SIZE, "poll_oneoff")
        except HostTrap:
            return 21  # EFAULT
        clocks, ready = [], []  # (deadline ns on the monotonic clock, userdata); (userdata, type)
        for k in range(nsubs):
            sub = raw[k * SUBSCRIPTION_SIZE:(k + 1) * SUBSCRIPTION_SIZE]
            userdata, tag = struct.unpack_from("<QB", sub, 0)
            if tag == 0:
                clock, timeout, _precision, flags = struct.unpack_from("<I4xQQH", sub, 16)
                if clock not in (CLOCK_REALTIME, CLOCK_MONOTONIC):
                    return ERRNO_INVAL
                wait = timeout - now_ns(clock) if flags & SUBCLOCKFLAGS_ABSTIME else timeout
                clocks.append((time.monotonic_ns() + max(0, wait), userdata))
            elif tag in (1, 2):
                ready.append((userdata, tag))
            else:
                return ERRNO_INVAL
        if not ready and clocks:
            first = min(d for d, _ in clocks)
            left = (first - time.monotonic_ns()) / 1e9
            if left > 0:
                wait = ctx.data.get("wait")
                if wait is not None:
                    wait(left)  # raises HostTrap when the call is stopped meanwhile
                else:
                    time.sleep(left)
        t = time.monotonic_ns()
        events = [(u, 0) for d, u in clocks if d <= t] + ready
        out = b"".join(struct.pack("<QHBxxxxxQHxxxxxx", u, 0, typ, 0, 0) for u, typ in events)
        try:
            ctx.write(caller, out_ptr, out, "poll_oneoff")
            ctx.write(caller, nevents_ptr, struct.pack("<I", len(events)), "poll_oneoff")
        except HostTrap:
            return 21
        return 0
    return wasi_poll_oneoff
