"""The guest's output: WASI writes stdout and stderr to files wasmem made, host functions of wasmem's
write into ``HostState``'s buffers; both are gathered here in the order they came, each stream cut at
``max_output`` bytes per call (the rest only counted)."""

from __future__ import annotations

import os
import tempfile


class GuestOutput:
    def __init__(self, host, max_output: int):
        self.host = host  # hosts.HostState: the buffers host functions write
        self.max_output = max_output  # bytes of stdout and of stderr kept per call (0 = no limit)
        self.files: list[str] = []  # WASI's stdout and stderr files
        self.truncated = (0, 0)  # bytes of stdout, stderr dropped by the last ``take``
        self._pos = [0, 0]

    def open_files(self) -> tuple[str, str]:
        """Two fresh files for WASI's stdout and stderr; host output is pulled after WASI's from then on."""
        out = tempfile.NamedTemporaryFile(prefix="wasmem-stdout-", delete=False)
        err = tempfile.NamedTemporaryFile(prefix="wasmem-stderr-", delete=False)
        out.close()
        err.close()
        self.files = [out.name, err.name]
        self.host.sync = self.pull  # host output after WASI's, in the order they came
        return out.name, err.name

    def pull(self) -> None:
        """Moves what WASI wrote to its files since the last time into the host's output buffers: at most
        what --max-output leaves room for; the rest is only counted (from the file's size)."""
        for k, (path, buf) in enumerate(zip(self.files, (self.host.stdout, self.host.stderr), strict=False)):
            try:
                with open(path, "rb") as f:
                    size = os.fstat(f.fileno()).st_size
                    new = size - self._pos[k]
                    if new <= 0:
                        continue
                    room = new if not self.max_output else max(0, min(new, self.max_output - len(buf)))
                    f.seek(self._pos[k])
                    data = f.read(room) if room else b""
            except OSError:
                continue
            self._pos[k] += new
            buf.extend(data)
            self.host.truncated[k] += new - len(data)

    def take(self) -> tuple[bytes, bytes]:
        """What the module wrote to stdout and stderr since the last time (WASI's and host functions'), each
        cut at --max-output; ``truncated`` says how many bytes of each were dropped."""
        self.pull()
        out = bytes(self.host.stdout), bytes(self.host.stderr)
        self.truncated = tuple(self.host.truncated)
        self.host.stdout.clear()
        self.host.stderr.clear()
        self.host.truncated[:] = [0, 0]
        return out

    def stop_size(self, after) -> int | None:
        """The size at which one of WASI's files stops the call (``after(max_output)`` past what it has now),
        or None when there are no files or no limit."""
        if not (self.files and self.max_output):
            return None
        return max(file_size(f) for f in self.files) + after(self.max_output)

    def close(self) -> None:
        for p in self.files:
            try:
                os.unlink(p)
            except OSError:
                pass


def file_size(path: str) -> int:
    try:
        return os.stat(path).st_size
    except OSError:
        return 0
