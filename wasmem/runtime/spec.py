"""What a session needs before it starts, as plain data (no wasmtime): the stack facts, the limits, the host
and its WASI inputs, and the observers' options. The CLI, the shell and the Python API build one;
``Session(module, spec)`` runs it. ``replace`` gives a changed copy (the shell reopening a session rewritten
for watching)."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass, field

from ..errors import UsageError
from ..model.ranges import MAX_RANGES
from .budget import MAX_FUEL, MAX_OUTPUT, MAX_TABLE_ENTRIES, check_timeout

DEFAULT_MAX_MEMORY = 256 * 2**20
# the host profiles (runtime/hosts/) by name: here, so that the command line's --help needs no wasmtime
HOST_NAMES = ("auto", "wasi", "emscripten", "wasm-bindgen", "assemblyscript", "go", "none")
__all__ = ["SessionSpec", "HOST_NAMES", "MAX_FUEL", "DEFAULT_MAX_MEMORY", "MAX_OUTPUT", "MAX_TABLE_ENTRIES",
           "MAX_RANGES"]


@dataclass
class SessionSpec:
    # the stack (from the layout model; see ``wasmem.app.open_session``)
    sp_global: int | None = None
    stack_range: tuple[int, int] | None = None
    paint_safe: tuple[bool, str] | None = None  # (whether painting the stack is proven safe, why)
    # memory the host gives an imported memory 0 (or grows a defined one to)
    pages: int | None = None
    # the host profile and WASI's inputs
    host: str | None = "auto"
    strict_imports: bool = False
    wasi_args: tuple = ()
    wasi_env: tuple = ()
    wasi_dirs: tuple = ()
    wasi_stdin: str | None = None
    # limits (see budget.py)
    timeout: float = 10.0
    fuel: int | None = None
    max_memory: int = DEFAULT_MAX_MEMORY  # over all memories (0 = no limit)
    max_table_entries: int = MAX_TABLE_ENTRIES  # over all tables (0 = no limit)
    max_output: int = MAX_OUTPUT  # bytes of stdout and of stderr kept per call (0 = no limit)
    max_changes: int = MAX_RANGES  # ranges of changed memory a call keeps (the rest are counted; 0 = the default)
    cache: bool = True  # wasmtime's compile cache
    # observers: stack measurement, watchpoints (runtime/watch.py's watch_spec), heap (runtime/heap.py's heap_spec)
    check_stack: bool = False
    paint: bool | None = None  # True: paint the stack (--paint); False: never (--no-paint); None: the default
    watch: dict | None = None
    heap: dict | None = None
    # more observers (runtime/observers/__init__.py's interface): each a callable with no argument that makes
    # a fresh one for the session (a reinstrumented session makes its own); they join after the built-in ones
    probes: tuple = ()
    # the command's one deadline (wasmem.deadline.Deadline; None: none): bounds compiling, and each call gets the
    # smaller of ``timeout`` and the time it leaves (the shell gives the session each command's own)
    deadline: object | None = field(default=None, compare=False)
    # callbacks: a progress display while compiling, and what to do when a stopped call does not return
    on_compile: Callable | None = field(default=None, compare=False)
    # called (from the watcher's thread) with (reason, message) when a stopped call does not return: a host
    # call the engine cannot interrupt (budget.Watcher); the command line exits there
    on_stuck: Callable | None = field(default=None, compare=False)

    def check(self) -> None:
        """Normalises and checks what a user typed (a UsageError names the option)."""
        self.timeout = check_timeout(self.timeout)
        if self.fuel is not None and not 1 <= self.fuel <= MAX_FUEL:
            raise UsageError(f"--fuel {self.fuel}: give a number of units from 1 to {MAX_FUEL}")

    def replace(self, **changes) -> SessionSpec:
        return dataclasses.replace(self, **changes)

    @classmethod
    def field_names(cls) -> frozenset[str]:
        return frozenset(f.name for f in dataclasses.fields(cls))
