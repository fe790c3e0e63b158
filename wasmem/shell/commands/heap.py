"""Heap tracking: heap, and the findings shown after each command that runs code."""

from __future__ import annotations

from ...errors import UsageError
from ..registry import Output, command


class HeapCommands:
    def heap_after_code(self, token) -> None:
        """After a command that runs code: the heap findings it caused."""
        self._show_heap_findings()

    def _heap_spec(self, module) -> dict:
        from ...app import symbols_for
        from ...app.heap import heap_spec

        return heap_spec(module, self.allocator, symbols_for(module))

    def _heap_notes(self, session) -> None:
        spec = self.options.get("heap")
        if spec and session.heap_tracker is not None:
            session.heap_tracker.notes[:0] = spec["notes"]

    def _heap_report(self):
        from ...app.heap import live_heap

        return live_heap(self.session, self.symbols)

    def _show_heap_findings(self) -> None:
        """The double and invalid frees the last command's code made (shown as they happen)."""
        tr = self.session.heap_tracker
        if tr is None:
            return
        tr.disarm()
        if len(tr.findings) > self.heap_seen:
            from ...render.heap import render_findings

            report = self._heap_report()
            report.findings = report.findings[self.heap_seen:]
            self.print(render_findings(report))
        self.heap_seen = len(tr.findings)

    def _heap_tracking(self):
        """The session's heap tracker; a session opened without one (no --heap) is reopened rewritten with
        the heap pass (and the watch pass it had), memory, globals, watches carried over."""
        from ...render.shell import message

        if self.session.heap_tracker is not None:
            return self.session.heap_tracker
        options = dict(self.options, heap=self._heap_spec(self.session.module))
        self._reopen(options)
        self.print(message(
            "heap: the instance was reopened with its allocator calls hooked; its memory and globals were carried "
            "over, host state was not (WASI files, stdout/stderr so far) nor table entries set at run time. Blocks "
            "allocated before now are not known to the tracker (freeing one is reported as an invalid free): start "
            "with --heap to track from the start.", "yellow"))
        return self.session.heap_tracker

    @command("heap", "heap [findings]", "The live heap blocks by allocating site, as `wasmem heap` shows them; "
             "`heap findings`: the double and invalid frees so far.",
             "Every call of the allocator is tracked, the module's own and the shell's (alloc, free, s: "
             "arguments go through the same hooked exports). The first `heap` of a shell started without --heap "
             "reopens the instance with the allocator hooked (memory and globals carried over; blocks allocated "
             "before are unknown to it). assert heap.live == N (live blocks), heap.bytes (live bytes), "
             "heap.findings, heap.allocations, heap.frees check the tracker.", ("heap",), live=True)
    def cmd_heap(self, words):
        from ...render.heap import render_findings, render_heap

        self._need(words, 0, "heap [findings]", 1)
        if words and words[0].text != "findings":
            raise UsageError(f"heap {words[0].text}: use `heap` or `heap findings`")
        self._heap_tracking()
        report = self._heap_report()
        self.heap_seen = len(report.findings)
        self.print(render_findings(report) if words else render_heap(report))
        return Output()
