"""The differential harness on real-world modules: `python bench/differential.py [--write]`.

Downloads the pinned corpus of bench/corpus.py into the bench cache (``$WASMEM_BENCH_CACHE``, default
``~/.cache/wasmem-bench``; sha256-checked, never inside the repository), then runs tests/differential.py's
``compare`` on each module with its calls: the same exports, with the same arguments, under a plain
wasmtime host and under a wasmem session, must give the same results, traps, output and byte-identical
memory. Each module runs in a child process of its own (a crash or a hang costs one row, not the run).

Prints a table (module, toolchain, size, host profile wasmem chose, calls compared, verdict with a one-line
reason) and, for each failure, the commands that reproduce it. Exit status 1 when any module mismatches,
errors or could not compare every call; 0 when all pass. ``--write`` puts the table into
docs/compatibility.md between the ``differential:begin``/``differential:end`` markers.
"""

from __future__ import annotations

import argparse
import json
import os
import shlex
import subprocess
import sys
import time
import traceback
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))

from cache import cache_dir, fetch, log  # noqa: E402
from corpus import CORPUS, Case  # noqa: E402
from docblock import write_block  # noqa: E402 - bench/ (the script's folder) is on the path

DOC = ROOT / "docs" / "compatibility.md"
PASS = "ok"


# ------------------------------------------------------------------------------------------------
# one module (in a child process)
# ------------------------------------------------------------------------------------------------

def run_case(case: Case, path: Path, timeout: float, options: dict | None = None) -> dict:
    """Compares one module; a JSON-able dict (status ok / mismatch / partial / error)."""
    compare = _harness().compare
    calls = case.parsed_calls()
    out = {"key": case.key, "path": str(path), "calls_total": len(calls)}
    t0 = time.perf_counter()
    options = dict(options or {})
    watch = options.pop("watch_targets", None)
    if watch:  # --option watch_targets='["all"]': run instrumented for --watch, "all" = every byte of memory 0
        options["watch"] = {"ranges": len(watch)}
        options["prepare"] = _watch_prepare(list(watch))
    try:
        report = compare(str(path), calls, timeout=timeout, **options)
    except BaseException as exc:  # noqa: BLE001 - any failure is this module's result
        out.update(status="error", reason=f"{type(exc).__name__}: {_first_line(exc)}",
                   where=_where(exc), seconds=round(time.perf_counter() - t0, 2))
        out.update(_profile_of(path))
        return out
    out["seconds"] = round(time.perf_counter() - t0, 2)
    out["profile"] = report.host_profile
    out["profile_reason"] = report.host_reason
    out["stack_method"] = report.stack_method
    out["compared"] = list(report.calls)
    out["skipped"] = [list(s) for s in report.skipped]
    out["mismatches"] = [str(m) for m in report.mismatches]
    out["mismatch_steps"] = [m.step for m in report.mismatches]
    out["mismatch_calls"] = [getattr(m, "index", None) for m in report.mismatches]
    out["noise"] = [list(n) for n in getattr(report, "noise", [])]
    if report.mismatches:
        out.update(status="mismatch", reason=_short(str(report.mismatches[0])))
    elif report.skipped:
        out.update(status="partial", reason=_short(f"{report.skipped[0][0]}: {report.skipped[0][1]}"))
    else:
        out.update(status=PASS, reason="")
    return out


def _watch_prepare(targets: list):
    def prepare(session):
        from wasmem.app.watchpoints import attach_watch
        from wasmem.debuginfo import load_symbols

        texts = [f"0:{session.memory_size(0)}" if t == "all" else t for t in targets]
        return attach_watch(session, texts, load_symbols(session.module))
    return prepare


def _harness():
    """tests/differential.py, loaded by its path (this file has the same module name)."""
    import importlib.util

    name = "wasmem_differential_harness"
    if name not in sys.modules:
        spec = importlib.util.spec_from_file_location(name, ROOT / "tests" / "differential.py")
        mod = importlib.util.module_from_spec(spec)
        sys.modules[name] = mod
        spec.loader.exec_module(mod)
    return sys.modules[name]


def _profile_of(path: Path) -> dict:
    """The profile wasmem would choose, when the session itself could not be opened."""
    try:
        from wasmem.parser.module import WasmModule
        from wasmem.runtime.hosts import choose_host

        c = choose_host(WasmModule.from_file(str(path)))
        return {"profile": c.name, "profile_reason": c.explanation}
    except Exception:  # noqa: BLE001 - before host profiles existed
        return {"profile": None, "profile_reason": None}


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else repr(exc)


def _short(text: str, n: int = 240) -> str:
    text = " ".join(text.split())
    return text if len(text) <= n else text[: n - 1] + "…"


def _where(exc: BaseException) -> str:
    """The innermost frame in wasmem/ or tests/ (where an internal error came from)."""
    tb = traceback.extract_tb(exc.__traceback__)
    ours = [f for f in tb if "/wasmem/" in f.filename or "/tests/" in f.filename]
    f = (ours or tb or [None])[-1]
    return f"{Path(f.filename).relative_to(ROOT) if f and Path(f.filename).is_relative_to(ROOT) else f.filename}" \
           f":{f.lineno}" if f else ""


def child_main(key: str, path: str, timeout: float, options: dict) -> int:
    case = next(c for c in CORPUS if c.key == key)
    print(json.dumps(run_case(case, Path(path), timeout, options)))
    return 0


# ------------------------------------------------------------------------------------------------
# the whole corpus
# ------------------------------------------------------------------------------------------------

def run_child(case: Case, path: Path, timeout: float, limit: float, options: dict) -> dict:
    cmd = [sys.executable, str(Path(__file__).resolve()), "--child", case.key, str(path), "--timeout", str(timeout),
           "--options-json", json.dumps(options)]
    t0 = time.perf_counter()
    try:
        p = subprocess.run(cmd, capture_output=True, text=True, timeout=limit,
                           env={**os.environ, "PYTHONUNBUFFERED": "1"})
    except subprocess.TimeoutExpired:
        return {"key": case.key, "status": "error", "reason": f"no verdict within {limit:.0f} s (the child was "
                f"stopped)", "seconds": round(time.perf_counter() - t0, 2), "calls_total": len(case.calls)}
    lines = [ln for ln in p.stdout.splitlines() if ln.startswith("{")]
    if p.returncode != 0 or not lines:
        err = [ln for ln in p.stderr.strip().splitlines() if ln.strip()]
        return {"key": case.key, "status": "error", "calls_total": len(case.calls),
                "reason": f"the child process died (exit {p.returncode}): {err[-1] if err else 'no output'}",
                "seconds": round(time.perf_counter() - t0, 2)}
    return json.loads(lines[-1])


def _mb(n: int) -> str:
    return f"{n / 1e6:.2f} MB" if n < 10e6 else f"{n / 1e6:.1f} MB"


def _as_called(step: str) -> str:
    """A compared step as it was called: "free $0 (= 1234)" → "free 1234"."""
    if " (= " in step:
        head, _, resolved = step.partition(" (= ")
        return f"{head.split()[0]} {resolved[:-1]}"
    return step


def _q(path: str) -> str:
    return path if path.startswith("$") and " " not in path else shlex.quote(path)


def repro(res: dict, case: Case, shown_cache: str | None = None) -> list[str]:
    """Commands that reproduce a failure: the CLI (the failing call, earlier ones as --before) and Python.
    ``shown_cache``: write paths under the cache with this prefix instead (for the docs)."""
    path = res.get("path", f"~/.cache/wasmem-bench/{case.key}/{Path(case.pin.member).name}")
    if shown_cache:
        path = f"{shown_cache}/{case.key}/{Path(case.pin.member).name}"
    compared = res.get("compared", [])
    steps = res.get("mismatch_steps") or []
    indices = res.get("mismatch_calls") or []
    if indices and indices[0] is not None:
        fail_at = indices[0]
    elif steps and steps[0] in compared:
        fail_at = compared.index(steps[0])
    else:
        fail_at = len(compared) - 1 if compared else None
    lines = []
    if fail_at is not None and fail_at >= 0:
        done = [_as_called(c) for c in compared]
        befores = " ".join(f"--before {shlex.quote(b)}" for b in done[:fail_at])
        lines.append(f".venv/bin/wasmem call {_q(path)} {done[fail_at]}" + (f" {befores}" if befores else ""))
    elif case.calls:
        lines.append(f".venv/bin/wasmem call {_q(path)} {case.calls[0]}")
    lines.append(f".venv/bin/python bench/differential.py --only {case.key}   # or, in Python:")
    code = (f'import sys; sys.path.insert(0, "tests"); from differential import compare; '
            f'r = compare({json.dumps(path)}, {json.dumps(case.parsed_calls())}); '
            f'print(r.ok, *r.mismatches, *r.skipped, sep=chr(10))')
    lines.append(f".venv/bin/python -c {shlex.quote(code)}")
    return lines


def table(results: list[dict], cases: dict[str, Case], sizes: dict[str, int]) -> str:
    lines = ["| module | package | toolchain | size | host profile | exports called | compared | result |",
             "|---|---|---|---:|---|---|---:|---|"]
    for r in results:
        c = cases[r["key"]]
        prof = r.get("profile") or "?"
        if r.get("profile") and r["profile"] != c.profile:
            prof += f" (expected {c.profile})"
        exports = ", ".join(dict.fromkeys(x.split()[0] for x in c.calls))
        n = len(r.get("compared", []))
        verdict = {"ok": "**ok**", "mismatch": "MISMATCH", "partial": "PARTIAL", "error": "ERROR"}[r["status"]]
        reason = r.get("reason", "")
        noisy = len({n[0] for n in r.get("noise", [])})
        if r["status"] == PASS and noisy:
            reason = f"{noisy} of {n} steps had run-to-run differences (clock, random) left out"
        if reason:
            verdict += ": " + reason.replace("|", "\\|")
        lines.append(f"| {c.key} | `{c.pin.spec}` ({c.pin.registry}) | {c.toolchain}: {c.built} | "
                     f"{_mb(sizes.get(c.key, 0))} | {prof} | `{'`, `'.join(exports.split(', '))}` | "
                     f"{n}/{r.get('calls_total', len(c.calls))} | {verdict} |")
    return "\n".join(lines)


def summary(results: list[dict], cases: dict[str, Case]) -> str:
    ok = [r for r in results if r["status"] == PASS]
    chains_ok = sorted({cases[r["key"]].toolchain for r in ok})
    chains = sorted({cases[r["key"]].toolchain for r in results})
    return (f"{len(ok)} of {len(results)} modules pass, from {len(chains_ok)} of {len(chains)} toolchains "
            f"({', '.join(chains_ok) or 'none'}).")


def failures_md(results: list[dict], cases: dict[str, Case]) -> str:
    """The failing modules with the command that reproduces each (paths under $WASMEM_BENCH_CACHE)."""
    bad = [r for r in results if r["status"] != PASS]
    if not bad:
        return ""
    out = ["", "", "Reproducing the failures (`$WASMEM_BENCH_CACHE` is the bench cache, by default "
           "`~/.cache/wasmem-bench`; `python bench/differential.py --only KEY` runs one module):", ""]
    for r in bad:
        cli = repro(r, cases[r["key"]], shown_cache="$WASMEM_BENCH_CACHE")[0]
        out.append(f"- **{r['key']}** ({r['status']}): `{cli}`")
    return "\n".join(out)


def write_doc(text: str) -> None:
    write_block(DOC, "differential", text, title="Compatibility")


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--only", default=None, help="comma-separated module keys (default: the whole corpus)")
    ap.add_argument("--list", action="store_true", help="list the corpus and exit (nothing is downloaded)")
    ap.add_argument("--timeout", type=float, default=20.0, help="per call, seconds [default: 20]")
    ap.add_argument("--limit", type=float, default=600.0, help="per module, seconds [default: 600]")
    ap.add_argument("--json", default=None, metavar="FILE", help="also write every result as JSON")
    ap.add_argument("--write", action="store_true", help="update docs/compatibility.md")
    ap.add_argument("--option", action="append", default=[], metavar="NAME=VALUE",
                    help="a session option for every module, as for wasmem.open (repeatable; VALUE is JSON or "
                         "text), e.g. paint=false or check_stack=true; compare's noise_check/deterministic_host too; "
                         "watch_targets='[\"all\"]' runs each module instrumented for --watch with every byte of "
                         "memory 0 watched (every write calls the host)")
    ap.add_argument("--child", nargs=2, metavar=("KEY", "PATH"), help=argparse.SUPPRESS)
    ap.add_argument("--options-json", default="{}", help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.child:
        return child_main(args.child[0], args.child[1], args.timeout, json.loads(args.options_json))
    options = {}
    for item in args.option:
        name, sep, value = item.partition("=")
        if not sep:
            raise SystemExit(f"differential: --option {item}: expected NAME=VALUE")
        try:
            options[name.strip()] = json.loads(value)
        except json.JSONDecodeError:
            options[name.strip()] = value

    cases = {c.key: c for c in CORPUS}
    keys = args.only.split(",") if args.only else list(cases)
    unknown = [k for k in keys if k not in cases]
    if unknown:
        raise SystemExit(f"differential: unknown module(s) {', '.join(unknown)}; known: {', '.join(cases)}")
    if args.list:
        for k in keys:
            c = cases[k]
            print(f"{k:18} {c.toolchain:15} {c.pin.spec:45} {c.profile:15} {'; '.join(c.calls)}")
        return 0

    cache = cache_dir()
    paths = {k: fetch(cases[k].pin, cache) for k in keys}
    sizes = {k: p.stat().st_size for k, p in paths.items()}
    results = []
    for k in keys:
        log(f"differential: {k} ({_mb(sizes[k])}, {cases[k].toolchain}) …")
        r = run_child(cases[k], paths[k], args.timeout, args.limit, options)
        r.setdefault("path", str(paths[k]))
        results.append(r)
        log(f"  {r['status']:8} {r.get('seconds', 0):7.1f} s  profile {r.get('profile')}  "
            f"{len(r.get('compared', []))}/{r.get('calls_total')} calls  {r.get('reason', '')}")

    from importlib.metadata import version

    cmdline = "python bench/differential.py" + "".join(f" --option {o}" for o in args.option)
    head = (f"Run {time.strftime('%Y-%m-%d')} by `{cmdline}` (wasmem at "
            f"{_git_rev()}, wasmtime-py {version('wasmtime')}): " + summary(results, cases))
    text = head + "\n\n" + table(results, cases, sizes)
    print(text)
    doc = text + failures_md(results, cases)
    failures = [r for r in results if r["status"] != PASS]
    if failures:
        print("\nTo reproduce:")
        for r in failures:
            print(f"\n{r['key']} ({r['status']}): {r.get('reason', '')}")
            if r.get("where"):
                print(f"  raised at {r['where']}")
            for m in (r.get("mismatches") or [])[1:4]:
                print(f"  also: {_short(m, 200)}")
            for line in repro(r, cases[r["key"]]):
                print("  " + line)
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=1))
    if args.write:
        write_doc(doc)
        log(f"differential: wrote {DOC.relative_to(ROOT)}")
    return 1 if failures else 0


def _git_rev() -> str:
    try:
        r = subprocess.run(["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"], capture_output=True, text=True)
        rev = r.stdout.strip() or "?"
        dirty = subprocess.run(["git", "-C", str(ROOT), "status", "--porcelain", "--untracked-files=no", "wasmem"],
                               capture_output=True, text=True).stdout.strip()
        return rev + (" with uncommitted changes in wasmem/" if dirty else "")
    except OSError:
        return "?"


if __name__ == "__main__":
    sys.exit(main())
