"""CI rules over a module's memory layout and static stack analysis → one result per rule.

Pure stdlib. Rules come from keyword arguments (the CLI's flags) merged over a config file:
``[tool.wasmem.check]`` in ``pyproject.toml``, or ``wasmem.toml`` (top-level keys or a ``[check]``
table), found in the current directory or its parents. Keys are the flag names without ``--``
(``max-initial-pages = 2``); snake_case works too.

Every result carries the measured value and the limit, and a status: ``pass``, ``fail`` or ``skip``
(the rule does not apply, e.g. ``host-pages`` on a module that defines its own memory).
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field, fields

from ..errors import UsageError
from .layouttypes import MemoryLayout
from .stackframes import StackAnalysis, path_text

CONFIG_NAMES = ("wasmem.toml", "pyproject.toml")


@dataclass(frozen=True)
class Rules:
    max_initial_pages: int | None = None
    host_pages: int | None = None
    host_max_pages: int | None = None  # with host_pages: the host memory's maximum
    host_shared: bool = False  # with host_pages: the host memory is shared
    min_stack_size: int | None = None
    max_stack_size: int | None = None
    require_stack_first: bool = False
    require_max_memory: bool = False
    max_data_size: int | None = None
    stack_headroom: float | None = None
    allow_unbounded: bool = False
    recursion_depth: int | None = None  # bounds recursive cycles for stack-headroom
    leak_call: str | None = None  # "FUNC ARGS" called leak_repeat times for leak-per-call
    max_leak_per_call: int | None = None  # the rule leak-per-call: bytes the live heap may grow per call
    leak_repeat: int | None = None  # default 10

    @property
    def active(self) -> list[str]:
        """The rules that will be checked, as flag names."""
        out = []
        for f in fields(self):
            if f.name in ("allow_unbounded", "recursion_depth", "host_max_pages", "host_shared", "leak_call",
                          "leak_repeat"):
                continue
            v = getattr(self, f.name)
            if f.name == "max_leak_per_call":
                if v is not None:  # 0 is the usual limit
                    out.append("leak-per-call")
            elif v is not None and v is not False:  # 0 is a limit too (0 == False in Python)
                out.append(f.name.replace("_", "-"))
                if f.name == "host_pages":  # the host memory's maximum and shared flag are checked too
                    out += ["host-max-pages", "host-shared"]
        return out

    @property
    def needs_stack_analysis(self) -> bool:
        return self.stack_headroom is not None


RULE_TYPES = {f.name: f.type for f in fields(Rules)}
_INT_RULES = {"max_initial_pages", "host_pages", "host_max_pages", "min_stack_size", "max_stack_size", "max_data_size",
              "recursion_depth", "max_leak_per_call", "leak_repeat"}
_STR_RULES = {"leak_call"}
_BOOL_RULES = {"require_stack_first", "require_max_memory", "allow_unbounded", "host_shared"}


@dataclass(frozen=True)
class RuleResult:
    rule: str  # flag name, e.g. "max-initial-pages"
    status: str  # pass | fail | skip
    measured: object
    limit: object
    message: str
    details: tuple[str, ...] = ()
    sources: tuple[str, ...] = ()  # file:line places in the program's source the result is about (leak sites)

    @property
    def passed(self) -> bool:
        return self.status != "fail"


@dataclass
class ModuleReport:
    path: str
    results: list[RuleResult] = field(default_factory=list)
    error: str | None = None  # the module could not be read (exit 2)

    @property
    def passed(self) -> bool:
        return self.error is None and all(r.passed for r in self.results)

    @property
    def failures(self) -> list[RuleResult]:
        return [r for r in self.results if r.status == "fail"]


# ------------------------------------------------------------------------------------------------
# configuration
# ------------------------------------------------------------------------------------------------

def _toml_loads(text: str, path: str) -> dict:
    try:
        import tomllib  # Python 3.11+
    except ImportError:  # pragma: no cover - 3.10
        try:
            import tomli as tomllib  # type: ignore[no-redef]
        except ImportError:
            raise UsageError(f"{path}: reading a config needs Python 3.11 (tomllib) or the tomli package") \
                from None
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise UsageError(f"{path}: invalid TOML: {exc}") from None
    except RecursionError:  # tomllib parses nested arrays and tables recursively
        raise UsageError(f"{path}: invalid TOML: nested too deeply") from None


MAX_CONFIG_BYTES = 1 << 20


def _read_config(path: str) -> str:
    """A config file's text: a regular file (a FIFO or device would block or never end), at most
    MAX_CONFIG_BYTES, valid UTF-8 (as TOML requires). Every failure is a UsageError."""
    from ..files import read_regular

    raw = read_regular(path, MAX_CONFIG_BYTES, noun="a config file", max_size=MAX_CONFIG_BYTES,
                       size_note=f"a config file may have ({MAX_CONFIG_BYTES})")
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise UsageError(f"{path}: not UTF-8 text (at offset {exc.start:#x})") from None


def _section(doc: dict, path: str) -> dict | None:
    """The check table of a parsed config file, or None when it has none."""
    tool = doc.get("tool", {}).get("wasmem", {}) if isinstance(doc.get("tool"), dict) else {}
    if isinstance(tool, dict) and isinstance(tool.get("check"), dict):
        return tool["check"]
    if os.path.basename(path) == "pyproject.toml":
        return None
    if isinstance(doc.get("check"), dict):
        return doc["check"]
    return doc


def find_config(start: str | None = None) -> str | None:
    """The nearest ``wasmem.toml``, or ``pyproject.toml`` with a ``[tool.wasmem.check]`` table, in ``start``
    (default: the current directory) or its parents."""
    d = os.path.abspath(start or os.getcwd())
    while True:
        for name in CONFIG_NAMES:
            p = os.path.join(d, name)
            if os.path.isfile(p):
                if name == "wasmem.toml":
                    return p
                text = _read_config(p)
                if "wasmem" in text and _section(_toml_loads(text, p), p) is not None:
                    return p
        parent = os.path.dirname(d)
        if parent == d:
            return None
        d = parent


def load_config(path: str) -> tuple[dict, list[str]]:
    """(rule values by field name, module paths) from a config file. Unknown keys are a UsageError."""
    text = _read_config(path)
    table = _section(_toml_loads(text, path), path)
    if table is None:
        raise UsageError(f"{path}: no [tool.wasmem.check] table")
    out: dict = {}
    modules: list[str] = []
    base = os.path.dirname(os.path.abspath(path))
    for key, value in table.items():
        name = key.replace("-", "_")
        if name == "modules":
            if isinstance(value, str):
                value = [value]
            if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
                raise UsageError(f"{path}: `modules` must be a list of paths")
            modules = [v if os.path.isabs(v) else os.path.join(base, v) for v in value]
            continue
        if name not in RULE_TYPES:
            known = ", ".join(sorted(n.replace("_", "-") for n in RULE_TYPES))
            raise UsageError(f"{path}: unknown rule {key!r} (known: {known}, modules)")
        if name in _BOOL_RULES:
            if not isinstance(value, bool):
                raise UsageError(f"{path}: {key} must be true or false")
        elif name in _STR_RULES:
            if not isinstance(value, str) or not value.strip():
                raise UsageError(f"{path}: {key} must be a call such as \"step 1\"")
        elif name in _INT_RULES:
            least = 1 if name in ("recursion_depth", "leak_repeat") else 0  # as on the command line
            if isinstance(value, bool) or not isinstance(value, int) or value < least:
                raise UsageError(f"{path}: {key} must be an integer of at least {least}")
        else:
            if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 <= value < 100:
                raise UsageError(f"{path}: {key} must be a percentage in [0, 100)")
            value = float(value)
        out[name] = value
    return out, modules


def make_rules(cli: dict, config_path: str | None = None, *, search_from: str | None = None,
               use_config: bool = True) -> tuple[Rules, str | None, list[str]]:
    """Rules from a config file (``config_path`` or the nearest one) overridden by ``cli`` values that are
    not None/False. Returns (rules, config path used, modules listed in the config)."""
    values: dict = {}
    modules: list[str] = []
    used = None
    if use_config:
        used = config_path or find_config(search_from)
        if used is not None:
            values, modules = load_config(used)
    for k, v in cli.items():
        if k not in RULE_TYPES:
            raise UsageError(f"unknown rule {k!r}")
        if v is not None and v is not False:
            values[k] = v
    if values.get("host_pages") is None and (values.get("host_max_pages") is not None or values.get("host_shared")):
        raise UsageError("host-max-pages and host-shared describe the host memory of host-pages: "
                         "give --host-pages N (or host-pages = N) too")
    if (values.get("max_leak_per_call") is None) != (values.get("leak_call") is None):
        raise UsageError("leak-per-call needs both --leak-call \"FUNC ARGS\" and --max-leak-per-call BYTES "
                         "(or leak-call and max-leak-per-call in the config)")
    return Rules(**values), used, modules


# ------------------------------------------------------------------------------------------------
# the rules
# ------------------------------------------------------------------------------------------------

def data_size(layout: MemoryLayout) -> int:
    """Bytes of static data: [data start, __data_end) when known (includes .bss), else the active segments."""
    if layout.data_start is not None and layout.data_end is not None:
        return max(0, layout.data_end - layout.data_start)
    return sum(s.size for s in layout.segments if s.mode == "active")


def _data_size_text(layout: MemoryLayout, n: int) -> str:
    """How big the static data is, with what ``data_size`` may leave out: nothing with ``__data_end``,
    else the .bss beyond what a fact proves (or all of it)."""
    if layout.data_end_exact:
        return f"static data is {n} bytes"
    src = layout.data_end_source
    if src in (None, "segments") or layout.data_start is None:
        cut = layout.data_end_cut
        return f"static data is {n} bytes (without .bss" + (f": {cut})" if cut else ")")
    return f"static data is at least {n} bytes (.bss proven to there by {src})"


def _host_results(layout: MemoryLayout, rules: Rules) -> list[RuleResult]:
    """host-pages, host-max-pages, host-shared: the host memory new WebAssembly.Memory({initial: host-pages,
    maximum: host-max-pages, shared: host-shared}) against memory 0's import, failing where V8 throws
    (wasmem.model.hostmem). host-max-pages and host-shared are reported when the import or the host has a
    maximum / the shared flag (otherwise there is nothing to compare)."""
    from .hostmem import HostMemory, advice, link_problems

    R = RuleResult
    mem = layout.memory
    n, mx, shared = rules.host_pages, rules.host_max_pages, rules.host_shared
    if mem is None or mem.imported is None:
        why = "the module defines its own memory: a host memory is not used" if mem else "the module has no memory"
        return [R("host-pages", "skip", None, n, why)]
    host = HostMemory(n, mx, shared)
    problems = link_problems(mem, host, mem.import_index or 0)
    fix = f"pass {advice(mem, n, mx)}"

    def result(rule: str, measured, limit, ok: str) -> RuleResult:
        mine = [p for p in problems if p.rule == rule]
        if not mine:
            return R(rule, "pass", measured, limit, ok)
        first = " (the error V8 throws first)" if len(problems) > 1 and problems[0] in mine else ""
        return R(rule, "fail", measured, limit, "; ".join(f"{p.message}: {p.v8}" for p in mine) + first,
                 (fix,))

    out = [result("host-pages", mem.min_pages, n,
                  f"{mem.imported} needs at least {mem.min_pages} pages; the host gives {n}")]
    if mem.max_pages is not None or mx is not None or mem.shared or shared:
        out.append(result("host-max-pages", mem.max_pages, mx,
                          f"the host memory's maximum {mx} is within the import's maximum {mem.max_pages}"
                          if mem.max_pages is not None else
                          f"the import declares no maximum: the host's maximum {mx} is its own choice"))
    if mem.shared or shared:
        out.append(result("host-shared", "shared" if mem.shared else "not shared",
                          "shared" if shared else "not shared", "both the import and the host memory are shared"))
    return out


def check_module(layout: MemoryLayout, rules: Rules, stack: StackAnalysis | None = None,
                 leak=None) -> list[RuleResult]:
    """Evaluates every active rule. ``stack`` is required for ``stack-headroom``; ``leak`` (a
    model.heap.LeakReport, or a str saying why there is none) for ``leak-per-call``."""
    out: list[RuleResult] = []
    mem = layout.memory
    R = RuleResult

    if rules.max_initial_pages is not None:
        lim = rules.max_initial_pages
        if mem is None:
            out.append(R("max-initial-pages", "skip", None, lim, "the module has no memory"))
        else:
            ok = mem.min_pages <= lim
            out.append(R("max-initial-pages", "pass" if ok else "fail", mem.min_pages, lim,
                         f"memory 0 starts with {mem.min_pages} pages ({mem.min_bytes} bytes)"
                         + ("" if ok else f", more than the allowed {lim}")))

    if rules.host_pages is not None:
        out += _host_results(layout, rules)

    size = layout.stack_size
    no_stack = layout.stack_pointer is None
    for rule, lim, bad, word in (("min-stack-size", rules.min_stack_size, lambda s, lim: s < lim, "below"),
                                 ("max-stack-size", rules.max_stack_size, lambda s, lim: s > lim, "above")):
        if lim is None:
            continue
        if no_stack:
            out.append(R(rule, "skip", None, lim, f"no linear stack ({layout.layout_kind})"))
        elif size is None:
            out.append(R(rule, "fail", None, lim,
                         f"the stack size cannot be determined ({layout.layout_kind}: {layout.stack_reason or 'set at run time'})"))
        else:
            failed = bad(size, lim)
            exact = "" if layout.stack_exact else " at most"
            out.append(R(rule, "fail" if failed else "pass", size, lim,
                         f"the stack is{exact} {size} bytes" + (f", {word} {lim}" if failed else "")
                         + (" (-z stack-size=BYTES)" if failed else "")))

    if rules.require_stack_first:
        kind = layout.layout_kind
        if kind in ("none", "go"):
            out.append(R("require-stack-first", "skip", kind, "stack-first", f"no C linear stack ({kind})"))
        else:
            ok = kind == "stack-first"
            msg = ("stack-first: an overflow runs below address 0 and traps" if ok else
                   f"layout is {kind}: a stack overflow silently corrupts static data (link with --stack-first)"
                   if kind == "data-first" else f"layout is {kind}, not stack-first")
            out.append(R("require-stack-first", "pass" if ok else "fail", kind, "stack-first", msg))

    if rules.require_max_memory:
        if mem is None:
            out.append(R("require-max-memory", "skip", None, "declared", "the module has no memory"))
        else:
            ok = mem.max_pages is not None
            out.append(R("require-max-memory", "pass" if ok else "fail", mem.max_pages, "declared",
                         f"memory 0 has a maximum of {mem.max_pages} pages" if ok else
                         "memory 0 has no maximum: it can grow to 4 GiB (-Wl,--max-memory=BYTES)"))

    if rules.max_data_size is not None:
        n = data_size(layout)
        ok = n <= rules.max_data_size
        out.append(R("max-data-size", "pass" if ok else "fail", n, rules.max_data_size,
                     _data_size_text(layout, n)
                     + ("" if ok else f", more than {rules.max_data_size}")))

    if rules.stack_headroom is not None:
        out.append(_headroom(layout, rules, stack))
    if rules.max_leak_per_call is not None:
        out.append(_leak_result(rules, leak))
    return out


def _leak_result(rules: Rules, leak) -> RuleResult:
    lim = rules.max_leak_per_call
    if leak is None or isinstance(leak, str):
        return RuleResult("leak-per-call", "skip", None, lim, leak or "the call was not run")
    g = leak.growth_per_call
    measured = int(g) if g == int(g) else round(g, 2)
    n = len(leak.iterations)
    what = f"{leak.call} × {n}: the live heap grows by {measured} bytes per call"
    details = tuple(f"{ls.bytes} bytes in {ls.blocks} blocks from {ls.site.function or ls.site.label}"
                    + (f" ({ls.site.location})" if ls.site.location else "")
                    + (" (returned: the caller must free them)" if ls.returned else "") for ls in leak.sites[:10])
    sources = tuple(dict.fromkeys(ls.site.location for ls in leak.sites[:10] if ls.site.location))
    if leak.trap:
        return RuleResult("leak-per-call", "fail", measured, lim, f"{what}; {leak.trap}", details, sources)
    if leak.findings:
        details += tuple(f.message for f in leak.findings[:10])
    ok = g <= lim and not leak.findings
    extra = "" if ok else (f", more than the allowed {lim}" if g > lim else f"; {len(leak.findings)} bad frees")
    return RuleResult("leak-per-call", "pass" if ok else "fail", measured, lim, what + extra, details, sources)


def _headroom(layout: MemoryLayout, rules: Rules, sa: StackAnalysis | None) -> RuleResult:
    """Every entry point's worst case (and the largest frame: a function no entry point reaches may still
    run) must leave ``stack_headroom`` percent of the stack free. ``limit`` is the bytes that allows (an
    int), or None when there is no stack to size; ``measured`` the largest worst case (None when no entry
    point has a bound). The same analysis and rules as `wasmem stack`'s recommendation: indirect calls
    included (each ``call_indirect`` may reach every function of its type in the table); the message says
    so, and calls a recursion that needs one possible, with the worst case without them beside it. The
    message starts with what failed."""
    from .indirectcalls import indirect_view

    pct = rules.stack_headroom
    size = layout.stack_size
    need = f"{pct:g}% of the stack free"
    if layout.stack_pointer is None:
        return RuleResult("stack-headroom", "skip", None, None,
                          f"no linear stack ({layout.layout_kind}): nothing to keep {need}")
    if size is None or sa is None:
        return RuleResult("stack-headroom", "fail", None, None,
                          f"the stack size cannot be determined ({layout.layout_kind}), so {need} cannot be checked")
    view = indirect_view(sa)
    allowed = int(size * (100 - pct) / 100)
    unbounded: list[str] = []
    too_big: list[str] = []
    skipped: list[str] = []
    possible = 0
    worst = None
    worst_name = None
    for r in sa.roots:
        need_r = r.effective_bytes
        if need_r is None:
            status = view.recursion(r) if view is not None else None
            if status == "possible":
                possible += 1
                d = view.direct.get(r.name)
                alone = (f"; without indirect calls {d.effective_bytes} bytes" if d is not None and
                         d.effective_bytes is not None else "")
                why = (f"{r.name}: unbounded by possible recursion through call_indirect, not proven "
                       f"({(r.reason or '').removeprefix('recursion: ')}){alone}")
            else:
                why = f"{r.name}: unbounded ({r.reason})"
            depth = r.depth_for(allowed)
            d = view.direct.get(r.name) if view is not None and status == "proven" else None
            if d is not None and d.level_bytes is not None and (d.base_bytes, d.level_bytes) != (
                    r.base_bytes, r.level_bytes):
                dd = d.depth_for(allowed)
                why += (f"; the figures below count possible recursion through call_indirect; the direct calls "
                        f"alone give at most {d.base_bytes} + (N-1) × {d.level_bytes} bytes"
                        + (f": N ≤ {dd} fits" if dd else ""))
            if depth == 0:
                why += f"; does not fit {allowed} bytes even at --recursion-depth 1 ({r.base_bytes} bytes)"
            elif depth is not None:
                why += (f"; --recursion-depth N gives at most {r.base_bytes} + (N-1) × {r.level_bytes} bytes: "
                        f"N ≤ {depth} fits")
            (skipped if rules.allow_unbounded else unbounded).append(why)
            continue
        if worst is None or need_r > worst:
            worst, worst_name = need_r, r.name
        if need_r > allowed:
            too_big.append(f"{r.name}: {need_r} bytes > {allowed} ({path_text(r, r.bytes is None)})")
    big = sa.largest_frame
    frame_bad = [f"{big.name}: its frame alone is {big.worst} bytes > {allowed}"] \
        if big is not None and big.worst > allowed else []
    keep = f"the {allowed} bytes that keep {pct:g}% free"
    failed: list[str] = []  # what failed, first in the message
    if unbounded:
        n = len(unbounded)
        failed.append(f"{n} entry point(s) have no static bound, so no stack size keeps {pct:g}% free for "
                      f"{'it' if n == 1 else 'them'}" + (f" ({possible} only by possible recursion through "
                                                          f"call_indirect)" if possible and not rules.allow_unbounded
                                                          else ""))
    if too_big:
        failed.append(f"{len(too_big)} entry point(s) need more than {keep}")
    if frame_bad:
        failed.append(f"the largest frame ({big.name}, {big.worst} bytes) does not fit in {keep}")
    if worst_name is not None:
        left = (size - worst) * 100.0 / size if size else 0.0
        figure = f"worst case {worst} bytes ({worst_name}) in a {size}-byte stack leaves {left:.1f}% free"
        if failed and not too_big:
            figure = "the bounded ones fit: " + figure
        figure += f" (need {pct:g}%)"
    else:
        figure = "no entry point has a static bound"
    msg = "; ".join(failed + [figure]) if failed else figure
    if skipped:
        msg += f"; {len(skipped)} unbounded allowed"
    if view is not None:
        w = view.worst_direct
        differs = possible or (w.effective_bytes if w is not None else None) != worst
        msg += "; call_indirect edges included (a site may call every table function of its type)"
        if differs:
            msg += (f"; without them: worst case {w.effective_bytes} bytes ({w.name})" if w is not None else
                    "; without them no entry point has a bound either")
    bad = unbounded + too_big + frame_bad
    return RuleResult("stack-headroom", "fail" if bad else "pass", worst, allowed, msg,
                      tuple(unbounded + too_big + frame_bad + skipped))


def reports_to_dict(reports: list[ModuleReport]) -> dict:
    return {
        "schema": 1,
        "passed": all(r.passed for r in reports),
        "modules": [{
            "file": m.path, "passed": m.passed, "error": m.error,
            "results": [{"rule": r.rule, "status": r.status, "measured": r.measured, "limit": r.limit,
                         "message": r.message, "details": list(r.details)} for r in m.results],
        } for m in reports],
    }


def run_checks(paths: list[str], rules: Rules, load, layout_of=None, *, timeout=None,
               leak_of=None) -> list[ModuleReport]:
    """Checks every module; ``load(path) -> WasmModule``, ``layout_of(module) -> MemoryLayout`` (default
    ``analyze``; the command passes ``wasmem.debuginfo.analyze_layout``, so that the DWARF's .bss facts
    count as they do for `inspect`); ``timeout`` bounds each module's stack analysis (seconds; None or 0: no
    limit), or the whole run (a ``wasmem.deadline.Deadline``, the command's). ``leak_of(module, call, repeat)`` runs the leak-per-call rule's call (the command passes
    wasmem.runtime.heap's; a module it cannot track gets a skip saying why). A module that cannot be read or
    analysed in time gets ``error`` set (a :class:`wasmem.errors.WasmemError` message) instead of results."""
    from ..deadline import Deadline
    from ..errors import WasmemError
    from .layout import analyze
    from .stackframes import analyze_stack

    layout_of = layout_of or analyze
    # a Deadline (wasmem.deadline: the command's) bounds the whole run; seconds bound each module's analysis
    limit = {"deadline": timeout} if isinstance(timeout, Deadline) else {"timeout": timeout}
    reports = []
    for p in paths:
        try:
            module = load(p)
            layout = layout_of(module)
            sa = analyze_stack(module, layout, recursion_depth=rules.recursion_depth, **limit) \
                if rules.needs_stack_analysis else None
            leak = None
            if rules.max_leak_per_call is not None:
                leak = "no way to run the module was given" if leak_of is None else \
                    leak_of(module, rules.leak_call, rules.leak_repeat or 10)
            reports.append(ModuleReport(p, check_module(layout, rules, sa, leak)))
        except WasmemError as exc:
            reports.append(ModuleReport(p, [], str(exc)))
    return reports
