"""A user call (``Session.call``), step by step: plan it (the export, its signature, every argument parsed
and checked before memory is touched), place the arguments (the hidden result slot on the linear stack,
strings and bytes through the module's allocator or on the stack, the host profile's own strings), run it
between two images of memory with the observers around it, and give back what wasmem took (the stack
pointer it moved, the blocks it allocated).

Also the guest-side helpers every host profile and shell command shares: calling the module's allocator
and its free."""

from __future__ import annotations

import time
from dataclasses import dataclass, field

from ..errors import RunError, UsageError
from ..model.values import (
    MemoryArg,
    decode_fields,
    parse_arg,
    parse_layout,
    parse_memory_arg,
    parse_write,
)
from .hosts import HostString
from .memory import MAX_RANGES, deadline_tick, diff_memory
from .readside import function_signature
from .results import Allocation, CallResult, MemoryGrowth, SretResult, TrapInfo

ALLOCATORS = (("allocate", "deallocate"), ("malloc", "free"), ("__wbindgen_malloc", "__wbindgen_free"),
              ("alloc", "dealloc"), ("cabi_realloc", None))


def _align_up(n: int, a: int) -> int:
    return (n + a - 1) // a * a


@dataclass
class CallPlan:
    """A call checked and parsed, before anything is written: ``plan`` holds numbers, MemoryArgs (data placed
    in memory) and HostStrings, one per user argument."""

    name: str
    args: list[str]
    params: tuple
    results: tuple
    signature: str
    sret: bool
    layout: object
    ret_size: int
    plan: list
    writes: list


@dataclass
class CallContext:
    """One user call as the observers see it: the stack pointer it is made with, the bytes wasmem wrote for it,
    the images of every memory before it; ``painted`` is the stack probe's."""

    sp: int | None = None
    writes: list = field(default_factory=list)
    before: dict = field(default_factory=dict)
    painted: tuple | None = None


# -- planning ---------------------------------------------------------------------------------------
def find_function(module, name: str, module_name: str):
    e = module.find_export(name)
    if e is None or e.kind != "func":
        funcs = [x.name for x in module.exports if x.kind == "func"]
        close = [f for f in funcs if name.lower() in f.lower() or f.lower() in name.lower()][:5]
        hint = f"; did you mean {', '.join(close)}?" if close else (
            f"; exported functions: {', '.join(funcs[:12])}{'…' if len(funcs) > 12 else ''}" if funcs
            else "; the module exports no functions")
        raise UsageError(f"{name!r} is not an exported function of {module_name}{hint}")
    return e.index, module.get_function_type(e.index)


def refuse_init(session, name: str) -> None:
    if name in session.init_functions:
        what = {"_initialize": "a WASI reactor's _initialize runs once, before any other export, and "
                               "wasi-libc's traps when called again",
                "__wbindgen_start": "wasm-bindgen's JS calls it once, right after instantiating",
                "__wasm_apply_data_relocs": "Emscripten's loader applies them once; again would add the "
                                            "memory base a second time"}.get(
            name, "running the constructors twice would initialise the program's data again")
        raise UsageError(f"{name} already ran when wasmem opened {session.name}: {what}. Call the export you "
                         f"want directly")


def plan_call(session, name: str, args: list[str], *, returns: str | None, ret_size: int, sret: bool | None,
              writes) -> CallPlan:
    """Checks the call against the export's signature and parses every argument (see ``Session.call``)."""
    session.find_function(name)
    refuse_init(session, name)
    return check_call(session.module, name, args, module_name=session.name, returns=returns, ret_size=ret_size,
                      sret=sret, writes=writes, host_arg=lambda marg: _host_arg(session, marg))


def check_call(module, name: str, args, *, module_name: str, returns: str | None = None, ret_size: int = 16,
               sret: bool | None = None, writes=(), host_arg=None) -> CallPlan:
    """The call ``name(args)`` checked against the module's parsed data alone, before anything is compiled or
    written: the export exists and is a function, the arguments are as many as its parameters (``s:``/``b:``
    fill two, a hidden result pointer one), each parses as its parameter's type, ``returns`` and ``writes``
    parse. ``host_arg`` (marg → marg) gives the host profile's own string convention (see ``host_strings``).
    A UsageError names what is wrong; the plan it returns is what ``Session.call`` runs."""
    args = list(args)
    func_index, ft = find_function(module, name, module_name)
    params = ft.params
    ptr_t = "i64" if module.is_memory64 else "i32"
    layout = parse_layout(returns) if returns else None

    def signature(skip: int = 0) -> str:
        return function_signature(module, func_index, ft, skip=skip)

    mem_args = [parse_memory_arg(a) for a in args]
    if host_arg is not None:
        mem_args = [host_arg(m) for m in mem_args]
    slots = sum(m.slots if m is not None else 1 for m in mem_args)
    could_sret = bool(not ft.results and params and params[0] == ptr_t)
    if sret is None:
        sret = returns is not None
    if sret and not could_sret:
        why = "it returns values" if ft.results else f"its first parameter is not an {ptr_t} pointer"
        raise UsageError(f"{name}{signature()} has no hidden result pointer ({why}): drop --sret/--returns")
    if slots != len(params) - (1 if sret else 0):
        shown = signature(skip=1 if sret else 0)
        extra = f" (after the hidden {ptr_t} result pointer)" if sret else ""
        hint = ""
        if not sret and could_sret and slots == len(params) - 1:
            hint = ("; if it returns a struct through a hidden pointer (its first parameter), pass --sret or "
                    "--returns LAYOUT")
        raise UsageError(f"{name} expects {shown}{extra} but got {len(args)} argument"
                         f"{'' if len(args) == 1 else 's'}" + (f": {' '.join(args)}" if args else "") + hint)
    sig = signature(skip=1 if sret else 0)
    pre_writes = [parse_write(w) for w in writes]

    plan: list = []  # ints/floats, or MemoryArg for data placed in memory
    k = 1 if sret else 0
    for i, a in enumerate(args):
        marg = mem_args[i]
        if marg is not None:
            want = params[k:k + marg.slots]
            if any(t not in ("i32", "i64") for t in want):
                what = "a (ptr, len) pair" if marg.pair else "a pointer"
                at = f"parameter {k + 1 - (1 if sret else 0)}"
                if marg.pair:
                    at = f"parameters {k + 1 - (1 if sret else 0)}-{k + 2 - (1 if sret else 0)}"
                raise UsageError(f"{name}: argument {i + 1} {a[:20]!r} is {what} but {at} "
                                 f"{'are' if marg.pair else 'is'} {', '.join(want)}; {name} expects {sig}")
            plan.append(marg)
            k += marg.slots
        else:
            try:
                plan.append(parse_arg(a, params[k]))
            except UsageError as exc:
                raise UsageError(f"{name}: argument {i + 1}: {exc.message}; {name} expects {sig}") from None
            k += 1
    return CallPlan(name, args, params, ft.results, sig, bool(sret), layout, ret_size, plan, pre_writes)


def host_strings(profile, guest):
    """The ``host_arg`` of ``check_call`` for a host profile: an ``s:`` argument the profile passes its own
    way (AssemblyScript: one String pointer) becomes a HostString. ``guest`` needs only its ``module``
    before the instance exists (``Guest(module, ...)``)."""
    def host_arg(marg):
        if marg is not None and marg.pair and marg.text and profile.takes_string(guest):
            return HostString(marg.data, profile.string_pair, True, profile.name)
        return marg
    return host_arg


def _host_arg(session, marg):
    """An ``s:`` argument the host profile passes its own way (AssemblyScript: one String pointer)."""
    return host_strings(session.host_choice.profile, session.guest)(marg)


# -- running ------------------------------------------------------------------------------------------
def run_call(session, p: CallPlan, *, alloc: str | None) -> CallResult:
    result = CallResult(p.name, p.signature, [], p.params, p.results, user_args=list(p.args))
    sp0 = session.get_sp()
    result.sp_before = sp0
    session.host.calls.clear()
    session.host.dropped = 0
    session.output.take()  # drop anything left from earlier calls
    frees: list[tuple[str, int, int]] = []
    call = CallContext(writes=result.writes)  # call.sp: the stack pointer the export gets (after wasmem's moves)
    t0 = time.perf_counter()
    try:
        sret_addr = _place_arguments(session, p, result, frees, alloc, sp0)
        _invoke_between_images(session, p, result, call, t0)
        if sret_addr is not None:
            data = session.read(sret_addr, p.layout.size if p.layout else p.ret_size)
            fields = [(f.name, f.type, v) for f, v in decode_fields(data, p.layout)] if p.layout else []
            result.sret = SretResult(sret_addr, len(data), data, p.layout, fields)
    finally:
        _give_back(session, result, call, sp0, frees)
    return result


def _place_arguments(session, p: CallPlan, result: CallResult, frees: list, alloc, sp0) -> int | None:
    """Writes what the arguments need into memory and sets ``result.args``; returns the sret slot's address."""
    allocator = None
    values: list = []
    sret_addr = None
    if p.sret:
        size = max(16, _align_up(p.layout.size if p.layout else p.ret_size, 16))
        if sp0 is None:
            raise UsageError(f"{p.name} returns through a hidden pointer but this module has no known "
                             f"stack pointer to allocate the slot on")
        sret_addr = sp0 - size
        _check_stack_room(session, sret_addr, size)
        session.write(sret_addr, b"\0" * size)
        session.set_sp(sret_addr)
        values.append(sret_addr)
    for i, item in enumerate(p.plan):
        if isinstance(item, HostString):  # the host profile's own convention (AssemblyScript's String)
            values += _place_host_string(session, item, p.args[i], result.allocations, frees)
        elif isinstance(item, MemoryArg):
            data = item.data
            if allocator is None:
                allocator = find_allocator(session.module, alloc) or False
            if allocator:
                owned = session.host_choice.profile.callee_owns_args
                if not owned and item.pair and allocator[0] not in NO_NUL:
                    # a NUL past the length, as C hosts give one (QuickJS's JS_Eval reads input[len], documented
                    # as required: without it every eval read a byte past wasmem's block, issue 25)
                    data = data + b"\0"
                ptr = allocate(session, allocator[0], len(data) if owned else max(1, len(data)))
                if allocator[1] and not owned:
                    frees.append((allocator[1], ptr, max(1, len(data))))
                via = allocator[0]
            else:
                sp = session.get_sp()
                if sp is None:
                    raise UsageError(f"argument {p.args[i][:20]!r}: the module exports no allocator "
                                     f"(allocate, malloc, __wbindgen_malloc, cabi_realloc) and has no "
                                     f"known stack pointer; pass --alloc NAME")
                ptr = sp - max(16, _align_up(len(data) + 1, 16))
                _check_stack_room(session, ptr, len(data))
                session.set_sp(ptr)
                via = "stack"
            session.write(ptr, data)
            n = len(item.data)  # (without the NUL added above)
            result.allocations.append(Allocation(p.args[i], ptr, n, via))
            values += [ptr, n] if item.pair else [ptr]
        else:
            values.append(item)
    for expr, data in p.writes:
        addr = session.resolve_address(expr)
        session.write(addr, data)
        result.writes.append((addr, data))
    result.args = values
    session.host.calls.clear()
    session.host.dropped = 0
    session.output.take()
    return sret_addr


def _invoke_between_images(session, p: CallPlan, result: CallResult, call: CallContext, t0: float) -> None:
    """The call itself: memory imaged before and after it, the observers told, the changes and growth."""
    memories = session.memories
    store = session.store
    call.before = {i: memories[i].image(store) for i in sorted(memories)}
    pages_before = {i: memories[i].pages(store) for i in sorted(memories)}
    call.sp = session.get_sp()
    observers = session.observers
    for o in observers:
        o.begin_call(call)
    out = session.invoke(session.exports[p.name], result.args)
    result.seconds = time.perf_counter() - t0
    if isinstance(out, TrapInfo):
        result.trap = out
    else:
        result.results = out
    result.sp_after = session.get_sp()
    for o in observers:
        o.end_call(call, result)
    if result.trap is not None and session.on_trap is not None:
        session.on_trap(result.trap)  # the instance as the trap left it (a coredump), before any reset
    result.limit_notes = session.memory_limit_notes()
    limit = session.spec.max_changes or MAX_RANGES
    for i in sorted(memories):
        # the image before against live memory: one image held, not two
        live = memories[i].view(store)
        found, omitted, omitted_bytes = diff_memory(i, call.before[i], live, limit=max(0, limit - len(result.changes)),
                                                    tick=deadline_tick(session.deadline, i, len(live),
                                                                       result.limit_notes))
        result.changes += found
        result.changes_omitted += omitted
        result.changes_omitted_bytes += omitted_bytes
        pn = memories[i].pages(store)
        if pn != pages_before[i]:
            result.growth.append(MemoryGrowth(i, pages_before[i], pn))


def _give_back(session, result: CallResult, call: CallContext, sp0, frees) -> None:
    result.host_calls = list(session.host.calls)
    result.host_calls_dropped = session.host.dropped
    result.stdout, result.stderr = session.output.take()
    result.stdout_truncated, result.stderr_truncated = session.output.truncated
    if sp0 is not None:
        # Give back only what wasmem took: the program's own net move of the stack pointer stays (an
        # export such as stackAlloc or __wbindgen_add_to_stack_pointer exists to move it). After a
        # trap the stack pointer is put back where the call found it, so the instance stays usable
        # (documented: a plain host leaves it where the trap did).
        try:
            after_sp = result.sp_after
            if result.trap is not None or call.sp is None or after_sp is None:
                target = sp0
            else:
                target = sp0 + (after_sp - call.sp)
            if target != session.get_sp():
                session.set_sp(target & ((1 << (64 if session.is64 else 32)) - 1))
        except Exception:  # noqa: BLE001
            pass
    for fname, ptr, size in frees:
        free(session, fname, ptr, size)
    session.host.calls.clear()
    session.output.take()


def _place_host_string(session, item, arg: str, allocations: list, frees: list) -> list:
    placed = session.host_choice.profile.encode_string(session.guest, item.data.decode("utf-8", "surrogateescape"))
    allocations.append(Allocation(arg, placed.ptr, placed.size, placed.via))
    if placed.free:
        frees.append((placed.free, placed.ptr, placed.size))
    return [placed.ptr] if placed.length is None else [placed.ptr, placed.length]


def _check_stack_room(session, addr: int, size: int) -> None:
    low = session.stack_range[0] if session.stack_range else 0
    if addr < low:
        raise UsageError(f"no room on the linear stack for {size} bytes (stack pointer near its low end {low:#x})")
    session.read(addr, size)  # bounds check


# -- the module's allocator ------------------------------------------------------------------------------
NO_NUL = frozenset({"cabi_realloc", "__wbindgen_malloc"})  # (ptr, len) with no C string reader behind them


def find_allocator(module, alloc: str | None):
    """(alloc export, free export or None) or None when the module has no allocator."""
    if alloc:
        a, _, f = alloc.partition(",")
        a = a.strip()
        e = module.find_export(a)
        if e is None or e.kind != "func":
            raise UsageError(f"--alloc {a}: not an exported function")
        f = f.strip() or dict(ALLOCATORS).get(a)
        if f and (module.find_export(f) is None):
            f = None
        return a, f
    for a, f in ALLOCATORS:
        e = module.find_export(a)
        if e is not None and e.kind == "func":
            fe = module.find_export(f) if f else None
            return a, (f if fe is not None and fe.kind == "func" else None)
    return None


def allocate(session, fname: str, size: int, align: int = 1) -> int:
    """Calls the export ``fname`` (an allocator: (size), (size, align) or cabi_realloc's four parameters) and
    returns the block's address; a trap or NULL is a RunError."""
    _, ft = session.find_function(fname)
    n = len(ft.params)
    if n == 4:  # the canonical ABI's cabi_realloc(old_ptr, old_size, align, new_size)
        args = [0, 0, align, size]
    elif n == 2:  # __wbindgen_malloc(size, align), Rust-style alloc(size, align)
        args = [size, align]
    elif n == 1:
        args = [size]
    else:
        raise UsageError(f"the allocator {fname} takes {n} parameters: wasmem knows (size), (size, align) "
                         f"and cabi_realloc's (old_ptr, old_size, align, new_size); pass --alloc NAME")
    out = session.invoke(session.exports[fname], args)
    shown = f"{fname}({', '.join(map(str, args))})"
    if isinstance(out, TrapInfo):
        raise RunError(f"the allocator {shown} trapped: {out.message}")
    if not out or not out[0]:
        raise RunError(f"the allocator {shown} returned NULL")
    return out[0] & (0xFFFFFFFF if not session.is64 else 0xFFFFFFFFFFFFFFFF)


def free(session, fname: str, ptr: int, size: int) -> None:
    """Calls the export ``fname`` (free(ptr), deallocate(ptr, size), __wbindgen_free(ptr, size, align));
    nothing when it does not exist."""
    try:
        _, ft = session.find_function(fname)
    except UsageError:
        return
    args = [ptr, size, 1][:len(ft.params)]
    if not session.is64 and ptr >= 2**31:
        args[0] = ptr - 2**32
    session.invoke(session.exports[fname], args)
