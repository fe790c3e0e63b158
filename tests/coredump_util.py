"""Coredump fixtures shared by the tests: paths of the dumps the real wasmtime CLI wrote
(tests/coredump/data, see its README) and a dump with recorded locals, which neither wasmtime nor
wasmtime-py (so neither wasmem) write, made with wasmem's own writer from wasmtime's."""

from __future__ import annotations

from pathlib import Path

DATA = Path(__file__).resolve().parent / "coredump" / "data"
CRASH_WASM = str(DATA / "crash.wasm")
CRASH_CORE = str(DATA / "crash.core")
CRASH_O0_WASM = str(DATA / "crash-O0.wasm")
CRASH_O0_CORE = str(DATA / "crash-O0.core")


def write_with_locals(path, *, source: str = CRASH_CORE, module_name: str = "crash.wasm", frames=None) -> str:
    """A copy of wasmtime's dump of crash.wasm whose frames record locals and an operand stack:
    balance_of's local 0 (its parameter ``a``) holds the corrupted pointer 0xfffff000, audit's locals
    are (head, limit, total) = (&accounts[2], 10, 5257); ``module_name`` goes into coremodules."""
    from wasmem.api import load_module
    from wasmem.model.coredump import read_coredump
    from wasmem.parser.coredump import CoreFrame, CoreThread, CoreValue, MemorySpec, write_coredump

    core = read_coredump(load_module(source))
    m = core.memories[0]
    if frames is None:
        i32 = lambda v: CoreValue("i32", v)  # noqa: E731
        old = core.frames
        frames = (
            CoreFrame(0, old[0].func_index, old[0].code_offset, (i32(-4096),),
                      (i32(7), CoreValue(None, None), CoreValue("i64", -2), CoreValue("f32", 0.5),
                       CoreValue("f64", -1.25)), 0),
            CoreFrame(0, old[1].func_index, old[1].code_offset, (i32(0x100030), i32(10), i32(5257)), (), 0),
            *old[2:],
        )
    with open(path, "wb") as f:
        write_coredump(f, name=module_name, memories=[MemorySpec(m.pages, m.read)],
                       globals=[(t, False, v) for t, v in core.globals], modules=[module_name],
                       instances=list(core.sections.instances), threads=[CoreThread("main", tuple(frames))])
    return str(path)


def _sections(data: bytes):
    """(id, raw bytes of the whole section) of a wasm binary, in file order."""
    from wasmem.parser.reader import Reader

    r = Reader(data, 8, len(data))
    while not r.at_end():
        start = r.pos
        sid = r.u8()
        size = r.u32()
        r.skip(size)
        yield sid, data[start:r.pos]


def write_dump(path, segments, *, source: str = CRASH_CORE, pages: int | None = None, is64: bool = False,
               flags: int | None = None, max_pages: int | None = None, page_log2: int | None = None) -> str:
    """A copy of the dump ``source`` (its globals, instances, frames, names) whose memory 0 holds the
    ``segments`` (address, bytes), written in this file order (any order, overlaps allowed), with ``pages``
    (default: the source's) of a 32-bit or memory64 (``is64``) memory, with ``max_pages`` and a custom page
    size of 2**``page_log2`` bytes when given; ``flags`` overrides the limits flags byte. The data section goes last, after the custom sections, as the format allows."""
    from wasmem.parser.encode import encode_section, sleb, uleb

    data = open(source, "rb").read()
    if pages is None:
        from wasmem.api import load_module

        pages = load_module(source, validate=False).memories[0].type.min_pages
    if flags is None:
        flags = (4 if is64 else 0) | (1 if max_pages is not None else 0) | (8 if page_log2 is not None else 0)
    memtype = bytes([flags]) + uleb(pages) + (uleb(max_pages) if max_pages is not None else b"")
    memtype += uleb(page_log2) if page_log2 is not None else b""
    out = data[:8]
    for sid, raw in _sections(data):
        if sid == 5:
            raw = encode_section(5, uleb(1) + memtype)
        elif sid == 11:
            continue
        out += raw
    body = uleb(len(segments))
    for addr, chunk in segments:
        bits = 64 if is64 else 32
        const = (b"\x42" if is64 else b"\x41") + sleb(addr if addr < 1 << (bits - 1) else addr - (1 << bits))
        body += b"\0" + const + b"\x0b" + uleb(len(chunk)) + bytes(chunk)
    out += encode_section(11, body)
    with open(path, "wb") as f:
        f.write(out)
    return str(path)
