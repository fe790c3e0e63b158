"""Generators of small hostile modules: a wasm module with memory, one exported function and
hand-assembled DWARF 4 (.debug_abbrev + .debug_info), for the hostile-DWARF tests and the CLI fuzzer.

A DIE is ``Die(tag, [(attr, form, value)], children, label=...)``; a value ``Ref("label")`` is a
DW_FORM_ref4 to the DIE with that label (patched after layout).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from wasmem.parser.encode import encode_name, encode_section, uleb

# tags
CU, BASE, TYPEDEF, VAR, ARRAY, SUBRANGE, NAMESPACE, STRUCT, MEMBER, POINTER, SUBPROGRAM, CONST = (
    0x11, 0x24, 0x16, 0x34, 0x01, 0x21, 0x39, 0x13, 0x0D, 0x0F, 0x2E, 0x26)
# attributes
NAME, BYTE_SIZE, ENCODING, TYPE, LOCATION, COUNT, MEMBER_LOC, LOW_PC, HIGH_PC, EXTERNAL, SPEC, ORIGIN = (
    0x03, 0x0B, 0x3E, 0x49, 0x02, 0x37, 0x38, 0x11, 0x12, 0x3F, 0x47, 0x31)
STMT_LIST, LANGUAGE = 0x10, 0x13
# forms
ADDR, DATA1, DATA4, STRING, REF4, EXPRLOC, FLAG_PRESENT, UDATA = 0x01, 0x0B, 0x06, 0x08, 0x13, 0x18, 0x19, 0x0F
STRP, SEC_OFFSET = 0x0E, 0x17

DATA_ADDR = 0x400  # where the variables live (inside the module's one data segment)


@dataclass(frozen=True)
class Ref:
    label: str


@dataclass
class Die:
    tag: int
    attrs: list = field(default_factory=list)  # (attr, form, value)
    children: list = field(default_factory=list)
    label: str | None = None


def addr_loc(addr: int) -> bytes:
    """An exprloc DW_OP_addr ADDR (4 bytes)."""
    return bytes([0x03]) + addr.to_bytes(4, "little")


def _value(form: int, v) -> bytes:
    if form in (ADDR, DATA4, STRP, SEC_OFFSET):
        return int(v).to_bytes(4, "little")
    if form == DATA1:
        return bytes([v])
    if form == UDATA:
        return v if isinstance(v, bytes) else uleb(v)  # bytes: an encoding given as is
    if form == STRING:
        return v.encode() + b"\0"
    if form == EXPRLOC:
        return uleb(len(v)) + bytes(v)
    if form == FLAG_PRESENT:
        return b""
    if form == REF4:
        return b"\0\0\0\0"  # patched
    raise ValueError(form)


def assemble(cu_children: list[Die], cu_attrs: list | None = None) -> tuple[bytes, bytes]:
    """(.debug_abbrev, .debug_info) of one DWARF 4 compile unit (named ``hostile.c``, plus
    ``cu_attrs``) holding ``cu_children``. Each distinct (tag, has children, attribute specs) gets
    one abbreviation."""
    abbrevs: dict[tuple, int] = {}
    abbrev_bytes = bytearray()
    body = bytearray()
    labels: dict[str, int] = {}
    patches: list[tuple[int, str]] = []
    header_size = 11  # unit_length 4 + version 2 + abbrev offset 4 + address size 1

    def code_for(d: Die) -> int:
        key = (d.tag, bool(d.children), tuple((a, f) for a, f, _ in d.attrs))
        code = abbrevs.get(key)
        if code is None:
            code = abbrevs[key] = len(abbrevs) + 1
            abbrev_bytes.extend(uleb(code) + uleb(d.tag) + bytes([1 if d.children else 0]))
            for a, f, _ in d.attrs:
                abbrev_bytes.extend(uleb(a) + uleb(f))
            abbrev_bytes.extend(b"\0\0")
        return code

    # iterative pre-order layout (deep trees are the point of some tests)
    root = Die(CU, [(NAME, STRING, "hostile.c")] + (cu_attrs or []), cu_children)
    stack: list = [root]
    while stack:
        d = stack.pop()
        if d is None:
            body.append(0)  # end of a children list
            continue
        if d.label is not None:
            labels[d.label] = header_size + len(body)
        body.extend(uleb(code_for(d)))
        for _a, f, v in d.attrs:
            if f == REF4:
                patches.append((len(body), v.label))
            body.extend(_value(f, v))
        if d.children:
            stack.append(None)
            stack.extend(reversed(d.children))
    for pos, label in patches:
        body[pos:pos + 4] = labels[label].to_bytes(4, "little")
    abbrev_bytes.append(0)
    unit = (4).to_bytes(2, "little") + (0).to_bytes(4, "little") + bytes([4]) + bytes(body)
    return bytes(abbrev_bytes), len(unit).to_bytes(4, "little") + unit


def custom(name: str, payload: bytes) -> bytes:
    return encode_section(0, encode_name(name) + payload)


# a module with one page of memory, a data segment at DATA_ADDR and an exported function `f`
# returning 7 (code offset of f's body known: the DWARF subprogram points at it)
def base_module() -> bytes:
    import wasmtime

    return bytes(wasmtime.wat2wasm(f"""(module
      (memory (export "memory") 1)
      (global $sp (mut i32) (i32.const 4096))
      (func (export "f") (result i32) (i32.const 7))
      (data (i32.const {DATA_ADDR}) "\\01\\00\\00\\00\\02\\00\\00\\00\\03\\00\\00\\00\\04\\00\\00\\00"))"""))


def module_with(abbrev: bytes, info: bytes, *extra: bytes) -> bytes:
    return base_module() + custom(".debug_abbrev", abbrev) + custom(".debug_info", info) + b"".join(extra)


def int_type(label: str = "int") -> Die:
    return Die(BASE, [(NAME, STRING, "int"), (ENCODING, DATA1, 5), (BYTE_SIZE, DATA1, 4)], label=label)


def variable(name: str, type_label: str, addr: int = DATA_ADDR) -> Die:
    return Die(VAR, [(NAME, STRING, name), (TYPE, REF4, Ref(type_label)), (EXTERNAL, FLAG_PRESENT, True),
                     (LOCATION, EXPRLOC, addr_loc(addr))])


def function(name: str = "f", type_label: str | None = None) -> Die:
    attrs = [(NAME, STRING, name), (LOW_PC, ADDR, 2), (HIGH_PC, DATA4, 4), (EXTERNAL, FLAG_PRESENT, True)]
    if type_label:
        attrs.append((TYPE, REF4, Ref(type_label)))
    return Die(SUBPROGRAM, attrs)


# -- the hostile cases ---------------------------------------------------------------------------
def typedef_cycle() -> bytes:
    """typedef A → typedef B → typedef A; a variable `cyc` of type A; `f` returns A."""
    dies = [Die(TYPEDEF, [(NAME, STRING, "A"), (TYPE, REF4, Ref("B"))], label="A"),
            Die(TYPEDEF, [(NAME, STRING, "B"), (TYPE, REF4, Ref("A"))], label="B"),
            variable("cyc", "A"), function("f", "A")]
    return module_with(*assemble(dies))


def const_cycle() -> bytes:
    """const → volatile → const, and a pointer to itself."""
    dies = [Die(CONST, [(TYPE, REF4, Ref("V"))], label="C"), Die(0x35, [(TYPE, REF4, Ref("C"))], label="V"),
            Die(POINTER, [(BYTE_SIZE, DATA1, 4), (TYPE, REF4, Ref("P"))], label="P"),
            variable("cv", "C"), variable("selfptr", "P", DATA_ADDR + 4), function("f", "C")]
    return module_with(*assemble(dies))


def self_array() -> bytes:
    """An array whose element type is itself (no byte size, a count)."""
    dies = [Die(ARRAY, [(TYPE, REF4, Ref("arr"))], [Die(SUBRANGE, [(COUNT, UDATA, 4)])], label="arr"),
            variable("arr", "arr"), function("f", "arr")]
    return module_with(*assemble(dies))


def self_struct() -> bytes:
    """A struct that holds itself by value (twice, one of them anonymous) and a pointer to itself."""
    members = [Die(MEMBER, [(NAME, STRING, "next"), (TYPE, REF4, Ref("ptr")), (MEMBER_LOC, DATA1, 0)]),
               Die(MEMBER, [(NAME, STRING, "self"), (TYPE, REF4, Ref("S")), (MEMBER_LOC, DATA1, 4)]),
               Die(MEMBER, [(TYPE, REF4, Ref("S")), (MEMBER_LOC, DATA1, 8)])]
    dies = [int_type(),
            Die(STRUCT, [(NAME, STRING, "node"), (BYTE_SIZE, DATA1, 16)], members, label="S"),
            Die(POINTER, [(BYTE_SIZE, DATA1, 4), (TYPE, REF4, Ref("S"))], label="ptr"),
            variable("node", "S"), function("f", "ptr")]
    return module_with(*assemble(dies))


def deep_namespaces(n: int = 5000) -> bytes:
    """``n`` nested namespaces with a variable `deep` at the bottom (and one at the top)."""
    inner = [int_type(), variable("deep", "int")]
    for i in range(n):
        inner = [Die(NAMESPACE, [(NAME, STRING, f"n{i}")], inner)]
    return module_with(*assemble(inner + [variable("top", "int"), function()]))


def many_dimensions(n: int = 1000) -> bytes:
    """An int array with ``n`` dimensions of 1 element each."""
    dims = [Die(SUBRANGE, [(COUNT, UDATA, 1)]) for _ in range(n)]
    dies = [int_type(), Die(ARRAY, [(TYPE, REF4, Ref("int"))], dims, label="arr"), variable("grid", "arr"),
            Die(POINTER, [(BYTE_SIZE, DATA1, 4), (TYPE, REF4, Ref("arr"))], label="ptr"), function("f", "ptr")]
    return module_with(*assemble(dies))


def pointer_chain(n: int = 5000, every: int = 1) -> bytes:
    """int *****…* (``n`` levels), each level a separate DIE, declared innermost first, with a
    variable of every ``every``-th level in that order (so that each level is built on the last)."""
    dies = [int_type("p0")]
    for i in range(1, n + 1):
        dies.append(Die(POINTER, [(BYTE_SIZE, DATA1, 4), (TYPE, REF4, Ref(f"p{i - 1}"))], label=f"p{i}"))
    dies += [variable(f"v{i}", f"p{i}") for i in range(1, n + 1, every)]
    dies += [variable("chain", f"p{n}"), function("f", f"p{n}")]
    return module_with(*assemble(dies))


def name_amplifier(levels: int = 12, fanout: int = 8, n: int = 5000) -> bytes:
    """Function types F0(F1*, F1*, …) … F{levels}: each name spells its parameters, ``fanout``
    times per level (fanout**levels unless names are shared), and ``n`` variables of distinct
    pointer types to F0."""
    dies = [int_type()]
    for i in range(levels):
        params = [Die(0x05, [(TYPE, REF4, Ref(f"pf{i + 1}"))]) for _ in range(fanout)]
        dies.append(Die(0x15, [(TYPE, REF4, Ref("int"))], params, label=f"f{i}"))
        dies.append(Die(POINTER, [(BYTE_SIZE, DATA1, 4), (TYPE, REF4, Ref(f"f{i}"))], label=f"pf{i}"))
    dies.append(Die(0x15, [(TYPE, REF4, Ref("int"))], label=f"f{levels}"))
    dies.append(Die(POINTER, [(BYTE_SIZE, DATA1, 4), (TYPE, REF4, Ref(f"f{levels}"))], label=f"pf{levels}"))
    for i in range(n):
        dies.append(Die(POINTER, [(BYTE_SIZE, DATA1, 4), (TYPE, REF4, Ref("f0"))], label=f"q{i}"))
        dies.append(variable(f"fp{i}", f"q{i}"))
    dies.append(function())
    return module_with(*assemble(dies))


def huge_numbers(nbytes: int = 2500) -> bytes:
    """Counts, sizes, lines, offsets, bit sizes and enumerator values written as ``nbytes``-byte
    ULEB128s: numbers of thousands of digits (Python refuses to print one past 4,300 digits)."""
    big = b"\xff" * (nbytes - 1) + b"\x7f"
    dims = [Die(SUBRANGE, [(COUNT, UDATA, big)]), Die(SUBRANGE, [(COUNT, UDATA, 3)])]
    members = [Die(MEMBER, [(NAME, STRING, "a"), (TYPE, REF4, Ref("int")), (MEMBER_LOC, UDATA, big)]),
               Die(MEMBER, [(NAME, STRING, "b"), (TYPE, REF4, Ref("int")), (MEMBER_LOC, DATA1, 0),
                            (0x0D, UDATA, big)])]  # DW_AT_bit_size
    enum = Die(0x04, [(NAME, STRING, "e"), (BYTE_SIZE, DATA1, 4)],
               [Die(0x28, [(NAME, STRING, "E"), (0x1C, UDATA, big)])])  # enumerator, DW_AT_const_value
    dies = [int_type(),
            Die(ARRAY, [(TYPE, REF4, Ref("int"))], dims, label="arr"),
            Die(STRUCT, [(NAME, STRING, "S"), (BYTE_SIZE, UDATA, big)], members, label="S"),
            Die(STRUCT, [(NAME, STRING, "T"), (BYTE_SIZE, DATA1, 8)], members, label="T"),
            Die(0x04, enum.attrs, enum.children, label="e"),
            Die(VAR, [(NAME, STRING, "arr"), (TYPE, REF4, Ref("arr")), (LOCATION, EXPRLOC, addr_loc(DATA_ADDR)),
                      (0x3B, UDATA, big)]),  # DW_AT_decl_line
            variable("s", "S", DATA_ADDR + 4), variable("t", "T", DATA_ADDR + 8), variable("e", "e", DATA_ADDR),
            Die(SUBPROGRAM, [(NAME, STRING, "f"), (LOW_PC, ADDR, 2), (HIGH_PC, UDATA, big)])]
    return module_with(*assemble(dies))


def sibling_loop() -> bytes:
    """A struct whose DW_AT_sibling points back at itself (a reader that follows it loops forever)."""
    dies = [int_type(),
            Die(STRUCT, [(NAME, STRING, "s"), (BYTE_SIZE, DATA1, 4), (0x01, REF4, Ref("loop"))],
                [Die(MEMBER, [(NAME, STRING, "a"), (TYPE, REF4, Ref("int")), (MEMBER_LOC, DATA1, 0)])],
                label="loop"),
            variable("s", "loop"), function()]
    return module_with(*assemble(dies))


def spec_cycle() -> bytes:
    """Two variables whose DW_AT_specification point at each other (and a function whose
    abstract_origin is itself)."""
    dies = [int_type(),
            Die(VAR, [(SPEC, REF4, Ref("v2")), (LOCATION, EXPRLOC, addr_loc(DATA_ADDR))], label="v1"),
            Die(VAR, [(SPEC, REF4, Ref("v1")), (LOCATION, EXPRLOC, addr_loc(DATA_ADDR + 4))], label="v2"),
            Die(SUBPROGRAM, [(ORIGIN, REF4, Ref("fn")), (LOW_PC, ADDR, 2), (HIGH_PC, DATA4, 4)], label="fn"),
            variable("plain", "int", DATA_ADDR + 8)]
    return module_with(*assemble(dies))


def attribute_bomb(total: int, k: int | None = None) -> bytes:
    """About ``total`` bytes of DWARF: one abbreviation with ``k`` zero-size attributes
    (DW_FORM_flag_present) used by D one-byte entries; by default K×D as large as the size allows."""
    if k is None:
        k = total // 4  # 2 bytes per attribute spec
    d = total - 2 * k  # 1 byte per entry
    abbrev = bytearray()
    abbrev += uleb(1) + uleb(CU) + b"\1" + uleb(NAME) + uleb(STRING) + b"\0\0"
    abbrev += uleb(2) + uleb(VAR) + b"\0" + (uleb(EXTERNAL) + uleb(FLAG_PRESENT)) * k + b"\0\0"
    abbrev += b"\0"
    body = uleb(1) + b"bomb.c\0" + b"\2" * d + b"\0"
    unit = (4).to_bytes(2, "little") + (0).to_bytes(4, "little") + bytes([4]) + body
    info = len(unit).to_bytes(4, "little") + unit
    return module_with(bytes(abbrev), info)


def line_header_bomb(count: int = 1 << 40) -> bytes:
    """A DWARF 5 line table header listing ``count`` directories of an empty entry format (each
    reads nothing), named by the unit's DW_AT_stmt_list; a variable `x` beside it."""
    hdr = bytearray()
    hdr += (5).to_bytes(2, "little") + bytes([4, 0])  # version, address size, segment selector size
    rest = bytearray()
    rest += bytes([1, 1, 1, 0xFB, 14, 13]) + bytes([0, 1, 1, 1, 1, 0, 0, 0, 1, 0, 0, 1])  # ... opcode lengths
    rest += bytes([0]) + uleb(count)  # no directory entry format, `count` directories
    rest += bytes([0]) + uleb(0)  # no file name format, no files
    hdr += len(rest).to_bytes(4, "little") + rest
    line = len(hdr).to_bytes(4, "little") + hdr
    dies = [int_type(), variable("x", "int"), function()]
    abbrev, info = assemble(dies, [(STMT_LIST, SEC_OFFSET, 0)])
    return module_with(abbrev, info, custom(".debug_line", bytes(line)))


def leb_bomb(n: int = 200_000) -> bytes:
    """A DW_AT_language written as a ULEB128 of ``n`` bytes (quadratic to decode in pyelftools)."""
    dies = [int_type(), variable("x", "int"), function()]
    abbrev, info = assemble(dies, [(LANGUAGE, UDATA, b"\x81" * (n - 1) + b"\x00")])
    return module_with(abbrev, info)


def string_bomb(string_size: int = 200_000, entries: int = 400, per_entry: int = 64) -> bytes:
    """One ``string_size``-byte string in .debug_str named ``per_entry`` times by each of ``entries``
    DIEs (DW_FORM_strp: 4 bytes of .debug_info read the whole string again)."""
    dies = [Die(VAR, [(NAME, STRP, 0)] * per_entry) for _ in range(entries)]
    dies += [int_type(), variable("x", "int"), function()]
    abbrev, info = assemble(dies)
    return module_with(abbrev, info, custom(".debug_str", b"s" * string_size + b"\0"))


def external_debug(ref: str) -> bytes:
    """No DWARF of its own, an external_debug_info section naming ``ref``."""
    return base_module() + custom("external_debug_info", encode_name(ref))


GENERATORS = {
    "typedef_cycle": typedef_cycle, "const_cycle": const_cycle, "self_array": self_array,
    "self_struct": self_struct, "deep_namespaces": deep_namespaces, "many_dimensions": many_dimensions,
    "pointer_chain": pointer_chain, "spec_cycle": spec_cycle, "line_header_bomb": line_header_bomb,
    "leb_bomb": leb_bomb, "string_bomb": string_bomb, "sibling_loop": sibling_loop,
    "name_amplifier": name_amplifier, "huge_numbers": huge_numbers,
}
