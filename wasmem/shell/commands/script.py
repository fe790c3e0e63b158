"""Scripts: assert and its operands."""

from __future__ import annotations

import math
import struct

from ...errors import UsageError
from ..registry import HEAP_VALUES, MAX_STR, SCALAR_READERS, AssertionFailed, Output, command
from ..words import Word, arithmetic, parse_hex, substitute_value


class ScriptCommands:
    @command("assert", "assert LHS OP RHS", "Stop a script (exit 1) unless the comparison holds.",
             'Operands: numbers and arithmetic, $N, "text", a symbol path (its typed value), '
             'bytes ADDR ("de ad be ef" on the other side gives the length), str ADDR, i8..u64/f32/f64 ADDR. '
             "OP: == != < <= > >=. Examples: assert $1 == 5; assert bytes 0x1000 == \"de ad be ef\"; "
             'assert str $1 == "HELLO"; assert config.version == 3.', ("address",))
    def cmd_assert(self, words):
        from ...render.shell import message

        ops = ("==", "!=", "<=", ">=", "<", ">")
        k = next((i for i, w in enumerate(words) if not w.quoted and w.text in ops), None)
        if k is None or k == 0 or k == len(words) - 1:
            raise UsageError("usage: assert LHS OP RHS (OP: == != < <= > >=)")
        op = words[k].text
        lhs_w, rhs_w = words[:k], words[k + 1:]
        rhs = self._operand(rhs_w, None)
        lhs = self._operand(lhs_w, rhs)
        if isinstance(lhs, (bytes, bytearray)) and isinstance(rhs, str):
            rhs = parse_hex(rhs)
        ok = compare(lhs, op, rhs)
        from ...render.shell import value_text

        text = " ".join(w.text if not w.quoted else f'"{w.text}"' for w in words)
        if not ok:
            raise AssertionFailed(f"assertion failed: {text} (left side is {value_text(lhs)})")
        self.print(message(f"ok: {text}", "green"))
        return Output()

    def _var(self, w: Word):
        """The kept value a lone ``$N``/``$_`` word names (any type: a string too), else None."""
        from ..words import VAR

        if w.quoted or not VAR.fullmatch(w.text):
            return None
        return substitute_value(w.text, self.values, self.last)

    def _operand(self, words: list[Word], other):
        if len(words) == 1 and words[0].quoted:
            return words[0].text
        if len(words) == 1 and self._var(words[0]) is not None:
            return self._var(words[0])
        head = words[0].text
        if head in ("watch.hits", "watch.total") and len(words) == 1:
            rec = self._recorder()
            if head == "watch.hits":
                return self.watch_last if rec is not None else 0
            return (len(rec.report.hits) + rec.report.dropped) if rec is not None else 0
        if head.startswith("heap.") and len(words) == 1:
            if head not in HEAP_VALUES:
                raise UsageError(f"{head}: use one of {', '.join(HEAP_VALUES)}")
            tr = self.session.heap_tracker
            if tr is None:
                raise UsageError(f"{head} needs heap tracking: start the shell with --heap, or run `heap` first "
                                 f"(it reopens the instance tracked)")
            tr.disarm()
            return {"heap.live": len(tr.live), "heap.bytes": tr.live_bytes, "heap.findings": len(tr.findings),
                    "heap.allocations": tr.allocations, "heap.frees": tr.frees}[head]
        if head in ("bytes", "str") or head in SCALAR_READERS:
            if len(words) not in (2, 3):
                raise UsageError(f"{head} ADDR{' [N]' if head == 'bytes' else ''}")
            addr = (self._string_address if head == "str" else self.address)(self._text(words[1]))
            if head == "str":
                from ...debuginfo import read_c_string

                self.session.read(addr, 1)
                return read_c_string(self._read, addr, MAX_STR)[0]
            if head == "bytes":
                if len(words) == 3:
                    n = self._int(words[2], "N")
                elif isinstance(other, str):
                    n = len(parse_hex(other))
                else:
                    raise UsageError("bytes ADDR N: give a length, or compare with \"hex bytes\"")
                return self._read(addr, n)
            f, size = SCALAR_READERS[head]
            return struct.unpack(f, self._read(addr, size))[0]
        expr = " ".join(self._text(w) for w in words)
        num = arithmetic(expr)
        if num is not None:
            return num
        if len(words) == 1 and words[0].text.startswith("$"):
            raise UsageError(f"{words[0].text} is not a number")
        from ...debuginfo import format_value

        t, addr, label = self._typed(expr)
        if t is None:
            return self.address(expr)
        v = format_value(t, self._read, addr, label=label, depth=1, symbols=self.symbols)
        if v.kind in ("struct", "union", "class", "array"):
            raise UsageError(f"{expr} is {v.type_name}: compare its members, or bytes {expr} == \"…\"")
        return v.value


def compare(a, op: str, b) -> bool:
    if isinstance(a, float) or isinstance(b, float):
        if isinstance(a, (int, float)) and isinstance(b, (int, float)):
            if math.isnan(a) or math.isnan(b):
                return op == "!="
    if type(a) is not type(b) and not (isinstance(a, (int, float)) and isinstance(b, (int, float))):
        if op in ("==", "!="):
            return op == "!="
        raise UsageError(f"cannot compare {type(a).__name__} with {type(b).__name__} by {op}")
    try:
        return {"==": a == b, "!=": a != b, "<": a < b, "<=": a <= b, ">": a > b, ">=": a >= b}[op]
    except TypeError:
        raise UsageError(f"cannot compare {a!r} {op} {b!r}") from None
