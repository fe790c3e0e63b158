"""The records of the layout model: a module's declared memories, its stack pointer and where it was found,
its data segments, the regions of linear memory, the evidence for the data end, its classified globals, what
else the module holds, the findings, and the ``MemoryLayout`` that ``wasmem.model.layout.analyze`` builds of
them all (``layout_to_dict`` there gives its JSON form)."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Finding:
    severity: str  # error | warning | info
    code: str  # stable identifier, e.g. "data-first"
    message: str
    hint: str | None = None


@dataclass(frozen=True)
class DeclaredMemory:
    """A memory as the module declares it (limits, import, exports); a running instance's is
    ``wasmem.runtime.MemoryInfo``."""

    index: int
    imported: str | None  # "module.name"
    exports: tuple[str, ...]
    min_pages: int
    max_pages: int | None
    page_size: int
    shared: bool
    is64: bool
    import_index: int | None = None  # position in the import section (V8's "memory import N")

    @property
    def min_bytes(self) -> int:
        return self.min_pages * self.page_size

    @property
    def max_bytes(self) -> int | None:
        return None if self.max_pages is None else self.max_pages * self.page_size


@dataclass(frozen=True)
class StackPointer:
    global_index: int
    provenance: str  # name-section | import | export | prologue-heuristic
    detail: str  # human explanation, e.g. "named __stack_pointer in the name section"
    initial: int | None  # None when imported (set by a loader)
    imported: bool
    evidence: int = 0  # functions whose prologue matched
    valtype: str = "i32"


@dataclass(frozen=True)
class Segment:
    index: int
    name: str | None
    mode: str
    memory: int
    address: int | None
    size: int
    file_offset: int

    @property
    def end(self) -> int | None:
        return None if self.address is None else self.address + self.size


@dataclass(frozen=True)
class Region:
    kind: str  # stack | data | heap | free | reserved
    start: int
    end: int
    label: str
    exact: bool = True

    @property
    def size(self) -> int:
        return self.end - self.start


@dataclass(frozen=True)
class DataEndFact:
    """One piece of evidence for where the static data (with .bss) ends."""

    source: str  # __data_end | __heap_base | __stack_low | segments | __wasm_init_memory | GOT.data.internal | dwarf
    value: int  # the address the evidence gives
    bound: str  # "end": the data ends here (16-byte aligned for __heap_base/__stack_low); "at-least": it reaches here
    detail: str


@dataclass(frozen=True)
class GlobalClass:
    """An exported or linker-named immutable integer global: an address or a plain value, and why."""

    name: str
    index: int
    value: int
    valtype: str
    kind: str  # address | value
    reason: str


@dataclass(frozen=True)
class ModuleContents:
    """What else the module holds, as `wasm-objdump -h` would list it."""

    sections: tuple  # SectionHeader records, in file order
    num_imported_functions: int
    num_functions: int
    num_globals: int
    num_imports: int
    num_exports: int
    features: tuple[str, ...]  # target_features, e.g. "+bulk-memory"
    dylink: object | None  # DylinkInfo of a PIC / side module
    has_names: bool
    debug_sections: tuple[str, ...]
    external_debug_info: str | None
    source_mapping_url: str | None


@dataclass
class MemoryLayout:
    path: str | None
    file_size: int
    toolchain: str | None
    producers: dict
    memories: list[DeclaredMemory]
    stack_pointer: StackPointer | None
    layout_kind: str  # stack-first | data-first | imported | go | none | unknown
    layout_reason: str
    stack_low: int | None
    stack_high: int | None
    stack_exact: bool
    stack_reason: str
    segments: list[Segment]
    data_start: int | None
    data_end: int | None  # from __data_end when exported, else the end of the file's active segments
    data_end_exact: bool
    heap_base: int | None
    heap_base_exact: bool
    linker_symbols: dict[str, int]
    min_pages_needed: int | None
    regions: list[Region]
    findings: list[Finding] = field(default_factory=list)
    go: bool = False
    passive_segments: int = 0
    zero_filled: list[tuple[int, int]] = field(default_factory=list)  # .bss ranges memory.fill clears
    contents: ModuleContents | None = None
    data_end_source: str | None = None  # the DataEndFact.source the data end comes from
    data_end_cut: str | None = None  # why a fact that could move the data end was not read (a budget: which)
    data_end_facts: list[DataEndFact] = field(default_factory=list)
    preinitialised: list[tuple[int, int]] = field(default_factory=list)  # snapshot data inside the stack
    allocators: object = None  # wasmem.model.allocators.Allocators: the functions that allocate and free
    globals: list[GlobalClass] = field(default_factory=list)  # exported/linker immutable integer globals

    @property
    def value_globals(self) -> list[GlobalClass]:
        return [g for g in self.globals if g.kind == "value"]

    @property
    def memory(self) -> DeclaredMemory | None:
        return self.memories[0] if self.memories else None

    @property
    def stack_size(self) -> int | None:
        if self.stack_low is None or self.stack_high is None:
            return None
        return self.stack_high - self.stack_low

    @property
    def initial_bytes(self) -> int | None:
        return self.memory.min_bytes if self.memory else None

    @property
    def heap_available(self) -> int | None:
        """Bytes of the initial memory left above the heap base."""
        if self.heap_base is None or self.memory is None:
            return None
        return max(0, self.memory.min_bytes - self.heap_base)

    def region_at(self, addr: int) -> Region | None:
        from .values import region_finder

        return region_finder(self.regions)(addr)
