"""Hooks: the host functions an instrumentation pass calls through its own funcref table."""

from __future__ import annotations


def install_hook(session, table_export: str, slot: int, params: tuple[str, ...], fn):
    """Puts the host function ``fn`` (``params``: its wasm parameter types, no results) into entry ``slot`` of
    the funcref table an instrumentation pass exported as ``table_export``: the pass's code calls it through
    ``call_indirect``. Returns the wasmtime Func (keep it: the table holds only a reference)."""
    import wasmtime

    types = {"i32": wasmtime.ValType.i32(), "i64": wasmtime.ValType.i64()}
    func = wasmtime.Func(session.store, wasmtime.FuncType([types[t] for t in params], []), fn)
    session.exports[table_export].set(session.store, slot, func)
    return func
