"""Frozen records for what a module declares. Offsets are absolute positions in the file."""

from __future__ import annotations

from dataclasses import dataclass, field

EXTERNAL_KINDS = {0: "func", 1: "table", 2: "memory", 3: "global", 4: "tag"}

# value type bytes (numeric, vector and the abbreviated reference types) and abstract heap types
VALTYPES = {
    0x7F: "i32", 0x7E: "i64", 0x7D: "f32", 0x7C: "f64", 0x7B: "v128",
    0x70: "funcref", 0x6F: "externref", 0x69: "exnref", 0x6E: "anyref", 0x6D: "eqref",
    0x6C: "i31ref", 0x6B: "structref", 0x6A: "arrayref", 0x71: "nullref", 0x72: "nullexternref",
    0x73: "nullfuncref", 0x74: "nullexnref", 0x68: "contref", 0x75: "nullcontref",
}
HEAPTYPES = {
    0x70: "func", 0x6F: "extern", 0x69: "exn", 0x6E: "any", 0x6D: "eq", 0x6C: "i31", 0x6B: "struct",
    0x6A: "array", 0x71: "none", 0x72: "noextern", 0x73: "nofunc", 0x74: "noexn", 0x68: "cont", 0x75: "nocont",
}


@dataclass(frozen=True, slots=True)
class Limits:
    min: int
    max: int | None
    shared: bool = False
    is64: bool = False
    page_size_log2: int = 16

    @property
    def page_size(self) -> int:
        return 1 << self.page_size_log2


@dataclass(frozen=True, slots=True)
class MemoryType:
    limits: Limits

    @property
    def min_pages(self) -> int:
        return self.limits.min

    @property
    def max_pages(self) -> int | None:
        return self.limits.max

    @property
    def shared(self) -> bool:
        return self.limits.shared

    @property
    def is64(self) -> bool:
        return self.limits.is64

    @property
    def page_size(self) -> int:
        return self.limits.page_size

    @property
    def min_bytes(self) -> int:
        return self.limits.min * self.page_size

    @property
    def max_bytes(self) -> int | None:
        return None if self.limits.max is None else self.limits.max * self.page_size


@dataclass(frozen=True, slots=True)
class TableType:
    elem_type: str
    limits: Limits


@dataclass(frozen=True, slots=True)
class GlobalType:
    valtype: str
    mutable: bool


@dataclass(frozen=True, slots=True)
class FuncType:
    params: tuple[str, ...]
    results: tuple[str, ...]

    def __str__(self) -> str:
        return f"({', '.join(self.params)}) -> ({', '.join(self.results)})"


@dataclass(frozen=True, slots=True)
class TypeDef:
    """One entry of the type section: a function type, or a GC struct/array type or a stack-switching
    continuation type (kept opaque). ``describes``/``descriptor``: the type index of the custom-descriptors
    proposal's clauses (this type is the descriptor of ``describes``; ``descriptor`` is this type's)."""

    index: int
    kind: str  # "func" | "struct" | "array" | "cont"
    func: FuncType | None = None
    describes: int | None = None
    descriptor: int | None = None


@dataclass(frozen=True, slots=True)
class ConstExpr:
    """A constant expression. ``ops`` are (name, immediate) pairs; ``value`` is set when it
    evaluates without knowing any imported global."""

    ops: tuple[tuple[str, object], ...]
    offset: int
    end: int

    @property
    def simple_value(self) -> int | float | None:
        if len(self.ops) == 1 and self.ops[0][0] in ("i32.const", "i64.const", "f32.const", "f64.const"):
            return self.ops[0][1]  # type: ignore[return-value]
        return None

    def evaluate(self, get_global=None) -> int | float | None:
        """Evaluates i32/i64 constants, global.get (through ``get_global(index)``) and the
        extended-const add/sub/mul. Returns None when a value is unknown."""
        stack: list = []
        for name, imm in self.ops:
            if name.endswith(".const"):
                stack.append(imm)
            elif name == "global.get":
                v = get_global(imm) if get_global else None
                if v is None:
                    return None
                stack.append(v)
            elif name in ("i32.add", "i32.sub", "i32.mul", "i64.add", "i64.sub", "i64.mul"):
                if len(stack) < 2:
                    return None
                b, a = stack.pop(), stack.pop()
                r = a + b if name.endswith("add") else a - b if name.endswith("sub") else a * b
                bits = 32 if name.startswith("i32") else 64
                r &= (1 << bits) - 1
                if r >> (bits - 1):
                    r -= 1 << bits
                stack.append(r)
            else:
                return None
        return stack[-1] if len(stack) == 1 else None


@dataclass(frozen=True, slots=True)
class Import:
    index: int  # position in the import section
    module: str
    name: str
    kind: str  # func | table | memory | global | tag
    type: object  # type index (func/tag), TableType, MemoryType, GlobalType
    offset: int
    exact: bool = False  # an exact function import (custom descriptors: kind byte 0x20)


@dataclass(frozen=True, slots=True)
class Export:
    name: str
    kind: str
    index: int
    offset: int


@dataclass(frozen=True, slots=True)
class Global:
    index: int  # in the global index space (imports first)
    type: GlobalType
    init: ConstExpr | None  # None for imported globals
    imported: Import | None = None
    offset: int = 0


@dataclass(frozen=True, slots=True)
class Memory:
    index: int
    type: MemoryType
    imported: Import | None = None
    offset: int = 0


@dataclass(frozen=True, slots=True)
class Table:
    index: int
    type: TableType
    imported: Import | None = None
    offset: int = 0


@dataclass(frozen=True, slots=True)
class DataSegment:
    index: int
    mode: str  # active | passive
    memory: int
    offset_expr: ConstExpr | None
    data_start: int  # absolute file offset of the bytes
    size: int
    offset: int  # file offset of the entry

    @property
    def address(self) -> int | None:
        """The linear-memory address when it is a constant (None for passive or imported-global offsets).
        An ``i32`` offset is an unsigned 32-bit address: ``i32.const -1`` is 0xffffffff."""
        e = self.offset_expr
        if e is None:
            return None
        v = e.evaluate()
        if not isinstance(v, int):
            return None
        return v & (0xFFFFFFFF if e.ops and e.ops[-1][0].startswith("i32.") else 0xFFFFFFFFFFFFFFFF)


@dataclass(frozen=True, slots=True)
class ElementSegment:
    index: int
    mode: str  # active | passive | declarative
    table: int
    offset_expr: ConstExpr | None
    elem_type: str
    func_indices: tuple[int | None, ...]  # None where an element is an expression that is not ref.func
    offset: int


@dataclass(frozen=True, slots=True)
class FunctionBody:
    index: int  # function index (imports first)
    start: int  # absolute offset of the body (after its size)
    end: int


@dataclass(frozen=True, slots=True)
class Tag:
    index: int
    type_index: int
    imported: Import | None = None


@dataclass(frozen=True, slots=True)
class SectionHeader:
    id: int
    name: str  # "type", "import", … or the custom section's name
    offset: int  # of the id byte
    start: int  # payload start
    end: int  # payload end

    @property
    def size(self) -> int:
        return self.end - self.start


@dataclass(frozen=True, slots=True)
class Names:
    module: str | None = None
    functions: dict[int, str] = field(default_factory=dict)
    globals: dict[int, str] = field(default_factory=dict)
    data_segments: dict[int, str] = field(default_factory=dict)
    memories: dict[int, str] = field(default_factory=dict)
    tables: dict[int, str] = field(default_factory=dict)
    locals: dict[int, dict[int, str]] = field(default_factory=dict)
    other: dict[int, dict[int, str]] = field(default_factory=dict)  # subsection id → index → name


@dataclass(frozen=True, slots=True)
class DylinkInfo:
    legacy: bool
    mem_size: int
    mem_align: int
    table_size: int
    table_align: int
    needed: tuple[str, ...] = ()
