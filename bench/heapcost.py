"""What heap tracking costs an allocation-heavy loop (issue 15's goal: at most 1.5x the plain run).
`python bench/heapcost.py [--write]` (part of `make bench`).

The loop is `churn(n)` of tests/heap/data/heapdemo.c: n iterations of malloc(16..79) and free with the
pinned zig's wasi libc allocator (about 30-150 ns per pair here), i.e. as allocation-dense as code gets.
Timed in one process, median of repeated calls, round-robin, on wasmem sessions opened with the same
options (Session.invoke: the call with its limits, no memory images or diffs):

- plain:      the module as it is
- logged:     the heap pass, the log on, but nobody reads it (the host's flush drops the records): what
              the wrappers and the log in wasm cost
- tracked:    the heap pass and the tracker (every record turned into live blocks): what `wasmem heap`
              and `wasmem leaks` pay
- paths:      tracked with --paths (the call-path pass in every function, a host call per allocation)
- memcheck:   tracked with --memcheck (every access checks its shadow bytes; allocations and settled
              frees mark the shadow in wasm, other frees drain the log at once)

A second table times --memcheck where it costs most, on access-dense code: `dense(n)` of
tests/heap/data/memcheck_ops.wat, n rounds of 128 i32 loads, 128 i32 stores, 64 v128 loads, an atomic
read-modify-write and a 512-byte memory.copy over one live 1 KiB block, plain, under --memcheck and under
--memcheck --memcheck-uninit (its stores go through the shadow's slow path on the first round only).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(ROOT))
from docblock import write_block  # noqa: E402 - bench/ (the script's folder) is on the path

DOC = ROOT / "docs" / "performance.md"
MODULE = ROOT / "tests" / "heap" / "data" / "heapdemo.wasm"
DENSE = ROOT / "tests" / "heap" / "data" / "memcheck_ops.wasm"


def round_robin(sessions: dict, export: str, n: int, repeat: int, skip=()) -> dict[str, list[float]]:
    """Seconds per call of ``export(n)`` in each session (not those in ``skip``), ``repeat`` rounds, the sessions
    taking turns so that a burst of another process's work hits them alike (Session.invoke: the call with its
    limits, no memory images or diffs)."""
    times: dict[str, list[float]] = {k: [] for k in sessions if k not in skip}
    for _ in range(repeat):
        for name in times:
            s = sessions[name]
            t0 = time.perf_counter()
            out = s.invoke(s.exports[export], [n])
            times[name].append(time.perf_counter() - t0)
            assert isinstance(out, list), out
    return times


def measure(repeat: int, sizes=(2_000, 20_000, 200_000)) -> list[dict]:
    import wasmem
    from wasmem.app import load_module, symbols_for
    from wasmem.app.heap import heap_spec
    from wasmem.instrument.heap import PEND_BASE, PEND_ENTRY, PEND_SLOTS

    m = load_module(str(MODULE))
    sym = symbols_for(m)
    plain = wasmem.open(m, paint=False)
    logged = wasmem.open(m, paint=False, heap=heap_spec(m, symbols=sym))
    lt = logged.heap_tracker

    def drop(path=None):  # the log emptied, the pending allocation dropped: nothing read (a write only when needed)
        if lt._count.value(logged.store):
            lt._count.set_value(logged.store, 0)
        if lt._pending.value(logged.store):
            lt._pending.set_value(logged.store, 0)
            lt._log.write(logged.store, bytes(PEND_SLOTS * PEND_ENTRY), PEND_BASE)

    lt.drain = drop
    tracked = wasmem.open(m, paint=False, heap=heap_spec(m, symbols=sym))
    paths = wasmem.open(m, paint=False, heap=heap_spec(m, symbols=sym, paths=True))
    from wasmem.app.heap import memcheck_heap_base

    mc = heap_spec(m, symbols=sym)
    mc.update(memcheck=True, heap_base=memcheck_heap_base(m, sym))
    memcheck = wasmem.open(m, paint=False, heap=mc)
    sessions = {"plain": plain, "logged": logged, "tracked": tracked, "paths": paths, "memcheck": memcheck}
    rows = []
    for n in sizes:
        times = round_robin(sessions, "churn", n, repeat, skip=("paths", "memcheck") if n > sizes[0] else ())
        rows.append({"n": n, **{k: statistics.median(v) * 1e3 for k, v in times.items()}})
    for s in sessions.values():
        s.close()
    return rows


def measure_dense(repeat: int, sizes=(1_000, 10_000)) -> list[dict]:
    import wasmem
    from wasmem.app import load_module, symbols_for
    from wasmem.app.heap import heap_spec, memcheck_heap_base

    m = load_module(str(DENSE))
    sym = symbols_for(m)
    mc = heap_spec(m, symbols=sym)
    mc.update(memcheck=True, heap_base=memcheck_heap_base(m, sym))
    uninit = dict(mc, memcheck_uninit=True)
    sessions = {"plain": wasmem.open(m, paint=False), "memcheck": wasmem.open(m, paint=False, heap=mc),
                "uninit": wasmem.open(m, paint=False, heap=uninit)}
    rows = []
    for n in sizes:
        times = round_robin(sessions, "dense", n, repeat)
        rows.append({"n": n, **{k: min(v) * 1e3 for k, v in times.items()}})
    assert not sessions["memcheck"].heap_tracker.findings and not sessions["uninit"].heap_tracker.findings
    for s in sessions.values():
        s.close()
    return rows


def dense_table(rows: list[dict], repeat: int) -> str:
    out = [f"--memcheck on access-dense code (the fastest of {repeat} calls; `dense(n)`: n rounds of 321 accesses and "
           "a 512-byte memory.copy):", "",
           "| n | plain ms | --memcheck ms | --memcheck / plain | --memcheck-uninit ms | --memcheck-uninit / plain |",
           "|---:|---:|---:|---:|---:|---:|"]
    for r in rows:
        out.append(f"| {r['n']:,} | {r['plain']:.2f} | {r['memcheck']:.2f} | {r['memcheck'] / r['plain']:.1f}x | "
                   f"{r['uninit']:.2f} | {r['uninit'] / r['plain']:.1f}x |")
    return "\n".join(out)


def table(rows: list[dict], repeat: int) -> str:
    out = [f"Measured {time.strftime('%Y-%m-%d')} by `bench/heapcost.py` (median of {repeat} calls, sessions "
           f"in one process, round-robin; `churn(n)`: n malloc/free pairs):", "",
           "| n | plain ms | logged ms | tracked ms | --paths ms | --memcheck ms | logged / plain | tracked / plain | "
           "µs per pair tracked |", "|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for r in rows:
        p, mc = r.get("paths"), r.get("memcheck")
        out.append(f"| {r['n']:,} | {r['plain']:.2f} | {r['logged']:.2f} | {r['tracked']:.2f} | "
                   + (f"{p:.1f} | {mc:.1f} |" if p is not None else "– | – |"))
        out[-1] += (f" {r['logged'] / r['plain']:.1f}x | {r['tracked'] / r['plain']:.1f}x | "
                    f"{(r['tracked'] - r['plain']) / r['n'] * 1e3:.2f} |")
    return "\n".join(out)


RING = ROOT / "tests" / "heap" / "data" / "ring.wasm"  # 64 live buffers, each freed 64 allocations later


def measure_ring(repeat: int, n: int = 100_000) -> dict:
    import wasmem
    from wasmem.app import load_module
    from wasmem.app.heap import heap_spec

    m = load_module(str(RING))
    sessions = {"plain": wasmem.open(m, paint=False), "tracked": wasmem.open(m, paint=False, heap=heap_spec(m))}
    times = round_robin(sessions, "ring", n, repeat)
    row = {"n": n, **{k: statistics.median(v) * 1e3 for k, v in times.items()}}
    for s in sessions.values():
        s.close()
    return row


def ring_text(r: dict) -> str:
    return (f"Blocks that live a while: `ring({r['n']:,})` (64 live buffers, each freed 64 allocations later) "
            f"{r['plain']:.2f} ms plain, {r['tracked']:.2f} ms tracked ({r['tracked'] / r['plain']:.1f}x).")


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=9)
    ap.add_argument("--write", action="store_true", help="put the table into docs/performance.md")
    a = ap.parse_args(argv)
    dense = 3 * a.repeat  # short calls: the fastest of many, so that another process's burst does not count
    text = (table(measure(a.repeat), a.repeat) + "\n\n" + ring_text(measure_ring(a.repeat)) + "\n\n"
            + dense_table(measure_dense(dense), dense))
    print(text)
    if a.write:
        write_block(DOC, "heapcost", text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
