"""Where the static variables are, from .debug_info, in one fast pass: ``(name, address, size)``.

The layout needs one fact from DWARF — the highest byte a static variable occupies (the proof of where
.bss ends when the module does not export ``__data_end``) — and `inspect` must not pay the full reading
for it (pyelftools builds every DIE and every type: yosys's 2 MB of .debug_info take 10 s and 300 MB).
This pass decodes the entries itself, stdlib only, and skips what it does not need: an abbreviation whose
attributes all have fixed sizes is skipped in one step, only variables (and the types their sizes follow)
are decoded. It reads exactly the variables ``DebugInfo.variables`` lists — the same DIEs walked, the same
names (qualified by namespace), addresses (``DW_OP_addr``, ``DW_OP_addrx``, PIC's ``DW_OP_WASM_location``
global + ``DW_OP_addr`` + ``DW_OP_plus``, then ``DW_OP_plus_uconst``) and sizes (typedefs, qualifiers,
enums and array dimensions followed; a type loop or more than MAX_TYPE_DEPTH levels is "size unknown") —
so that `inspect` and `symbols` agree; tests compare the two on every DWARF fixture.

Bounded: the work is linear in the section (every entry costs at least its one-byte abbreviation code;
each type is sized once; a name follows at most 8 specification/origin links) and a budget of entries
walked stops it: work counted, not time, so a module scans the same on a loaded machine. Damaged DWARF
raises ParseError; a scan over its budget raises VariableScanOverBudget.
"""

from __future__ import annotations

import bisect

from ..budgets import BUDGETS, lift
from ..errors import ParseError

# entries walked (each unit's top entry included) before the scan stops: some 35 MB of .debug_info (about
# 9 bytes an entry), about 4 s of work; far above what the tests' and benchmarks' modules have (yosys: 2 MB)
MAX_SCAN_ENTRIES = BUDGETS["varscan"].default  # unless --budget varscan=N
MAX_TYPE_DEPTH = 64  # as wasmem.debuginfo.typesys.MAX_TYPE_DEPTH (the full reading's limit)
MAX_SCOPE_NAMES = 64  # as wasmem.debuginfo.dwarf.MAX_SCOPE_NAMES
MAX_ORIGIN_LINKS = 8
TOMBSTONES = (0xFFFFFFFF, 0xFFFFFFFE, 0xFFFFFFFFFFFFFFFF, 0xFFFFFFFFFFFFFFFE)
_HUGE = 1 << 64

# tags
_ARRAY, _CLASS, _ENUM, _LEXICAL_BLOCK, _POINTER, _REFERENCE = 0x01, 0x02, 0x04, 0x0B, 0x0F, 0x10
_STRUCT, _SUBROUTINE_TYPE, _TYPEDEF, _UNION, _MODULE, _SUBRANGE = 0x13, 0x15, 0x16, 0x17, 0x1E, 0x21
_BASE, _CONST, _SUBPROGRAM, _VARIABLE, _VOLATILE, _RESTRICT = 0x24, 0x26, 0x2E, 0x34, 0x35, 0x37
_NAMESPACE, _RVALUE_REFERENCE, _ATOMIC = 0x39, 0x42, 0x47
_AGGREGATES = (_STRUCT, _UNION, _CLASS)
_QUALIFIERS = (_TYPEDEF, _CONST, _VOLATILE, _RESTRICT, _ATOMIC)
_POINTERS = (_POINTER, _REFERENCE, _RVALUE_REFERENCE)
_SCOPES = (_NAMESPACE, _MODULE)
_WALKED = frozenset((_VARIABLE, _SUBPROGRAM, _LEXICAL_BLOCK, *_SCOPES, *_AGGREGATES))

# attributes
_AT_LOCATION, _AT_NAME, _AT_BYTE_SIZE, _AT_LOWER_BOUND, _AT_UPPER_BOUND = 0x02, 0x03, 0x0B, 0x22, 0x2F
_AT_ABSTRACT_ORIGIN, _AT_COUNT, _AT_DECLARATION, _AT_SPECIFICATION, _AT_TYPE = 0x31, 0x37, 0x3C, 0x47, 0x49
_AT_STR_OFFSETS_BASE, _AT_ADDR_BASE, _AT_LINKAGE_NAME = 0x72, 0x73, 0x6E

# forms whose size depends on nothing: {form: size}; "addr" and "off" depend on the unit
_FIXED = {0x05: 2, 0x06: 4, 0x07: 8, 0x0B: 1, 0x0C: 1, 0x11: 1, 0x12: 2, 0x13: 4, 0x14: 8, 0x19: 0, 0x1C: 4,
          0x1E: 16, 0x20: 8, 0x21: 0, 0x24: 8, 0x25: 1, 0x26: 2, 0x27: 3, 0x28: 4, 0x29: 1, 0x2A: 2, 0x2B: 3,
          0x2C: 4}
_OFFSET_FORMS = (0x0E, 0x17, 0x1D, 0x1F, 0x1F20, 0x1F21)  # strp, sec_offset, strp_sup, line_strp, GNU alt
_LEB_FORMS = (0x0D, 0x0F, 0x15, 0x1A, 0x1B, 0x22, 0x23, 0x1F01, 0x1F02)
_BLOCK_FORMS = {0x09: 0, 0x18: 0, 0x0A: 1, 0x03: 2, 0x04: 4}  # length: 0 = ULEB128
_LOCAL_REF_FORMS = (0x11, 0x12, 0x13, 0x14, 0x15)
_STRX_FORMS = (0x1A, 0x25, 0x26, 0x27, 0x28, 0x1F02)
_ADDRX_FORMS = (0x1B, 0x29, 0x2A, 0x2B, 0x2C, 0x1F01)


# the attributes this scan reads; an attribute of a zero-size form (flag_present, implicit_const) that is
# not one of these, or that a later specification of the same attribute overrides, is dropped from its
# abbreviation: it takes no bytes, so 256 of them cost nothing per entry
_READ = frozenset((0x02, 0x03, 0x0B, 0x22, 0x2F, 0x31, 0x37, 0x3C, 0x47, 0x49, 0x72, 0x73, 0x6E))


def _useful(specs: list) -> tuple:
    later: set[int] = set()
    keep = []
    for attr, form, implicit in reversed(specs):
        if form not in (0x19, 0x21) or (attr in _READ and attr not in later):
            keep.append((attr, form, implicit))
        later.add(attr)
    keep.reverse()
    return tuple(keep)


class VariableScanOverBudget(ParseError):
    """The scan would walk more entries than its budget allows."""


def over_budget(limit: int) -> VariableScanOverBudget:
    """The error of a scan stopped at ``limit`` entries."""
    return VariableScanOverBudget(f"the DWARF variables scan is over its budget of {limit:,} entries; "
                                  f"{lift('varscan')}", None)


VariableScanTimeout = VariableScanOverBudget  # its earlier name (wasmem/debuginfo/layout.py catches it)


def _malformed(what: str) -> ParseError:
    return ParseError(f"malformed DWARF ({what})", None)


class _Unit:
    __slots__ = ("offset", "end", "die_start", "version", "addr_size", "off_size", "abbrevs",
                 "addr_base", "str_offsets_base", "sizes")

    def __init__(self, offset, end, die_start, version, addr_size, off_size, abbrevs):
        self.offset, self.end, self.die_start = offset, end, die_start
        self.version, self.addr_size, self.off_size, self.abbrevs = version, addr_size, off_size, abbrevs
        self.addr_base = None
        self.str_offsets_base = None
        # form → size in this unit (-1: variable)
        self.sizes = dict(_FIXED)
        self.sizes[0x01] = addr_size
        self.sizes[0x10] = off_size if version >= 3 else addr_size  # ref_addr
        for f in _OFFSET_FORMS:
            self.sizes[f] = off_size


class _Abbrev:
    __slots__ = ("tag", "children", "specs", "fixed", "nattrs")

    def __init__(self, tag, children, specs, nattrs=0):
        self.tag, self.children, self.specs = tag, children, specs
        self.nattrs = nattrs  # attribute specifications as written (the full reading decodes each)
        self.fixed: dict[int, int | None] = {}  # per unit-shape key: total size when every form is fixed


class VariableScan:
    """One module's .debug_* sections; ``variables()`` does the scan."""

    def __init__(self, sections: dict[str, bytes], global_value=None, entries: int | None = None):
        self.info = sections.get(".debug_info", b"")
        self.abbrev = sections.get(".debug_abbrev", b"")
        self.str = sections.get(".debug_str", b"")
        self.line_str = sections.get(".debug_line_str", b"")
        self.addr = sections.get(".debug_addr", b"")
        self.str_offsets = sections.get(".debug_str_offsets", b"")
        self.global_value = global_value or (lambda index: None)
        self.entry_limit = MAX_SCAN_ENTRIES if entries is None else entries
        self.entries = 0  # walked so far
        self.attributes = 0  # attributes of the entries walked (what the full reading would decode)
        self.abbrev_specs = 0  # attribute specifications of the abbreviation tables read (each counted + 1)
        self._abbrev_tables: dict[int, dict[int, _Abbrev]] = {}
        self._units: list[_Unit] = []
        self._unit_starts: list[int] = []
        self._sizes: dict[int, int | None] = {}  # type DIE offset → size (memo)
        self._sizing: set[int] = set()  # type DIEs being sized (a loop → unknown)

    # -- primitives ----------------------------------------------------------------------------
    def _over_budget(self) -> VariableScanOverBudget:
        return over_budget(self.entry_limit)

    @staticmethod
    def _uleb(buf, pos: int, end: int) -> tuple[int, int]:
        result = shift = 0
        while True:
            if pos >= end:
                raise _malformed("a LEB128 number runs past the end of its section")
            b = buf[pos]
            pos += 1
            if b < 0x80:
                return (result | (b << shift)) if shift < 70 else _HUGE, pos
            if shift < 70:
                result |= (b & 0x7F) << shift
            shift += 7

    @staticmethod
    def _sleb(buf, pos: int, end: int) -> tuple[int, int]:
        result = shift = 0
        while True:
            if pos >= end:
                raise _malformed("a LEB128 number runs past the end of its section")
            b = buf[pos]
            pos += 1
            if shift < 70:
                result |= (b & 0x7F) << shift
            shift += 7
            if b < 0x80:
                if shift > 70:
                    return _HUGE, pos  # beyond 64 bits: no size or address (decoded in linear time)
                if b & 0x40:
                    result -= 1 << shift
                return result, pos

    def _abbrevs(self, offset: int) -> dict[int, _Abbrev]:
        table = self._abbrev_tables.get(offset)
        if table is not None:
            return table
        buf = self.abbrev
        end = len(buf)
        if not 0 <= offset < end:
            raise _malformed(f"abbreviation table offset {offset:#x} is outside .debug_abbrev")
        table = {}
        pos = offset
        while True:
            code, pos = self._uleb(buf, pos, end)
            if code == 0:
                break
            tag, pos = self._uleb(buf, pos, end)
            if pos >= end:
                raise _malformed("an abbreviation runs past the end of .debug_abbrev")
            children = buf[pos] != 0
            pos += 1
            specs = []
            while True:
                attr, pos = self._uleb(buf, pos, end)
                form, pos = self._uleb(buf, pos, end)
                if attr == 0 and form == 0:
                    break
                implicit = None
                if form == 0x21:
                    implicit, pos = self._sleb(buf, pos, end)
                specs.append((attr, form, implicit))
                if len(specs) > 256:
                    raise _malformed(f"an abbreviation at .debug_abbrev+{offset:#x} has more than 256 attributes")
            table.setdefault(code, _Abbrev(tag, children, _useful(specs), len(specs)))
            self.abbrev_specs += len(specs) + 1
        self._abbrev_tables[offset] = table
        return table

    def _fixed_size(self, ab: _Abbrev, unit: _Unit) -> int | None:
        key = unit.addr_size * 100 + unit.off_size * 10 + (unit.version >= 3)
        try:
            return ab.fixed[key]
        except KeyError:
            pass
        total = 0
        for _attr, form, _imp in ab.specs:
            s = unit.sizes.get(form)
            if s is None:
                total = None
                break
            total += s
        ab.fixed[key] = total
        return total

    def _skip_form(self, form: int, pos: int, unit: _Unit, depth: int = 0) -> int:
        buf = self.info
        end = unit.end
        s = unit.sizes.get(form)
        if s is not None:
            return pos + s
        if form in _LEB_FORMS:
            while True:
                if pos >= end:
                    raise _malformed("a LEB128 number runs past the end of its unit")
                if buf[pos] < 0x80:
                    return pos + 1
                pos += 1
        if form == 0x08:  # string
            nul = buf.find(b"\0", pos, end)
            if nul < 0:
                raise _malformed("a string runs past the end of its unit")
            return nul + 1
        if form in _BLOCK_FORMS:
            n, pos = self._block_length(form, pos, unit)
            return pos + n
        if form == 0x16 and depth < 4:  # indirect
            real, pos = self._uleb(buf, pos, end)
            return self._skip_form(real, pos, unit, depth + 1)
        raise _malformed(f"unknown attribute form {form:#x}")

    def _block_length(self, form: int, pos: int, unit: _Unit) -> tuple[int, int]:
        w = _BLOCK_FORMS[form]
        if w == 0:
            return self._uleb(self.info, pos, unit.end)
        return int.from_bytes(self.info[pos:pos + w], "little"), pos + w

    def _value(self, form: int, pos: int, unit: _Unit, implicit, depth: int = 0):
        """(value, position after it) of one attribute: ints for constants, references (as
        section offsets, None when not followed) and offsets; bytes for blocks and strings."""
        buf = self.info
        if form == 0x21:
            return implicit, pos
        if form == 0x19:  # flag_present
            return True, pos
        if form in _LOCAL_REF_FORMS:
            if form == 0x15:
                v, pos = self._uleb(buf, pos, unit.end)
            else:
                n = unit.sizes[form]
                v, pos = int.from_bytes(buf[pos:pos + n], "little"), pos + n
            return ("ref", unit.offset + v), pos
        if form == 0x10:  # ref_addr
            n = unit.sizes[form]
            return ("ref", int.from_bytes(buf[pos:pos + n], "little")), pos + n
        if form == 0x0D:
            return self._sleb(buf, pos, unit.end)
        if form in _LEB_FORMS:
            v, pos = self._uleb(buf, pos, unit.end)
            return (("strx", v) if form in _STRX_FORMS else ("addrx", v) if form in _ADDRX_FORMS else v), pos
        if form == 0x08:
            nul = buf.find(b"\0", pos, unit.end)
            if nul < 0:
                raise _malformed("a string runs past the end of its unit")
            return bytes(buf[pos:nul]), nul + 1
        if form in _BLOCK_FORMS:
            n, pos = self._block_length(form, pos, unit)
            if pos + n > unit.end:
                raise _malformed("a block runs past the end of its unit")
            return bytes(buf[pos:pos + n]), pos + n
        if form == 0x16 and depth < 4:
            real, pos = self._uleb(buf, pos, unit.end)
            return self._value(real, pos, unit, implicit, depth + 1)
        n = unit.sizes.get(form)
        if n is None:
            raise _malformed(f"unknown attribute form {form:#x}")
        v = int.from_bytes(buf[pos:pos + n], "little")
        if form in _STRX_FORMS:
            v = ("strx", v)
        elif form in _ADDRX_FORMS:
            v = ("addrx", v)
        elif form == 0x0E:
            v = ("strp", v)
        elif form == 0x1F:
            v = ("line_strp", v)
        elif form in (0x20, 0x1C, 0x24, 0x1D, 0x1F20, 0x1F21):
            v = ("other", v)  # type signatures, supplementary files: not followed
        return v, pos + n

    def _attrs(self, ab: _Abbrev, pos: int, unit: _Unit, wanted) -> tuple[dict, int]:
        out = {}
        for attr, form, implicit in ab.specs:
            if attr in wanted:
                out[attr], pos = self._value(form, pos, unit, implicit)
            else:
                pos = self._skip_form(form, pos, unit)
        if pos > unit.end:
            raise _malformed("an entry runs past the end of its unit")
        return out, pos

    def _skip_attrs(self, ab: _Abbrev, pos: int, unit: _Unit) -> int:
        size = self._fixed_size(ab, unit)
        if size is not None:
            pos += size
        else:
            for _attr, form, _imp in ab.specs:
                pos = self._skip_form(form, pos, unit)
        if pos > unit.end:
            raise _malformed("an entry runs past the end of its unit")
        return pos

    # -- strings and addresses -----------------------------------------------------------------
    def _cstr(self, buf, off: int) -> str | None:
        if not 0 <= off < len(buf):
            return None
        nul = buf.find(b"\0", off)
        return bytes(buf[off:nul if nul >= 0 else len(buf)]).decode("utf-8", "replace")

    def _string(self, v, unit: _Unit) -> str | None:
        if isinstance(v, bytes):
            return v.decode("utf-8", "replace")
        if isinstance(v, tuple):
            kind, n = v
            if kind == "strp":
                return self._cstr(self.str, n)
            if kind == "line_strp":
                return self._cstr(self.line_str, n)
            if kind == "strx":
                base = unit.str_offsets_base if unit.str_offsets_base is not None else 2 * unit.off_size
                at = base + n * unit.off_size
                if at + unit.off_size > len(self.str_offsets):
                    return None
                return self._cstr(self.str, int.from_bytes(self.str_offsets[at:at + unit.off_size], "little"))
            return None
        if isinstance(v, int):
            return str(v) if -_HUGE < v < _HUGE else "<number>"
        return None

    def _address(self, unit: _Unit, index: int) -> int | None:
        base = unit.addr_base if unit.addr_base is not None else 0
        at = base + index * unit.addr_size
        if not 0 <= at <= len(self.addr) - unit.addr_size:
            return None
        return int.from_bytes(self.addr[at:at + unit.addr_size], "little")

    def _location(self, expr, unit: _Unit) -> int | None:
        """The static address a location expression gives, or None (as DebugInfo._location_address)."""
        if not isinstance(expr, bytes) or not expr:
            return None
        n = len(expr)
        pos = 0
        base = None
        op = expr[0]
        try:
            if op == 0xED:  # DW_OP_WASM_location kind index, DW_OP_addr X, DW_OP_plus
                kind, pos = self._uleb(expr, 1, n)
                if kind == 3:
                    index, pos = int.from_bytes(expr[pos:pos + 4], "little"), pos + 4
                    if pos > n:
                        return None
                else:
                    index, pos = self._uleb(expr, pos, n)
                if kind not in (1, 3):
                    return None
                addr, after = self._first_address(expr, pos, unit)
                if addr is None or after >= n or expr[after] != 0x22:
                    return None
                base = self.global_value(index)
                if not isinstance(base, int):
                    return None
                pos = after + 1
            else:
                addr, pos = self._first_address(expr, 0, unit)
                if addr is None:
                    return None
            while pos < n:
                if expr[pos] != 0x23:  # only DW_OP_plus_uconst may follow
                    return None
                k, pos = self._uleb(expr, pos + 1, n)
                addr += k
        except ParseError:
            return None
        return addr if base is None else (base + addr) & 0xFFFFFFFFFFFFFFFF

    def _first_address(self, expr: bytes, pos: int, unit: _Unit) -> tuple[int | None, int]:
        n = len(expr)
        if pos >= n:
            return None, pos
        op = expr[pos]
        if op == 0x03:  # DW_OP_addr
            w = unit.addr_size
            if pos + 1 + w > n:
                return None, pos
            return int.from_bytes(expr[pos + 1:pos + 1 + w], "little"), pos + 1 + w
        if op in (0xA1, 0xFB):  # DW_OP_addrx, DW_OP_GNU_addr_index
            index, pos = self._uleb(expr, pos + 1, n)
            return self._address(unit, index), pos
        return None, pos

    # -- entries at an offset ------------------------------------------------------------------
    def _unit_of(self, off: int) -> _Unit | None:
        i = bisect.bisect_right(self._unit_starts, off) - 1
        if i < 0:
            return None
        u = self._units[i]
        return u if u.die_start <= off < u.end else None

    def _entry(self, off: int, wanted) -> tuple[_Abbrev, dict, int, _Unit] | None:
        unit = self._unit_of(off)
        if unit is None:
            return None
        code, pos = self._uleb(self.info, off, unit.end)
        ab = unit.abbrevs.get(code)
        if ab is None:
            return None
        attrs, pos = self._attrs(ab, pos, unit, wanted)
        return ab, attrs, pos, unit

    def _origin_attrs(self, attrs: dict, wanted) -> dict | None:
        """The attributes of the entry DW_AT_specification / DW_AT_abstract_origin lead to (up to
        MAX_ORIGIN_LINKS links), or None when there is no link."""
        seen = 0
        cur = attrs
        found = None
        while seen < MAX_ORIGIN_LINKS:
            ref = cur.get(_AT_SPECIFICATION) or cur.get(_AT_ABSTRACT_ORIGIN)
            if not (isinstance(ref, tuple) and ref[0] == "ref"):
                break
            got = self._entry(ref[1], wanted | {_AT_SPECIFICATION, _AT_ABSTRACT_ORIGIN})
            if got is None:
                break
            cur = got[1]
            found = cur
            seen += 1
        return found

    # -- sizes ---------------------------------------------------------------------------------
    def _size_of_ref(self, ref, depth: int) -> int | None:
        if not (isinstance(ref, tuple) and ref[0] == "ref"):
            return None
        off = ref[1]
        if off in self._sizes:
            return self._sizes[off]
        if off in self._sizing or depth >= MAX_TYPE_DEPTH:
            return None  # a loop through typedefs/arrays, or too deep: size unknown
        self._sizing.add(off)
        try:
            size = self._size_of_entry(off, depth)
        finally:
            self._sizing.discard(off)
        self._sizes[off] = size
        return size

    def _size_of_entry(self, off: int, depth: int) -> int | None:
        got = self._entry(off, {_AT_BYTE_SIZE, _AT_TYPE})
        if got is None:
            return None
        ab, attrs, pos, unit = got
        tag = ab.tag
        size = attrs.get(_AT_BYTE_SIZE)
        size = size if isinstance(size, int) and 0 <= size < _HUGE else None
        if tag in _POINTERS:
            return size or unit.addr_size or 4
        if tag in _QUALIFIERS:
            return self._size_of_ref(attrs.get(_AT_TYPE), depth + 1)
        if tag == _ENUM:
            return size if size is not None else self._size_of_ref(attrs.get(_AT_TYPE), depth + 1)
        if tag == _ARRAY:
            counts = self._array_counts(ab, pos, unit) or [None]
            es = self._size_of_ref(attrs.get(_AT_TYPE), depth + 1)
            if size is not None:
                return size
            total = es
            for c in counts:
                total = None if total is None or c is None else total * c
                if total is not None and total >= _HUGE:
                    total = None
            return total
        if tag == _SUBROUTINE_TYPE:
            return None
        return size

    def _array_counts(self, ab: _Abbrev, pos: int, unit: _Unit) -> list[int | None]:
        counts: list[int | None] = []
        if not ab.children:
            return counts
        buf = self.info
        depth = 0
        while pos < unit.end:
            code, pos = self._uleb(buf, pos, unit.end)
            if code == 0:
                if depth == 0:
                    break
                depth -= 1
                continue
            cab = unit.abbrevs.get(code)
            if cab is None:
                raise _malformed(f"abbreviation code {code} is not in the unit's table")
            if depth == 0 and cab.tag in (_SUBRANGE, _ENUM):
                a, pos = self._attrs(cab, pos, unit, (_AT_COUNT, _AT_UPPER_BOUND, _AT_LOWER_BOUND))
                counts.append(self._count(cab, a))
            else:
                pos = self._skip_attrs(cab, pos, unit)
            if cab.children:
                depth += 1
        return counts

    @staticmethod
    def _count(ab: _Abbrev, a: dict) -> int | None:
        cnt = a.get(_AT_COUNT)
        if cnt is None:
            ub = a.get(_AT_UPPER_BOUND)
            form = next((f for at, f, _ in ab.specs if at == _AT_UPPER_BOUND), None)
            lb = a.get(_AT_LOWER_BOUND, 0)
            if isinstance(ub, int) and form not in (*_LOCAL_REF_FORMS, 0x10, 0x18) \
                    and -_HUGE < ub < _HUGE:
                lb = lb if isinstance(lb, int) and -_HUGE < lb < _HUGE else 0
                cnt = ub - lb + 1
        if not isinstance(cnt, int) or not 0 <= cnt < _HUGE:
            return None
        return cnt

    # -- the walk ------------------------------------------------------------------------------
    def _read_units(self) -> None:
        buf = self.info
        end = len(buf)
        pos = 0
        while pos + 4 <= end:
            start = pos
            length = int.from_bytes(buf[pos:pos + 4], "little")
            pos += 4
            off_size = 4
            if length == 0xFFFFFFFF:
                length = int.from_bytes(buf[pos:pos + 8], "little")
                pos += 8
                off_size = 8
            elif length >= 0xFFFFFFF0:
                raise _malformed(f"unit at .debug_info+{start:#x} has a reserved length {length:#x}")
            unit_end = pos + length
            if unit_end > end:
                raise _malformed(f"unit at .debug_info+{start:#x} runs past the end of .debug_info")
            version = int.from_bytes(buf[pos:pos + 2], "little")
            pos += 2
            if version >= 5:
                unit_type = buf[pos]
                addr_size = buf[pos + 1]
                abbrev_off = int.from_bytes(buf[pos + 2:pos + 2 + off_size], "little")
                pos += 2 + off_size
                if unit_type in (2, 6):  # type units: signature, type offset
                    pos += 8 + off_size
                elif unit_type in (4, 5):  # skeleton / split units: dwo id
                    pos += 8
            elif version >= 2:
                abbrev_off = int.from_bytes(buf[pos:pos + off_size], "little")
                addr_size = buf[pos + off_size]
                pos += off_size + 1
            else:
                raise _malformed(f"unit at .debug_info+{start:#x} has version {version}")
            if addr_size not in (4, 8):
                raise _malformed(f"unit at .debug_info+{start:#x} has address size {addr_size}")
            if pos > unit_end:
                raise _malformed(f"unit at .debug_info+{start:#x} is shorter than its header")
            unit = _Unit(start, unit_end, pos, version, addr_size, off_size, self._abbrevs(abbrev_off))
            self._units.append(unit)
            self._unit_starts.append(start)
            pos = unit_end

    def variables(self) -> list[tuple[str, int, int | None]]:
        self._read_units()
        out: list[tuple[str, int, int | None]] = []
        for unit in self._units:
            self.entries += 1  # the unit's top entry
            if self.entries > self.entry_limit:
                raise self._over_budget()
            self._walk_unit(unit, out)
        out.sort(key=lambda v: (v[1], v[0]))
        return out

    def _walk_unit(self, unit: _Unit, out: list) -> None:
        buf = self.info
        end = unit.end
        pos = unit.die_start
        if pos >= end:
            return
        code, pos = self._uleb(buf, pos, end)
        if code == 0:
            return
        top = unit.abbrevs.get(code)
        if top is None:
            raise _malformed(f"abbreviation code {code} is not in the unit's table")
        attrs, pos = self._attrs(top, pos, unit, (_AT_ADDR_BASE, _AT_STR_OFFSETS_BASE))
        base = attrs.get(_AT_ADDR_BASE)
        unit.addr_base = base if isinstance(base, int) else None
        base = attrs.get(_AT_STR_OFFSETS_BASE)
        unit.str_offsets_base = base if isinstance(base, int) else None
        if not top.children:
            return
        # one frame per open entry with children: (walk its children?, scope names, enclosing function)
        stack: list[tuple[bool, tuple, str | None]] = [(True, (), None)]
        abbrevs = unit.abbrevs
        count = 0
        attributes = 0
        left = self.entry_limit - self.entries
        skip_frame = (False, (), None)
        while stack:
            if pos >= end:
                raise _malformed(f"unit at .debug_info+{unit.offset:#x} ends inside an entry's children")
            count += 1
            if count > left:
                raise self._over_budget()
            code = buf[pos]
            if code < 0x80:
                pos += 1
            else:
                code, pos = self._uleb(buf, pos, end)
            if code == 0:
                stack.pop()
                continue
            ab = abbrevs.get(code)
            if ab is None:
                raise _malformed(f"abbreviation code {code} is not in the unit's table")
            walk, names, in_func = stack[-1]
            attributes += ab.nattrs
            tag = ab.tag
            if not walk or tag not in _WALKED:
                pos = self._skip_attrs(ab, pos, unit)
                if ab.children:
                    stack.append(skip_frame)
                continue
            frame = skip_frame
            if tag == _VARIABLE:
                pos = self._variable(ab, pos, unit, names, in_func, out)
            elif tag == _SUBPROGRAM:
                fname, pos = self._subprogram(ab, pos, unit, names)
                frame = (True, names, fname or in_func)
            elif tag == _LEXICAL_BLOCK:
                pos = self._skip_attrs(ab, pos, unit)
                frame = (True, names, in_func)
            elif tag in _SCOPES or in_func is None:  # a namespace, or an aggregate outside functions
                a, pos = self._attrs(ab, pos, unit, (_AT_NAME,))
                name = self._string(a[_AT_NAME], unit) if _AT_NAME in a else None
                if name is not None and len(names) < MAX_SCOPE_NAMES:
                    names = names + (name,)
                elif name is not None and names[-1:] != ("…",):
                    names = names + ("…",)
                frame = (True, names, in_func)
            else:  # an aggregate inside a function: its members are not walked
                pos = self._skip_attrs(ab, pos, unit)
            if ab.children:
                stack.append(frame)
        self.entries += count
        self.attributes += attributes

    _VARIABLE_ATTRS = frozenset((_AT_LOCATION, _AT_NAME, _AT_TYPE, _AT_DECLARATION, _AT_SPECIFICATION,
                                 _AT_ABSTRACT_ORIGIN))

    _FUNCTION_ATTRS = frozenset((_AT_NAME, _AT_LINKAGE_NAME, _AT_SPECIFICATION, _AT_ABSTRACT_ORIGIN))

    def _subprogram(self, ab: _Abbrev, pos: int, unit: _Unit, names: tuple) -> tuple[str | None, int]:
        """A function's name (the scope of its static variables) and the position after its attributes
        (dwindex.py's scan also reads its code range)."""
        attrs, pos = self._attrs(ab, pos, unit, self._FUNCTION_ATTRS)
        return self._function_name(attrs, unit, names), pos

    def _function_name(self, attrs: dict, unit: _Unit, names: tuple) -> str | None:
        """A function's name as DebugInfo._function gives it."""
        origin = None
        if _AT_NAME not in attrs or _AT_LINKAGE_NAME not in attrs:
            origin = self._origin_attrs(attrs, {_AT_NAME, _AT_LINKAGE_NAME}) or {}
        name = attrs[_AT_NAME] if _AT_NAME in attrs else origin.get(_AT_NAME)
        if name is not None:
            name = self._string(name, unit)
        if not name:
            name = attrs[_AT_LINKAGE_NAME] if _AT_LINKAGE_NAME in attrs else origin.get(_AT_LINKAGE_NAME)
            name = self._string(name, unit) if name is not None else None
        if name and names and attrs.get(_AT_SPECIFICATION) is None:
            name = "::".join(names + (name,))
        return name

    def _variable(self, ab: _Abbrev, pos: int, unit: _Unit, names: tuple, func: str | None, out: list) -> int:
        attrs, pos = self._attrs(ab, pos, unit, self._VARIABLE_ATTRS)
        if attrs.get(_AT_DECLARATION):
            return pos
        addr = self._location(attrs.get(_AT_LOCATION), unit)
        if addr is None or addr in TOMBSTONES or addr == 0:
            return pos
        origin = None
        name = attrs.get(_AT_NAME)
        if name is None:
            origin = self._origin_attrs(attrs, {_AT_NAME, _AT_TYPE})
            name = origin.get(_AT_NAME) if origin is not None else None
            if name is None:
                return pos
        name = self._string(name, unit)
        if name is None:
            return pos
        spec = attrs.get(_AT_SPECIFICATION)
        if names and spec is None:
            name = "::".join(names + (name,))
        tref = attrs.get(_AT_TYPE)
        if tref is None and isinstance(spec, tuple) and spec[0] == "ref":
            got = self._entry(spec[1], {_AT_TYPE})
            tref = got[1].get(_AT_TYPE) if got is not None else None
        size = self._size_of_ref(tref, 0) if tref is not None else None
        self._add_variable(out, name, func, addr, size, unit)
        return pos

    @staticmethod
    def _add_variable(out: list, name: str, func: str | None, addr: int, size: int | None, unit: _Unit) -> None:
        out.append((f"{func}::{name}" if func else name, addr, size))


def scan_variables(module, global_value=None, entries: int | None = None) -> list[tuple[str, int, int | None]]:
    """(name, address, size) of every static variable the module's DWARF places in memory, sorted by
    address: the variables ``DebugInfo.variables`` lists, found in a fraction of its time. Raises
    ParseError for damaged DWARF, VariableScanOverBudget past ``entries`` (default MAX_SCAN_ENTRIES)."""
    wanted = (".debug_info", ".debug_abbrev", ".debug_str", ".debug_line_str", ".debug_addr", ".debug_str_offsets")
    sections = {}
    for s in module.debug_sections:
        if s.name in wanted and s.name not in sections:
            sections[s.name] = bytes(module.data[s.start:s.end])
    if ".debug_info" not in sections:
        return []
    return VariableScan(sections, global_value, entries).variables()
