"""What `--watch` costs a store-heavy loop (issue 14's goal: at most 2x the plain run with 1 and 4
watched ranges). `python bench/watchcost.py [--write]` (part of `make bench`).

One module, generated here as WAT: `work(n)` runs a loop of n iterations that does four stores per
iteration (i32.store, i64.store, i32.store8, f64.store with a constant offset) into a 4 KiB buffer at
0x1000, plus the loop's own arithmetic: about as store-dense as compiled C gets (a memset-like loop).

Timed in-process, median of repeated calls, round-robin, all on raw wasmtime instances (no Session: its
per-call work — memory images, diff — is the same with or without --watch and is measured by
bench/stackcost.py):

- plain:            the module as it is
- 1 range, miss:    watch pass, one range far from the buffer (the filter says no on every store)
- 4 ranges, miss:   four ranges far from the buffer
- 4 ranges, box:    four ranges around the buffer but none on it: every store passes the inline filter
                    and calls the appended check function, which says no (the worst case without a hit)
- 1 range, hit:     one 4-byte range on the buffer's first word: every 1024th iteration's first store
                    calls the host (a Python function): the cost per hit

A call-heavy function, `fib(n)` (recursive, a store per call), shows what the call-path pass (the
shadow stack that gives each hit its call path; on with every --watch) adds to calls: plain, watch
without it, watch with it (1 range, missed).

The rewrite itself (Python, once per run) is timed too, per MB of code, on the module below and on the
memdemo sample.
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

WAT = """
(module
  (memory (export "memory") 2)
  (func (export "work") (param $n i32) (result i32) (local $i i32) (local $p i32) (local $acc i32)
    (block $done (loop $l
      (br_if $done (i32.ge_u (local.get $i) (local.get $n)))
      (local.set $p (i32.add (i32.const 0x1000) (i32.and (i32.shl (local.get $i) (i32.const 2)) (i32.const 0xff8))))
      (i32.store (local.get $p) (local.get $i))
      (i64.store offset=8 (i32.and (local.get $p) (i32.const 0x1ff0)) (i64.extend_i32_u (local.get $i)))
      (i32.store8 offset=3 (local.get $p) (local.get $acc))
      (f64.store offset=16 (i32.and (local.get $p) (i32.const 0x1fe0)) (f64.convert_i32_u (local.get $i)))
      (local.set $acc (i32.add (local.get $acc) (i32.load (local.get $p))))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br $l)))
    (local.get $acc))
  (func $fib (export "fib") (param $n i32) (result i32)
    (i32.store (i32.const 0x2000) (local.get $n))
    (if (result i32) (i32.lt_u (local.get $n) (i32.const 2))
      (then (local.get $n))
      (else (i32.add (call $fib (i32.sub (local.get $n) (i32.const 1)))
                     (call $fib (i32.sub (local.get $n) (i32.const 2))))))))
"""


def _instance(data: bytes, ranges=None, box=None, export="work"):
    import wasmtime

    engine = wasmtime.Engine()
    store = wasmtime.Store(engine)
    ex = wasmtime.Instance(store, wasmtime.Module(engine, data), []).exports(store)
    hits = [0]
    if ranges is not None:
        def hook(site, addr, size, v0, v1):
            hits[0] += 1

        ty = wasmtime.FuncType([wasmtime.ValType.i32()] + [wasmtime.ValType.i64()] * 4, [])
        ex["__wasmem_watch_hook"].set(store, 0, wasmtime.Func(store, ty, hook))
        lo, hi = box or (max(0, min(a for a, _ in ranges) - 15), max(b for _, b in ranges))
        ex["__wasmem_watch_lo"].set_value(store, lo)
        ex["__wasmem_watch_span"].set_value(store, hi - lo)
        for i, (a, b) in enumerate(ranges):
            ex[f"__wasmem_watch_lo_{i}"].set_value(store, a)
            ex[f"__wasmem_watch_hi_{i}"].set_value(store, b)
    work = ex[export]
    return (lambda n: work(store, n)), hits


def _interleaved_ms(runs: dict, repeat: int) -> dict:
    for fn in runs.values():
        fn()
    times: dict = {name: [] for name in runs}
    for _ in range(repeat):
        for name, fn in runs.items():
            t0 = time.perf_counter()
            fn()
            times[name].append(time.perf_counter() - t0)
    return {name: statistics.median(ts) * 1e3 for name, ts in times.items()}


def measure(repeat: int) -> tuple[list[dict], list[tuple[str, float, float]]]:
    from wasmem.instrument import WatchPass, rewrite
    from wasmem.runtime.wat import wat_to_wasm

    data = wat_to_wasm(WAT)
    one, four = rewrite(data, [WatchPass(1)]).data, rewrite(data, [WatchPass(4)]).data
    far = [(0x8000 + 0x100 * k, 0x8000 + 0x100 * k + 8) for k in range(4)]
    around = [(0x800, 0x808), (0x900, 0x908), (0x3000, 0x3008), (0x3100, 0x3108)]  # box covers the buffer
    rows = []
    for n in (100_000, 1_000_000):
        plain, _ = _instance(data)
        w1, _ = _instance(one, far[:1])
        w4, _ = _instance(four, far)
        w4box, _ = _instance(four, around)
        w1hit, hits = _instance(one, [(0x1000, 0x1004)])
        runs = {"plain": lambda f=plain, n=n: f(n), "one": lambda f=w1, n=n: f(n),
                "four": lambda f=w4, n=n: f(n), "box": lambda f=w4box, n=n: f(n),
                "hit": lambda f=w1hit, n=n: f(n)}
        hits[0] = 0
        row = {"n": n, **_interleaved_ms(runs, repeat)}
        row["hits"] = hits[0] // (repeat + 1)
        rows.append(row)
    from wasmem.instrument.callpath import CallPathPass

    with_path = rewrite(data, [CallPathPass(), WatchPass(1)]).data
    calls = []
    for n in (20, 25):
        fp, _ = _instance(data, export="fib")
        fw, _ = _instance(one, far[:1], export="fib")
        fc, _ = _instance(with_path, far[:1], export="fib")
        r = _interleaved_ms({"plain": lambda f=fp, n=n: f(n), "watch": lambda f=fw, n=n: f(n),
                             "path": lambda f=fc, n=n: f(n)}, repeat)
        calls.append({"n": n, **r})
    rewrites = []
    for name, mod in (("this loop", data), ("memdemo.wasm", (ROOT / "samples" / "memdemo.wasm").read_bytes())):
        t0 = time.perf_counter()
        for _ in range(20):
            rewrite(mod, [WatchPass(4)])
        rewrites.append((name, len(mod), (time.perf_counter() - t0) / 20 * 1e3))
    return rows, calls, rewrites


def table(rows, calls, rewrites, repeat: int) -> str:
    out = [f"Measured {time.strftime('%Y-%m-%d')} by `bench/watchcost.py` (median of {repeat} calls, raw "
           f"wasmtime instances in one process, round-robin; 4 stores per iteration):", "",
           "| call | plain | 1 range, miss | 4 ranges, miss | 4 ranges, every store checked | 1 range, hit "
           "| 1 / plain | 4 / plain | checked / plain | µs per hit |",
           "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for r in rows:
        per_hit = (r["hit"] - r["one"]) * 1e3 / r["hits"] if r["hits"] else float("nan")
        out.append(f"| work({r['n']:,}) | {r['plain']:.2f} ms | {r['one']:.2f} ms | {r['four']:.2f} ms "
                   f"| {r['box']:.2f} ms | {r['hit']:.2f} ms ({r['hits']:,} hits) | {r['one'] / r['plain']:.2f}× "
                   f"| {r['four'] / r['plain']:.2f}× | {r['box'] / r['plain']:.2f}× | {per_hit:.1f} |")
    out += ["", "| call-heavy | plain | watch, no call path | watch with call path | watch / plain "
            "| with path / plain |", "|---|---:|---:|---:|---:|---:|"]
    for c in calls:
        out.append(f"| fib({c['n']}) | {c['plain']:.2f} ms | {c['watch']:.2f} ms | {c['path']:.2f} ms "
                   f"| {c['watch'] / c['plain']:.2f}× | {c['path'] / c['plain']:.2f}× |")
    out.append("")
    out.append("Rewriting (once per run, in Python): " + "; ".join(
        f"{name} ({size:,} bytes) {ms:.1f} ms" for name, size, ms in rewrites) + ".")
    return "\n".join(out)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--repeat", type=int, default=15)
    ap.add_argument("--write", action="store_true", help="put the table into docs/performance.md")
    a = ap.parse_args(argv)
    rows, calls, rewrites = measure(a.repeat)
    text = table(rows, calls, rewrites, a.repeat)
    print(text)
    if a.write:
        write_block(DOC, "watchcost", text, heading="What `--watch` costs")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
