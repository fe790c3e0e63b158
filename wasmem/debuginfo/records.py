"""Plain records shared by the DWARF reader and the symbol table (no pyelftools here)."""

from __future__ import annotations

from dataclasses import dataclass

from .typesys import Type

# Symbol kinds
VARIABLE = "variable"  # a C global / static from DWARF
FUNCTION = "function"  # code; ``address`` is an offset from the code section payload start
SEGMENT = "segment"  # a data segment named in the name section (.rodata, .data, .bss)
MARKER = "marker"  # a linker symbol exported as an immutable global (__heap_base, __data_end)
EXPORTED = "exported"  # another exported immutable i32/i64 global whose value is a data address

LINKER_MARKERS = frozenset({
    "__data_end", "__heap_base", "__heap_end", "__global_base", "__stack_low", "__stack_high",
    "__memory_base", "__table_base", "__dso_handle", "__tls_base", "__tls_size", "__tls_align",
    "__data_start", "__stack_base",
})


@dataclass(eq=False)
class Symbol:
    name: str
    kind: str
    address: int  # data: linear-memory address; function: code offset (see ``module_offset``)
    size: int | None = None  # None when unknown (name-section / export fallback)
    type: Type | None = None
    file: str | None = None
    line: int | None = None
    region: str | None = None  # rodata | data | bss | code | … ; filled in by the SymbolTable
    source: str = "dwarf"  # dwarf | name | export
    scope: str | None = None  # the enclosing function of a function-static variable
    compile_unit: str | None = None
    external: bool = True
    func_index: int | None = None  # functions: index in the function index space
    module_offset: int | None = None  # functions: absolute file offset of low_pc

    @property
    def end(self) -> int:
        return self.address + (self.size or 0)

    @property
    def type_name(self) -> str | None:
        return None if self.type is None else self.type.name

    @property
    def display_name(self) -> str:
        return f"{self.scope}::{self.name}" if self.scope else self.name

    def contains(self, addr: int) -> bool:
        return self.size is not None and self.address <= addr < self.address + max(self.size, 1)

    def to_dict(self) -> dict:
        """Stable JSON form."""
        return {
            "name": self.display_name,
            "address": self.address,
            "size": self.size,
            "type": self.type_name,
            "region": self.region,
            "file": self.file,
            "line": self.line,
            "kind": self.kind,
        }

    def __repr__(self) -> str:
        return (f"<Symbol {self.kind} {self.display_name} @{self.address:#x} size={self.size} "
                f"type={self.type_name!r}>")
