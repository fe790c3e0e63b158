"""A small C-like type system built from DWARF (pure: no pyelftools here).

Types form a graph (a struct may point to itself), so they compare by identity and their
``repr`` never recurses. ``name`` is the C spelling: ``struct node *``, ``int32_t[4]``,
``const char *``, ``int (*)(int, int)``.
"""

from __future__ import annotations

from dataclasses import dataclass, field

POINTER_SIZE = 4  # wasm32; memory64 modules would use 8


@dataclass(eq=False)
class Type:
    """Base class. ``kind`` is one of: void, base, pointer, struct, union, class, array, enum,
    typedef, const, volatile, restrict, atomic, function, unknown."""

    kind: str = "unknown"
    size: int | None = None

    @property
    def name(self) -> str:
        return self._decl("")

    # C declarator spelling: ``_decl("x")`` gives ``int *x``; ``_decl("")`` gives the type name.
    def _decl(self, inner: str) -> str:
        return _join("<unknown>", inner)

    @property
    def align(self) -> int:
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

    def _decl(self, inner: str) -> str:
        return _join("void", inner)

    @property
    def align(self) -> int:
        return 1


@dataclass(eq=False, repr=False)
class UnknownType(Type):
    kind: str = "unknown"
    label: str = "<unknown>"

    def _decl(self, inner: str) -> str:
        return _join(self.label, inner)


@dataclass(eq=False, repr=False)
class BaseType(Type):
    """``encoding``: signed, unsigned, signed_char, unsigned_char, float, boolean, utf (char8/16/32)."""

    kind: str = "base"
    base_name: str = ""
    encoding: str = "signed"

    def _decl(self, inner: str) -> str:
        return _join(self.base_name, inner)

    @property
    def is_signed(self) -> bool:
        return self.encoding in ("signed", "signed_char")


@dataclass(eq=False, repr=False)
class PointerType(Type):
    kind: str = "pointer"  # also "reference" / "rvalue_reference" (C++)
    size: int | None = POINTER_SIZE
    target: Type | None = None  # None = void

    def _decl(self, inner: str) -> str:
        t = self.target or VoidType()
        sigil = {"reference": "&", "rvalue_reference": "&&"}.get(self.kind, "*")
        if isinstance(t, (ArrayType, FunctionType)):
            return t._decl(f"({sigil}{inner})")
        return t._decl(sigil + inner)

    @property
    def align(self) -> int:
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

    def _decl(self, inner: str) -> str:
        return _join(f"{self.kind} {self.tag or '<anonymous>'}", inner)

    @property
    def align(self) -> int:
        if self.declared_align:
            return self.declared_align
        return max((m.type.align for m in self.members), default=1)

    @property
    def is_aggregate(self) -> bool:
        return True

    def find_member(self, name: str) -> tuple[int, Member] | None:
        """(offset from the start of this struct, member); looks into anonymous members."""
        for m in self.members:
            if m.name == name:
                return m.offset, m
        for m in self.members:
            inner = m.type.strip()
            if m.name is None and isinstance(inner, StructType):
                got = inner.find_member(name)
                if got is not None:
                    return m.offset + got[0], got[1]
        return None


@dataclass(eq=False, repr=False)
class ArrayType(Type):
    """One dimension; ``int[3][4]`` is ArrayType(3, ArrayType(4, int)). ``count`` is None for a
    flexible or unknown-bound array."""

    kind: str = "array"
    element: Type = field(default_factory=UnknownType)
    count: int | None = None

    def _decl(self, inner: str) -> str:
        dim = "" if self.count is None else str(self.count)
        return self.element._decl(f"{inner}[{dim}]")

    @property
    def align(self) -> int:
        return self.element.align

    @property
    def dims(self) -> tuple[int | None, ...]:
        inner = self.element.strip()
        return (self.count,) + (inner.dims if isinstance(inner, ArrayType) else ())

    @property
    def is_aggregate(self) -> bool:
        return True


@dataclass(eq=False, repr=False)
class EnumType(Type):
    kind: str = "enum"
    tag: str | None = None
    enumerators: list[tuple[str, int]] = field(default_factory=list)
    underlying: Type | None = None

    def _decl(self, inner: str) -> str:
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

    @property
    def align(self) -> int:
        return self.target.align if self.target else 1

    def strip(self) -> Type:
        return self.target.strip() if self.target else VoidType()

    @property
    def is_aggregate(self) -> bool:
        return self.strip().is_aggregate


@dataclass(eq=False, repr=False)
class TypedefType(_AliasType):
    kind: str = "typedef"
    typedef_name: str = ""

    def _decl(self, inner: str) -> str:
        return _join(self.typedef_name, inner)


@dataclass(eq=False, repr=False)
class QualifiedType(_AliasType):
    """const / volatile / restrict / atomic."""

    kind: str = "const"

    def _decl(self, inner: str) -> str:
        t = self.target or VoidType()
        if isinstance(t, PointerType):  # char *const p
            return t._decl(f"{self.kind} {inner}".rstrip())
        return f"{self.kind} {t._decl(inner)}"


@dataclass(eq=False, repr=False)
class FunctionType(Type):
    kind: str = "function"
    returns: Type | None = None  # None = void
    params: list[Type] = field(default_factory=list)
    variadic: bool = False

    def _decl(self, inner: str) -> str:
        ps = [p.name for p in self.params] + (["..."] if self.variadic else [])
        args = ", ".join(ps) if ps else "void"
        return (self.returns or VoidType())._decl(f"{inner}({args})")


def sizeof(t: Type | None) -> int | None:
    """Size in bytes, following typedefs and qualifiers."""
    if t is None:
        return None
    if t.size is not None:
        return t.size
    s = t.strip()
    if s is not t and s.size is not None:
        return s.size
    if isinstance(s, ArrayType) and s.count is not None:
        es = sizeof(s.element)
        return None if es is None else es * s.count
    return None
