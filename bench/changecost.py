"""What showing a call's changes costs when one call fills the whole memory (issue 24's goal: every command
that shows changes finishes within its --timeout, with peak RSS at most 2.2x the guest memory plus the
compiled module: live memory and one image). `python bench/changecost.py [--write]` (part of `make bench`).

Modules generated here as WAT: a memory of 64 MiB or 256 MiB (minimum = maximum, inside the default
--max-memory) and `fill(v)`, one `memory.fill` of all of it; `malloc`/`free` stubs, so that `heap` and `leaks`
accept the module. Each command runs in a fresh subprocess (`python -m wasmem …`); its wall time and its
peak RSS (``os.wait4``'s ``ru_maxrss`` for that child) are measured. The same command on a 1-page module
gives the base (the interpreter, wasmem, wasmtime): "extra / guest" is (peak - base) / guest memory, the part
the goal bounds. Every command must report the fill as one range.

- call:        wasmem call M fill 1
- dump:        wasmem dump M --after "fill 1" --at 0 --len 16
- shell:       wasmem shell M -c "call fill 1" -c "dump 0 16"
- watch:       wasmem watch M 0:16 --after "fill 1"
- heap:        wasmem heap M --after "fill 1"        (these two diff every call but show no changes:
- leaks:       wasmem leaks M "fill 1" --repeat 2     their "one range" is n/a)
- view:        `view --after "fill 1"`'s work without a terminal: the call, the view's source and the
               textual app run headless (textual's run_test) for its first screen
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(ROOT))
from docblock import write_block  # noqa: E402 - bench/ (the script's folder) is on the path

DOC = ROOT / "docs" / "performance.md"
GOAL = 2.2
ONE = {True: "yes", False: "no", None: "n/a"}
SIZES_MIB = (64, 256)

WAT = """(module (memory (export "memory") {pages} {pages})
  (global $top (mut i32) (i32.const 1024))
  (func (export "fill") (param i32)
    (memory.fill (i32.const 0) (local.get 0) (i32.mul (memory.size) (i32.const 65536))))
  (func (export "malloc") (param i32) (result i32) (global.get $top))
  (func (export "free") (param i32)))"""

VIEW = """
import asyncio, sys
from wasmem.app import call_function, open_session, symbols_for
from wasmem.render.tui.app import MemoryApp
from wasmem.shell.view import SessionSource
s = open_session(sys.argv[1], timeout=float(sys.argv[2]))
r = call_function(s, "fill", ["1"]).result
src = SessionSource(s, symbols_for(s.module), r.changed(0))
async def go():
    app = MemoryApp(src, 0)
    async with app.run_test(size=(160, 40)) as pilot:
        await pilot.pause()
asyncio.run(go())
print(f"{r.changed_bytes} bytes changed in {len(r.changes)} range")
"""


def commands(path: str, timeout: float) -> dict[str, list[str]]:
    t = ["--timeout", str(timeout)]
    py = [sys.executable]
    w = [*py, "-m", "wasmem"]
    return {
        "call": [*w, "call", path, "fill", "1", *t],
        "dump --after": [*w, "dump", path, "--after", "fill 1", "--at", "0", "--len", "16", *t],
        "shell -c": [*w, "shell", path, "-c", "call fill 1", "-c", "dump 0 16", *t],
        "watch": [*w, "watch", path, "0:16", "--after", "fill 1", *t],
        "heap --after": [*w, "heap", path, "--after", "fill 1", *t],
        "leaks": [*w, "leaks", path, "fill 1", "--repeat", "2", *t],
        "view (headless)": [*py, "-c", VIEW, path, str(timeout)],
    }


def run(argv: list[str]) -> tuple[float, int, int, str]:
    """(wall seconds, peak RSS in bytes, exit status, output) of one fresh subprocess."""
    env = dict(os.environ, PYTHONPATH=str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""), COLUMNS="120")
    with tempfile.TemporaryFile() as out:
        t0 = time.perf_counter()
        p = subprocess.Popen(argv, stdout=out, stderr=subprocess.STDOUT, env=env, cwd=ROOT)
        _, status, usage = os.wait4(p.pid, 0)
        wall = time.perf_counter() - t0
        p.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        text = out.read().decode("utf-8", "replace")
    return wall, usage.ru_maxrss * 1024, p.returncode, text


SHOWS_NO_CHANGES = ("heap --after", "leaks")


def one_range(name: str, text: str, size: int) -> bool | None:
    if name in SHOWS_NO_CHANGES:
        return None
    return (f"{size} bytes changed in 1 range" in text or f"({size} bytes changed)" in text
            or f"{size} bytes changed by" in text)


def measure(timeout: float, sizes=SIZES_MIB) -> list[dict]:
    import wasmtime

    rows = []
    with tempfile.TemporaryDirectory() as d:
        base_path = Path(d) / "fill-1page.wasm"
        base_path.write_bytes(wasmtime.wat2wasm(WAT.format(pages=1)))
        base = {name: run(argv)[1] for name, argv in commands(str(base_path), timeout).items()}
        for mib in sizes:
            path = Path(d) / f"fill-{mib}.wasm"
            path.write_bytes(wasmtime.wat2wasm(WAT.format(pages=mib * 16)))
            size = mib << 20
            for name, argv in commands(str(path), timeout).items():
                wall, rss, code, text = run(argv)
                rows.append({"mib": mib, "command": name, "wall": wall, "rss": rss, "base": base[name],
                             "code": code, "one_range": one_range(name, text, size), "timeout": timeout,
                             "tail": text.strip().splitlines()[-1:] if code not in (0, 1) else []})
                print(f"{mib} MiB {name}: {wall:.2f} s, {rss / 2**20:.0f} MiB (base {base[name] / 2**20:.0f}), "
                      f"exit {code}, one range {rows[-1]['one_range']}", file=sys.stderr)
    return rows


def table(rows: list[dict], timeout: float) -> str:
    out = [f"Measured {time.strftime('%Y-%m-%d')} by `bench/changecost.py` on {os.cpu_count()} cores (load average "
           f"{os.getloadavg()[0]:.1f}): one call fills the whole memory; each command in a fresh process with "
           f"`--timeout {timeout:g}`; peak RSS from `wait4`; base = the same command on a 1-page module.", "",
           "| guest memory | command | wall | within --timeout | peak RSS | RSS / guest | (RSS - base) / guest "
           "| one range | exit |",
           "|---:|---|---:|:---:|---:|---:|---:|:---:|---:|"]
    for r in rows:
        guest = r["mib"] << 20
        extra = (r["rss"] - r["base"]) / guest
        out.append(f"| {r['mib']} MiB | {r['command']} | {r['wall']:.1f} s | {'yes' if r['wall'] <= timeout else 'no'} "
                   f"| {r['rss'] / 2**20:.0f} MiB | {r['rss'] / guest:.2f}× | {extra:.2f}× "
                   f"{'' if extra <= GOAL else '(over the goal)'}| {ONE[r['one_range']]} "
                   f"| {r['code']} |")
    out += ["", f"Goal: (RSS - base) / guest ≤ {GOAL}× (live memory plus one image of it); wall time within "
                "`--timeout`, which counts from the command's start (interpreter start-up and compile included)."]
    return "\n".join(out)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--timeout", type=float, default=10.0)
    ap.add_argument("--sizes", default=",".join(map(str, SIZES_MIB)), help="MiB of guest memory, comma-separated")
    ap.add_argument("--write", action="store_true", help="put the table into docs/performance.md")
    a = ap.parse_args(argv)
    rows = measure(a.timeout, tuple(int(x) for x in a.sizes.split(",")))
    text = table(rows, a.timeout)
    print(text)
    if a.write:
        write_block(DOC, "changecost", text, heading="What showing a call's changes costs")
    bad = [r for r in rows if r["one_range"] is False or r["code"] not in (0, 1)]
    for r in bad:
        print(f"{r['mib']} MiB {r['command']}: exit {r['code']}, one range {r['one_range']} {r['tail']}",
              file=sys.stderr)
    return 1 if bad else 0


if __name__ == "__main__":
    raise SystemExit(main())
