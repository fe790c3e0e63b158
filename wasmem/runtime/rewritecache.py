"""The on-disk cache of instrumentation rewrites: a module rewritten once with the same passes is read back.

An entry is the rewritten bytes, the offset map (``instrument.rewriter.Rewritten``'s anchors, from which
``CodeMap`` maps trap frames back) and each pass's walk state (``Pass.saved_state``: sites, counts), keyed by
the module's content hash, the passes and every parameter that decides what they write
(``rewriter.cache_key``), and wasmem's version with a digest of the ``instrument`` package's own sources (a
changed pass never reads an entry an older one wrote). Since the rewrite is deterministic the bytes are the
same as a fresh rewrite's, so wasmtime's compile cache, keyed by the bytes, hits on them too: the same bytes
are never compiled twice.

Beside the entries (``RZ_SUFFIX``): each module's red zones (model/redzone.py) for a stack pointer, which the
stack pass's key holds, so that a warm run neither rewrites nor scans the module for them
(``cached_red_zones``; 1.7 s on a 69 MB module). The module's hash is computed once for both.

Where: ``$WASMEM_REWRITE_CACHE`` (``off`` turns the cache off), else beside wasmtime's compile cache:
``$WASMEM_CACHE_DIR-wasmem/rewrite`` when ``WASMEM_CACHE_DIR`` moves that one, else
``$XDG_CACHE_HOME/wasmem/rewrite`` (``~/.cache/wasmem/rewrite``). Only modules with at least
``MIN_CODE`` bytes of code are cached (a smaller rewrite costs less than reading an entry back). The
directory is bounded (``MAX_BYTES``): after a write the least recently used entries go. An entry that is
truncated, corrupt (its CRC-32) or for another key is ignored and rewritten, never an error; a cache that
cannot be written is skipped silently (it is an optimisation only).
"""

from __future__ import annotations

import hashlib
import json
import os
import struct
import zlib
from array import array
from functools import lru_cache
from pathlib import Path
from weakref import WeakKeyDictionary

from ..diskcache import trim, user_cache_dir, write_whole
from ..instrument.rewriter import Rewritten, cache_key, restored, rewrite
from ..model.redzone import RedZones, red_zones

MAGIC = b"WASMEM-REWRITE-1\n"
MIN_CODE = 256 << 10  # bytes of code below which a rewrite is not cached
MAX_BYTES = 1 << 30  # the directory's bound
SUFFIX = ".rw"
RZ_SUFFIX = ".rz"  # the red zones of a module (model/redzone.py), which the stack pass's key holds
_digests: WeakKeyDictionary = WeakKeyDictionary()  # module → SHA-256 of its bytes (hashed once per module)


def cache_dir() -> Path | None:
    """The directory of the rewrite cache, or None when ``WASMEM_REWRITE_CACHE=off``."""
    d = os.environ.get("WASMEM_REWRITE_CACHE")
    if d:
        return None if d.lower() in ("off", "0", "no") else Path(d)
    wt = os.environ.get("WASMEM_CACHE_DIR")
    if wt:
        return Path(os.path.abspath(wt) + "-wasmem") / "rewrite"
    return Path(user_cache_dir("rewrite"))


@lru_cache(maxsize=1)
def code_version() -> str:
    """wasmem's installed version and a digest of the sources that decide an entry: the instrument package's
    and this file's (so that an edited pass never reads what an older one wrote, whatever the version)."""
    from importlib import metadata

    from ..instrument import rewriter
    from ..model import redzone

    try:
        version = metadata.version("wasmem")
    except Exception:  # noqa: BLE001 - not installed (run from a source tree): the sources decide alone
        version = "source"
    h = hashlib.blake2b(version.encode(), digest_size=16)
    try:
        for f in [*sorted(Path(rewriter.__file__).parent.glob("*.py")), Path(redzone.__file__), Path(__file__)]:
            h.update(f.name.encode() + b"\0" + f.read_bytes())
    except OSError:
        pass
    return h.hexdigest()


def cached_rewrite(data, passes: list, module, directory: Path | None) -> Rewritten:
    """``rewrite(data, passes)``, read from ``directory`` when an entry for the same key is there, and written
    to it otherwise. ``module``: the parsed ``data`` (its bytes' hash keys the entry, its code size decides
    whether to cache)."""
    key = cache_key(passes) if directory is not None else None
    code = module.get_section(10)
    if key is None or code is None or code.size < MIN_CODE:
        return rewrite(data, passes)
    digest = module_digest(module)
    text = json.dumps([code_version(), digest, len(data), key], separators=(",", ":"))
    path = directory / (hashlib.blake2b(text.encode(), digest_size=20).hexdigest() + SUFFIX)
    hit = _read(path, text)
    if hit is not None:
        new, columns, states = hit
        try:
            return restored(data, passes, new, columns, states, module)
        except Exception:  # noqa: BLE001 - a state this version cannot take back: rewrite afresh
            pass
    result = rewrite(data, passes)
    _write(path, text, result)
    return result


def module_digest(module) -> str:
    """SHA-256 of the module's bytes, computed once per module object: the red zones' and the rewrite's keys
    share it (the fastest of hashlib's here, SHA extensions: 70 ms for 69 MB)."""
    try:
        return _digests[module]
    except (KeyError, TypeError):
        pass
    digest = hashlib.sha256(module.data).hexdigest()
    try:
        _digests[module] = digest
    except TypeError:  # not weakly referable: hashed again next time
        pass
    return digest


def cached_red_zones(module, sp_global: int | None, directory: Path | None) -> RedZones:
    """``red_zones(module, sp_global)``, read from ``directory`` when a warm run of the same module computed
    them (a scan of every body that reads the stack pointer: 1.7 s on a 69 MB module), written otherwise.
    The same bounds as the rewrites (``MIN_CODE``, ``MAX_BYTES``); a damaged entry is recomputed."""
    code = module.get_section(10)
    if directory is None or sp_global is None or code is None or code.size < MIN_CODE:
        return red_zones(module, sp_global)
    text = json.dumps([code_version(), module_digest(module), len(module.data), "red-zones", sp_global],
                      separators=(",", ":"))
    path = directory / (hashlib.blake2b(text.encode(), digest_size=20).hexdigest() + RZ_SUFFIX)
    try:
        entry = json.loads(path.read_bytes())
        if isinstance(entry, dict) and entry.get("key") == text:
            extents = {int(f): int(n) for f, n in entry["extents"]}
            got = RedZones(extents, tuple(int(f) for f in entry["unknown"]))
            if all(n > 0 for n in extents.values()):
                try:
                    os.utime(path)
                except OSError:
                    pass
                return got
    except (OSError, ValueError, KeyError, TypeError, OverflowError, RecursionError):
        pass
    rz = red_zones(module, sp_global)
    blob = json.dumps({"key": text, "extents": sorted(rz.extents.items()), "unknown": list(rz.unknown)},
                      separators=(",", ":")).encode()
    try:
        _write_whole(path, blob)
    except (OSError, TypeError, ValueError):  # the cache is an optimisation only
        pass
    return rz


def _read(path: Path, text: str):
    """(bytes, the anchors' columns, states) of the entry at ``path`` when it is whole and for ``text``; else
    None."""
    try:
        with open(path, "rb") as f:
            if f.read(len(MAGIC)) != MAGIC:
                return None
            (hlen,) = struct.unpack("<Q", f.read(8))
            if hlen > 1 << 30:
                return None
            header = json.loads(f.read(hlen))
            if not isinstance(header, dict) or header.get("key") != text:
                return None
            n, size, states = int(header["anchors"]), int(header["size"]), header["states"]
            if not isinstance(states, list) or n < 0 or size < 0:
                return None
            table = f.read(17 * n)
            new = f.read(size)
            if len(table) != 17 * n or len(new) != size or f.read(1):
                return None
        if zlib.crc32(new, zlib.crc32(table)) != header["crc32"]:
            return None
        new_at, orig, lin = array("q"), array("q"), array("b")
        new_at.frombytes(table[:8 * n])
        orig.frombytes(table[8 * n:16 * n])
        lin.frombytes(table[16 * n:])
        if not (len(new_at) == len(orig) == len(lin) == n):
            return None
    except (OSError, ValueError, KeyError, TypeError, struct.error, OverflowError, MemoryError, RecursionError):
        return None
    try:
        os.utime(path)  # recently used: the bound evicts the others first
    except OSError:
        pass
    return new, (new_at, orig, lin), states


def _write(path: Path, text: str, result: Rewritten) -> None:
    try:
        states = [p.saved_state() for p in result.passes]
        keys, olds, lins = result.columns()
        body = array("q", keys).tobytes() + array("q", olds).tobytes() + array("b", lins).tobytes()
        header = json.dumps({"key": text, "anchors": len(keys), "size": len(result.data),
                             "crc32": zlib.crc32(result.data, zlib.crc32(body)), "states": states}).encode()
        _write_whole(path, MAGIC + struct.pack("<Q", len(header)) + header, body, result.data)
    except (OSError, TypeError, ValueError):  # the cache is an optimisation only
        pass


def _write_whole(path: Path, *chunks: bytes) -> None:
    """Writes an entry whole (``diskcache.write_whole``), then keeps the directory within ``MAX_BYTES`` (the
    least recently used entries go first, never this one)."""
    write_whole(path, *chunks)
    trim(path.parent, (SUFFIX, RZ_SUFFIX), max_bytes=MAX_BYTES, keep=path)
