"""The instance's state over time: snapshot, restore, diff, reset (and reopening it rewritten)."""

from __future__ import annotations

from ...errors import UsageError
from ...model.ranges import ByteRanges
from ..registry import Output, command


class StateCommands:
    @command("snapshot", "snapshot NAME", "Save memory and globals under NAME (restore/diff use it).",
             args=("snap",), live=True)
    def cmd_snapshot(self, words):
        from ...render.shell import message

        self._need(words, 1, "snapshot NAME", 1)
        self.snapshots[words[0].text] = (self.session.snapshot(), self.session.observer_states())
        self.print(message(f"snapshot {words[0].text!r} saved", "dim"))
        return Output()

    def _snap(self, words, usage, whole: bool = False):
        """The snapshot NAME names: the session's snapshot, or with ``whole`` (snapshot, the observers' states
        then)."""
        self._need(words, 1, usage, 1)
        snap = self.snapshots.get(words[0].text)
        if snap is None:
            have = ", ".join(sorted(self.snapshots)) or "none yet"
            raise UsageError(f"no snapshot named {words[0].text!r} (snapshots: {have})")
        return snap if whole else snap[0]

    @command("restore", "restore NAME", "Put memory and mutable globals back as snapshot NAME had them (and the heap tracker's "
             "blocks, when the heap is tracked).",
             args=("snap",), live=True)
    def cmd_restore(self, words):
        from ...render.shell import message

        snap, states = self._snap(words, "restore NAME", whole=True)
        self.session.restore(snap)
        kept = self.session.restore_observers(states)  # the heap tracker's blocks as they were too
        tr = self.session.heap_tracker
        note = ""
        if "heap" in kept:
            note = " (the heap tracker was not running on this instance when it was saved: its blocks stay as now)"
        elif tr is not None:
            self.heap_seen = min(self.heap_seen, len(tr.findings))
        self.print(message(f"restored {words[0].text!r}{note}", "dim"))
        return Output()

    @command("diff", "diff NAME", "Bytes that changed since snapshot NAME.", args=("snap",), live=True)
    def cmd_diff(self, words):
        from ...app.call import change_labels
        from ...render.call import changes_lines
        from ...render.shell import group, message
        from ...runtime.liveops import diff_snapshot

        notes: list[str] = []
        changes, omitted, omitted_bytes = diff_snapshot(self.session, self._snap(words, "diff NAME"), notes)
        self.print(group(changes_lines(changes, self.session.regions, f"since {words[0].text}",
                                       omitted=omitted, omitted_bytes=omitted_bytes,
                                       labels=change_labels(self.symbols, changes))))
        for note in notes:
            self.print(message(f"note: {note}", "yellow"))
        return Output([self._keep(sum(c.size for c in changes) + omitted_bytes, "bytes changed")])

    @command("reset", "reset", "A fresh instance of the module (kept values and snapshots stay; blocks go).", live=True)
    def cmd_reset(self, words):
        from ...app import open_session
        from ...render.shell import message

        fresh = open_session(self.session.module, **self.options)
        old = self._recorder()
        self.session.close()
        self.session = fresh
        self.blocks.clear()
        self.changed = ByteRanges()
        self.trap_call = None
        self.print(message("a fresh instance", "dim"))
        self._heap_notes(fresh)
        self.heap_seen = 0
        if old is not None:  # the same watches on the fresh instance (re-resolved there)
            self._rewatch(old, fresh)
            if old.targets:
                self.print(message(f"watching again: {', '.join(t.text for t in old.targets)}", "dim"))
        return Output()

    def _reopen(self, options: dict) -> None:
        """Replaces the instance by one opened with ``options`` (rewritten for watching or heap tracking): memory
        and globals are carried over (``Session.reinstrument``), and so are the watches and the heap tracker's
        blocks. Host state (WASI files, output so far) and table entries set at run time are not."""
        changes = {k: v for k, v in options.items() if self.options.get(k) is not v}
        fresh = self.session.reinstrument(**changes)
        try:
            old_rec, old_heap = self._recorder(), self.session.heap_tracker
            if old_rec is not None:
                self._rewatch(old_rec, fresh)
            self._heap_notes(fresh)
            if old_heap is not None and not fresh.heap_tracker.adopt(old_heap):
                fresh.heap_tracker.notes.append("the instance was rewritten again and its allocation sites "
                                                "changed: the blocks allocated before were forgotten")
        except BaseException:
            fresh.close()
            raise
        self.session.close()
        self.session = fresh
        self.options = options
