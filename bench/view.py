"""`wasmem view` on a 256 MiB memory: time to open (instantiate, then the app's first full screen) and time
to move a page (PageDown until the screen is drawn again), with textual's headless pilot at 160x50.

    python bench/view.py            # prints the numbers; issue 16 asks for ≤ 1 s to open, ≤ 50 ms a page
"""

from __future__ import annotations

import asyncio
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

# (memory 4096 pages) exported as "memory": 256 MiB
MODULE = b"\0asm\x01\0\0\0\x05\x04\x01\x00\x80\x20\x07\x0a\x01\x06memory\x02\x00"
PAGES = 40


def main() -> int:
    from wasmem.app import open_session, symbols_for
    from wasmem.render.tui.app import MemoryApp
    from wasmem.shell.view import SessionSource

    t0 = time.perf_counter()
    s = open_session(MODULE, max_memory=256 << 20)
    src = SessionSource(s, symbols_for(s.module))
    result = {}

    async def go():
        app = MemoryApp(src, 128 << 20)
        async with app.run_test(size=(160, 50)) as pilot:
            await pilot.pause()
            app.screen._compositor.render_strips()
            result["open"] = time.perf_counter() - t0
            times, work = [], []
            for _ in range(PAGES):
                t = time.perf_counter()
                await pilot.press("pagedown")
                await pilot.pause()
                app.screen._compositor.render_strips()
                times.append(time.perf_counter() - t)
            top = app.hexview.scroll_offset.y
            for _ in range(PAGES):  # the work itself: the key's action, then every line of the screen drawn
                t = time.perf_counter()
                app.action_page(1)
                strips = app.screen._compositor.render_strips()
                work.append(time.perf_counter() - t)
            assert app.hexview.scroll_offset.y > top and strips
            result["page"], result["work"] = times, work

    asyncio.run(go())
    s.close()
    pages, work = result["page"], result["work"]
    print(f"memory: {src.size >> 20} MiB; open (instantiate + first screen): {result['open'] * 1000:.0f} ms")
    print(f"page down, action + whole screen drawn: median {statistics.median(work) * 1000:.1f} ms, "
          f"max {max(work) * 1000:.1f} ms ({PAGES} pages)")
    print(f"page down through the pilot (key event, textual's frame timer, redraw): median "
          f"{statistics.median(pages) * 1000:.1f} ms, max {max(pages) * 1000:.1f} ms")
    return 0


if __name__ == "__main__":
    sys.exit(main())
