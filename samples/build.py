#!/usr/bin/env python3
"""Rebuild every sample module from the `build:` lines in the sources' header comments.

Usage: python samples/build.py [NAME ...]     (NAME = a source stem such as memdemo or pic)

Each samples/*.c and samples/*.wat, and each C, WAT or Zig test fixture in tests/debuginfo/data/,
tests/coredump/data/ and tests/heap/data/
(whose coredumps come from the real wasmtime CLI: see make_core.py there), carries lines
starting with `// build: ` (C, Zig) or `;; build: ` (WAT). They are run in order from the source's own
folder, with these substitutions:

    $CC      python -m ziglang cc   (the pinned ziglang package, in this interpreter)
    $ZIGLD   python -m ziglang wasm-ld   (its LLD, for flags zig cc does not pass on, e.g. --no-stack-first)
    $ZIG     python -m ziglang   (the zig compiler itself, for the Zig fixtures: `// build: $ZIG build-exe …`)
    $PY      this Python interpreter (the venv's, with wasmtime-py)
    $CLANG   Debian clang 14 (clang-14, else clang) -- data-first builds; skipped when absent
    $WASMLD  Debian wasm-ld 14 (wasm-ld-14, else wasm-ld); skipped when absent
    $WASMOPT Binaryen's wasm-opt (Debian's binaryen, or npm's); skipped when absent

`cp SRC DST`, `mkdir -p DIR` and `rm -r DIR` (relative paths inside the source's folder) are done
in Python. Intermediate files go to samples/build/ (not committed), which is wiped first. zig's
caches are pointed into samples/build/ too: a cache hit would skip clang and so not write the
-fstack-usage (.su) file.
Stdlib only.
"""
from __future__ import annotations

import os
import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
BUILD = HERE / "build"
FIXTURES = [HERE.parent / "tests" / "debuginfo" / "data",  # C test fixtures built the same way
            HERE.parent / "tests" / "coredump" / "data", HERE.parent / "tests" / "heap" / "data"]
LINE_RE = re.compile(r"^\s*(?://|;;)\s*build:\s*(.+?)\s*$")


def find_tool(*names: str) -> str | None:
    for name in names:
        path = shutil.which(name)
        if path:
            return path
    return None


def tools() -> dict[str, list[str] | None]:
    py = sys.executable
    return {
        "CC": [py, "-m", "ziglang", "cc"],
        "ZIGLD": [py, "-m", "ziglang", "wasm-ld"],
        "ZIG": [py, "-m", "ziglang"],
        "PY": [py],
        "CLANG": [t] if (t := os.environ.get("CLANG") or find_tool("clang-14", "clang")) else None,
        "WASMLD": [t] if (t := os.environ.get("WASMLD") or find_tool("wasm-ld-14", "wasm-ld")) else None,
        "WASMOPT": [t] if (t := os.environ.get("WASMOPT") or find_tool("wasm-opt")) else None,
    }


def build_lines(src: Path) -> list[str]:
    out = []
    for line in src.read_text(encoding="utf-8").splitlines():
        m = LINE_RE.match(line)
        if m:
            out.append(m.group(1))
    return out


def expand(line: str, tl: dict[str, list[str] | None]) -> tuple[list[str] | None, str | None]:
    """Return (argv, None), or (None, missing-tool-name)."""
    argv: list[str] = []
    for word in shlex.split(line):
        if word.startswith("$") and word[1:] in tl:
            tool = tl[word[1:]]
            if tool is None:
                return None, word[1:]
            argv.extend(tool)
        else:
            argv.append(word)
    return argv, None


def outputs(words: list[str]) -> set[str]:
    """Files a build line writes: the word after -o (plus the .su of -fstack-usage), cp's target."""
    outs: set[str] = set()
    if words and words[0] == "cp" and len(words) == 3:
        outs.add(words[2])
    for i, w in enumerate(words[:-1]):
        if w == "-o":
            outs.add(words[i + 1])
            if "-fstack-usage" in words:
                outs.add(str(Path(words[i + 1]).with_suffix(".su")))
        if w == "-stack-usage-file" and i > 0 and words[i - 1] == "-Xclang" and i + 2 < len(words):
            outs.add(words[i + 2])
    return outs


def file_step(here: Path, args: list[str]) -> None:
    """`cp SRC DST`, `mkdir -p DIR` or `rm -r DIR`, on relative paths inside ``here``."""
    paths = [a for a in args[1:] if not a.startswith("-")]
    for p in paths:
        if Path(p).is_absolute() or not (here / p).resolve().is_relative_to(here):
            raise ValueError(f"{args[0]}: {p} is outside {here}")
    if args[0] == "cp" and len(paths) == 2:
        shutil.copyfile(here / paths[0], here / paths[1])
    elif args[0] == "mkdir" and args[1:2] == ["-p"] and len(paths) == 1:
        (here / paths[0]).mkdir(parents=True, exist_ok=True)
    elif args[0] == "rm" and args[1:2] == ["-r"] and len(paths) == 1:
        shutil.rmtree(here / paths[0])
    else:
        raise ValueError(f"unsupported file step: {' '.join(args)}")


def main(argv: list[str]) -> int:
    wanted = set(argv)
    if BUILD.exists():
        shutil.rmtree(BUILD)
    BUILD.mkdir()
    env = dict(os.environ)
    env["ZIG_GLOBAL_CACHE_DIR"] = str(BUILD / "zig-global-cache")
    env["ZIG_LOCAL_CACHE_DIR"] = str(BUILD / "zig-local-cache")
    tl = tools()
    sources = sorted(list(HERE.glob("*.c")) + list(HERE.glob("*.wat")))
    sources += sorted(src for d in FIXTURES for src in [*d.glob("*.c"), *d.glob("*.wat"), *d.glob("*.zig")])
    failed = skipped = ran = 0
    for src in sources:
        if wanted and src.stem not in wanted:
            continue
        lines = build_lines(src)
        if not lines:
            print(f"warning: {src.name} has no build: lines", file=sys.stderr)
            continue
        print(f"== {src.name}")
        missing: set[str] = set()  # files a skipped step would have made
        for line in lines:
            args, tool = expand(line, tl)
            words = shlex.split(line)
            outs = outputs(words)
            inputs = [w for w in words[1:] if w not in outs and w in missing]
            if args is None or inputs:
                why = f"tool ${tool} not found" if args is None else f"needs {inputs[0]} from a skipped step"
                print(f"   SKIP ({why}): {line}")
                skipped += 1
                missing.update(outs)
                continue
            print(f"   {line}")
            here = src.parent
            if args[0] in ("cp", "mkdir", "rm"):  # done in Python, so no shell is needed
                try:
                    file_step(here, args)
                except (OSError, ValueError) as e:
                    print(f"   FAILED: {e}", file=sys.stderr)
                    failed += 1
                    break
                ran += 1
                continue
            proc = subprocess.run(args, cwd=here, env=env)
            if proc.returncode != 0:
                print(f"   FAILED (exit {proc.returncode}): {line}", file=sys.stderr)
                failed += 1
                break
            ran += 1
    print(f"done: {ran} steps run, {skipped} skipped, {failed} sources failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
