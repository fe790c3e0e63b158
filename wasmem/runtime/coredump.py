"""Writes a standard coredump (tool-conventions Coredump.md) of a session's instance when a call traps.

wasmtime-py cannot write coredumps, so wasmem does: every memory of the instance (defined and imported,
at its current size), every global (defined and imported: the session exports non-exported ones, see
``Session.__init__``), and the frames wasmtime reported for the trap with the function index and the
code offset relative to the function body in the *original* module (the session may run an instrumented
copy: offsets are mapped back through the frames' original module offsets). wasmtime-py does not expose
locals or the operand stack, so frames carry none.
"""

from __future__ import annotations

import os

from ..errors import UsageError
from ..parser.coredump import CoreFrame, CoreInstance, CoreThread, MemorySpec, write_coredump

_NUMERIC = ("i32", "i64", "f32", "f64")


def _host_callee(module, offset: int | None) -> int | None:
    """The imported function a ``call`` at file ``offset`` calls, or None (another instruction, a defined
    function). wasmtime reports a trap raised inside a host function at the wasm ``call`` that entered it."""
    if offset is None or not 0 <= offset < module.size or module.data[offset] != 0x10:
        return None
    from ..parser.reader import Reader

    try:
        idx = Reader(module.data, offset + 1).u32()
    except Exception:  # noqa: BLE001 - not a well-formed immediate: not a call we can name
        return None
    return idx if idx < module.num_imported_funcs else None


def _frames(session, trap) -> tuple[CoreFrame, ...]:
    bodies = {b.index: b for b in session.module.functions}
    out = []
    if trap.frames:  # a trap raised by a host function: the host function is the youngest frame
        host = _host_callee(session.module, trap.frames[0].module_offset)
        if host is not None:
            out.append(CoreFrame(0, host, 0, (), (), 0))
    for f in trap.frames:
        body = bodies.get(f.func_index)
        off = 0
        if body is not None and f.module_offset is not None and body.start <= f.module_offset <= body.end:
            off = f.module_offset - body.start
        out.append(CoreFrame(0, f.func_index, off, (), (), 0))
    return tuple(out)


def session_coredump(session, path: str | os.PathLike, trap, *, name: str | None = None) -> int:
    """Writes the coredump of ``session``'s instance at ``trap`` (a TrapInfo) to ``path``; returns its size.
    Call it before anything resets the instance (the stack pointer is taken from ``trap.sp`` when known).
    Globals of a type the format cannot hold as a constant here (v128, references) are written as zero /
    null of a matching type, so the global index space stays aligned with the module's."""
    module = session.module
    mems = []
    for i in range(len(module.memories)):
        info = session.memory(i)
        mems.append(MemorySpec(info.pages, (lambda a, n, i=i: session.read(a, n, i)), info.max_pages, info.is64,
                               info.shared))
    globals_ = []
    for g in module.globals:
        t = g.type.valtype
        if g.index == session.sp_global and trap.sp is not None:
            v = trap.sp
        else:
            try:
                v = session.get_global(g.index)
            except Exception:  # noqa: BLE001 - a global wasmtime-py cannot read (v128)
                v = None
        if t not in _NUMERIC:
            globals_.append((t, False, None))
        else:
            globals_.append((t, False, v if isinstance(v, (int, float)) else 0))
    base = os.path.basename(module.path) if module.path else "module.wasm"
    name = name or base
    inst = CoreInstance(0, tuple(range(len(mems))), tuple(range(len(globals_))))
    try:
        with open(path, "wb") as f:
            return write_coredump(f, name=name, memories=mems, globals=globals_, modules=[base], instances=[inst],
                                  threads=[CoreThread("main", _frames(session, trap))])
    except OSError as exc:
        raise UsageError(f"cannot write the coredump {os.fspath(path)}: {exc.strerror}") from None
