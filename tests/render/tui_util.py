"""Driving `wasmem view`'s textual app headless with textual's pilot, for the live and the coredump tests."""

from __future__ import annotations

import asyncio

SIZE = (160, 40)


def screen(app) -> str:
    return "\n".join(strip.text for strip in app.screen._compositor.render_strips())


async def settle(pilot, app, rounds: int = 50) -> None:
    """Pauses until two pauses in a row leave the screen as it was (the opening jump is queued after the first
    refresh, and on a loaded machine one pause may end before it is drawn): progress, not a clock, decides;
    at most ``rounds`` pauses."""
    before = None
    for _ in range(rounds):
        await pilot.pause()
        now = screen(app)
        if now == before:
            return
        before = now


def drive(source, keys=(), at=None, rows=()):
    """Runs the app headless over ``source``, presses ``keys`` (a tuple is pressed as one chord), returns
    the screen text, the cursor and the app at the end, and ``rows`` (a function of the app giving row
    numbers) as each row's drawn segments."""
    from wasmem.render.tui.app import MemoryApp

    out = {}

    async def go():
        app = MemoryApp(source, at)
        async with app.run_test(size=SIZE) as pilot:
            await pilot.pause()
            await settle(pilot, app)
            for k in keys:
                await pilot.press(*k) if isinstance(k, tuple) else await pilot.press(k)
                await settle(pilot, app)
            out["screen"] = screen(app)
            out["cursor"] = app.hexview.cursor
            out["app"] = app
            if rows:
                out["rows"] = {row: app.hexview.row_segments(row) for row in rows(app)}
    asyncio.run(go())
    return out
