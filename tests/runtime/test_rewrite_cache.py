"""The on-disk rewrite cache (runtime/rewritecache.py): a cached rewrite gives the bytes, the offset map and
the passes' state of a fresh one; a changed pass parameter misses; a corrupt entry is rebuilt, never an error."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from types import SimpleNamespace

import pytest
from conftest import sample

from wasmem.app import open_session
from wasmem.instrument.callpath import CallPathPass
from wasmem.instrument.rewriter import rewrite
from wasmem.instrument.stack import StackPass
from wasmem.instrument.watch import WatchPass
from wasmem.parser.module import WasmModule
from wasmem.runtime import rewritecache
from wasmem.runtime.invoke import CodeMap


@pytest.fixture
def cache(tmp_path, monkeypatch):
    """The cache in tmp_path, for modules of any size; ``cache.rewrites`` counts the fresh rewrites."""
    d = tmp_path / "rewrite"
    monkeypatch.setenv("WASMEM_REWRITE_CACHE", str(d))
    monkeypatch.setattr(rewritecache, "MIN_CODE", 0)
    calls = []

    def counted(data, passes):
        calls.append(len(passes))
        return rewrite(data, passes)

    monkeypatch.setattr(rewritecache, "rewrite", counted)
    return SimpleNamespace(dir=d, rewrites=calls)


def _module():
    data = Path(sample("memdemo.wasm")).read_bytes()
    return data, WasmModule.from_bytes(data)


def _passes(low: int = 0):
    return [StackPass(0, low), CallPathPass(), WatchPass(2, reads=True)]


def _entries(d):
    return sorted(p for p in d.iterdir() if p.suffix == ".rw")


def test_a_cached_rewrite_is_the_fresh_one(cache):
    data, module = _module()
    fresh = rewrite(data, _passes())
    first = rewritecache.cached_rewrite(data, _passes(), module, rewritecache.cache_dir())
    assert cache.rewrites == [3] and len(_entries(cache.dir)) == 1
    passes = _passes()
    again = rewritecache.cached_rewrite(data, passes, module, rewritecache.cache_dir())
    assert cache.rewrites == [3]  # read back, not rewritten
    assert again.data == first.data == fresh.data  # byte-identical: wasmtime's compile cache hits too
    assert again.anchors == fresh.anchors
    # the same CodeMap: every code offset maps back to the same original offset
    a, b = CodeMap(module, fresh), CodeMap(module, again)
    code = WasmModule.from_bytes(fresh.data).get_section(10)
    assert [a.original_offset(o) for o in range(code.start, code.end)] == \
           [b.original_offset(o) for o in range(code.start, code.end)]
    # the passes' state: what the observers read after the rewrite
    stack, callpath, watch = passes
    fstack, fcallpath, fwatch = fresh.passes
    assert stack.sites == fstack.sites > 0
    assert (stack.hook, stack.sp_min, stack.names) == (fstack.hook, fstack.sp_min, fstack.names)
    assert replace(stack.result(again), rewritten=None) == replace(fstack.result(fresh), rewritten=None)
    assert watch.sites == fwatch.sites and len(watch.sites) > 10
    assert (watch.exports, watch.range_exports, watch.table) == (fwatch.exports, fwatch.range_exports, fwatch.table)
    assert (callpath.functions, callpath._skip, callpath.exports) == \
           (fcallpath.functions, fcallpath._skip, fcallpath.exports)


def test_a_changed_pass_parameter_misses(cache):
    data, module = _module()
    d = rewritecache.cache_dir()
    rewritecache.cached_rewrite(data, _passes(low=0), module, d)
    r16 = rewritecache.cached_rewrite(data, _passes(low=16), module, d)
    assert cache.rewrites == [3, 3] and len(_entries(cache.dir)) == 2
    assert r16.data == rewrite(data, _passes(low=16)).data
    rewritecache.cached_rewrite(data, [StackPass(0, 0)], module, d)  # fewer passes: another key
    rewritecache.cached_rewrite(data, [StackPass(0, 0), CallPathPass(), WatchPass(2)], module, d)  # reads off
    assert cache.rewrites == [3, 3, 1, 3] and len(_entries(cache.dir)) == 4
    # another module: another key
    other = Path(sample("memdemo-O0.wasm")).read_bytes()
    rewritecache.cached_rewrite(other, [StackPass(0, 0)], WasmModule.from_bytes(other), d)
    assert cache.rewrites == [3, 3, 1, 3, 1]


@pytest.mark.parametrize("damage", ["truncate", "flip", "garbage", "empty", "other-key"])
def test_a_corrupt_entry_is_rebuilt(cache, damage):
    data, module = _module()
    d = rewritecache.cache_dir()
    fresh = rewritecache.cached_rewrite(data, _passes(), module, d)
    (entry,) = _entries(cache.dir)
    blob = entry.read_bytes()
    if damage == "truncate":
        entry.write_bytes(blob[:len(blob) // 2])
    elif damage == "flip":
        i = len(blob) - 100
        entry.write_bytes(blob[:i] + bytes([blob[i] ^ 1]) + blob[i + 1:])
    elif damage == "garbage":
        entry.write_bytes(b"\x00\xff" * 1000)
    elif damage == "empty":
        entry.write_bytes(b"")
    else:  # a whole entry written for another key, under this key's name
        other = Path(sample("memdemo-O0.wasm")).read_bytes()
        d2 = cache.dir.parent / "other"
        rewritecache.cached_rewrite(other, [StackPass(0, 0)], WasmModule.from_bytes(other), d2)
        (e2,) = _entries(d2)
        entry.write_bytes(e2.read_bytes())
    rebuilt = rewritecache.cached_rewrite(data, _passes(), module, d)
    assert rebuilt.data == fresh.data and rebuilt.anchors == fresh.anchors
    assert cache.rewrites[-1] == 3 and len(cache.rewrites) == (3 if damage == "other-key" else 2)
    # the rebuilt entry is whole again
    n = len(cache.rewrites)
    assert rewritecache.cached_rewrite(data, _passes(), module, d).data == fresh.data
    assert len(cache.rewrites) == n


def test_the_cache_is_bounded(cache, monkeypatch):
    data, module = _module()
    d = rewritecache.cache_dir()
    rewritecache.cached_rewrite(data, [StackPass(0, 0)], module, d)
    size = _entries(cache.dir)[0].stat().st_size
    monkeypatch.setattr(rewritecache, "MAX_BYTES", 2 * size + size // 2)
    for low in (16, 32, 48, 64):
        rewritecache.cached_rewrite(data, [StackPass(0, low)], module, d)
    assert len(_entries(cache.dir)) == 2


def test_an_unwritable_cache_is_skipped(cache, tmp_path):
    data, module = _module()
    blocker = tmp_path / "file"
    blocker.write_bytes(b"x")
    r = rewritecache.cached_rewrite(data, [StackPass(0, 0)], module, blocker / "rewrite")
    assert r.data == rewrite(data, [StackPass(0, 0)]).data


def test_cache_off_and_location(monkeypatch, tmp_path):
    monkeypatch.setenv("WASMEM_REWRITE_CACHE", "off")
    assert rewritecache.cache_dir() is None
    monkeypatch.delenv("WASMEM_REWRITE_CACHE")
    monkeypatch.setenv("WASMEM_CACHE_DIR", str(tmp_path / "wt"))
    assert rewritecache.cache_dir() == tmp_path / "wt-wasmem" / "rewrite"  # beside wasmtime's, not inside
    monkeypatch.delenv("WASMEM_CACHE_DIR")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert rewritecache.cache_dir() == tmp_path / "xdg" / "wasmem" / "rewrite"


def test_sessions_share_the_cached_rewrite(cache):
    """Two sessions (stack measurement and a watch with its call path): the second reads the rewrite back,
    compiles the same bytes and measures the same."""
    def run():
        with open_session(sample("memdemo.wasm"), timeout=5,
                          watch={"ranges": 1, "reads": False, "sp_range": None}) as s:
            r = s.call("fib_stack", ["10"])
            return s.prepared.data, s.prepared.code.rewritten.anchors, r.results, r.stack.exact_peak

    first = run()
    n = len(cache.rewrites)
    assert n == 1 and len(_entries(cache.dir)) == 1
    second = run()
    assert len(cache.rewrites) == n
    assert second == first and first[3] == 10 * 64
