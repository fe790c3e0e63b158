"""Reading and writing memory: x, dump, chase, str, p, alloc, free, write, grow."""

from __future__ import annotations

from ...errors import UsageError
from ..registry import DUMP_FORMATS, MAX_DUMP, MAX_STR, SCALAR_READERS, X_FORMATS, Output, command
from ..words import arithmetic, parse_hex


class MemoryCommands:
    def cmd_x(self, fmt: str, words):
        """x/NFMT ADDR (see `help x`)."""
        import re

        self._need(words, 1, "x/NFMT ADDR", 1)
        m = re.fullmatch(r"(\d*)([a-z]\w*)?", fmt or "")
        if not m:
            raise UsageError(f"x/{fmt}: give a count and a format, e.g. x/32x, x/4i32, x/8d")
        count = int(m.group(1)) if m.group(1) else None
        unit = m.group(2) or "x"
        if unit == "s":
            return self._show_string(self._text(words[0]), count or MAX_STR)
        f = X_FORMATS.get(unit, unit)
        if f not in DUMP_FORMATS:
            raise UsageError(f"x/{fmt}: unknown format {unit!r}; use one of "
                             f"{', '.join(sorted(X_FORMATS))}, s, or {', '.join(DUMP_FORMATS)}")
        size = 1 if f == "hex" else (4 if f == "ptr" and not self.session.is64 else
                                     8 if f == "ptr" else SCALAR_READERS[f][1])
        n = (count if count is not None else (64 if f == "hex" else 8)) * size
        return self._dump(self._text(words[0]), n, f)

    @command("x", "x/NFMT ADDR", "Examine memory: N units of FMT at ADDR (x/64x, x/8i32, x/4f64, x/s).",
             "FMT is a wasmem format (hex i8 u8 i16 u16 i32 u32 i64 u64 f32 f64 ptr) or a gdb letter: x/b hex "
             "bytes, d i32, u/w u32, h u16, g u64, f f64, a pointers, c u8, s a C string. N counts units "
             "(default 64 bytes of hex, 8 values). Bytes the last call changed are highlighted.",
             ("address",), takes_format=True, method="cmd_x")
    def _x_doc(self, fmt: str, words):  # pragma: no cover - registered for `x`, which runs cmd_x with its /FMT
        return self.cmd_x(fmt, words)

    @command("dump", "dump ADDR [LEN] [FMT]", "Memory as `wasmem dump` shows it (LEN default: the symbol's size, "
             "else 256).", "FMT: hex (default) or a typed format (i32, f64, ptr, …).", ("address",))
    def cmd_dump(self, words):
        self._need(words, 1, "dump ADDR [LEN] [FMT]", 3)
        length = self._int(words[1], "LEN") if len(words) > 1 else None
        fmt = words[2].text if len(words) > 2 else "hex"
        return self._dump(self._text(words[0]), length, fmt)

    def _dump(self, at: str, length, fmt: str) -> Output:
        from ...app import dump_memory
        from ...render.dump import dump_renderable

        if length is not None and not 0 <= length <= MAX_DUMP:
            raise UsageError(f"{length} bytes: show from 0 to {MAX_DUMP} bytes at a time")
        t = self.target(at)
        outcome = dump_memory(self.session, f"{t.address:#x}" if t.type is None and t.size is None else at,
                              length if length is not None else t.size, fmt=fmt, changed=self.changed)
        self.print(dump_renderable(outcome))
        return Output()

    @command("chase", "chase ADDR [DEPTH]", "Follow pointers from ADDR or a symbol, as `wasmem chase` does.",
             args=("address",))
    def cmd_chase(self, words):
        from ...app import chase_memory
        from ...render.chase import render_chase

        self._need(words, 1, "chase ADDR [DEPTH]", 2)
        depth = self._int(words[1], "DEPTH") if len(words) > 1 else 4
        at = self._text(words[0])
        if arithmetic(at) is not None:
            at = f"{self.address(at):#x}"
        outcome = chase_memory(self.session, at, depth=depth, alloc=self.alloc)
        self.print(render_chase(outcome))
        return Output()

    @command("str", "str ADDR [MAX]", "The C string at ADDR (up to MAX bytes, default 4096); kept as $N.",
             "A symbol path of pointer type (config.title, names[1]) reads where the pointer points; x/s reads "
             "at the address itself.", args=("address",))
    def cmd_str(self, words):
        self._need(words, 1, "str ADDR [MAX]", 2)
        limit = self._int(words[1], "MAX") if len(words) > 1 else MAX_STR
        return self._show_string(self._text(words[0]), limit)

    def _show_string(self, at: str, limit: int) -> Output:
        from ...debuginfo import read_c_string

        if not 1 <= limit <= 1 << 20:
            raise UsageError(f"MAX {limit}: from 1 to {1 << 20} bytes")
        addr = self._string_address(at)
        self.session.read(addr, 1)  # bounds
        text, complete = read_c_string(self._read, addr, limit)
        return Output([self._keep(text, None if complete else f"(no NUL within {limit} bytes)")])

    def _string_address(self, at: str) -> int:
        """Where `str` reads: the address, or for a symbol path of pointer type (``config.title``,
        ``names[1]``) the address it holds."""
        from ...debuginfo import PointerType

        target = self.target(at)
        s = target.type.strip() if target.type is not None else None
        if isinstance(s, PointerType):
            return int.from_bytes(self._read(target.address, s.size or 4), "little")
        return target.address

    @command("p", "p EXPR", "Print a value: a symbol path with its DWARF type (p config, p names[2], "
             "p *node_a->next, p (Point)0x1000), a number or arithmetic over $N.",
             "A scalar is kept as $N (a pointer as its address, a char array as its text), an aggregate as "
             "its address. Without DWARF a symbol prints its address.", ("address",))
    def cmd_p(self, words):
        from ...debuginfo import format_value
        from ...render.value import ValueView

        self._need(words, 1, "p EXPR")
        expr = " ".join(self._text(w) if not w.quoted else w.text for w in words).strip()
        if len(words) == 1 and (words[0].quoted or self._var(words[0]) is not None):
            return Output([self._keep(words[0].text if words[0].quoted else self._var(words[0]))])
        num = arithmetic(expr)
        if num is not None:
            return Output([self._keep(num)])
        t, addr, label = self._typed(expr)
        if t is None:
            target = self.target(expr)
            note = target.label
            return Output([self._keep(target.address, note)])
        v = format_value(t, self._read, addr, label=label, depth=4, symbols=self.symbols)
        self.print(ValueView(v))
        kept = v.value if v.kind not in ("struct", "union", "class", "array") else v.address
        return Output([self._keep(kept)])

    def _typed(self, expr: str):
        """(type, address, label) for ``*PATH``, ``(TYPE)ADDR`` or a symbol path; (None, …) when untyped."""
        import re

        from ...debuginfo import PointerType

        cast = re.fullmatch(r"\(\s*([^()]+?)\s*\)\s*(.+)", expr)
        if cast:
            if not self.symbols.has_dwarf:
                raise UsageError("a cast needs DWARF types (build with -g)")
            tname, at = cast.groups()
            ptr = tname.endswith("*")
            t = self.symbols.find_type(tname.rstrip("*").strip())
            if t is None:
                raise UsageError(f"no type named {tname.rstrip('*').strip()!r} in the DWARF info")
            addr = self.address(at)
            if ptr:  # (T *)ADDR reads T at ADDR, as *(T *)ADDR would
                return t, addr, f"*({tname}){at}"
            return t, addr, expr
        if expr.startswith("*"):
            inner = expr[1:].strip()
            target = self.target(inner)
            s = target.type.strip() if target.type is not None else None
            if not isinstance(s, PointerType):
                raise UsageError(f"{inner} is not a pointer ({target.type.name if target.type else 'no type'}): "
                                 f"cannot dereference it")
            ptr = int.from_bytes(self._read(target.address, s.size or 4), "little")
            if ptr == 0:
                raise UsageError(f"{inner} is a null pointer")
            return s.pointee, ptr, expr
        target = self.target(expr)
        return target.type, target.address, expr

    @command("alloc", "alloc N [NAME[,FREE]]", "Allocate N bytes with the module's allocator; the address is kept "
             "as $N.",
             "Uses allocate, malloc, __wbindgen_malloc or cabi_realloc, or the export NAME (and FREE to give it "
             "back; default: the shell's --alloc), called as `call` calls it for an s: argument. `free` gives "
             "the block back.", live=True, runs_code=True)
    def cmd_alloc(self, words):
        from ...runtime.liveops import allocate

        self._need(words, 1, "alloc N [NAME[,FREE]]", 2)
        block = allocate(self.session, self._int(words[0], "N"), words[1].text if len(words) > 1 else self.alloc)
        self.blocks[block.address] = block
        return Output([self._keep(block.address, f"{block.size} bytes via {block.alloc}")])

    @command("free", "free PTR", "Give back a block `alloc` made (with the allocator's free/deallocate).",
             args=("address",), live=True, runs_code=True)
    def cmd_free(self, words):
        from ...render.shell import message
        from ...runtime.liveops import release

        self._need(words, 1, "free PTR", 1)
        addr = self.address(self._text(words[0]))
        block = self.blocks.get(addr)
        if block is None:
            have = ", ".join(f"{a:#x}" for a in sorted(self.blocks)) or "none"
            raise UsageError(f"{addr:#x} is not a block this shell allocated (blocks: {have})")
        release(self.session, block)
        del self.blocks[addr]
        self.print(message(f"freed {block.size} bytes at {addr:#x} with {block.free}", "dim"))
        return Output()

    @command("write", 'write ADDR HEX|"text"', 'Write bytes (de ad be ef) or quoted text ("hi\\0") at ADDR.',
             'Quoted text is UTF-8 with \\n \\t \\0 \\xHH escapes and no NUL added; unquoted words are hex.',
             ("address",), live=True)
    def cmd_write(self, words):
        from ...render.shell import message

        self._need(words, 2, 'write ADDR HEX|"text"')
        addr = self.address(self._text(words[0]))
        data = b""
        for w in words[1:]:
            data += w.text.encode("utf-8", "surrogateescape") if w.quoted else parse_hex(w.text)
        self.session.write(addr, data)
        self.print(message(f"wrote {len(data)} byte{'' if len(data) == 1 else 's'} at {addr:#x}", "dim"))
        return Output()

    @command("grow", "grow N", "Grow memory 0 by N pages (as memory.grow would, within the memory budget).", live=True)
    def cmd_grow(self, words):
        from ...render.shell import message
        from ...runtime.liveops import grow

        self._need(words, 1, "grow N", 1)
        before, after = grow(self.session, self._int(words[0], "N"))
        self.print(message(f"memory 0: {before} → {after} pages ({after * 65536} bytes)"))
        return Output([self._keep(before)])
