"""What wasmem's on-disk caches share (stdlib only, no other layer): where they live, writing an entry whole,
and keeping a directory within its bounds. The caches themselves are the DWARF index (``debuginfo/dwcache.py``)
and the instrumentation rewrites (``runtime/rewritecache.py``); each is an optimisation only, so every
function here leaves errors to the caller, which skips the cache on them."""

from __future__ import annotations

import os
import tempfile


def user_cache_dir(*parts: str) -> str:
    """``wasmem/PARTS`` under the user's cache directory (``$XDG_CACHE_HOME``, by default ``~/.cache``), beside
    wasmtime's compile cache (``~/.cache/wasmtime``) and not inside it: wasmtime's cleaner deletes files it does
    not know."""
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return os.path.join(base, "wasmem", *parts)


def write_whole(path: str | os.PathLike, *chunks: bytes) -> None:
    """Writes ``chunks`` to ``path`` through a temporary file in its directory renamed over it, so that a reader
    sees a whole entry or none. Raises OSError."""
    d = os.path.dirname(os.fspath(path))
    os.makedirs(d, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".part-", dir=d)
    try:
        with os.fdopen(fd, "wb") as f:
            for chunk in chunks:
                f.write(chunk)
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise


def trim(directory: str | os.PathLike, suffixes: tuple[str, ...], *, max_bytes: int, max_files: int | None = None,
         keep: str | os.PathLike | None = None) -> None:
    """Removes the least recently used (by modification time) files of ``directory`` whose names end with one of
    ``suffixes`` until they hold at most ``max_bytes`` bytes in at most ``max_files`` files; ``keep`` (the entry
    just written) is never removed. A directory that cannot be listed is left as it is."""
    try:
        entries = []
        with os.scandir(directory) as it:
            for e in it:
                if e.name.endswith(suffixes) and e.is_file(follow_symlinks=False):
                    st = e.stat(follow_symlinks=False)
                    entries.append((st.st_mtime, st.st_size, e.path))
    except OSError:
        return
    total, count = sum(size for _, size, _ in entries), len(entries)
    keep = os.fspath(keep) if keep is not None else None
    for _, size, path in sorted(entries):  # oldest first
        if total <= max_bytes and (max_files is None or count <= max_files):
            break
        if path == keep:
            continue
        try:
            os.unlink(path)
        except OSError:
            continue
        total -= size
        count -= 1
