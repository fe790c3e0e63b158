"""`wasmem view --core` and `view` in a coredump shell: the textual inspector over a dump's memory, driven
headless with textual's pilot (the wasmtime CLI's dump of tests/coredump/data/crash.wasm), and a 256 MiB
generated dump opened and paged in a child process that reads a screenful of it, not the whole file."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import ROOT
from coredump_util import CRASH_CORE, CRASH_WASM
from tui_util import drive

pytest.importorskip("textual")

from wasmem.app import symbols_for  # noqa: E402
from wasmem.app.core import open_core_session  # noqa: E402
from wasmem.render.tui.app import CHIP, SP_STYLE  # noqa: E402
from wasmem.shell.view import SessionSource  # noqa: E402


@pytest.fixture
def source():
    s = open_core_session(CRASH_WASM, CRASH_CORE)
    yield SessionSource(s, symbols_for(s.module))
    s.close()




def test_the_dump_opens_on_its_first_object_with_chips_regions_and_the_dumped_sp(source):
    out = drive(source)
    text, app = out["screen"], out["app"]
    assert out["cursor"] == 0x100010  # accounts, the first DWARF object
    assert "crash.wasm (coredump crash.core)  memory 0: 1114112 bytes  sp=0x100000" in text
    assert " accounts: account_t[3] " in text and " audited: volatile uint32_t " in text
    assert "00100000 ▌ 63 61 72 6f 6c 00 61 6c" in text and "◀ sp" in text  # "carol" at the dumped sp
    assert "00100030 ▌ 67 00 00 00 07 00 00 00  00 00 10 00 00 f0 ff ff" in text  # the corrupted next
    assert "changed by the last call" not in text  # nothing ran
    assert "accounts  account_t[3]" in text and " i32 101" in text  # the inspector
    hv = app.hexview
    sp_row = hv.row_segments(0x100000 // 16)
    assert any(seg.style is not None and seg.style.underline and seg.style.color == SP_STYLE.color for seg in sp_row)
    assert any(seg.style == CHIP for seg in hv.row_segments(0x100010 // 16))
    assert [hv.row_segments(a // 16)[0].style.color.name for a in (0xFFF00, 0x100010, 0x100100)] == [
        "magenta", "green", "blue"]  # stack, data, heap


def test_following_the_corrupted_pointer_says_it_is_outside_memory(source):
    out = drive(source, ["g", tuple("accounts[2].next"), "enter", "f"])  # a symbol path through the dump
    assert out["cursor"] == 0x10003C and "0xfffff000 is not an address in memory 0" in out["screen"]
    out = drive(source, ["f", "s"], at=0x10001C)  # accounts[0].next → accounts[1], then the stack pointer
    assert out["cursor"] == 0x100000 and "the stack pointer" in out["screen"]
    assert out["app"].history == [0x10001C, 0x100020]  # followed to accounts[1], then went to sp


def test_view_cli_with_core(monkeypatch, capsys):
    seen = {}
    def fake_run_view(src, at=None):  # the app itself is tested above; the CLI closes the dump after it
        seen.update(src=src, at=at, bytes=src.read(0x10003C, 4))

    monkeypatch.setattr("wasmem.render.tui.app.run_view", fake_run_view)
    from wasmem.cli.main import main

    with pytest.raises(SystemExit) as ei:
        main(["view", CRASH_WASM, "--core", CRASH_CORE, "--at", "accounts[1]"])
    assert ei.value.code == 0
    src = seen["src"]
    assert seen["at"] == 0x100020 and src.sp == 0x100000 and src.size == 17 * 65536 and not src.changed
    assert seen["bytes"] == b"\x00\xf0\xff\xff"
    with pytest.raises(SystemExit) as ei:
        main(["view", CRASH_WASM, "--core", CRASH_CORE, "--after", "_start"])
    assert ei.value.code == 2 and "--core reads a coredump" in capsys.readouterr().err


def test_view_inside_a_coredump_shell(monkeypatch):
    from wasmem.render.common import make_console
    from wasmem.shell import Shell
    from wasmem.shell.view import view_shell

    seen = {}
    monkeypatch.setattr("wasmem.render.tui.app.run_view", lambda src, at=None: seen.update(src=src, at=at))
    sh = Shell(CRASH_WASM, core=CRASH_CORE, console=make_console(file=io.StringIO(), width=100, color=False),
               view=view_shell)
    try:
        sh.execute("view accounts[2]")
        assert seen["at"] == 0x100030 and seen["src"].sp == 0x100000
        assert seen["src"].resolve("accounts[0].next") == 0x10001C
    finally:
        sh.close()


# -- a 256 MiB dump: opened and paged without reading it whole -------------------------------------
PAGES = 4096

_MAKE = """
import sys
from wasmem.api import load_module
from wasmem.model.coredump import read_coredump
from wasmem.parser.coredump import MemorySpec, write_coredump

core = read_coredump(load_module(sys.argv[1]))
small = core.memories[0]
block = bytes((i * 131 + 7) % 251 + 1 for i in range(1 << 16))  # never zero: every 4 KiB chunk is a segment

def read(addr, n):
    if addr < small.size:
        return small.read(addr, min(n, small.size - addr)) + bytes(max(0, addr + n - small.size))
    out = bytearray()
    while len(out) < n:
        a = addr + len(out)
        out += block[a % len(block):][: n - len(out)]
    return bytes(out)

with open(sys.argv[2], "wb") as f:
    write_coredump(f, name="crash.wasm", memories=[MemorySpec(int(sys.argv[3]), read)],
                   globals=[(t, False, v) for t, v in core.globals], modules=["crash.wasm"],
                   instances=list(core.sections.instances), threads=list(core.sections.threads))
"""

_VIEW = """
import asyncio, json, resource, sys, time
t0 = time.perf_counter()
from wasmem.render.tui.app import MemoryApp
from wasmem.app import symbols_for
from wasmem.app.core import open_core_session
from wasmem.shell.view import SessionSource

s = open_core_session(sys.argv[1], sys.argv[2])
src = SessionSource(s, symbols_for(s.module))
real, reads = src.read, []
src.read = lambda a, n: reads.append(n) or real(a, n)
out = {}

async def go():
    app = MemoryApp(src, None)
    async with app.run_test(size=(160, 40)) as pilot:
        await pilot.pause()
        out["open_s"] = time.perf_counter() - t0
        for k in ("pagedown", "pagedown", "s", "pageup"):
            await pilot.press(k)
            await pilot.pause()
        text = "\\n".join(strip.text for strip in app.screen._compositor.render_strips())
        out["title"] = "memory 0: 268435456 bytes  sp=0x100000" in text
        out["cursor"] = app.hexview.cursor
asyncio.run(go())
out["read"] = sum(reads)
# the peak RSS of this process image: VmHWM (ru_maxrss would count the parent's at fork, a whole test run's)
try:
    hwm = [ln for ln in open("/proc/self/status") if ln.startswith("VmHWM:")][0]
    out["rss"] = int(hwm.split()[1]) * 1024
except (OSError, IndexError):
    out["rss"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
out["runs"] = len(s.memories[0].index_runs)
print(json.dumps(out))
"""


def test_a_256_mib_dump_opens_and_pages_without_being_read_whole(tmp_path):
    big = tmp_path / "big.core"
    env = {**os.environ, "PYTHONPATH": str(Path(ROOT))}
    subprocess.run([sys.executable, "-c", _MAKE, CRASH_CORE, str(big), str(PAGES)], check=True, env=env, timeout=120)
    size = big.stat().st_size
    assert size > 250 << 20  # every 4 KiB chunk non-zero: ~65,000 segments
    proc = subprocess.run([sys.executable, "-c", _VIEW, CRASH_WASM, str(big)], capture_output=True, text=True,
                          env=env, timeout=120)
    assert proc.returncode == 0, proc.stderr
    out = json.loads(proc.stdout.splitlines()[-1])
    assert out["title"] and out["cursor"] < 0x110000
    assert out["read"] < 64 * 1024  # a few screenfuls of rows
    assert out["runs"] > 60000  # every segment header read once (the format orders nothing), no byte between
    assert out["rss"] < size // 2, out  # the child never held (or mapped in) the dump whole
