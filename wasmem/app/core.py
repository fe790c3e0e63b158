"""A coredump as a memory source: the instance a dump recorded, seen through the module it was taken of; and
its memory written out as a sparse raw image (``dump --core X --save FILE``). Nothing here runs wasm or
loads wasmtime: `wasmem backtrace` and the ``--core`` options read the dump lazily."""

from __future__ import annotations

import os
import stat
import tempfile

from ..errors import UsageError, naming_file
from ..model.coredump import DEFAULT_MAX_SAVE
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
    with naming_file(core):
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
    with naming_file(core):  # a truncated or malformed dump: the error names its file
        dump = load_path(core, validate=False)  # its sections are read as needed, each checked as it is read
        if not is_coredump(dump):
            raise UsageError(f"{os.fspath(core)}: not a coredump (no `core` custom section); a module goes second")
        return match_module(read_coredump(dump), mod)


def find_core_module(core: str | os.PathLike) -> tuple[str, str]:
    """The module a coredump was taken of, found by the name the dump records (tool-conventions
    Coredump.md: the ``core`` section's executable name, then the ``coremodules`` names): that path when
    it is absolute, else next to the dump (as given, then its last component), then as given from the
    working directory. Returns (path, a note saying which file was used and why); a dump that names no
    module, or whose module is at none of those paths, is a UsageError naming the paths looked at."""
    from ..parser.coredump import is_coredump, read_core_sections

    core = os.fspath(core)
    with naming_file(core):
        dump = load_path(core, validate=False)
        try:
            if not is_coredump(dump):
                raise UsageError(f"{core}: not a coredump (no `core` custom section)")
            sections = read_core_sections(dump)
        finally:
            dump.close()
    names = list(dict.fromkeys(n for n in (sections.name, *sections.modules) if n))
    if not names:
        raise UsageError(f"{core}: the coredump does not name the module it was taken of: give MODULE")
    folder = os.path.dirname(core)
    looked: list[str] = []
    for name in names:
        paths = [name] if os.path.isabs(name) else [os.path.join(folder, name),
                                                    os.path.join(folder, os.path.basename(name)), name]
        for path in paths:
            if path in looked:
                continue
            looked.append(path)
            if os.path.isfile(path):
                return path, f"used {path}, the module the coredump names ({name!r})"
    raise UsageError(f"{core}: the coredump names its module {names[0]!r}, but there is no "
                     f"{' nor '.join(looked)}: give MODULE, the module it was taken of")


# -- a coredump's memory as a raw image (`dump --core X --save FILE`) ---------------------------------


def _fmt_bytes(n: int) -> str:
    for unit, shift in (("TiB", 40), ("GiB", 30), ("MiB", 20), ("KiB", 10)):
        if n >= 1 << shift:
            return f"{n / (1 << shift):.4g} {unit}"
    return f"{n} bytes"


def save_core_image(memory, path: str | os.PathLike, *, max_size: int | None = DEFAULT_MAX_SAVE,
                    check=None) -> int:
    """Writes the coredump memory ``memory`` (a ``model.coredump.CoreMemory``) to ``path`` as a raw image
    (``--snapshot`` reads it back): a sparse file of the memory's size in which only the bytes the dump
    holds are written, at their offsets (the zeros between them are holes: a 4 GiB memory with 100 bytes
    of data writes 100 bytes). A memory larger than ``max_size`` bytes (``--max-save``; 0 or None: no
    limit) is refused. ``check`` (a deadline's ``check``) is called before each block written; the image
    is written to a temporary file beside ``path`` and renamed over it only when complete, so a refusal,
    a timeout or a full disk leaves no partial image. A ``path`` that is not a regular file (a pipe,
    /dev/stdout) gets the image as a stream, its zeros included (within ``max_size`` and ``check``).
    Returns the bytes written."""
    path = os.fspath(path)
    size = memory.size
    what = f"memory {memory.index} of the coredump"
    if max_size and size > max_size:
        raise UsageError(f"--save: {what} is {size} bytes ({_fmt_bytes(size)}), more than --max-save "
                         f"{max_size} ({_fmt_bytes(max_size)}); raise --max-save (0 = no limit) to write it (the "
                         f"image is sparse: only the {memory.data_bytes} bytes the dump holds are written)")
    try:
        st = os.stat(path)
    except FileNotFoundError:
        st = None
    except OSError as exc:
        raise UsageError(f"--save: cannot write {path}: {exc.strerror or exc}") from None
    if st is not None and not stat.S_ISREG(st.st_mode):
        if stat.S_ISDIR(st.st_mode):
            raise UsageError(f"--save: {path} is a directory")
        return _stream_image(memory, path, check)
    if st is not None and not os.access(path, os.W_OK):
        raise UsageError(f"--save: cannot write {path}: permission denied")
    if check is not None:
        check()
    folder = os.path.dirname(os.path.abspath(path))
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{os.path.basename(path)}.", suffix=".part", dir=folder)
    except OSError as exc:
        raise UsageError(f"--save: cannot write {path}: {exc.strerror or exc}") from None
    written = 0
    try:
        umask = os.umask(0)
        os.umask(umask)
        os.fchmod(fd, (stat.S_IMODE(st.st_mode) if st is not None else 0o666 & ~umask))
        try:
            os.ftruncate(fd, size)  # the whole image as one hole; the data goes in below
        except OSError as exc:
            raise UsageError(f"--save: cannot make {path} {size} bytes long ({_fmt_bytes(size)}): "
                             f"{exc.strerror or exc}") from None
        for addr, block in memory.iter_runs():
            if check is not None:
                check()
            view = memoryview(block)
            while view:
                n = os.pwrite(fd, view, addr)
                view, addr, written = view[n:], addr + n, written + n
        os.close(fd)
        fd = -1
        os.replace(tmp, path)
    except BaseException:
        if fd >= 0:
            os.close(fd)
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise
    return written


_ZEROS = bytes(1 << 20)


def _stream_image(memory, path: str, check) -> int:
    """The image written in order, zeros included, to a file that cannot hold holes (a pipe, a device)."""
    written = 0

    def put(f, block) -> None:
        nonlocal written
        if check is not None:
            check()
        f.write(block)
        written += len(block)

    with open(path, "wb") as f:
        pos = 0
        for addr, block in memory.iter_runs():
            while pos < addr:
                put(f, _ZEROS[:min(len(_ZEROS), addr - pos)])
                pos = min(addr, pos + len(_ZEROS))
            put(f, block)
            pos = addr + len(block)
        while pos < memory.size:
            put(f, _ZEROS[:min(len(_ZEROS), memory.size - pos)])
            pos = min(memory.size, pos + len(_ZEROS))
    return written
