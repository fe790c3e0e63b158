"""The instrumentation rewrite and its on-disk cache on large modules (issue 26): `python bench/rewritecost.py
[--write]`, part of `make bench`.

1. Rewrite speed: the stack pass (what a default `call` instruments) on yosys and ffmpeg-core, in process,
   the best of ``--repeat`` runs in CPU seconds of this process (the machine is shared: wall time would
   measure the neighbours), as MB of code per second; and the time to read the same rewrite back from
   the rewrite cache (runtime/rewritecache.py: hash the module, read and check the entry).
2. `wasmem call yosys.wasm _start --arg -V` (stack measurement on, the default) cold and warm, against a
   plain wasmtime-py script measured in the same run (default ``Config`` plus the compile cache, WASI with
   argv, the export called: no epoch interruption or fuel): cold = fresh compile cache (and, for wasmem, a
   fresh rewrite cache beside it), warm = the same caches again. Fresh processes; wall time and peak RSS
   from GNU time (run.py's ``run_once``). wasmem warm is also timed with ``WASMEM_REWRITE_CACHE=off``:
   what the rewrite cache saves.

The modules are the pinned ones of bench/modules.py, downloaded into the bench cache.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(ROOT))

from cache import cache_dir, fetch, log  # noqa: E402 - bench/ (the script's folder) is on the path
from docblock import write_block  # noqa: E402
from modules import MODULES  # noqa: E402
from run import run_once  # noqa: E402

DOC = ROOT / "docs" / "performance.md"
REWRITE_MODULES = ("yosys", "ffmpeg")
CALL_MODULE = "yosys"
CALL = ("_start", "--arg", "-V")

# the plain host: what a user of wasmtime-py writes to run a WASI command (12 lines)
PLAIN = '''
import sys, wasmtime
cfg = wasmtime.Config()
cfg.cache = sys.argv[3]
engine = wasmtime.Engine(cfg)
module = wasmtime.Module.from_file(engine, sys.argv[1])
linker = wasmtime.Linker(engine)
linker.define_wasi()
store = wasmtime.Store(engine)
wasi = wasmtime.WasiConfig(); wasi.argv = [sys.argv[1], *sys.argv[4:]]; wasi.inherit_stdout()
store.set_wasi(wasi)
try: linker.instantiate(store, module).exports(store)[sys.argv[2]](store)
except wasmtime.ExitTrap as e: sys.exit(e.code)
'''


def rewrite_speed(path: Path, repeat: int) -> dict:
    """Best-of-``repeat`` stack-pass rewrite of ``path`` and the cache hit, in this process."""
    from wasmem.debuginfo.layout import analyze_layout
    from wasmem.instrument.rewriter import rewrite
    from wasmem.instrument.stack import StackPass
    from wasmem.parser.module import WasmModule
    from wasmem.runtime import rewritecache

    data = path.read_bytes()
    module = WasmModule.from_bytes(data)
    sp = analyze_layout(module).stack_pointer.global_index
    code = module.get_section(10).size
    times = []
    for _ in range(repeat):
        t = time.process_time()
        r = rewrite(data, [StackPass(sp, 0)])
        times.append(time.process_time() - t)
    with tempfile.TemporaryDirectory() as d:
        rewritecache.cached_rewrite(data, [StackPass(sp, 0)], module, Path(d))
        hits = []
        for _ in range(repeat):
            t = time.process_time()
            h = rewritecache.cached_rewrite(data, [StackPass(sp, 0)], module, Path(d))
            hits.append(time.process_time() - t)
        assert h.data == r.data
    return {"code": code, "rewrite": min(times), "hit": min(hits), "sites": r.passes[0].sites,
            "grown": len(r.data) - len(data)}


def call_runs(wasmem: list[str], path: Path, runs: int, work: Path, warm: int = 3) -> dict:
    """Cold and warm runs of wasmem `call` and of the plain script, in fresh cache directories."""
    plain_py = work / "plain.py"
    plain_py.write_text(PLAIN)
    out: dict[str, list] = {}

    def timed(label: str, cmd: list[str], env: dict) -> None:
        wall, rss, code, err = run_once(cmd, env)
        if code not in (0, 1):
            raise SystemExit(f"bench: {label} failed (exit {code}): {err.strip()[-400:]}")
        out.setdefault(label, []).append((wall, rss))
        log(f"  {label:40} {wall:8.2f} s  {rss / 1024:7.0f} MB")

    for i in range(runs if runs > 0 else 1):
        cold = work / f"cold-{i}"
        wt = cold / "wasmtime"
        wt.mkdir(parents=True)
        toml = cold / "wasmtime.toml"
        toml.write_text(f'[cache]\ndirectory = "{wt}"\n')
        plain = [sys.executable, str(plain_py), str(path), CALL[0], str(toml), *CALL[2:]]
        timed("plain wasmtime-py, cold", plain, dict(os.environ))
        for _ in range(warm):
            timed("plain wasmtime-py, warm", plain, dict(os.environ))
        env = {**os.environ, "WASMEM_CACHE_DIR": str(cold / "wasmem"), "WASMEM_PROGRESS": "0"}
        if wasmem[0] == sys.executable:  # this checkout's wasmem
            env["PYTHONPATH"] = str(ROOT)
        env.pop("WASMEM_REWRITE_CACHE", None)
        cmd = [*wasmem, "call", str(path), *CALL]
        timed("wasmem call, cold", cmd, env)
        for _ in range(warm):
            timed("wasmem call, warm", cmd, env)
            timed("wasmem call, warm, rewrite cache off", cmd, {**env, "WASMEM_REWRITE_CACHE": "off"})
        shutil.rmtree(cold, ignore_errors=True)
    return out


def table(speeds: dict, calls: dict, sizes: dict) -> str:
    lines = [f"Measured {time.strftime('%Y-%m-%d')} by `bench/rewritecost.py` (`make bench`).", "",
             "The stack pass (a default `call`'s instrumentation), in process, best of the runs, CPU seconds:", "",
             "| module | code | `global.set SP` rewritten | rewrite | MB of code / s | read back from the rewrite cache |",
             "|---|---:|---:|---:|---:|---:|"]
    for key, s in speeds.items():
        mb = s["code"] / 2**20
        lines.append(f"| {key} | {mb:.1f} MB | {s['sites']:,} | {s['rewrite']:.2f} s | {mb / s['rewrite']:.1f} | "
                     f"{s['hit']:.2f} s |")
    if calls:
        lines += ["", f"`wasmem call {CALL_MODULE}.wasm {' '.join(CALL)}` ({sizes[CALL_MODULE] / 1e6:.1f} MB; stack "
                  f"measurement on) against the plain wasmtime-py script, fresh processes, the same run "
                  f"(cold: median of {len(calls['wasmem call, cold'])}, warm: of {len(calls['wasmem call, warm'])}):", "",
                  "| command | wall s | peak RSS MB | vs plain, same cache state |", "|---|---:|---:|---:|"]
        for label, rows in calls.items():
            wall = statistics.median(w for w, _ in rows)
            rss = max(r for _, r in rows) / 1024
            ratio = ""
            if label.startswith("wasmem"):
                base = calls["plain wasmtime-py, cold" if ", cold" in label else "plain wasmtime-py, warm"]
                ratio = f"{wall / statistics.median(w for w, _ in base):.2f}×"
            lines.append(f"| {label} | {wall:.2f} | {rss:.0f} | {ratio} |")
    return "\n".join(lines)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--repeat", type=int, default=3, help="in-process rewrites per module (the best counts)")
    ap.add_argument("--runs", type=int, default=1, help="cold+warm rounds of the call (each compiles cold)")
    ap.add_argument("--warm", type=int, default=3, help="warm runs after each cold one")
    ap.add_argument("--no-call", action="store_true", help="only the rewrite speed")
    ap.add_argument("--wasmem", default=None,
                    help="the wasmem executable (default: `python -m wasmem` from this checkout)")
    ap.add_argument("--write", action="store_true", help="put the tables into docs/performance.md")
    a = ap.parse_args(argv)
    cache = cache_dir()
    paths = {m.key: fetch(m, cache) for m in MODULES if m.key in REWRITE_MODULES}
    sizes = {k: p.stat().st_size for k, p in paths.items()}
    speeds = {}
    for key in REWRITE_MODULES:
        log(f"bench: rewrite {key}")
        speeds[key] = rewrite_speed(paths[key], a.repeat)
        s = speeds[key]
        log(f"  {s['code'] / 2**20:.1f} MB of code: {s['rewrite']:.2f} s ({s['code'] / 2**20 / s['rewrite']:.1f} MB/s), "
            f"cache hit {s['hit']:.2f} s")
    calls = {}
    if not a.no_call:
        wasmem = [a.wasmem] if a.wasmem else [sys.executable, "-m", "wasmem"]
        log(f"bench: call {CALL_MODULE}")
        with tempfile.TemporaryDirectory(dir=cache) as work:
            calls = call_runs(wasmem, paths[CALL_MODULE], a.runs, Path(work), a.warm)
    text = table(speeds, calls, sizes)
    print(text)
    if a.write:
        write_block(DOC, "rewritecost", text, heading="The instrumentation rewrite and its cache")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
