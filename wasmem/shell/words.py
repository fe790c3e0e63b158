"""The shell's words: a line split into words (double or single quotes, backslash escapes in double
quotes), ``$N``/``$_`` substituted in unquoted words, and the operand expressions of `p` and `assert`."""

from __future__ import annotations

import ast
import operator
import re
from dataclasses import dataclass

from ..errors import UsageError

MAX_LINE = 64 * 1024  # one line of a script or of the prompt: bounded
_ESCAPES = {"n": "\n", "t": "\t", "r": "\r", "0": "\0", "\\": "\\", '"': '"', "'": "'", "a": "\a", "b": "\b",
            "f": "\f", "v": "\v", "e": "\x1b"}
VAR = re.compile(r"\$(\d+|_)")


@dataclass(frozen=True)
class Word:
    text: str
    quoted: bool = False
    start: int = 0  # offset in the line (for completion)


def split_words(line: str) -> list[Word]:
    """``write $1 "a b\\n"`` → [write, $1, "a b\\n" (quoted)]. An unclosed quote is an error."""
    if len(line) > MAX_LINE:
        raise UsageError(f"a line of {len(line)} characters is longer than the shell reads ({MAX_LINE})")
    words: list[Word] = []
    i, n = 0, len(line)
    while i < n:
        c = line[i]
        if c.isspace():
            i += 1
            continue
        if c == "#" and (i == 0 or line[i - 1].isspace()):
            break  # a comment to the end of the line
        start = i
        if c in "\"'":
            q = c
            i += 1
            buf = []
            while i < n and line[i] != q:
                ch = line[i]
                if ch == "\\" and q == '"' and i + 1 < n:
                    nx = line[i + 1]
                    if nx == "x" and re.fullmatch(r"[0-9a-fA-F]{2}", line[i + 2:i + 4]):
                        buf.append(chr(int(line[i + 2:i + 4], 16)))
                        i += 4
                        continue
                    if nx in _ESCAPES:
                        buf.append(_ESCAPES[nx])
                        i += 2
                        continue
                buf.append(ch)
                i += 1
            if i >= n:
                raise UsageError(f"unclosed {q} in {line[start:start + 40]!r}")
            i += 1
            words.append(Word("".join(buf), True, start))
            continue
        while i < n and not line[i].isspace():
            i += 1
        words.append(Word(line[start:i], False, start))
    return words


def substitute_value(name: str, values: list, last):
    """The kept value ``$N`` or ``$_`` names."""
    key = name[1:]
    if key == "_":
        if last is None:
            raise UsageError("$_ is not set yet: no command has kept a value")
        return last
    k = int(key)
    if not 1 <= k <= len(values):
        have = f"$1..${len(values)}" if values else "none yet"
        raise UsageError(f"${k} is not set (values: {have})")
    return values[k - 1]


def substitute(text: str, values: list, last) -> str:
    """``$3`` → the third kept value, ``$_`` → the last, as text the address and argument parsers read."""
    def one(m):
        key = m.group(1)
        v = substitute_value(m.group(0), values, last)
        if isinstance(v, bool):
            return str(int(v))
        if isinstance(v, int):
            return f"{v:#x}" if v >= 0 else str(v)
        if isinstance(v, float):
            return repr(v)
        raise UsageError(f"${key} is {type(v).__name__} {v!r}: only numbers can stand in an expression")
    return VAR.sub(one, text)


_BIN = {ast.Add: operator.add, ast.Sub: operator.sub, ast.Mult: operator.mul, ast.FloorDiv: operator.floordiv,
        ast.Div: operator.truediv, ast.Mod: operator.mod, ast.BitAnd: operator.and_, ast.BitOr: operator.or_,
        ast.BitXor: operator.xor, ast.LShift: operator.lshift, ast.RShift: operator.rshift}
_UN = {ast.USub: operator.neg, ast.UAdd: operator.pos, ast.Invert: operator.invert}


def arithmetic(text: str):
    """``0x100c0 + 16``, ``-(4*3)``, ``1.5``: numbers and + - * / // % & | ^ << >> ~ only (no names, no
    calls), or None when the text is not such an expression."""
    t = text.strip().replace("_", "")
    if not t or len(t) > 200 or not re.fullmatch(r"[0-9a-fA-FxXoObB.+\-*/%&|^<>~() eE]+", t):
        return None
    try:
        tree = ast.parse(t, mode="eval")
    except SyntaxError:
        return None

    def ev(node):
        if isinstance(node, ast.Expression):
            return ev(node.body)
        if isinstance(node, ast.Constant) and type(node.value) in (int, float):
            return node.value
        if isinstance(node, ast.BinOp) and type(node.op) in _BIN:
            a, b = ev(node.left), ev(node.right)
            if type(node.op) in (ast.LShift, ast.Pow) and b > 128:
                raise UsageError(f"shift by {b} in {text!r}: too large")
            try:
                return _BIN[type(node.op)](a, b)
            except ZeroDivisionError:
                raise UsageError(f"division by zero in {text!r}") from None
        if isinstance(node, ast.UnaryOp) and type(node.op) in _UN:
            return _UN[type(node.op)](ev(node.operand))
        raise ValueError
    try:
        return ev(tree)
    except (ValueError, TypeError):
        return None


def parse_hex(text: str) -> bytes:
    """``de ad be ef``, ``deadbeef``, ``de:ad``, ``0xdeadbeef`` → bytes."""
    t = re.sub(r"[\s:_,]", "", text)
    if t[:2].lower() == "0x":
        t = t[2:]
    try:
        return bytes.fromhex(t)
    except ValueError:
        raise UsageError(f"{text!r} is not hex bytes (e.g. \"de ad be ef\")") from None
