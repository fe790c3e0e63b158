"""Calls and their traps: call, bt."""

from __future__ import annotations

from ..registry import Output, command


class CallsCommands:
    @command("call", "call FUNC [ARGS...]", "Call an export; its results are kept as $N.",
             "Arguments as `wasmem call` takes them (numbers, s:TEXT, b:HEX, z:TEXT, p:HEX) and $N or $_. "
             "Each result is kept as the next $N; a struct returned through a hidden pointer keeps its "
             "address. The call view shows what changed in memory; x/dump/view highlight those bytes until "
             "the next call. After a trap, `bt` shows the backtrace again.", ("export",), live=True, runs_code=True)
    def cmd_call(self, words):
        from ...app import call_function
        from ...render.call import render_call

        self._need(words, 1, "call FUNC [ARGS...]")
        func = words[0].text
        args = [self._text(w) for w in words[1:]]
        outcome = call_function(self.session, func, args, alloc=self.alloc)
        r = outcome.result
        self.last_call = outcome
        self.changed = r.changed(0)
        self.print(render_call(outcome, self.host_calls))
        out = Output()
        if r.trap is not None:
            self.trap_call = outcome
            return out
        if r.sret is not None:
            out.kept.append(self._keep(r.sret.address, "sret result address: a stack slot the next call may reuse"))
        for i, v in enumerate(r.results):
            out.kept.append(self._keep(v, outcome.result_notes.get(i)))
        return out

    @command("bt", "bt", "The backtrace of the last call that trapped (in a coredump: the dump's frames).",
             "In a coredump session `bt` shows the frames as `wasmem backtrace` does: names, offsets, file:line "
             "and the variables the dump gives.", args=())
    def cmd_bt(self, words):
        from ...render.call import trap_panel
        from ...render.shell import message

        if self.core is not None:
            from ...render.backtrace import BacktraceView

            self.print(BacktraceView(self.session.backtrace()))
            return Output()
        if self.trap_call is None:
            self.print(message("no call has trapped in this session", "dim"))
            return Output()
        self.print(trap_panel(self.trap_call.result, self.trap_call.frame_locations))
        return Output()
