"""AssemblyScript: the ``env`` imports of ``asc`` output, as its generated ESM bindings provide them.

Detected by the import ``env.abort`` of type ``(i32, i32, i32, i32) -> ()`` (AssemblyScript's
``abort(message, fileName, line, column)``), or by the runtime exports ``__new`` and ``__pin``
(``--exportRuntime``), or by ``~lib/`` function names in the name section.

AssemblyScript strings are UTF-16LE; the u32 at ``ptr - 4`` (``rtSize`` in the object header) is the
length in bytes.

- ``env.abort(msg, file, line, col)``: a trap ``abort`` with the bindings' message
  ``MESSAGE in FILE:LINE:COLUMN`` (a null string reads ``null``).
- ``env.trace(msg, n, a0…a4)``: the bindings' ``console.log(message, ...args.slice(0, n))`` line to
  stdout (numbers as JavaScript writes them); the decoded line is in the call record.
- ``env.seed()``: a float from the clock and a random number, as the bindings' ``Date.now() *
  Math.random()``.
- ``s:TEXT`` arguments: when the module exports ``__new``, a String object is allocated with
  ``__new(byteLength, 2)`` (class id 2 = String), filled with UTF-16LE and passed as ONE pointer (an
  AssemblyScript function takes a string as a single reference); it is pinned with ``__pin`` during the
  call and unpinned after it when the module exports them.
"""

from __future__ import annotations

import os
import random
import re
import struct
import time

from .base import HostCall, HostContext, HostTrap, Profile, StringArg, js_number

STRING_ID = 2  # class id of ~lib/string/String


def as_string(ctx: HostContext, caller, ptr: int, what: str) -> str | None:
    """The AssemblyScript string at ``ptr`` (None for a null pointer)."""
    ptr &= 0xFFFFFFFF
    if not ptr:
        return None
    n = ctx.u32(caller, ptr - 4, what)
    return ctx.read(caller, ptr, min(n, 1 << 20) & ~1, what).decode("utf-16-le", "replace")


def _js(text: str | None) -> str:
    return "null" if text is None else text  # a null string in a JS template literal


def _abort_import(module):
    for i in module.imports:
        if i.kind == "func" and i.module == "env" and i.name == "abort":
            ft = module.get_func_type(i.type)
            if ft.params == ("i32",) * 4 and not ft.results:
                return i
    return None


class AssemblyScript(Profile):
    name = "assemblyscript"
    summary = ("AssemblyScript's bindings: env.abort as a trap with its decoded UTF-16 message, env.trace to "
               "stdout, env.seed; s: arguments become String objects made with __new(size, 2)")
    wasi = True

    def detect(self, module) -> str | None:
        why = []
        if _abort_import(module) is not None:
            why.append("imports env.abort(i32, i32, i32, i32) (AssemblyScript's abort(message, file, line, column))")
        runtime = [n for n in ("__new", "__pin") if module.find_export(n) is not None]
        if len(runtime) == 2:
            why.append("exports the runtime __new, __pin")
        if not why and _may_have_lib_names(module) and any(n.startswith("~lib/")
                                                           for n in module.names.functions.values()):
            why.append("has ~lib/ function names")
        return "; ".join(why) or None

    def function(self, ctx: HostContext, module: str, name: str, params: tuple, results: tuple):
        if module != "env":
            return None
        state = ctx.state

        if name == "abort" and params == ("i32",) * 4:
            def abort(caller, msg, file, line, col):
                m = as_string(ctx, caller, msg, "env.abort")
                f = as_string(ctx, caller, file, "env.abort")
                text = f"{_js(m)} in {_js(f)}:{line & 0xFFFFFFFF}:{col & 0xFFFFFFFF}"
                state.record(HostCall(module, name, (msg, file, line, col), None, self.name, text))
                raise HostTrap("abort", text)
            return abort

        if name == "trace" and params[:2] == ("i32", "i32") and not results:
            def trace(caller, msg, n, *values):
                m = as_string(ctx, caller, msg, "env.trace")
                line = " ".join([_js(m)] + [js_number(v) for v in values[:max(0, n)]])
                state.out(1, (line + "\n").encode("utf-8"))
                state.record(HostCall(module, name, (msg, n, *values), None, self.name, line))
                return None
            return trace

        if name == "seed" and not params and results == ("f64",):
            rng = random.Random(os.urandom(16))

            def seed(caller):
                v = time.time() * 1000.0 * rng.random()
                state.record(HostCall(module, name, (), v, self.name))
                return v
            return seed
        return None

    def takes_string(self, guest) -> bool:
        e = guest.module.find_export("__new")
        return e is not None and e.kind == "func"

    def encode_string(self, guest, text: str) -> StringArg:
        data = text.encode("utf-16-le", "surrogatepass")  # WTF-16, as JS strings: lone surrogates pass
        out = guest.invoke("__new", [len(data), STRING_ID])
        if not isinstance(out, list) or not out:
            from ...errors import RunError

            raise RunError(f"__new({len(data)}, {STRING_ID}) failed while passing a string: "
                           f"{getattr(out, 'message', out)}")
        ptr = out[0] & 0xFFFFFFFF
        guest.write(ptr, data)
        free = None
        if guest.module.find_export("__pin") is not None and guest.module.find_export("__unpin") is not None:
            guest.invoke("__pin", [struct.unpack("<i", struct.pack("<I", ptr))[0]])
            free = "__unpin"
        return StringArg(ptr, None, len(data), "__new", free)


_LIB = re.compile(rb"~lib/")


def _may_have_lib_names(module) -> bool:
    """Whether the name section holds the bytes ``~lib/`` at all: a search in C over its payload, so that a
    module of another toolchain (yosys: 8% of a warm call) is not made to parse every function name."""
    sec = module.get_custom_section("name")
    return sec is not None and _LIB.search(module.data, sec.start, sec.end) is not None
