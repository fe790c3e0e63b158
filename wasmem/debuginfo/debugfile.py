"""Where a module's DWARF comes from: the module itself, a debug file given by name (``--debug-file``), or the
file its ``external_debug_info`` section names, followed only when that is safe."""

from __future__ import annotations

import os
import re
import stat

from ..errors import UsageError

MAX_DEBUG_FILE_SIZE = 512 * 1024 * 1024  # a separate debug file (external_debug_info, --debug-file) above this is refused


def resolve_external_debug_file(module) -> tuple[str | None, str | None]:
    """(path, None) for the file the ``external_debug_info`` section names, or (None, why not).

    The name comes from the module, so it is followed only to a relative path that stays in the
    module's folder: no absolute path, no ``..``, no symbolic link leading out (the real path is
    checked), a regular file of at most MAX_DEBUG_FILE_SIZE bytes. URLs are not fetched. A module
    read from bytes has no folder: its reference is not followed (``--debug-file`` names the file)."""
    ref = module.external_debug_info
    if not ref:
        return None, None
    if "://" in ref:
        return None, "a URL: not fetched"
    if "\0" in ref or any(ord(c) < 0x20 for c in ref):
        return None, "refused: control characters in the path"
    if os.path.isabs(ref) or ref.startswith(("/", "\\")) or re.match(r"^[A-Za-z]:", ref):
        return None, "refused: an absolute path (only a path beside the module is followed)"
    if ".." in re.split(r"[/\\]", ref):
        return None, "refused: the path leaves the module's folder"
    if not module.path:
        return None, "not followed: the module was not read from a file"
    base = os.path.realpath(os.path.dirname(os.path.abspath(module.path)))
    target = os.path.realpath(os.path.join(base, ref))
    if os.path.commonpath([base, target]) != base:
        return None, "refused: a symbolic link leads out of the module's folder"
    try:
        st = os.stat(target)
    except OSError:
        return None, "not found"
    if not stat.S_ISREG(st.st_mode):
        return None, "refused: not a regular file"
    if st.st_size > MAX_DEBUG_FILE_SIZE:
        return None, f"refused: larger than {MAX_DEBUG_FILE_SIZE >> 20} MiB"
    return target, None


def find_external_debug_file(module) -> str | None:
    """The local file named by the ``external_debug_info`` section when it may be followed (see
    ``resolve_external_debug_file``), else None."""
    return resolve_external_debug_file(module)[0]


def open_debug_file(path: str):
    """The module in a separate debug file: a regular file (never a FIFO or a device, opened
    without blocking and without following a final symbolic link after the check) of at most
    MAX_DEBUG_FILE_SIZE bytes. UsageError when it is not one."""
    import mmap

    from ..files import open_regular
    from ..parser import WasmModule

    fd, st = open_regular(path, what="the debug file", max_size=MAX_DEBUG_FILE_SIZE,
                          size_note=f"a debug file may have ({MAX_DEBUG_FILE_SIZE >> 20} MiB)")
    try:
        if st.st_size == 0:
            raise UsageError(f"the debug file {path} is empty")
        mm = mmap.mmap(fd, 0, access=mmap.ACCESS_READ)
    finally:
        os.close(fd)
    return WasmModule(memoryview(mm), path, _keepalive=mm)


def debug_holder(module, debug_file: str | None = None):
    """(the module whose .debug_* sections hold ``module``'s DWARF, the file it came from or None): the file
    ``debug_file`` (or ``--debug-file``) names, else the module itself when it has .debug_info, else the file
    its external_debug_info section names when that may be followed; (None, None) without one. An unreadable
    ``debug_file`` is a UsageError; an external file that is gone is no DWARF (the name section serves)."""
    debug_file = debug_file or getattr(module, "debug_file", None)
    if debug_file:
        return open_debug_file(debug_file), debug_file
    if any(s.name == ".debug_info" for s in module.debug_sections):
        return module, None
    ext = find_external_debug_file(module)
    if ext is None:
        return None, None
    try:
        return open_debug_file(ext), ext
    except UsageError:  # gone or replaced since the check
        return None, None
