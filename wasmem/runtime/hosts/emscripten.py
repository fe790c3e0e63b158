"""Emscripten's JavaScript runtime (the ``env`` imports of ``emcc`` output), as far as a module needs it
without a browser: memory growth, copies, aborts and assertions with their messages, clocks, console
output, C++ exceptions and setjmp/longjmp through ``invoke_*`` trampolines.

Detected by ``env`` imports with Emscripten's names (``emscripten_*``, ``_emscripten_*``, ``invoke_*``,
``__syscall_*``, ``__assert_fail``, ``__cxa_throw``, ``_abort_js`` …) or exports only Emscripten makes
(``emscripten_stack_get_end``, ``_emscripten_stack_restore``, ``stackSave``, ``dynCall_*``). A minified
build (``-O2``+ with closure or ``--minify``: imports from module ``a`` named ``a``, ``b``, ``c`` …) is
recognised by that shape alone; its import names carry no meaning, so its functions are stubs.

What each import does (as ``src/lib/libcore.js`` and ``libexceptions.js`` do it):

- ``emscripten_resize_heap(size)``: grows memory 0 like the JS (at least to ``size``, overgrowing by 20 %
  capped at +96 MiB, page aligned, never past the declared maximum or 4 GiB − 64 KiB); 1 on success.
- Before the constructors, as the JS's ``stackCheckInit``/``initRuntime``: ``emscripten_stack_init()`` when
  exported, then ``__set_stack_limits(base, end)`` for a build with binaryen's stack checks
  (``STACK_OVERFLOW_CHECK=2``); its ``__handle_stack_overflow(sp)`` is a trap ``abort`` with the JS's message
  (``stack overflow (Attempt to set SP to 0x…, with stack limits [END - BASE])…``).
- ``emscripten_memcpy_big``/``_emscripten_memcpy_js(dest, src, n)``: a copy within memory.
- ``__assert_fail(cond, file, line, func)``: a trap ``abort`` with Emscripten's message
  ``Assertion failed: COND, at: FILE,LINE,FUNC``; ``abort``/``_abort_js`` a trap ``abort``.
- ``emscripten_date_now`` (ms since the epoch), ``emscripten_get_now`` (ms since the session started,
  monotonic), ``emscripten_get_heap_max``, ``_emscripten_get_now_is_monotonic`` (1).
- ``emscripten_console_log/warn/error``, ``_emscripten_out/_err``: the decoded line to stdout/stderr;
  ``fd_write`` imported from ``env`` (older builds) writes to stdout/stderr; ``exit(status)`` ends the
  run as an exit.
- ``invoke_SIG(index, args…)``: calls table entry ``index`` of the module's exported function table
  (else of its imported one, which the session lists in ``ctx.data["tables"]``) with the arguments. A C++ exception or a longjmp raised by this host inside it (``__cxa_throw``,
  ``__resumeException``, ``_emscripten_throw_longjmp``, ``emscripten_longjmp``) is caught as the JS
  does: the stack pointer restored, ``setThrew(1, 0)`` called (rethrown when the module exports no
  ``setThrew``), zeros returned. A wasm trap is rethrown after restoring the stack pointer.
- ``__cxa_throw``, ``__cxa_find_matching_catch_N``, ``__cxa_begin_catch``, ``__cxa_end_catch``,
  ``__cxa_rethrow``, ``__resumeException``, ``__cxa_uncaught_exceptions``, ``setTempRet0``/``getTempRet0``:
  the JS exception-handling emulation (the ``__cxa_exception`` header is 24 bytes before the thrown
  object: type +4, destructor +8, caught +12, rethrown +13, adjusted pointer +16). An exception nothing
  catches ends the call as a trap ``uncaught_exception``.
- ``__syscall_*``, ``_mmap_js``, ``_munmap_js``: −52 (ENOSYS: there is no file system), recorded.
- WASI imports whose i64 parameters were split into two i32s (a build without ``WASM_BIGINT``, e.g.
  ``fd_seek(fd, lo, hi, whence, newoffset)``), which wasmtime's WASI cannot link: ``fd_seek`` returns
  ESPIPE (70) as the JS does without a file system, ``clock_time_get`` reads the clock; the others
  return ENOSYS (52), recorded. The rest of WASI is wasmtime's.
- every other ``emscripten_*``/``_emscripten_*``/``_*_js``/``_embind_*``/``_emval_*`` import: a
  recorded stub returning zeros.
"""

from __future__ import annotations

import math
import re
import time

import wasmtime

from .base import ABORT_NAMES, HostCall, HostContext, HostTrap, Profile, stub_for, zeros
from .wasi import WASI_MODULE

PAGE = 65536
ENOSYS = 52
ESPIPE = 70
EINVAL = 28
EM_PREFIXES = ("emscripten_", "_emscripten_", "invoke_", "__syscall_", "_embind_", "_emval_", "__cxa_",
               "_dlopen_js", "_dlsym_js")
EM_NAMES = {"__assert_fail", "___assert_fail", "_abort_js", "__resumeException", "setTempRet0", "getTempRet0",
            "_tzset_js", "_localtime_js", "_gmtime_js", "_mktime_js", "_timegm_js", "_mmap_js", "_munmap_js",
            "_setitimer_js"}
EM_EXPORTS = ("emscripten_stack_get_end", "emscripten_stack_get_base", "emscripten_stack_get_current",
              "_emscripten_stack_restore", "_emscripten_stack_alloc", "stackSave", "stackRestore", "stackAlloc",
              "_emscripten_tempret_set", "emscripten_stack_init")
STACK_LIMITS = ("emscripten_stack_get_base", "emscripten_stack_get_end")  # the exports that give them
MEMCPY_NAMES = {"emscripten_memcpy_big", "_emscripten_memcpy_big", "_emscripten_memcpy_js", "emscripten_memcpy_js"}
RESIZE_NAMES = {"emscripten_resize_heap", "_emscripten_resize_heap"}
ASSERT_NAMES = {"__assert_fail", "___assert_fail"}
CONSOLE = {"emscripten_console_log": 1, "emscripten_console_warn": 2, "emscripten_console_error": 2,
           "_emscripten_out": 1, "_emscripten_err": 2, "emscripten_out": 1, "emscripten_err": 2}
ENOSYS_NAMES = {"_mmap_js", "_munmap_js"}
EXC_SIZE, EXC_TYPE, EXC_DTOR, EXC_CAUGHT, EXC_RETHROWN, EXC_ADJUSTED = 24, 4, 8, 12, 13, 16
OVERGROW_CAP = 96 * 2**20
MINIFIED = re.compile(r"^[A-Za-z_$][A-Za-z0-9_$]?$")


class EmscriptenEH(HostTrap):
    """A C++ exception or a longjmp raised by this host: what ``invoke_*`` catches (JS's EmscriptenEH)."""


def _is_em_name(name: str) -> bool:
    return name.startswith(EM_PREFIXES) or name in EM_NAMES


def minified_imports(module) -> list:
    """The function imports of a minified Emscripten build (module ``a``, one- or two-letter names)."""
    funcs = [i for i in module.imports if i.kind == "func"]
    if not funcs or any(i.module != "a" or not MINIFIED.match(i.name) for i in funcs):
        return []
    return funcs


def _list(names: list[str], limit: int = 2) -> str:
    return ", ".join(names[:limit]) + (f" (+{len(names) - limit} more)" if len(names) > limit else "")


def heap_max(module) -> int:
    """JS getHeapMax(): the declared maximum of memory 0, at most 4 GiB − 64 KiB (memory32)."""
    cap = 2**32 - PAGE
    if module is not None and module.memories:
        t = module.memories[0].type
        if t.is64:
            cap = 2**48
        if t.max_pages is not None:
            cap = min(cap, t.max_pages * PAGE)
    return cap


class Emscripten(Profile):
    name = "emscripten"
    summary = ("Emscripten's JS runtime: heap growth, memcpy, abort and __assert_fail with their messages, "
               "clocks, console output, invoke_* trampolines and C++ exceptions/longjmp; other "
               "emscripten_* imports are recorded stubs")
    wasi = True
    # the JS runtime's stackCheckInit(): the stack's limits (``__stack_base``/``__stack_end``) set before
    # anything runs; the constructors run after it (``__wasm_call_ctors``)
    init_exports = ("emscripten_stack_init",)
    init_replaces_ctors = False

    def start_runtime(self, guest) -> list[tuple[str, list]]:
        """initRuntime()'s setStackLimits(): a build with binaryen's stack checks (``STACK_OVERFLOW_CHECK=2``,
        which imports ``__handle_stack_overflow``) is given the stack's limits through ``__set_stack_limits``
        before its constructors; without them every function's prologue would call the overflow handler."""
        m = guest.module
        need = ("__set_stack_limits", *STACK_LIMITS)
        if any((e := m.find_export(n)) is None or e.kind != "func" for n in need):
            return []
        params = m.get_function_type(m.find_export("__set_stack_limits").index).params
        if len(params) != 2:
            return []
        limits = []
        for n in need[1:]:
            got = guest.invoke(n, [])
            if not isinstance(got, list) or len(got) != 1:
                return []
            limits.append(got[0])
        guest.invoke("__set_stack_limits", limits)
        return [("__set_stack_limits", limits)]

    def detect(self, module) -> str | None:
        names = [f"{i.module}.{i.name}" for i in module.imports if i.kind == "func" and _is_em_name(i.name)]
        if names:
            return f"imports {_list(names)}"
        exports = [n for n in EM_EXPORTS if module.find_export(n) is not None]
        exports += [e.name for e in module.exports if e.kind == "func" and e.name.startswith("dynCall_")][:1]
        if exports:
            return f"exports {_list(exports)}"
        mini = minified_imports(module)
        if mini:
            return (f"minified Emscripten output ({len(mini)} imports from module `a` named "
                    f"{_list([i.name for i in mini])}): the names carry no meaning, so these imports are stubs")
        return None

    def function(self, ctx: HostContext, module: str, name: str, params: tuple, results: tuple):
        state = ctx.state
        ctx.data.setdefault("t0", time.perf_counter())

        def record(args, result=None, message=None, stub=False):
            state.record(HostCall(module, name, tuple(args), result, self.name, message, stub))

        if module == WASI_MODULE:  # only the imports wasmtime cannot link: i64 parameters split in two
            return _legalized_wasi(ctx, name, params, results, record)

        if name in RESIZE_NAMES and len(params) == 1:
            def resize(caller, requested):
                requested &= 2**64 - 1 if params[0] == "i64" else 0xFFFFFFFF  # as the JS: requestedSize >>>= 0
                ok = _resize_heap(ctx, caller, requested)
                record((requested,), ok)
                return ok if results else None
            return resize

        if name in MEMCPY_NAMES and len(params) == 3:
            def memcpy(caller, dest, src, n):
                mask = 0xFFFFFFFF if params[0] == "i32" else 2**64 - 1
                dest, src, n = dest & mask, src & mask, n & mask
                ctx.write(caller, dest, ctx.read(caller, src, n, name), name)
                record((dest, src, n), dest if results else None)
                return dest if results else None
            return memcpy

        if name in ASSERT_NAMES and len(params) == 4:
            def assert_fail(caller, cond, file, line, func):
                c = ctx.cstring(caller, cond, name)
                f = ctx.cstring(caller, file, name) if file else "unknown filename"
                fn = ctx.cstring(caller, func, name) if func else "unknown function"
                msg = f"Assertion failed: {c}, at: {f},{line},{fn}"
                record((cond, file, line, func), None, msg)
                raise HostTrap("abort", msg)
            return assert_fail

        if name == "emscripten_date_now" and results == ("f64",):
            def date_now(caller):
                v = time.time() * 1000.0
                record((), v)
                return v
            return date_now

        if name == "emscripten_get_now" and results == ("f64",):
            def get_now(caller):
                v = (time.perf_counter() - ctx.data["t0"]) * 1000.0
                record((), v)
                return v
            return get_now

        if name == "_emscripten_get_now_is_monotonic":
            return stub_for(ctx, module, name, results, self.name, 1 if results else None)

        if name == "emscripten_get_heap_max" and len(results) == 1:
            return stub_for(ctx, module, name, results, self.name, heap_max(ctx.module))

        if name in CONSOLE and len(params) == 1:
            fd = CONSOLE[name]

            def console(caller, ptr):
                text = ctx.cstring(caller, ptr, name)
                state.out(fd, (text + "\n").encode("utf-8"))
                record((ptr,), None, text)
                return zeros(results)
            return console

        if name == "fd_write" and params == ("i32", "i32", "i32", "i32"):
            def fd_write(caller, fd, iov, iovcnt, pnum):
                total = 0
                for k in range(iovcnt):
                    base = ctx.u32(caller, iov + 8 * k, name)
                    n = ctx.u32(caller, iov + 8 * k + 4, name)
                    state.out(fd, ctx.read(caller, base, n, name))
                    total += n
                ctx.write(caller, pnum, total.to_bytes(4, "little"), name)
                record((fd, iov, iovcnt, pnum), 0)
                return 0
            return fd_write

        if name == "__handle_stack_overflow" and len(params) == 1 and not results:
            def stack_overflow(caller, requested):  # library.js: abort() with the stack's limits
                record((requested,))
                base, end = (ctx.call_export(caller, n) for n in STACK_LIMITS)
                limits = (f", with stack limits [{end:#x} - {base:#x}]" if isinstance(base, int) and
                          isinstance(end, int) else "")
                raise HostTrap("abort", f"stack overflow (Attempt to set SP to {requested & 0xFFFFFFFF:#x}"
                                        f"{limits}). If you require more stack space build with "
                                        f"-sSTACK_SIZE=<bytes>")
            return stack_overflow

        if name in ("exit", "_exit") and len(params) == 1 and not results:
            def exit_(caller, status):
                record((status,))
                raise HostTrap("exit", f"the program exited with status {status}", exit_code=status)
            return exit_

        if name.startswith("invoke_") and params and params[0] == "i32":
            return _invoke(ctx, self.name, module, name, results)

        if name in ("setTempRet0", "getTempRet0"):
            def tempret(caller, *args):
                if args:
                    ctx.data["tempRet0"] = args[0]
                r = None if args else ctx.data.get("tempRet0", 0)
                record(args, r)
                return r
            return tempret

        eh = _exception_function(ctx, self.name, module, name, params, results, record)
        if eh is not None:
            return eh

        if name in ABORT_NAMES:
            return None  # the generic abort: a trap
        if name.startswith("__syscall_") or name in ENOSYS_NAMES:
            return stub_for(ctx, module, name, results, self.name,
                            -ENOSYS if results in (("i32",), ("i64",)) else None,
                            "no file system: returns -ENOSYS")

        if name in ("emscripten_notify_memory_growth", "_emscripten_notify_memory_growth") or _is_em_name(name) \
                or (name.startswith("_") and name.endswith("_js")):
            return stub_for(ctx, module, name, results, self.name)
        return None


def _legalized_wasi(ctx: HostContext, name: str, params: tuple, results: tuple, record):
    """WASI functions as Emscripten's JS provides them to a build without BigInt (libwasi.js): fd_seek is
    ESPIPE (no file system, or a terminal), clock_time_get reads the clock; the others, which need a file
    system, return ENOSYS."""
    if name == "fd_seek" and len(params) == 5:
        def fd_seek(caller, fd, lo, hi, whence, new_offset):
            record((fd, lo, hi, whence, new_offset), ESPIPE, "no file system to seek in: ESPIPE")
            return ESPIPE
        return fd_seek
    if name == "clock_time_get" and len(params) == 4:
        def clock_time_get(caller, clock, lo, hi, ptime):
            if not 0 <= clock <= 3:
                record((clock, lo, hi, ptime), EINVAL)
                return EINVAL
            ms = time.time() * 1000.0 if clock == 0 else (time.perf_counter() - ctx.data["t0"]) * 1000.0
            ctx.write(caller, ptime & 0xFFFFFFFF, round(ms * 1_000_000).to_bytes(8, "little"), name)
            record((clock, lo, hi, ptime), 0)
            return 0
        return clock_time_get
    return stub_for(ctx, WASI_MODULE, name, results, "emscripten", ENOSYS if results == ("i32",) else None,
                    "an i64 split in two needs Emscripten's JS file system: returns ENOSYS")


def _resize_heap(ctx: HostContext, caller, requested: int) -> int:
    """emscripten_resize_heap as libcore.js does it (geometric step 0.2, cap 96 MiB, three cut-downs)."""
    mem = ctx.memory_of(caller)
    if mem is None:
        return 0
    old = mem.size(caller)
    limit = heap_max(ctx.module)
    if requested > limit:
        return 0
    cut = 1
    while cut <= 4:
        over = min(old * (1 + 0.2 / cut), requested + OVERGROW_CAP)
        new = min(limit, math.ceil(max(requested, over) / PAGE) * PAGE)
        pages = (new - old + PAGE - 1) // PAGE
        try:
            if pages > 0:
                mem.grow(caller, pages)
            return 1
        except Exception:  # noqa: BLE001 - wasmtime refused (limit, max): try a smaller step
            cut *= 2
    return 0


# -- invoke_* and the exception-handling emulation ------------------------------------------------
def _table(ctx: HostContext, caller):
    names = ["__indirect_function_table"]
    if ctx.module is not None:
        names += [e.name for e in ctx.module.exports if e.kind == "table"]
    for n in names:
        t = ctx.export(caller, n)
        if isinstance(t, wasmtime.Table):
            return t
    tables = ctx.data.get("tables") or [None]  # imported ones (env.__indirect_function_table of a MAIN_MODULE)
    return tables[0]


def _stack_save(ctx: HostContext, caller):
    for n in ("emscripten_stack_get_current", "stackSave"):
        f = ctx.export(caller, n)
        if isinstance(f, wasmtime.Func):
            return f(caller)
    get = ctx.data.get("sp_get")
    return get() if get is not None else None


def _stack_restore(ctx: HostContext, caller, sp) -> None:
    if sp is None:
        return
    for n in ("_emscripten_stack_restore", "stackRestore"):
        f = ctx.export(caller, n)
        if isinstance(f, wasmtime.Func):
            f(caller, sp)
            return
    put = ctx.data.get("sp_set")
    if put is not None:
        put(sp)


def _set_threw(ctx: HostContext, caller, a: int, b: int) -> bool:
    f = ctx.export(caller, "setThrew")
    if not isinstance(f, wasmtime.Func):
        return False
    f(caller, a, b)
    return True


def _invoke(ctx: HostContext, profile: str, module: str, name: str, results: tuple):
    def invoke(caller, index, *args):
        table = _table(ctx, caller)
        ctx.state.record(HostCall(module, name, (index, *args), None, profile))
        if table is None:
            raise HostTrap("host_error", f"{name}({index}, …): the module exports no function table to call through")
        try:
            f = table.get(caller, index)
        except Exception:  # noqa: BLE001
            f = None
            if index < 0 or index >= table.size(caller):
                raise HostTrap("table_out_of_bounds", f"{name}: table index {index} is out of bounds "
                                                      f"(table size {table.size(caller)})") from None
        if not isinstance(f, wasmtime.Func):
            raise HostTrap("indirect_call_to_null", f"{name}: table entry {index} is null")
        sp = _stack_save(ctx, caller)
        try:
            r = f(caller, *args)
        except EmscriptenEH:
            _stack_restore(ctx, caller, sp)
            if not _set_threw(ctx, caller, 1, 0):
                raise
            return zeros(results)
        except wasmtime.WasmtimeError as exc:
            _stack_restore(ctx, caller, sp)
            if str(exc).startswith(("too few parameters", "too many parameters")):
                raise HostTrap("bad_signature", f"{name}: table entry {index} takes a different number of "
                                                f"arguments ({exc})") from None
            raise
        except BaseException:
            _stack_restore(ctx, caller, sp)
            raise
        return r if results else None
    return invoke


class _ExceptionInfo:
    """The ``__cxa_exception`` header in memory, 24 bytes before the thrown object."""

    def __init__(self, ctx: HostContext, caller, exc_ptr: int):
        self.ctx, self.caller, self.exc_ptr, self.ptr = ctx, caller, exc_ptr, exc_ptr - EXC_SIZE

    def get(self, off: int, n: int = 4) -> int:
        return int.from_bytes(self.ctx.read(self.caller, self.ptr + off, n, "__cxa_exception"), "little")

    def set(self, off: int, value: int, n: int = 4) -> None:
        self.ctx.write(self.caller, self.ptr + off, (value & (2 ** (8 * n) - 1)).to_bytes(n, "little"),
                       "__cxa_exception")


def _throw(what: str, ptr: int) -> EmscriptenEH:
    return EmscriptenEH("uncaught_exception", f"a C++ exception was thrown ({what}, object at {ptr:#x}) and "
                                              f"nothing caught it")


def _set_tempret(ctx: HostContext, caller, v: int) -> None:
    f = ctx.export(caller, "_emscripten_tempret_set")
    if isinstance(f, wasmtime.Func):
        f(caller, v)
    ctx.data["tempRet0"] = v


def _exception_function(ctx: HostContext, profile: str, module: str, name: str, params, results, record):
    data = ctx.data
    data.setdefault("caught", [])
    data.setdefault("uncaught", 0)

    if name in ("__cxa_throw", "___cxa_throw") and len(params) == 3:
        def cxa_throw(caller, ptr, type_, dtor):
            info = _ExceptionInfo(ctx, caller, ptr)
            info.set(EXC_ADJUSTED, 0)
            info.set(EXC_TYPE, type_)
            info.set(EXC_DTOR, dtor)
            ctx.call_export(caller, "__cxa_increment_exception_refcount", ptr)
            data["last"] = ptr
            data["uncaught"] += 1
            record((ptr, type_, dtor), None, f"throw: object {ptr:#x}, type info {type_:#x}")
            raise _throw(f"type info {type_:#x}", ptr)
        return cxa_throw

    if name.startswith("__cxa_find_matching_catch_"):
        def find_matching_catch(caller, *types):
            thrown = data.get("last")
            result = 0
            if thrown:
                info = _ExceptionInfo(ctx, caller, thrown)
                info.set(EXC_ADJUSTED, thrown)
                thrown_type = info.get(EXC_TYPE)
                chosen = thrown_type
                if thrown_type:
                    can = ctx.export(caller, "__cxa_can_catch")
                    for t in types:
                        if not t or t == thrown_type:
                            break
                        if isinstance(can, wasmtime.Func) and can(caller, t, thrown_type, info.ptr + EXC_ADJUSTED):
                            chosen = t
                            break
                _set_tempret(ctx, caller, chosen if thrown_type else 0)
                result = thrown
            else:
                _set_tempret(ctx, caller, 0)
            record(types, result)
            return result
        return find_matching_catch

    if name in ("__cxa_begin_catch", "___cxa_begin_catch") and len(params) == 1:
        def begin_catch(caller, ptr):
            info = _ExceptionInfo(ctx, caller, ptr)
            if not info.get(EXC_CAUGHT, 1):
                info.set(EXC_CAUGHT, 1, 1)
                data["uncaught"] -= 1
            info.set(EXC_RETHROWN, 0, 1)
            data["caught"].append(ptr)
            r = ctx.call_export(caller, "__cxa_get_exception_ptr", ptr)
            if r is None:
                r = info.get(EXC_ADJUSTED) or ptr
            record((ptr,), r)
            return r
        return begin_catch

    if name in ("__cxa_end_catch", "___cxa_end_catch") and not params:
        def end_catch(caller):
            _set_threw(ctx, caller, 0, 0)
            if data["caught"]:
                ptr = data["caught"].pop()
                ctx.call_export(caller, "__cxa_decrement_exception_refcount", ptr)
            data["last"] = None
            record(())
            return zeros(results)
        return end_catch

    if name in ("__cxa_rethrow", "___cxa_rethrow") and not params:
        def rethrow(caller):
            if not data["caught"]:
                record((), None, "no exception to rethrow")
                raise HostTrap("abort", "__cxa_rethrow with no exception being handled (terminate)")
            ptr = data["caught"][-1]
            info = _ExceptionInfo(ctx, caller, ptr)
            if not info.get(EXC_RETHROWN, 1):
                data["caught"].pop()
            info.set(EXC_RETHROWN, 1, 1)
            info.set(EXC_CAUGHT, 0, 1)
            data["uncaught"] += 1
            data["last"] = ptr
            record(())
            raise _throw("rethrown", ptr)
        return rethrow

    if name in ("__resumeException", "___resumeException") and len(params) == 1:
        def resume(caller, ptr):
            data["last"] = data.get("last") or ptr
            record((ptr,))
            raise _throw("resumed", ptr)
        return resume

    if name in ("__cxa_uncaught_exceptions", "___cxa_uncaught_exceptions") and len(results) == 1:
        def uncaught(caller):
            record((), data["uncaught"])
            return data["uncaught"]
        return uncaught

    if name == "_emscripten_throw_longjmp" and not params:
        def throw_longjmp(caller):
            record(())
            raise EmscriptenEH("longjmp", "longjmp with no setjmp to return to (no invoke_* caught it)")
        return throw_longjmp

    if name in ("emscripten_longjmp", "_emscripten_longjmp", "longjmp") and len(params) == 2:
        def longjmp(caller, env, value):
            _set_threw(ctx, caller, env, value or 1)
            record((env, value))
            raise EmscriptenEH("longjmp", f"longjmp({env:#x}, {value}) with no setjmp to return to")
        return longjmp
    return None
