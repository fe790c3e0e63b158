"""A coredump as a memory source: the instance a dump recorded, seen through the module it was taken of. Nothing
here runs wasm or loads wasmtime: `wasmem backtrace` and the ``--core`` options read the dump lazily."""

from __future__ import annotations

import os

from ..errors import UsageError
from ..model.values import check_range
from ..parser.module import WasmModule
from ..runtime.readside import ReadSide
from ..runtime.results import MemoryInfo
from .modules import layout_facts, load_module, load_path, symbols_for


class CoreSession(ReadSide):
    """The instance a coredump recorded, seen through the module it was taken of (``view``: a
    ``model.coredump.CoreView`` that ``open_core`` matched). Memory and global indices are the module's."""

    def __init__(self, view, core_path: str | os.PathLike):
        self.view = view
        self.module = view.module
        self.core_path = os.fspath(core_path)
        self.notes = list(view.notes)
        self.layout, self.sp_global, self.stack_range, self.regions = layout_facts(self.module)
        self.memories = {i: view.memory(i) for i in range(len(self.module.memories))}
        self.module_name = os.path.basename(self.module.path) if self.module.path else "module.wasm"
        self.name = f"{self.module_name} (coredump {os.path.basename(self.core_path)})"
        self._backtrace = None

    def get_global(self, index: int):
        if not 0 <= index < len(self.module.globals):
            raise UsageError(f"global {index} does not exist ({len(self.module.globals)} globals)")
        return self.view.global_value(index)

    def memory(self, index: int = 0) -> MemoryInfo:
        m = self.guest_memory(index)
        decl = self.module.memories[index]
        imp = f"{decl.imported.module}.{decl.imported.name}" if decl.imported else None
        exp = self.module.get_export_names("memory", index)
        return MemoryInfo(index, m.pages, m.size, decl.type.min_pages, decl.type.max_pages, decl.type.shared,
                          decl.type.is64, imp, exp[0] if exp else None)

    def memory_size(self, index: int = 0) -> int:
        return self.guest_memory(index).size

    def read(self, addr: int, n: int, memory: int = 0) -> bytes:
        m = self.guest_memory(memory)
        check_range(addr, n, m.size, f"memory {memory} of the coredump")
        return m.read(addr, n) if n else b""

    def backtrace(self):
        """The dump's frames as `wasmem backtrace` shows them (``model.coredump.Backtrace``), made once."""
        if self._backtrace is None:
            from ..debuginfo.frames import build_backtrace
            self._backtrace = build_backtrace(self.view, symbols_for(self.module))
        return self._backtrace

    def close(self) -> None:
        self.view.core.close()


def open_core_session(path_or_module, core: str | os.PathLike) -> CoreSession:
    """The coredump ``core`` of the module ``path_or_module`` as a read-only session. A module that does not
    fit the dump is the same UsageError `wasmem backtrace` gives (``wasmem.api.open_core``)."""
    from ..parser.coredump import is_coredump

    module = load_module(path_or_module)
    if is_coredump(module):  # the arguments the other way round: say it in this command's terms
        raise UsageError(f"{module.path or 'MODULE'} is a coredump: give the module it was taken of as MODULE and "
                         f"the dump with --core")
    dump = load_path(core, validate=False)  # mapped, sections read as needed
    try:
        if not is_coredump(dump):
            raise UsageError(f"{os.fspath(core)}: not a coredump (no `core` custom section): --core takes the dump "
                             f"that `wasmtime run -D coredump=FILE` or `wasmem call --coredump FILE` wrote")
    finally:
        dump.close()
    return CoreSession(open_core(core, module), core)


def open_core(core: str | os.PathLike, module: str | os.PathLike | WasmModule):
    """A coredump (``wasmtime run -D coredump=FILE``, ``wasmem call --coredump FILE``) seen through the
    module it was taken of: a ``CoreView`` whose ``memory(i)``, ``global_value(i)`` and ``frames`` are in the
    module's own index spaces. The dump is memory-mapped; only the segment headers are read until memory is.
    A module that does not fit the dump (globals, memories, frames) is a UsageError."""
    from ..model.coredump import match_module, read_coredump
    from ..parser.coredump import is_coredump

    mod = module if isinstance(module, WasmModule) else load_path(module)
    if is_coredump(mod):
        raise UsageError(f"{mod.path or 'the module'} is a coredump: give the coredump first, then the module "
                         f"it was taken of")
    dump = load_path(core, validate=False)  # its sections are read as needed, each checked as it is read
    if not is_coredump(dump):
        raise UsageError(f"{os.fspath(core)}: not a coredump (no `core` custom section); a module goes second")
    return match_module(read_coredump(dump), mod)
