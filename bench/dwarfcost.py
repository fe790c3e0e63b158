"""What DWARF costs the commands on large debug builds: `symbols`, `inspect --json` and a warm `call` on yosys
(2 MB of .debug_info) and ruby-3.4.debug+stdlib (6.8 MB), with the DWARF index cache (wasmem/debuginfo/dwcache.py)
empty (the first run on a module) and filled (every later run); with ``--before DIR``, the same commands of
another checkout of wasmem (e.g. the main branch before the lazy index) in the same run.

Each figure: the median wall time of ``--runs`` fresh processes and the largest peak RSS among them. The compile
cache is warmed first (one run of the call), so that the call's figures are wasmem's own work, not Cranelift's.
``--write`` puts the table into docs/performance.md. Never part of ``make test``.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))

from cache import cache_dir, fetch, log  # noqa: E402
from docblock import write_block  # noqa: E402
from modules import DWARF_CORPUS  # noqa: E402

TIME = shutil.which("time") or ("/usr/bin/time" if os.path.exists("/usr/bin/time") else None)


def run_once(cmd: list[str], env: dict | None = None, timeout: float = 900,
             cwd: Path | None = None) -> tuple[float, float, int, int, str]:
    """Wall time, CPU time (user + system: what a loaded machine does not inflate), peak RSS (KiB) and exit code
    of one fresh child process (GNU time's figures; without it, wall time only)."""
    with tempfile.NamedTemporaryFile("r", suffix=".time") as tf:
        full = [TIME, "-q", "-f", "%U %S %M", "-o", tf.name, *cmd] if TIME else cmd
        t0 = time.perf_counter()
        try:
            p = subprocess.run(full, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env, timeout=timeout,
                               cwd=cwd)
        except subprocess.TimeoutExpired:
            return time.perf_counter() - t0, 0.0, 0, -1, "timed out"
        wall = time.perf_counter() - t0
        cpu, rss = 0.0, 0
        try:
            u, s_, m = tf.read().split()[-3:]
            cpu, rss = float(u) + float(s_), int(m)
        except ValueError:
            pass
        return wall, cpu, rss, p.returncode, p.stderr.decode(errors="replace")

DOC = ROOT / "docs" / "performance.md"

COMMANDS = (  # (label, argv after `wasmem`, which modules)
    ("symbols", ["symbols", "{m}", "--json"], ("yosys", "ruby")),
    ("symbols --functions", ["symbols", "{m}", "--functions", "--json"], ("yosys", "ruby")),
    ("inspect --json", ["inspect", "--json", "{m}"], ("yosys", "ruby")),
    ("call _start --arg -V (compile cached)", ["call", "{m}", "_start", "--arg", "-V", "--json"], ("yosys",)),
)


def measure(python: str, tree: Path, argv: list[str], runs: int, index_cache: str | None) -> str:
    """One cell: ``wasmem ARGV`` of the checkout ``tree`` (run from it: ``python -m`` puts the working directory
    first on the path)."""
    env = dict(os.environ, PYTHONPATH=str(tree), WASMEM_PROGRESS="0")
    walls, cpus, rss, code = [], [], 0, 0
    for _ in range(runs):
        if index_cache is None:  # the first run on a module: an empty index cache every time
            with tempfile.TemporaryDirectory() as d:
                env["WASMEM_DWARF_CACHE"] = d
                wall, cpu, peak, code, err = run_once([python, "-m", "wasmem", *argv], env=env, cwd=tree)
        else:
            env["WASMEM_DWARF_CACHE"] = index_cache
            wall, cpu, peak, code, err = run_once([python, "-m", "wasmem", *argv], env=env, cwd=tree)
        if code not in (0, 1):
            log(f"dwarfcost: {' '.join(argv)} exited {code}: {err.strip()[-300:]}")
        walls.append(wall)
        cpus.append(cpu)
        rss = max(rss, peak)
    return f"{statistics.median(walls):.2f} s ({statistics.median(cpus):.2f} s CPU), {rss / 1024:.0f} MB"


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--before", type=Path, default=None, help="another wasmem checkout to time in the same run")
    ap.add_argument("--write", action="store_true", help="put the table into docs/performance.md")
    args = ap.parse_args(argv)
    cache = cache_dir()
    paths = {pin.key: fetch(pin, cache) for pin in DWARF_CORPUS}
    python = sys.executable
    trees = [("before", args.before)] if args.before else []
    trees.append(("now", ROOT))
    rows = []
    with tempfile.TemporaryDirectory() as warm:
        for label, argt, keys in COMMANDS:
            for key in keys:
                cmd = [a.format(m=paths[key]) for a in argt]
                if label.startswith("call"):
                    run_once([python, "-m", "wasmem", *cmd], env=dict(os.environ, PYTHONPATH=str(ROOT)))  # compile
                cells = []
                for name, tree in trees:
                    if name == "before":
                        cells.append(measure(python, tree, cmd, args.runs, warm))
                        continue
                    cold = measure(python, tree, cmd, args.runs, None)
                    measure(python, tree, cmd, 1, warm)  # fills the cache
                    cells += [cold, measure(python, tree, cmd, args.runs, warm)]
                rows.append(f"| `{label}` | {key} | " + " | ".join(cells) + " |")
                log(rows[-1])
    head = "| command | module | " + ("before (main) | " if args.before else "") + \
        "index not cached | index cached |\n|---|---|" + ("---|" if args.before else "") + "---|---|"
    text = (f"Median of {args.runs} runs each, wall time (CPU time: user + system) and the largest peak RSS; "
            "`symbols` and `inspect` print JSON. "
            "The DWARF index cache is empty for every run of the middle column, filled for the last.\n\n"
            + head + "\n" + "\n".join(rows))
    print(text)
    if args.write:
        write_block(DOC, "dwarfcost", text, heading="What DWARF costs on large debug builds")
    return 0


if __name__ == "__main__":
    sys.exit(main())
