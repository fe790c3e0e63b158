"""DWARF in wasm through pyelftools: the index of a module's DIEs, its variables, functions and types, and its
line table (the reading itself, defensive and budgeted, is dwarfread.py's).

Imported lazily (``wasmem.debuginfo.load_debug_info``) so that ``import wasmem`` never pulls in
pyelftools. Code addresses in DWARF are offsets from the start of the code section's payload.

DWARF comes from the module, so it is read defensively:

- every walk is iterative or bounded (``MAX_TYPE_DEPTH`` levels, see ``typesys``): cycles and
  absurd nesting show as ``<cycle>`` / ``<too deep>``, never as a RecursionError;
- DIEs are read once, in order, with ``CompileUnit.iter_DIEs``; children and references are
  resolved through our own index (a reference to anything but the start of a DIE is dropped), so
  pyelftools never follows ``DW_AT_sibling`` or parses a DIE at an arbitrary offset;
- the work is budgeted (``dwarfread.DwarfBudget``): attribute decodes and bytes read out of line
  (strings, line tables, address tables). The budgets count work, never time, so the same module reads
  the same on an idle machine and on a loaded one. Past a limit, reading stops with a
  ``DwarfLimitExceeded`` (a ParseError): the symbol table then falls back to the name section and
  says why, exactly as for damaged DWARF (``SymbolTable.dwarf_note``); a line table over its own
  budget leaves the names and types and says why in ``DebugInfo.line_error``.

Questions about one place (the function at a code offset or of a function index, its line, its frame's
variables) read only the unit holding it when the DWARF index (dwindex.py, cached on disk by dwcache.py) says
which: that reading is dwlazy.py's ``LazyUnits``, a part of ``DebugInfo``. The lists of everything
(``variables``, ``functions``, ``find_type``) still read every unit, and a full reading the index shows to be
over the decodes budget is refused before any work (``check_budget``).

This file is over 800 lines, on purpose for now: ``DebugInfo``'s index of DIEs (DIEs by offset, their
children, the per-unit file tables) is private state that the variable walk, the type builder and the line
queries all read directly; the per-unit reading moved out (dwlazy.py), the type builder is the next part to
move, once that index of DIEs is an interface of its own.
"""

from __future__ import annotations

import bisect
import posixpath
from functools import cached_property

from elftools.common.exceptions import ELFError
from elftools.dwarf.dwarf_expr import DWARFExprParser
from elftools.dwarf.dwarfinfo import DWARFInfo

from ..deadline import current as current_deadline
from ..errors import AnalysisTimeout, ParseError
from .dwarfread import (
    ABBREV_SPEC_WEIGHT,
    DwarfBudget,
    DwarfLimitExceeded,
    DwarfMeter,
    check_leb_runs,
    check_line_header,
    scan_abbrev_table,
)
from .dwindex import stats as reading_stats
from .dwlazy import LazyUnits
from .records import FUNCTION, VARIABLE, Symbol
from .typesys import (
    CYCLE_LABEL,
    MAX_TYPE_DEPTH,
    POINTER_SIZE,
    TOO_DEEP_LABEL,
    ArrayType,
    BaseType,
    EnumType,
    FunctionType,
    Member,
    PointerType,
    QualifiedType,
    StructType,
    Type,
    TypedefType,
    UnknownType,
    VoidType,
    freeze,
    sizeof,
)

TOMBSTONES = (0xFFFFFFFF, 0xFFFFFFFE, 0xFFFFFFFFFFFFFFFF, 0xFFFFFFFFFFFFFFFE)

MAX_SCOPE_NAMES = 64  # nested namespace names kept in a qualified name (deeper ones show as …)


_ENCODINGS = {
    0x1: "address", 0x2: "boolean", 0x3: "complex_float", 0x4: "float", 0x5: "signed",
    0x6: "signed_char", 0x7: "unsigned", 0x8: "unsigned_char", 0x10: "utf",
}

_QUALIFIERS = {
    "DW_TAG_const_type": "const", "DW_TAG_volatile_type": "volatile",
    "DW_TAG_restrict_type": "restrict", "DW_TAG_atomic_type": "_Atomic",
}
_POINTERS = {
    "DW_TAG_pointer_type": "pointer", "DW_TAG_reference_type": "reference",
    "DW_TAG_rvalue_reference_type": "rvalue_reference",
}
_AGGREGATES = {"DW_TAG_structure_type": "struct", "DW_TAG_union_type": "union", "DW_TAG_class_type": "class"}
_NAMED_TYPE_TAGS = (set(_AGGREGATES) | {"DW_TAG_enumeration_type", "DW_TAG_typedef", "DW_TAG_base_type"})
_SCOPES = {"DW_TAG_namespace", "DW_TAG_module"}
_LOCAL_REFS = {"DW_FORM_ref1", "DW_FORM_ref2", "DW_FORM_ref4", "DW_FORM_ref8", "DW_FORM_ref_udata"}


def _s(v) -> str:
    if isinstance(v, (bytes, bytearray)):
        return v.decode("utf-8", "replace")
    if isinstance(v, int) and _int(v) is None:
        return "<number>"  # a name written as a number thousands of digits long
    return str(v)


_HUGE = 1 << 64


def _describe(e: BaseException) -> str:
    """``Type: message`` of an error from pyelftools, at most 200 characters (its message may hold
    a number too large to print, or a whole damaged section)."""
    try:
        text = str(e)
    except Exception:  # e.g. KeyError of a 5,000-digit abbreviation code
        text = "(a value too large to show)"
    text = f"{type(e).__name__}: {text}"
    return text if len(text) <= 200 else text[:199] + "…"


def _int(v) -> int | None:
    """``v`` when it is an int that fits in 64 bits (signed or not), else None: a ULEB128 can hold
    any number, and a 5,000-digit one cannot even be printed (Python refuses to)."""
    return v if isinstance(v, int) and not isinstance(v, bool) and -_HUGE < v < _HUGE else None


class _CUFiles:
    """File names of one CU's line program (DWARF 4: 1-based; DWARF 5: 0-based)."""

    def __init__(self, lineprog, comp_dir: str | None):
        self.names: list[str | None] = []
        if lineprog is None:
            return
        hdr = lineprog.header
        version = hdr["version"]
        # a damaged DWARF 5 header can leave these None in pyelftools
        dirs = [_s(d) for d in hdr.get("include_directory") or ()]
        files = hdr.get("file_entry") or ()
        out: list[str | None] = [] if version >= 5 else [None]
        for fe in files:
            if not isinstance(fe.name, (bytes, str)) or not isinstance(fe.dir_index, int):
                raise ValueError("a damaged line table header")  # names read from the wrong place
            name = _s(fe.name)
            di = fe.dir_index
            if version >= 5:
                d = dirs[di] if di < len(dirs) and di > 0 else None
            else:
                d = dirs[di - 1] if 0 < di <= len(dirs) else None
            if d and d != "." and not posixpath.isabs(name):
                name = posixpath.join(d, name)
            out.append(name)
        self.names = out

    def get(self, index) -> str | None:
        if not isinstance(index, int) or not 0 <= index < len(self.names):
            return None
        return self.names[index]


class DebugInfo(LazyUnits):
    """Everything wasmem takes from DWARF: data symbols, functions, types and the line table. Questions about
    one place (the function at a code offset, its line, its frame's variables, the function of an export) read
    only the unit holding it when an index is given (dwlazy.py); the lists of everything read every unit."""

    def __init__(self, dwarfinfo: DWARFInfo, code_start: int = 0, *, body_starts: dict[int, int] | None = None,
                 source: str | None = None, meter: DwarfMeter | None = None, global_value=None,
                 budgets=None, index_source=None):
        self.dwarfinfo = dwarfinfo
        self.budgets = budgets  # the wasmem.budgets.Budgets raised for the module (--budget), or None
        # global index -> its value, for DW_OP_WASM_location global-relative addresses (position-independent
        # code: a variable at __memory_base + offset); None when unknown
        self.global_value = global_value or (lambda index: None)
        self.code_start = code_start
        self.body_starts = body_starts or {}  # code offset of a body → function index
        self.source = source  # path of an external debug file, when followed
        self._meter = meter or DwarfMeter()  # the streams of a build_dwarfinfo(module, meter) charge it
        self._types: dict[int, Type] = {}
        self._named: dict[str, Type] = {}
        self._variables: list[Symbol] = []
        self._functions: list[Symbol] = []
        self._subprograms: list = []  # (low, high, DIE, ctx) of each function with code, for frame_variables
        self._dies: dict = {}  # offset → DIE, every DIE of every unit
        self._children: dict[int, list] = {}  # offset → child DIEs (DIEs that have children)
        self._tops: list = []  # (unit, top DIE)
        self._abbrevs: dict[int, dict[int, int]] = {}  # abbreviation table offset → {code: attributes}
        self._building: dict[int, int] = {}  # type DIEs being built: offset → position in _build_tags
        self._build_tags: list[str] = []
        self._files: dict[int, _CUFiles] = {}  # line table offset → its file names
        self._bad_lines: set[int] = set()  # line table offsets whose header is damaged
        self._loaded = False
        self._line_damage: str | None = None  # "" once .debug_line passed check_leb_runs
        self.line_error: str | None = None  # why the line table is not used, if it is not
        self.init_lazy(index_source)  # () -> the DWARF index (dwindex.py), for reading a unit at a time

    def _new_budget(self) -> DwarfBudget:
        size = sum(s.size for s in (self.dwarfinfo.debug_info_sec, self.dwarfinfo.debug_abbrev_sec) if s is not None)
        b = self.budgets
        return DwarfBudget.for_sizes(size, b.get("dwarf") if b else None, b.get("dwarf-read") if b else None,
                                     deadline=current_deadline())

    # -- the one pass over all DIEs ------------------------------------------------------------
    def load(self) -> None:
        """Reads every compile unit once (raises ParseError for malformed DWARF, and
        DwarfLimitExceeded when reading it would cost more than the budget — again on every later
        call, so that a second reader never sees half-read DWARF as whole). AnalysisTimeout when the command's
        deadline passes first: what was read is forgotten, and a later command reads again under its own."""
        if self._loaded:
            if getattr(self, "_load_error", None) is not None:
                raise self._load_error
            return
        self._loaded = True
        try:
            self._load_all()
        except ParseError as exc:
            self._load_error = exc
            raise
        except AnalysisTimeout:
            self._forget()
            raise

    def _forget(self) -> None:
        """Back to nothing read (a read the deadline stopped half-way)."""
        self._types, self._named, self._variables, self._functions, self._subprograms = {}, {}, [], [], []
        self._dies, self._children, self._tops, self._abbrevs = {}, {}, [], {}
        self._building, self._build_tags, self._files, self._bad_lines = {}, [], {}, set()
        self._loaded = False

    def _load_all(self) -> None:
        self.check_budget()
        if self._indexed_units:  # units read one at a time: read again in order (answers never depend on them)
            self._forget()
            self._loaded = True
            self.reset_lazy()
        budget = self._new_budget()
        self._meter.budget = budget
        try:
            self._guarded(budget, lambda: self._read_all(budget))
        finally:
            self._meter.budget = None
        freeze(self._types.values())
        for f in self._functions:
            freeze((f.type,))
        self._variables.sort(key=lambda s: (s.address, s.name))
        self._functions.sort(key=lambda s: (s.address, s.name))

    def _read_all(self, budget: DwarfBudget) -> None:
        for sec in (self.dwarfinfo.debug_info_sec, self.dwarfinfo.debug_abbrev_sec):
            if sec is not None:
                check_leb_runs(sec.stream.getbuffer(), sec.name)
        for cu in self.dwarfinfo.iter_CUs():
            self._index_cu(cu, budget)
        for cu, top in self._tops:
            budget.tick()
            self._load_cu(cu, top)

    def _guarded(self, budget: DwarfBudget, work) -> None:
        """``work()``, with what pyelftools raises on damaged DWARF turned into ParseError (the budget's own
        limit, when one was reached, rather than pyelftools' wrapping of it)."""
        try:
            work()
        except ParseError:
            raise
        except (ELFError, ValueError, KeyError, IndexError, AssertionError, TypeError, EOFError) as e:
            # TypeError: pyelftools hands back None where a damaged section lacks a field
            budget.recheck()
            raise ParseError(f"malformed DWARF ({_describe(e)})", None) from e
        except Exception as e:  # construct errors and the like from a damaged section
            budget.recheck()
            if type(e).__module__.startswith(("construct", "elftools")):
                raise ParseError(f"malformed DWARF ({_describe(e)})", None) from e
            raise

    def _index_cu(self, cu, budget: DwarfBudget) -> None:
        """Reads the DIEs of one unit in order (iteratively: nesting depth costs nothing) into
        ``_dies``/``_children``, charging each DIE and its attributes to the budget."""
        budget.charge(1)
        aoff = cu["debug_abbrev_offset"]
        counts = self._abbrevs.get(aoff)
        if counts is None:
            sec = self.dwarfinfo.debug_abbrev_sec
            if sec is None or not 0 <= aoff < sec.size:
                raise ParseError(f"malformed DWARF (abbreviation table offset {aoff:#x} is outside .debug_abbrev)",
                                 None)
            counts, specs = scan_abbrev_table(sec.stream.getbuffer(), aoff)
            budget.charge(specs)  # the scan
            budget.afford(ABBREV_SPEC_WEIGHT * specs)  # before pyelftools parses the table
            cu.get_abbrev_table()
            budget.charge(ABBREV_SPEC_WEIGHT * specs)
            self._abbrevs[aoff] = counts
        stack: list[int] = []
        top = None
        for die in cu.iter_DIEs():
            # charged after the parse: one DIE decodes at most MAX_ABBREV_ATTRIBUTES attributes
            budget.charge(1 + counts.get(die.abbrev_code, 0))
            if die.is_null():
                if stack:
                    stack.pop()
                continue
            if top is None:
                top = die
            elif stack:
                self._children[stack[-1]].append(die)
            else:
                continue  # after the unit's top DIE ended: not part of its tree
            self._dies[die.offset] = die
            if die.has_children:
                self._children[die.offset] = []
                stack.append(die.offset)
        if top is not None:
            self._tops.append((cu, top))
        self.units_parsed += 1
        reading_stats["units_parsed"] += 1

    def _kids(self, die) -> list:
        return self._children.get(die.offset, [])

    def _line_program(self, cu, top):
        """The unit's line program (pyelftools caches one per offset), or None."""
        a = top.attributes.get("DW_AT_stmt_list")
        sec = self.dwarfinfo.debug_line_sec
        if a is None or sec is None or not isinstance(a.value, int):
            return None
        if self._line_damage is None:
            try:
                check_leb_runs(sec.stream.getbuffer(), ".debug_line")
                self._line_damage = ""
            except ParseError as e:
                self._line_damage = e.message
        if self._line_damage:
            raise ParseError(self._line_damage, None)
        check_line_header(sec.stream.getbuffer(), a.value)
        return self.dwarfinfo.line_program_for_CU(cu)

    def _load_cu(self, cu, top) -> None:
        cu_name = _s(top.attributes["DW_AT_name"].value) if "DW_AT_name" in top.attributes else None
        stmt = top.attributes.get("DW_AT_stmt_list")
        key = stmt.value if stmt is not None and isinstance(stmt.value, int) else -1
        files = self._files.get(key)
        if files is None:
            try:
                lineprog = self._line_program(cu, top)
            except DwarfLimitExceeded:
                raise
            except Exception:  # a damaged line table should not hide the variables
                self._meter.recheck()
                lineprog = None
            try:
                files = _CUFiles(lineprog, None)
            except DwarfLimitExceeded:
                raise
            except Exception:  # a damaged header: neither its file names nor its rows are used
                self._meter.recheck()
                files = _CUFiles(None, None)
                self._bad_lines.add(key)
            self._files[key] = files
        expr = DWARFExprParser(cu.structs)
        ctx = (cu, cu_name, files, expr)
        self._walk(top, ctx)

    def _walk(self, top, ctx) -> None:
        """Every variable, function and named type under a unit's top DIE, in order (an explicit
        stack: 5,000 nested namespaces are 5,000 iterations, not 5,000 frames)."""
        stack: list = [(c, (), None) for c in reversed(self._kids(top))]
        while stack:
            child, scope_names, func = stack.pop()
            tag = child.tag
            inner = None  # (scope_names, func) for the child's own children, when they are walked
            if tag == "DW_TAG_variable":
                self._variable(child, ctx, scope_names, func)
            elif tag == "DW_TAG_subprogram":
                fname = self._function(child, ctx, scope_names)
                inner = (scope_names, fname or func)
            elif tag == "DW_TAG_lexical_block":
                inner = (scope_names, func)
            elif tag in _SCOPES or (tag in _AGGREGATES and child.has_children):
                name = self._attr(child, "DW_AT_name")
                if tag in _AGGREGATES:
                    self._index_type(child, scope_names)
                if tag in _SCOPES or func is None:
                    names = scope_names
                    if name is not None and len(names) < MAX_SCOPE_NAMES:
                        names = names + (_s(name),)
                    elif name is not None and names[-1:] != ("…",):
                        names = names + ("…",)
                    inner = (names, func)
            elif tag in _NAMED_TYPE_TAGS and func is None:
                self._index_type(child, scope_names)
            if inner is not None and child.has_children:
                stack.extend((c, inner[0], inner[1]) for c in reversed(self._kids(child)))

    # -- helpers ---------------------------------------------------------------------------
    @staticmethod
    def _attr(die, name, default=None):
        a = die.attributes.get(name)
        return default if a is None else a.value

    def _ref(self, die, name):
        """The DIE a reference attribute names, if it is the start of a DIE we read."""
        a = die.attributes.get(name) if die is not None else None
        if a is None or not isinstance(a.raw_value, int):
            return None
        if a.form in _LOCAL_REFS:
            return self._dies.get(die.cu.cu_offset + a.raw_value)
        if a.form == "DW_FORM_ref_addr":  # another unit's, when read one at a time, is read now
            return self._dies.get(a.raw_value) or self.die_elsewhere(a.raw_value)
        return None  # type signatures, supplementary files: not followed

    def _origin(self, die):
        """Follow DW_AT_specification / DW_AT_abstract_origin to the DIE carrying names."""
        seen = 0
        while seen < 8:
            nxt = self._ref(die, "DW_AT_specification") or self._ref(die, "DW_AT_abstract_origin")
            if nxt is None:
                return die
            die = nxt
            seen += 1
        return die

    def _lookup(self, die, name):
        if name in die.attributes:
            return die.attributes[name].value
        o = self._origin(die)
        return o.attributes[name].value if o is not die and name in o.attributes else None

    def _decl(self, die, files: _CUFiles) -> tuple[str | None, int | None]:
        f = self._lookup(die, "DW_AT_decl_file")
        line = _int(self._lookup(die, "DW_AT_decl_line"))
        return files.get(f), line

    # -- variables ---------------------------------------------------------------------------
    def _location_address(self, die, ctx) -> int | None:
        cu, _cu_name, _files, expr = ctx
        attr = die.attributes.get("DW_AT_location")
        if attr is None or not isinstance(attr.value, (list, tuple, bytes)):
            return None  # absent, or a location list (not a static)
        try:
            ops = expr.parse_expr(list(attr.value))
        except Exception:
            return None
        if not ops:
            return None
        base = None
        first = ops[0]
        if first.op_name == "DW_OP_WASM_location" and len(first.args) == 2 and first.args[0] in (1, 3) \
                and len(ops) >= 3 and ops[2].op_name == "DW_OP_plus":
            # position-independent code: DW_OP_WASM_location global G (__memory_base), DW_OP_addr X,
            # DW_OP_plus = the global's value + X
            base = self.global_value(first.args[1])
            if not isinstance(base, int):
                return None
            ops = [ops[1], *ops[3:]]
            first = ops[0]
        if first.op_name == "DW_OP_addr":
            addr = first.args[0]
        elif first.op_name in ("DW_OP_addrx", "DW_OP_GNU_addr_index"):
            try:
                addr = self.dwarfinfo.get_addr(cu, first.args[0])
            except DwarfLimitExceeded:
                raise
            except Exception:
                self._meter.recheck()
                return None
        else:
            return None  # DW_OP_WASM_location of a local or the operand stack, registers, frame-relative
        for op in ops[1:]:
            if op.op_name == "DW_OP_plus_uconst":
                addr += op.args[0]
            else:
                return None  # computed value (DW_OP_stack_value …), TLS, pieces
        return addr if base is None else (base + addr) & 0xFFFFFFFFFFFFFFFF

    def _variable(self, die, ctx, scope_names, func) -> None:
        if self._attr(die, "DW_AT_declaration"):
            return
        addr = self._location_address(die, ctx)
        if addr is None or addr in TOMBSTONES or addr == 0:
            return  # no static location, or removed by the linker
        name = self._lookup(die, "DW_AT_name")
        if name is None:
            return
        name = _s(name)
        spec = self._ref(die, "DW_AT_specification")
        if scope_names and spec is None:
            name = "::".join(scope_names + (name,))
        tdie = self._ref(die, "DW_AT_type") or (self._ref(spec, "DW_AT_type") if spec is not None else None)
        t = self.type_of(tdie) if tdie is not None else None
        file, line = self._decl(die, ctx[2])
        external = bool(self._lookup(die, "DW_AT_external"))
        self._variables.append(Symbol(
            name=name, kind=VARIABLE, address=addr, size=sizeof(t), type=t, file=file, line=line,
            source="dwarf", scope=func, compile_unit=ctx[1], external=external))

    # -- functions ---------------------------------------------------------------------------
    def _function(self, die, ctx, scope_names) -> str | None:
        name = self._lookup(die, "DW_AT_name") or self._lookup(die, "DW_AT_linkage_name")
        name = _s(name) if name is not None else None
        if name and scope_names and self._ref(die, "DW_AT_specification") is None:
            name = "::".join(scope_names + (name,))
        low = _int(self._attr(die, "DW_AT_low_pc"))
        if low is None or low in TOMBSTONES or low <= 0 or name is None:
            return name
        hattr = die.attributes.get("DW_AT_high_pc")
        if hattr is None or _int(hattr.value) is None:
            high = low + 1
        elif hattr.form in ("DW_FORM_addr", "DW_FORM_addrx", "DW_FORM_addrx1", "DW_FORM_addrx2",
                            "DW_FORM_addrx3", "DW_FORM_addrx4"):
            high = hattr.value
        else:
            high = low + hattr.value
        file, line = self._decl(die, ctx[2])
        tdie = self._ref(die, "DW_AT_type") or self._ref(self._origin(die), "DW_AT_type")
        ret = self.type_of(tdie) if tdie is not None else None
        params = []
        for c in self._kids(die):
            if c.tag == "DW_TAG_formal_parameter":
                pt = self._ref(c, "DW_AT_type") or self._ref(self._origin(c), "DW_AT_type")
                params.append(self.type_of(pt) if pt is not None else UnknownType())
        ftype = FunctionType(returns=ret, params=params)
        self._subprograms.append((low, high, die, ctx))
        self._functions.append(Symbol(
            name=name, kind=FUNCTION, address=low, size=max(0, high - low), type=ftype, file=file,
            line=line, region="code", source="dwarf", compile_unit=ctx[1],
            external=bool(self._lookup(die, "DW_AT_external")),
            func_index=self.body_starts.get(low), module_offset=self.code_start + low))
        return name

    # -- types -------------------------------------------------------------------------------
    def _index_type(self, die, scope_names) -> None:
        name = self._attr(die, "DW_AT_name")
        if name is None:
            return
        t = self.type_of(die)
        full = "::".join(scope_names + (_s(name),))
        keys = [t.name] if not scope_names else [full]
        if isinstance(t, (StructType, EnumType)):
            keys.append(full)
        for k in keys:
            old = self._named.get(k)
            if old is None or (isinstance(old, StructType) and old.declaration and not getattr(t, "declaration", False)):
                self._named[k] = t

    def type_of(self, die) -> Type:
        """The Type for a type DIE (memoised; recursive types share objects).

        Bounded: a type nested deeper than MAX_TYPE_DEPTH is an UnknownType ``<too deep>``; a
        reference back to a type still being built is kept only when the loop passes through both a
        struct/union/class and a pointer (``struct node { struct node *next; }``); any other loop
        (a typedef of itself, an array of itself, a struct holding itself) ends in ``<cycle>``."""
        if die is None:
            return VoidType()
        got = self._types.get(die.offset)
        if got is not None:
            at = self._building.get(die.offset)
            if at is not None and not self._loop_ok(at):
                return UnknownType(label=CYCLE_LABEL)
            return got
        if len(self._build_tags) >= MAX_TYPE_DEPTH:
            return UnknownType(label=TOO_DEEP_LABEL)
        self._building[die.offset] = len(self._build_tags)
        self._build_tags.append(die.tag)
        try:
            return self._make_type(die)
        finally:
            self._build_tags.pop()
            del self._building[die.offset]

    def _loop_ok(self, at: int) -> bool:
        loop = self._build_tags[at:]
        return any(t in _AGGREGATES for t in loop) and any(t in _POINTERS for t in loop)

    def _make_type(self, die) -> Type:
        tag = die.tag
        a = die.attributes
        name = _s(a["DW_AT_name"].value) if "DW_AT_name" in a else None
        size = _int(a["DW_AT_byte_size"].value) if "DW_AT_byte_size" in a else None
        if size is not None and size < 0:
            size = None
        if tag == "DW_TAG_base_type":
            enc = _ENCODINGS.get(a["DW_AT_encoding"].value if "DW_AT_encoding" in a else 0, "signed")
            t = BaseType(size=size, base_name=name or "?", encoding=enc)
            self._types[die.offset] = t
            return t
        if tag in _POINTERS:
            t = PointerType(kind=_POINTERS[tag], size=size or die.cu.header.address_size or POINTER_SIZE)
            self._types[die.offset] = t
            target = self._ref(die, "DW_AT_type")
            t.target = self.type_of(target) if target is not None else None
            return t
        if tag in _AGGREGATES:
            decl = a.get("DW_AT_declaration")
            align = a["DW_AT_alignment"].value if "DW_AT_alignment" in a else None
            t = StructType(kind=_AGGREGATES[tag], size=size, tag=name, declaration=bool(decl and decl.value),
                           declared_align=align if _int(align) is not None and align > 0 else None)
            self._types[die.offset] = t
            for c in self._kids(die):
                if c.tag in ("DW_TAG_member", "DW_TAG_inheritance"):
                    m = self._member(c, t.kind)
                    if m is not None:
                        t.members.append(m)
            return t
        if tag == "DW_TAG_array_type":
            return self._array(die, size)
        if tag == "DW_TAG_enumeration_type":
            t = EnumType(size=size, tag=name)
            self._types[die.offset] = t
            u = self._ref(die, "DW_AT_type")
            t.underlying = self.type_of(u) if u is not None else None
            if t.size is None and t.underlying is not None:
                t.size = sizeof(t.underlying)
            for c in self._kids(die):
                if c.tag == "DW_TAG_enumerator":
                    cv = self._attr(c, "DW_AT_const_value", 0)
                    t.enumerators.append((_s(self._attr(c, "DW_AT_name", "?")), _int(cv) or 0))
            return t
        if tag == "DW_TAG_typedef":
            t = TypedefType(typedef_name=name or "?")
            self._types[die.offset] = t
            target = self._ref(die, "DW_AT_type")
            t.target = self.type_of(target) if target is not None else VoidType()
            t.size = sizeof(t.target)
            return t
        if tag in _QUALIFIERS:
            t = QualifiedType(kind=_QUALIFIERS[tag])
            self._types[die.offset] = t
            target = self._ref(die, "DW_AT_type")
            t.target = self.type_of(target) if target is not None else VoidType()
            t.size = sizeof(t.target)
            return t
        if tag == "DW_TAG_subroutine_type":
            t = FunctionType()
            self._types[die.offset] = t
            r = self._ref(die, "DW_AT_type")
            t.returns = self.type_of(r) if r is not None else None
            for c in self._kids(die):
                if c.tag == "DW_TAG_formal_parameter":
                    pt = self._ref(c, "DW_AT_type")
                    t.params.append(self.type_of(pt) if pt is not None else UnknownType())
                elif c.tag == "DW_TAG_unspecified_parameters":
                    t.variadic = True
            return t
        if tag == "DW_TAG_unspecified_type":
            t = UnknownType(size=size, label=name or "<unspecified>")
        else:
            tag_name = _s(tag or "unknown")
            t = UnknownType(size=size, label=name or f"<{tag_name.removeprefix('DW_TAG_')}>")
        self._types[die.offset] = t
        return t

    def _member(self, die, agg_kind: str) -> Member | None:
        tdie = self._ref(die, "DW_AT_type")
        mt = self.type_of(tdie) if tdie is not None else UnknownType()
        loc = die.attributes.get("DW_AT_data_member_location")
        offset = 0
        if loc is not None:
            v = loc.value
            if _int(v) is not None:
                offset = v
            elif isinstance(v, (list, tuple)) and v:
                try:
                    ops = DWARFExprParser(die.cu.structs).parse_expr(list(v))
                    if ops and ops[0].op_name == "DW_OP_plus_uconst" and _int(ops[0].args[0]) is not None:
                        offset = ops[0].args[0]
                except Exception:
                    offset = 0
        bit_size = self._attr(die, "DW_AT_bit_size")
        if _int(bit_size) is None or not 0 < bit_size <= 128:
            bit_size = None
        bit_offset = None
        if bit_size is not None:
            storage = sizeof(mt) or 4
            dbo = _int(self._attr(die, "DW_AT_data_bit_offset"))
            if dbo is not None:
                offset = (dbo // (storage * 8)) * storage
                bit_offset = dbo - offset * 8
            else:
                old = _int(self._attr(die, "DW_AT_bit_offset"))  # DWARF 2/3: from the most significant bit
                if old is not None:
                    bit_offset = storage * 8 - old - bit_size
        name = self._attr(die, "DW_AT_name")
        return Member(name=_s(name) if name is not None else None, type=mt, offset=offset,
                      bit_size=bit_size, bit_offset=bit_offset)

    def _array(self, die, size) -> Type:
        counts: list[int | None] = []
        for c in self._kids(die):
            if c.tag in ("DW_TAG_subrange_type", "DW_TAG_enumeration_type"):
                cnt = self._attr(c, "DW_AT_count")
                if cnt is None:
                    ub = _int(self._attr(c, "DW_AT_upper_bound"))
                    lb = _int(self._attr(c, "DW_AT_lower_bound", 0))
                    form = c.attributes["DW_AT_upper_bound"].form if "DW_AT_upper_bound" in c.attributes else ""
                    if ub is not None and "ref" not in form and "exprloc" not in form:
                        cnt = ub - (lb or 0) + 1
                if _int(cnt) is None or cnt < 0:
                    cnt = None
                counts.append(cnt)
        if not counts:
            counts = [None]
        # the outer ArrayType is registered first so a self-reference resolves
        outer = ArrayType(count=counts[0], size=size)
        self._types[die.offset] = outer
        edie = self._ref(die, "DW_AT_type")
        elem = self.type_of(edie) if edie is not None else UnknownType()
        inner = counts[1:]
        if len(inner) >= MAX_TYPE_DEPTH:  # 1,000 dimensions: the innermost ones become one opaque element
            keep, rest = inner[:MAX_TYPE_DEPTH - 1], inner[MAX_TYPE_DEPTH - 1:]
            es = sizeof(elem)
            for cnt in rest:
                es = None if es is None or cnt is None else _int(es * cnt)
            elem = UnknownType(size=es, label=TOO_DEEP_LABEL)
            inner = keep
        for cnt in reversed(inner):
            es = sizeof(elem)
            elem = ArrayType(element=elem, count=cnt, size=None if es is None or cnt is None else _int(es * cnt))
        outer.element = elem
        if outer.size is None:
            es = sizeof(elem)
            outer.size = None if es is None or outer.count is None else _int(es * outer.count)
        return outer

    # -- public ------------------------------------------------------------------------------
    @property
    def variables(self) -> list[Symbol]:
        """Data symbols with a static address, sorted by address."""
        self.load()
        return self._variables

    @property
    def functions(self) -> list[Symbol]:
        """Functions with code, sorted by code offset."""
        self.load()
        return self._functions

    def find_type(self, name: str) -> Type | None:
        """A named type: ``point_t``, ``struct node``, ``node``, ``int`` or a pointer/array of one
        (``struct node *``, ``int[4]``)."""
        self.load()
        name = " ".join(name.split())
        suffixes: list[tuple[str, int]] = []  # declarators peeled off the end, outermost last
        for _ in range(MAX_TYPE_DEPTH):
            t = self._named.get(name)
            if t is None:
                for kw in ("struct ", "union ", "class ", "enum "):
                    if name.startswith(kw):
                        t = self._named.get(name[len(kw):])
                        break
            if t is not None:
                break
            if name.endswith("*"):
                suffixes.append(("*", 0))
                name = name[:-1].rstrip()
            elif name.endswith("]") and "[" in name:
                base, _, dim = name[:-1].rpartition("[")
                if not dim.strip().isdigit():
                    return None
                suffixes.append(("[]", int(dim)))
                name = base.rstrip()
            else:
                return None
        else:
            return None
        for kind, n in reversed(suffixes):
            if kind == "*":
                t = PointerType(target=t)
            else:
                es = sizeof(t)
                t = ArrayType(element=t, count=n, size=None if es is None else es * n)
        return t

    @cached_property
    def _line_rows(self) -> tuple[list[int], list[tuple[str | None, int] | None]]:
        """Sorted (address, (file, line) or None for an end of sequence). Empty when the line
        table cannot be read within its own budget (``line_error`` says why)."""
        self.load()
        budget = self._new_budget()
        self._meter.budget = budget
        try:
            return self.read_line_rows(budget, self._tops)
        except DwarfLimitExceeded as e:
            self.line_error = e.message
            return [], []
        finally:
            self._meter.budget = None

    def read_line_rows(self, budget: DwarfBudget, tops):
        """(addresses, rows) of the line programs of the units ``tops`` ((unit, top DIE) pairs)."""
        rows: list[tuple[int, int, tuple[str | None, int] | None]] = []
        seq = 0
        done: set[int] = set()
        for cu, top in tops:
            budget.tick()  # the command's deadline, between units (a unit's rows are bounded by the budget)
            stmt = top.attributes.get("DW_AT_stmt_list")
            if stmt is None or not isinstance(stmt.value, int) or stmt.value in done or stmt.value in self._bad_lines:
                continue  # units that share a line program add nothing; a damaged one is not used
            done.add(stmt.value)
            try:
                lp = self._line_program(cu, top)
                if lp is None:
                    continue
                files = self._files.get(stmt.value) or _CUFiles(lp, None)
                entries = lp.get_entries()
            except DwarfLimitExceeded:
                raise
            except Exception:
                budget.recheck()
                continue
            current: list[tuple[int, int, tuple[str | None, int] | None]] = []
            for entry in entries:
                st = entry.state
                if st is None:
                    continue
                if st.end_sequence:
                    # sequences of functions the linker removed start at a tombstone (or 0)
                    if current and current[0][0] not in TOMBSTONES and current[0][0] != 0:
                        rows.extend(current)
                        rows.append((st.address, seq, None))
                    current = []
                    seq += 1
                    continue
                current.append((st.address, seq, (files.get(st.file), st.line)))
        rows.sort(key=lambda r: (r[0], r[1]))
        return [r[0] for r in rows], [r[2] for r in rows]

    def addr_to_line(self, code_offset: int) -> tuple[str | None, int] | None:
        """(file, line) for a code offset (relative to the code section payload), or None.

        A function's low_pc (its locals declaration) precedes its first line row: an address in
        such a gap takes the next row when that row is in the same function. Read lazily, only the unit
        holding the function is read (its rows are the only ones this looks at); an address in no function
        reads every unit."""
        f = None
        if self.lazy:
            unit = self.unit_at(code_offset)
            if unit is not None:
                f = self.lazy_function_at(code_offset)
                addrs, vals = self.unit_line_rows(unit)
        if f is None:
            addrs, vals = self._line_rows
            f = self.function_at(code_offset)
        lo = f.address if f is not None else -1
        i = bisect.bisect_right(addrs, code_offset) - 1
        j = i
        # the last row at or before the address (within its function); line-0 rows
        # (compiler-generated) defer to the one before
        while j >= 0 and addrs[j] >= lo:
            v = vals[j]
            if v is None:
                break
            if v[1]:
                return v
            j -= 1
        if f is None:
            return None
        k = i + 1
        while k < len(addrs) and addrs[k] < f.address + (f.size or 0):
            v = vals[k]
            if v is None:
                return None
            if v[1]:
                return v
            k += 1
        return None

    def location_of(self, code_offset: int) -> str | None:
        """``file:line`` for a code offset, or None."""
        got = self.addr_to_line(code_offset)
        return None if got is None else f"{got[0] or '?'}:{got[1]}"

    @cached_property
    def _function_starts(self) -> list[int]:
        return [f.address for f in self.functions]

    def function_at(self, code_offset: int) -> Symbol | None:
        """The function whose code range holds a code offset, or None (read lazily: only its unit)."""
        if self.lazy:
            return self.lazy_function_at(code_offset)
        funcs = self.functions
        i = bisect.bisect_right(self._function_starts, code_offset) - 1
        if i >= 0 and funcs[i].address <= code_offset < funcs[i].address + max(funcs[i].size or 0, 1):
            return funcs[i]
        return None

    def frame_variables(self, code_offset: int) -> list[tuple]:
        """(name, "parameter"|"variable", type, place) of the function holding ``code_offset``, where place is
        ("local", N), ("global", N), or ("fbreg", (N, offset)) for memory at a frame base that is wasm local N
        (N None: the frame base is a global, the stack pointer). Location lists are resolved at
        ``code_offset``; anything else is left out (an empty list on damaged DWARF)."""
        if self.lazy:
            subs = self.lazy_subprograms(code_offset)
            lows = [t[0] for t in subs]
        else:
            self.load()
            subs = self._subprograms
            if not getattr(self, "_subs_sorted", False):
                subs.sort(key=lambda t: t[0])
                self._sub_lows = [t[0] for t in subs]
                self._subs_sorted = True
            lows = self._sub_lows
        i = bisect.bisect_right(lows, code_offset) - 1
        # functions do not nest: the one starting last at or before the offset, if it reaches it
        if i < 0 or not subs[i][0] <= code_offset < subs[i][1]:
            return []
        low, _high, die, ctx = subs[i]
        cu, _name, _files, expr = ctx
        try:
            from elftools.dwarf.locationlists import LocationExpr, LocationParser

            parser = LocationParser(self.dwarfinfo.location_lists())
            top_of = {u.cu_offset: t for u, t in self._tops}
        except Exception:  # noqa: BLE001 - no location lists section, damaged DWARF
            return []

        def place_of(d):
            attr = d.attributes.get("DW_AT_location") if d is not None else None
            if attr is None:
                return None
            try:
                loc = parser.parse_from_attribute(attr, cu["version"], d)
                if isinstance(loc, LocationExpr):
                    return _wasm_place(expr.parse_expr(loc.loc_expr))
                base = _int(self._attr(top_of.get(cu.cu_offset), "DW_AT_low_pc")) or 0
                for e in loc:
                    if hasattr(e, "base_address"):
                        base = e.base_address
                        continue
                    if not hasattr(e, "loc_expr"):
                        continue
                    lo, hi = e.begin_offset, e.end_offset
                    if not getattr(e, "is_absolute", False):
                        lo, hi = lo + base, hi + base
                    if lo <= code_offset < hi:
                        return _wasm_place(expr.parse_expr(e.loc_expr))
            except Exception:  # noqa: BLE001 - a damaged location: this variable is left out
                return None
            return None

        fb = None
        fba = die.attributes.get("DW_AT_frame_base")
        if fba is not None and isinstance(fba.value, (list, bytes)):
            try:
                fb = _wasm_place(expr.parse_expr(list(fba.value)))
            except Exception:  # noqa: BLE001
                fb = None
        out = []
        stack = list(reversed(self._kids(die)))
        while stack and len(out) < 1000:
            d = stack.pop()
            if d.tag == "DW_TAG_lexical_block":
                stack.extend(reversed(self._kids(d)))
                continue
            if d.tag not in ("DW_TAG_formal_parameter", "DW_TAG_variable"):
                continue
            name = self._lookup(d, "DW_AT_name")
            place = place_of(d)
            if name is None or place is None:
                continue
            if place[0] == "fbreg":
                if fb is None:
                    continue
                # a local frame base may be recorded in the frame; a global one (the stack pointer) is known
                # only as the frame base worked out for the frame (N None: no local holds it)
                place = ("fbreg", (fb[1] if fb[0] == "local" else None, place[1]))
            tdie = self._ref(d, "DW_AT_type") or self._ref(self._origin(d), "DW_AT_type")
            t = self.type_of(tdie) if tdie is not None else None
            out.append((_s(name), "parameter" if d.tag == "DW_TAG_formal_parameter" else "variable", t, place))
        return out


# -- the variables of a frame ----------------------------------------------------------------------
_WASM_LOCAL = 0  # DW_OP_WASM_location kinds: 0 local, 1 global (i32 index), 2 operand stack, 3 global (u32)
_WASM_GLOBALS = (1, 3)


def _wasm_place(ops) -> tuple | None:
    """("local", N) for ``DW_OP_WASM_location 0 N [DW_OP_stack_value]``, ("global", N) for a global's;
    ("fbreg", off) for ``DW_OP_fbreg off``; None for anything else (the operand stack, pieces, computed
    values)."""
    if not ops:
        return None
    first, rest = ops[0], [o.op_name for o in ops[1:]]
    if first.op_name == "DW_OP_WASM_location" and len(first.args) == 2 and rest in ([], ["DW_OP_stack_value"]):
        if first.args[0] == _WASM_LOCAL:
            return ("local", first.args[1])
        if first.args[0] in _WASM_GLOBALS:
            return ("global", first.args[1])
        return None  # the operand stack
    if first.op_name == "DW_OP_fbreg" and not rest:
        return ("fbreg", first.args[0])
    return None
