"""Watchpoints: watch, unwatch, and the hits shown after each command that runs code."""

from __future__ import annotations

from ...errors import UsageError
from ..registry import DEFAULT_WATCH_SLOTS, Output, command


class WatchCommands:
    def watch_before_code(self, line: str):
        """Before a command that runs code: where the report stands (its hits are shown after it)."""
        rec = self._recorder()
        if rec is None:
            return None
        first, notes = len(rec.report.hits), len(rec.report.notes)
        rec.call_label = line.strip()[:80]
        return rec, first, notes

    def watch_after_code(self, token) -> None:
        if token is not None:
            self._show_hits(*token)

    def _rewatch(self, old, fresh) -> None:
        """``old``'s watch targets on the session ``fresh`` (rewritten with a watch pass too)."""
        from ...app.watchpoints import resolve_watch_target, watch_resolver
        from ...runtime.watch import WatchRecorder

        rec = WatchRecorder(fresh, fresh.watch_pass, [], self.symbols, stop=False, access=self.watch_access,
                            resolve=watch_resolver(fresh, self.symbols))
        fresh.watch_recorder = rec
        rec.stop_targets = set(old.stop_targets)
        rec.set_targets([resolve_watch_target(t.text, fresh, self.symbols, pending_ok=True)
                         for t in old.targets], list(old.slots))

    def _recorder(self):
        return getattr(self.session, "watch_recorder", None)

    def _show_hits(self, rec, first: int, notes: int) -> None:
        from ...render.watch import HitsView

        hits = rec.report.hits[first:]
        self.watch_last = len(hits) + max(0, rec.report.dropped - getattr(self, "_dropped_seen", 0))
        self._dropped_seen = rec.report.dropped
        new_notes = rec.report.notes[notes:]
        if rec.targets or hits or new_notes:
            self.print(HitsView(rec.report, hits, new_notes))

    def _watching(self):
        """The session's recorder, made on the first `watch`. A session not rewritten for watching (no
        --watch-slots) is reopened rewritten, and its memories and globals are carried over."""
        from ...app.watchpoints import watch_resolver
        from ...render.shell import message
        from ...runtime.watch import WatchRecorder

        rec = self._recorder()
        if rec is not None:
            return rec
        if self.session.watch_pass is None:
            self._reopen(dict(self.options, watch=watch_slot_spec(DEFAULT_WATCH_SLOTS, self.session.module,
                                                                  self.watch_access == "rw")))
            self.print(message(
                f"watch: the instance was reopened rewritten for {DEFAULT_WATCH_SLOTS} watch slots (every store"
                f"{' and load' if self.watch_access == 'rw' else ''} now checks them inline); its memory and globals were carried over, host state was not (WASI files, "
                f"stdout/stderr so far) nor table entries set at run time. Start with --watch-slots N to have "
                f"it rewritten from the start.", "yellow"))
        rec = WatchRecorder(self.session, self.session.watch_pass, [], self.symbols, stop=False,
                            resolve=watch_resolver(self.session, self.symbols),
                            access=self.watch_access)
        self.session.watch_recorder = rec
        return rec

    @command("watch", "watch [TARGET [--stop]]", "Report every write into TARGET after each command that runs code; "
             "`watch` alone lists the watches.",
             "TARGET as `call --watch` takes it: ADDR:LEN, a symbol or symbol path (settings.limit, names[2], "
             "head->value: re-resolved before every call), a region (.data, .bss, stack, heap), or sp on a "
             "data-first stack (writes below the stack's low end: an overflow running over the data). Hits are "
             "shown after each call (and alloc/free) as `call --watch` shows them; --stop makes a hit of this "
             "target a trap before the write (bt shows it). The first watch of a shell started without "
             "--watch-slots reopens the instance rewritten for watching (memory and globals carried over). "
             "With --watch-reads loads are reported too. assert watch.hits == N checks the last command's hits, "
             "watch.total all of them.",
             ("address",), live=True)
    def cmd_watch(self, words):
        from ...app.watchpoints import resolve_watch_target
        from ...render.shell import message, table

        stop = any(not w.quoted and w.text == "--stop" for w in words)
        rest = [w for w in words if w.quoted or w.text != "--stop"]
        if not rest:
            if stop:
                raise UsageError("usage: watch TARGET --stop")
            rec = self._recorder()
            if rec is None or not rec.targets:
                self.print(message("no watches (watch TARGET sets one)", "dim"))
                return Output()
            rows = []
            for n, t in zip(self.watch_ids, rec.targets, strict=True):
                hits = sum(1 for h in rec.report.hits if t.text in h.targets)
                rng = ("not resolved yet" if t.start == t.end else f"[sp, {t.end:#x})" if t.dynamic else
                       f"[{t.start:#x}, {t.end:#x})")
                rows.append([n, t.text, rng, t.label or "", hits, "stop" if t.text in rec.stop_targets else ""])
            k = rec.wp.nranges - (rec.wp.sp_range is not None)
            slots = f"{k} slot{'' if k == 1 else 's'}" + (" and sp" if rec.wp.sp_range is not None else "")
            self.print(table(f"{len(rows)} watch{'es' if len(rows) != 1 else ''} ({slots}, "
                             f"{len(rec.wp.sites)} instructions checked)",
                             ["#", "target", "range", "at", "hits", ""], rows, right=(0, 4)))
            return Output()
        self._need(rest, 1, "watch [TARGET [--stop]]", 1)
        text = self._text(rest[0]).strip()
        is_sp = text.lower() == "sp"
        for n, t in zip(self.watch_ids, getattr(self._recorder(), "targets", ()), strict=True):
            if t.text.lower() == text.lower():
                raise UsageError(f"{text} is already watched (watch {n})")
        t = resolve_watch_target(text, self.session, self.symbols, pending_ok=True)  # before any reopen
        rec = self._watching()
        if is_sp:
            if rec.wp.sp_range is None:
                raise UsageError("watch sp: this instance was rewritten without a stack-overflow range")
            free = [rec.wp.sp_range]
        else:
            free = [k for k in range(rec.wp.nranges) if k not in rec.slots and k != rec.wp.sp_range]
        if not free:
            n = rec.wp.nranges - (rec.wp.sp_range is not None)
            raise UsageError(f"every watch slot ({n}) is in use: unwatch one, or start the shell with "
                             f"--watch-slots N (up to 63)")
        rec.set_targets([*rec.targets, t], [*rec.slots, free[0]])
        if stop:
            rec.stop_targets.add(t.text)
        n = self.watch_next
        self.watch_next += 1
        self.watch_ids.append(n)
        where = "not resolved yet (a null pointer): watched once it is" if t.start == t.end else \
            (f"[sp, {t.end:#x})" if t.dynamic else f"[{t.start:#x}, {t.end:#x})") + \
            (f" {t.label}" if t.label and t.label != t.text else "")
        self.print(message(f"watch {n}: {t.text} {where}{' (--stop)' if stop else ''}"))
        return Output()

    @command("unwatch", "unwatch N", "Remove watch N (`watch` lists them).", live=True)
    def cmd_unwatch(self, words):
        from ...render.shell import message

        self._need(words, 1, "unwatch N", 1)
        n = self._int(words[0], "N")
        rec = self._recorder()
        if rec is None or n not in self.watch_ids:
            have = ", ".join(str(i) for i in self.watch_ids) or "none"
            raise UsageError(f"no watch {n} (watches: {have})")
        k = self.watch_ids.index(n)
        t = rec.targets[k]
        rec.set_targets(rec.targets[:k] + rec.targets[k + 1:], rec.slots[:k] + rec.slots[k + 1:])
        rec.stop_targets.discard(t.text)
        del self.watch_ids[k]
        self.print(message(f"watch {n} ({t.text}) removed", "dim"))
        return Output()


def watch_slot_spec(n: int, module, reads: bool = False) -> dict:
    """The Session ``watch`` option for a shell that can watch up to ``n`` targets (writes; ``reads``: loads
    too), and ``sp`` in one more range when the module has a data-first stack (what `call --watch sp` watches)."""
    from ...app import layout_facts
    from ...instrument.watch import MAX_RANGES

    if not 1 <= n <= MAX_RANGES - 1:
        raise UsageError(f"--watch-slots {n}: give 1 to {MAX_RANGES - 1}")
    layout, sp_global, stack_range, _ = layout_facts(module)
    sp = sp_global is not None and stack_range is not None and getattr(layout, "layout_kind", None) == "data-first"
    return {"ranges": n + sp, "reads": reads, "sp_range": n if sp else None}
