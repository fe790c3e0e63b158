"""``wasmem dump``: bytes of a memory source as rows labelled by symbol or region, optionally typed by DWARF."""

from __future__ import annotations

from ..deadline import Deadline
from ..errors import UsageError
from ..model.ranges import ByteRanges
from .sources import MemorySource
from .targets import find_type, row_labeler


class DumpOutcome:
    """What ``wasmem dump`` shows: the dump, the calls run before it, where the bytes came from;
    ``value`` is the typed tree when ``--type`` was given."""

    def __init__(self, dump, source: str, calls: list, regions: list, saved: str | None = None, sp=None,
                 value=None, target=None):
        self.dump = dump
        self.source = source  # "instance" | "snapshot FILE"
        self.calls = calls
        self.regions = regions
        self.saved = saved
        self.sp = sp
        self.value = value
        self.target = target
        self.notes: list[str] = []  # e.g. a coredump that names another module file (its structure matched)

    @property
    def ok(self) -> bool:
        return all(c.ok for c in self.calls)

    def to_dict(self) -> dict:
        d = self.dump.to_dict()
        d["source"] = self.source
        d["sp"] = self.sp
        d["saved"] = self.saved
        d["calls"] = [c.to_dict() for c in self.calls]
        if self.target is not None:
            d["symbol"] = self.target.label
            d["expression"] = self.target.expression
        if self.value is not None:
            d["type"] = self.value.type_name
            d["value"] = self.value.to_dict()
        return d


DEFAULT_DUMP_LEN = 256


def dump_memory(path_or_module, at: str = "0", length: int | None = None, *, fmt: str = "hex",
                big_endian: bool = False, width: int | None = None, memory: int = 0, after=(),
                snapshot: str | None = None, save: str | None = None, alloc: str | None = None,
                type_name: str | None = None, depth: int = 4, core: str | None = None, changed=None,
                max_save: int | None = None, **options) -> DumpOutcome:
    """Reads ``length`` bytes at the address expression ``at`` from a live instance (after the ``after``
    calls), from a raw ``snapshot`` image or from a coredump (``core``, of this module), and splits them
    into rows labelled ``<symbol+off>`` or by region. ``save`` writes the whole memory as a raw image (so a
    coredump becomes a ``--snapshot`` image: a sparse file, refused when the memory is larger than
    ``max_save`` bytes (``--max-save``, default ``app.core.DEFAULT_MAX_SAVE``; 0: no limit) and written
    within ``timeout``). ``at`` may be a symbol path (``config.meta``, ``node_a->next``); without ``length`` a symbol's
    size is used (else 256). ``type_name`` (a DWARF type, or ``auto`` for the symbol's own type) decodes
    the bytes into a typed value tree. ``changed`` adds addresses to highlight (a shell's last call)."""
    from ..model.values import make_dump

    if length is not None and length < 0:
        raise UsageError(f"--len {length} is negative")
    mem = MemorySource(path_or_module, memory=memory, after=after, snapshot=snapshot, alloc=alloc, core=core, **options)
    if changed:
        for s, e in ByteRanges.from_addresses(changed):
            mem.changed.add(s, e)
    target = mem.target(at)
    value = None
    if type_name:
        if mem.symbols is None:
            raise UsageError("--type works on memory 0 only")
        from ..debuginfo import format_value, sizeof

        t = find_type(mem.symbols, type_name, target)
        value = format_value(t, mem.read, target.address, label=target.expression, depth=depth,
                             symbols=mem.symbols)
        if length is None:
            length = sizeof(t) or 0
    if length is None:
        length = target.size or DEFAULT_DUMP_LEN
    data = mem.read(target.address, length)
    if save:
        # the command's deadline (--timeout from its start; a library call's own from here) bounds the write
        deadline = options.get("deadline") or Deadline(options.get("timeout"))

        def check() -> None:
            deadline.check("--save (nothing was written)")

        mem.save(save, memory, max_size=max_save, check=check)
    d = make_dump(data, target.address, fmt, width=width, big_endian=big_endian, regions=mem.regions,
                  changed=mem.changed, memory=memory, memory_size=mem.size,
                  labeler=row_labeler(mem.symbols) if mem.symbols is not None else None)
    out = DumpOutcome(d, mem.source, mem.calls, mem.regions, save, mem.sp, value=value, target=target)
    out.notes = list(mem.notes)
    return out
