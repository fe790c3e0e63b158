"""Opening modules for the use cases: a path (binary, memory-mapped, or text assembled by wasmtime), bytes or
a WasmModule; its layout facts for a session; its symbol table (made once per module); a live session with the
layout model's stack facts; and "FUNC ARGS" call texts."""

from __future__ import annotations

import os

from ..budgets import Budgets
from ..errors import ParseError, UsageError, WasmemError, naming_file
from ..model.layout import paint_safety
from ..parser.module import WasmModule


def _is_text(path: str) -> bool:
    if path.endswith(".wat") or path.endswith(".wast"):
        return True
    with open(path, "rb") as f:
        head = f.read(64).lstrip()
    return head[:1] in (b"(", b";")


MAX_TEXT_BYTES = 64 << 20  # a .wat file is read whole and assembled: bounded


def _regular_file(path: str) -> os.stat_result:
    """stat of ``path`` when it is a regular file; a UsageError otherwise, before anything reads it (a FIFO
    would block forever, /dev/zero never ends)."""
    from ..files import regular_file

    return regular_file(path, noun="a module file")


def load_path(path: str | os.PathLike, *, validate: bool = True, memory_base: int | None = None,
              debug_file: str | os.PathLike | None = None, budgets=None) -> WasmModule:
    """Opens a binary module (memory-mapped) or a text module (`.wat`, or a file starting with "(").
    With ``validate`` (the default, and what every command does) every section is checked as `inspect`
    checks it, so no command works on a module that another rejects as malformed. ``memory_base`` is the
    ``__memory_base`` a position-independent module gets (its data's address) in the layout, the DWARF
    and a run, instead of wasmem's default (1024 aligned as its dylink section asks). ``debug_file`` names
    a separate file with the module's DWARF (a copy of the module with its .debug_* sections, as
    ``emcc -gseparate-dwarf`` writes), used instead of the module's own or its external_debug_info.
    ``budgets`` (a ``wasmem.budgets.Budgets`` or a dict NAME → units, as ``--budget NAME=N``) raises the work
    budgets of every analysis of the module (DWARF, the variables scan, the heap tracker…)."""
    path = os.fspath(path)
    if budgets is not None and not isinstance(budgets, Budgets):
        try:
            budgets = Budgets(budgets)
        except ValueError as exc:
            raise UsageError(f"budgets: {exc}") from None
    st = _regular_file(path)
    try:
        text = _is_text(path)
    except OSError as exc:
        raise UsageError(f"{path}: {exc.strerror}") from None
    if text:
        if st.st_size > MAX_TEXT_BYTES:
            raise UsageError(f"{path}: a {st.st_size}-byte text module is more than wasmem assembles "
                             f"({MAX_TEXT_BYTES} bytes); convert it to binary first")
        from ..runtime.wat import wat_to_wasm  # imports wasmtime: only for text input

        with open(path, encoding="utf-8", errors="replace") as f:
            module = WasmModule.from_bytes(wat_to_wasm(f.read()), path)
    else:
        try:
            with naming_file(path):  # a truncated or malformed file: `PATH: … (at offset 0x…)`
                module = WasmModule.from_file(path)
        except OSError as exc:
            raise UsageError(f"{path}: {exc.strerror}") from None
        except ValueError as exc:  # mmap of an unmappable file
            raise ParseError(f"{path}: cannot map the file: {exc}", 0) from None
    module.budgets = budgets or None
    if validate:
        from ..parser.validate import check_structure

        with naming_file(path):
            check_structure(module)
    if memory_base is not None:
        from ..model.globalvalues import check_memory_base

        why = check_memory_base(module, memory_base)
        if why is not None:
            raise UsageError(f"--memory-base {memory_base:#x}: {why}")
        module.memory_base = memory_base
    if debug_file is not None:
        from ..debuginfo.symbols import MAX_DEBUG_FILE_SIZE
        from ..files import regular_file

        debug_file = os.fspath(debug_file)
        regular_file(debug_file, what="--debug-file", max_size=MAX_DEBUG_FILE_SIZE,
                     size_note=f"a debug file may have ({MAX_DEBUG_FILE_SIZE >> 20} MiB)")
        module.debug_file = debug_file
    return module


def load_module(path_or_module) -> WasmModule:
    """A WasmModule from a path (binary, or text by name or content: see ``wasmem.api.load_module``),
    bytes, or an existing WasmModule."""
    if isinstance(path_or_module, WasmModule):
        return path_or_module
    if isinstance(path_or_module, (bytes, bytearray, memoryview)):
        return WasmModule.from_bytes(bytes(path_or_module))
    return load_path(path_or_module)


def layout_facts(module: WasmModule):
    """(layout, sp_global, stack_range, regions) from the layout model, as plain values for Session."""
    from ..debuginfo.layout import analyze_layout

    layout = analyze_layout(module)  # with DWARF's .bss facts: the same model `symbols` and `inspect` use
    sp_global = layout.stack_pointer.global_index if layout.stack_pointer is not None else None
    low, high = layout.stack_low, layout.stack_high
    stack_range = (low, high) if low is not None and high is not None and low < high else None
    return layout, sp_global, stack_range, list(layout.regions)


def open_session(path_or_module, *, calls=(), alloc: str | None = None, **options):
    """Loads, analyses and instantiates a module. ``options`` are Session's keyword arguments; an explicit
    ``sp_global`` / ``stack_range`` overrides what the layout model found (and is then trusted for
    painting: pass ``paint=False`` not to paint). ``calls`` and ``alloc``: the calls the command will make
    and its ``--alloc``, checked first (``check_calls``), so that a misspelt name or a wrong argument fails
    before the module is analysed and compiled."""
    module = load_module(path_or_module)
    spec = options.get("spec")
    check_calls(module, calls, alloc=alloc, host=spec.host if spec is not None else options.get("host"))
    layout, sp_global, stack_range, regions = layout_facts(module)
    if "stack_range" not in options:
        options.setdefault("paint_safe", paint_safety(layout, stack_range))
    options.setdefault("sp_global", sp_global)
    options.setdefault("stack_range", stack_range)
    from ..runtime.session import Session

    session = Session(module, **options)
    session.layout = layout
    session.regions = regions
    return session


def check_calls(module: WasmModule, calls, *, alloc: str | None = None, host: str | None = None) -> None:
    """Fail fast: every call a command will make, checked against the module's parsed data before anything is
    compiled (a large module takes minutes). Each of ``calls`` is a ``"FUNC ARGS"`` text, a ``(FUNC, ARGS)``
    pair or ``(FUNC, ARGS, KEYWORDS)`` with ``Session.call``'s ``returns``, ``ret_size``, ``sret`` and
    ``writes``; the export must be a function, the arguments as many as its parameters and each of the kind
    its parameter takes, with the wording ``Session.call`` uses (``runtime.calls.check_call``). A hidden
    result pointer is assumed where DWARF says the function returns a struct (as the commands pass it), and
    ``s:`` text takes the host profile's convention (``host``: ``--host``). ``alloc`` (``--alloc NAME[,FREE]``)
    must name an exported function. A UsageError for the first that is wrong."""
    from ..runtime.calls import check_call, find_allocator, find_function, host_strings

    if alloc:
        find_allocator(module, alloc)
    module_name = os.path.basename(module.path) if module.path else "module.wasm"  # as the Session names it
    parsed = []
    for call in calls:  # every name first: a misspelt one fails before any DWARF is read
        if isinstance(call, str):
            name, args = split_call(call)
            kw: dict = {}
        else:
            name, args, kw = (*call, {}) if len(call) == 2 else call
        parsed.append((name, list(args), dict(kw), find_function(module, name, module_name)[1]))
    if not parsed:
        return
    from ..runtime.hosts import Guest, choose_host

    profile = choose_host(module, host).profile
    host_arg = host_strings(profile, Guest(module, invoke=None, allocate=None, read=None, write=None))
    ptr_t = "i64" if module.is_memory64 else "i32"
    symbols = None
    for name, args, kw, ft in parsed:
        # DWARF (seconds to read in a large build) only where a hidden result pointer is possible at all
        if kw.get("sret") is None and kw.get("returns") is None and not ft.results and tuple(ft.params[:1]) == (ptr_t,):
            if symbols is None:
                symbols = symbols_for(module)
            kw["sret"] = dwarf_sret(symbols, module, name)
        check_call(module, name, args, module_name=module_name, host_arg=host_arg, **kw)


# -- the two commands as library calls ----------------------------------------------------------------
def split_call(text: str) -> tuple[str, list[str]]:
    """``"FUNC ARG ARG"`` (shell quoting) → (FUNC, [ARG, ARG])."""
    import shlex

    try:
        parts = shlex.split(text)
    except ValueError as exc:
        raise UsageError(f"cannot parse call {text!r}: {exc}") from None
    if not parts:
        raise UsageError("empty call: give FUNC [ARGS...]")
    return parts[0], parts[1:]


def symbols_for(module: WasmModule):
    """The module's SymbolTable (DWARF loaded lazily, only when asked for), made once per module object
    (a shell asks for it on every command)."""
    from ..debuginfo import load_symbols

    table = module.derived.get("symbols")
    if table is None:
        table = module.derived["symbols"] = load_symbols(module)
    return table


def dwarf_note(module, *, say: bool = True) -> str | None:
    """What a work budget cut in the module's symbol table so far (``SymbolTable.dwarf_note``: the DWARF, or its
    line table), or None; with ``say``, marks it said, so that ``dwarf_note_unsaid`` does not repeat it. Reads
    nothing: a table never made, or DWARF never read, cut nothing."""
    table = module.derived.get("symbols") if isinstance(module, WasmModule) else None
    note = table.dwarf_note if table is not None else None
    if note and say:
        module.derived["dwarf_note_said"] = note
    return note


def dwarf_note_unsaid(module) -> str | None:
    """``dwarf_note(module)`` unless a use case already put that note in its output."""
    note = dwarf_note(module, say=False)
    if note and module.derived.get("dwarf_note_said") != note:
        module.derived["dwarf_note_said"] = note
        return note
    return None


# -- what DWARF says about an exported function -----------------------------------------------------------
def dwarf_function(symbols, module: WasmModule, name: str):
    """The DWARF function symbol of the export ``name`` (None without DWARF)."""
    e = module.find_export(name)
    if e is None or e.kind != "func":  # first: no DWARF is read for a name that is not there
        return None
    if not any(s.name == ".debug_info" for s in module.debug_sections):
        return None
    return symbols.dwarf_function(e.index)  # only the unit holding it is read


def dwarf_sret(symbols, module: WasmModule, name: str) -> bool | None:
    """True when DWARF says the export ``name`` returns a struct (through a hidden pointer), else None
    (no opinion: the arguments then have to match the parameters one to one)."""
    rtype = return_type(dwarf_function(symbols, module, name))
    if rtype is None:
        return None
    from ..debuginfo import sizeof

    try:
        return True if rtype.strip().is_aggregate and sizeof(rtype) else None
    except WasmemError:
        return None


def return_type(fsym):
    """The DWARF return type of a function symbol (None: none known, or void)."""
    t = getattr(fsym, "type", None)
    return getattr(t, "returns", None) if t is not None else None
