"""The shell itself: view, help, quit."""

from __future__ import annotations

from ...errors import UsageError
from ..registry import ALIASES, COMMANDS, Output, Quit, command, in_help_order


class SessionCommands:
    @command("view", "view [ADDR]", "The full-screen memory inspector on this instance (q returns here).",
             args=("address",))
    def cmd_view(self, words):
        if self.view is None:
            raise UsageError("view needs an interactive terminal (it is not available in a script)")
        at = self.address(self._text(words[0])) if words else None
        self.view(self, at)
        return Output()

    @command("help", "help [COMMAND]", "List the commands, or explain one.", args=("command",))
    def cmd_help(self, words):
        from ...render.shell import help_table, message

        if words:
            name = ALIASES.get(words[0].text, words[0].text.split("/")[0])
            cmd = COMMANDS.get(name)
            if cmd is None:
                raise UsageError(f"no command {words[0].text!r}; `help` lists them")
            self.print(message(cmd.usage, "bold"), message("  " + cmd.summary))
            if cmd.details:
                self.print(message("  " + cmd.details))
            if cmd.live and self.core is not None:
                self.print(message("  " + self.refusal(name), "yellow"))
            return Output()
        off = "(not in a coredump) "
        self.print(help_table([(c.usage, (off if c.live and self.core is not None else "") + c.summary)
                               for c in in_help_order()]))
        self.print(message("Values: $1, $2, … and $_ (the last) stand for kept values in any argument. "
                           "Ctrl-D or `quit` leaves.", "dim"))
        return Output()

    @command("quit", "quit", "Leave the shell.")
    def cmd_quit(self, words):
        raise Quit
