"""What the shell tests share: a Shell printing into a buffer, reading what it said, and the proof that an
instance the shell reopened instrumented (for `watch`, for `heap`) computes what a plain one computes."""

from __future__ import annotations

import io

from wasmem.render.common import make_console
from wasmem.shell import Shell


def buffered_shell(path: str, width: int = 100, **options) -> Shell:
    """A Shell over ``path`` whose output goes to ``sh.buf`` (read it with ``said``)."""
    buf = io.StringIO()
    sh = Shell(path, console=make_console(file=buf, width=width, color=False), **options)
    sh.buf = buf
    return sh


def said(sh) -> str:
    """What the shell printed since the last call, and forget it."""
    text = sh.buf.getvalue()
    sh.buf.seek(0)
    sh.buf.truncate()
    return text


def reopened_matches_plain(path: str, calls: list[str], reopen: list[str], split: int = 2) -> Shell:
    """Runs ``calls[:split]`` in a shell and in a plain session, then the shell lines ``reopen`` (which reopen
    the instance instrumented), checks the memory and globals came over unchanged, then runs the rest of
    ``calls`` in both and checks each result and, at the end, every byte of memory 0 are the same. Returns
    the (still open) shell for the caller's own checks; close it."""
    from wasmem.app import open_session

    sh = buffered_shell(path)
    plain = open_session(path)
    try:
        for c in calls[:split]:
            sh.execute(f"call {c}")
            plain.call(c.split()[0], c.split()[1:])
        before = sh.session.snapshot()
        for line in reopen:
            sh.execute(line)
        after = sh.session.snapshot()
        assert after.memories == before.memories and after.globals == before.globals
        for c in calls[split:]:
            sh.execute(f"call {c}")
            want = plain.call(c.split()[0], c.split()[1:]).results
            assert sh.last == want[0], c
        size = plain.memory_size(0)
        assert sh.session.read(0, size) == plain.read(0, size)
    except BaseException:
        sh.close()
        raise
    finally:
        plain.close()
    return sh
