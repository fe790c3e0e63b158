"""Reading DWARF out of a wasm module defensively: a pyelftools ``DWARFInfo`` over the ``.debug_*`` custom
sections (``build_dwarfinfo``), the checks that keep pyelftools from work that grows faster than the input
(long LEB128 runs, abbreviation tables, line-program headers), and the work budgets (``DwarfBudget``,
``DwarfMeter``): attribute decodes and bytes read out of line. The budgets count work, never time, so the
same module reads the same on an idle machine and on a loaded one; past a limit, a ``DwarfLimitExceeded``
(a ParseError) stops the reading. Interpretation (the index of DIEs, types, lines) is dwarf.py's."""

from __future__ import annotations

import io
import re

from elftools.dwarf.dwarfinfo import DebugSectionDescriptor, DwarfConfig, DWARFInfo

from ..budgets import BUDGETS, lift
from ..deadline import NO_DEADLINE, Deadline
from ..errors import ParseError

# -- limits on reading untrusted DWARF ------------------------------------------------------------
# One "decode" is one DIE, one attribute of a DIE, or one attribute specification of an
# abbreviation table (weighted: pyelftools parses those about four times slower). The allowance
# grows with the input, so that the cost is linear in it: a well-formed DWARF 4/5 unit decodes
# about 0.5 per byte of .debug_info; an abbreviation of zero-size attributes (DW_FORM_flag_present)
# used by many one-byte entries is what the per-byte allowance stops.
MAX_ABBREV_ATTRIBUTES = 256  # attribute specifications in one abbreviation; more is malformed


DWARF_DECODES_BASE = 50_000  # decodes allowed to any module ...


DWARF_DECODES_PER_BYTE = 1  # ... plus this many per byte of .debug_info and .debug_abbrev ...


MAX_DWARF_DECODES = BUDGETS["dwarf"].default  # ... and never more than this in total (unless --budget dwarf=N)


ABBREV_SPEC_WEIGHT = 4  # decodes charged per abbreviation attribute specification parsed


MAX_DWARF_READ = BUDGETS["dwarf-read"].default  # bytes read out of line: strings, line programs, address tables


READ_PER_DECODE = 32  # bytes read out of line allowed per decode allowed (the default: 2,000,000 decodes, 64 MiB)


DEADLINE_EVERY = 4096  # decodes between two looks at the command's deadline (about a millisecond of reading)
MAX_LEB_BYTES = 16384  # a run of this many bytes >= 0x80 would be a LEB128 pyelftools decodes in quadratic time


class DwarfLimitExceeded(ParseError):
    """Reading the DWARF would cost more than the budget allows (see the limits above)."""


class DwarfBudget:
    """Counts the work of reading one module's DWARF and stops it at a limit (one budget for the DIEs,
    one for the line table). Work, not time: the decodes grow with the input (see above) and every
    line-table row costs at least the one byte read for its opcode, so both passes are linear in the
    input and cut, when they are, at the same place on any machine under any load.

    pyelftools wraps what a stream raises into its own errors, so the first limit reached is also
    kept in ``tripped``: whoever catches an error re-raises it with ``recheck()``."""

    def __init__(self, decodes: int | None = None, read: int | None = None, *, given: bool = False,
                 nbytes: int | None = None, deadline: Deadline = NO_DEADLINE):
        self.decode_limit = MAX_DWARF_DECODES if decodes is None else decodes
        # bytes read out of line: MAX_DWARF_READ, or READ_PER_DECODE per decode when --budget dwarf=N raised the
        # decodes past the default (one option lifts both), unless --budget dwarf-read=N says how many
        self.read_limit = read if read is not None else \
            max(MAX_DWARF_READ, READ_PER_DECODE * self.decode_limit) if given else MAX_DWARF_READ
        self.given = given  # the decode limit is the one --budget dwarf=N gave (not the size-based default)
        self.nbytes = nbytes  # .debug_info + .debug_abbrev bytes (for the suggestion in the message)
        self.decodes = 0
        self.bytes_read = 0
        self.tripped: DwarfLimitExceeded | None = None
        # the command's deadline (wasmem.deadline.current(): the read is lazy), asked every DEADLINE_EVERY
        # decodes; past it AnalysisTimeout ends the command (never a poorer result: the work budgets decide that)
        self.deadline = deadline
        self._ask_at = DEADLINE_EVERY

    @classmethod
    def for_sizes(cls, nbytes: int, decodes: int | None = None, read: int | None = None, *,
                  deadline: Deadline = NO_DEADLINE) -> DwarfBudget:
        """The budget for DWARF whose .debug_info + .debug_abbrev hold ``nbytes`` bytes: the decodes grow with
        them up to MAX_DWARF_DECODES, unless ``decodes`` (``--budget dwarf=N``) says how many; ``read``
        (``--budget dwarf-read=N``) replaces the bytes read out of line that follow from the decodes."""
        if decodes is not None:
            return cls(decodes=decodes, read=read, given=True, nbytes=nbytes, deadline=deadline)
        return cls(decodes=min(MAX_DWARF_DECODES, DWARF_DECODES_BASE + DWARF_DECODES_PER_BYTE * nbytes), read=read,
                   nbytes=nbytes, deadline=deadline)

    def _suggest(self) -> str:
        """``, e.g. --budget dwarf=28M`` for DWARF of this size (well-formed DWARF decodes about 0.5 per byte of
        .debug_info: one per byte is room enough), when that is more than the limit reached."""
        if not self.nbytes:
            return ""
        want = DWARF_DECODES_BASE + DWARF_DECODES_PER_BYTE * self.nbytes
        if want <= self.decode_limit:
            return ""
        m = -(-want // 1_000_000)
        return f" (this module's {self.nbytes:,} bytes of .debug_info/.debug_abbrev: --budget dwarf={m}M should do)"

    def _trip(self, message: str):
        if self.tripped is None:
            self.tripped = DwarfLimitExceeded(message, None)
        raise self.tripped

    def recheck(self) -> None:
        """Raise the limit reached, if one was (an error pyelftools raised may be hiding it)."""
        if self.tripped is not None:
            raise self.tripped

    def afford(self, n: int) -> None:
        """Raise unless ``n`` more decodes fit."""
        if self.decodes + n > self.decode_limit:
            why = "" if self.given else (f" ({DWARF_DECODES_BASE:,} + {DWARF_DECODES_PER_BYTE} per byte of "
                                         f".debug_info/.debug_abbrev, at most {MAX_DWARF_DECODES:,})")
            self._trip(f"DWARF over budget: more than {self.decode_limit:,} attribute decodes{why}; {lift('dwarf')}"
                       f"{self._suggest()}")

    def charge(self, n: int) -> None:
        self.afford(n)
        self.decodes += n
        if self.decodes >= self._ask_at:
            self.tick()

    def tick(self) -> None:
        """Raises AnalysisTimeout once the command's deadline has passed (called from wasmem's own loops,
        never from inside pyelftools, which would wrap it)."""
        self._ask_at = self.decodes + DEADLINE_EVERY
        self.deadline.check("reading the module's DWARF")

    def read(self, n: int) -> None:
        self.bytes_read += n
        if self.bytes_read > self.read_limit:
            self._trip(f"DWARF over budget: more than {self.read_limit:,} bytes of strings and tables read; "
                       f"{lift('dwarf-read')}")


class DwarfMeter:
    """The budget the counting streams charge (swapped between the DIE pass and the line table)."""

    def __init__(self):
        self.budget: DwarfBudget | None = None

    def recheck(self) -> None:
        if self.budget is not None:
            self.budget.recheck()


class CountingStream(io.BytesIO):
    """A section stream that charges every read to the current budget."""

    def __init__(self, data: bytes, meter: DwarfMeter):
        super().__init__(data)
        self._meter = meter

    def read(self, n: int | None = -1) -> bytes:
        b = super().read(n)
        budget = self._meter.budget
        if budget is not None:
            budget.read(len(b) + 1)  # + 1: a read of nothing still costs a call
        return b


# sections read only through the DIE pass (budgeted by decodes, not bytes)
DECODED_SECTIONS = {".debug_info", ".debug_abbrev"}


# DWARFInfo keyword → custom section name
SECTIONS = {
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


def build_dwarfinfo(module, meter: DwarfMeter | None = None) -> DWARFInfo | None:
    """A DWARFInfo over ``module``'s .debug_* custom sections, or None without .debug_info. With a
    ``meter``, reads of the sections other than .debug_info/.debug_abbrev are charged to its budget."""
    secs = {s.name: s for s in module.debug_sections}
    if ".debug_info" not in secs:
        return None
    kwargs = {}
    for kw, name in SECTIONS.items():
        h = secs.get(name) if name else None
        if h is None:
            kwargs[kw] = None
            continue
        data = bytes(module.data[h.start:h.end])
        stream = io.BytesIO(data) if meter is None or name in DECODED_SECTIONS else CountingStream(data, meter)
        kwargs[kw] = DebugSectionDescriptor(stream, name, h.start, h.size, 0)
    config = DwarfConfig(little_endian=True, machine_arch="wasm32", default_address_size=4)
    return DWARFInfo(config=config, **kwargs)


# -- raw scans that guard pyelftools against inputs it would loop on -----------------------------
def read_uleb(buf, pos: int, end: int) -> tuple[int, int]:
    result = shift = 0
    while True:
        if pos >= end:
            raise ParseError("malformed DWARF (a LEB128 number runs past the end of its section)", None)
        b = buf[pos]
        pos += 1
        result |= (b & 0x7F) << shift
        if not b & 0x80:
            return result, pos
        shift += 7


def scan_abbrev_table(buf, offset: int) -> tuple[dict[int, int], int]:
    """({abbreviation code: attribute count}, attribute specifications) of the abbreviation table at
    ``offset``; an abbreviation with more than MAX_ABBREV_ATTRIBUTES attributes is malformed."""
    end = len(buf)
    pos = offset
    counts: dict[int, int] = {}
    total = 0
    while True:
        code, pos = read_uleb(buf, pos, end)
        if code == 0:
            return counts, total
        _tag, pos = read_uleb(buf, pos, end)
        pos += 1  # children flag
        n = 0
        while True:
            attr, pos = read_uleb(buf, pos, end)
            form, pos = read_uleb(buf, pos, end)
            if attr == 0 and form == 0:
                break
            if form == 0x21:  # DW_FORM_implicit_const: its value follows (SLEB128)
                _v, pos = read_uleb(buf, pos, end)
            n += 1
            if n > MAX_ABBREV_ATTRIBUTES:
                raise ParseError(f"malformed DWARF (an abbreviation at .debug_abbrev+{offset:#x} has more than "
                                 f"{MAX_ABBREV_ATTRIBUTES} attributes)", None)
        counts[code] = n
        total += n + 1


LONG_LEB = re.compile(rb"[\x80-\xff]{%d}" % MAX_LEB_BYTES)


def check_leb_runs(buf, name: str) -> None:
    """Refuse a section with a run of MAX_LEB_BYTES continuation bytes: read as a LEB128 number,
    pyelftools would take seconds (the time grows with the square of its length)."""
    m = LONG_LEB.search(buf)
    if m is not None:
        raise ParseError(f"malformed DWARF ({name}+{m.start():#x} starts a run of more than {MAX_LEB_BYTES} "
                         "bytes >= 0x80: an absurd LEB128 number)", None)


# DW_FORM code → size in a DWARF 5 line table header entry: an int, "off" (offset size), "uleb",
# "str" (NUL-terminated), ("block", length size) — enough to find where the file formats start
LINE_FORMS: dict[int, object] = {
    0x01: "addr", 0x05: 2, 0x06: 4, 0x07: 8, 0x08: "str", 0x09: ("block", "uleb"), 0x0A: ("block", 1),
    0x03: ("block", 2), 0x04: ("block", 4), 0x0B: 1, 0x0C: 1, 0x0D: "uleb", 0x0E: "off", 0x0F: "uleb",
    0x17: "off", 0x19: 0, 0x1A: "uleb", 0x1D: "off", 0x1E: 16, 0x1F: "off", 0x21: 0, 0x25: 1, 0x26: 2,
    0x27: 3, 0x28: 4,
}


def check_line_header(buf, offset: int) -> None:
    """Refuse a DWARF 5 line table header that lists entries with no content (an empty entry
    format, or only zero-size forms) more times than the section has bytes: pyelftools would build
    them all without reading anything. Other headers read at least a byte per entry."""
    end = len(buf)
    if offset + 4 > end:
        return  # pyelftools reports it
    pos = offset
    length = int.from_bytes(buf[pos:pos + 4], "little")
    pos += 4
    offsize = 4
    if length == 0xFFFFFFFF:
        offsize, pos = 8, pos + 8
    if pos + 2 > end or int.from_bytes(buf[pos:pos + 2], "little") < 5:
        return
    pos += 2 + 2  # version, address_size, segment_selector_size
    addr_size = buf[pos - 2]
    pos += offsize + 5  # header_length, min_inst_length, max_ops, default_is_stmt, line_base, line_range
    if pos >= end:
        return
    opcode_base = buf[pos]
    pos += 1 + max(0, opcode_base - 1)
    for what in ("directories", "file names"):
        if pos >= end:
            return
        nformats = buf[pos]
        pos += 1
        forms = []
        for _ in range(nformats):
            _ctype, pos = read_uleb(buf, pos, end)
            form, pos = read_uleb(buf, pos, end)
            forms.append(form)
        count, pos = read_uleb(buf, pos, end)
        sizes = [LINE_FORMS.get(f) for f in forms]
        if all(s == 0 for s in sizes):
            if count > 0:
                raise ParseError(f"malformed DWARF (a line table at .debug_line+{offset:#x} lists {what} "
                                 "of no content)", None)
            continue
        if what == "file names" or any(s is None for s in sizes):
            return  # every entry reads at least one byte: pyelftools stops at the end of the section
        for _ in range(count):  # skip the directories to the file name formats
            for s in sizes:
                if pos > end:
                    return
                if s == "addr":
                    pos += addr_size
                elif s == "off":
                    pos += offsize
                elif s == "uleb":
                    _v, pos = read_uleb(buf, pos, end)
                elif s == "str":
                    z = bytes(buf[pos:min(end, pos + 4096)]).find(b"\0")
                    while z < 0 and pos < end:
                        pos = min(end, pos + 4096)
                        z = bytes(buf[pos:min(end, pos + 4096)]).find(b"\0")
                    pos += z + 1 if z >= 0 else 0
                elif isinstance(s, tuple):
                    if s[1] == "uleb":
                        n, pos = read_uleb(buf, pos, end)
                    else:
                        n = int.from_bytes(buf[pos:pos + s[1]], "little")
                        pos += s[1]
                    pos += n
                else:
                    pos += s
