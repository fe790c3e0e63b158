"""The call-path pass: a shadow stack of function indices, so that a watch hit knows its call path.

Every instrumented function, on entry, writes its own index at ``depth`` in an appended one-page memory
(multi-memory: appended after the module's memories, so no memory index moves; exported as
``__wasmem_callpath``) and increments the appended global ``depth`` (exported as
``__wasmem_callpath_depth``); the value ``depth`` had on entry is kept in a scratch local and put back on
every way out: ``return``, the tail calls (``return_call*``) and falling off the end. For the last one the
body is wrapped in a ``block`` of the function's result type, so that a branch to the function's own
label (``br N`` from the outermost nesting) reaches the restore too without renumbering any label.

The host resets ``depth`` to 0 before each call and reads ``memory[0 : 4 * depth]`` on a hit: the call
path, outermost first. Entries are stored modulo 16384 (a ring: deeper recursion keeps the innermost
16384), so the stores can never trap. A trap resets nothing (the host resets before the next call). An
exception that unwinds frames leaves ``depth`` too high until the function that caught it returns (then
its own saved value is restored): in between the path shows the unwound frames too.

A function whose result types this pass cannot name as a block type (a reference type that no type
index declares) is left out of the path. Cost: about ten instructions per call and three per exit.
"""

from __future__ import annotations

from ..parser.encode import sleb, uleb
from .rewriter import VALTYPE_CODES, Builder, Edit, FunctionContext, Pass

MEMORY_EXPORT = "__wasmem_callpath"
DEPTH_EXPORT = "__wasmem_callpath_depth"
RING = 16384  # entries in the one-page memory


class CallPathPass(Pass):
    ops = frozenset({0x0B, 0x0F, 0x12, 0x13, 0x15})

    def setup(self, b: Builder) -> None:
        self.memory = b.add_memory(1)
        self.depth = b.add_global("i32", b"\x41\x00")
        self.exports = {"memory": b.export(MEMORY_EXPORT, "memory", self.memory),
                        "depth": b.export(DEPTH_EXPORT, "global", self.depth)}
        self._b = b
        self._skip: set[int] = set()
        self.functions = 0

    def cache_key(self) -> tuple:
        return ()

    def saved_state(self):
        return {"skip": sorted(self._skip), "functions": self.functions}

    def restore_state(self, state) -> None:
        self._skip = {int(i) for i in state["skip"]}
        self.functions = int(state["functions"])

    def _blocktype(self, results: tuple[str, ...]) -> bytes | None:
        if not results:
            return b"\x40"
        if len(results) == 1 and results[0] in VALTYPE_CODES and results[0] != "funcref":
            return bytes([VALTYPE_CODES[results[0]]])
        if all(t in VALTYPE_CODES and t != "funcref" for t in results):
            return sleb(self._b.func_type((), results))  # a type index: an s33 (64 and up take two bytes)
        return None

    def enter(self, fn: FunctionContext) -> bytes:
        bt = self._blocktype(fn.results)
        if bt is None:
            self._skip.add(fn.index)
            return b""
        self.functions += 1
        saved = fn.scratch("i32", 90)  # a slot of its own: live for the whole body
        mem = self.memory
        # memarg with a memory index: align 2 with bit 6 set, then the memory index, then offset 0
        store = b"\x36" + bytes([0x40 | 2]) + uleb(mem) + b"\x00"
        return (b"\x23" + uleb(self.depth) + b"\x22" + uleb(saved)  # saved = depth
                + b"\x41" + uleb(RING - 1) + b"\x71\x41\x02\x74"  # (saved & (RING-1)) << 2
                + b"\x41" + _sleb32(fn.index) + store  # ... = func index
                + b"\x20" + uleb(saved) + b"\x41\x01\x6a\x24" + uleb(self.depth)  # depth = saved + 1
                + b"\x02" + bt)  # block: the body

    def _restore(self, fn: FunctionContext) -> bytes:
        return b"\x20" + uleb(fn.scratch("i32", 90)) + b"\x24" + uleb(self.depth)

    def visit(self, fn: FunctionContext, offset: int, op: int, imm) -> Edit | None:
        if fn.index in self._skip:
            return None
        if op == 0x0B:
            if offset != fn.body_end - 1:
                return None
            return Edit(b"\x0b" + self._restore(fn))  # close the wrapping block, restore, then the body's end
        return Edit(self._restore(fn))  # return, return_call*


def _sleb32(v: int) -> bytes:
    from ..parser.encode import sleb

    return sleb(v if v < 2**31 else v - 2**32)
