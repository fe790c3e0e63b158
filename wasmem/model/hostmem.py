"""A memory the host gives an imported memory, checked the way V8 checks it, and the JavaScript that
satisfies the import.

Pure stdlib. V8 (``WebAssembly.Instance``/``instantiate``) checks an imported memory in this order and
throws the first failure as a ``LinkError``: the memory's current size against the declared initial, its
maximum against the declared maximum (a declared maximum requires the host memory to have one), then
the shared flag (it must be equal). Before that, ``new WebAssembly.Memory(descriptor)`` itself throws
for a descriptor it cannot build (``shared`` without ``maximum``, ``maximum < initial``, more than
65536 pages). The texts below are what Node 20.20 (V8 11.3.244) prints, recorded on the real ``node``
(tests/model/test_host_memory.py runs them again when ``node`` is on PATH); newer V8 words the
too-small case ``Import #0 "env" "memory": memory import has 10 pages which is smaller than the
declared initial of 17``.
"""

from __future__ import annotations

from dataclasses import dataclass

# The JS API's limit for a memory32 WebAssembly.Memory descriptor (initial and maximum), in pages.
JS_MAX_PAGES = 65536
LINK_PREFIX = "LinkError: WebAssembly.Instance(): "
CTOR_PREFIX = "WebAssembly.Memory(): "


@dataclass(frozen=True)
class HostMemory:
    """What the host passes: ``new WebAssembly.Memory({initial, maximum, shared})``."""

    initial: int
    maximum: int | None = None
    shared: bool = False


@dataclass(frozen=True)
class LinkProblem:
    code: str  # the inspect finding code, e.g. host-memory-too-small
    rule: str  # the check rule it fails: host-pages | host-max-pages | host-shared
    message: str  # in plain words
    v8: str  # what Node 20 / V8 11.3 throws, verbatim


def js_memory(initial: int, maximum: int | None = None, shared: bool = False, is64: bool = False) -> str:
    """The JavaScript expression for a host memory. A memory64 import takes the standard JS API's
    ``address: 'i64'`` with BigInt sizes (Node 20 does not implement it)."""
    n = "n" if is64 else ""
    parts = (["address: 'i64'"] if is64 else []) + [f"initial: {initial}{n}"]
    if maximum is not None:
        parts.append(f"maximum: {maximum}{n}")
    if shared:
        parts.append("shared: true")
    return "new WebAssembly.Memory({" + ", ".join(parts) + "})"


def recommended(mem, pages: int | None = None, maximum: int | None = None) -> HostMemory:
    """The host memory that satisfies import ``mem`` (a DeclaredMemory: min_pages, max_pages, shared), as
    close to the wanted ``pages``/``maximum`` as the import allows: initial within [min, max], a maximum
    when the import declares one or is shared (never above the declared one), the same shared flag."""
    initial = mem.min_pages if pages is None else max(pages, mem.min_pages)
    if mem.max_pages is not None:
        initial = min(initial, mem.max_pages)
    top = mem.max_pages if mem.max_pages is not None else JS_MAX_PAGES
    if maximum is not None and initial <= maximum <= top:
        mx = maximum
    elif mem.max_pages is not None:
        mx = mem.max_pages
    elif mem.shared:  # an invalid module (shared needs a maximum); the host memory still needs one
        mx = max(initial, min(top, JS_MAX_PAGES))
    else:
        mx = None
    return HostMemory(initial, mx, bool(mem.shared))


def advice(mem, pages: int | None = None, maximum: int | None = None) -> str:
    """``recommended`` as the JavaScript to paste."""
    h = recommended(mem, pages, maximum)
    return js_memory(h.initial, h.maximum, h.shared, bool(getattr(mem, "is64", False)))


def _hex(n: int) -> str:
    return f"{n:x}"  # V8 11.3 prints the lower bound of 'maximum' in hex ("below the lower bound 14" for 20)


def constructor_problems(host: HostMemory) -> list[LinkProblem]:
    """What ``new WebAssembly.Memory(descriptor)`` itself throws for ``host`` (memory32)."""
    out = []
    if host.initial > JS_MAX_PAGES:
        out.append(LinkProblem(
            "host-memory-invalid", "host-pages",
            f"a WebAssembly.Memory cannot start with {host.initial} pages (at most {JS_MAX_PAGES})",
            f"RangeError: {CTOR_PREFIX}Property 'initial': value {host.initial} is above the upper bound "
            f"{JS_MAX_PAGES}"))
    if host.maximum is not None and host.maximum > JS_MAX_PAGES:
        out.append(LinkProblem(
            "host-memory-invalid", "host-max-pages",
            f"a WebAssembly.Memory cannot have a maximum of {host.maximum} pages (at most {JS_MAX_PAGES})",
            f"RangeError: {CTOR_PREFIX}Property 'maximum': value {host.maximum} is above the upper bound "
            f"{JS_MAX_PAGES}"))
    elif host.maximum is not None and host.maximum < host.initial:
        out.append(LinkProblem(
            "host-memory-invalid", "host-max-pages",
            f"the host memory's maximum {host.maximum} is below its initial {host.initial}",
            f"RangeError: {CTOR_PREFIX}Property 'maximum': value {host.maximum} is below the lower bound "
            f"{_hex(host.initial)}"))
    if host.shared and host.maximum is None:
        out.append(LinkProblem(
            "host-memory-invalid", "host-max-pages", "a shared WebAssembly.Memory must have a maximum",
            f"TypeError: {CTOR_PREFIX}If shared is true, maximum property should be defined."))
    return out


def link_problems(mem, host: HostMemory, import_index: int = 0) -> list[LinkProblem]:
    """Every reason V8 rejects ``host`` for import ``mem`` (a DeclaredMemory), in V8's order: the first one
    is what it throws. ``import_index`` is the memory's position in the import section, which V8 11.3
    prints as "memory import N". Empty when V8 accepts it."""
    out = constructor_problems(host)
    if out:
        return out
    i = import_index
    if host.initial < mem.min_pages:
        out.append(LinkProblem(
            "host-memory-too-small", "host-pages",
            f"a host memory of {host.initial} pages is smaller than the declared minimum of {mem.min_pages} pages",
            f"{LINK_PREFIX}memory import {i} is smaller than initial {mem.min_pages}, got {host.initial}"))
    if mem.max_pages is not None:
        if host.maximum is None:
            out.append(LinkProblem(
                "host-memory-no-maximum", "host-max-pages",
                f"the import declares a maximum of {mem.max_pages} pages, so the host memory needs a maximum "
                f"of at most {mem.max_pages}; it has none",
                f"{LINK_PREFIX}memory import {i} has no maximum limit, expected at most 4294967295"))
        elif host.maximum > mem.max_pages:
            out.append(LinkProblem(
                "host-memory-too-large", "host-max-pages",
                f"the host memory's maximum {host.maximum} is larger than the import's maximum {mem.max_pages}",
                f"{LINK_PREFIX}memory import {i} has a larger maximum size {host.maximum} than the module's "
                f"declared maximum {mem.max_pages}"))
    if bool(mem.shared) != bool(host.shared):
        out.append(LinkProblem(
            "host-memory-shared-mismatch", "host-shared",
            "the import is shared, the host memory is not" if mem.shared else
            "the host memory is shared, the import is not",
            f"{LINK_PREFIX}mismatch in shared state of memory, declared = {int(bool(mem.shared))}, "
            f"imported = {int(bool(host.shared))}"))
    return out


def newer_v8_too_small(module_name: str, name: str, import_index: int, got: int, initial: int) -> str:
    """The newer V8 wording of the too-small LinkError (as quoted in public bug reports)."""
    return (f'Import #{import_index} "{module_name}" "{name}": memory import has {got} pages which is smaller '
            f"than the declared initial of {initial}")
