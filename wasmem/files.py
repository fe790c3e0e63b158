"""The one check every file wasmem reads from the user goes through (stdlib only, no other layer).

A module, a config file, a snapshot, a debug file, WASI's stdin: each must be a regular file of a bounded
size, checked before anything reads it — a FIFO blocks forever, /dev/zero never ends, a directory is not
data — and opened without blocking (``O_NONBLOCK``), so that a file swapped for a FIFO between the check
and the read is still refused instead of waited on."""

from __future__ import annotations

import os
import stat

from .errors import UsageError

_KINDS = ((stat.S_ISDIR, "a directory"), (stat.S_ISFIFO, "a FIFO (named pipe)"),
          (stat.S_ISCHR, "a character device"), (stat.S_ISBLK, "a block device"), (stat.S_ISSOCK, "a socket"))


def kind_of(mode: int) -> str:
    """What a non-regular file is, for a message ("a FIFO (named pipe)", …)."""
    return next((name for test, name in _KINDS if test(mode)), "not a regular file")


def _label(path: str, what: str) -> str:
    return f"{what} {path}" if what else path


def _check(st: os.stat_result, path: str, what: str, noun: str, max_size: int | None, size_note: str) -> None:
    if not stat.S_ISREG(st.st_mode):
        raise UsageError(f"{_label(path, what)}: is {kind_of(st.st_mode)}, not {noun}")
    if max_size is not None and st.st_size > max_size:
        raise UsageError(f"{_label(path, what)}: {st.st_size} bytes, more than {size_note or f'{max_size} bytes'}")


def regular_file(path: str, *, what: str = "", noun: str = "a regular file", max_size: int | None = None,
                 size_note: str = "") -> os.stat_result:
    """``os.stat(path)`` when it is a regular file of at most ``max_size`` bytes, else a one-line UsageError
    naming the option (``what``, e.g. "--snapshot") and what the file is instead of ``noun``."""
    try:
        st = os.stat(path)
    except FileNotFoundError:
        raise UsageError(f"{_label(path, what)}: no such file") from None
    except OSError as exc:
        raise UsageError(f"{_label(path, what)}: {exc.strerror or exc}") from None
    _check(st, path, what, noun, max_size, size_note)
    return st


def open_regular(path: str, *, what: str = "", noun: str = "a regular file", max_size: int | None = None,
                 size_note: str = "") -> tuple[int, os.stat_result]:
    """(a read-only descriptor, its stat) of a regular file of at most ``max_size`` bytes, opened without
    blocking and checked on the descriptor (see ``regular_file`` for the errors); the caller closes it."""
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0)
    try:
        fd = os.open(path, flags)
    except FileNotFoundError:
        raise UsageError(f"{_label(path, what)}: no such file") from None
    except OSError as exc:
        raise UsageError(f"{_label(path, what)}: {exc.strerror or exc}") from None
    try:
        st = os.fstat(fd)
        _check(st, path, what, noun, max_size, size_note)
    except BaseException:
        os.close(fd)
        raise
    return fd, st


def read_regular(path: str, limit: int, *, what: str = "", noun: str = "a regular file",
                 max_size: int | None = None, size_note: str = "") -> bytes:
    """At most ``limit`` bytes of a regular file (``open_regular``'s checks)."""
    fd, _st = open_regular(path, what=what, noun=noun, max_size=max_size, size_note=size_note)
    try:
        chunks = []
        left = limit
        while left > 0:
            b = os.read(fd, min(left, 1 << 20))
            if not b:
                break
            chunks.append(b)
            left -= len(b)
        return b"".join(chunks)
    except OSError as exc:
        raise UsageError(f"{_label(path, what)}: {exc.strerror or exc}") from None
    finally:
        os.close(fd)
