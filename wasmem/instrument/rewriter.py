"""One walk over the code section that applies a list of passes, with a new→original offset map.

A pass (see :class:`Pass`) first *sets up*: it asks the :class:`Builder` for the types, globals, tables,
functions and exports it needs. All of them are *appended* after the module's own, so no index the
module already uses moves: calls, ``ref.func``, element segments, the start function, exports and the
name section all stay valid without being touched. (That is also why no pass adds an *import*: an
imported function would shift every defined function's index. A pass that needs the host calls it
through an appended funcref table the host fills; see ``watch.py``.) Two things are re-pointed on request
only: a function's exports (:meth:`Builder.redirect_exports`) and its element-segment entries
(:meth:`Builder.redirect_elements`, so that a ``call_indirect`` through the table reaches an appended
function of the same type instead).

Then the rewriter walks the bodies once, paying only for what the passes change: a body in which no
instruction a pass wants can start (``Pass.prefixes`` narrows that, e.g. the stack pass to ``global.set SP``)
and that no pass enters is copied byte for byte with its size field, in runs of neighbouring bodies; in
the others ``skip.py``'s pattern skips the instructions no pass wants in C, and the decoder reads the rest.
For each instruction whose opcode a pass asked for, the pass
may return an :class:`Edit`: bytes to put *before* the instruction, whether to keep the instruction's
own bytes, and bytes to put *after* it. When several passes edit one instruction their edits combine in
pass order (befores concatenated, afters concatenated, the instruction kept only if every pass keeps it:
so at most one pass may replace an instruction, e.g. the heap pass turning ``return_call F`` into a tail
call of F's wrapper while the call-path pass puts its restore before it). Scratch locals a pass needs (to hold an instruction's operands
while it looks at them) come from :meth:`FunctionContext.scratch`; the body's local declarations are
re-encoded with the new groups appended after the original ones, so every original local keeps its index.
Scratch locals are reused from site to site within a body: a pass's inserted code never keeps a value in
one past the instruction it instruments.

The offset map (:meth:`Rewritten.original_offset`) is a sorted list of anchors ``(new, original, linear)``:
copied original bytes (whole copied bodies included) map linearly (``original + (offset - new)``); inserted bytes map to the original
offset of the instruction they instrument (so a trap or a backtrace inside a check points at the store
it checks, and DWARF's line table gives that store's line); appended functions map to None.

A rewrite is deterministic, so ``runtime/rewritecache.py`` keeps it on disk: a pass says what decides its
output (``Pass.cache_key``) and what its walk learned (``saved_state``/``restore_state``); :func:`restored`
sets the passes up again around a rewrite read back.

Pure stdlib: uses only ``wasmem.parser``.
"""

from __future__ import annotations

from bisect import bisect_right
from dataclasses import dataclass

from ..errors import ParseError
from ..parser.code import decode_locals, iter_instruction_tuples
from ..parser.encode import encode_name, rebuild_sections, uleb, unique_name, vector_payload
from ..parser.module import CONST_GC_OPS, CONST_SIMPLE_OPS, WasmModule, read_heaptype, read_reftype
from ..parser.reader import Reader
from .skip import needle, one_instruction, skipper

VALTYPE_CODES = {"i32": 0x7F, "i64": 0x7E, "f32": 0x7D, "f64": 0x7C, "v128": 0x7B, "funcref": 0x70}
KIND_CODES = {"func": 0, "table": 1, "memory": 2, "global": 3, "tag": 4}

__all__ = ["Builder", "Edit", "FunctionContext", "Pass", "Rewritten", "cache_key", "restored", "rewrite",
           "VALTYPE_CODES"]


@dataclass(frozen=True)
class Edit:
    """What replaces one instruction: ``before`` + (the instruction, when ``keep``) + ``after``."""

    before: bytes = b""
    keep: bool = True
    after: bytes = b""


class Pass:
    """A rewriting pass. ``ops`` are the opcodes (``parser.code`` numbering) it wants to see."""

    ops: frozenset = frozenset()

    def setup(self, b: Builder) -> None:
        """Ask ``b`` for appended types, globals, tables, functions and exports."""

    def enter(self, fn: FunctionContext) -> bytes:
        """Code to put before the body's first instruction (runs once per call of the function)."""
        return b""

    def entered(self) -> frozenset | None:
        """The function indices :meth:`enter` may put code in (setup has run), so that the other bodies can
        still be copied unread; None: any function."""
        return None

    def visit(self, fn: FunctionContext, offset: int, op: int, imm) -> Edit | None:
        """An Edit for the instruction at ``offset`` (None: leave it alone). The body's last instruction is
        its closing ``end``, at ``fn.body_end - 1``."""
        return None

    def finish(self, b: Builder) -> None:
        """Give the bodies of the functions appended in setup (``b.set_body``)."""

    def prefixes(self) -> dict[int, list[bytes]]:
        """For some of ``ops``: the byte strings every instruction of that opcode this pass would change
        starts with (e.g. ``global.set`` of one global: the opcode and each LEB128 form of its index), so
        that a body without them is copied unread. Setup has run. An opcode not named here: its first
        byte. An instruction matching none is never shown to ``visit``."""
        return {}

    # -- the on-disk cache of rewrites (runtime/rewritecache.py) --------------------------------------
    def cache_key(self) -> tuple | None:
        """Every parameter that decides what this pass writes and learns (ints, strings, bools, None), or
        None: a rewrite with this pass is never cached."""
        return None

    def saved_state(self):
        """What ``visit`` and ``finish`` learned (sites, counts), as JSON data; asked after a rewrite
        whose ``cache_key`` is not None."""
        return None

    def restore_state(self, state) -> None:
        """Takes back ``saved_state``'s data, after ``setup`` ran again, instead of the walk."""


class Builder:
    """Appended module entities. Indices are final as soon as they are handed out."""

    def __init__(self, data: bytes, module: WasmModule):
        self.data = data
        self.module = module
        self._types: list[tuple[tuple[str, ...], tuple[str, ...]]] = []
        self._globals: list[bytes] = []
        self._tables: list[bytes] = []
        self._memories: list[bytes] = []
        self._funcs: list[int] = []  # type index of each appended function
        self._bodies: dict[int, bytes] = {}
        self._exports: list[tuple[str, int, int]] = []  # (name, kind code, index)
        self._redirects: dict[int, int] = {}  # original function index → the appended one its exports get
        self._elem_redirects: dict[int, int] = {}  # original function index → the one element segments get
        self._taken = {e.name for e in module.exports}

    def func_type(self, params: tuple[str, ...], results: tuple[str, ...] = (), *, fresh: bool = False) -> int:
        """A type index for ``params -> results``: an existing function type, or an appended one. ``fresh``:
        always an appended one, a rec group of its own, as ``call_indirect`` of a host function needs (an
        existing type may sit in a larger rec group and then differ from the host function's type)."""
        if not fresh:
            for t in self.module.types:
                if t.func is not None and t.func.params == tuple(params) and t.func.results == tuple(results):
                    return t.index
        key = (tuple(params), tuple(results))
        if key in self._types:
            return len(self.module.types) + self._types.index(key)
        self._types.append(key)
        return len(self.module.types) + len(self._types) - 1

    def add_global(self, valtype: str, init: bytes, mutable: bool = True) -> int:
        """A global initialised by the constant expression ``init`` (without its ``end``)."""
        self._globals.append(bytes([VALTYPE_CODES[valtype], 1 if mutable else 0]) + init + b"\x0b")
        return len(self.module.globals) + len(self._globals) - 1

    def add_table(self, size: int) -> int:
        """A funcref table of exactly ``size`` entries (null until the host sets them)."""
        self._tables.append(bytes([0x70, 0x01]) + uleb(size) + uleb(size))
        return len(self.module.tables) + len(self._tables) - 1

    def add_memory(self, pages: int, maximum: int | None = None) -> int:
        """A 32-bit memory of ``pages`` pages, growable up to ``maximum`` (default: exactly ``pages``)
        (multi-memory: appended after the module's own)."""
        self._memories.append(b"\x01" + uleb(pages) + uleb(pages if maximum is None else maximum))
        return len(self.module.memories) + len(self._memories) - 1

    def add_function(self, type_index: int) -> int:
        self._funcs.append(type_index)
        return self.module.num_functions + len(self._funcs) - 1

    def set_body(self, func_index: int, body: bytes) -> None:
        """``body``: local declarations and instructions, ending with ``end`` (no size prefix)."""
        self._bodies[func_index] = body

    def export(self, name: str, kind: str, index: int) -> str:
        """Exports ``index`` under ``name`` (made unique); returns the name used."""
        used = unique_name(name, self._taken)
        self._taken.add(used)
        self._exports.append((used, KIND_CODES[kind], index))
        return used

    def redirect_exports(self, func_index: int, to: int) -> list[str]:
        """Every export of function ``func_index`` names function ``to`` instead (an appended wrapper with
        the same type), so that a host calling the export goes through the wrapper while the module's own
        calls, ``ref.func``, element segments and the name section keep the original. Returns the names."""
        self._redirects[func_index] = to
        return [e.name for e in self.module.exports if e.kind == "func" and e.index == func_index]

    def redirect_elements(self, func_index: int, to: int) -> int:
        """Every element-segment entry naming function ``func_index`` (a function-index vector's entry, or an
        expression ``ref.func func_index``, in active, passive and declarative segments) names function ``to``
        instead: an appended function that must have ``func_index``'s own type index, so that a
        ``call_indirect`` through the table still passes its type check. A declarative segment is appended
        that declares both functions, so that a ``ref.func`` of either in code stays valid. Returns how many
        entries were redirected."""
        self._elem_redirects[func_index] = to
        return sum(1 for seg in self.module.elements for f in seg.func_indices if f == func_index)

    def _elements_payload(self) -> bytes:
        """The element section with the redirected function indices, and one declarative segment more."""
        data, module = self.data, self.module
        red = self._elem_redirects
        out = bytearray()
        h = module.get_section(9)
        n = 0
        if h is not None:
            r = Reader(data, h.start, h.end)
            n = r.u32()
            for _ in range(n):
                flags = r.u32()
                out += uleb(flags)
                if flags in (2, 6):
                    out += uleb(r.u32())
                if not flags & 1:  # active: the offset expression, copied
                    out += _copy_const_expr(r, data, red, redirect=False)
                if flags & 4:
                    if flags & 3:  # a reference type (flags 5, 6, 7; flags 4 is funcref implicitly)
                        p = r.pos
                        read_reftype(r, "element segment")
                        out += data[p:r.pos]
                    k = r.u32()
                    out += uleb(k)
                    for _ in range(k):
                        out += _copy_const_expr(r, data, red, redirect=True)
                else:
                    if flags & 3:
                        out.append(r.u8())  # elemkind 0x00
                    k = r.u32()
                    out += uleb(k)
                    for _ in range(k):
                        f = r.u32()
                        out += uleb(red.get(f, f))
        declared = sorted(set(red) | set(red.values()))
        out += b"\x03\x00" + uleb(len(declared)) + b"".join(uleb(f) for f in declared)
        return uleb(n + 1) + bytes(out)

    def _payloads(self, bodies: bytes, nbodies: int) -> dict[int, bytes]:
        data, module = self.data, self.module
        out: dict[int, bytes] = {}
        if self._types:
            n, body = vector_payload(data, module, 1)
            extra = b"".join(bytes([0x60]) + uleb(len(p)) + bytes(VALTYPE_CODES[t] for t in p)
                             + uleb(len(r)) + bytes(VALTYPE_CODES[t] for t in r) for p, r in self._types)
            out[1] = uleb(n + len(self._types)) + body + extra
        if self._funcs:
            n, body = vector_payload(data, module, 3)
            out[3] = uleb(n + len(self._funcs)) + body + b"".join(uleb(t) for t in self._funcs)
        if self._tables:
            n, body = vector_payload(data, module, 4)
            out[4] = uleb(n + len(self._tables)) + body + b"".join(self._tables)
        if self._memories:
            n, body = vector_payload(data, module, 5)
            out[5] = uleb(n + len(self._memories)) + body + b"".join(self._memories)
        if self._globals:
            n, body = vector_payload(data, module, 6)
            out[6] = uleb(n + len(self._globals)) + body + b"".join(self._globals)
        if self._redirects:  # the original exports re-encoded, with the redirected function indices
            old = module.exports
            out[7] = uleb(len(old) + len(self._exports)) + b"".join(
                encode_name(e.name) + bytes([KIND_CODES[e.kind]])
                + uleb(self._redirects.get(e.index, e.index) if e.kind == "func" else e.index) for e in old) + b"".join(
                encode_name(name) + bytes([kind]) + uleb(idx) for name, kind, idx in self._exports)
        elif self._exports:
            n, body = vector_payload(data, module, 7)
            out[7] = uleb(n + len(self._exports)) + body + b"".join(
                encode_name(name) + bytes([kind]) + uleb(idx) for name, kind, idx in self._exports)
        if self._elem_redirects:
            out[9] = self._elements_payload()
        out[10] = uleb(nbodies) + bodies
        return out


def _copy_const_expr(r: Reader, data: bytes, red: dict[int, int], redirect: bool) -> bytes:
    """The constant expression at ``r`` (through its ``end``), with ``ref.func F`` naming ``red[F]`` when
    ``redirect``. Raises ParseError on an opcode a constant expression cannot hold."""
    out = bytearray()
    while True:
        p = r.pos
        op = r.u8()
        if op == 0x0B:
            out.append(op)
            return bytes(out)
        if op == 0xD2:
            f = r.u32()
            out += b"\xd2" + uleb(red.get(f, f) if redirect else f)
            continue
        if op == 0x41:
            r.s32()
        elif op == 0x42:
            r.s64()
        elif op == 0x43:
            r.bytes(4)
        elif op == 0x44:
            r.bytes(8)
        elif op == 0x23:
            r.u32()
        elif op == 0xD0:
            read_heaptype(r)
        elif op in CONST_SIMPLE_OPS:
            pass
        elif op == 0xFD:
            if r.u32() != 12:
                raise ParseError("element segment: a SIMD opcode other than v128.const", p)
            r.bytes(16)
        elif op == 0xFB:
            sub = r.u32()
            if sub not in CONST_GC_OPS:
                raise ParseError(f"element segment: GC opcode 0xfb {sub} is not constant", p)
            for _ in range(CONST_GC_OPS[sub][1]):
                r.u32()
        else:
            raise ParseError(f"element segment: opcode 0x{op:02x} is not allowed in a constant expression", p)
        out += data[p:r.pos]


class FunctionContext:
    """The body being rewritten: its index, parameter types, and scratch locals on demand."""

    def __init__(self, index: int, params: tuple[str, ...], declared: int, results: tuple[str, ...] = (),
                 body_end: int = 0):
        self.index = index
        self.params = params
        self.results = results
        self.body_end = body_end  # offset one past the body's closing `end` in the original
        self._next = len(params) + declared
        self._scratch: dict[tuple[str, int], int] = {}
        self.new_locals: list[str] = []

    def scratch(self, valtype: str, slot: int = 0) -> int:
        """The index of scratch local number ``slot`` of ``valtype`` (appended on first use)."""
        key = (valtype, slot)
        idx = self._scratch.get(key)
        if idx is None:
            idx = self._scratch[key] = self._next
            self._next += 1
            self.new_locals.append(valtype)
        return idx


class Rewritten:
    """The rewritten module and the map back to the original's code offsets: ``anchors``, ascending
    ``(offset in data, offset in the original or None, linear)``; or the same as three ``columns`` (the
    offsets in data, the original offsets with -1 for None, the linear flags: sequences indexable in C, e.g.
    arrays read back from the rewrite cache), from which ``anchors`` is made only when asked for."""

    def __init__(self, data: bytes, anchors=(), passes=(), *, columns=None):
        self.data = data
        self.passes = tuple(passes)
        self._anchors = tuple(anchors) if columns is None else None
        self._columns = columns

    @property
    def anchors(self) -> tuple[tuple[int, int | None, bool], ...]:
        if self._anchors is None:
            keys, olds, lins = self._columns
            self._anchors = tuple(zip(keys, (None if o < 0 else o for o in olds), map(bool, lins), strict=True))
        return self._anchors

    def columns(self):
        """(offsets in data, original offsets with -1 for None, linear flags as 0/1)."""
        if self._columns is None:
            a = self._anchors
            self._columns = ([x[0] for x in a], [-1 if x[1] is None else x[1] for x in a], [1 if x[2] else 0 for x in a])
        return self._columns

    def __repr__(self) -> str:
        return f"Rewritten({len(self.data)} bytes, {len(self.columns()[0])} anchors, {len(self.passes)} passes)"

    def original_offset(self, offset: int) -> int | None:
        """The offset in the original module of a code offset in ``data`` (e.g. a trap frame's
        ``module_offset``); None inside an appended function or before the first function body."""
        keys, olds, lins = self.columns()
        i = bisect_right(keys, offset)
        if i == 0:
            return None
        old = olds[i - 1]
        if old < 0:
            return None
        return old + (offset - keys[i - 1]) if lins[i - 1] else old


def rewrite(data, passes: list[Pass]) -> Rewritten:
    """``data`` with every pass applied in one walk over the code section. Raises ParseError on a
    module the decoder cannot read; passes raise ParseError for what they refuse.

    Only the bodies a pass may change are re-encoded: a body where no wanted instruction can start (the
    :func:`skip.needle` of every pass's ``ops`` and ``prefixes``, searched once over the whole code
    section) and that no pass enters (``Pass.entered``; any, when ``Pass.enter`` is overridden without it) is
    copied byte for byte, its size
    field included, in runs of neighbouring bodies; inside the others the instructions no pass wants are
    skipped by :func:`skip.skipper` and only the rest is decoded in Python."""
    data = bytes(data)
    module = WasmModule.from_bytes(data)
    b = Builder(data, module)
    for p in passes:
        p.setup(b)
    wanted: dict[int, list[Pass]] = {}
    for p in passes:
        for op in p.ops:
            wanted.setdefault(op, []).append(p)
    enters = [p for p in passes if type(p).enter is not Pass.enter]
    skip = skipper(frozenset(wanted))
    functions = module.functions
    entered: set[int] | None = set()  # positions in `functions` of the bodies a pass enters (None: any)
    for p in enters:
        got = p.entered()
        if got is None:
            entered = None
            break
        entered.update(i - module.num_imported_funcs for i in got)
    candidates = _candidates(data, module, passes, functions) | entered if entered is not None else None

    bodies = bytearray()
    rel: list[tuple[int, int | None, bool]] = []  # anchors relative to `bodies`
    h = module.get_section(10)
    run = _after_count(data, h.start) if h is not None else 0  # start of the bodies not yet copied
    for k, body in enumerate(functions):
        if candidates is not None and k not in candidates:
            continue  # copied with its neighbours below
        field_start = functions[k - 1].end if k else run
        if field_start > run:
            rel.append((len(bodies), run, True))
            bodies += data[run:field_start]
        run = body.end
        _rewrite_body(data, module, body, field_start, enters, wanted, skip, bodies, rel)
    if functions and functions[-1].end > run:
        rel.append((len(bodies), run, True))
        bodies += data[run:functions[-1].end]
    appended = [i for i in range(module.num_functions, module.num_functions + len(b._funcs))]
    for p in passes:
        p.finish(b)
    for idx in appended:
        body = b._bodies.get(idx)
        if body is None:
            raise ParseError(f"instrumentation: appended function {idx} has no body")
        rel.append((len(bodies), None, False))
        bodies += uleb(len(body)) + body
    count = uleb(len(module.functions) + len(appended))
    new = rebuild_sections(data, module, b._payloads(bytes(bodies), len(module.functions) + len(appended)))
    code = WasmModule.from_bytes(new).get_section(10)
    base = code.start + len(count)
    return Rewritten(new, tuple((base + o, orig, lin) for o, orig, lin in rel), tuple(passes))


def cache_key(passes: list[Pass]) -> list | None:
    """What decides a rewrite with ``passes`` besides the module: each pass's class and ``cache_key`` (None
    when a pass has none: never cached)."""
    out = []
    for p in passes:
        key = p.cache_key()
        if key is None:
            return None
        out.append([f"{type(p).__module__}.{type(p).__qualname__}", repr(key)])
    return out


def restored(data, passes: list[Pass], new: bytes, columns, states: list, module: WasmModule | None = None) -> Rewritten:
    """The :class:`Rewritten` a cached rewrite of ``data`` with ``passes`` gave (``new``, the anchors'
    ``columns`` (see :class:`Rewritten`), each
    pass's ``saved_state``): the passes set up again (their appended indices and export names are the
    same: setup depends only on the module and the pass's parameters), their walk's state restored.
    ``module``: ``data`` parsed already (its tables are read again otherwise)."""
    b = Builder(data, module if module is not None else WasmModule.from_bytes(bytes(data)))
    for p in passes:
        p.setup(b)
    for p, state in zip(passes, states, strict=True):
        p.restore_state(state)
    return Rewritten(new, passes=passes, columns=columns)


def _candidates(data: bytes, module: WasmModule, passes: list[Pass], functions) -> set[int]:
    """The positions in ``functions`` of the bodies where an instruction some pass wants may start: where the
    needle of every pass's opcodes (by ``Pass.prefixes`` where a pass gives them) occurs. A linear search
    in C over the whole code section; a hit inside an immediate only costs that body a closer look."""
    first: list[bytes] = []
    leads: set[int] = set()
    for p in passes:
        exact = p.prefixes()
        for op in p.ops:
            if op in exact:
                first += exact[op]
            else:
                leads.add(op >> 16 if op > 0xFF else op)
    pattern = needle(first, leads)
    h = module.get_section(10)
    if pattern is None or h is None or not functions:
        return set()
    ends = [f.end for f in functions]
    out: set[int] = set()
    pos, stop = functions[0].start, functions[-1].end
    search = pattern.search
    while True:
        m = search(data, pos, stop)
        if m is None:
            return out
        k = bisect_right(ends, m.start())
        out.add(k)
        pos = ends[k]  # the rest of that body is its own business


def _rewrite_body(data: bytes, module: WasmModule, body, field_start: int, enters, wanted, skip,
                  bodies: bytearray, rel: list) -> None:
    """Appends ``body`` re-encoded with the passes' edits (and its size field) to ``bodies``, its anchors to
    ``rel``; a body that no pass changed is appended as it was, its size field (from ``field_start``)
    included."""
    groups, p0 = decode_locals(data, body.start, body.end)
    ft = module.get_function_type(body.index)
    fn = FunctionContext(body.index, ft.params, sum(c for c, _ in groups), ft.results, body.end)
    out = bytearray()
    anchors: list[tuple[int, int | None, bool]] = []  # relative to `out` (instructions only)
    for p in enters:
        code = p.enter(fn)
        if code:
            anchors.append((len(out), p0, False))
            out += code
    pos = p0  # first original byte not yet copied
    changed = bool(out)
    end = body.end
    if wanted:
        for off, op, imm, q in _stops(data, p0, end, skip, wanted):
            ps = wanted[op]
            edit = None
            for ps_ in ps:
                e = ps_.visit(fn, off, op, imm)
                if e is not None:  # several passes' edits combine in pass order (at most one drops the op)
                    edit = e if edit is None else Edit(edit.before + e.before, edit.keep and e.keep,
                                                       edit.after + e.after)
            if edit is not None:
                if off > pos:
                    anchors.append((len(out), pos, True))
                    out += data[pos:off]
                _emit(data, out, anchors, (off, edit), q)
                pos = q
                changed = True
    if not changed and not fn.new_locals:  # nothing changed: the body as it was, with its own size field
        rel.append((len(bodies), field_start, True))
        bodies += data[field_start:end]
        return
    if end > pos:
        anchors.append((len(out), pos, True))
        out += data[pos:end]
    if fn.new_locals:
        nloc = uleb(len(groups) + len(fn.new_locals))
        r0 = _after_count(data, body.start)
        head = nloc + data[r0:p0] + b"".join(b"\x01" + bytes([VALTYPE_CODES[t]]) for t in fn.new_locals)
    else:
        head = data[body.start:p0]
    size = uleb(len(head) + len(out))
    base = len(bodies) + len(size)
    rel.append((base, body.start, False))  # the local declarations: only the body's start means anything
    rel += [(base + len(head) + o, orig, lin) for o, orig, lin in anchors]
    bodies += size + head + out


def _stops(data: bytes, p0: int, end: int, skip, wanted):
    """``(offset, op, imm, next offset)`` of each instruction of ``data[p0:end]`` whose op is in ``wanted``:
    ``skip`` (:func:`skip.skipper`) walks the others in C; where it stops, the decoder reads one instruction."""
    match, one = skip.match, one_instruction().match
    q = p0
    while True:
        q = match(data, q, end).end()
        if q >= end:
            return
        it = iter_instruction_tuples(data, q, end)  # the instruction the pattern stopped at, decoded
        off, op, imm = next(it)
        m = one(data, q, end)
        if m is not None:
            q = m.end()
        else:
            nxt = next(it, None)
            q = nxt[0] if nxt is not None else end
        if op in wanted:
            yield off, op, imm, q


def _after_count(data: bytes, start: int) -> int:
    p = start
    while data[p] & 0x80:
        p += 1
    return p + 1


def _emit(data: bytes, out: bytearray, anchors: list, pending: tuple[int, Edit], end: int) -> None:
    off, e = pending
    if e.before:
        anchors.append((len(out), off, False))
        out += e.before
    if e.keep:
        anchors.append((len(out), off, True))
        out += data[off:end]
    if e.after:
        anchors.append((len(out), off, False))
        out += e.after
