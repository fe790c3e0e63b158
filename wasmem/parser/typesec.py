"""Types as the binary format encodes them: value, heap, reference and storage types, limits, the table,
memory and global types, constant expressions, and the type section's entries (function, GC struct and
array, and stack-switching continuation types; recursion groups, subtypes, and the custom-descriptors
proposal's ``describes``/``descriptor`` clauses and exact heap types).

Every reader takes a ``Reader`` and raises ``ParseError`` at the first malformed byte, with its offset. Each
decodes in one pass over its bytes; nothing is allocated from a count before the bytes for it are there.

Type names are the text format's: ``"i32"``, ``"funcref"``, ``"(ref null 3)"``, ``"(ref (exact 3))"``; a
heap type is an abstract name (``"func"``, ``"any"``…), a type index as a string (``"3"``), or an exact type
index (``"(exact 3)"``).
"""

from __future__ import annotations

from ..errors import ParseError
from .reader import Reader, entry_error
from .types import (
    HEAPTYPES,
    VALTYPES,
    ConstExpr,
    FuncType,
    GlobalType,
    Limits,
    MemoryType,
    TableType,
    TypeDef,
)

EXACT_PREFIX = 0x62  # custom descriptors: heaptype ::= 0x62 x:u32 (an exact reference to type x)
EXACT_FUNC_IMPORT = 0x20  # custom descriptors: externtype ::= 0x20 x:typeidx (func exact x)
DESCRIBES_PREFIX = 0x4C  # custom descriptors: 0x4C x:typeidx before a (descriptor …) comptype
DESCRIPTOR_PREFIX = 0x4D  # custom descriptors: 0x4D x:typeidx before a comptype
SUB_PREFIXES = (0x50, 0x4F)  # sub, sub final
REC_PREFIX = 0x4E


def read_heaptype(r: Reader) -> str:
    start = r.pos
    if r.peek() == EXACT_PREFIX:  # one byte: a multi-byte s33 starting 0xe2 is a (long) type index
        r.u8()
        return f"(exact {r.u32()})"
    v = r.s33()
    if v >= 0:
        return str(v)
    code = v & 0x7F
    if code not in HEAPTYPES or r.pos - start != 1:  # an abstract heap type is one byte
        raise ParseError(f"unknown heap type 0x{code:02x}", start)
    return HEAPTYPES[code]


def read_valtype(r: Reader) -> str:
    start = r.pos
    b = r.u8()
    t = VALTYPES.get(b)
    if t is not None:
        return t
    if b in (0x63, 0x64):
        ht = read_heaptype(r)
        return f"(ref null {ht})" if b == 0x63 else f"(ref {ht})"
    raise ParseError(f"unknown value type 0x{b:02x}", start)


NUMERIC_TYPES = frozenset(("i32", "i64", "f32", "f64", "v128"))


def read_reftype(r: Reader, what: str) -> str:
    """A value type that must be a reference type (table element types, typed element segments)."""
    start = r.pos
    t = read_valtype(r)
    if t in NUMERIC_TYPES:
        raise ParseError(f"{what}: malformed reference type {t}", start)
    return t


def read_storagetype(r: Reader) -> str:
    b = r.peek()
    if b == 0x78:
        r.u8()
        return "i8"
    if b == 0x77:
        r.u8()
        return "i16"
    return read_valtype(r)


def read_mutability(r: Reader, what: str) -> bool:
    p = r.pos
    m = r.u8()
    if m > 1:
        raise ParseError(f"{what} mutability must be 0 or 1, not {m}", p)
    return bool(m)


def read_limits(r: Reader, what: str) -> Limits:
    start = r.pos
    flags = r.u8()
    if flags & ~0x0F:
        raise ParseError(f"{what}: unknown limits flags 0x{flags:02x}", start)
    is64 = bool(flags & 0x04)
    shared = bool(flags & 0x02)
    read = r.u64 if is64 else r.u32
    lo = read()
    hi = read() if flags & 0x01 else None
    page_log2 = 16
    if flags & 0x08:
        p = r.pos
        page_log2 = r.u32()
        if page_log2 > 64:
            raise ParseError(f"{what}: page size 2^{page_log2} is malformed", p)
    # max < min and page sizes other than 1 and 65536 are invalid but well-formed: the layout
    # model reports them as findings
    return Limits(lo, hi, shared, is64, page_log2)


def read_memtype(r: Reader) -> MemoryType:
    return MemoryType(read_limits(r, "memory type"))


def read_tabletype(r: Reader) -> TableType:
    et = read_reftype(r, "table type")
    return TableType(et, read_limits(r, "table type"))


def read_globaltype(r: Reader) -> GlobalType:
    vt = read_valtype(r)
    return GlobalType(vt, read_mutability(r, "global"))


# the numeric and reference instructions without immediates allowed in constant expressions: opcode → name
CONST_SIMPLE_OPS = {0x6A: "i32.add", 0x6B: "i32.sub", 0x6C: "i32.mul", 0x7C: "i64.add", 0x7D: "i64.sub",
                    0x7E: "i64.mul", 0xD1: "ref.is_null"}
# GC instructions allowed in constant expressions: subopcode → (name, number of u32 immediates); 32 and 33
# are the custom-descriptors proposal's (a struct allocated with its descriptor)
CONST_GC_OPS = {0: ("struct.new", 1), 1: ("struct.new_default", 1), 6: ("array.new", 1),
                7: ("array.new_default", 1), 8: ("array.new_fixed", 2), 0x1A: ("any.convert_extern", 0),
                0x1B: ("extern.convert_any", 0), 0x1C: ("ref.i31", 0), 32: ("struct.new_desc", 1),
                33: ("struct.new_default_desc", 1)}


def read_const_expr(r: Reader, what: str = "constant expression") -> ConstExpr:
    start = r.pos
    ops: list[tuple[str, object]] = []
    while True:
        p = r.pos
        if r.at_end():
            raise ParseError(f"{what} is not terminated by `end` (0x0b)", p)
        op = r.u8()
        if op == 0x0B:
            return ConstExpr(tuple(ops), start, r.pos)
        if op == 0x41:
            ops.append(("i32.const", r.s32()))
        elif op == 0x42:
            ops.append(("i64.const", r.s64()))
        elif op == 0x43:
            ops.append(("f32.const", r.f32()))
        elif op == 0x44:
            ops.append(("f64.const", r.f64()))
        elif op == 0x23:
            ops.append(("global.get", r.u32()))
        elif op == 0xD0:
            ops.append(("ref.null", read_heaptype(r)))
        elif op == 0xD2:
            ops.append(("ref.func", r.u32()))
        elif op in CONST_SIMPLE_OPS:
            ops.append((CONST_SIMPLE_OPS[op], None))
        elif op == 0xFD:
            sub = r.u32()
            if sub != 12:
                raise ParseError(f"{what}: SIMD opcode 0xfd {sub} is not constant", p)
            ops.append(("v128.const", bytes(r.bytes(16))))
        elif op == 0xFB:
            sub = r.u32()
            if sub not in CONST_GC_OPS:
                raise ParseError(f"{what}: GC opcode 0xfb {sub} is not constant", p)
            name, nimm = CONST_GC_OPS[sub]
            ops.append((name, tuple(r.u32() for _ in range(nimm))))
        else:
            raise ParseError(f"{what}: opcode 0x{op:02x} is not allowed in a constant expression", p)


# ------------------------------------------------------------------------------------------------
# the type section
# ------------------------------------------------------------------------------------------------

def _comptype(r: Reader, index: int, what: str, describes: int | None, descriptor: int | None) -> TypeDef:
    p = r.pos
    form = r.u8()
    if form == 0x60:
        params = tuple(read_valtype(r) for _ in range(r.count("function type parameters")))
        results = tuple(read_valtype(r) for _ in range(r.count("function type results")))
        return TypeDef(index, "func", FuncType(params, results), describes, descriptor)
    if form == 0x5F:
        for _ in range(r.count("struct type fields", 2)):
            read_storagetype(r)
            read_mutability(r, "struct field")
        return TypeDef(index, "struct", None, describes, descriptor)
    if form == 0x5E:
        read_storagetype(r)
        read_mutability(r, "array element")
        return TypeDef(index, "array", None, describes, descriptor)
    if form == 0x5D:  # stack switching: cont $ft
        at = r.pos
        if r.s33() < 0:
            raise ParseError(f"{what}: a continuation type needs a type index", at)
        return TypeDef(index, "cont", None, describes, descriptor)
    raise ParseError(f"{what}: unknown type form 0x{form:02x}", p)


def _subtype(r: Reader, index: int, what: str) -> TypeDef:
    """``sub``/``sub final`` with its supertypes, then ``describes``, then ``descriptor``, each at most once
    and in that order (a repeated or misplaced clause is an unknown type form), then the composite type."""
    b = r.peek()
    if b in SUB_PREFIXES:
        r.u8()
        for _ in range(r.count("supertypes")):
            r.u32()
        b = r.peek()
    describes = descriptor = None
    if b == DESCRIBES_PREFIX:
        r.u8()
        describes = r.u32()
        b = r.peek()
    if b == DESCRIPTOR_PREFIX:
        r.u8()
        descriptor = r.u32()
    return _comptype(r, index, what, describes, descriptor)


def read_type_section(r: Reader, what: str) -> list[TypeDef]:
    """The entries of a type section (``r`` over its payload): one ``TypeDef`` per type index, the members
    of a recursion group in order."""
    n = r.u32()
    out: list[TypeDef] = []
    for i in range(n):
        if r.at_end():
            raise ParseError(f"{what} declares {n} entries but ends after {i}", r.pos)
        try:
            if r.peek() == REC_PREFIX:
                r.u8()
                for _ in range(r.count("recursion group")):
                    out.append(_subtype(r, len(out), what))
            else:
                out.append(_subtype(r, len(out), what))
        except ParseError as exc:
            raise entry_error(exc, what, n, i) from None
    r.expect_end(what)
    return out


def read_import_type(r: Reader, kind: int, where: str) -> tuple[str, object, bool]:
    """An import's external type after its kind byte ``kind``: (kind name, type, exact). The type is a type
    index (functions and tags), a TableType, a MemoryType or a GlobalType; ``exact`` is the custom-descriptors
    proposal's exact function import (kind 0x20)."""
    if kind == 0 or kind == EXACT_FUNC_IMPORT:
        return "func", r.u32(), kind == EXACT_FUNC_IMPORT
    if kind == 1:
        return "table", read_tabletype(r), False
    if kind == 2:
        return "memory", read_memtype(r), False
    if kind == 3:
        return "global", read_globaltype(r), False
    if kind == 4:
        p = r.pos
        attr = r.u8()
        if attr != 0:
            raise ParseError(f"tag attribute must be 0, not {attr}", p)
        return "tag", r.u32(), False
    raise ParseError(f"{where}: unknown import kind 0x{kind:02x}", r.pos - 1)
