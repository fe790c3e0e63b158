"""The findings about a layout that `inspect` reports (and CI reads in its JSON), each with a stable code and,
where there is one, the fix as a hint: Go, legacy exception handling, data without a memory, a data-first
layout, no maximum, an invalid memory, a small stack, a hidden memory, a segment past the initial memory, too
few pages; and with ``--pages`` a host memory checked against the import the way V8 checks it
(``wasmem.model.hostmem``). ``checks.py`` turns a layout into the pass/fail results of the `check` rules."""

from __future__ import annotations

from ..errors import ParseError
from ..parser.features import LEGACY_EH_REMEDY, find_legacy_eh
from ..parser.module import WasmModule
from .hostmem import JS_MAX_PAGES, HostMemory, advice, js_memory, link_problems, newer_v8_too_small
from .layouttypes import Finding, MemoryLayout


def add_findings(module: WasmModule, lay: MemoryLayout, pages: int | None, min_stack: int,
                 host_max_pages: int | None = None, host_shared: bool = False) -> None:
    """Appends to ``lay.findings`` what is wrong or worth knowing about the layout (``analyze``'s last step)."""
    f = lay.findings
    mem = lay.memory
    if lay.go:
        f.append(Finding("info", "go", "built by Go: global 0 is Go's SP register; goroutine stacks live "
                                       "in the Go heap, so there is no C linear stack to size"))
    eh = find_legacy_eh(module)
    if eh is not None:
        f.append(Finding("warning", "legacy-exceptions",
                         f"the code uses legacy exception handling (the pre-exnref try/catch encoding: `{eh.op}` "
                         f"at {eh.offset:#x} in {_function_label(module, eh.func_index)}): wasmtime (and so "
                         f"`wasmem call`) cannot run it; browsers and Node still do", LEGACY_EH_REMEDY))
    if mem is None:
        if any(s.mode == "active" for s in lay.segments):
            f.append(Finding("error", "data-without-memory", "data segments exist but no memory is declared"))
        return
    if lay.layout_kind == "data-first":
        f.append(Finding("warning", "data-first",
                         "data-first layout: the stack sits above the static data and grows down into it, so "
                         "a stack overflow silently corrupts globals instead of trapping",
                         "link with --stack-first (wasm-ld) so an overflow runs below address 0 and traps"))
    if mem.max_pages is None and mem.imported is not None:  # the host's WebAssembly.Memory sets it
        example = min(JS_MAX_PAGES, max(256, 2 * mem.min_pages))
        f.append(Finding("info", "no-max-memory",
                         f"the memory import {mem.imported} has no maximum: the host's WebAssembly.Memory sets "
                         f"one (without it, memory may grow to 4 GiB for wasm32)",
                         f"set `maximum` in the host, e.g. {js_memory(mem.min_pages, example, False, mem.is64)} "
                         f"({example * mem.page_size // 1048576} MiB); not -Wl,--max-memory, which makes every "
                         f"host pass one"))
    elif mem.max_pages is None:
        f.append(Finding("info", "no-max-memory",
                         "memory has no maximum: it may grow until the host refuses (4 GiB for wasm32)",
                         "set one with -Wl,--max-memory=BYTES"))
    for m in lay.memories:
        if m.max_pages is not None and m.max_pages < m.min_pages:
            f.append(Finding("error", "max-below-min", f"memory {m.index} declares a maximum of {m.max_pages} "
                                                       f"pages, below its minimum of {m.min_pages}: invalid"))
        if m.page_size not in (1, 65536):
            f.append(Finding("error", "bad-page-size", f"memory {m.index} declares a page size of {m.page_size} "
                                                       f"bytes; only 1 and 65536 are allowed: invalid"))
    if mem.shared and mem.max_pages is None:
        f.append(Finding("error", "shared-without-max", "a shared memory must declare a maximum"))
    size = lay.stack_size
    if size is not None and lay.layout_kind in ("stack-first", "data-first") and size < min_stack:
        f.append(Finding("warning", "small-stack",
                         f"the linear stack is {size} bytes{'' if lay.stack_exact else ' at most'}, "
                         f"below {min_stack} bytes", "raise it with -Wl,-z,stack-size=BYTES"))
    if mem.imported is None and not mem.exports:
        f.append(Finding("warning", "memory-hidden",
                         "memory 0 is neither exported nor imported: the host cannot read or write it",
                         "export it (wasm-ld exports `memory` unless --import-memory or --no-export-memory)"))
    for s in lay.segments:
        if s.address is None or s.memory >= len(lay.memories):
            continue
        m = lay.memories[s.memory]
        if s.address + s.size > m.min_bytes:
            f.append(Finding("error", "segment-out-of-bounds",
                             f"data segment {s.index} [{s.address:#x}, {s.address + s.size:#x}) ends past the "
                             f"initial size of memory {s.memory} ({m.min_bytes:#x} bytes): instantiation fails"))
    if lay.min_pages_needed is not None and lay.min_pages_needed > mem.min_pages:
        f.append(Finding("error", "memory-too-small",
                         f"the layout needs {lay.min_pages_needed} pages but memory 0 declares {mem.min_pages}"))
    if pages is not None:
        _host_findings(module, lay, pages, host_max_pages, host_shared)


def _host_findings(module: WasmModule, lay: MemoryLayout, pages: int, host_max_pages: int | None,
                   host_shared: bool) -> None:
    """--pages N [--max-pages M] [--shared]: the host memory new WebAssembly.Memory({initial: N, maximum: M,
    shared}) checked against memory 0's import as V8 checks it (wasmem.model.hostmem)."""
    f = lay.findings
    mem = lay.memory
    host = HostMemory(pages, host_max_pages, host_shared)
    if mem.imported is None:
        f.append(Finding("warning", "pages-not-imported",
                         f"--pages {pages}: this module defines its own memory ({mem.min_pages} pages); "
                         f"a host-provided memory is ignored"))
        return
    imp = module.memories[0].imported
    paste = advice(mem, pages, host_max_pages)
    problems = link_problems(mem, host, mem.import_index)
    for i, p in enumerate(problems):
        message = f"{p.message}: {'V8 throws' if i == 0 else 'V8 would next throw'} {p.v8}"
        hint = f"pass {paste}"
        if p.code == "host-memory-too-small":
            message += (f" (Node 20 / V8 11.3 wording; newer V8: "
                        f"{newer_v8_too_small(imp.module, imp.name, imp.index, pages, mem.min_pages)})")
            hint += _relink_advice(lay, pages)
        f.append(Finding("error", p.code, message, hint))
    if not problems:
        f.append(Finding("info", "host-memory-ok",
                         f"--pages {pages}: V8 accepts {js_memory(pages, host_max_pages, host_shared, mem.is64)} "
                         f"for {mem.imported} (initial {mem.min_pages}"
                         f"{'' if mem.max_pages is None else f', maximum {mem.max_pages}'}"
                         f"{', shared' if mem.shared else ''})"))


def _relink_advice(lay: MemoryLayout, pages: int) -> str:
    """How to relink so that a `pages`-page host memory is enough, never below what the layout needs."""
    mem = lay.memory
    need = max([v for v in (lay.heap_base, lay.data_end, lay.stack_high) if v is not None], default=None)
    if need is None or lay.min_pages_needed is None:
        return (f"; or relink with -Wl,--initial-memory={pages * mem.page_size} if the stack and data fit in "
                f"{pages} pages (wasm-ld refuses a smaller initial memory than they need)")
    exact = lay.heap_base_exact and lay.heap_base is not None
    if pages >= lay.min_pages_needed:
        return (f"; or relink with -Wl,--initial-memory={pages * mem.page_size}: the layout needs "
                f"{'' if exact else 'at least '}{lay.min_pages_needed} pages (stack, data and heap base "
                f"{need:#x}), so {pages} are {'enough' if exact else 'enough unless .bss reaches further'}")
    short = need - pages * mem.page_size
    return (f"; relinking alone cannot make {pages} pages enough: the layout needs "
            f"{'' if exact else 'at least '}{lay.min_pages_needed} pages (stack, data and heap base {need:#x}), "
            f"so -Wl,--initial-memory={lay.min_pages_needed * mem.page_size} is the least wasm-ld accepts; "
            f"shrink the stack (-Wl,-z,stack-size, if `wasmem stack` shows the deepest path fits) or the static "
            f"data by {short} bytes first")


def _function_label(module: WasmModule, index: int) -> str:
    try:
        name = module.names.functions.get(index)
    except ParseError:
        name = None
    return f"function {index} ({name})" if name else f"function {index}"
