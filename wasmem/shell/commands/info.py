"""What the module and the instance have: info exports, imports, globals, regions, symbols, memory, sp."""

from __future__ import annotations

from ...errors import UsageError
from ..registry import INFO_TOPICS, Output, command


class InfoCommands:
    @command("info", "info TOPIC", "What the module and the instance have: info exports, imports, globals, "
             "regions, symbols [GLOB], memory, sp.", args=("info",))
    def cmd_info(self, words):
        self._need(words, 1, "info " + "|".join(INFO_TOPICS), 2)
        topic = words[0].text
        if topic not in INFO_TOPICS:
            raise UsageError(f"info {topic}: use one of {', '.join(INFO_TOPICS)}")
        getattr(self, f"_info_{topic}")(words[1:])
        return Output()

    def _info_exports(self, words):
        from ...render.shell import table

        mod = self.session.module
        rows = []
        for e in mod.exports:
            what = ""
            if e.kind == "func":
                what = self.session.signature(e.name, e.index, mod.get_function_type(e.index))
            rows.append([e.name, e.kind, what])
        self.print(table(f"{len(rows)} exports", ["name", "kind", "type"], rows))

    def _info_imports(self, words):
        from ...render.shell import table

        rows = [[f"{i.module}.{i.name}", i.kind] for i in self.session.module.imports]
        self.print(table(f"{len(rows)} imports", ["name", "kind"], rows))

    def _info_globals(self, words):
        from ...render.shell import table
        from ...runtime.liveops import global_values

        rows = []
        for idx, name, vt, mut, v in global_values(self.session):
            shown = "(not visible to the host)" if v is None else (
                f"{v} ({v & 0xFFFFFFFF:#x})" if isinstance(v, int) and vt == "i32" else str(v))
            rows.append([idx, name, vt, "mut" if mut else "const", shown])
        self.print(table(f"{len(rows)} globals", ["#", "name", "type", "", "value"], rows, right=(0,)))

    def _info_regions(self, words):
        from ...render.shell import table

        rows = [[r.kind, f"{r.start:#x}", f"{r.end:#x}", r.size, r.label] for r in self.session.regions]
        self.print(table("regions of memory 0", ["kind", "start", "end", "bytes", "label"], rows, right=(3,)))

    def _info_symbols(self, words):
        from ...debuginfo import symbol_listing
        from ...render.symbols import SymbolsView

        pattern = words[0].text if words else None
        self.print(SymbolsView(symbol_listing(self.session.module, filter=pattern)))

    def _info_memory(self, words):
        from ...render.shell import table

        rows = []
        for i in sorted(self.session.memories):
            m = self.session.memory(i)
            rows.append([i, m.pages, m.size, m.min_pages, "none" if m.max_pages is None else m.max_pages,
                         "yes" if m.shared else "", m.imported or m.export or ""])
        self.print(table("memories", ["#", "pages", "bytes", "min", "max", "shared", "name"], rows,
                         right=(0, 1, 2, 3, 4)))

    def _info_sp(self, words):
        from ...render.shell import message

        sp = self.session.get_sp()
        if sp is None:
            self.print(message("this module has no known stack pointer"))
            return
        rng = self.session.stack_range
        where = f"; stack [{rng[0]:#x}, {rng[1]:#x}), {sp - rng[0]} bytes free below it" if rng else ""
        self.print(message(f"sp = {sp:#x} (global {self.session.sp_global}){where}"))
        self._keep(sp)
