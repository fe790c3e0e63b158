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
from wasmem.model.redzone import red_zones
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
    scans = []

    def counted_zones(module, sp_global):
        scans.append(sp_global)
        return red_zones(module, sp_global)

    monkeypatch.setattr(rewritecache, "red_zones", counted_zones)
    return SimpleNamespace(dir=d, rewrites=calls, red_zone_scans=scans)


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


# -- the heap passes (instrument/heap.py, heap_pointers.py, memcheck.py) -----------------------------------
HEAP_DATA = Path(__file__).resolve().parent.parent / "heap" / "data"


def _heap_passes(path, *, immediate=False, memcheck=True, uninit=False, shims=None, drop=0):
    from wasmem.app import load_module
    from wasmem.app.heap import heap_spec
    from wasmem.instrument.heap import HeapPass
    from wasmem.instrument.heap_pointers import FunctionPointerPass
    from wasmem.instrument.memcheck import MemcheckPass

    spec = heap_spec(load_module(str(path)))
    hp = HeapPass(spec["functions"][drop:], immediate=immediate)
    fp = FunctionPointerPass(hp, spec["shims"] if shims is None else shims)
    out = [hp, fp]
    if memcheck:
        out.append(MemcheckPass(hp, uninit=uninit))
    return out


def _heap_state(passes):
    hp, fp, *mc = passes
    return (hp.sites, hp.exported, hp.wrappers, hp.exports, fp.pointer_sites, fp.entries, fp.redirected,
            fp.exports, [(m.sites, m.exports, m.shadow) for m in mc])


@pytest.mark.parametrize("name", ["heapdemo.wasm", "fnptr_heap.wasm", "zigheap.wasm"])
def test_a_cached_heap_rewrite_is_the_fresh_one(cache, name):
    path = HEAP_DATA / name
    data = path.read_bytes()
    module = WasmModule.from_bytes(data)
    fresh = rewrite(data, _heap_passes(path))
    d = rewritecache.cache_dir()
    rewritecache.cached_rewrite(data, _heap_passes(path), module, d)
    assert cache.rewrites == [3] and len(_entries(cache.dir)) == 1
    passes = _heap_passes(path)
    again = rewritecache.cached_rewrite(data, passes, module, d)
    assert cache.rewrites == [3]  # read back
    assert again.data == fresh.data and again.anchors == fresh.anchors
    a, b = CodeMap(module, fresh), CodeMap(module, again)
    code = WasmModule.from_bytes(fresh.data).get_section(10)
    assert [a.original_offset(o) for o in range(code.start, code.end)] == \
           [b.original_offset(o) for o in range(code.start, code.end)]
    assert _heap_state(passes) == _heap_state(fresh.passes)
    assert passes[0].sites and passes[2].sites
    assert [type(s) for s in passes[0].sites] == [type(s) for s in fresh.passes[0].sites]
    if name != "heapdemo.wasm":  # calls through a function pointer: PointerSites with their `via`
        assert passes[1].pointer_sites or any(getattr(s, "via", "") for s in passes[0].sites)


def test_the_heap_passes_copy_bodies_without_an_allocator_call():
    """``prefixes``: a body without ``call F`` of an allocator (nor a pointer call of its type) is copied
    unread: the rewrite is the one of a walk that reads every body."""
    from wasmem.instrument import rewriter

    path = HEAP_DATA / "fnptr_heap.wasm"
    data = path.read_bytes()
    fast = rewrite(data, _heap_passes(path, memcheck=False))
    hp, fp = _heap_passes(path, memcheck=False)
    hp.prefixes = lambda: {}
    fp.prefixes = lambda: {}
    slow = rewriter.rewrite(data, [hp, fp])
    assert fast.data == slow.data and len(fast.anchors) < len(slow.anchors)  # fewer bodies walked
    module = WasmModule.from_bytes(data)
    a, b = CodeMap(module, fast), CodeMap(module, slow)
    code = WasmModule.from_bytes(fast.data).get_section(10)
    assert [a.original_offset(o) for o in range(code.start, code.end)] == \
           [b.original_offset(o) for o in range(code.start, code.end)]
    assert _heap_state(list(fast.passes)) == _heap_state([hp, fp])


def test_a_changed_heap_parameter_misses(cache):
    path = HEAP_DATA / "zigheap.wasm"
    data = path.read_bytes()
    module = WasmModule.from_bytes(data)
    d = rewritecache.cache_dir()
    variants = [{}, {"immediate": True}, {"memcheck": False}, {"uninit": True}, {"shims": {}}, {"drop": 1}]
    for kw in variants:
        got = rewritecache.cached_rewrite(data, _heap_passes(path, **kw), module, d)
        assert got.data == rewrite(data, _heap_passes(path, **kw)).data
    assert len(cache.rewrites) == len(variants) and len(_entries(cache.dir)) == len(variants)
    for kw in variants:  # each is read back from its own entry
        passes = _heap_passes(path, **kw)
        assert rewritecache.cached_rewrite(data, passes, module, d).data == rewrite(data, _heap_passes(path, **kw)).data
    assert len(cache.rewrites) == len(variants)


@pytest.mark.parametrize("memcheck", [False, True])
def test_heap_sessions_share_the_cached_rewrite(cache, memcheck):
    """Two real `heap` runs (memcheck on and off) and a `leaks` run: the second of each reads the rewrite
    back and finds the same blocks, sites and findings."""
    from wasmem.app.heap import heap_report, leak_report

    path = str(HEAP_DATA / "heapdemo.wasm")
    after = ["push 1", "leak_step 2", "use_after_free", "write_past_end 12"]

    def run():
        report, session = heap_report(path, after=after, memcheck=memcheck)
        session.close()
        return report.to_dict()

    first = run()
    assert len(cache.rewrites) == 1
    assert run() == first and len(cache.rewrites) == 1
    assert first["live_blocks"] > 0 and bool(first["findings"]) == memcheck

    def leak():
        report, session = leak_report(path, "leak_step 1", repeat=3, memcheck=memcheck)
        session.close()
        return report.to_dict()

    one = leak()
    n = len(cache.rewrites)
    assert leak() == one and len(cache.rewrites) == n and one["sites"]


def test_a_warm_session_reads_the_red_zones_back(cache):
    """The stack probe's red zones (model/redzone.py, in the stack pass's key) are kept beside the rewrite:
    a warm session does not scan the module for them again, and measures the same stack use (leaf red zones
    counted)."""
    path = sample("memdemo-O0.wasm")

    def run():
        with open_session(path, timeout=5) as s:
            r = s.call("checksum", ["0", "16"])
            return s.prepared.data, r.results, r.stack.exact_peak, r.stack.red_zones, r.stack.red_zones_unknown

    first = run()
    assert cache.red_zone_scans == [0] and len(cache.rewrites) == 1
    second = run()
    assert cache.red_zone_scans == [0] and len(cache.rewrites) == 1  # neither scanned nor rewritten again
    assert second == first and first[2] == 32 and first[3] == 11
    (rz,) = [p for p in cache.dir.iterdir() if p.suffix == rewritecache.RZ_SUFFIX]
    rz.write_bytes(b"{broken")  # a damaged entry is scanned again, never an error
    assert run() == first and cache.red_zone_scans == [0, 0]
    assert run() == first and cache.red_zone_scans == [0, 0]


def test_red_zones_of_another_stack_pointer_or_module_miss(cache):
    d = rewritecache.cache_dir()
    data = Path(sample("memdemo-O0.wasm")).read_bytes()
    m = WasmModule.from_bytes(data)
    a = rewritecache.cached_red_zones(m, 0, d)
    assert a == red_zones(m, 0) and a.extents
    assert rewritecache.cached_red_zones(WasmModule.from_bytes(data), 0, d) == a and cache.red_zone_scans == [0]
    rewritecache.cached_red_zones(m, 1, d)
    other = WasmModule.from_bytes(Path(sample("memdemo.wasm")).read_bytes())
    assert rewritecache.cached_red_zones(other, 0, d) == red_zones(other, 0)
    assert cache.red_zone_scans == [0, 1, 0]
    assert rewritecache.cached_red_zones(m, 0, None) == a and cache.red_zone_scans == [0, 1, 0, 0]  # cache off
