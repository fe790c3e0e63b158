"""wasm-bindgen (Rust ``wasm32-unknown-unknown`` with ``#[wasm_bindgen]``): the ``__wbindgen_*`` and
``__wbg_*`` imports its generated JS provides.

Detected by imports from ``__wbindgen_placeholder__`` (rustc output before the wasm-bindgen CLI ran) or
named ``__wbindgen_*``/``__wbg_*`` (after it: from module ``./NAME_bg.js`` or ``wbg``), by the exports
``__wbindgen_malloc``/``__wbindgen_start``/``__wbindgen_export_*``, or by ``wasm-bindgen`` in the
producers section.

- ``__wbindgen_throw(ptr, len)``: a trap ``throw`` whose message is the UTF-8 string (the JS
  ``throw new Error(getStringFromWasm0(ptr, len))``); ``__wbindgen_rethrow`` a trap ``throw``.
- ``__wbindgen_error_new``/``__wbindgen_string_new(ptr, len)``: the string decoded into the call record;
  an i32 result is a fresh JS-heap index (from 132, as the JS heap starts), an externref result null.
- ``__wbindgen_init_externref_table``: grows the exported externref table by 4 (the JS reserves slots
  for undefined, null, true, false).
- every other ``__wbindgen_*``/``__wbg_*`` import (JS glue: console, DOM, closures): a recorded stub
  returning zeros. There is no JS: a program that needs a JS value gets 0/null.

``__wbindgen_start`` (exported for a ``#[wasm_bindgen(start)]`` function and to set up the externref
table) runs once when the module is opened, as the JS glue calls it right after instantiating.

Arguments in memory, as the JS glue passes them: a ``&str``/``String`` or slice argument belongs to the
Rust side once passed (wasm-bindgen's ``RefFromWasmAbi for str`` anchors it in a ``Box<str>`` that the
callee drops), so the glue never frees it, and neither does wasmem (``callee_owns_args``: freeing it
after the call too was a double free that corrupted the module's heap). ``s:`` strings are placed the way
``passStringToWasm0`` places them: ``__wbindgen_malloc(n, 1)`` for the n UTF-16 units, the ASCII prefix
written, and for the rest ``__wbindgen_realloc(ptr, n, prefix + 3 × rest, 1)``, the UTF-8 bytes (lone
surrogates as U+FFFD, as ``TextEncoder`` writes them) and ``__wbindgen_realloc`` again down to the bytes
written, which is the length passed.
"""

from __future__ import annotations

import re

import wasmtime

from ...parser.producers import parse_producers
from .base import HostCall, HostContext, HostTrap, Profile, StringArg, refuse_if_strict, stub_for

PLACEHOLDER_MODULES = ("__wbindgen_placeholder__", "__wbindgen_externref_xform__")
EXPORTS = ("__wbindgen_malloc", "__wbindgen_start", "__wbindgen_free", "__wbindgen_realloc",
           "__wbindgen_add_to_stack_pointer", "__wbindgen_exn_store", "__wbindgen_export_0")
_LONE_SURROGATE = re.compile("[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]")
HEAP_START = 132  # the JS heap: 128 reserved slots, then undefined, null, true, false


def _is_wb_name(name: str) -> bool:
    return name.startswith(("__wbindgen_", "__wbg_"))


class WasmBindgen(Profile):
    name = "wasm-bindgen"
    summary = ("wasm-bindgen's JS glue: __wbindgen_throw as a trap with its message, strings decoded, the "
               "externref table set up; other __wbindgen_*/__wbg_* imports are recorded stubs (no JS)")
    wasi = True
    init_exports = ("__wbindgen_start",)  # the JS glue's __wbg_finalize_init calls it once

    string_pair = True
    callee_owns_args = True

    def takes_string(self, guest) -> bool:
        e = guest.module.find_export("__wbindgen_malloc")
        return e is not None and e.kind == "func"

    def encode_string(self, guest, text: str) -> StringArg:
        text = _LONE_SURROGATE.sub("\ufffd", text)  # what TextEncoder writes for them
        e = guest.module.find_export("__wbindgen_realloc")
        if e is None or e.kind != "func":  # the glue's branch without realloc: the UTF-8 bytes at once
            data = text.encode("utf-8")
            ptr = guest.allocate("__wbindgen_malloc", len(data), 1)
            guest.write(ptr, data)
            return StringArg(ptr, len(data), len(data), "__wbindgen_malloc")
        n = len(text.encode("utf-16-le", "surrogatepass")) // 2  # JS's arg.length
        ptr = guest.allocate("__wbindgen_malloc", n, 1)
        offset = next((i for i, ch in enumerate(text) if ord(ch) > 127), len(text))
        guest.write(ptr, text[:offset].encode("ascii"))
        if offset == len(text):
            return StringArg(ptr, offset, offset, "__wbindgen_malloc")
        rest = text[offset:]
        new = offset + len(rest.encode("utf-16-le", "surrogatepass")) // 2 * 3
        nparams = len(guest.module.get_function_type(e.index).params)

        def realloc(ptr: int, old: int, size: int) -> int:
            args = [ptr, old, size, 1][:nparams]
            out = guest.invoke("__wbindgen_realloc", args)
            if not isinstance(out, list) or not out or not out[0]:
                from ...errors import RunError

                raise RunError(f"__wbindgen_realloc({', '.join(map(str, args))}) failed while passing a string: "
                               f"{getattr(out, 'message', out)}")
            return out[0] & 0xFFFFFFFF

        ptr = realloc(ptr, n, new)
        data = rest.encode("utf-8")
        guest.write(ptr + offset, data)
        ptr = realloc(ptr, new, offset + len(data))  # shrunk to the bytes written, as the current glue does
        return StringArg(ptr, offset + len(data), offset + len(data), "__wbindgen_malloc+__wbindgen_realloc")

    def detect(self, module) -> str | None:
        imps = [f"{i.module}.{i.name}" for i in module.imports if i.kind == "func"
                and (i.module in PLACEHOLDER_MODULES or _is_wb_name(i.name))]
        if imps:
            return f"imports {', '.join(imps[:3])}" + (f" (+{len(imps) - 3} more)" if len(imps) > 3 else "")
        exps = [n for n in EXPORTS if module.find_export(n) is not None]
        if exps:
            return f"exports {', '.join(exps[:3])}"
        try:
            tools = [name for name, _ in parse_producers(module).get("processed-by", [])]
        except Exception:  # noqa: BLE001 - a damaged producers section says nothing
            tools = []
        if "wasm-bindgen" in tools:
            return "the producers section names wasm-bindgen"
        return None

    def function(self, ctx: HostContext, module: str, name: str, params: tuple, results: tuple):
        if not (_is_wb_name(name) or module in PLACEHOLDER_MODULES):
            return None
        state = ctx.state

        def text(caller, ptr, n):
            return ctx.read(caller, ptr & 0xFFFFFFFF, n & 0xFFFFFFFF, name).decode("utf-8", "replace")

        if name == "__wbindgen_throw" and len(params) == 2:
            def throw(caller, ptr, n):
                msg = text(caller, ptr, n)
                state.record(HostCall(module, name, (ptr, n), None, self.name, msg))
                raise HostTrap("throw", msg)
            return throw

        if name == "__wbindgen_rethrow":
            def rethrow(caller, *args):
                state.record(HostCall(module, name, args, None, self.name))
                raise HostTrap("throw", "a JS exception was rethrown (__wbindgen_rethrow)")
            return rethrow

        if name in ("__wbindgen_error_new", "__wbindgen_string_new") and len(params) == 2 and len(results) == 1:
            def new_object(caller, ptr, n):
                refuse_if_strict(state, module, name, (ptr, n), "only a stub in the wasm-bindgen host profile")
                msg = text(caller, ptr, n)
                r = None
                if results[0] == "i32":
                    r = ctx.data.get("heap_next", HEAP_START)
                    ctx.data["heap_next"] = r + 1
                state.record(HostCall(module, name, (ptr, n), r, self.name, msg, stub=True))
                return r
            return new_object

        if name == "__wbindgen_init_externref_table" and not params:
            def init_table(caller):
                grown = None
                for e in (ctx.module.exports if ctx.module is not None else []):
                    t = ctx.export(caller, e.name) if e.kind == "table" else None
                    if isinstance(t, wasmtime.Table) and t.type(caller).element == wasmtime.ValType.externref():
                        grown = t.grow(caller, 4, None)
                        break
                state.record(HostCall(module, name, (), None, self.name,
                                      None if grown is None else f"externref table grown by 4 at {grown}"))
                return None
            return init_table

        return stub_for(ctx, module, name, results, self.name)
