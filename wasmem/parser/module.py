"""The lazy module reader: section headers are read up front, each section body on first use."""

from __future__ import annotations

import mmap
import os
from functools import cached_property

from ..errors import ParseError
from .reader import Reader, decode_sleb, decode_uleb, entry_error
from .types import (
    EXTERNAL_KINDS,
    ConstExpr,
    DataSegment,
    ElementSegment,
    Export,
    FunctionBody,
    FuncType,
    Global,
    Import,
    Memory,
    SectionHeader,
    Table,
    Tag,
    TypeDef,
)
from .typesec import (  # noqa: F401 - the readers' old home: parser/__init__ and instrument/ import them here
    CONST_GC_OPS,
    CONST_SIMPLE_OPS,
    NUMERIC_TYPES,
    read_const_expr,
    read_globaltype,
    read_heaptype,
    read_import_type,
    read_limits,
    read_memtype,
    read_reftype,
    read_storagetype,
    read_tabletype,
    read_type_section,
    read_valtype,
)

MAGIC = b"\0asm"
_DROP_CHUNK = 8 << 20  # bytes of code scanned between MADV_DONTNEED calls


def _uleb32(d, p: int, end: int) -> tuple[int, int]:
    return decode_uleb(d, p, end, 32)

SECTION_NAMES = {
    0: "custom", 1: "type", 2: "import", 3: "function", 4: "table", 5: "memory", 6: "global",
    7: "export", 8: "start", 9: "element", 10: "code", 11: "data", 12: "datacount", 13: "tag",
}
# the order non-custom sections must appear in (tag sits between memory and global)
SECTION_ORDER = {1: 1, 2: 2, 3: 3, 4: 4, 5: 5, 13: 6, 6: 7, 7: 8, 8: 9, 9: 10, 12: 11, 10: 12, 11: 13}


class WasmModule:
    """A parsed view of a core WebAssembly module over a bytes-like buffer (usually an mmap)."""

    def __init__(self, data, path: str | None = None, *, _keepalive=None):
        self.data = data if isinstance(data, memoryview) else memoryview(data)
        self.path = path
        self._keepalive = _keepalive
        self.size = len(self.data)
        # the first function body that does not end with `end`, once the bodies are located
        self.unterminated_body: int | None = None
        # the __memory_base a position-independent module is given, when the caller chose one
        # (``wasmem.api.load_module(memory_base=…)``, `--memory-base`); None: wasmem's default
        self.memory_base: int | None = None
        # a separate file holding this module's DWARF, when the caller named one (`--debug-file`): every
        # DWARF reader (symbols, the layout's data end, dump/chase/call labels) uses it
        self.debug_file: str | None = None
        # what the layers above derive from this module once and keep beside it (the symbol table that
        # ``wasmem.app.symbols_for`` makes): the module itself never reads it
        self.derived: dict[str, object] = {}
        self.sections: list[SectionHeader] = self._read_headers()

    # -- construction ------------------------------------------------------------------------
    @classmethod
    def from_file(cls, path: str | os.PathLike) -> WasmModule:
        path = os.fspath(path)
        with open(path, "rb") as f:
            size = os.fstat(f.fileno()).st_size
            if size == 0:
                raise ParseError("empty file: not a WebAssembly module", 0)
            mm = mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ)
        return cls(memoryview(mm), path, _keepalive=mm)

    @classmethod
    def from_bytes(cls, data: bytes, path: str | None = None) -> WasmModule:
        return cls(memoryview(data), path)

    def _read_headers(self) -> list[SectionHeader]:
        data = self.data
        if len(data) < 8:
            if bytes(data[:4]) == MAGIC[: len(data[:4])]:
                raise ParseError(f"file is truncated: {len(data)} bytes, a module header needs 8", len(data))
            raise ParseError("not a WebAssembly module (bad magic number)", 0)
        magic = bytes(data[:4])
        if magic != MAGIC:
            if magic == b"\x7fELF":
                raise ParseError("not a WebAssembly module: this is an ELF binary", 0)
            if bytes(data[:1]) in (b"(", b";"):
                raise ParseError("not a binary WebAssembly module (looks like text format; use a .wat file name)", 0)
            raise ParseError("not a WebAssembly module (bad magic number)", 0)
        version = bytes(data[4:8])
        if version != b"\x01\x00\x00\x00":
            if version[2:4] == b"\x01\x00":
                raise ParseError("this is a WebAssembly component; components are not supported, "
                                 "only core modules", 4)
            raise ParseError(f"unsupported WebAssembly version {int.from_bytes(version, 'little')}", 4)
        r = Reader(data, 8)
        sections: list[SectionHeader] = []
        last_order = 0
        seen: set[int] = set()
        while not r.at_end():
            off = r.pos
            sid = r.u8()
            size = r.u32()
            start = r.pos
            if size > r.end - start:
                raise ParseError(f"section {sid} ({SECTION_NAMES.get(sid, 'unknown')}) declares {size} bytes "
                                 f"but only {r.end - start} remain in the file", off)
            if sid == 0:
                sub = Reader(data, start, start + size)
                name = sub.name()
                sections.append(SectionHeader(0, name, off, sub.pos, start + size))
            else:
                if sid not in SECTION_ORDER:
                    raise ParseError(f"unknown section id {sid}", off)
                if sid in seen:
                    raise ParseError(f"duplicate {SECTION_NAMES[sid]} section (id {sid})", off)
                order = SECTION_ORDER[sid]
                if order < last_order:
                    raise ParseError(f"{SECTION_NAMES[sid]} section (id {sid}) is out of order", off)
                seen.add(sid)
                last_order = order
                sections.append(SectionHeader(sid, SECTION_NAMES[sid], off, start, start + size))
            r.pos = start + size
        return sections

    # -- sections ------------------------------------------------------------------------------
    def release_pages(self, start: int, end: int) -> None:
        """Gives back the resident pages of ``[start, end)`` of a memory-mapped file (``MADV_DONTNEED`` on
        clean file pages: they are re-read from the page cache if touched again). A no-op otherwise."""
        mm = self._keepalive if isinstance(self._keepalive, mmap.mmap) else None
        drop = getattr(mmap, "MADV_DONTNEED", None)
        if mm is None or drop is None:
            return
        page = mmap.PAGESIZE
        lo, hi = (start + page - 1) // page * page, end // page * page
        if hi > lo:
            try:
                mm.madvise(drop, lo, hi - lo)
            except (OSError, ValueError):
                pass

    def get_section(self, sid: int) -> SectionHeader | None:
        for s in self.sections:
            if s.id == sid:
                return s
        return None

    def get_custom_sections(self, name: str | None = None) -> list[SectionHeader]:
        return [s for s in self.sections if s.id == 0 and (name is None or s.name == name)]

    def get_custom_section(self, name: str) -> SectionHeader | None:
        for s in self.sections:
            if s.id == 0 and s.name == name:
                return s
        return None

    def _entries(self, sid: int):
        """(reader, count, what) for a vector section, or None when the section is absent."""
        h = self.get_section(sid)
        if h is None:
            return None
        r = Reader(self.data, h.start, h.end)
        what = f"section {sid} ({h.name})"
        return r, r.u32(), what

    def _vector(self, sid: int, read_entry):
        got = self._entries(sid)
        if got is None:
            return []
        r, n, what = got
        out = []
        for i in range(n):
            if r.at_end():
                raise ParseError(f"{what} declares {n} entries but ends after {i}", r.pos)
            try:
                out.append(read_entry(r, i))
            except ParseError as exc:
                raise entry_error(exc, what, n, i) from None
        r.expect_end(what)
        return out

    @cached_property
    def types(self) -> list[TypeDef]:
        h = self.get_section(1)
        if h is None:
            return []
        return read_type_section(Reader(self.data, h.start, h.end), f"section 1 ({h.name})")

    def get_func_type(self, type_index: int) -> FuncType:
        types = self.types
        if type_index >= len(types) or types[type_index].func is None:
            raise ParseError(f"type index {type_index} is not a function type", None)
        return types[type_index].func  # type: ignore[return-value]

    @cached_property
    def imports(self) -> list[Import]:
        def entry(r: Reader, i: int) -> Import:
            off = r.pos
            mod = r.name()
            name = r.name()
            kind, t, exact = read_import_type(r, r.u8(), f"import {mod}.{name}")
            return Import(i, mod, name, kind, t, off, exact)

        return self._vector(2, entry)

    def _imports_of(self, kind: str) -> list[Import]:
        return [i for i in self.imports if i.kind == kind]

    @cached_property
    def num_imported_funcs(self) -> int:
        return len(self._imports_of("func"))

    @cached_property
    def function_type_indices(self) -> list[int]:
        """Type index of every function, imported first."""
        own = self._vector(3, lambda r, i: r.u32())
        return [imp.type for imp in self._imports_of("func")] + own  # type: ignore[misc]

    @property
    def num_functions(self) -> int:
        return len(self.function_type_indices)

    def get_function_type(self, func_index: int) -> FuncType:
        ti = self.function_type_indices
        if func_index >= len(ti):
            raise ParseError(f"function index {func_index} out of range ({len(ti)} functions)")
        return self.get_func_type(ti[func_index])

    @cached_property
    def tables(self) -> list[Table]:
        out = [Table(k, imp.type, imp, imp.offset) for k, imp in enumerate(self._imports_of("table"))]
        base = len(out)

        def entry(r: Reader, i: int) -> Table:
            off = r.pos
            if r.peek() == 0x40:
                r.u8()
                z = r.u8()
                if z != 0:
                    raise ParseError("table with initialiser: expected 0x00", r.pos - 1)
                t = read_tabletype(r)
                read_const_expr(r, "table initialiser")
            else:
                t = read_tabletype(r)
            return Table(base + i, t, None, off)

        return out + self._vector(4, entry)

    @cached_property
    def memories(self) -> list[Memory]:
        out = [Memory(k, imp.type, imp, imp.offset) for k, imp in enumerate(self._imports_of("memory"))]
        base = len(out)

        def entry(r: Reader, i: int) -> Memory:
            off = r.pos
            return Memory(base + i, read_memtype(r), None, off)

        return out + self._vector(5, entry)

    @property
    def is_memory64(self) -> bool:
        """Memory 0 is a 64-bit memory (memory64): addresses, pointers and sizes are i64. False without a
        memory. Memory 0 is the one the C ABI, the stack pointer and the linker's symbols address."""
        return bool(self.memories) and self.memories[0].type.is64

    @cached_property
    def tags(self) -> list[Tag]:
        out = [Tag(k, imp.type, imp) for k, imp in enumerate(self._imports_of("tag"))]  # type: ignore[arg-type]
        base = len(out)

        def entry(r: Reader, i: int) -> Tag:
            p = r.pos
            if r.u8() != 0:
                raise ParseError("tag attribute must be 0", p)
            return Tag(base + i, r.u32())

        return out + self._vector(13, entry)

    @cached_property
    def globals(self) -> list[Global]:
        out = [Global(k, imp.type, None, imp, imp.offset) for k, imp in enumerate(self._imports_of("global"))]
        base = len(out)

        def entry(r: Reader, i: int) -> Global:
            off = r.pos
            gt = read_globaltype(r)
            return Global(base + i, gt, read_const_expr(r, f"initialiser of global {base + i}"), None, off)

        return out + self._vector(6, entry)

    @cached_property
    def exports(self) -> list[Export]:
        def entry(r: Reader, i: int) -> Export:
            off = r.pos
            name = r.name()
            p = r.pos
            kind = r.u8()
            if kind not in EXTERNAL_KINDS:
                raise ParseError(f"export {name!r}: unknown export kind 0x{kind:02x}", p)
            return Export(name, EXTERNAL_KINDS[kind], r.u32(), off)

        return self._vector(7, entry)

    @cached_property
    def _export_by_name(self) -> dict[str, Export]:
        out: dict[str, Export] = {}
        for e in self.exports:
            out.setdefault(e.name, e)  # the first of duplicate names, as a linear search finds it
        return out

    @cached_property
    def _export_names_by_item(self) -> dict[tuple[str, int], list[str]]:
        out: dict[tuple[str, int], list[str]] = {}
        for e in self.exports:
            out.setdefault((e.kind, e.index), []).append(e.name)
        return out

    def find_export(self, name: str) -> Export | None:
        return self._export_by_name.get(name)

    def get_export_names(self, kind: str, index: int) -> list[str]:
        """Export names of one item, in export order (a dict built once: Emscripten side modules export
        hundreds of thousands of items, and Session asks for every global)."""
        return list(self._export_names_by_item.get((kind, index), ()))

    @cached_property
    def start(self) -> int | None:
        h = self.get_section(8)
        if h is None:
            return None
        r = Reader(self.data, h.start, h.end)
        v = r.u32()
        r.expect_end("section 8 (start)")
        return v

    @cached_property
    def data_count(self) -> int | None:
        h = self.get_section(12)
        if h is None:
            return None
        r = Reader(self.data, h.start, h.end)
        v = r.u32()
        r.expect_end("section 12 (datacount)")
        return v

    @cached_property
    def elements(self) -> list[ElementSegment]:
        def funcs(r: Reader) -> tuple[int | None, ...]:
            return tuple(r.u32() for _ in range(r.count("element function indices")))

        def exprs(r: Reader) -> tuple[int | None, ...]:
            out = []
            for _ in range(r.count("element expressions", 2)):
                e = read_const_expr(r, "element expression")
                out.append(e.ops[0][1] if len(e.ops) == 1 and e.ops[0][0] == "ref.func" else None)
            return tuple(out)

        def elemkind(r: Reader) -> str:
            p = r.pos
            k = r.u8()
            if k != 0:
                raise ParseError(f"unknown element kind 0x{k:02x}", p)
            return "funcref"

        def entry(r: Reader, i: int) -> ElementSegment:
            off = r.pos
            flags = r.u32()
            if flags > 7:
                raise ParseError(f"unknown element segment flags {flags}", off)
            table = 0
            expr = None
            if flags in (2, 6):
                table = r.u32()
            if not flags & 1:
                expr = read_const_expr(r, f"offset of element segment {i}")
            mode = "active" if not flags & 1 else ("passive" if not flags & 2 else "declarative")
            if flags & 4:
                et = read_reftype(r, f"element segment {i}") if flags != 4 else "funcref"
                items = exprs(r)
            else:
                et = elemkind(r) if flags != 0 else "funcref"
                items = funcs(r)
            return ElementSegment(i, mode, table, expr, et, items, off)

        return self._vector(9, entry)

    @cached_property
    def functions(self) -> list[FunctionBody]:
        """Located bodies of the module's own functions (not decoded)."""
        base = self.num_imported_funcs

        def entry(r: Reader, i: int) -> FunctionBody:
            p = r.pos
            size = r.u32()
            start = r.pos
            if size > r.end - start:
                raise ParseError(f"body of function {base + i} declares {size} bytes, "
                                 f"past the end of the code section", p)
            r.pos = start + size
            return FunctionBody(base + i, start, start + size)

        bodies = self._locate_bodies(base)
        if bodies is None:  # malformed: the general reader finds and reports the exact error
            bodies = self._vector(10, entry)
        declared = len(self.function_type_indices) - base
        if len(bodies) != declared:
            h = self.get_section(10) or self.get_section(3)
            raise ParseError(f"function section declares {declared} functions but the code section has "
                             f"{len(bodies)} bodies", h.offset if h else None)
        return bodies

    def _locate_bodies(self, base: int) -> list[FunctionBody] | None:
        """Fast path of ``functions`` for a well-formed code section (None at the first oddity).

        Only the size field of each body is read, and its last byte: the index of the first body that
        does not end with the `end` opcode (a necessary condition, checked without decoding) is kept in
        ``unterminated_body`` for ``validate.check_structure``. That byte sits next to the following
        body's size field, so no extra page is read. On a memory-mapped file, the pages read are given
        back every few MiB (``MADV_DONTNEED``: clean file pages, re-read from the page cache on the next
        access), so locating 40 MB of code does not keep 40 MB resident."""
        h = self.get_section(10)
        if h is None:
            return []
        d, p, end = self.data, h.start, h.end
        mm = self._keepalive if isinstance(self._keepalive, mmap.mmap) else None
        drop = getattr(mmap, "MADV_DONTNEED", None) if mm is not None else None
        page = mmap.PAGESIZE
        dropped = (p + page - 1) // page * page
        unterminated = None
        try:
            n, p = _uleb32(d, p, end)
            out = []
            append = out.append
            for i in range(base, base + n):
                b = d[p]
                if b < 0x80:
                    size = b
                    p += 1
                else:
                    size, p = _uleb32(d, p, end)
                q = p + size
                if q > end:
                    return None
                if unterminated is None and (size < 2 or d[q - 1] != 0x0B):  # locals count, then `end` at least
                    unterminated = i
                append(FunctionBody(i, p, q))
                p = q
                if drop is not None and p - dropped > _DROP_CHUNK:
                    upto = p // page * page
                    mm.madvise(drop, dropped, upto - dropped)
                    dropped = upto
        except (ParseError, IndexError):
            return None
        if drop is not None and end // page * page > dropped:
            mm.madvise(drop, dropped, end // page * page - dropped)
        self.unterminated_body = unterminated
        return out if p == end else None

    def _fast_data_segments(self) -> list[DataSegment] | None:
        """Fast path of ``data_segments`` for the common shapes (``flags 0, i32.const K, end`` and
        passive); None at anything else, and the general reader takes over (and reports any error).
        LEB128s of up to four bytes are decoded inline; longer ones go through the checked readers."""
        h = self.get_section(11)
        if h is None:
            return []
        d, p, end = self.data, h.start, h.end
        out = []
        append = out.append
        seg, expr_t = DataSegment, ConstExpr
        try:
            n, p = _uleb32(d, p, end)
            for i in range(n):
                off = p
                flags = d[p]
                if flags == 0 and d[p + 1] == 0x41:
                    # i32.const: a signed LEB128, decoded here up to four bytes (magnitudes below 2**27)
                    q = p + 2
                    v = shift = 0
                    while True:
                        b = d[q]
                        q += 1
                        v |= (b & 0x7F) << shift
                        shift += 7
                        if b < 0x80:
                            break
                        if shift == 28:  # five bytes: the checked reader decodes (and sign-extends) it
                            v, q = decode_sleb(d, p + 2, end, 32)
                            b = 0
                            break
                    if b & 0x40:
                        v -= 1 << shift
                    if d[q] != 0x0B:
                        return None
                    expr = expr_t((("i32.const", v),), p + 1, q + 1)
                    q += 1
                    mode = "active"
                elif flags == 1:
                    expr = None
                    q = p + 1
                    mode = "passive"
                else:
                    return None
                # the size: an unsigned LEB128
                b = d[q]
                if b < 0x80:
                    size, start = b, q + 1
                elif d[q + 1] < 0x80:
                    size, start = (b & 0x7F) | (d[q + 1] << 7), q + 2
                else:
                    size, start = _uleb32(d, q, end)
                p = start + size
                if p > end:
                    return None
                append(seg(i, mode, 0, expr, start, size, off))
        except (ParseError, IndexError):
            return None
        return out if p == end else None

    @cached_property
    def data_segments(self) -> list[DataSegment]:
        def entry(r: Reader, i: int) -> DataSegment:
            off = r.pos
            flags = r.u32()
            if flags > 2:
                raise ParseError(f"unknown data segment flags {flags}", off)
            mem = r.u32() if flags == 2 else 0
            expr = None if flags == 1 else read_const_expr(r, f"offset of data segment {i}")
            size = r.u32()
            start = r.pos
            r.skip(size) if size <= r.remaining() else self._truncated_segment(i, size, r)
            return DataSegment(i, "passive" if flags == 1 else "active", mem, expr, start, size, off)

        segs = self._fast_data_segments()
        if segs is None:
            segs = self._vector(11, entry)
        if self.data_count is not None and self.data_count != len(segs):
            h = self.get_section(12)
            raise ParseError(f"data count section says {self.data_count} segments but the data section "
                             f"has {len(segs)}", h.offset if h else None)
        return segs

    @staticmethod
    def _truncated_segment(i: int, size: int, r: Reader):
        raise ParseError(f"data segment {i} declares {size} bytes but only {r.remaining()} remain "
                         f"in the data section", r.pos)

    def get_segment_bytes(self, seg: DataSegment) -> memoryview:
        return self.data[seg.data_start: seg.data_start + seg.size]

    # -- custom sections -----------------------------------------------------------------------
    @cached_property
    def names(self):
        from .names import parse_names

        return parse_names(self)

    @cached_property
    def producers(self) -> dict[str, list[tuple[str, str]]]:
        from .producers import parse_producers

        return parse_producers(self)

    @cached_property
    def target_features(self) -> list[str]:
        from .producers import parse_target_features

        return parse_target_features(self)

    @cached_property
    def dylink(self):
        from .dylink import parse_dylink

        return parse_dylink(self)

    @cached_property
    def external_debug_info(self) -> str | None:
        h = self.get_custom_section("external_debug_info")
        return None if h is None else Reader(self.data, h.start, h.end).name()

    @cached_property
    def source_mapping_url(self) -> str | None:
        h = self.get_custom_section("sourceMappingURL")
        return None if h is None else Reader(self.data, h.start, h.end).name()

    @property
    def debug_sections(self) -> list[SectionHeader]:
        return [s for s in self.sections if s.id == 0 and s.name.startswith(".debug_")]

    def close(self) -> None:
        self.data.release() if hasattr(self.data, "release") else None
        if self._keepalive is not None:
            try:
                self._keepalive.close()
            except BufferError:
                pass
