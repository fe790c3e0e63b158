"""`wasmem stack`: golden output, JSON, headroom recommendation, --call wiring."""

import json
import os

import pytest
from click.testing import CliRunner
from conftest import ROOT, sample
from golden_util import check_golden, render_text

from wasmem.cli.main import cli
from wasmem.model.stackframes import analyze_stack
from wasmem.parser.module import WasmModule
from wasmem.render.stack import StackView


def run(*args):
    return CliRunner().invoke(cli, list(args), catch_exceptions=False)


@pytest.mark.parametrize("name, depth", [("memdemo.wasm", 10), ("memdemo-O0.wasm", None)])
def test_golden_stack(name, depth, monkeypatch):
    sample(name)
    monkeypatch.chdir(ROOT)
    sa = analyze_stack(WasmModule.from_file(os.path.join("samples", name)), recursion_depth=depth)
    check_golden(f"stack-{name}.txt", render_text(StackView(sa, top=8, headroom_pct=25)))


def test_text_output_explains_unbounded_and_recommends():
    r = run("stack", sample("memdemo.wasm"), "--recursion-depth", "10", "--headroom", "25")
    assert r.exit_code == 0
    out = " ".join(r.output.split())
    assert "unbounded: recursion: deep → deep" in out and "dynamic frame: sum_vla" in out
    # sum_vla's VLA has no bound: no stack size is safe, whatever the recursion depth
    assert "-z stack-size=" not in out.replace("no -z stack-size", "")
    assert "no -z stack-size recommendation: 1 entry point has no static bound" in out
    assert "over-aligned +48" in out
    r = run("stack", sample("memdemo.wasm"))
    out = " ".join(r.output.split())
    assert "3 entry points have no static bound" in out
    # deep: 1,024 B a level; 75% of 64 KiB is 49,152 B = 48 levels
    assert "deep recursion (deep): 1,024 B at recursion depth 1, at most 1,024 B more per further level" in out
    assert "with N ≤ 48 they fit the current 65,536 B stack with 25% headroom" in out


def test_json():
    r = run("stack", sample("memdemo-O0.wasm"), "--json", "--headroom", "50")
    d = json.loads(r.output)
    assert d["worst_bytes"] == 256 and d["recommended_stack_size"] is None  # recursion, a VLA
    frames = {f["function"]: f for f in d["frames"]}
    assert frames["sum_vla"]["dynamic"] and frames["aligned_local"]["align_slack"] == 48
    roots = {x["function"]: x for x in d["roots"]}
    assert roots["deep"]["unbounded"] == "recursion" and roots["deep"]["cycle"] == ["deep"]


def test_call_shows_measured_peak():
    pytest.importorskip("wasmtime")
    r = run("stack", sample("memdemo.wasm"), "--call", "fib_stack 5", "--json")
    assert r.exit_code == 0, r.output
    m = json.loads(r.output)["measured"]
    assert m["call"] == "fib_stack 5" and 5 * 64 <= m["peak_bytes"] <= 5 * 64 + 128
    r = run("stack", sample("memdemo.wasm"), "--call", "fib_stack 5")
    assert "measured peak" in r.output


def test_help_and_bad_file(tmp_path):
    assert "Examples" in run("stack", "--help").output
    p = tmp_path / "x.wasm"
    p.write_bytes(b"nope")
    from wasmem.cli.main import main

    with pytest.raises(SystemExit) as exc:
        main(["stack", str(p)])
    assert exc.value.code == 2


def test_call_check_stack_overflow_exit_1_with_one_line_message():
    pytest.importorskip("wasmtime")
    path = sample("memdemo-datafirst.wasm")
    r = run("stack", path, "--call", "deep 8", "--check-stack")
    assert r.exit_code == 1
    out = " ".join(r.output.split())
    assert ("stack_overflow: stack overflow in deep: needed at least 9216 bytes, the stack is 8192 bytes "
            "(1024 bytes past its low end at 0x4c0)") in out
    assert "exact peak" in out and "measured peak" in out and "stack size" in out and "static worst" in out
    r = run("stack", path, "--call", "deep 8", "--check-stack", "--json")
    d = json.loads(r.output)
    assert r.exit_code == 1 and d["trap"]["overflow"]["past"] == 1024 and d["measured"]["overflowed"]


def test_call_check_stack_exact_peak_and_static_bound_of_the_call():
    pytest.importorskip("wasmtime")
    r = run("stack", sample("memdemo.wasm"), "--call", "fib_stack 5", "--check-stack", "--recursion-depth", "10",
            "--json")
    assert r.exit_code == 0, r.output
    d = json.loads(r.output)
    assert d["measured"]["exact_peak_bytes"] == 5 * 64 and d["trap"] is None
    r = run("stack", sample("memdemo.wasm"), "--call", "fib_stack 5", "--check-stack", "--recursion-depth", "10")
    out = " ".join(r.output.split())
    assert r.exit_code == 0 and "static (call)" in out and "static worst case of fib_stack: 640 B" in out
    assert "the stack pointer went 320 bytes down (exact, --check-stack)" in out


def test_check_stack_needs_call(tmp_path):
    from wasmem.cli.main import main

    with pytest.raises(SystemExit) as exc:
        main(["stack", sample("memdemo.wasm"), "--check-stack"])
    assert exc.value.code == 2
