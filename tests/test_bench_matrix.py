"""bench/matrix.py's table rendering and its generated block in a document (no timing, no network)."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

BENCH = Path(__file__).resolve().parent.parent / "bench"
_NAMES = ("cache", "corpus", "modules", "docblock")


def _load():
    """bench/matrix.py by its path, with bench/'s own cache/corpus/modules/docblock (names tests/ may shadow)."""
    saved = {n: sys.modules.pop(n) for n in _NAMES if n in sys.modules}
    old_path = list(sys.path)
    try:
        sys.path.insert(0, str(BENCH))
        spec = importlib.util.spec_from_file_location("wasmem_bench_matrix", BENCH / "matrix.py")
        mod = importlib.util.module_from_spec(spec)
        sys.modules[spec.name] = mod  # dataclasses look their module up
        spec.loader.exec_module(mod)
        return mod
    finally:
        for n in _NAMES:
            sys.modules.pop(n, None)
        sys.modules.update(saved)
        sys.path[:] = old_path


m = _load()

META = {"args": "--modules graphviz --commands inspect,call", "date": "2026-12-08 02:50 UTC", "modules": ["graphviz"], "commands": ["inspect", "call"],
        "machine": "test box", "load": "load average 1.0", "timeout": 60, "notes": ["module sizes: graphviz 0.9 MB"]}


def _rows():
    return [m.Row("graphviz", "inspect", "cold", m.Cell(0.4, 20 * 1024), m.Cell(0.02, 10 * 1024)),
            m.Row("graphviz", "call", "warm", m.Cell(0.5, 54 * 1024), m.Cell(0.1, 27 * 1024)),
            m.Row("yosys", "call", "cold", m.Cell(60.0, 0, "timed out (60 s)"), m.Cell(30.0, 400 * 1024))]


def test_render_ratios_and_timeouts():
    text = m.render(_rows(), META)
    assert "| graphviz | inspect | cold | 0.40 s, 20 MB | wasm-tools objdump | 0.02 s, 10 MB | 20.00× | 2.00× |" in text
    assert "| graphviz | call | warm | 0.50 s, 54 MB | wasmtime-py, call | 0.10 s, 27 MB | 5.00× | 2.00× |" in text
    # a run that hit the timeout is named, and gets no ratio
    assert "| yosys | call | cold | timed out (60 s) | wasmtime-py, call | 30.00 s, 400 MB | — | — |" in text
    assert "Measured 2026-12-08 02:50 UTC" in text and "test box" in text and "load average 1.0" in text
    assert "--modules graphviz --commands inspect,call" in text
    assert "- module sizes: graphviz 0.9 MB" in text


def test_block_replaced_in_place(tmp_path):
    doc = tmp_path / "performance.md"
    doc.write_text("# Performance\n\nintro\n\n<!-- bench:begin -->\nold bench\n<!-- bench:end -->\n\ntail text\n")
    m.write_block(doc, m.KEY, m.render(_rows(), META), heading=m.HEADING)
    first = doc.read_text()
    assert first.count("<!-- matrix:begin -->") == 1 and "old bench" in first and "tail text" in first
    assert f"## {m.HEADING}" in first
    rows2 = [m.Row("sqlite", "dump", "warm", m.Cell(1.0, 1024), m.Cell(0.5, 1024))]
    m.write_block(doc, m.KEY, m.render(rows2, META), heading=m.HEADING)
    second = doc.read_text()
    # the rerun replaces the generated section, keeps everything else, adds no second heading
    assert second.count("<!-- matrix:begin -->") == 1 and second.count(f"## {m.HEADING}") == 1
    assert "| sqlite | dump | warm |" in second and "| graphviz |" not in second
    assert "old bench" in second and "intro" in second and "tail text" in second


def test_call_of_and_commands():
    assert m.call_of("yosys") == ("_start", "--arg", "-V")
    assert m.call_of("lightningcss") is None
    assert m.call_of("graphviz") == ("graphviz_version",)
    w, p = m.commands_for("call", "yosys", Path("y.wasm"), Path("wt"), Path("plain.py"), Path("c.toml"), ["wasmem"])
    assert w == ["wasmem", "call", "y.wasm", "_start", "--arg", "-V"] and p[-1] == "_start"
    w, p = m.commands_for("inspect", "x", Path("x.wasm"), Path("wt"), Path("plain.py"), Path("c.toml"), ["wasmem"])
    assert p == ["wt", "objdump", "x.wasm"] and "--json" in w
