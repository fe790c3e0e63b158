"""The stack analysis at scale, on crafted modules (tests/stackgen.py builds them as bytes): cost linear in
functions + call edges (a 20,000-deep chain, 1,000 exports in a chain, wide fan-out, recursion through a
large strongly connected component, no Python recursion at any depth), and its results checked against a
brute-force reading of small random call graphs. The 200,000-deep chain is timed by `make bench`."""

from __future__ import annotations

import functools
import tracemalloc

import pytest
import stackgen

from wasmem.model.layout import analyze
from wasmem.model.stackframes import analyze_stack, stack_size_for, stack_to_dict
from wasmem.parser.module import WasmModule

DEEP = 20_000  # deeper than Python's recursion limit many times over


def analyse(data: bytes, **kw):
    m = WasmModule.from_bytes(data)
    lay = analyze(m)
    return analyze_stack(m, lay, **kw)


def traced(data: bytes, **kw):
    """The analysis and the most memory it allocated (Python allocations, traced) once the module was read:
    the module's own objects (bodies, names) are not the analysis' cost. No wall time: that depends on the
    machine's load (`make bench` times the analysis)."""
    m = WasmModule.from_bytes(data)
    lay = analyze(m)
    m.functions, m.names  # noqa: B018 - read before measuring
    tracemalloc.start()
    try:
        sa = analyze_stack(m, lay, **kw)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    return sa, peak


def test_deep_chain_is_linear_and_exact():
    data = stackgen.chain(DEEP)
    sa, peak = traced(data)
    (root,) = sa.roots
    assert root.bytes == DEEP * 16 and root.unbounded is None and not sa.cycles
    assert root.path_length() == DEEP
    path = root.path
    assert [s.name for s in path[:3]] == ["f0", "f1", "f2"] and path[-1].name == f"f{DEEP - 1}"
    assert sum(s.bytes for s in path) == root.bytes
    assert sa.recommended_stack_size(25) == stack_size_for(DEEP * 16, 25)
    # the old analysis copied the path per function: 20k deep took 3.1 GB. A loose bound: 8× the module's
    # size (it is ~34 bytes a function)
    assert peak < 8 * len(data), (peak, len(data))


def test_recursion_at_the_bottom_of_a_deep_chain():
    data = stackgen.chain(DEEP, tail=[DEEP - 10])  # f19990 → … → f19999 → f19990
    sa, peak = traced(data, recursion_depth=100)
    (root,) = sa.roots
    assert root.bytes is None and root.unbounded == "recursion"
    assert root.cycle == tuple(f"f{i}" for i in range(DEEP - 10, DEEP))
    assert "f19990 → f19991 → f19992 → f19993 → f19994 → f19995 → f19996 → … 3 more → f19990" in root.reason
    assert root.path_length() == DEEP - 9 and root.path[-1].name == f"f{DEEP - 10}"  # to the cycle
    # the cycle's largest frame (all 16 B; the lowest index) 100 times, the rest once
    assert root.bounded_bytes == (DEEP - 10) * 16 + 100 * 16
    assert (root.base_bytes, root.level_bytes) == ((DEEP - 9) * 16, 16)
    bpath = root.bounded_path
    assert bpath[-1].repeat == 100 and bpath[-1].name == f"f{DEEP - 10}" and len(bpath) == DEEP - 9
    assert [list(c) for c in sa.cycles] == [list(range(DEEP - 10, DEEP))]
    assert peak < 10 * len(data), (peak, len(data))


def test_a_thousand_exports_in_a_chain():
    n = 1000
    data = stackgen.chain(n, exports=n)
    sa, peak = traced(data)
    assert len(sa.roots) == n
    for k in (0, 1, 500, n - 1):
        r = sa.roots[k]
        assert r.name == f"e{k}_f{k}" and r.bytes == (n - k) * 16 and r.path_length() == n - k
    # paths are shared tails, walked when asked for: not 500,000 stored steps
    assert peak < 8 * len(data) + (1 << 20), (peak, len(data))
    d = stack_to_dict(sa)
    assert sum(len(r["path"]) for r in d["roots"]) == n * (n + 1) // 2  # the JSON is complete
    steps = {id(s) for r in d["roots"] for s in r["path"]}
    assert len(steps) == n  # one step object per function, shared by every path through it


def test_wide_fan_out():
    data = stackgen.fan_out(5000)
    sa = analyse(data)
    (root,) = sa.roots
    assert root.bytes == 16 + 32 and [s.name for s in root.path] == ["f0", "f5000"]
    assert len(sa.frames[0].calls) == 5000


def test_recursion_through_a_large_component():
    size = 5000
    data = stackgen.scc_ring(size, lead=3, big=64)
    sa = analyse(data, recursion_depth=7)
    (root,) = sa.roots
    assert root.unbounded == "recursion" and len(root.cycle) == size
    assert root.cycle[0] == "f3" and root.cycle[-1] == f"f{3 + size - 1}"  # the whole ring, in call order
    assert len(sa.cycles) == 1 and len(sa.cycles[0]) == size
    # three lead frames, the ring's largest frame 7 times, then the leaf x it calls
    assert root.bounded_bytes == 3 * 16 + 7 * 64 + 32
    assert (root.base_bytes, root.level_bytes) == (3 * 16 + 64 + 32, 64)
    assert [s.repeat for s in root.bounded_path] == [1, 1, 1, 7, 1]
    no_depth = analyse(data).roots[0]
    assert no_depth.bounded_bytes is None and no_depth.depth_for(3 * 16 + 64 + 32 + 64 * 9) == 10


def test_recursion_and_dynamic_frames_through_indirect_calls():
    # f0 calls through the table [f1, f2, f3]; f2 calls f0 back (a cycle through a call_indirect), f3 has a VLA
    data = stackgen.build([[], [], [0], []], frames=[16, 32, 64, 128], indirect=[0], table=[1, 2, 3],
                          dynamic=[3], exports=[0, 1, 3])
    sa = analyse(data)
    f0, f1, f3 = sa.roots
    assert f0.unbounded == "recursion" and f0.cycle == ("f0", "f2") and f0.dynamic == ("f3",)
    assert "dynamic frame: f3" in f0.reason and f0.level_bytes is None  # a VLA too: no depth bounds it
    assert f1.bytes == 32 and f3.unbounded == "dynamic" and f3.path_length() == 1
    assert sa.frames[0].callees == (1, 2, 3)


def _oracle(g: dict, depth: int):
    """What the analysis must find, read off the call graph by brute force."""
    nimp, n = g["imports"], g["imports"] + len(g["calls"])
    succ = {i: [] for i in range(nimp)}
    for j, cs in enumerate(g["calls"]):
        i = nimp + j
        succ[i] = list(dict.fromkeys(cs + (g["table"] if i in g["indirect"] else [])))
    frame = [0] * nimp + list(g["frames"])

    @functools.lru_cache(None)
    def reach(v):
        seen, todo = {v}, [v]
        while todo:
            for w in succ[todo.pop()]:
                if w not in seen:
                    seen.add(w)
                    todo.append(w)
        return frozenset(seen)

    on_cycle = {v for v in range(n) if any(v in reach(w) for w in succ[v])}
    scc = {v: frozenset(w for w in reach(v) if v in reach(w)) for v in range(n)}
    assert all(len(scc[v]) == 1 or v in on_cycle for v in range(n))

    @functools.lru_cache(None)
    def longest(v):  # acyclic part only
        return frame[v] + max((longest(w) for w in succ[v]), default=0)

    @functools.lru_cache(None)
    def bound(c):  # over the condensation: a recursive component counts its largest frame depth times
        rec = len(c) > 1 or next(iter(c)) in on_cycle
        top = max(frame[v] for v in c) * (depth if rec else 1)
        exits = {scc[w] for v in c for w in succ[v]} - {c}
        return top + max((bound(x) for x in exits), default=0)

    return succ, frame, reach, on_cycle, longest, bound, scc


def _distance(succ, start, targets) -> int:
    seen, frontier, d = {start}, [start], 0
    while frontier:
        if any(v in targets for v in frontier):
            return d
        frontier = [w for v in frontier for w in succ[v] if w not in seen and not seen.add(w)]
        d += 1
    return -1


@pytest.mark.parametrize("seed", range(60))
def test_random_graphs_against_brute_force(seed):
    g = stackgen.random_graph(seed)
    depth = 5
    data = stackgen.build(**g)
    sa = analyse(data, recursion_depth=depth)
    succ, frame, reach, on_cycle, longest, bound, scc = _oracle(g, depth)
    dynamic = set(g["dynamic"])
    for r in sa.roots:
        reached = reach(r.index)
        rec = bool(reached & on_cycle)
        dyn = sorted(reached & dynamic)
        assert r.dynamic == tuple(f"f{v}" for v in dyn)
        assert r.calls_imports == tuple(sorted(f"imp{v}" for v in reached if v < g["imports"]))
        path = [s.index for s in r.path]
        assert path[0] == r.index and all(b in succ[a] for a, b in zip(path, path[1:], strict=False)), path
        if not rec and not dyn:
            assert r.unbounded is None and r.bytes == longest(r.index)
            assert sum(s.bytes for s in r.path) == r.bytes and not succ[path[-1]]
            continue
        assert r.bytes is None and r.unbounded == ("recursion" if rec else "dynamic")
        # the way to the nearest of the reported cycles (one per recursive component) or dynamic frames
        targets = {v for c in sa.cycles for v in c} if rec else dynamic
        assert path[-1] in targets and len(path) - 1 == _distance(succ, r.index, targets)
        if rec:
            cyc = [int(name[1:]) for name in r.cycle]
            assert path[-1] in cyc and all(b in succ[a] for a, b in zip(cyc, cyc[1:] + cyc[:1], strict=True))
        if dyn:
            assert r.bounded_bytes is None
        else:
            assert r.bounded_bytes == bound(scc[r.index])
            assert sum(s.bytes for s in r.bounded_path) == r.bounded_bytes
