"""WebAssembly coredumps (tool-conventions ``Coredump.md``): read their custom sections, write whole dumps.

A coredump is itself a wasm module: memories in the memory section with their contents as active data
segments, globals as constants in the global section, and four custom sections::

    core          ::= 0x00 executable-name:name
    coremodules   ::= vec(0x00 module-name:name)
    coreinstances ::= vec(0x00 moduleidx:u32 memories:vec(u32) globals:vec(u32))
    corestack     ::= 0x00 thread-name:name vec(frame)            (one section per thread)
    frame         ::= 0x00 instanceidx:u32 funcidx:u32 codeoffset:u32 locals:vec(value) stack:vec(value)
    value         ::= 0x01 (missing) | 0x7F i32 (sleb) | 0x7E i64 (sleb) | 0x7D f32 | 0x7C f64

``funcidx`` is an index of the module's function space (imports first); ``codeoffset`` is relative to
the function body's start (just after the body's size). An instance's ``memories``/``globals`` map its
own index spaces to the dump's memory/global sections. Reading touches only the section headers and the
custom sections here; memory contents are reached through the data segments when read (model.coredump).
"""

from __future__ import annotations

import struct
from dataclasses import dataclass

from ..errors import ParseError
from .encode import encode_name, encode_section, sleb, uleb
from .module import WasmModule
from .reader import DROP_BYTES, Reader, decode_sleb, decode_uleb, drop_pages

VALUE_TYPES = {0x7F: "i32", 0x7E: "i64", 0x7D: "f32", 0x7C: "f64"}
VALUE_CODES = {v: k for k, v in VALUE_TYPES.items()}
MISSING = 0x01


@dataclass(frozen=True, slots=True)
class CoreValue:
    """A local or operand-stack value of a frame; ``type`` None means the dump marks it missing."""

    type: str | None
    value: int | float | None

    def to_dict(self) -> dict:
        return {"type": self.type, "value": self.value}


@dataclass(frozen=True, slots=True)
class CoreFrame:
    instance: int
    func_index: int
    code_offset: int  # relative to the function body's start (after its size)
    locals: tuple[CoreValue, ...]
    stack: tuple[CoreValue, ...]
    offset: int  # file offset of the frame's entry


@dataclass(frozen=True, slots=True)
class CoreInstance:
    module: int
    memories: tuple[int, ...]
    globals: tuple[int, ...]


@dataclass(frozen=True, slots=True)
class CoreThread:
    name: str
    frames: tuple[CoreFrame, ...]  # youngest first


@dataclass(frozen=True, slots=True)
class CoreSections:
    name: str | None  # the `core` section's executable name
    modules: tuple[str, ...]
    instances: tuple[CoreInstance, ...]
    threads: tuple[CoreThread, ...]


def is_coredump(module: WasmModule) -> bool:
    return module.get_custom_section("core") is not None


def _reader(module: WasmModule, name: str) -> Reader | None:
    h = module.get_custom_section(name)
    if h is None:
        return None
    return Reader(module.data, h.start, h.end)  # the header's start is past the section's name


def _marker(r: Reader, what: str) -> None:
    off = r.pos
    b = r.u8()
    if b != 0:
        raise ParseError(f"{what} starts with {b:#04x}, expected 0x00", off)


def _value(r: Reader) -> CoreValue:
    off = r.pos
    code = r.u8()
    if code == MISSING:
        return CoreValue(None, None)
    t = VALUE_TYPES.get(code)
    if t == "i32":
        return CoreValue(t, r.s32())
    if t == "i64":
        return CoreValue(t, r.s64())
    if t == "f32":
        return CoreValue(t, r.f32())
    if t == "f64":
        return CoreValue(t, r.f64())
    raise ParseError(f"unknown coredump value type {code:#04x}", off)


def _values(r: Reader, what: str) -> tuple[CoreValue, ...]:
    n = r.count(what)
    return tuple(_value(r) for _ in range(n))


def _u32s(r: Reader, what: str) -> tuple[int, ...]:
    n = r.count(what)
    return tuple(r.u32() for _ in range(n))


def read_core_sections(module: WasmModule) -> CoreSections:
    """The coredump's custom sections (ParseError for a malformed one, or when ``core`` is missing:
    then the file is a module, not a coredump)."""
    r = _reader(module, "core")
    if r is None:
        raise ParseError("not a WebAssembly coredump: no `core` custom section (is this the module?)", None)
    _marker(r, "the `core` section")
    name = r.name()
    r.expect_end("the `core` section")

    modules: list[str] = []
    r = _reader(module, "coremodules")
    if r is not None:
        for _ in range(r.count("coremodules")):
            _marker(r, "a coremodules entry")
            modules.append(r.name())
        r.expect_end("the `coremodules` section")

    instances: list[CoreInstance] = []
    r = _reader(module, "coreinstances")
    if r is not None:
        for _ in range(r.count("coreinstances")):
            _marker(r, "a coreinstances entry")
            mod = r.u32()
            mems = _u32s(r, "instance memories")
            globs = _u32s(r, "instance globals")
            instances.append(CoreInstance(mod, mems, globs))
        r.expect_end("the `coreinstances` section")

    threads: list[CoreThread] = []
    for h in module.get_custom_sections("corestack"):
        r = Reader(module.data, h.start, h.end)
        _marker(r, "the `corestack` section")
        tname = r.name()
        frames = []
        for _ in range(r.count("corestack frames")):
            off = r.pos
            _marker(r, "a corestack frame")
            inst, func, code_off = r.u32(), r.u32(), r.u32()
            frames.append(CoreFrame(inst, func, code_off, _values(r, "frame locals"), _values(r, "frame stack"), off))
        r.expect_end("the `corestack` section")
        threads.append(CoreThread(tname, tuple(frames)))
    return CoreSections(name, tuple(modules), tuple(instances), tuple(threads))


# -- writing -------------------------------------------------------------------------------------
@dataclass(frozen=True)
class MemorySpec:
    """One memory to write: its current size in pages, declared maximum, index type, shared flag, and
    ``read(addr, n) -> bytes`` for its contents (``size`` = pages * 64 KiB bytes)."""

    pages: int
    read: object
    max_pages: int | None = None
    is64: bool = False
    shared: bool = False

    @property
    def size(self) -> int:
        return self.pages * 65536


CHUNK = 4096  # memory is written in chunks; each chunk's zero ends are trimmed (as wasmtime does)


def _runs(mem: MemorySpec, chunk: int = CHUNK):
    """(address, length) of the non-zero part of each chunk of ``mem`` that has one, read in 1 MiB
    blocks (so a 4 GiB memory is never one bytes object)."""
    block = 1 << 20
    size = mem.size
    for base in range(0, size, block):
        data = mem.read(base, min(block, size - base))
        if not data.strip(b"\0"):
            continue
        for off in range(0, len(data), chunk):
            piece = data[off:off + chunk]
            s = len(piece) - len(piece.lstrip(b"\0"))
            if s == len(piece):
                continue
            e = len(piece.rstrip(b"\0"))
            yield base + off + s, e - s


def _memtype(m: MemorySpec) -> bytes:
    flags = (1 if m.max_pages is not None else 0) | (2 if m.shared else 0) | (4 if m.is64 else 0)
    out = bytes([flags]) + uleb(m.pages)
    if m.max_pages is not None:
        out += uleb(m.max_pages)
    return out


_REF_TOPS = {"funcref": 0x70, "externref": 0x6F}


def _global_type(valtype: str) -> bytes:
    """The dump's type of a global: numeric types as they are; v128; a reference as its top type's
    nullable form (funcref, externref, else anyref), since every reference is written as null."""
    if valtype in VALUE_CODES:
        return bytes([VALUE_CODES[valtype]])
    if valtype == "v128":
        return b"\x7b"
    return bytes([_REF_TOPS.get(valtype, 0x6E)])


def _const(valtype: str, value) -> bytes:
    if valtype == "v128":
        return b"\xfd\x0c" + bytes(16) + b"\x0b"  # wasmtime-py cannot read a v128: zeros
    if valtype not in VALUE_CODES:
        return b"\xd0" + bytes([_REF_TOPS.get(valtype, 0x6E)]) + b"\x0b"  # ref.null of the top type
    if valtype == "i32":
        v = int(value) & 0xFFFFFFFF
        return b"\x41" + sleb(v - (1 << 32) if v >> 31 else v) + b"\x0b"
    if valtype == "i64":
        v = int(value) & 0xFFFFFFFFFFFFFFFF
        return b"\x42" + sleb(v - (1 << 64) if v >> 63 else v) + b"\x0b"
    if valtype == "f32":
        return b"\x43" + struct.pack("<f", value) + b"\x0b"
    if valtype == "f64":
        return b"\x44" + struct.pack("<d", value) + b"\x0b"
    raise AssertionError(valtype)


def _encode_value(v: CoreValue) -> bytes:
    if v.type is None:
        return bytes([MISSING])
    code = VALUE_CODES[v.type]
    if v.type == "i32":
        return bytes([code]) + sleb(((int(v.value) + (1 << 31)) & 0xFFFFFFFF) - (1 << 31))
    if v.type == "i64":
        return bytes([code]) + sleb(((int(v.value) + (1 << 63)) & 0xFFFFFFFFFFFFFFFF) - (1 << 63))
    return bytes([code]) + struct.pack("<f" if v.type == "f32" else "<d", v.value)


def _custom(name: str, payload: bytes) -> bytes:
    return encode_section(0, encode_name(name) + payload)


def write_coredump(out, *, name: str, memories: list[MemorySpec], globals: list[tuple[str, bool, object]],
                   modules: list[str], instances: list[CoreInstance], threads: list[CoreThread]) -> int:
    """Writes a coredump to the binary file ``out``; returns the bytes written. ``globals`` are
    (valtype, mutable, value); v128 and reference globals are written as zeros / null. Memory
    contents are streamed: the data section's segments are found in a first pass over each memory and
    copied in a second, so a large memory is never held whole."""
    written = 0

    def put(b: bytes) -> None:
        nonlocal written
        out.write(b)
        written += len(b)

    put(b"\0asm\x01\0\0\0")
    put(_custom("core", b"\0" + encode_name(name)))
    if memories:
        put(encode_section(5, uleb(len(memories)) + b"".join(_memtype(m) for m in memories)))
    if globals:
        body = b"".join(_global_type(t) + (b"\x01" if mut else b"\x00") + _const(t, v) for t, mut, v in globals)
        put(encode_section(6, uleb(len(globals)) + body))
    segs: list[tuple[int, int, int]] = []  # (memory, address, length)
    for i, m in enumerate(memories):
        segs.extend((i, a, n) for a, n in _runs(m))
    if segs:
        heads = []
        size = len(uleb(len(segs)))
        for mi, a, n in segs:
            off = _const("i64" if memories[mi].is64 else "i32", a)
            head = (b"\0" if mi == 0 else b"\x02" + uleb(mi)) + off + uleb(n)
            heads.append(head)
            size += len(head) + n
        put(b"\x0b" + uleb(size) + uleb(len(segs)))
        for (mi, a, n), head in zip(segs, heads, strict=True):
            put(head)
            put(bytes(memories[mi].read(a, n)))
    put(_custom("coremodules", uleb(len(modules)) + b"".join(b"\0" + encode_name(m) for m in modules)))
    body = uleb(len(instances))
    for inst in instances:
        body += b"\0" + uleb(inst.module) + uleb(len(inst.memories)) + b"".join(uleb(x) for x in inst.memories)
        body += uleb(len(inst.globals)) + b"".join(uleb(x) for x in inst.globals)
    put(_custom("coreinstances", body))
    for th in threads:
        body = b"\0" + encode_name(th.name) + uleb(len(th.frames))
        for f in th.frames:
            body += b"\0" + uleb(f.instance) + uleb(f.func_index) + uleb(f.code_offset)
            body += uleb(len(f.locals)) + b"".join(_encode_value(v) for v in f.locals)
            body += uleb(len(f.stack)) + b"".join(_encode_value(v) for v in f.stack)
        put(_custom("corestack", body))
    return written


# -- the data section, entry by entry --------------------------------------------------------------
class DataScanner:
    """Reads a dump's data section one entry at a time, on demand: ``next()`` gives (memory, address,
    file offset of the bytes, length) of the next active segment, None at the end. A dump of a large
    memory has tens of thousands of segments interleaved with their bytes; reading them all would page in
    the whole file, so readers ask only for as many as an address needs (see model.coredump)."""

    def __init__(self, module: WasmModule):
        from .module import read_const_expr

        self._const = read_const_expr
        h = module.get_section(11)
        self._r = Reader(module.data, h.start, h.end) if h is not None else None
        self._left = self._r.count("data segments", 3) if self._r is not None else 0
        self._index = 0
        self.done = self._left == 0
        self._since = self._r.pos if self._r is not None else 0  # headers scanned since pages were given back

    def next(self) -> tuple[int, int, int, int] | None:
        while self._left:
            r, i = self._r, self._index
            got = self._usual(r)
            if got is not None:
                return got
            self._left -= 1
            self._index += 1
            off = r.pos
            flags = r.u32()
            if flags > 2:
                raise ParseError(f"unknown data segment flags {flags}", off)
            mem = r.u32() if flags == 2 else 0
            expr = None if flags == 1 else self._const(r, f"offset of data segment {i}")
            size = r.u32()
            start = r.pos
            r.skip(size)
            if r.pos - self._since > DROP_BYTES:  # walking a 256 MiB dump's headers must not keep it resident
                drop_pages(r.data, self._since, r.pos)
                self._since = r.pos
            if expr is None:
                continue  # passive: not memory contents
            addr = expr.evaluate()
            if not isinstance(addr, int):
                raise ParseError(f"data segment {i} of the coredump has no constant address", off)
            bits = 32 if expr.ops and expr.ops[-1][0].startswith("i32.") else 64
            return mem, addr & ((1 << bits) - 1), start, size
        if not self.done:
            self.done = True
            if self._r is not None:
                self._r.expect_end("the data section")
        return None

    def _usual(self, r: Reader) -> tuple[int, int, int, int] | None:
        """The entry at ``r.pos`` when it is what wasmtime and wasmem write (flags 0, an ``i32.const`` or
        ``i64.const`` offset), decoded without building its constant expression (a 256 MiB dump has 65,536
        of them); None for any other entry, or a damaged one: ``next`` then reads it the general way and
        says what is wrong."""
        d, p, n = r.data, r.pos, r.end
        if p + 2 >= n or d[p] != 0 or d[p + 1] not in (0x41, 0x42):
            return None
        bits = 32 if d[p + 1] == 0x41 else 64
        try:
            addr, q = decode_sleb(d, p + 2, n, bits)
            if q >= n or d[q] != 0x0B:
                return None
            size, q = decode_uleb(d, q + 1, n)
        except ParseError:
            return None
        if q + size > n:
            return None
        r.pos = q + size
        self._left -= 1
        self._index += 1
        if r.pos - self._since > DROP_BYTES:
            drop_pages(r.data, self._since, r.pos)
            self._since = r.pos
        return 0, addr & ((1 << bits) - 1), q, size
