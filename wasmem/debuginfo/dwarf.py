"""DWARF in wasm through pyelftools: a ``DWARFInfo`` over the module's ``.debug_*`` custom sections.

Imported lazily (``wasmem.debuginfo.load_debug_info``) so that ``import wasmem`` never pulls in
pyelftools. Code addresses in DWARF are offsets from the start of the code section's payload.
"""

from __future__ import annotations

import bisect
import io
import posixpath
from functools import cached_property

from elftools.common.exceptions import ELFError
from elftools.dwarf.dwarf_expr import DWARFExprParser
from elftools.dwarf.dwarfinfo import DebugSectionDescriptor, DwarfConfig, DWARFInfo

from ..errors import ParseError
from .records import FUNCTION, VARIABLE, Symbol
from .typesys import (
    POINTER_SIZE,
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
    sizeof,
)

TOMBSTONES = (0xFFFFFFFF, 0xFFFFFFFE, 0xFFFFFFFFFFFFFFFF, 0xFFFFFFFFFFFFFFFE)

# DWARFInfo keyword → custom section name
_SECTIONS = {
    "debug_info_sec": ".debug_info",
    "debug_aranges_sec": ".debug_aranges",
    "debug_abbrev_sec": ".debug_abbrev",
    "debug_frame_sec": ".debug_frame",
    "eh_frame_sec": None,
    "debug_str_sec": ".debug_str",
    "debug_loc_sec": ".debug_loc",
    "debug_ranges_sec": ".debug_ranges",
    "debug_line_sec": ".debug_line",
    "debug_pubtypes_sec": ".debug_pubtypes",
    "debug_pubnames_sec": ".debug_pubnames",
    "debug_addr_sec": ".debug_addr",
    "debug_str_offsets_sec": ".debug_str_offsets",
    "debug_line_str_sec": ".debug_line_str",
    "debug_loclists_sec": ".debug_loclists",
    "debug_rnglists_sec": ".debug_rnglists",
    "debug_sup_sec": None,
    "gnu_debugaltlink_sec": None,
    "debug_types_sec": ".debug_types",
}

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


def build_dwarfinfo(module) -> DWARFInfo | None:
    """A DWARFInfo over ``module``'s .debug_* custom sections, or None without .debug_info."""
    secs = {s.name: s for s in module.debug_sections}
    if ".debug_info" not in secs:
        return None
    kwargs = {}
    for kw, name in _SECTIONS.items():
        h = secs.get(name) if name else None
        if h is None:
            kwargs[kw] = None
            continue
        stream = io.BytesIO(module.data[h.start:h.end])
        kwargs[kw] = DebugSectionDescriptor(stream, name, h.start, h.size, 0)
    config = DwarfConfig(little_endian=True, machine_arch="wasm32", default_address_size=4)
    return DWARFInfo(config=config, **kwargs)


def _s(v) -> str:
    return v.decode("utf-8", "replace") if isinstance(v, (bytes, bytearray)) else str(v)


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


class DebugInfo:
    """Everything wasmem takes from DWARF: data symbols, functions, types and the line table."""

    def __init__(self, dwarfinfo: DWARFInfo, code_start: int = 0, *, body_starts: dict[int, int] | None = None,
                 source: str | None = None):
        self.dwarfinfo = dwarfinfo
        self.code_start = code_start
        self.body_starts = body_starts or {}  # code offset of a body → function index
        self.source = source  # path of an external debug file, when followed
        self._types: dict[int, Type] = {}
        self._named: dict[str, Type] = {}
        self._variables: list[Symbol] = []
        self._functions: list[Symbol] = []
        self._cu_names: list[str] = []
        self._loaded = False

    # -- the one pass over all DIEs ------------------------------------------------------------
    def load(self) -> None:
        """Reads every compile unit once (raises ParseError for malformed DWARF)."""
        if self._loaded:
            return
        self._loaded = True
        try:
            for cu in self.dwarfinfo.iter_CUs():
                self._load_cu(cu)
        except (ELFError, ValueError, KeyError, IndexError, AssertionError, TypeError) as e:
            # TypeError: pyelftools hands back None where a damaged section lacks a field
            raise ParseError(f"malformed DWARF ({type(e).__name__}: {e})", None) from e
        except Exception as e:  # construct errors and the like from a damaged section
            if type(e).__module__.startswith(("construct", "elftools")):
                raise ParseError(f"malformed DWARF ({type(e).__name__}: {e})", None) from e
            raise
        self._variables.sort(key=lambda s: (s.address, s.name))
        self._functions.sort(key=lambda s: (s.address, s.name))

    def _load_cu(self, cu) -> None:
        top = cu.get_top_DIE()
        cu_name = _s(top.attributes["DW_AT_name"].value) if "DW_AT_name" in top.attributes else None
        comp_dir = _s(top.attributes["DW_AT_comp_dir"].value) if "DW_AT_comp_dir" in top.attributes else None
        if cu_name:
            self._cu_names.append(cu_name)
        try:
            lineprog = self.dwarfinfo.line_program_for_CU(cu)
        except Exception:  # a damaged line table should not hide the variables
            lineprog = None
        files = _CUFiles(lineprog, comp_dir)
        expr = DWARFExprParser(cu.structs)
        ctx = (cu, cu_name, files, expr)
        self._walk(top, ctx, scope_names=(), func=None)

    def _walk(self, die, ctx, scope_names: tuple[str, ...], func: str | None) -> None:
        for child in die.iter_children():
            tag = child.tag
            if tag == "DW_TAG_variable":
                self._variable(child, ctx, scope_names, func)
            elif tag == "DW_TAG_subprogram":
                fname = self._function(child, ctx, scope_names)
                if child.has_children:
                    self._walk(child, ctx, scope_names, fname or func)
            elif tag == "DW_TAG_lexical_block":
                if child.has_children:
                    self._walk(child, ctx, scope_names, func)
            elif tag in _SCOPES or (tag in _AGGREGATES and child.has_children):
                name = self._attr(child, "DW_AT_name")
                if tag in _AGGREGATES:
                    self._index_type(child, scope_names)
                inner = scope_names + ((_s(name),) if name is not None else ())
                if child.has_children and (tag in _SCOPES or func is None):
                    self._walk(child, ctx, inner, func)
            elif tag in _NAMED_TYPE_TAGS and func is None:
                self._index_type(child, scope_names)

    # -- helpers ---------------------------------------------------------------------------
    @staticmethod
    def _attr(die, name, default=None):
        a = die.attributes.get(name)
        return default if a is None else a.value

    def _ref(self, die, name):
        if name not in die.attributes:
            return None
        try:
            return die.get_DIE_from_attribute(name)
        except Exception:
            return None

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
        line = self._lookup(die, "DW_AT_decl_line")
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
        first = ops[0]
        if first.op_name == "DW_OP_addr":
            addr = first.args[0]
        elif first.op_name in ("DW_OP_addrx", "DW_OP_GNU_addr_index"):
            try:
                addr = self.dwarfinfo.get_addr(cu, first.args[0])
            except Exception:
                return None
        else:
            return None  # DW_OP_WASM_location, registers, frame-relative: not a static
        for op in ops[1:]:
            if op.op_name == "DW_OP_plus_uconst":
                addr += op.args[0]
            else:
                return None  # computed value (DW_OP_stack_value …), TLS, pieces
        return addr

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
        low = self._attr(die, "DW_AT_low_pc")
        if low is None or low in TOMBSTONES or low == 0 or name is None:
            return name
        hattr = die.attributes.get("DW_AT_high_pc")
        if hattr is None:
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
        for c in die.iter_children():
            if c.tag == "DW_TAG_formal_parameter":
                pt = self._ref(c, "DW_AT_type") or self._ref(self._origin(c), "DW_AT_type")
                params.append(self.type_of(pt) if pt is not None else UnknownType())
        ftype = FunctionType(returns=ret, params=params)
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
        """The Type for a type DIE (memoised; recursive types share objects)."""
        if die is None:
            return VoidType()
        got = self._types.get(die.offset)
        if got is not None:
            return got
        tag = die.tag
        a = die.attributes
        name = _s(a["DW_AT_name"].value) if "DW_AT_name" in a else None
        size = a["DW_AT_byte_size"].value if "DW_AT_byte_size" in a else None
        if size is not None and not isinstance(size, int):
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
            t = StructType(kind=_AGGREGATES[tag], size=size, tag=name,
                           declaration=bool(a.get("DW_AT_declaration") and a["DW_AT_declaration"].value),
                           declared_align=a["DW_AT_alignment"].value if "DW_AT_alignment" in a else None)
            self._types[die.offset] = t
            for c in die.iter_children():
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
            for c in die.iter_children():
                if c.tag == "DW_TAG_enumerator":
                    cv = self._attr(c, "DW_AT_const_value", 0)
                    t.enumerators.append((_s(self._attr(c, "DW_AT_name", "?")), cv))
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
            for c in die.iter_children():
                if c.tag == "DW_TAG_formal_parameter":
                    pt = self._ref(c, "DW_AT_type")
                    t.params.append(self.type_of(pt) if pt is not None else UnknownType())
                elif c.tag == "DW_TAG_unspecified_parameters":
                    t.variadic = True
            return t
        if tag == "DW_TAG_unspecified_type":
            t = UnknownType(size=size, label=name or "<unspecified>")
        else:
            tag_name = str(tag or "unknown")
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
            if isinstance(v, int):
                offset = v
            elif isinstance(v, (list, tuple)) and v:
                try:
                    ops = DWARFExprParser(die.cu.structs).parse_expr(list(v))
                    if ops and ops[0].op_name == "DW_OP_plus_uconst":
                        offset = ops[0].args[0]
                except Exception:
                    offset = 0
        bit_size = self._attr(die, "DW_AT_bit_size")
        bit_offset = None
        if bit_size is not None:
            storage = sizeof(mt) or 4
            dbo = self._attr(die, "DW_AT_data_bit_offset")
            if dbo is not None:
                offset = (dbo // (storage * 8)) * storage
                bit_offset = dbo - offset * 8
            else:
                old = self._attr(die, "DW_AT_bit_offset")  # DWARF 2/3: from the most significant bit
                if old is not None:
                    bit_offset = storage * 8 - old - bit_size
        name = self._attr(die, "DW_AT_name")
        return Member(name=_s(name) if name is not None else None, type=mt, offset=offset,
                      bit_size=bit_size, bit_offset=bit_offset)

    def _array(self, die, size) -> Type:
        counts: list[int | None] = []
        for c in die.iter_children():
            if c.tag in ("DW_TAG_subrange_type", "DW_TAG_enumeration_type"):
                cnt = self._attr(c, "DW_AT_count")
                if cnt is None:
                    ub = self._attr(c, "DW_AT_upper_bound")
                    lb = self._attr(c, "DW_AT_lower_bound", 0)
                    form = c.attributes["DW_AT_upper_bound"].form if "DW_AT_upper_bound" in c.attributes else ""
                    if isinstance(ub, int) and "ref" not in form and "exprloc" not in form:
                        cnt = ub - (lb if isinstance(lb, int) else 0) + 1
                if not isinstance(cnt, int) or cnt < 0:
                    cnt = None
                counts.append(cnt)
        if not counts:
            counts = [None]
        # the outer ArrayType is registered first so a self-reference resolves
        outer = ArrayType(count=counts[0], size=size)
        self._types[die.offset] = outer
        edie = self._ref(die, "DW_AT_type")
        elem = self.type_of(edie) if edie is not None else UnknownType()
        for cnt in reversed(counts[1:]):
            es = sizeof(elem)
            elem = ArrayType(element=elem, count=cnt, size=None if es is None or cnt is None else es * cnt)
        outer.element = elem
        if outer.size is None:
            es = sizeof(elem)
            outer.size = None if es is None or outer.count is None else es * outer.count
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

    @property
    def compile_units(self) -> list[str]:
        self.load()
        return self._cu_names

    @property
    def named_types(self) -> dict[str, Type]:
        self.load()
        return self._named

    def find_type(self, name: str) -> Type | None:
        """A named type: ``point_t``, ``struct node``, ``node``, ``int`` or a pointer/array of one
        (``struct node *``, ``int[4]``)."""
        self.load()
        name = " ".join(name.split())
        t = self._named.get(name)
        if t is not None:
            return t
        if name.endswith("*"):
            inner = self.find_type(name[:-1].rstrip())
            return None if inner is None else PointerType(target=inner)
        if name.endswith("]") and "[" in name:
            base, _, dim = name[:-1].rpartition("[")
            inner = self.find_type(base)
            if inner is None or not dim.strip().isdigit():
                return None
            n = int(dim)
            es = sizeof(inner)
            return ArrayType(element=inner, count=n, size=None if es is None else es * n)
        for kw in ("struct ", "union ", "class ", "enum "):
            if name.startswith(kw):
                return self._named.get(name[len(kw):])
        return None

    @cached_property
    def _line_rows(self) -> tuple[list[int], list[tuple[str | None, int] | None]]:
        """Sorted (address, (file, line) or None for an end of sequence)."""
        rows: list[tuple[int, int, tuple[str | None, int] | None]] = []
        seq = 0
        for cu in self.dwarfinfo.iter_CUs():
            try:
                lp = self.dwarfinfo.line_program_for_CU(cu)
            except Exception:
                continue
            if lp is None:
                continue
            top = cu.get_top_DIE()
            comp_dir = top.attributes.get("DW_AT_comp_dir")
            files = _CUFiles(lp, _s(comp_dir.value) if comp_dir else None)
            current: list[tuple[int, int, tuple[str | None, int] | None]] = []
            for entry in lp.get_entries():
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
        such a gap takes the next row when that row is in the same function."""
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
        """The function whose code range holds a code offset, or None."""
        funcs = self.functions
        i = bisect.bisect_right(self._function_starts, code_offset) - 1
        if i >= 0 and funcs[i].address <= code_offset < funcs[i].address + max(funcs[i].size or 0, 1):
            return funcs[i]
        return None
