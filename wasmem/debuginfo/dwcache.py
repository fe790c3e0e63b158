"""The DWARF index on disk: one file per module content, so that a second command reads no DWARF to learn where
things are.

Where: ``$WASMEM_DWARF_CACHE`` when set (empty or ``off``: no cache), else ``wasmem/dwarf`` under the user's
cache directory (``$XDG_CACHE_HOME``, by default ``~/.cache``), beside wasmtime's compile cache
(``~/.cache/wasmtime``; not inside it: wasmtime's cleaner deletes files it does not know, and ``WASMEM_CACHE_DIR``
is wasmtime's directory).

The key is the SHA-256 of the content the index depends on: the DWARF sections it reads, the module's imports,
globals and dylink section, the base a position-independent module's data gets, and the index's format: a
change to any of them is a new key, never a stale answer (code and data, which the index does not read, are
not hashed). Files are written whole (a temporary file renamed into place), read as
compressed JSON (never unpickled), and a file that does not read as an index is ignored and rewritten: a damaged
cache costs a rebuild, never a traceback. Bounded: at most ``MAX_FILES`` files and ``MAX_BYTES`` bytes; the
least recently used go first.
"""

from __future__ import annotations

import hashlib
import json
import os
import weakref
import zlib

from ..diskcache import trim as trim_directory
from ..diskcache import user_cache_dir, write_whole
from .dwindex import INDEX_FORMAT, DwarfIndex, stats

MAX_FILES = 200
MAX_BYTES = 256 * 1024 * 1024
MAX_FILE_BYTES = 64 * 1024 * 1024  # one index file larger than this is not read (nor written)

ENV = "WASMEM_DWARF_CACHE"
SUFFIX = ".json.z"


def cache_dir() -> str | None:
    """The directory of the DWARF index cache, or None when it is off."""
    d = os.environ.get(ENV)
    if d is not None:
        return None if d.strip() in ("", "off", "0") else d
    return user_cache_dir("dwarf")


def content_key(data, extra: str = "") -> str:
    """The cache key of DWARF held in ``data`` (bytes, a memoryview, or a list of them) and the facts ``extra``."""
    h = hashlib.sha256()
    h.update(f"wasmem-dwarf-index {INDEX_FORMAT} {extra}\n".encode())
    for part in data if isinstance(data, list) else [data]:
        h.update(len(part).to_bytes(8, "little"))
        h.update(part)
    return h.hexdigest()


# what the index depends on besides the DWARF: the module's imports, globals and dylink section (the address of
# a position-independent module's variable is a global's value plus an offset)
KEY_SECTIONS = (2, 6)


def index_key(module, holder, facts: str) -> str:
    """The content hash of everything the index of ``module``'s DWARF (in ``holder``) depends on: the DWARF
    sections it reads, the module's imports, globals and dylink section, and ``facts`` (the data base wasmem
    gives a position-independent module). The rest of a module (its code, its data) is not hashed: a 50 MB
    module is not paged in to find its index."""
    from .dwindex import INDEX_SECTIONS

    parts = [holder.data[s.start:s.end] for s in holder.debug_sections if s.name in INDEX_SECTIONS]
    parts += [module.data[s.start:s.end] for s in module.sections
              if s.id in KEY_SECTIONS or (s.id == 0 and s.name.startswith("dylink"))]
    return content_key(parts, facts)


def _path(key: str) -> str | None:
    d = cache_dir()
    return None if d is None else os.path.join(d, key + SUFFIX)


def load(key: str) -> DwarfIndex | None:
    """The cached index for ``key``, or None (none cached, the cache off, or a file that is not an index)."""
    p = _path(key)
    if p is None:
        return None
    try:
        with open(p, "rb") as f:
            raw = f.read(MAX_FILE_BYTES + 1)
    except OSError:
        stats["misses"] += 1
        return None
    try:
        if len(raw) > MAX_FILE_BYTES:
            raise ValueError("too large")
        d = zlib.decompressobj()
        text = d.decompress(raw, 16 * MAX_FILE_BYTES)
        if d.unconsumed_tail:
            raise ValueError("too large")
        index = DwarfIndex.from_json(json.loads(text))
    except (ValueError, zlib.error, RecursionError, MemoryError, UnicodeDecodeError):
        stats["rejected"] += 1
        try:
            os.unlink(p)
        except OSError:
            pass
        return None
    stats["hits"] += 1
    try:
        os.utime(p)  # recently used: the last to go
    except OSError:
        pass
    return index


def store(key: str, index: DwarfIndex) -> bool:
    """Writes the index for ``key``; False when the cache is off or cannot be written (never an error)."""
    p = _path(key)
    if p is None:
        return False
    try:
        data = zlib.compress(json.dumps(index.to_json(), separators=(",", ":")).encode(), 6)
        if len(data) > MAX_FILE_BYTES:
            return False
        write_whole(p, data)
        stats["writes"] += 1
        trim(os.path.dirname(p))
        return True
    except (OSError, ValueError, OverflowError):
        return False


def trim(d: str, max_files: int = MAX_FILES, max_bytes: int = MAX_BYTES) -> None:
    """Removes the least recently used index files until at most ``max_files`` files of ``max_bytes`` remain."""
    trim_directory(d, (SUFFIX,), max_bytes=max_bytes, max_files=max_files)


_MEMO: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()  # DWARF holder → {facts: DwarfIndex}


def module_index(module, holder=None) -> DwarfIndex | None:
    """The DWARF index of ``module`` (its DWARF in ``holder``: the module itself, or the separate file holding
    it), from memory, from the disk cache, or by the scan (then kept on disk); None without .debug_info.
    Raises ParseError for damaged DWARF and VariableScanOverBudget past the ``varscan`` budget (a cached index
    too: a budget lowered since is kept)."""
    from ..budgets import budget_of
    from ..model.globalvalues import global_value, pic_bases
    from .dwindex import build_index
    from .varscan import MAX_SCAN_ENTRIES, over_budget

    holder = module if holder is None else holder
    if not any(s.name == ".debug_info" for s in holder.debug_sections):
        return None
    limit = budget_of(module, "varscan") or MAX_SCAN_ENTRIES
    try:
        facts = repr(pic_bases(module))
    except Exception:  # noqa: BLE001 - a module whose dylink section is damaged: its data at the default base
        facts = "?"
    try:
        memo = _MEMO.setdefault(holder, {})
    except TypeError:
        memo = {}
    index = memo.get(facts)
    if index is None:
        key = index_key(module, holder, facts)
        index = load(key)
        if index is None:
            index = build_index(holder, lambda i: global_value(module, i), limit)
            store(key, index)
        memo[facts] = index
    if index.entries > limit:
        raise over_budget(limit)
    return index
