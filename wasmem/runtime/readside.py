"""The read side that a live session and a coredump share: names of functions and globals, signatures, the
stack pointer, address expressions, memories by index. A subclass provides ``module``, ``memories`` (index →
a memory), ``sp_global`` and ``get_global``."""

from __future__ import annotations

from ..errors import UsageError
from ..model.values import eval_address


def function_name(module, index: int, fallback: str | None = None) -> str:
    """A function's name: the name section's, else its first export's, else the engine's ``fallback`` (when
    it is a name, not ``<wasm function N>``), else ``func[N]``."""
    n = module.names.functions.get(index)
    if n:
        return n
    exp = module.get_export_names("func", index)
    if exp:
        return exp[0]
    if fallback and not fallback.startswith("<"):
        return fallback
    return f"func[{index}]"


def function_signature(module, func_index: int, ft, *, skip: int = 0) -> str:
    """``(i32 a, i32 b) -> i32``: a function's parameters (named from the name section's locals) and results;
    ``skip`` leaves out the first parameters (a hidden result pointer)."""
    names = module.names.locals.get(func_index, {})
    ps = [f"{t} {names[i]}" if names.get(i) else t for i, t in enumerate(ft.params)][skip:]
    res = f" -> {', '.join(ft.results)}" if ft.results else ""
    return f"({', '.join(ps)}){res}"


class ReadSide:
    module = None
    memories: dict = {}
    sp_global: int | None = None

    def get_global(self, index: int):
        raise NotImplementedError

    def function_name(self, index: int, fallback: str | None = None) -> str:
        return function_name(self.module, index, fallback)

    def signature(self, name: str, func_index: int, ft, *, skip: int = 0) -> str:
        return function_signature(self.module, func_index, ft, skip=skip)

    def find_global(self, name: str) -> int | None:
        """Global index for an export name, a name-section name or an imported global's name."""
        module = self.module
        e = module.find_export(name)
        if e is not None and e.kind == "global":
            return e.index
        for idx, n in module.names.globals.items():
            if n == name:
                return idx
        for imp in module.imports:
            if imp.kind == "global" and imp.name == name:
                return sum(1 for j in module.imports[:imp.index] if j.kind == "global")
        return None

    @property
    def has_sp(self) -> bool:
        return self.sp_global is not None

    @property
    def is64(self) -> bool:
        """Whether memory 0 is a memory64 (addresses and the stack pointer are i64)."""
        return self.module.is_memory64

    def get_sp(self) -> int | None:
        if self.sp_global is None:
            return None
        v = self.get_global(self.sp_global)
        return v & 0xFFFFFFFF if isinstance(v, int) and v < 0 and not self.is64 else v

    def resolve_address(self, text: str) -> int:
        """Address expression → int: decimal, 0x hex, ``sp``, an exported or named global, ``name+0x10``."""
        def lookup(name: str):
            if name.lower() == "sp":
                sp = self.get_sp()
                if sp is None:
                    raise UsageError("`sp`: this module has no known stack pointer")
                return sp
            g = self.find_global(name)
            if g is not None:
                v = self.get_global(g)
                return v & 0xFFFFFFFF if isinstance(v, int) and v < 0 else v
            return None
        return eval_address(text, lookup)

    def guest_memory(self, index: int):
        """Memory ``index`` (a UsageError when it does not exist)."""
        m = self.memories.get(index)
        if m is None:
            n = len(self.module.memories)
            raise UsageError(f"memory {index} does not exist (the module has {n} memor{'y' if n == 1 else 'ies'})")
        return m
