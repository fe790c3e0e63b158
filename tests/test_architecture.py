"""Guard rails over wasmem's own sources, read as syntax trees: the layer order, no import cycles, no use of
another module's private names.

Every import statement counts, the lazy ones inside functions too: a lazy import still ties the two modules
together (it only moves the moment the tie is felt). Each rule has an allowlist of what exists today in the
packages the restructuring ("One runtime you can see") is rewriting: wasmem/runtime, wasmem/shell,
wasmem/cli and wasmem/api.py. Nothing else may be allowlisted (`test_allowlists_name_only_the_restructured_
area`): elsewhere a violation is fixed in the code. An entry that no longer matches anything fails its test
too, so the lists only shrink: delete the entry in the commit that removes what needed it.
"""

from __future__ import annotations

import ast
import collections
import pathlib
from dataclasses import dataclass
from functools import cache

PACKAGE = pathlib.Path(__file__).resolve().parent.parent / "wasmem"

# The layers, lowest first: a module may import from its own layer and the layers before it. Each name is a
# top-level module or package of wasmem; "wasmem" is the package's own __init__.
LAYERS: tuple[tuple[str, ...], ...] = (
    ("errors", "text", "files", "diskcache", "schemas", "deadline", "budgets"),  # leaves: the stdlib and each other
    ("parser",),  # the binary format: lazy reading, small rewrites (pure, stdlib only)
    ("instrument",),  # binary rewriting passes over the parser alone (also held by test_layering.py)
    ("model",),  # pure interpretation: layout, stack frames, values, chase, checks, heap records
    ("debuginfo",),  # DWARF (pyelftools) and the name section, over the model
    ("runtime",),  # the only importer of wasmtime: sessions, hosts, observers
    ("app",),  # the use cases shared by the CLI, the shell, the API and the DAP adapter (may not exist yet)
    ("render",),  # the only importer of rich: renderables over model, runtime and app results
    ("shell",),  # the debugger's prompt and script runner
    ("api", "wasmem"),  # the library's entry points (`import wasmem` loads them lazily)
    ("cli", "__main__"),  # click: one thin command over everything below
)
# Importable from every layer: constants that wasmem/__init__.py defines itself. Importing any wasmem module
# runs that __init__ first, so reading one of them adds no dependency.
ROOT_CONSTANTS = frozenset({"__version__"})

# Names with a leading underscore that are documented public API.
# atexit._run_exitfuncs: the CLI's quick exit (cli/main.py's entry) runs the exit handlers, then os._exit
PUBLIC_UNDERSCORED = frozenset({"os._exit", "sys._getframe", "atexit._run_exitfuncs"})
PUBLIC_UNDERSCORED_ATTRS = frozenset({"_replace", "_asdict", "_fields", "_field_defaults", "_make"})  # namedtuple

RESTRUCTURED = ("wasmem.runtime", "wasmem.shell", "wasmem.cli", "wasmem.api")

# (importer, imported, why): layer-order violations that exist today in the restructured area.
KNOWN_VIOLATIONS: tuple[tuple[str, str, str], ...] = ()

# (importer, imported, why): import edges that close a cycle today in the restructured area. Without them
# the import graph has no cycle; each one must still be on a cycle.
KNOWN_CYCLES: tuple[tuple[str, str, str], ...] = ()

# (module, what, why): uses of another module's private names. `what` is "module._name" for a from-import,
# else the expression as written ("session._is64"). Only wasmtime-py's own internals are left: it has no
# public API for these.
KNOWN_PRIVATE_USES: tuple[tuple[str, str, str], ...] = (
    ("wasmem.runtime.hosts.base", "wasmtime._ffi", "wasmtime-py has no public Frame from a raw pointer"),
    ("wasmem.runtime.hosts.base", "Frame._from_ptr", "wasmtime-py has no public Frame from a raw pointer"),
    ("wasmem.runtime.memory", "wasmtime._ffi", "wasmtime-py 50's SharedMemory cannot be defined in a linker "
     "without it (PatchedSharedMemory fixes its _as_extern and size)"),
)


# -- reading the sources ---------------------------------------------------------------------------------
@dataclass(frozen=True)
class Import:
    importer: str  # a module name, e.g. "wasmem.model.layout"
    target: str  # the wasmem module it imports (a package's __init__ is the package's name)
    names: tuple[str, ...]  # the names a from-import takes from ``target``; () for ``import X``
    where: str  # "wasmem/…/x.py:LINE"


def _module_name(path: pathlib.Path, root: pathlib.Path) -> str:
    parts = list(path.relative_to(root.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


@cache
def _sources(root: pathlib.Path) -> dict[str, tuple[pathlib.Path, ast.Module]]:
    out = {}
    for path in sorted(root.rglob("*.py")):
        out[_module_name(path, root)] = (path, ast.parse(path.read_text(encoding="utf-8"), str(path)))
    return out


def _where(path: pathlib.Path, root: pathlib.Path, node: ast.AST) -> str:
    return f"{path.relative_to(root.parent)}:{node.lineno}"


def _absolute(module: str, is_package: bool, node: ast.ImportFrom) -> str:
    if not node.level:
        return node.module or ""
    base = module.split(".") if is_package else module.split(".")[:-1]
    base = base[:len(base) - (node.level - 1)]
    return ".".join(base + ([node.module] if node.module else []))


@cache
def imports(root: pathlib.Path = PACKAGE) -> tuple[Import, ...]:
    """Every import of a wasmem module by a wasmem module, wherever the statement is (module level, inside a
    function, under ``if``)."""
    sources = _sources(root)
    top = root.name
    out = []
    for module, (path, tree) in sources.items():
        is_package = path.name == "__init__.py"
        for node in ast.walk(tree):
            where = _where(path, root, node) if isinstance(node, (ast.Import, ast.ImportFrom)) else ""
            if isinstance(node, ast.Import):
                for alias in node.names:
                    if alias.name.split(".")[0] == top:
                        out.append(Import(module, alias.name, (), where))
            elif isinstance(node, ast.ImportFrom):
                base = _absolute(module, is_package, node)
                if base.split(".")[0] != top:
                    continue
                plain = []
                for alias in node.names:  # `from pkg import submodule` imports the submodule
                    if f"{base}.{alias.name}" in sources:
                        out.append(Import(module, f"{base}.{alias.name}", (), where))
                    else:
                        plain.append(alias.name)
                if plain:
                    out.append(Import(module, base, tuple(plain), where))
    return tuple(out)


def _layer_name(module: str) -> str:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else parts[0]


def _rank(module: str) -> int:
    name = _layer_name(module)
    for i, layer in enumerate(LAYERS):
        if name in layer:
            return i
    raise AssertionError(f"{module}: its top-level name {name!r} is in no layer: add it to LAYERS in "
                         f"tests/test_architecture.py")


def _in_restructured(module: str) -> bool:
    return any(module == area or module.startswith(area + ".") for area in RESTRUCTURED)


# -- rule 1: the layer order ----------------------------------------------------------------------------
def layer_violations(root: pathlib.Path = PACKAGE) -> list[tuple[Import, str]]:
    out = []
    for imp in imports(root):
        if imp.target == root.name and imp.names and set(imp.names) <= ROOT_CONSTANTS:
            continue
        low, high = _rank(imp.importer), _rank(imp.target)
        if high > low:
            out.append((imp, f"{imp.where}: {imp.importer} (layer {_layer_name(imp.importer)!r}) imports "
                             f"{imp.target} (layer {_layer_name(imp.target)!r}, above it) [rule: layer order]"))
    return out


def test_layer_order():
    found = layer_violations()
    known = {(a, b) for a, b, _ in KNOWN_VIOLATIONS}
    new = [msg for imp, msg in found if (imp.importer, imp.target) not in known]
    order = " → ".join("/".join(layer) for layer in LAYERS)
    assert not new, f"imports against the layer order (lowest first: {order}):\n" + "\n".join(new)
    seen = {(imp.importer, imp.target) for imp, _ in found}
    gone = [f"{a} → {b}" for a, b, _ in KNOWN_VIOLATIONS if (a, b) not in seen]
    assert not gone, ("KNOWN_VIOLATIONS entries that no longer happen (delete them from "
                      "tests/test_architecture.py):\n" + "\n".join(gone))


# -- rule 2: no import cycles ---------------------------------------------------------------------------
def _graph(root: pathlib.Path, skip=frozenset()) -> dict[str, dict[str, str]]:
    """importer → {imported: where the first such import statement is}."""
    g: dict[str, dict[str, str]] = collections.defaultdict(dict)
    for imp in sorted(imports(root), key=lambda i: (i.importer, _line(i.where))):
        if imp.importer != imp.target and (imp.importer, imp.target) not in skip:
            g[imp.importer].setdefault(imp.target, imp.where)
    return g


def _line(where: str) -> int:
    return int(where.rsplit(":", 1)[1])


def _reaches(g, start: str, goal: str) -> list[str] | None:
    """The shortest path start → … → goal, or None."""
    prev = {start: None}
    todo = collections.deque([start])
    while todo:
        v = todo.popleft()
        for w in sorted(g.get(v, ())):
            if w not in prev:
                prev[w] = v
                if w == goal:
                    path = [w]
                    while prev[path[-1]] is not None:
                        path.append(prev[path[-1]])
                    return path[::-1]
                todo.append(w)
    return None


def _components(g) -> list[list[str]]:
    """The strongly connected components with more than one module (Tarjan, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    out = []
    for start in sorted(g):
        if start in index:
            continue
        work = [(start, iter(sorted(g.get(start, ()))))]
        index[start] = low[start] = len(index)
        stack.append(start)
        on_stack.add(start)
        while work:
            v, it = work[-1]
            for w in it:
                if w not in index:
                    index[w] = low[w] = len(index)
                    stack.append(w)
                    on_stack.add(w)
                    work.append((w, iter(sorted(g.get(w, ())))))
                    break
                if w in on_stack:
                    low[v] = min(low[v], index[w])
            else:
                work.pop()
                if work:
                    low[work[-1][0]] = min(low[work[-1][0]], low[v])
                if low[v] == index[v]:
                    comp = []
                    while True:
                        w = stack.pop()
                        on_stack.discard(w)
                        comp.append(w)
                        if w == v:
                            break
                    if len(comp) > 1:
                        out.append(sorted(comp))
    return out


def import_cycles(root: pathlib.Path = PACKAGE, skip=frozenset()) -> list[str]:
    """One cycle per group of modules that import each other, as "a → b (where) → … → a (where)"."""
    g = _graph(root, skip)
    out = []
    for comp in _components(g):
        first = comp[0]
        inside = {v: {w: at for w, at in g[v].items() if w in comp} for v in comp}
        best = None
        for w in sorted(inside[first]):
            back = _reaches(inside, w, first)
            if back is not None and (best is None or len(back) < len(best)):
                best = back
        path = [first] + best
        hops = " → ".join(f"{b} ({g[a][b]})" for a, b in zip(path, path[1:], strict=False))
        out.append(f"{first} → {hops}   [rule: no import cycles; {len(comp)} modules in this knot: "
                   f"{', '.join(comp)}]")
    return out


def test_no_import_cycles():
    skip = frozenset((a, b) for a, b, _ in KNOWN_CYCLES)
    cycles = import_cycles(PACKAGE, skip)
    assert not cycles, "import cycles (lazy imports inside functions count):\n" + "\n".join(cycles)
    g = _graph(PACKAGE)
    stale = [f"{a} → {b}: " + ("no such import" if b not in g.get(a, {}) else "no longer closes a cycle")
             for a, b, _ in KNOWN_CYCLES if b not in g.get(a, {}) or _reaches(g, b, a) is None]
    assert not stale, "KNOWN_CYCLES entries to delete from tests/test_architecture.py:\n" + "\n".join(stale)


# -- rule 3: no private names of another module ---------------------------------------------------------
def _private(name: str) -> bool:
    return name.startswith("_") and not (name.startswith("__") and name.endswith("__"))


def _own_names(tree: ast.Module) -> set[str]:
    """The names a module defines itself: its functions, classes, variables (module, class and local), the
    attributes its methods set on ``self``/``cls`` and its ``__slots__``."""
    own = set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            own.add(node.name)
        elif isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
            own.add(node.id)
        elif (isinstance(node, ast.Attribute) and isinstance(node.ctx, ast.Store)
              and isinstance(node.value, ast.Name) and node.value.id in ("self", "cls")):
            own.add(node.attr)
        elif (isinstance(node, ast.Assign) and any(isinstance(t, ast.Name) and t.id == "__slots__"
                                                   for t in node.targets)):
            own |= {c.value for c in ast.walk(node.value) if isinstance(c, ast.Constant) and isinstance(c.value, str)}
    return own


@dataclass(frozen=True)
class PrivateUse:
    module: str
    what: str  # "wasmem.x.y._name" (a from-import), else the expression ("session._is64")
    where: str
    verb: str = "uses"  # or "imports"

    @property
    def message(self) -> str:
        return (f"{self.where}: {self.module} {self.verb} {self.what}, a private name of another module "
                f"[rule: no private names of another module: make it public where it is defined]")


@cache
def private_uses(root: pathlib.Path = PACKAGE) -> tuple[PrivateUse, ...]:
    """``from X import _name`` (any X), ``X._name`` and ``obj._attr`` on anything but ``self``/``cls`` (and
    ``getattr(obj, "_attr")``), unless the module defines that name itself. A name defined by copying it
    (``_is64 = Session._is64``) is not the module's own: ``Imported._name`` always counts."""
    out = []
    for module, (path, tree) in _sources(root).items():
        own = _own_names(tree)
        imported = {(alias.asname or alias.name).split(".")[0] for node in ast.walk(tree)
                    if isinstance(node, (ast.Import, ast.ImportFrom)) for alias in node.names}
        is_package = path.name == "__init__.py"
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom):
                base = _absolute(module, is_package, node)
                for alias in node.names:
                    if _private(alias.name) and f"{base}.{alias.name}" not in PUBLIC_UNDERSCORED:
                        out.append(PrivateUse(module, f"{base}.{alias.name}", _where(path, root, node), "imports"))
            elif isinstance(node, ast.Attribute) and _private(node.attr):
                receiver = node.value
                if isinstance(receiver, ast.Name) and receiver.id in ("self", "cls"):
                    continue
                what = f"{ast.unparse(receiver)}.{node.attr}"
                borrowed = isinstance(receiver, ast.Name) and receiver.id in imported
                if (node.attr in own and not borrowed) or node.attr in PUBLIC_UNDERSCORED_ATTRS \
                        or what in PUBLIC_UNDERSCORED:
                    continue
                out.append(PrivateUse(module, what, _where(path, root, node)))
            elif (isinstance(node, ast.Call) and isinstance(node.func, ast.Name)
                  and node.func.id in ("getattr", "setattr", "hasattr", "delattr") and len(node.args) > 1
                  and isinstance(node.args[1], ast.Constant) and isinstance(node.args[1].value, str)
                  and _private(node.args[1].value) and node.args[1].value not in own):
                out.append(PrivateUse(module, ast.unparse(node), _where(path, root, node)))
    return tuple(sorted(out, key=lambda u: (u.where.split(":")[0], _line(u.where), u.what)))


def test_no_private_names_of_another_module():
    found = private_uses()
    known = {(m, w) for m, w, _ in KNOWN_PRIVATE_USES}
    new = [u.message for u in found if (u.module, u.what) not in known]
    assert not new, "uses of another module's private names:\n" + "\n".join(new)
    seen = {(u.module, u.what) for u in found}
    gone = [f"{m}: {w}" for m, w, _ in KNOWN_PRIVATE_USES if (m, w) not in seen]
    assert not gone, ("KNOWN_PRIVATE_USES entries that no longer happen (delete them from "
                      "tests/test_architecture.py):\n" + "\n".join(gone))


# -- the allowlists themselves --------------------------------------------------------------------------
def test_allowlists_name_only_the_restructured_area():
    outside = [entry for entry in KNOWN_VIOLATIONS + KNOWN_CYCLES + KNOWN_PRIVATE_USES
               if not _in_restructured(entry[0])]
    assert not outside, ("allowlisted outside wasmem/runtime, shell, cli and api.py: fix these in the code "
                         f"instead: {outside}")
    for entries in (KNOWN_VIOLATIONS, KNOWN_CYCLES, KNOWN_PRIVATE_USES):
        keys = [entry[:2] for entry in entries]
        assert len(keys) == len(set(keys)), f"an allowlist names an entry twice: {keys}"
        assert all(entry[2].strip() for entry in entries), "every allowlist entry says why it is there"


# -- the checks on a package made up to break each rule ----------------------------------------------------
def _package(tmp_path, files: dict[str, str]) -> pathlib.Path:
    root = tmp_path / "wasmem"
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return root


def test_the_checks_see_lazy_imports_and_private_names(tmp_path):
    root = _package(tmp_path, {
        "__init__.py": "__version__ = '1'\n",
        "errors.py": "",
        "parser/__init__.py": "from .. import __version__\n",
        "parser/reader.py": "def _uleb(): pass\n",
        "parser/code.py": "from .reader import _uleb\nfrom . import reader\n\ndef f(x):\n    return reader._uleb, x._y\n",
        "model/__init__.py": "",
        "model/a.py": "def f():\n    from . import b\n",
        "model/b.py": "from .a import f\n\ndef g(self):\n    from ..render import x\n    return self._z\n",
        "model/c.py": "from .a import f\n\n\nclass C:\n    _h = f._h\n",
        "render/__init__.py": "",
        "render/x.py": "",
    })
    assert [imp.where for imp, _ in layer_violations(root)] == ["wasmem/model/b.py:4"]
    cycles = import_cycles(root)
    assert len(cycles) == 1 and cycles[0].startswith(
        "wasmem.model.a → wasmem.model.b (wasmem/model/a.py:2) → wasmem.model.a (wasmem/model/b.py:1)")
    assert [(u.what, u.where) for u in private_uses(root)] == [
        ("f._h", "wasmem/model/c.py:5"), ("wasmem.parser.reader._uleb", "wasmem/parser/code.py:1"),
        ("reader._uleb", "wasmem/parser/code.py:5"), ("x._y", "wasmem/parser/code.py:5")]


# -- file size ------------------------------------------------------------------------------------------
MAX_LINES = 800


def test_no_file_is_over_800_lines_unless_its_docstring_says_why():
    """A file past MAX_LINES says so in its docstring (the words "over 800 lines" and the reason)."""
    long = []
    for path in sorted(PACKAGE.rglob("*.py")):
        text = path.read_text(encoding="utf-8")
        n = text.count("\n")
        if n <= MAX_LINES:
            continue
        doc = ast.get_docstring(ast.parse(text)) or ""
        if "over 800 lines" not in " ".join(doc.split()):
            long.append(f"{path.relative_to(PACKAGE.parent)}: {n} lines, and its docstring does not say why")
    assert not long, "\n".join(long)
