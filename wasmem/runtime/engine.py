"""The engine: wasmtime's configuration (features, fuel, epoch interruption, the compile cache), refusing
what wasmtime cannot run before any slow work, and compiling. Engine errors become one line."""

from __future__ import annotations

import os
import re
import tempfile
import threading

import wasmtime

from ..errors import RunError
from ..parser.features import LEGACY_EH_REMEDY, LegacyEH, scan_legacy_eh

# wasmtime's words for legacy exception handling: the validator's and the compiler's
LEGACY_EH_ERROR = re.compile(r"legacy_exceptions feature required|legacy exception handling proposal|"
                             r"legacy-exceptions not supported")
FEATURES = ("wasm_multi_memory", "wasm_memory64", "wasm_threads", "wasm_bulk_memory", "wasm_reference_types",
            "wasm_simd", "wasm_multi_value", "wasm_tail_call", "shared_memory")


def make_engine(*, fuel: bool, cache: bool) -> tuple[wasmtime.Engine, str | None]:
    """(an engine with every feature wasmem's modules use, epoch interruption, fuel when asked; the compile
    cache's directory or None when caching is off or could not be enabled)."""
    cfg = wasmtime.Config()
    cfg.epoch_interruption = True
    if fuel:
        cfg.consume_fuel = True
    for feat in FEATURES:
        try:
            setattr(cfg, feat, True)
        except Exception:  # noqa: BLE001 - a feature this wasmtime build lacks
            pass
    location = configure_cache(cfg) if cache else None
    return wasmtime.Engine(cfg), location


def refuse_unrunnable(engine: wasmtime.Engine, module, name: str, function_name) -> None:
    """Refuses, before any compile work, a module that wasmtime would reject only after compiling for
    a long time: legacy exception handling (see ``wasmem.parser.features``). When the byte scan was not
    complete, wasmtime's validator (Rust, parallel: 0.3 s on a 35 MB module) decides."""
    scan = scan_legacy_eh(module)
    if scan.hit is not None:
        raise RunError(legacy_eh_message(name, function_name, scan.hit))
    if scan.complete:
        return
    try:
        wasmtime.Module.validate(engine, bytes(module.data))
    except wasmtime.WasmtimeError as exc:
        if LEGACY_EH_ERROR.search(str(exc)):
            raise RunError(legacy_eh_message(name, function_name, None, str(exc))) from None
        raise RunError(f"wasmtime cannot compile {name}: {first_line(exc)}") from None


def legacy_eh_message(name: str, function_name, hit: LegacyEH | None, engine_text: str = "") -> str:
    if hit is not None:
        where = f" (`{hit.op}` at {hit.offset:#x} in {function_name(hit.func_index)})"
    else:
        m = re.search(r"offset (0x[0-9a-fA-F]+|\d+)", engine_text)
        where = f" (at offset {int(m.group(1), 0):#x})" if m else ""
    return (f"{name} uses legacy exception handling{where}, which wasmtime cannot run (browsers and "
            f"Node can): {LEGACY_EH_REMEDY}")


def compile_module(engine: wasmtime.Engine, raw: bytes, name: str, function_name, deadline=None,
                   compile=None) -> wasmtime.Module:
    """``compile(engine, raw)`` (wasmtime's compile: one C call that no epoch stops). With a ``deadline``
    (wasmem.deadline.Deadline) that limits it, the compile runs in a worker thread the deadline can abandon:
    past it, TimedOut (``abandoned``: the compile goes on in the background and its result is dropped).
    ``compile`` defaults to ``wasmtime.Module`` (looked up at each call)."""
    compile = compile or wasmtime.Module
    if deadline is None or not deadline.limited:
        return _compiled(lambda: compile(engine, raw), name, function_name)
    if deadline.expired():
        raise _compile_timeout(deadline, name, abandoned=False)
    box: list = []

    def work() -> None:
        try:
            box.append((True, compile(engine, raw)))
        except BaseException as exc:  # noqa: BLE001 - handed to the waiting thread
            box.append((False, exc))

    worker = threading.Thread(target=work, name="wasmem-compile", daemon=True)
    worker.start()
    while worker.is_alive():
        left = deadline.left()
        if not left:
            break
        worker.join(left)
    if not box:
        raise _compile_timeout(deadline, name, abandoned=True)
    ok, value = box[0]
    return _compiled(lambda: value if ok else _reraise(value), name, function_name)


def _reraise(exc: BaseException):
    raise exc


def _compile_timeout(deadline, name: str, *, abandoned: bool):
    from ..deadline import TimedOut

    what = ("the compile was abandoned (it finishes in the background, unused)" if abandoned else
            "the compile did not start")
    return TimedOut(f"timed out after {deadline.seconds:g} s (--timeout) before {name} was compiled: {what}; run "
                    f"with a longer --timeout (0 = no limit)", abandoned=abandoned)


def _compiled(make, name: str, function_name) -> wasmtime.Module:
    try:
        return make()
    except wasmtime.WasmtimeError as exc:
        if LEGACY_EH_ERROR.search(str(exc)):  # a legacy `try` the byte scan could not see
            raise RunError(legacy_eh_message(name, function_name, None, str(exc))) from None
        raise RunError(f"wasmtime cannot compile {name}: {first_line(exc)}") from None


def first_line(exc: Exception) -> str:
    msg = str(exc).strip()
    lines = [ln.strip() for ln in msg.splitlines() if ln.strip()]
    if not lines:
        return type(exc).__name__
    # wasmtime puts the cause under "Caused by:"; show both when present
    if "Caused by:" in lines:
        i = lines.index("Caused by:")
        causes = [ln.lstrip("0123456789: ") for ln in lines[i + 1:]]
        return f"{lines[0]}: {'; '.join(causes)}" if causes else lines[0]
    return lines[0]



def configure_cache(cfg: wasmtime.Config) -> str | None:
    """Enables wasmtime's compile cache. ``WASMEM_CACHE_DIR`` overrides wasmtime's default location
    (``~/.cache/wasmtime`` on Linux) through a generated cache config file. Returns the directory used
    or None when caching could not be enabled."""
    d = os.environ.get("WASMEM_CACHE_DIR")
    try:
        if d:
            os.makedirs(d, exist_ok=True)
            # not inside the cache directory: wasmtime's cache cleaner deletes files it does not know. A
            # fresh file of our own (mkstemp: O_EXCL, mode 0600, never through a planted symlink), read by
            # wasmtime when it is set, then removed
            esc = os.path.abspath(d).replace("\\", "\\\\").replace('"', '\\"')
            fd, toml = tempfile.mkstemp(prefix="wasmem-cache-", suffix=".toml")
            try:
                with os.fdopen(fd, "w") as f:
                    f.write(f'[cache]\ndirectory = "{esc}"\n')
                cfg.cache = toml
            finally:
                os.unlink(toml)
            return os.path.abspath(d)
        cfg.cache = True
        base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
        return os.path.join(base, "wasmtime")
    except Exception:  # noqa: BLE001 - caching is an optimisation only
        return None
