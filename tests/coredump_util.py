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
