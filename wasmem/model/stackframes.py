"""Static stack analysis: per-function frame sizes from the prologue, the call graph, and the worst-case
stack depth of every export and of the start function.

Pure stdlib. Each function body is decoded exactly once: a small symbolic interpreter follows the
stack pointer through the operand stack and the locals (so -O0 code that passes values through
locals and -O2 ``local.tee`` prologues look the same), and the same pass collects the calls.

Frame size of a function = the largest constant it subtracts from the stack pointer it read on entry
(``global.get SP; i32.const N; i32.sub``), whether or not it writes the result back (leaf functions
use the 128-byte red zone without a ``global.set``). This is what ``clang -fstack-usage`` reports.
An over-aligned frame (``… i32.const -64; i32.and``) may lose up to ``align - 16`` more bytes to the
rounding (SP is 16-byte aligned): that is ``align_slack``, added to the worst case but not to
``size``. Subtracting a run-time value (VLA, ``alloca``) makes a frame dynamic.

Imported functions cost 0 bytes of linear stack (their frames live in the host).

The worst cases cost time and memory linear in functions + call edges, whatever the call depth: frames
are kept by column (``FrameTable``), an indirect call site is one edge to a node standing for its set
of targets, one iterative pass of Tarjan's algorithm finds the strongly connected components (recursion)
and computes each one's worst case as it completes, and a path is a chain of best-successor pointers,
walked when shown (``WorstCase.path``). No Python recursion depends on the input.

The scan over all bodies (one process or forked workers) is ``bodyscan.py``. The rest stays one file,
over 800 lines: the per-body scan fills the ``FrameTable``'s columns, and the graph solver and the JSON
read them directly (arrays behind a Mapping, private so that no caller depends on their layout); moving
either out means making those columns an interface first.
"""

from __future__ import annotations

import heapq
import re
from array import array
from collections import deque
from collections.abc import Mapping
from dataclasses import dataclass, field
from itertools import islice

from ..budgets import lift, value_of
from ..deadline import NO_DEADLINE, Deadline
from ..errors import ParseError
from ..parser.code import decode_locals, find_calls, iter_instruction_tuples
from ..parser.module import WasmModule
from ..parser.reader import drop_pages
from .bodyscan import scan_bodies

ALIGN = 16  # the C ABI keeps SP 16-byte aligned

# -- stack effects of the instructions the interpreter does not model specially ------------------
_EFFECT: dict[int, tuple[int, int]] = {}
for _op in range(0x28, 0x36):
    _EFFECT[_op] = (1, 1)  # loads
for _op in range(0x36, 0x3F):
    _EFFECT[_op] = (2, 0)  # stores
_EFFECT[0x3F] = (0, 1)  # memory.size
_EFFECT[0x40] = (1, 1)  # memory.grow
for _op in (0x45, 0x50, 0x67, 0x68, 0x69, 0x79, 0x7A, 0x7B, *range(0x8B, 0x92), *range(0x99, 0xA0),
            *range(0xA7, 0xC5)):
    _EFFECT[_op] = (1, 1)  # eqz, clz/ctz/popcnt, float unary, conversions, sign extension
for _op in (*range(0x46, 0x50), *range(0x51, 0x67), *range(0x6A, 0x79), *range(0x7C, 0x8B),
            *range(0x92, 0x99), *range(0xA0, 0xA7)):
    _EFFECT.setdefault(_op, (2, 1))  # comparisons and binary arithmetic
_EFFECT[0x1A] = (1, 0)  # drop
_EFFECT[0x1B] = (3, 1)  # select
_EFFECT[0x1C] = (3, 1)
_EFFECT[0x43] = (0, 1)  # f32.const
_EFFECT[0x44] = (0, 1)  # f64.const
_EFFECT[0xD0] = (0, 1)  # ref.null
_EFFECT[0xD1] = (1, 1)  # ref.is_null
_EFFECT[0xD2] = (0, 1)  # ref.func
_EFFECT[0x25] = (1, 1)  # table.get
_EFFECT[0x26] = (2, 0)  # table.set
_EFFECT[0x04] = (1, 0)  # if
_EFFECT[0x0D] = (1, 0)  # br_if
for _sub in range(8):
    _EFFECT[0xFC0000 | _sub] = (1, 1)  # saturating truncation
for _sub in (8, 10, 11, 12, 14):
    _EFFECT[0xFC0000 | _sub] = (3, 0)  # memory.init/copy/fill, table.init/copy
_EFFECT[0x02] = (0, 0)  # block
_EFFECT[0x03] = (0, 0)  # loop
_EFFECT[0x05] = (0, 0)  # else
_EFFECT[0x0B] = (0, 0)  # end
_EFFECT[0x01] = (0, 0)  # nop
del _op, _sub
STACK_EFFECT: Mapping[int, tuple[int, int]] = _EFFECT  # (pops, pushes); redzone.py models the same operand stack

_SUB = (0x6B, 0x7D)  # i32.sub, i64.sub
_ADD = (0x6A, 0x7C)
_AND = (0x71, 0x83)
_CONST = (0x41, 0x42)
_BARRIER = (0x00, 0x0C, 0x0E, 0x0F)  # unreachable, br, br_table, return: the stack is dead after them


@dataclass(frozen=True, slots=True)
class IndirectCall:
    """A ``call_indirect``/``call_ref`` site and the functions it may reach (resolved by type)."""

    offset: int
    kind: str  # call_indirect | return_call_indirect | call_ref | return_call_ref
    type_index: int
    table: int | None
    targets: tuple[int, ...]
    resolved: bool  # False when the table is imported/exported and may hold other functions


@dataclass(frozen=True, slots=True)
class Frame:
    """What one function does to the linear stack."""

    index: int
    name: str
    size: int  # bytes below the entry SP that the function claims (== clang -fstack-usage)
    align_slack: int = 0  # extra bytes an over-aligned frame can lose to rounding down
    dynamic: bool = False  # lowers SP by a run-time amount (VLA, alloca)
    writes_sp: bool = False  # False for leaf functions that use the red zone only
    imported: bool = False
    calls: tuple[int, ...] = ()  # direct callees, in order of first appearance
    indirect: tuple[IndirectCall, ...] = ()
    note: str | None = None

    @property
    def worst(self) -> int:
        """Static bytes this frame can take, with the alignment slack."""
        return self.size + self.align_slack

    @property
    def callees(self) -> tuple[int, ...]:
        seen = dict.fromkeys(self.calls)
        for ic in self.indirect:
            seen.update(dict.fromkeys(ic.targets))
        return tuple(seen)


@dataclass(frozen=True, slots=True)
class PathStep:
    index: int
    name: str
    bytes: int  # this frame's worst (size + slack), times ``repeat``
    repeat: int = 1  # > 1 for a recursive cycle bounded by ``recursion_depth``
    via: str = "call"  # call | call_indirect | call_ref | return_call | root


_DYNAMIC, _WRITES, _IMPORTED = 1, 2, 4
IMPORTED_NOTE = "imported: runs in the host, 0 bytes of linear stack"


def _index_array(values=()) -> array:
    """An array of function/node indices or edge offsets: 4 bytes each (a module cannot hold 2**32
    functions or call edges: each needs bytes of code)."""
    return array("I", values)


class FrameTable(Mapping):
    """Every function's :class:`Frame` by function index (imports first), stored by column: a few bytes
    per function (a 200,000-function module would need tens of MB as Frame objects). Frame objects are
    made when asked for; ``name``, ``worst``, ``largest`` and ``order`` answer without making them."""

    __slots__ = ("nimp", "_size", "_slack", "_flags", "_notes", "_off", "_calls", "_indirect", "_names",
                 "_extra", "not_scanned")

    def __init__(self, nimp: int, names: dict[int, str], extra: dict[int, str]):
        self.nimp = nimp
        self._size = array("I")  # widened to "Q" by a frame of 4 GiB or more
        self._slack: dict[int, int] = {}  # only the non-zero ones
        self._flags = bytearray()
        self._notes: dict[int, str] = {}
        self._off = _index_array([0])  # direct calls of function i: _calls[_off[i]:_off[i + 1]]
        self._calls = _index_array()
        self._indirect: dict[int, tuple[IndirectCall, ...]] = {}
        self._names = names  # the name section's function names (shared, not copied)
        self._extra = extra  # export and import names of functions the name section does not name
        self.not_scanned = 0  # bodies a deadline left unscanned (analyze_frames(partial=True))

    def _add(self, size: int, slack: int, dynamic: bool, writes: bool, imported: bool, note: str | None,
             calls: tuple[int, ...], indirect: tuple[IndirectCall, ...]) -> None:
        i = len(self._flags)
        try:
            self._size.append(size)
        except OverflowError:  # a frame of 4 GiB or more (memory64, or a hostile module)
            self._size = array("Q", self._size)
            self._size.append(size)
        if slack:
            self._slack[i] = slack
        self._flags.append(dynamic * _DYNAMIC | writes * _WRITES | imported * _IMPORTED)
        if note is not None:
            self._notes[i] = note
        if calls:
            self._calls.extend(calls)
        self._off.append(len(self._calls))
        if indirect:
            self._indirect[i] = indirect

    # -- Mapping -----------------------------------------------------------------------------------
    def __len__(self) -> int:
        return len(self._flags)

    def __iter__(self):
        return iter(range(len(self._flags)))

    def __contains__(self, i) -> bool:
        return isinstance(i, int) and 0 <= i < len(self._flags)

    def __getitem__(self, i: int) -> Frame:
        if not isinstance(i, int) or not 0 <= i < len(self._flags):
            raise KeyError(i)
        fl = self._flags[i]
        return Frame(i, self.name(i), self._size[i], self._slack.get(i, 0), bool(fl & _DYNAMIC),
                     bool(fl & _WRITES), bool(fl & _IMPORTED), self.calls(i), self._indirect.get(i, ()),
                     self._notes.get(i))

    def __repr__(self) -> str:
        return f"<FrameTable of {len(self)} functions>"

    # -- columns -----------------------------------------------------------------------------------
    def name(self, i: int) -> str:
        s = self._names.get(i)
        if s is None:
            s = self._extra.get(i)
            if s is None:
                s = f"func[{i}]"
        return s

    def worst(self, i: int) -> int:
        """Frame ``i``'s size plus its alignment slack."""
        return self._size[i] + self._slack.get(i, 0) if self._slack else self._size[i]

    def dynamic(self, i: int) -> bool:
        return bool(self._flags[i] & _DYNAMIC)

    def imported(self, i: int) -> bool:
        return bool(self._flags[i] & _IMPORTED)

    def calls(self, i: int) -> tuple[int, ...]:
        return tuple(self._calls[self._off[i]:self._off[i + 1]])

    def indirect(self, i: int) -> tuple[IndirectCall, ...]:
        return self._indirect.get(i, ())

    def order(self) -> list[int]:
        """Every function index, the largest frame first (ties: lower index first)."""
        size, slack = self._size, self._slack
        if not slack:
            return sorted(range(len(self._flags)), key=lambda i: (-size[i], i))
        return sorted(range(len(self._flags)), key=lambda i: (-size[i] - slack.get(i, 0), i))

    def largest(self, k: int | None = None) -> list[Frame]:
        """The ``k`` largest frames of the module's own functions (all when ``k`` is None), largest first."""
        own = range(self.nimp, len(self._flags))
        key = (lambda i: (-self._size[i], i)) if not self._slack else (lambda i: (-self.worst(i), i))
        idx = sorted(own, key=key) if k is None or k >= len(own) else heapq.nsmallest(k, own, key=key)
        return [self[i] for i in idx]

    @property
    def num_own(self) -> int:
        """Functions defined in the module (not imported)."""
        return len(self._flags) - self.nimp


class _Path:
    """A deepest path, walked when asked for (paths share their tails: storing each one would be
    quadratic in the call depth). ``len()`` is known without walking."""

    __slots__ = ("_graph", "_start", "_mode", "length")

    def __init__(self, graph, start: int, mode: str, length: int):
        self._graph, self._start, self._mode, self.length = graph, start, mode, length

    def __len__(self) -> int:
        return self.length

    def __iter__(self):
        return self._graph.walk(self._start, self._mode)

    def last(self) -> PathStep:
        return self._graph.last(self._start, self._mode)


_NO_PATH = ()


@dataclass(frozen=True, eq=False)
class WorstCase:
    """The deepest static stack use reachable from one entry point. ``path``/``bounded_path`` are walked
    on each access; ``iter_path`` and ``path_length`` look at them without building tuples."""

    index: int
    name: str
    kind: str  # export | start
    bytes: int | None  # None when unbounded
    unbounded: str | None = None  # None | "recursion" | "dynamic"
    reason: str | None = None  # human explanation of why it is unbounded
    cycle: tuple[str, ...] = ()  # a recursive cycle reached from here (the nearest one)
    dynamic: tuple[str, ...] = ()  # dynamic frames reached from here, by function index
    bounded_bytes: int | None = None  # with at most recursion_depth frames of each cycle (None: dynamic)
    calls_imports: tuple[str, ...] = ()  # imported functions reachable (counted as 0 bytes)
    # unbounded by recursion only: the worst case with each cycle's largest frame once (recursion depth
    # 1), and at most how many bytes each further level of recursion adds: with --recursion-depth N the
    # bound is at most base_bytes + (N - 1) * level_bytes
    base_bytes: int | None = None
    level_bytes: int | None = None
    _path: object = field(default=_NO_PATH, repr=False)
    _bounded_path: object = field(default=_NO_PATH, repr=False)

    @property
    def path(self) -> tuple[PathStep, ...]:
        """The deepest path (to the nearest recursion/dynamic frame when unbounded)."""
        return tuple(self._path)

    @property
    def bounded_path(self) -> tuple[PathStep, ...]:
        """With ``recursion_depth``: the path of ``bounded_bytes`` (recursive frames repeated)."""
        return tuple(self._bounded_path)

    def iter_path(self, bounded: bool = False):
        return iter(self._bounded_path if bounded else self._path)

    def last_step(self, bounded: bool = False) -> PathStep | None:
        """The path's last step, found without walking it step by step."""
        p = self._bounded_path if bounded else self._path
        return p.last() if isinstance(p, _Path) else None

    def path_length(self, bounded: bool = False) -> int:
        return len(self._bounded_path if bounded else self._path)

    @property
    def effective_bytes(self) -> int | None:
        """The static worst case, or the recursion-depth bound when only recursion makes it unbounded."""
        return self.bytes if self.bytes is not None else self.bounded_bytes

    def depth_for(self, allowed: int) -> int | None:
        """Unbounded by recursion only: the largest ``--recursion-depth`` whose bound (at most
        ``base_bytes + (N - 1) * level_bytes``) fits in ``allowed`` bytes; 0 when not even depth 1 fits;
        None when it does not apply or every depth fits (recursive frames of 0 bytes)."""
        if self.base_bytes is None or self.level_bytes is None:
            return None
        if self.base_bytes > allowed:
            return 0
        if self.level_bytes <= 0:
            return None
        return (allowed - self.base_bytes) // self.level_bytes + 1


def path_text(r: WorstCase, bounded: bool = False, limit: int = 8) -> str:
    """``a → b → c`` for an entry point's path, at most ``limit`` names (the first ones, ``… N more``,
    and the last): an error message must not grow with the call depth."""
    n = r.path_length(bounded)
    it = r.iter_path(bounded)
    if n <= limit:
        return " → ".join(s.name for s in it)
    head = [s.name for s in islice(it, limit - 1)]
    last = r.last_step(bounded)
    return " → ".join(head) + f" → … {n - limit} more → " + (last.name if last is not None else "?")


def _names_text(names, limit: int = 6) -> str:
    names = list(islice(names, limit + 1))
    return ", ".join(names[:limit]) + (", …" if len(names) > limit else "")


@dataclass
class StackAnalysis:
    path: str | None
    sp_global: int | None
    sp_reason: str
    frames: FrameTable  # a Mapping: function index → Frame (imports included, with size 0)
    roots: list[WorstCase]
    stack_size: int | None
    stack_low: int | None
    stack_high: int | None
    layout_kind: str
    recursion_depth: int | None
    cycles: list = field(default_factory=list)  # a cycle per recursive SCC: sequences of function indices
    notes: list[str] = field(default_factory=list)
    largest_frame: Frame | None = None  # the largest frame of the module's own functions
    # with indirect calls: the same roots and cycles over direct calls only (model/indirectcalls.py reads them)
    direct_roots: list | None = None
    direct_cycles: list | None = None

    def find_frame(self, name: str) -> Frame | None:
        fr = self.frames
        for i in range(len(fr)):
            if fr.name(i) == name:
                return fr[i]
        return None

    def find_root(self, name: str) -> WorstCase | None:
        for r in self.roots:
            if r.name == name:
                return r
        return None

    @property
    def worst(self) -> WorstCase | None:
        """The root with the largest effective static bound (unbounded roots without a bound excluded)."""
        known = [r for r in self.roots if r.effective_bytes is not None]
        return max(known, key=lambda r: r.effective_bytes, default=None)  # type: ignore[arg-type,return-value]

    @property
    def worst_bytes(self) -> int | None:
        w = self.worst
        return None if w is None else w.effective_bytes

    @property
    def unbounded(self) -> list[WorstCase]:
        return [r for r in self.roots if r.unbounded]

    @property
    def without_bound(self) -> list[WorstCase]:
        """Entry points with no number at all: a dynamic frame, or recursion without ``recursion_depth``."""
        return [r for r in self.roots if r.effective_bytes is None]

    def recommended_stack_size(self, headroom_pct: float = 0.0, need: int | None = None) -> int | None:
        """The smallest ``-z stack-size`` (a multiple of 16) that keeps ``headroom_pct`` percent of the stack
        free at the worst case: ``need <= size * (1 - pct/100)``. Safe by construction, so None when no
        size is safe or there is nothing to size: an entry point without a bound (a dynamic frame, or
        recursion without ``recursion_depth``), no entry point, no stack pointer, or no stack use at all.
        Never below the largest frame (a function no entry point reaches here may still run: through an
        exported table, or called by the host)."""
        if self.sp_global is None:
            return None
        if need is None:
            if self.without_bound:
                return None
            need = self.worst_bytes
            if need is None:
                return None
        need = max(need, self.largest_frame.worst if self.largest_frame is not None else 0)
        if need <= 0:
            return None
        return stack_size_for(need, headroom_pct)

    def headroom_pct(self, need: int | None = None) -> float | None:
        """Percent of the stack left free at the worst case (negative when it does not fit)."""
        need = self.worst_bytes if need is None else need
        if need is None or not self.stack_size:
            return None
        return (self.stack_size - need) * 100.0 / self.stack_size


def stack_size_for(need: int, headroom_pct: float = 0.0) -> int:
    if not 0 <= headroom_pct < 100:
        raise ValueError("headroom must be at least 0 and below 100 percent")
    # exact rational arithmetic: need / (1 - pct/100), rounded up to 16
    num = need * 10000
    den = int(round((100 - headroom_pct) * 100))
    size = -(-num // den)
    return -(-size // ALIGN) * ALIGN


# ------------------------------------------------------------------------------------------------
# per-function analysis
# ------------------------------------------------------------------------------------------------

def _is_pow2(v: int) -> bool:
    return v > 0 and v & (v - 1) == 0


class _Body:
    """The instructions of one function body, decoded on demand: iterating gives ``(offset, op, imm)``
    tuples; ``calls()`` gives only the call instructions (one loop, no per-instruction objects). Either
    way the whole body is decoded and checked."""

    __slots__ = ("data", "start", "end")

    def __init__(self, data, start: int, end: int):
        self.data, self.start, self.end = data, start, end

    def __iter__(self):
        return iter_instruction_tuples(self.data, self.start, self.end)

    def calls(self) -> list[tuple[int, int, object]]:
        return find_calls(self.data, self.start, self.end)


def iter_instructions(data, start: int, end: int) -> _Body:
    """The one place a body's instructions are decoded for the stack analysis (once per body)."""
    return _Body(data, start, end)


def _sp_access(sp: int | None):
    """A search for the bytes of ``global.get SP`` / ``global.set SP`` (0x23/0x24, then the first byte
    of SP's LEB128, plain or padded) in a byte range; None when there is no stack pointer."""
    if sp is None:
        return None
    firsts = b"".join(re.escape(bytes([f])) for f in sorted({sp & 0x7F, (sp & 0x7F) | 0x80}))
    return re.compile(b"[\\x23\\x24][" + firsts + b"]").search


def _calls_only(instrs: _Body, elems_for, referenced):
    """The result of ``_scan_body`` for a body that never reads or writes the stack pointer: its frame is
    0 bytes and only its calls matter (the operand-stack model can only produce a size, a dynamic frame or
    a write from a value that ``global.get SP`` put on the stack, or at a ``global.set SP``)."""
    calls: dict[int, None] = {}
    indirect: list[IndirectCall] = []
    for off, op, imm in instrs.calls():
        if op == 0x10 or op == 0x12:
            calls.setdefault(imm, None)
        elif op == 0x11 or op == 0x13:
            tidx, table = imm
            targets, resolved = elems_for(table, tidx)
            indirect.append(IndirectCall(off, "call_indirect" if op == 0x11 else "return_call_indirect",
                                         tidx, table, targets, resolved))
        else:
            indirect.append(IndirectCall(off, "call_ref" if op == 0x14 else "return_call_ref",
                                         imm, None, referenced(imm), False))
    return 0, 0, False, False, None, tuple(calls), tuple(indirect)


def _scan_body(module: WasmModule, body, sp: int | None, mask: int, ftypes, elems_for, referenced,
               sp_access=None):
    """One pass over a body: (size, slack, dynamic, writes_sp, note, calls, indirect, ref_funcs).
    ``sp_access`` is ``_sp_access(sp)``: bodies without those bytes take the calls-only fast path."""
    data = module.data
    _, p = decode_locals(data, body.start, body.end)
    instrs = iter_instructions(data, p, body.end)
    if sp_access is None or sp_access(data, p, body.end) is None:
        if sp is None or sp_access is not None:
            return _calls_only(instrs, elems_for, referenced)
    stack: list = []
    local: dict[int, object] = {}
    size = slack = 0
    dynamic = writes = unknown_write = False
    calls: dict[int, None] = {}
    indirect: list[IndirectCall] = []
    effect = _EFFECT
    push = stack.append

    for off, op, imm in instrs:
        if op == 0x20:  # local.get
            push(local.get(imm))
        elif op == 0x21 or op == 0x22:  # local.set / local.tee
            v = stack.pop() if stack else None
            local[imm] = v
            if v is not None and v[0] == "dyn":
                dynamic = True
            if op == 0x22:
                push(v)
        elif op in _CONST:
            push(("k", imm))
        elif op == 0x23:  # global.get
            push(("sp", 0) if imm == sp else None)
        elif op == 0x24:  # global.set
            v = stack.pop() if stack else None
            if imm == sp:
                writes = True
                if v is None or v[0] == "k":
                    unknown_write = True
                elif v[0] in ("dyn", "dynw"):
                    dynamic = True
                elif v[0] == "r":
                    unknown_write = True
                elif v[1] < 0:
                    size = max(size, -v[1])
        elif op in _SUB or op in _ADD:
            b = stack.pop() if stack else None
            a = stack.pop() if stack else None
            if op in _ADD and b is not None and b[0] in ("sp", "al", "dyn") and (a is None or a[0] == "k"):
                a, b = b, a  # constant + sp
            if a is None:
                push(None)
            elif a[0] == "k" and b is not None and b[0] == "k":
                v = ((a[1] - b[1]) if op in _SUB else (a[1] + b[1])) & mask
                push(("k", v - (mask + 1) if v > mask >> 1 else v))
            elif a[0] in ("sp", "al") and b is not None and b[0] == "k":
                k = b[1] if op in _SUB else -b[1]
                off = a[1] - k
                if a[0] == "sp" and a[1] == 0 and k > 0:
                    size = max(size, k)
                push((a[0], off) + a[2:])
            elif op in _SUB and (a[0] in ("dyn", "dynw") or (a[0] in ("sp", "al") and a[1] in (0, -size))):
                # the current SP minus a run-time value: a VLA/alloca when the amount was rounded to 16
                # (clang always rounds them), otherwise only once it is written back to SP
                strong = a[0] == "dyn" or (b is not None and b[0] == "r")
                push(("dyn",) if strong else ("dynw",))
            else:
                push(None)
        elif op in _AND:
            b = stack.pop() if stack else None
            a = stack.pop() if stack else None
            if b is not None and b[0] == "k" and a is not None and a[0] in ("sp", "al"):
                a, b = a, b
            elif a is not None and a[0] == "k" and b is not None and b[0] in ("sp", "al"):
                a, b = b, a
            if a is not None and a[0] in ("sp", "al") and b is not None and b[0] == "k":
                k = b[1]
                if k < 0 and _is_pow2(-k):
                    align = -k
                    if align > ALIGN:
                        slack = max(slack, align - ALIGN)
                        size = max(size, -a[1])
                        push(("al", a[1], align))
                    else:
                        push(a)
                else:
                    push(None)
            elif a is not None and a[0] in ("dyn", "dynw"):
                push(a)
            elif b is not None and b[0] == "k" and b[1] <= -ALIGN:
                push(("r",))  # a run-time amount rounded to a multiple of 16
            else:
                push(None)
        elif op == 0x10 or op == 0x12:  # call / return_call
            calls.setdefault(imm, None)
            ft = ftypes(imm)
            if ft and ft.params:
                del stack[-len(ft.params):]
            if op == 0x12:
                stack.clear()
            else:
                for _ in range(len(ft.results) if ft else 0):
                    push(None)
        elif op == 0x11 or op == 0x13:  # call_indirect / return_call_indirect
            tidx, table = imm
            targets, resolved = elems_for(table, tidx)
            indirect.append(IndirectCall(off, "call_indirect" if op == 0x11 else "return_call_indirect",
                                         tidx, table, targets, resolved))
            stack.clear()
        elif op == 0x14 or op == 0x15:  # call_ref / return_call_ref
            targets = referenced(imm)
            indirect.append(IndirectCall(off, "call_ref" if op == 0x14 else "return_call_ref",
                                         imm, None, targets, False))
            stack.clear()
        elif op in _BARRIER:
            stack.clear()
        else:
            e = effect.get(op)
            if e is None:
                stack.clear()  # an instruction we do not model: forget the operand stack
            else:
                if 0x28 <= op <= 0x3E and imm[2] == 0 and len(stack) >= e[0]:  # at SP + k + offset= below SP
                    a = stack[-e[0]]
                    if a is not None and a[0] == "sp" and a[1] + imm[1] < -size:
                        size = -(a[1] + imm[1])
                if e[0]:
                    del stack[-e[0]:]
                if e[1]:
                    push(None) if e[1] == 1 else stack.extend((None,) * e[1])
    note = None
    if dynamic:
        note = "lowers the stack pointer by a run-time amount (VLA or alloca)"
    elif unknown_write and size == 0:
        note = "sets the stack pointer to a value not derived from it (a stack switch or restore)"
    elif size and not writes:
        note = "leaf: uses the red zone below SP without moving it"
    return size, slack, dynamic, writes, note, tuple(calls), tuple(indirect)



def _function_names(module: WasmModule) -> tuple[dict[int, str], dict[int, str]]:
    """(the name section's function names, names from exports and imports for the functions it does not
    name). The first is the parsed section's own dict: it is not copied (200,000 names are ~20 MB)."""
    try:
        names = module.names.functions if module.names else {}
    except ParseError:
        names = {}
    extra: dict[int, str] = {}
    for e in module.exports:
        if e.kind == "func" and e.index not in names:
            extra.setdefault(e.index, e.name)
    k = 0
    for imp in module.imports:
        if imp.kind == "func":
            if k not in names:
                extra.setdefault(k, f"{imp.module}.{imp.name}")
            k += 1
    return names, extra


class ScanCut(Exception):
    """The body scan stopped at the deadline (``analyze_frames(..., partial=True)``)."""


NOT_SCANNED = "not scanned: the analysis stopped at its deadline (--timeout); size and calls unknown"


_NO_DEADLINE = NO_DEADLINE


def _without_targets(r: tuple) -> tuple:
    """A body's scan result as a worker sends it back: its indirect calls without their targets (None).
    The parent has the same sets in its caches, and pickling them would give it one copy per chunk."""
    if not r[6]:
        return r
    return r[:6] + (tuple(IndirectCall(ic.offset, ic.kind, ic.type_index, ic.table, None, ic.resolved)
                          for ic in r[6]),)


def analyze_frames(module: WasmModule, sp_global: int | None, *, workers: int | None = None,
                   deadline: Deadline = _NO_DEADLINE, partial: bool = False) -> FrameTable:
    """Frame sizes and call edges of every function (imports get size 0 and no calls), as a
    :class:`FrameTable` (a Mapping from function index to :class:`Frame`). ``workers``: processes for the
    body scan (default: the CPUs, up to 4, for a large module: ``bodyscan.scan_bodies``). Past ``deadline``
    the scan raises AnalysisTimeout, or with ``partial`` stops: the bodies not scanned become dynamic frames
    with the note NOT_SCANNED, and ``table.not_scanned`` counts them."""
    names, extra = _function_names(module)
    nimp = module.num_imported_funcs
    type_idx = module.function_type_indices
    types = module.types

    def func_type_of_type(t: int):
        return types[t].func if 0 <= t < len(types) else None

    def ftypes(f: int):
        return func_type_of_type(type_idx[f]) if 0 <= f < len(type_idx) else None

    exported_tables = {e.index for e in module.exports if e.kind == "table"}
    by_table: dict[int, list[int]] = {}
    in_elems: dict[int, None] = {}
    for seg in module.elements:
        fs = [f for f in seg.func_indices if f is not None]
        in_elems.update(dict.fromkeys(fs))
        if seg.mode == "active":
            by_table.setdefault(seg.table, []).extend(fs)
        elif seg.mode == "passive":  # may be table.init'ed into any table
            for t in range(len(module.tables)):
                by_table.setdefault(t, []).extend(fs)
    cache: dict[tuple, tuple] = {}

    def elems_for(table: int, tidx: int):
        key = (table, tidx)
        if key not in cache:
            want = func_type_of_type(tidx)
            cands = dict.fromkeys(by_table.get(table, ()))
            targets = tuple(f for f in cands if want is not None and ftypes(f) == want)
            tbl = module.tables[table] if table < len(module.tables) else None
            resolved = tbl is not None and tbl.imported is None and table not in exported_tables
            cache[key] = (targets, resolved)
        return cache[key]

    ref_cache: dict[int, tuple] = {}

    def referenced(tidx: int):
        if tidx not in ref_cache:  # one tuple per type: call_ref sites of a type share it
            want = func_type_of_type(tidx)
            ref_cache[tidx] = tuple(f for f in in_elems if want is not None and ftypes(f) == want)
        return ref_cache[tidx]

    mask = 0xFFFFFFFFFFFFFFFF if module.is_memory64 else 0xFFFFFFFF
    table = FrameTable(nimp, names, extra)
    for _ in range(nimp):
        table._add(0, 0, False, False, True, IMPORTED_NOTE, (), ())
    sp_access = _sp_access(sp_global)
    nfuncs = module.num_functions
    if module.functions:  # pages an earlier pass left resident (the layout's scans): read again as needed
        drop_pages(module.data, module.functions[0].start, module.functions[-1].end)

    def scan(body):
        return _scan_body(module, body, sp_global, mask, ftypes, elems_for, referenced, sp_access)

    def check() -> None:
        if deadline.expired():
            if partial:
                raise ScanCut
            deadline.check("the stack analysis")

    scanned = scan_bodies(module, scan, workers=workers, check=check, to_parent=_without_targets,
                          left=deadline.left)
    count = 0
    cut: list[bool] = []

    def until_cut():
        try:
            yield from scanned
        except ScanCut:
            cut.append(True)

    for size, slack, dyn, writes, note, calls, ind in until_cut():
        count += 1
        if ind and ind[0].targets is None:  # from a worker: the targets from this process's caches
            ind = tuple(IndirectCall(ic.offset, ic.kind, ic.type_index, ic.table,
                                     elems_for(ic.table, ic.type_index)[0] if ic.table is not None else
                                     referenced(ic.type_index), ic.resolved) for ic in ind)
        if calls and max(calls) >= nfuncs:  # an invalid module: keep analysing what exists and say what does not
            missing = [c for c in calls if c >= nfuncs]
            calls = tuple(c for c in calls if c < nfuncs)
            note = "; ".join(filter(None, [note, f"calls function {missing[0]}, which does not exist "
                                                 f"(the module is invalid)"]))
        table._add(size, slack, dyn, writes, False, note, calls, ind)
    if cut:  # the rest unknown: dynamic frames, so that no entry point reaching them gets a bound
        table.not_scanned = len(module.functions) - count
        for _ in range(table.not_scanned):
            table._add(0, 0, True, False, False, NOT_SCANNED, (), ())
        return table
    if count != len(module.functions):  # pragma: no cover - a worker lost a chunk
        raise RuntimeError("the body scan returned the wrong number of functions")
    return table


# ------------------------------------------------------------------------------------------------
# call graph: strongly connected components and worst cases, in time linear in functions + edges
# ------------------------------------------------------------------------------------------------

_NONE = 0xFFFFFFFF  # "no node" in an index array; also "unreachable" as a distance
_RECURSIVE, _REACH_REC, _REACH_DYN = 1, 2, 4
BITSET_LIMIT = 1024  # imports / dynamic frames tracked one by one per component; the rest share one bit


def _union(a: int, b: int) -> int:
    """``a | b``, returning ``a`` itself when ``b`` adds nothing (components share their sets)."""
    if not b or b is a:
        return a
    if not a:
        return b
    c = a | b
    return a if c == a else c


def _bits_to_indices(bits: int) -> list[int]:
    out = []
    k = 0
    while bits:
        low = bits & -bits
        k = low.bit_length() - 1
        out.append(k)
        bits ^= low
    return out


class _Graph:
    """The call graph in compressed rows, solved by one iterative pass of Tarjan's algorithm that computes
    each strongly connected component's worst case as the component completes (callees complete first);
    paths are rebuilt from stored best-successor pointers when asked for.

    Nodes ``0..n-1`` are the functions; node ``n + k`` stands for the k-th distinct set of indirect-call
    targets (a dispatch node, without a frame: every ``call_indirect`` site is one edge to it, so a table
    of T functions called from S sites costs S + T edges, not S × T). In the path metric an edge into a
    dispatch node counts 0 calls, so distances and paths are those of the call graph itself.

    Per component c: ``sb[c]`` the static worst case (each frame once; a recursive component counts its
    largest frame once), ``sn[c]`` the successor node the worst path continues through (``_NONE`` at a
    leaf), ``ssteps[c]`` the frames on that path; ``bb``/``bn``/``bsteps`` the same with ``depth`` frames
    of each recursive component (only with a recursion depth); ``rep[c]`` the frame a component shows on
    a path (its function, or a recursive component's largest frame); ``slope[c]`` (components that reach
    recursion) the most bytes one more level of every recursion on a path adds."""

    def __init__(self, frames: FrameTable, depth: int | None, deadline: Deadline = _NO_DEADLINE,
                 names_limit: int = BITSET_LIMIT, indirect: bool = True):
        self.frames = frames
        self.deadline = deadline
        self.names_limit = names_limit  # --budget stack-names=N: imports / dynamic frames tracked one by one
        self.depth = depth
        n = self.n = len(frames)
        ind = frames._indirect if indirect else None  # without: the calls proven by the code alone
        vsets: list[tuple[int, ...]] = []
        if not ind:  # no indirect calls: the direct calls are the graph
            off, adj = frames._off, frames._calls
        else:
            off, adj = _index_array([0]), _index_array()
            by_id: dict[int, int] = {}
            by_content: dict[tuple, int] = {}
            foff, fcalls = frames._off, frames._calls
            for v in range(n):
                a, b = foff[v], foff[v + 1]
                if a != b:
                    adj.extend(fcalls[a:b])
                sites = ind.get(v)
                if sites:
                    mine: list[int] = []
                    for ic in sites:
                        t = ic.targets
                        if not t:
                            continue
                        k = by_id.get(id(t))
                        if k is None:
                            k = by_content.setdefault(t, len(vsets))
                            if k == len(vsets):
                                vsets.append(t)
                            by_id[id(t)] = k
                        if n + k not in mine:
                            mine.append(n + k)
                    adj.extend(mine)
                off.append(len(adj))
            for t in vsets:
                adj.extend(t)
                off.append(len(adj))
        self.off, self.adj, self.vsets = off, adj, vsets
        self.nv = n + len(vsets)
        dyn_funcs = [i for i, f in enumerate(frames._flags) if f & _DYNAMIC]
        self.dyn_funcs = dyn_funcs
        self.overflow: set[str] = set()
        self._solve()
        self.cycles, self.cycle_of = self._find_cycles()
        self.nxt_rec = self.end_rec = self.nxt_dyn = self.end_dyn = None

    # -- one pass: SCCs and the worst case of each -------------------------------------------------
    def _solve(self) -> None:
        frames, n, nv, off, adj, depth = self.frames, self.n, self.nv, self.off, self.adj, self.depth
        size, slack = frames._size, frames._slack
        nimp = frames.nimp
        dyn_funcs = self.dyn_funcs
        limit = self.names_limit
        dyn_bit: dict[int, int] = {v: 1 << min(r, limit) for r, v in enumerate(self.dyn_funcs)}

        idx = array("I", bytes(4 * nv))  # preorder number + 1; 0 = not visited yet
        low = array("I", bytes(4 * nv))
        comp = array("I", [_NONE]) * nv  # a visited node without a component is on Tarjan's stack
        sb, sn, ssteps, rep = array("q"), _index_array(), _index_array(), _index_array()
        cflags = bytearray()
        bound = depth is not None
        bb, bn, bsteps = (array("q"), _index_array(), _index_array()) if bound else (None, None, None)
        slope = None  # made at the first recursive component (every one before it has 0)
        rec_start: dict[int, int] = {}  # recursive component → its lowest function index
        imps: list[int] | None = [] if nimp else None
        dyns: list[int] | None = [] if dyn_funcs else None

        def worst(v: int) -> int:
            return size[v] + slack.get(v, 0) if v < n else 0

        def finish(cid: int, own: int, base: int, exits, recursive: bool, own_imp: int, own_dyn: int):
            """Stores component ``cid``'s tables from its exits (successor nodes outside it, in order)."""
            nonlocal sb, bb, slope
            best = 0
            bw = _NONE
            bbest = 0
            bbw = _NONE
            fl = 0
            sl = 0
            ib, db = own_imp, own_dyn
            for w in exits:
                cw = comp[w]
                val = sb[cw]
                if bw == _NONE or val > best:
                    best, bw = val, w
                if bound:
                    val = bb[cw]
                    if bbw == _NONE or val > bbest:
                        bbest, bbw = val, w
                f = cflags[cw]
                fl |= f
                if f & _REACH_REC:
                    s = slope[cw]
                    if s > sl:
                        sl = s
                if imps is not None:
                    ib = _union(ib, imps[cw])
                if dyns is not None:
                    db = _union(db, dyns[cw])
            try:
                sb.append(own + best)
            except OverflowError:  # sums beyond 2**63 bytes (a hostile module): keep exact ints
                sb = self.sb = list(sb)
                sb.append(own + best)
            sn.append(bw)
            real = 1 if rep[-1] < n else 0  # a dispatch node shows no step
            ssteps.append(real + (ssteps[comp[bw]] if bw != _NONE else 0))
            if bound:
                try:
                    bb.append(base + bbest)
                except OverflowError:
                    bb = self.bb = list(bb)
                    bb.append(base + bbest)
                bn.append(bbw)
                bsteps.append(real + (bsteps[comp[bbw]] if bbw != _NONE else 0))
            fl &= _REACH_REC | _REACH_DYN
            if recursive:
                fl |= _RECURSIVE | _REACH_REC
                sl += own
            if db:
                fl |= _REACH_DYN
            cflags.append(fl)
            if slope is None and recursive:
                slope = self.slope = array("q", bytes(8 * cid))
            if slope is not None:
                try:
                    slope.append(sl)
                except OverflowError:
                    slope = self.slope = list(slope)
                    slope.append(sl)
            if imps is not None:
                imps.append(ib)
            if dyns is not None:
                dyns.append(db)

        self.sb, self.bb, self.slope = sb, bb, slope
        counter = 0
        cid = 0
        stack = _index_array()  # Tarjan's stack
        wnode, wpos = _index_array(), _index_array()  # the DFS path and the next edge of each node on it
        def check(d=self.deadline) -> None:
            d.check("the stack analysis")
        for root in range(nv):
            if idx[root]:
                continue
            check()
            counter += 1
            idx[root] = low[root] = counter
            stack.append(root)
            wnode.append(root)
            wpos.append(off[root])
            while wnode:
                v = wnode[-1]
                p = wpos[-1]
                end = off[v + 1]
                lv = low[v]
                descended = False
                while p < end:
                    w = adj[p]
                    p += 1
                    iw = idx[w]
                    if not iw:
                        wpos[-1] = p
                        low[v] = lv
                        counter += 1
                        if not counter & 0x3FFF:
                            check()
                        idx[w] = low[w] = counter
                        stack.append(w)
                        wnode.append(w)
                        wpos.append(off[w])
                        descended = True
                        break
                    if iw < lv and comp[w] == _NONE:
                        lv = iw
                if descended:
                    continue
                low[v] = lv
                wnode.pop()
                wpos.pop()
                if wnode:
                    u = wnode[-1]
                    if lv < low[u]:
                        low[u] = lv
                if lv != idx[v]:
                    continue
                # v is the root of a component: pop it
                if stack[-1] == v:
                    stack.pop()
                    comp[v] = cid
                    a, b = off[v], off[v + 1]
                    recursive = v < n and a != b and v in adj[a:b]
                    members = [v]
                else:
                    members = _index_array()
                    while True:
                        w = stack.pop()
                        comp[w] = cid
                        members.append(w)
                        if w == v:
                            break
                    recursive = True
                if not recursive:
                    own = worst(v)
                    rep.append(v)
                    finish(cid, own, own, adj[a:b], False,
                           (1 << min(v, limit)) if v < nimp else 0, dyn_bit.get(v, 0))
                else:
                    real = _index_array(sorted(members))
                    del members
                    while real[-1] >= n:  # dispatch nodes sort last
                        real.pop()
                    top = min(real, key=lambda u: (-worst(u), u))
                    exits = _index_array()
                    expanded: set[int] = set()
                    for u in real:
                        for p in range(off[u], off[u + 1]):
                            w = adj[p]
                            if comp[w] != cid:
                                exits.append(w)
                            elif w >= n and w not in expanded:  # a dispatch node inside: its targets
                                expanded.add(w)
                                exits.extend(t for t in adj[off[w]:off[w + 1]] if comp[t] != cid)
                    own_dyn = 0
                    for u in real:
                        own_dyn = _union(own_dyn, dyn_bit.get(u, 0))
                    rep.append(top)
                    rec_start[cid] = real[0]
                    own = worst(top)
                    finish(cid, own, own * (depth or 1), exits, True, 0, own_dyn)
                cid += 1
        self.comp, self.rep, self.cflags = comp, rep, cflags
        self.sn, self.ssteps, self.bn, self.bsteps = sn, ssteps, bn, bsteps
        self.rec_start, self.imps, self.dyns = rec_start, imps, dyns
        if imps is not None and nimp > limit:
            self.overflow.add("imports")
        if dyns is not None and len(self.dyn_funcs) > limit:
            self.overflow.add("dynamic frames")

    # -- reverse edges and shortest paths (0-1 BFS: an edge into a dispatch node counts 0) ----------
    def _reverse(self):
        if getattr(self, "roff", None) is None:
            nv, off, adj = self.nv, self.off, self.adj
            cnt = array("I", bytes(4 * (nv + 1)))
            for w in adj:
                cnt[w + 1] += 1
            for i in range(nv):
                cnt[i + 1] += cnt[i]
            pos = array("I", cnt)
            radj = array("I", bytes(4 * len(adj)))
            for v in range(nv):
                for p in range(off[v], off[v + 1]):
                    w = adj[p]
                    radj[pos[w]] = v
                    pos[w] += 1
            self.roff, self.radj = cnt, radj
        return self.roff, self.radj

    def _bfs(self, sources, dist: array, done: bytearray, within: int | None = None) -> array:
        """Distances (in calls) to the nearest source over reversed edges, into ``dist`` (``_NONE`` =
        not reached; ``done`` all 0), only through component ``within`` when given. Returns the nodes
        reached in order of distance (callers reset exactly those for the next search)."""
        roff, radj = self._reverse()
        n, comp = self.n, self.comp
        dq: deque[int] = deque()
        for s in sources:
            dist[s] = 0
            dq.append(s)
        order = _index_array()
        while dq:
            x = dq.popleft()
            if done[x]:
                continue
            done[x] = 1
            order.append(x)
            wt = 1 if x < n else 0  # the call into x: a dispatch node is no call of its own
            nd = dist[x] + wt
            for p in range(roff[x], roff[x + 1]):
                y = radj[p]
                if within is not None and comp[y] != within:
                    continue
                if nd < dist[y]:
                    dist[y] = nd
                    if wt:
                        dq.append(y)
                    else:
                        dq.appendleft(y)
        return order

    def _first_on_shortest(self, u: int, d: int, get, within: int | None = None, nxt=None):
        """The first function called by ``u`` (direct calls first, then each indirect site's targets, in
        order) that lies on a shortest path from ``u``, whose distance is ``d``."""
        off, adj, n, comp = self.off, self.adj, self.n, self.comp
        for p in range(off[u], off[u + 1]):
            w = adj[p]
            if within is not None and comp[w] != within:
                continue
            if w < n:
                if get(w) + 1 == d:
                    return w
            elif get(w) == d:
                if nxt is not None:
                    return nxt[w]
                for q in range(off[w], off[w + 1]):
                    t = adj[q]
                    if (within is None or comp[t] == within) and get(t) + 1 == d:
                        return t
        return None  # pragma: no cover - d is a real distance

    def _find_cycles(self):
        """One cycle per recursive component (the shortest through its lowest function index, the first
        in call order among those), sorted by that index; and function → cycle number for the functions
        on them (an array, ``_NONE`` elsewhere; None when there is no recursion)."""
        cycles: list[array] = []
        if not self.rec_start:
            return cycles, None
        n, nv, off, adj, comp = self.n, self.nv, self.off, self.adj, self.comp
        cycle_of = array("I", [_NONE]) * n
        dist = array("I", [_NONE]) * nv
        done = bytearray(nv)
        get = dist.__getitem__
        for cid, s in sorted(self.rec_start.items(), key=lambda kv: kv[1]):
            order = self._bfs([s], dist, done, cid)
            best = None  # the cycle's length: the cheapest way out of s and back
            for p in range(off[s], off[s + 1]):
                w = adj[p]
                if comp[w] == cid:
                    c = dist[w] + (1 if w < n else 0)
                    if best is None or c < best:
                        best = c
            cyc = _index_array([s])
            u, d = s, best
            while True:
                t = self._first_on_shortest(u, d, get, cid)
                if t == s or t is None:
                    break
                cyc.append(t)
                u, d = t, dist[t]
            for v in cyc:
                cycle_of[v] = len(cycles)
            cycles.append(cyc)
            for x in order:
                dist[x] = _NONE
                done[x] = 0
        return cycles, cycle_of

    def _paths_to(self, targets) -> tuple[array, array, array]:
        """For every node: the distance to the nearest target, the next function on the first such
        shortest path, and (for functions) the target that path ends at."""
        nv, n = self.nv, self.n
        dist = array("I", [_NONE]) * nv
        order = self._bfs(targets, dist, bytearray(nv))
        nxt = array("I", [_NONE]) * nv
        end = array("I", [_NONE]) * nv
        get = dist.__getitem__
        for x in order:  # dispatch nodes first: a function's step through one is then one lookup
            if x >= n:
                nxt[x] = self._dispatch_next(x, dist)
        for x in order:  # nondecreasing distance: the next node's end is known
            if x < n:
                if dist[x] == 0:
                    end[x] = x
                else:
                    t = self._first_on_shortest(x, dist[x], get, None, nxt)
                    nxt[x] = t
                    end[x] = end[t]
        return dist, nxt, end

    def _dispatch_next(self, x: int, dist) -> int:
        off, adj = self.off, self.adj
        d = dist[x]
        for q in range(off[x], off[x + 1]):
            t = adj[q]
            if dist[t] + 1 == d:
                return t
        return _NONE  # pragma: no cover

    # -- paths ------------------------------------------------------------------------------------
    def walk(self, start: int, mode: str):
        """The steps of a path: ``static``/``bound`` from component ``start`` by the best-successor
        pointers; ``rec``/``dyn`` from function ``start`` to the nearest recursion / dynamic frame."""
        frames, n = self.frames, self.n
        name, worst = frames.name, frames.worst
        if mode in ("static", "bound"):
            bounded = mode == "bound"
            nxt = self.bn if bounded else self.sn
            comp, rep, cflags = self.comp, self.rep, self.cflags
            depth = self.depth or 1
            c = start
            while True:
                v = rep[c]
                if v < n:
                    k = depth if bounded and cflags[c] & _RECURSIVE else 1
                    yield PathStep(v, name(v), worst(v) * k, k)
                w = nxt[c]
                if w == _NONE:
                    return
                c = comp[w]
        nxt = self.nxt_rec if mode == "rec" else self.nxt_dyn
        u = start
        while u != _NONE:
            yield PathStep(u, name(u), worst(u))
            u = nxt[u]

    def last(self, start: int, mode: str) -> PathStep:
        """The last step of ``walk(start, mode)``: a tight loop over the pointers (or one lookup), no steps made."""
        frames = self.frames
        if mode in ("static", "bound"):
            nxt = self.bn if mode == "bound" else self.sn
            comp = self.comp
            c = start
            w = nxt[c]
            while w != _NONE:
                c = comp[w]
                w = nxt[c]
            v = self.rep[c]
            k = (self.depth or 1) if mode == "bound" and self.cflags[c] & _RECURSIVE else 1
            return PathStep(v, frames.name(v), frames.worst(v) * k, k)
        v = (self.end_rec if mode == "rec" else self.end_dyn)[start]
        return PathStep(v, frames.name(v), frames.worst(v))

    # -- entry points -----------------------------------------------------------------------------
    def roots(self, entry) -> list[WorstCase]:
        frames, comp, cflags, depth = self.frames, self.comp, self.cflags, self.depth
        name = frames.name
        need_rec = need_dyn = False
        for idx, _, _ in entry:
            f = cflags[comp[idx]]
            need_rec |= bool(f & _REACH_REC)
            need_dyn |= bool(f & _REACH_DYN) and not f & _REACH_REC
        if need_rec:
            dist_rec, self.nxt_rec, self.end_rec = self._paths_to([v for c in self.cycles for v in c])
        if need_dyn:
            dist_dyn, self.nxt_dyn, self.end_dyn = self._paths_to(self.dyn_funcs)
        cycle_names: dict[int, tuple[str, ...]] = {}
        imp_cache: dict[int, tuple[str, ...]] = {}
        dyn_cache: dict[int, tuple[str, ...]] = {}

        def imports_of(c: int) -> tuple[str, ...]:
            bits = self.imps[c] if self.imps is not None else 0
            if bits not in imp_cache:
                imp_cache[bits] = tuple(sorted(name(i) for i in _bits_to_indices(bits) if i < self.names_limit))
            return imp_cache[bits]

        cut_at = len(frames) - frames.not_scanned if frames.not_scanned else None  # the first not scanned
        cut_cache: dict[int, tuple[str, ...]] = {}

        def not_scanned_of(c: int) -> tuple[str, ...]:
            bits = self.dyns[c] if self.dyns is not None else 0
            if bits not in cut_cache:
                cut_cache[bits] = tuple(name(self.dyn_funcs[r]) for r in _bits_to_indices(bits)
                                        if r < self.names_limit and self.dyn_funcs[r] >= cut_at)
            return cut_cache[bits]

        def dynamic_of(c: int) -> tuple[str, ...]:
            bits = self.dyns[c] if self.dyns is not None else 0
            if bits not in dyn_cache:
                dyn_cache[bits] = tuple(name(self.dyn_funcs[r]) for r in _bits_to_indices(bits) if r < self.names_limit
                                        and (cut_at is None or self.dyn_funcs[r] < cut_at))
            return dyn_cache[bits]

        roots: list[WorstCase] = []
        for idx, rname, kind in entry:
            c = comp[idx]
            f = cflags[c]
            imps = imports_of(c)
            if not f & (_REACH_REC | _REACH_DYN):
                roots.append(WorstCase(idx, rname, kind, self.sb[c], calls_imports=imps,
                                       _path=_Path(self, c, "static", self.ssteps[c])))
                continue
            reasons = []
            cyc: tuple[str, ...] = ()
            if f & _REACH_REC:
                k = self.cycle_of[self.end_rec[idx]]
                if k not in cycle_names:
                    cycle_names[k] = tuple(name(v) for v in self.cycles[k])
                cyc = cycle_names[k]
                reasons.append(f"recursion: {cycle_text(cyc)}")
                path = _Path(self, idx, "rec", dist_rec[idx] + 1)
            else:
                path = _Path(self, idx, "dyn", dist_dyn[idx] + 1)
            has_dyn = bool(f & _REACH_DYN)
            dyn = dynamic_of(c) if has_dyn else ()
            unknown = not_scanned_of(c) if has_dyn and cut_at is not None else ()
            if unknown:  # frames the deadline left unknown, not the module's own dynamic ones
                reasons.append("not scanned before the deadline (--timeout): " + _names_text(unknown, 8))
            if dyn or (has_dyn and not unknown):
                reasons.append("dynamic frame: " + (_names_text(dyn, 8) or "…"))
            bounded = None if has_dyn or depth is None else self.bb[c]
            rec_only = bool(f & _REACH_REC) and not has_dyn
            roots.append(WorstCase(
                idx, rname, kind, None, "dynamic" if has_dyn and not f & _REACH_REC else "recursion",
                "; ".join(reasons), cyc, dyn, bounded, imps,
                self.sb[c] if rec_only else None, self.slope[c] if rec_only else None,
                path, _Path(self, c, "bound", self.bsteps[c]) if bounded is not None else _NO_PATH))
        return roots


def cycle_text(names: tuple[str, ...], limit: int = 8) -> str:
    """``a → b → a``; a long cycle shows its first names, how many more, and the way back."""
    if len(names) <= limit:
        return " → ".join(names + names[:1])
    return " → ".join(names[:limit - 1]) + f" → … {len(names) - limit + 1} more → {names[0]}"


def analyze_stack(module: WasmModule, layout=None, *, recursion_depth: int | None = None,
                  timeout: float | None = None, deadline: Deadline | None = None,
                  partial: bool = False) -> StackAnalysis:
    """Frame sizes, call graph and worst-case stack depth of every export and of the start function.

    ``layout`` is a :class:`wasmem.model.layout.MemoryLayout` (computed when omitted); it supplies the
    stack-pointer global and the stack's size. ``recursion_depth`` bounds how many frames of a recursive
    cycle can be on the stack at once, giving a finite bound for recursive entry points. ``deadline`` (the
    command's: ``wasmem.deadline.Deadline``; or ``timeout`` seconds from now, None or 0: no limit): past it,
    AnalysisTimeout; with ``partial`` the body scan stops there instead and the analysis ends with what it
    scanned (the rest are dynamic frames, so entry points that reach them have no bound) and a note that
    says so. The graph solve that follows a cut is not cut again (it is linear and needs what was scanned).

    Time and memory are linear in functions + call edges (a few bytes per function and edge); paths are
    kept as best-successor pointers and walked when asked for.
    """
    if layout is None:
        from .layout import analyze

        layout = analyze(module)
    if recursion_depth is not None and recursion_depth < 1:
        raise ValueError("recursion_depth must be at least 1")
    sp = layout.stack_pointer
    sp_index = sp.global_index if sp is not None else None
    notes: list[str] = []
    if sp is None:
        sp_reason = "no stack pointer: every frame is 0 bytes of linear stack"
        notes.append("no stack-pointer global was found, so no function uses the linear stack "
                     "(frames are all 0)" if not layout.go else
                     "Go's wasm backend keeps its stacks in the Go heap: there is no C linear stack")
    else:
        sp_reason = f"global {sp.global_index}: {sp.detail}"
    deadline = deadline if deadline is not None else Deadline(timeout)
    frames = analyze_frames(module, sp_index, deadline=deadline, partial=partial)
    if frames.not_scanned:
        total = len(module.functions)
        notes.append(deadline.cut_note("the stack analysis", f"{frames.not_scanned} of {total} function bodies "
                                       "were not scanned; they count as dynamic frames (size and calls unknown), "
                                       "so the entry points that reach them have no bound and no stack size is "
                                       "recommended"))
        deadline = _NO_DEADLINE
    nimp = module.num_imported_funcs
    if nimp:
        notes.append("imported functions are counted as 0 bytes: their frames live in the host, not in "
                     "linear memory")
    unresolved = sum(1 for sites in frames._indirect.values() for ic in sites if not ic.resolved)
    if unresolved:
        notes.append(f"{unresolved} indirect call site(s) go through an imported/exported table or call_ref: "
                     "resolved to the module's own functions of the right type only")

    graph = _Graph(frames, recursion_depth, deadline, names_limit=value_of(module, "stack-names"))
    entry = []
    seen_roots: set[tuple[int, str]] = set()
    candidates = []
    if module.start is not None:
        candidates.append((module.start, frames.name(module.start) if module.start in frames else str(module.start),
                           "start"))
    for e in module.exports:
        if e.kind == "func":
            candidates.append((e.index, e.name, "export"))
    for idx, name, kind in candidates:
        if (idx, name) in seen_roots or idx not in frames:
            continue
        seen_roots.add((idx, name))
        entry.append((idx, name, kind))
    roots = graph.roots(entry)
    graph.roff = graph.radj = None  # only the searches needed them: paths use the pointers
    direct = _Graph(frames, recursion_depth, deadline, names_limit=graph.names_limit, indirect=False) \
        if frames._indirect else None
    direct_roots = direct.roots(entry) if direct is not None else None
    if direct is not None:
        direct.roff = direct.radj = None
    for what in sorted(graph.overflow):
        notes.append(f"more than {graph.names_limit:,} {what}: the lists per entry point name only those among the "
                     f"first {graph.names_limit:,} (by index); {lift('stack-names')}")
    largest = frames.largest(1)
    return StackAnalysis(module.path, sp_index, sp_reason, frames, roots, layout.stack_size, layout.stack_low,
                         layout.stack_high, layout.layout_kind, recursion_depth, list(graph.cycles), notes,
                         largest[0] if largest else None, direct_roots,
                         list(direct.cycles) if direct is not None else None)


# ------------------------------------------------------------------------------------------------
# JSON
# ------------------------------------------------------------------------------------------------

def stack_to_dict(sa: StackAnalysis, headroom_pct: float | None = None, *, lazy: bool = False) -> dict:
    """The analysis as JSON data (docs/json.md#stack): complete, but built without copies: names are the
    analysis' own strings, each path step object is made once per function and shared by every path
    through it, and paths are walked from the analysis' best-successor pointers. With ``lazy`` the
    ``frames``, ``indirect_targets`` and ``roots`` lists are generators, made one element at a time as a
    streaming writer (the CLI's ``print_json``) consumes them, in that order."""
    worst = sa.worst_bytes
    fr = sa.frames
    name = fr.name
    # the functions an indirect call may reach depend only on (table, type): list each set once
    target_sets: dict[tuple, int] = {}
    by_id: dict[tuple[int | None, int, int], int] = {}

    def target_set(ic) -> int:
        k = by_id.get((ic.table, ic.type_index, id(ic.targets)))
        if k is None:
            key = (ic.table, ic.type_index, ic.targets)
            k = target_sets.setdefault(key, len(target_sets))
            by_id[(ic.table, ic.type_index, id(ic.targets))] = k
        return k

    def frame(i: int) -> dict:
        fl = fr._flags[i]
        return {"function": name(i), "index": i, "size": fr._size[i], "align_slack": fr._slack.get(i, 0),
                "dynamic": bool(fl & _DYNAMIC), "writes_sp": bool(fl & _WRITES), "imported": bool(fl & _IMPORTED),
                "note": fr._notes.get(i), "calls": [name(c) for c in fr.calls(i)],
                "indirect": [{"kind": ic.kind, "type": ic.type_index, "table": ic.table,
                              "targets": target_set(ic), "resolved": ic.resolved} for ic in fr.indirect(i)]}

    frames = (frame(i) for i in fr.order())
    steps: dict[tuple[int, int], dict] = {}

    def path(r: WorstCase, bounded: bool):
        if lazy:  # one step object at a time, dropped once written
            return ({"function": s.name, "index": s.index, "bytes": s.bytes, "repeat": s.repeat}
                    for s in r.iter_path(bounded))
        out = []
        for s in r.iter_path(bounded):
            d = steps.get((s.index, s.repeat))
            if d is None:
                d = steps[(s.index, s.repeat)] = {"function": s.name, "index": s.index, "bytes": s.bytes,
                                                  "repeat": s.repeat}
            out.append(d)
        return out

    def indirect_targets():  # after the frames: they fill target_sets
        for (_table, _type, targets) in target_sets:
            yield [name(t) for t in targets]

    roots = ({"function": r.name, "index": r.index, "kind": r.kind, "bytes": r.bytes,
              "unbounded": r.unbounded, "reason": r.reason, "cycle": list(r.cycle),
              "dynamic": list(r.dynamic), "bounded_bytes": r.bounded_bytes,
              "path": path(r, False), "bounded_path": path(r, True),
              "calls_imports": list(r.calls_imports)} for r in sa.roots)
    if not lazy:
        frames = list(frames)
    return {
        "schema": 1,
        "file": sa.path,
        "stack_pointer": {"global": sa.sp_global, "reason": sa.sp_reason},
        "stack": {"low": sa.stack_low, "high": sa.stack_high, "size": sa.stack_size, "layout": sa.layout_kind},
        "recursion_depth": sa.recursion_depth,
        "frames": frames,
        "indirect_targets": indirect_targets() if lazy else list(indirect_targets()),
        "roots": roots if lazy else list(roots),
        "cycles": [[name(v) for v in c] for c in sa.cycles],
        "worst_bytes": worst,
        "headroom_pct": sa.headroom_pct(),
        "recommended_stack_size": sa.recommended_stack_size(headroom_pct or 0.0),
        "requested_headroom_pct": headroom_pct,
        "notes": list(sa.notes),
    }
