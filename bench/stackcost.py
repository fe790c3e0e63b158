"""What measuring the stack costs a call (issue 12: painting or instrumented peak measurement adds at most
10 % to a call on a 1 MiB stack). `python bench/stackcost.py [--write]` (part of `make bench`).

One module, generated here as WAT: a stack-first layout with a 1 MiB linear stack (the size Rust, Zig
and Odin link with), a stack pointer named `__stack_pointer`, and `work(n, depth)` that recurses `depth`
frames of 256 bytes deep and then loops `n` times. Each call is timed in-process, as the median of
repeated calls on one instance, in four configurations measured in the same run, round-robin:

- plain:      a plain wasmtime host calling the export (tests/differential.py's PlainHost): the baseline
- wasmem off: wasmem's Session.call with no stack measurement (what wasmem costs anyway: argument
              parsing, the memory images before and after, the diff)
- paint:      wasmem with painting (fills the free part of the 1 MiB stack, finds the lowest changed
              byte, restores the rest)
- instrument: wasmem with the stack pointer's writes instrumented (--no-paint)

The target is about the measurement, so the ratio reported against it is paint / off and instrument / off;
the ratio against the plain host is shown too, for the whole of wasmem's per-call cost.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(ROOT / "tests"))
sys.path.insert(0, str(ROOT))
from docblock import write_block  # noqa: E402 - bench/ (the script's folder) is on the path

DOC = ROOT / "docs" / "performance.md"
STACK = 1 << 20

WAT = f"""
(module
  (memory (export "memory") 17)
  (global $__stack_pointer (mut i32) (i32.const {STACK}))
  (data (i32.const {STACK}) "data after the stack")
  (func $frame (param $depth i32) (param $n i32) (result i32) (local $fp i32) (local $acc i32)
    (local.set $fp (i32.sub (global.get $__stack_pointer) (i32.const 256)))
    (global.set $__stack_pointer (local.get $fp))
    (i32.store (local.get $fp) (local.get $depth))
    (if (i32.gt_u (local.get $depth) (i32.const 0))
      (then (local.set $acc (call $frame (i32.sub (local.get $depth) (i32.const 1)) (local.get $n))))
      (else
        (block $done (loop $l
          (br_if $done (i32.eqz (local.get $n)))
          (local.set $acc (i32.add (local.get $acc) (i32.mul (local.get $n) (local.get $n))))
          (local.set $n (i32.sub (local.get $n) (i32.const 1)))
          (br $l)))))
    (global.set $__stack_pointer (i32.add (local.get $fp) (i32.const 256)))
    (i32.add (local.get $acc) (i32.load (local.get $fp))))
  (func (export "work") (param $n i32) (param $depth i32) (result i32)
    (call $frame (local.get $depth) (local.get $n)))
)
"""


def _interleaved_ms(runs: dict, repeat: int) -> dict:
    """Median milliseconds of each of ``runs``, timed round-robin (one call of each per round), so that
    a slow phase of a shared machine weighs on every configuration alike."""
    for fn in runs.values():
        fn()  # warm-up
    times: dict = {name: [] for name in runs}
    for _ in range(repeat):
        for name, fn in runs.items():
            t0 = time.perf_counter()
            fn()
            times[name].append(time.perf_counter() - t0)
    return {name: statistics.median(ts) * 1e3 for name, ts in times.items()}


def measure(repeat: int) -> list[dict]:
    from differential import PlainHost

    import wasmem
    from wasmem.app import load_module
    from wasmem.runtime.wat import wat_to_wasm

    module = load_module(wat_to_wasm(WAT))
    rows = []
    for n, depth in ((20_000, 16), (2_000_000, 16), (20_000_000, 64)):
        args = [str(n), str(depth)]
        sessions = {
            "paint": wasmem.open(module, timeout=60, paint=True),
            "instrument": wasmem.open(module, timeout=60),
            "off": wasmem.open(module, timeout=60, sp_global=None),  # no stack pointer: nothing measured
        }
        assert sessions["paint"].measure == "paint" and sessions["instrument"].measure == "instrument"
        assert sessions["off"].measure is None
        plain = PlainHost(module, sessions["off"], timeout=60)
        values = [n, depth]
        runs = {"plain": lambda p=plain, v=values: p.call("work", v)}
        for name, s in sessions.items():
            runs[name] = lambda s=s, args=args: s.call("work", args)
        row = {"n": n, "depth": depth, **_interleaved_ms(runs, repeat)}
        peak = sessions["paint"].call("work", args).stack.peak
        row["peak"] = peak
        rows.append(row)
        for s in sessions.values():
            s.close()
        plain.close()
    return rows


def table(rows: list[dict], repeat: int) -> str:
    out = [f"Measured {time.strftime('%Y-%m-%d')} by `bench/stackcost.py` (median of {repeat} calls on one "
           f"instance, in-process, round-robin; the stack is 1 MiB, stack-first):", "",
           "| call (loop n, depth) | stack peak | plain host | wasmem, no measurement | paint | instrument "
           "| paint / off | instrument / off | paint / plain |",
           "|---|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for r in rows:
        out.append(f"| work({r['n']:,}, {r['depth']}) | {r['peak']:,} B | {r['plain']:.2f} ms | {r['off']:.2f} ms "
                   f"| {r['paint']:.2f} ms | {r['instrument']:.2f} ms | {r['paint'] / r['off']:.2f}× "
                   f"| {r['instrument'] / r['off']:.2f}× | {r['paint'] / r['plain']:.2f}× |")
    return "\n".join(out)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--repeat", type=int, default=15)
    ap.add_argument("--write", action="store_true", help="put the table into docs/performance.md")
    a = ap.parse_args(argv)
    text = table(measure(a.repeat), a.repeat)
    print(text)
    if a.write:
        write_block(DOC, "stackcost", text, heading="What measuring the stack costs a call")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
