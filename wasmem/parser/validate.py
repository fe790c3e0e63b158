"""Structural checks over every section, so that a malformed module is reported as one ParseError
even by commands that would otherwise only read a few sections.

Function bodies are located (sizes checked, and each must end with the `end` opcode) always; they
are decoded — every instruction, block nesting, the final `end` — only when the code section is small
enough for that to be quick (``BODY_CHECK_LIMIT``), because decoding a 60 MB module in Python takes
tens of seconds."""

from __future__ import annotations

from ..budgets import BUDGETS, budget_of
from ..errors import ParseError
from .module import WasmModule

# every lazily parsed part of a module, in file order
SECTION_PARTS = ("types", "imports", "function_type_indices", "tables", "memories", "tags", "globals",
                 "exports", "start", "elements", "data_count", "functions", "data_segments")
BODY_CHECK_LIMIT = BUDGETS["validate"].default  # code section bytes decoded in full (--budget validate=N)

_OPENERS = frozenset((0x02, 0x03, 0x04, 0x06, 0x1F))  # block loop if try try_table
_CLOSERS = frozenset((0x0B, 0x18))  # end, delegate (closes a legacy try)
_NEEDS_DATACOUNT = frozenset(((0xFC << 16) | 8, (0xFC << 16) | 9))  # memory.init, data.drop


def check_structure(module: WasmModule, *, bodies: bool | None = None) -> None:
    """Parses every known section's entries (raising ParseError at the first malformed byte). With
    ``bodies`` (default: when the code section is at most BODY_CHECK_LIMIT bytes) every function body
    is decoded too."""
    for part in SECTION_PARTS:
        getattr(module, part)
    code = module.get_section(10)
    if bodies is None:
        bodies = code is not None and code.size <= body_check_limit(module)
    if bodies:
        for body in module.functions:
            check_body(module, body)
        return
    bad = module.unterminated_body  # found while locating the bodies
    if bad is not None:
        body = module.functions[bad - module.num_imported_funcs]
        raise ParseError(f"function {bad}: body does not end with `end` (0x0b)", max(body.end - 1, body.start))


def body_check_limit(module: WasmModule) -> int:
    """The code section bytes whose bodies ``check_structure`` decodes in full: BODY_CHECK_LIMIT, or the module's
    ``--budget validate=N``."""
    got = budget_of(module, "validate")
    return BODY_CHECK_LIMIT if got is None else got


def check_body(module: WasmModule, body) -> None:
    """Decodes one body: locals, every instruction, balanced blocks ending exactly at the body's end."""
    from .code import decode_locals, iter_instruction_tuples

    _, pos = decode_locals(module.data, body.start, body.end)
    depth = 1  # the function's own block
    for off, op, _imm in iter_instruction_tuples(module.data, pos, body.end):
        if depth == 0:
            raise ParseError(f"function {body.index}: instructions after the final `end`", off)
        if op in _OPENERS:
            depth += 1
        elif op in _CLOSERS:
            depth -= 1
        elif op in _NEEDS_DATACOUNT and module.data_count is None:
            raise ParseError(f"function {body.index}: memory.init / data.drop need a data count section", off)
    if depth:
        raise ParseError(f"function {body.index}: body ends without `end` ({depth} block"
                         f"{'s' if depth > 1 else ''} still open)", body.end)
