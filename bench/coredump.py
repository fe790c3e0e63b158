"""Opening a 256 MiB coredump and printing one DWARF-typed struct (issue 17: at most 1 s, no full read).
`python bench/coredump.py [--write]` (part of `make bench`).

The dump is made here, once, into the bench cache (``$WASMEM_BENCH_CACHE``, default
``~/.cache/wasmem-bench``; never the repository): the state of tests/coredump/data/crash.wasm's instance
from the wasmtime CLI's dump (tests/coredump/data/crash.core), its memory grown to 4096 pages (256 MiB)
and every 4 KiB chunk of it filled with non-zero bytes, so that the dump holds 65,536 data segments and
is about 256 MiB: the worst case for finding a segment. wasmem's own writer writes it (the same writer
`call --coredump` uses; the wasmtime CLI writes the same shape).

Then whole processes are timed (median and range of several runs, warm page cache, peak RSS of each):
``wasmem dump crash.wasm --core big.core --at accounts --type auto``, ``wasmem backtrace big.core
crash.wasm``, a dump of the last 16 bytes of memory (once the worst case: every segment header before
them is read), ``wasmem shell crash.wasm --core big.core -c "p accounts[2]"``, ``wasmem view --core``
(its app driven by textual's headless pilot to its first screen) and ``dump --core --save`` (the raw
image, every byte of it data here). A peak RSS far below the dump's size is the proof that the dump is
not read whole. Every command that reads memory reads each segment header once (the format does not
order segments, so the index of runs is built from all of them); no byte between them is read.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(ROOT))

from cache import cache_dir, log  # noqa: E402
from docblock import write_block  # noqa: E402 - bench/ (the script's folder) is on the path

DOC = ROOT / "docs" / "performance.md"
DATA = ROOT / "tests" / "coredump" / "data"
MODULE = DATA / "crash.wasm"
SOURCE = DATA / "crash.core"
PAGES = 4096
TARGET_S = 1.0


def make_dump(path: Path) -> None:
    """crash.core's state in a 256 MiB memory with no zero chunk (see the module docstring)."""
    from wasmem.api import load_module
    from wasmem.model.coredump import read_coredump
    from wasmem.parser.coredump import MemorySpec, write_coredump

    core = read_coredump(load_module(str(SOURCE)))
    small = core.memories[0]
    filler = bytes((i * 131 + 7) % 251 + 1 for i in range(1 << 16))  # never zero

    def read(addr: int, n: int) -> bytes:
        out = bytearray()
        while len(out) < n:
            a = addr + len(out)
            out += filler[a % len(filler):][: n - len(out)]
        lo, hi = max(addr, 0), min(addr + n, small.size)
        if lo < hi:  # the real program's memory where it had memory
            real = small.read(lo, hi - lo)
            for i, b in enumerate(real):
                if b or lo + i >= 0x100000:  # keep the data and bss exactly; fill only below it
                    out[lo - addr + i] = b
        return bytes(out)

    tmp = path.with_suffix(".tmp")
    with open(tmp, "wb") as f:
        write_coredump(f, name="crash.wasm", memories=[MemorySpec(PAGES, read)],
                       globals=[(t, False, v) for t, v in core.globals], modules=["crash.wasm"],
                       instances=list(core.sections.instances), threads=list(core.sections.threads))
    os.replace(tmp, path)


def timed(argv: list[str]) -> tuple[float, int, str]:
    """(seconds, peak RSS in bytes, stdout) of one process."""
    t0 = time.perf_counter()
    proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env={**os.environ, "PYTHONPATH": str(ROOT), "COLUMNS": "100"})
    _, status, usage = os.wait4(proc.pid, 0)
    out = proc.stdout.read()
    err = proc.stderr.read()
    secs = time.perf_counter() - t0
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"bench: {' '.join(argv)} failed:\n{err}")
    return secs, usage.ru_maxrss * 1024, out


def measure(repeat: int) -> dict:
    big = cache_dir() / "coredump" / "crash-256MiB.core"
    big.parent.mkdir(parents=True, exist_ok=True)
    py = sys.executable
    # the dump is made and counted in child processes: a child's peak RSS counts what it inherited from
    # this process at fork, so this one never holds the dump
    if not big.exists() or big.stat().st_mtime < SOURCE.stat().st_mtime:
        log(f"bench: writing {big} (256 MiB)")
        t0 = time.perf_counter()
        subprocess.run([py, __file__, "--make", str(big)], check=True)
        log(f"bench: written in {time.perf_counter() - t0:.1f} s")
    nseg = int(subprocess.run([py, __file__, "--count", str(big)], check=True, capture_output=True,
                              text=True).stdout)
    cmds = {
        "dump --core --at accounts --type auto": [py, "-m", "wasmem", "dump", str(MODULE), "--core", str(big), "--at",
                                                  "accounts", "--type", "auto"],
        "backtrace": [py, "-m", "wasmem", "backtrace", str(big), str(MODULE)],
        # the worst case: the last bytes of memory, past every other segment (each header is read)
        "dump --core --at 0xffffff0 --len 16": [py, "-m", "wasmem", "dump", str(MODULE), "--core", str(big), "--at",
                                                "0xffffff0", "--len", "16"],
        'shell --core -c "p accounts[2]"': [py, "-m", "wasmem", "shell", str(MODULE), "--core", str(big), "-q", "-c",
                                            "p accounts[2]"],
        # the app of `wasmem view --core` (headless pilot at 160x40): open, the first screen drawn
        "view --core (headless, first screen)": [py, __file__, "--view", str(big)],
        # the whole memory as a raw image: every byte is data here, so the sparse writer writes all 256 MiB
        "dump --core --save (256 MiB image)": [py, "-m", "wasmem", "dump", str(MODULE), "--core", str(big), "--len",
                                               "16", "--save", str(big.with_suffix(".img"))],
    }
    res: dict = {"size": big.stat().st_size, "segments": nseg, "rows": {}}
    for name, argv in cmds.items():
        secs, rss, out = [], [], ""
        timed(argv)  # warm-up: the page cache, Python's bytecode
        for _ in range(repeat):
            s, r, out = timed(argv)
            secs.append(s)
            rss.append(r)
        if "accounts" in name:
            assert "0xfffff000" in out and ("alice" in out or "carol" in out), out
        if name.startswith("view"):
            assert "sp=0x100000" in out, out
        res["rows"][name] = (statistics.median(secs), min(secs), max(secs), max(rss))
    img = big.with_suffix(".img")
    if img.exists():
        assert img.stat().st_size == PAGES * 65536
        img.unlink()
    return res


def table(res: dict, repeat: int) -> str:
    out = [f"Measured {time.strftime('%Y-%m-%d')} by `bench/coredump.py` (whole processes, median and range of "
           f"{repeat} runs, warm page cache): a {res['size'] / 2**20:.0f} MiB coredump of `crash.wasm` with "
           f"{res['segments']:,} data segments; target ≤ {TARGET_S:.0f} s.", "",
           "| command | median | range | peak RSS | within target |", "|---|---:|---:|---:|---|"]
    for name, (med, lo, hi, rss) in res["rows"].items():
        out.append(f"| `wasmem {name}` | {med:.2f} s | {lo:.2f}–{hi:.2f} s | {rss / 2**20:.0f} MiB | "
                   f"{'yes' if med <= TARGET_S else 'no'} |")
    return "\n".join(out)


def view_headless(core: str) -> int:
    """What `wasmem view MODULE --core CORE` opens (the CLI's own source), driven by textual's pilot."""
    import asyncio

    from wasmem.app import symbols_for
    from wasmem.app.core import open_core_session
    from wasmem.render.tui.app import MemoryApp
    from wasmem.shell.view import SessionSource

    s = open_core_session(str(MODULE), core)
    src = SessionSource(s, symbols_for(s.module))

    async def go():
        app = MemoryApp(src, None)
        async with app.run_test(size=(160, 40)) as pilot:
            await pilot.pause()
            print("\n".join(strip.text for strip in app.screen._compositor.render_strips()))

    asyncio.run(go())
    s.close()
    return 0


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--repeat", type=int, default=7)
    ap.add_argument("--write", action="store_true", help="put the table into docs/performance.md")
    ap.add_argument("--make", metavar="PATH", help=argparse.SUPPRESS)  # internal: write the dump
    ap.add_argument("--count", metavar="PATH", help=argparse.SUPPRESS)  # internal: print its segment count
    ap.add_argument("--view", metavar="PATH", help=argparse.SUPPRESS)  # internal: view --core's app, headless
    a = ap.parse_args(argv)
    if a.view:
        return view_headless(a.view)
    if a.make:
        make_dump(Path(a.make))
        return 0
    if a.count:
        from wasmem.api import load_module

        print(len(load_module(a.count, validate=False).data_segments))
        return 0
    text = table(measure(a.repeat), a.repeat)
    print(text)
    if a.write:
        write_block(DOC, "coredump", text, heading="Opening a large coredump")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
