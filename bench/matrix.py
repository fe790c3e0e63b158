"""The benchmark matrix (issue 26 item 5): `python bench/matrix.py [--modules a,b] [--commands c,d] [--write]`.

Every wasmem command on every chosen corpus module against its plain counterpart, measured in the same
run, cold and warm, wall time and peak RSS of fresh child processes (bench/run.py's ``run_once``: GNU
time's ``%M``, else ``wait4``):

- ``inspect --json`` and ``symbols --json`` against ``wasm-tools objdump`` / ``wasm-tools print`` (the
  pinned wasm-tools wheel of bench/modules.py);
- ``dump`` (instantiate, show memory) and ``call EXPORT ARGS`` against a plain wasmtime-py script
  (default ``Config`` plus the compile cache, WASI, other imports as traps; the export called, or none
  for ``dump``).

Cold = wasmtime's compile cache and wasmem's caches (``WASMEM_CACHE_DIR``, ``XDG_CACHE_HOME``) in an
empty temporary directory; warm = the same command again on those caches. ``--warm-only K`` primes the
caches of module K with one unmeasured run instead of reporting its cold figure (for the biggest
modules on a slow machine). Each run is bounded by ``--timeout`` seconds; a run that hits it is named
in the table. Ratios are against the peer measured in the same run and cache state, never absolute
targets. ``--write`` replaces the ``matrix`` block of docs/performance.md (between its markers)."""

from __future__ import annotations

import argparse
import os
import platform
import shutil
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(ROOT))

from cache import cache_dir, fetch, log  # noqa: E402 - bench/ (the script's folder) is on the path
from corpus import CORPUS  # noqa: E402
from docblock import write_block  # noqa: E402
from modules import MODULES, WASM_TOOLS  # noqa: E402

DOC = ROOT / "docs" / "performance.md"
KEY = "matrix"
HEADING = "Benchmark matrix: every command against its plain counterpart"

# the plain host for `call`/`dump`: what a user of wasmtime-py writes (argv: module, cache toml, export, args)
PLAIN = '''
import sys, wasmtime
cfg = wasmtime.Config()
cfg.cache = sys.argv[2]
engine = wasmtime.Engine(cfg)
module = wasmtime.Module.from_file(engine, sys.argv[1])
linker = wasmtime.Linker(engine)
linker.define_wasi()
linker.define_unknown_imports_as_traps(module)
store = wasmtime.Store(engine)
wasi = wasmtime.WasiConfig(); wasi.argv = [sys.argv[1]]; store.set_wasi(wasi)
ex = linker.instantiate(store, module).exports(store)
try:
    if "_initialize" in ex: ex["_initialize"](store)
    if len(sys.argv) > 3: ex[sys.argv[3]](store, *[int(a) for a in sys.argv[4:]])
except wasmtime.ExitTrap as e: sys.exit(e.code)
'''

# the export each module's `call` runs: the first scalar call of the corpus (bench/corpus.py), or these
CALLS = {"yosys": ("_start", "--arg", "-V"), "ffmpeg": ("ta", "16"), "lightningcss": ()}
COMMANDS = ("inspect", "symbols", "dump", "call")
PEERS = {"inspect": "wasm-tools objdump", "symbols": "wasm-tools print", "dump": "wasmtime-py, instantiate",
         "call": "wasmtime-py, call"}


@dataclass
class Cell:
    wall: float = 0.0
    rss: int = 0  # KiB
    note: str = ""  # "timed out (N s)", "exit N", "skipped"

    def show(self) -> str:
        if self.note:
            return self.note
        return f"{self.wall:.2f} s, {self.rss / 1024:.0f} MB"


@dataclass
class Row:
    module: str
    command: str
    state: str  # "cold" / "warm"
    wasmem: Cell
    peer: Cell


def call_of(key: str) -> tuple[str, ...] | None:
    """The call of module ``key`` (export and args), None when it has none to run."""
    if key in CALLS:
        return CALLS[key] or None
    for case in CORPUS:
        if case.key == key:
            for name, args in case.parsed_calls():
                if all(a.lstrip("-").isdigit() for a in args):
                    return (name, *args)
    return None


def ratio(a: Cell, b: Cell, attr: str) -> str:
    if a.note or b.note or not getattr(b, attr):
        return "—"
    return f"{getattr(a, attr) / getattr(b, attr):.2f}×"


def render(rows: list[Row], meta: dict) -> str:
    """The generated Markdown (no timing in it but the figures given)."""
    lines = [f"Measured {meta['date']} by `bench/matrix.py` (`make bench`; `python bench/matrix.py "
             f"{meta['args']}`). Machine: {meta['machine']}. "
             f"Load: {meta['load']}. Per-run timeout {meta['timeout']:.0f} s. Cold = empty wasmtime and wasmem "
             f"caches; warm = the same command again. Ratios are wasmem / peer, same run, same cache state.", "",
             "| module | command | state | wasmem | peer | peer figure | wall ratio | RSS ratio |",
             "|---|---|---|---:|---|---:|---:|---:|"]
    for r in rows:
        lines.append(f"| {r.module} | {r.command} | {r.state} | {r.wasmem.show()} | {PEERS.get(r.command, '')} | "
                     f"{r.peer.show()} | {ratio(r.wasmem, r.peer, 'wall')} | {ratio(r.wasmem, r.peer, 'rss')} |")
    lines += ["", "Commands: `inspect --json M` vs `wasm-tools objdump M`; `symbols --json M` vs `wasm-tools print M`; "
              "`dump M --len 64` vs the plain wasmtime-py script instantiating M; `call M EXPORT ARGS` vs the same "
              "script calling EXPORT (a reactor's `_initialize` first; other imports as traps)."]
    if meta.get("notes"):
        lines += [""] + [f"- {n}" for n in meta["notes"]]
    return "\n".join(lines)


def commands_for(cmd: str, key: str, path: Path, tools: Path, plain_py: Path, toml: Path,
                 wasmem: list[str]) -> tuple[list[str], list[str]] | None:
    """(wasmem argv, peer argv) of one matrix cell, None when the module has nothing to run for it."""
    if cmd == "inspect":
        return [*wasmem, "inspect", "--json", str(path)], [str(tools), "objdump", str(path)]
    if cmd == "symbols":
        return [*wasmem, "symbols", "--json", str(path)], [str(tools), "print", str(path)]
    plain = [sys.executable, str(plain_py), str(path), str(toml)]
    if cmd == "dump":
        return [*wasmem, "dump", str(path), "--len", "64"], plain
    call = call_of(key)
    if call is None:
        return None
    wcall = [*wasmem, "call", str(path), *call]
    pargs = [a for a in call[1:] if not a.startswith("-") or a.lstrip("-").isdigit()]
    if "--arg" in call:  # a WASI command's argv: the plain script calls the export bare
        pargs = []
    return wcall, [*plain, call[0], *pargs]


def run_matrix(keys: list[str], cmds: list[str], paths: dict, tools: Path, timeout: float,
               warm_only: set[str], wasmem: list[str], work: Path) -> tuple[list[Row], list[str]]:
    from run import run_once

    plain_py = work / "plain.py"
    plain_py.write_text(PLAIN)
    rows: list[Row] = []
    notes: list[str] = []

    def one(label: str, argv: list[str], env: dict, ok=(0, 1)) -> Cell:
        """One measured run; wasmem's exit 1 (a trap) counts, the peer's (a Python traceback) does not."""
        wall, rss, code, err = run_once(argv, env, timeout=timeout)
        if code == -1:
            cell = Cell(wall, 0, f"timed out ({timeout:.0f} s)")
        elif code not in ok:
            cell = Cell(wall, rss, f"exit {code}")
            notes.append(f"{label}: exit {code}: {err.strip().splitlines()[-1][:160] if err.strip() else ''}")
        else:
            cell = Cell(wall, rss)
        log(f"  {label:50} {cell.show()}")
        return cell

    for key in keys:
        for cmd in cmds:
            d = work / f"{key}-{cmd}"
            (d / "wasmtime").mkdir(parents=True)
            toml = d / "wasmtime.toml"
            toml.write_text(f'[cache]\ndirectory = "{d / "wasmtime"}"\n')
            pair = commands_for(cmd, key, paths[key], tools, plain_py, toml, wasmem)
            if pair is None:
                notes.append(f"{key} {cmd}: no scalar call to run (skipped)")
                continue
            wcmd, pcmd = pair
            env = {**os.environ, "WASMEM_CACHE_DIR": str(d / "wasmem-wt"), "XDG_CACHE_HOME": str(d / "xdg"),
                   "WASMEM_PROGRESS": "0"}
            if wasmem[0] == sys.executable:
                env["PYTHONPATH"] = str(ROOT)
            penv = {**os.environ, "XDG_CACHE_HOME": str(d / "xdg-peer")}
            states = ["warm"] if key in warm_only else ["cold", "warm"]
            if key in warm_only:
                one(f"{key} {cmd} wasmem (priming)", wcmd, env)
                one(f"{key} {cmd} peer (priming)", pcmd, penv, ok=(0,))
            for state in states:
                w = one(f"{key} {cmd} wasmem {state}", wcmd, env)
                p = one(f"{key} {cmd} peer {state}", pcmd, penv, ok=(0,))
                rows.append(Row(key, cmd, state, w, p))
            shutil.rmtree(d, ignore_errors=True)
    return rows, notes


def load_note() -> str:
    try:
        l1, l5, _ = os.getloadavg()
        return f"load average {l1:.1f} (1 min) / {l5:.1f} (5 min) at the end, on {os.cpu_count()} cores"
    except OSError:
        return "unknown"


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    known = [m.key for m in MODULES] + [c.key for c in CORPUS if c.key not in {m.key for m in MODULES}]
    ap.add_argument("--modules", default="qjs-reactor,sqlite,graphviz,lightningcss",
                    help=f"comma-separated module keys (known: {','.join(known)})")
    ap.add_argument("--commands", default=",".join(COMMANDS), help=f"comma-separated, of {','.join(COMMANDS)}")
    ap.add_argument("--warm-only", default="", help="modules measured warm only (primed by one unmeasured run)")
    ap.add_argument("--timeout", type=float, default=300, help="seconds per run; a hit is named in the table")
    ap.add_argument("--wasmem", default=None, help="the wasmem executable (default: `python -m wasmem` here)")
    ap.add_argument("--machine", default="", help="a note on the machine for the table")
    ap.add_argument("--write", action="store_true", help="replace the matrix block of docs/performance.md")
    a = ap.parse_args(argv)
    keys = [k for k in a.modules.split(",") if k]
    cmds = [c for c in a.commands.split(",") if c]
    bad = [k for k in keys if k not in known] + [c for c in cmds if c not in COMMANDS]
    if bad:
        raise SystemExit(f"matrix: unknown module(s)/command(s): {', '.join(bad)}")
    pins = {m.key: m for m in MODULES} | {c.key: c.pin for c in CORPUS}
    cache = cache_dir()
    paths = {k: fetch(pins[k], cache) for k in keys}
    tools = fetch(WASM_TOOLS, cache)
    wasmem = [a.wasmem] if a.wasmem else [sys.executable, "-m", "wasmem"]
    with tempfile.TemporaryDirectory(dir=cache) as work:
        rows, notes = run_matrix(keys, cmds, paths, tools, a.timeout, set(a.warm_only.split(",")) - {""},
                                 wasmem, Path(work))
    sizes = ", ".join(f"{k} {paths[k].stat().st_size / 1e6:.1f} MB" for k in keys)
    machine = a.machine or f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}"
    args = f"--modules {','.join(keys)} --commands {','.join(cmds)}" + (f" --warm-only {a.warm_only}" if a.warm_only
                                                                         else "") + f" --timeout {a.timeout:g}"
    meta = {"args": args, "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()), "modules": keys, "commands": cmds,
            "machine": machine, "load": load_note(), "timeout": a.timeout,
            "notes": [f"module sizes: {sizes}"] + ([f"warm only: {a.warm_only}"] if a.warm_only else []) + notes}
    text = render(rows, meta)
    print(text)
    if a.write:
        write_block(DOC, KEY, text, heading=HEADING)
        log(f"matrix: wrote {DOC.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
