"""The memory sources the use cases read: a live instance (after setup calls), a raw snapshot image (the module
gives only the layout and the names), or a coredump seen through the module it was taken of
(``CoreSession``: the read side of a session, answered from the dump)."""

from __future__ import annotations

import os

from ..errors import UsageError, WasmemError
from ..model.ranges import ByteRanges
from ..parser.module import WasmModule
from ..runtime.session import Session
from .call import dwarf_sret
from .core import CoreSession, open_core_session
from .modules import layout_facts, load_module, open_session, split_call, symbols_for
from .targets import Target, resolve_target, static_symbols


def snapshot_limit(module: WasmModule, memory: int = 0) -> int:
    """The most bytes a snapshot of ``memory`` can have: its declared maximum, else what its index type
    can address (4 GiB for wasm32; memory64 snapshots are capped there too, as wasmem reads them whole)."""
    if not 0 <= memory < len(module.memories):
        n = len(module.memories)
        raise UsageError(f"memory {memory} does not exist (the module has {n} memor{'y' if n == 1 else 'ies'})")
    mt = module.memories[memory].type
    cap = 1 << 32
    if mt.max_pages is not None:
        return min(cap, mt.max_pages * mt.page_size)
    return cap


def shared_regions(symbols, regions: list) -> list:
    """The map of memory 0 from the layout the symbol table uses (with its DWARF facts), so that a dump's
    region headings and its symbols' regions come from one model even when the session's own layout skipped
    the DWARF (its variables scan ran out of time). The DWARF is read anyway here: the labels need it."""
    if not getattr(symbols, "has_dwarf", False):
        return regions
    try:
        layout = symbols.layout
    except WasmemError:
        return regions
    return list(layout.regions) if layout is not None and layout.regions else regions


class MemorySource:
    """Where `dump` and `chase` read from: a live instance after the ``after`` calls, or a raw snapshot
    image (the module then gives only the layout and the names)."""

    def __init__(self, path_or_module, *, memory: int = 0, after=(), snapshot: str | None = None,
                 alloc: str | None = None, core: str | None = None, **options):
        from ..model.values import MemoryImage, eval_address

        self.calls: list = []
        self.changed = ByteRanges()  # bytes the `after` calls changed in ``memory``
        self.session = None
        self.core_memory = None
        self.notes: list[str] = []
        if snapshot is not None and after:
            raise UsageError("--after calls functions of a live instance, --snapshot reads a saved memory image: "
                             "use one or the other")
        from_core = core is not None or isinstance(path_or_module, CoreSession)
        if from_core and (after or snapshot is not None):
            raise UsageError("--core reads a coredump: it takes neither --after calls nor a --snapshot")
        if from_core:
            self._open_core(path_or_module, core, memory)
        elif snapshot is not None:
            module = load_module(path_or_module)
            layout, _, _, regions = layout_facts(module)
            limit = snapshot_limit(module, memory)
            from ..files import read_regular

            data = read_regular(snapshot, limit, what="--snapshot", noun="a memory image", max_size=limit,
                                size_note=f"memory {memory} of this module can hold ({limit} bytes): not a snapshot "
                                          "of it")
            image = MemoryImage(data, f"snapshot {os.path.basename(snapshot)}")
            syms = static_symbols(module, layout)

            def lookup(name):
                if name.lower() == "sp":
                    raise UsageError("`sp` is not known for a raw snapshot (the stack pointer is not in the image)")
                return syms.get(name)

            self.module, self.source, self.sp = module, f"snapshot {snapshot}", None
            self.regions = regions if memory == 0 else []
            self.read, self.size, self.image = image.read, image.size, image.data
            self.resolve = lambda text: eval_address(text, lookup)
            self.is64 = module.is_memory64
        else:
            session = self.session = (path_or_module if isinstance(path_or_module, Session)  # a live one
                                      else open_session(path_or_module, calls=after, alloc=alloc, **options))
            setup_symbols = symbols_for(session.module) if after else None
            for text in after:
                name, cargs = split_call(text)
                r = session.call(name, cargs, alloc=alloc, sret=dwarf_sret(setup_symbols, session.module, name))
                self.calls.append(r)
                for s, e in r.changed(memory):
                    self.changed.add(s, e)
                self.changed.omitted += r.changes_omitted if memory == 0 else 0
                self.changed.omitted_bytes += r.changes_omitted_bytes if memory == 0 else 0
                self.notes += [f"{r.name}: {note}" for note in r.limit_notes]  # growth refused, a diff cut
                if not r.ok:
                    break
            self.module, self.source, self.sp = session.module, "instance", session.get_sp()
            self.regions = session.regions if memory == 0 else []
            self.read = lambda addr, n: session.read(addr, n, memory)
            self.size = session.memory_size(memory)
            self.resolve, self.is64 = session.resolve_address, session.is64
            self.image = None
        self.symbols = symbols_for(self.module) if memory == 0 else None
        if self.symbols is not None and self.regions:
            self.regions = shared_regions(self.symbols, self.regions)

    def _open_core(self, path_or_module, core: str | None, memory: int) -> None:
        """A coredump's memory: ``path_or_module`` is a CoreSession (a shell's), or the module ``core``
        was taken of."""

        cs = path_or_module if isinstance(path_or_module, CoreSession) else open_core_session(path_or_module, core)
        cm = cs.guest_memory(memory)
        self.module, self.source, self.sp = cs.module, f"coredump {cs.core_path}", cs.get_sp()
        self.regions = list(cs.regions) if memory == 0 else []
        self.read, self.size, self.image, self.core_memory = cm.read, cm.size, None, cm
        self.resolve = cs.resolve_address
        self.is64 = cs.is64
        self.notes = list(cs.notes)

    def target(self, at: str) -> Target:
        if self.symbols is None:
            return Target(at, self.resolve(at))
        return resolve_target(at, self.symbols, self.read, self.resolve)

    def save(self, path: str, memory: int, *, max_size: int | None = None, check=None) -> None:
        """Writes the whole memory to ``path`` as a raw image; a coredump's as a sparse file, refused past
        ``max_size`` bytes and bounded by ``check`` (``app.core.save_core_image``)."""
        if self.core_memory is not None:
            from .core import DEFAULT_MAX_SAVE, save_core_image

            save_core_image(self.core_memory, path, max_size=DEFAULT_MAX_SAVE if max_size is None else max_size,
                            check=check)
            return
        with open(path, "wb") as f:
            f.write(self.image if self.image is not None else self.session.image(memory))
