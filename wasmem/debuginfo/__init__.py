"""Debug information: DWARF (through pyelftools, imported lazily) with a name-section fallback.

``load_symbols(module)`` is the entry point: a ``SymbolTable`` that lists data symbols and
functions, maps addresses to ``<symbol+offset>``, resolves ``cfg.items[3].name`` paths, and maps
code offsets to functions and source lines. ``format_value`` decodes typed memory into a tree.
"""

from .debugfile import find_external_debug_file, resolve_external_debug_file
from .records import EXPORTED, FUNCTION, LINKER_MARKERS, MARKER, SEGMENT, VARIABLE, Symbol
from .symbols import (
    ResolvedPath,
    SymbolListing,
    SymbolTable,
    load_debug_info,
    load_symbols,
    symbol_listing,
)
from .typesys import (
    ArrayType,
    BaseType,
    EnumType,
    FunctionType,
    Member,
    PointerType,
    QualifiedType,
    StructType,
    Type,
    TypedefType,
    UnknownType,
    VoidType,
    sizeof,
)
from .values import StaticMemory, Value, format_value, read_c_string

__all__ = [
    "load_symbols", "load_debug_info", "symbol_listing", "SymbolListing", "find_external_debug_file",
    "resolve_external_debug_file", "SymbolTable", "ResolvedPath", "Symbol",
    "VARIABLE", "FUNCTION", "SEGMENT", "MARKER", "EXPORTED", "LINKER_MARKERS",
    "Type", "BaseType", "PointerType", "StructType", "Member", "ArrayType", "EnumType", "TypedefType",
    "QualifiedType", "FunctionType", "VoidType", "UnknownType", "sizeof",
    "StaticMemory", "Value", "format_value", "read_c_string",
]
