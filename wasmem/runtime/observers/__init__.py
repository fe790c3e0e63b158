"""Observers: the plug-ins through which wasmem watches a run. Each declares the instrumentation passes it
needs (applied in one rewrite, in the session's observer order), attaches its hooks once the instance
exists, sees every entry into the guest begin and end, may explain a trap that its own check raised, sees
each user call begin and end (``Session.call``), and can save and restore what it knows. The session and
its invoker call them through this interface only and know none of them by name.

A hook may pause the guest and run nested work (a prompt, an adapter's requests, another call) before it
returns: ``Invoker.paused()`` holds the call's deadline meanwhile, and a nested ``Session.invoke`` gets its
own limits and gives the outer call back the time and fuel it had left.

Observers today: ``StackProbe`` (stack.py: stack use by instrumenting the stack pointer's writes or by
painting, and ``--check-stack``), ``CallPathProbe`` (the shadow stack of active functions),
``WatchProbe`` (watchpoints: runtime/watch.py's recorder) and ``HeapProbe`` (allocator calls, memcheck:
runtime/heap.py's tracker)."""

from __future__ import annotations


class Observer:
    """The interface; every method has a do-nothing default."""

    name = "observer"
    # the option that asked for this observer, named when the module cannot be rewritten with its passes
    # (the lowest ``blame`` of the observers that failed is named); "" for one that never fails alone
    what = ""
    blame = 100

    def passes(self) -> list:
        """The rewriter passes (``wasmem.instrument``) this observer needs, in walk order."""
        return []

    @property
    def optional(self) -> bool:
        """Its passes only measure: when the module cannot be rewritten with them, it runs without."""
        return False

    def drop_passes(self) -> None:
        """Gives up its passes (only asked of an optional observer)."""

    def rewritten(self, result) -> None:
        """The rewrite's result (``instrument.rewriter.Rewritten``), after every pass ran."""

    def attach(self, session) -> None:
        """The instance exists (before its initialisation exports run): install hooks, read exports."""

    def begin_invoke(self) -> None:
        """Just before any entry into the guest (a user call, an allocator call, an initialisation export)."""

    def end_invoke(self) -> None:
        """Just after it returned or trapped (before the trap is reported)."""

    def explain_trap(self, wframes):
        """For an ``unreachable`` trap: (kind, message, frames, overflow) when this observer's own check
        raised it (``frames``: the wasmtime frames that are the module's), else None."""
        return None

    def begin_call(self, call) -> None:
        """A user call (``Session.call``) is about to run: ``call`` is its ``CallContext``."""

    def end_call(self, call, result) -> None:
        """It ran (``result``: the CallResult so far); before the memory after it is imaged."""

    def state(self):
        """What this observer knows, to keep beside a snapshot (None: nothing to keep)."""
        return None

    def set_state(self, state) -> bool:
        """Puts back what ``state`` returned (of this observer or of one like it in a session opened again);
        False when that state does not fit this observer (it then stays as it is)."""
        return False


class CallPathProbe(Observer):
    """The call-path pass (instrument/callpath.py): a shadow stack of the active functions' indices, read by a
    host function the module called (a watch hit, a heap event)."""

    name = "callpath"

    def __init__(self):
        from ...instrument.callpath import CallPathPass

        self.pass_ = CallPathPass()
        self.session = None

    def passes(self) -> list:
        return [self.pass_]

    def attach(self, session) -> None:
        self.session = session
        self._depth = session.exports[self.pass_.exports["depth"]]
        self._memory = session.exports[self.pass_.exports["memory"]]

    def begin_invoke(self) -> None:
        if self.session is not None:  # a trap inside a function leaves the depth where it was
            self._depth.set_value(self.session.store, 0)

    def read(self, keep: int) -> tuple[list[str], int]:
        """(the innermost ``keep`` functions active now, outermost first; how many are active)."""
        from ...instrument.callpath import RING

        store = self.session.store
        depth = self._depth.value(store) & 0xFFFFFFFF
        n = min(depth, RING, keep)
        raw = self._memory.read(store, 0, RING * 4)
        idx = [int.from_bytes(raw[4 * (k % RING):4 * (k % RING) + 4], "little") for k in range(depth - n, depth)]
        return [self.session.function_name(i) for i in idx], depth


class WatchProbe(Observer):
    """Watchpoints: the watch pass (instrument/watch.py) rewrites every store (and load) of memory 0 to check
    the watched ranges inline; ``recorder`` (runtime/watch.py's WatchRecorder, set when the targets are
    attached) turns the pass's hook calls into hits."""

    name = "watch"
    what = "--watch"
    blame = 1

    def __init__(self, spec: dict, sp_global: int | None):
        from ...errors import ParseError, UsageError
        from ...instrument.watch import WatchPass

        sp_range = spec.get("sp_range")
        if sp_range is not None and sp_global is None:
            raise UsageError("--watch sp: no stack pointer known for this module (see `wasmem stack`)")
        try:
            self.pass_ = WatchPass(spec["ranges"], reads=spec.get("reads", False), sp_range=sp_range,
                                   sp_global=sp_global if sp_range is not None else None)
        except ParseError as exc:
            raise UsageError(f"--watch: {exc}") from None
        self.recorder = None

    def passes(self) -> list:
        return [self.pass_]

    def begin_invoke(self) -> None:
        if self.recorder is not None:
            self.recorder.arm()

    def end_invoke(self) -> None:
        if self.recorder is not None:
            self.recorder.disarm()


class HeapProbe(Observer):
    """Heap tracking: the heap pass logs allocator calls (instrument/heap.py), the function-pointer pass
    finds allocators reached through tables and Zig's shims, the memcheck pass checks accesses;
    ``tracker`` (runtime/heap.py's HeapTracker) reads the log once the instance exists."""

    name = "heap"
    what = "heap tracking"
    blame = 2

    def __init__(self, spec: dict):
        from ...errors import ParseError, UsageError
        from ...instrument.heap import HeapPass
        from ...instrument.heap_pointers import FunctionPointerPass

        self.spec = spec
        try:
            self.pass_ = HeapPass(spec["functions"], immediate=bool(spec.get("paths")))
        except ParseError as exc:
            raise UsageError(str(exc)) from None
        # allocators reached through function pointers (tables, call_ref) and Zig's interface shims
        self.pointer_pass = FunctionPointerPass(self.pass_, spec.get("shims"))
        self.memcheck_pass = None
        if spec.get("memcheck"):
            from ...instrument.memcheck import MemcheckPass

            self.memcheck_pass = MemcheckPass(self.pass_, uninit=bool(spec.get("memcheck_uninit")))
        self.tracker = None

    @property
    def paths(self) -> bool:
        return bool(self.spec.get("paths"))

    def passes(self) -> list:
        return [p for p in (self.pass_, self.pointer_pass, self.memcheck_pass) if p is not None]

    def attach(self, session) -> None:
        from ..heap import HeapTracker

        spec = self.spec
        self.tracker = HeapTracker(session, self.pass_, spec["functions"], paths=self.paths,
                                   memcheck=self.memcheck_pass, heap_base=spec.get("heap_base"),
                                   heap_base_source=spec.get("heap_base_source"),
                                   ignore=spec.get("memcheck_ignore", ()))

    def begin_invoke(self) -> None:
        if self.tracker is not None:
            self.tracker.arm()

    def end_invoke(self) -> None:
        if self.tracker is not None:
            self.tracker.disarm()

    def state(self):
        """(the tracker, its blocks, frees, findings and counts)."""
        return None if self.tracker is None else (self.tracker, self.tracker.state())

    def set_state(self, state) -> bool:
        if state is None or self.tracker is None or not self.tracker.compatible(state[0]):
            return False  # another instance's sites numbered differently: its blocks would be misplaced
        self.tracker.set_state(state[1])
        return True
