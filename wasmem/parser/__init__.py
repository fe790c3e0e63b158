"""Pure-stdlib WebAssembly binary reader. Imports nothing outside the standard library."""

from .module import WasmModule, read_const_expr
from .reader import Reader

__all__ = ["WasmModule", "Reader", "read_const_expr"]
