"""A small C-like type system built from DWARF (pure: no pyelftools here).

Types form a graph (a struct may point to itself), so they compare by identity and their
``repr`` never recurses. ``name`` is the C spelling: ``struct node *``, ``int32_t[4]``,
``const char *``, ``int (*)(int, int)``.

The graph comes from untrusted DWARF, so every walk over it is bounded: at most ``MAX_TYPE_DEPTH``
levels of nesting (typedef/qualifier chains, declarators, members, array dimensions) and, for the
walks that branch (names of function types, alignment), at most ``MAX_TYPE_STEPS`` types visited.
What lies beyond shows as ``<too deep>``; the DWARF reader replaces a cycle that no valid C type
has (a typedef of itself, an array of itself) with an ``UnknownType`` labelled ``<cycle>``.
"""

from __future__ import annotations

from dataclasses import dataclass, field

POINTER_SIZE = 4  # wasm32; memory64 modules would use 8

MAX_TYPE_DEPTH = 64  # levels of type nesting any walk follows (C compilers stop far below this)
MAX_TYPE_STEPS = 4096  # types one name or alignment computation may visit (bounds a branching DAG)
MAX_NAME_LENGTH = 256  # a function type's parameter list is cut ("…") beyond this many characters
MAX_TYPE_NAME = 512  # and a type's name beyond this many
CYCLE_LABEL = "<cycle>"
TOO_DEEP_LABEL = "<too deep>"


class _Steps:
    """The shared allowance of one bounded walk."""

    __slots__ = ("left",)

    def __init__(self, n: int = MAX_TYPE_STEPS):
        self.left = n

    def take(self, depth: int) -> bool:
        """May the walk go one level deeper (to ``depth + 1``)?"""
        self.left -= 1
        return self.left > 0 and depth < MAX_TYPE_DEPTH


@dataclass(eq=False)
class Type:
    """Base class. ``kind`` is one of: void, base, pointer, struct, union, class, array, enum,
    typedef, const, volatile, restrict, atomic, function, unknown."""

    kind: str = "unknown"
    size: int | None = None

    @property
    def name(self) -> str:
        n = self._decl("", 0, _Steps())
        return n if len(n) <= MAX_TYPE_NAME else n[:MAX_TYPE_NAME - 1] + "…"

    # C declarator spelling: ``_decl("x")`` gives ``int *x``; ``_decl("")`` gives the type name.
    # ``depth``/``steps`` bound the walk (a type nested deeper shows as <too deep>).
    def _decl(self, inner: str, depth: int = 0, steps: _Steps | None = None) -> str:
        return _join("<unknown>", inner)

    @property
    def align(self) -> int:
        return self._align(0, _Steps())

    def _align(self, depth: int, steps: _Steps) -> int:
        return max(1, self.size or 1)

    def strip(self) -> Type:
        """The type without typedefs and cv-qualifiers."""
        return self

    @property
    def is_aggregate(self) -> bool:
        return False

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.name!r} size={self.size}>"

    def __str__(self) -> str:
        return self.name


def _deeper(t: Type | None, inner: str, depth: int, steps: _Steps | None) -> str:
    """``t._decl(inner)`` one level down, or <too deep> when the walk may not go further."""
    steps = steps or _Steps()
    if not steps.take(depth):
        return _join(TOO_DEEP_LABEL, inner)
    return (t or VoidType())._decl(inner, depth + 1, steps)


def _join(base: str, inner: str) -> str:
    if not inner:
        return base
    if inner.startswith("["):
        return base + inner
    return f"{base} {inner}"


@dataclass(eq=False, repr=False)
class VoidType(Type):
    kind: str = "void"
    size: int | None = None

    def _decl(self, inner: str, depth: int = 0, steps: _Steps | None = None) -> str:
        return _join("void", inner)

    def _align(self, depth: int, steps: _Steps) -> int:
        return 1


@dataclass(eq=False, repr=False)
class UnknownType(Type):
    kind: str = "unknown"
    label: str = "<unknown>"

    def _decl(self, inner: str, depth: int = 0, steps: _Steps | None = None) -> str:
        return _join(self.label, inner)


@dataclass(eq=False, repr=False)
class BaseType(Type):
    """``encoding``: signed, unsigned, signed_char, unsigned_char, float, boolean, utf (char8/16/32)."""

    kind: str = "base"
    base_name: str = ""
    encoding: str = "signed"

    def _decl(self, inner: str, depth: int = 0, steps: _Steps | None = None) -> str:
        return _join(self.base_name, inner)

    @property
    def is_signed(self) -> bool:
        return self.encoding in ("signed", "signed_char")


@dataclass(eq=False, repr=False)
class PointerType(Type):
    kind: str = "pointer"  # also "reference" / "rvalue_reference" (C++)
    size: int | None = POINTER_SIZE
    target: Type | None = None  # None = void

    def _decl(self, inner: str, depth: int = 0, steps: _Steps | None = None) -> str:
        t = self.target or VoidType()
        sigil = {"reference": "&", "rvalue_reference": "&&"}.get(self.kind, "*")
        if isinstance(t, (ArrayType, FunctionType)):
            return _deeper(t, f"({sigil}{inner})", depth, steps)
        return _deeper(t, sigil + inner, depth, steps)

    def _align(self, depth: int, steps: _Steps) -> int:
        return self.size or POINTER_SIZE

    @property
    def pointee(self) -> Type:
        return self.target or VoidType()


@dataclass(eq=False, repr=False)
class Member:
    name: str | None  # None for an anonymous struct/union member
    type: Type
    offset: int
    bit_size: int | None = None
    bit_offset: int | None = None  # from the start of the member's storage unit at ``offset``

    def __repr__(self) -> str:
        return f"<Member {self.name} @{self.offset}: {self.type.name}>"


@dataclass(eq=False, repr=False)
class StructType(Type):
    kind: str = "struct"  # struct | union | class
    tag: str | None = None
    members: list[Member] = field(default_factory=list)
    declared_align: int | None = None
    declaration: bool = False  # incomplete (forward-declared) type

    def _decl(self, inner: str, depth: int = 0, steps: _Steps | None = None) -> str:
        return _join(f"{self.kind} {self.tag or '<anonymous>'}", inner)

    def _align(self, depth: int, steps: _Steps) -> int:
        if self.declared_align:
            return self.declared_align
        best = 1
        for m in self.members:
            if not steps.take(depth):
                break
            best = max(best, m.type._align(depth + 1, steps))
        return best

    @property
    def is_aggregate(self) -> bool:
        return True

    def find_member(self, name: str) -> tuple[int, Member] | None:
        """(offset from the start of this struct, member); looks into anonymous members (breadth
        first, each struct once, at most MAX_TYPE_DEPTH levels down)."""
        level: list[tuple[int, StructType]] = [(0, self)]
        seen = {id(self)}
        for _ in range(MAX_TYPE_DEPTH):
            nxt: list[tuple[int, StructType]] = []
            for base, st in level:
                for m in st.members:
                    if m.name == name:
                        return base + m.offset, m
            for base, st in level:
                for m in st.members:
                    inner = m.type.strip() if m.name is None else None
                    if isinstance(inner, StructType) and id(inner) not in seen:
                        seen.add(id(inner))
                        nxt.append((base + m.offset, inner))
            if not nxt:
                return None
            level = nxt
        return None


@dataclass(eq=False, repr=False)
class ArrayType(Type):
    """One dimension; ``int[3][4]`` is ArrayType(3, ArrayType(4, int)). ``count`` is None for a
    flexible or unknown-bound array."""

    kind: str = "array"
    element: Type = field(default_factory=UnknownType)
    count: int | None = None

    def _decl(self, inner: str, depth: int = 0, steps: _Steps | None = None) -> str:
        dim = "" if self.count is None else str(self.count)
        return _deeper(self.element, f"{inner}[{dim}]", depth, steps)

    def _align(self, depth: int, steps: _Steps) -> int:
        return self.element._align(depth + 1, steps) if steps.take(depth) else 1

    @property
    def dims(self) -> tuple[int | None, ...]:
        out = [self.count]
        inner = self.element.strip()
        while isinstance(inner, ArrayType) and len(out) < MAX_TYPE_DEPTH:
            out.append(inner.count)
            inner = inner.element.strip()
        return tuple(out)

    @property
    def is_aggregate(self) -> bool:
        return True


@dataclass(eq=False, repr=False)
class EnumType(Type):
    kind: str = "enum"
    tag: str | None = None
    enumerators: list[tuple[str, int]] = field(default_factory=list)
    underlying: Type | None = None

    def _decl(self, inner: str, depth: int = 0, steps: _Steps | None = None) -> str:
        return _join(f"enum {self.tag or '<anonymous>'}", inner)

    def name_of(self, value: int) -> str | None:
        for n, v in self.enumerators:
            if v == value:
                return n
        return None

    @property
    def is_signed(self) -> bool:
        u = self.underlying.strip() if self.underlying else None
        if isinstance(u, BaseType):
            return u.is_signed
        return any(v < 0 for _, v in self.enumerators)


@dataclass(eq=False, repr=False)
class _AliasType(Type):
    """A name or qualifier over another type: alignment, stripping and aggregateness are the target's."""

    target: Type | None = None

    def _align(self, depth: int, steps: _Steps) -> int:
        t = self.strip()
        return 1 if isinstance(t, _AliasType) else t._align(depth + 1, steps)

    def strip(self) -> Type:
        """Follows typedefs and qualifiers (at most MAX_TYPE_DEPTH of them: a longer chain, which
        only a cycle makes, ends in an UnknownType labelled <cycle>)."""
        t: Type | None = self
        for _ in range(MAX_TYPE_DEPTH):
            if not isinstance(t, _AliasType):
                return t
            t = t.target
            if t is None:
                return VoidType()
        return t if not isinstance(t, _AliasType) else UnknownType(label=CYCLE_LABEL)

    @property
    def is_aggregate(self) -> bool:
        return self.strip().is_aggregate


@dataclass(eq=False, repr=False)
class TypedefType(_AliasType):
    kind: str = "typedef"
    typedef_name: str = ""

    def _decl(self, inner: str, depth: int = 0, steps: _Steps | None = None) -> str:
        return _join(self.typedef_name, inner)


@dataclass(eq=False, repr=False)
class QualifiedType(_AliasType):
    """const / volatile / restrict / atomic."""

    kind: str = "const"

    def _decl(self, inner: str, depth: int = 0, steps: _Steps | None = None) -> str:
        t = self.target or VoidType()
        if isinstance(t, PointerType):  # char *const p
            return _deeper(t, f"{self.kind} {inner}".rstrip(), depth, steps)
        return f"{self.kind} {_deeper(t, inner, depth, steps)}"


@dataclass(eq=False, repr=False)
class FunctionType(Type):
    kind: str = "function"
    returns: Type | None = None  # None = void
    params: list[Type] = field(default_factory=list)
    variadic: bool = False

    def _decl(self, inner: str, depth: int = 0, steps: _Steps | None = None) -> str:
        args = self.__dict__.get("_args")  # kept once the graph is frozen (see ``freeze``)
        if args is None:
            steps = steps or _Steps()
            ps: list[str] = []
            length = 0
            for p in self.params:
                if length > MAX_NAME_LENGTH:
                    ps.append("…")
                    break
                ps.append(_deeper(p, "", depth, steps))
                length += len(ps[-1]) + 2
            else:
                if self.variadic:
                    ps.append("...")
            args = ", ".join(ps) if ps else "void"
            if self.__dict__.get("_frozen"):
                self.__dict__["_args"] = args
        return _deeper(self.returns, f"{inner}({args})", depth, steps)


def freeze(types) -> None:
    """Marks a finished type graph: a function type then spells its parameter list once and keeps
    it, so that the names of many types built on one function type cost one walk, not one each."""
    for t in types:
        t.__dict__["_frozen"] = True


def sizeof(t: Type | None) -> int | None:
    """Size in bytes, following typedefs and qualifiers (and array elements, at most
    MAX_TYPE_DEPTH dimensions deep: beyond that, or for a cycle, the size is unknown)."""
    scale = 1
    for _ in range(MAX_TYPE_DEPTH):
        if t is None:
            return None
        if t.size is not None:
            return t.size * scale
        s = t.strip()
        if s is not t and s.size is not None:
            return s.size * scale
        if not isinstance(s, ArrayType) or s.count is None:
            return None
        scale *= s.count
        if scale >= 1 << 64:  # no memory holds it; and a number this size barely prints
            return None
        t = s.element
    return None
