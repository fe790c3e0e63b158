"""DESIGN.md's layering: parser/model are pure; `import wasmem` and `inspect` load no wasmtime."""

import subprocess
import sys

from conftest import sample

PROBE = """
import sys, {mod}
bad = sorted(m for m in sys.modules if m.split('.')[0] in {forbidden!r})
print(','.join(bad))
"""


def _loaded(mod: str, forbidden=("click", "rich", "wasmtime", "elftools")) -> str:
    out = subprocess.run([sys.executable, "-c", PROBE.format(mod=mod, forbidden=forbidden)],
                         capture_output=True, text=True, check=True)
    return out.stdout.strip()


def test_parser_and_model_import_nothing_third_party():
    assert _loaded("wasmem.parser") == ""
    assert _loaded("wasmem.instrument") == ""
    assert _loaded("wasmem.model.layout") == ""
    assert _loaded("wasmem") == ""


def test_inspect_does_not_load_wasmtime_or_elftools():
    code = (f"import sys; from wasmem.cli.main import main\n"
            f"try:\n    main(['inspect', {sample('memdemo.wasm')!r}, '--json'])\nexcept SystemExit: pass\n"
            f"print('LOADED', sorted(m for m in sys.modules if m.split('.')[0] in ('wasmtime', 'elftools')))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip().splitlines()[-1] == "LOADED []"


def test_only_runtime_imports_wasmtime_and_only_render_imports_rich():
    import pathlib

    root = pathlib.Path(__file__).resolve().parent.parent / "wasmem"
    for py in root.rglob("*.py"):
        text = py.read_text()
        pkg = py.relative_to(root).parts[0]
        if pkg != "runtime":
            assert "import wasmtime" not in text, py
        if pkg not in ("render",):
            assert "from rich" not in text and "import rich" not in text, py
        if pkg in ("parser", "model", "shell"):
            assert "import click" not in text, py
        if not (pkg == "render" and py.parent.name == "tui"):
            assert "from textual" not in text and "import textual" not in text, py
        if py.parent.name != "shell" or py.name != "repl.py":
            assert "from prompt_toolkit" not in text and "import prompt_toolkit" not in text, py


def test_instrument_uses_only_the_parser():
    """DESIGN.md: wasmem/instrument/ is pure binary rewriting over wasmem.parser (no model, runtime, …)."""
    import ast
    import pathlib

    root = pathlib.Path(__file__).resolve().parent.parent / "wasmem" / "instrument"
    stdlib = {"__future__", "bisect", "dataclasses", "functools", "re"}
    for py in root.glob("*.py"):
        for node in ast.walk(ast.parse(py.read_text())):
            if isinstance(node, ast.Import):
                assert all(a.name in stdlib for a in node.names), (py, ast.dump(node))
            elif isinstance(node, ast.ImportFrom):
                ok = (node.level == 0 and node.module in stdlib or node.level == 1
                      or node.level == 2 and (node.module == "errors" or node.module.split(".")[0] == "parser"))
                assert ok, (py, node.module)


def test_shell_scripts_load_neither_the_line_editor_nor_textual():
    """A script (`-x`) runs without prompt_toolkit or textual: they load only for the prompt and `view`."""
    assert _loaded("wasmem.shell", ("click", "rich", "wasmtime", "prompt_toolkit", "textual")) == ""
    code = (f"import sys; from wasmem.cli.main import main\n"
            f"try:\n    main(['shell', {sample('memdemo.wasm')!r}, '-c', 'p 1'])\nexcept SystemExit: pass\n"
            f"print('LOADED', sorted(m for m in sys.modules if m.split('.')[0] in ('prompt_toolkit', 'textual')))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip().splitlines()[-1] == "LOADED []"
