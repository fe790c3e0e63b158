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


def make_config(argv0: str, *, args=(), env=(), dirs=(), stdin: str | None = None,
                stdout: str | None = None, stderr: str | None = None) -> wasmtime.WasiConfig:
    """A sandboxed WasiConfig: argv ``[argv0, *args]``, only the given ``env`` (``K=V`` or pairs) and
    ``dirs`` (``HOST[:GUEST]`` or pairs), stdin from ``stdin`` (else empty), output to the given files
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
        host, guest = d if isinstance(d, tuple) else ((d.split(":", 1) + [None])[:2])
        guest = guest or host
        if not os.path.isdir(host):
            raise UsageError(f"--dir {host}: not a directory")
        wc.preopen_dir(host, guest)
    if stdin is not None:
        if not os.path.isfile(stdin):
            raise UsageError(f"--stdin {stdin}: no such file")
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
