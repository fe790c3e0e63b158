"""`wasmem stack` on large crafted modules: bounded text by default (--all for everything), complete JSON,
names for every callee, advice that is safe by construction, and `check --stack-headroom` on the same
analysis (consistent `limit`, bounded details)."""

from __future__ import annotations

import json

import pytest
import stackgen
from click.testing import CliRunner

from wasmem.cli.main import cli

jsonschema = pytest.importorskip("jsonschema")


def run(*args):
    return CliRunner().invoke(cli, [str(a) for a in args], catch_exceptions=False)


@pytest.fixture
def module(tmp_path):
    def make(data: bytes, name: str = "m.wasm") -> str:
        p = tmp_path / name
        p.write_bytes(data)
        return str(p)

    return make


def test_a_thousand_exports_in_a_chain_is_bounded_text(module):
    path = module(stackgen.chain(1000, exports=1000))
    r = run("stack", path)
    assert r.exit_code == 0
    lines = r.output.splitlines()
    assert len(lines) < 400, len(lines)  # was 500,000 tree lines
    out = " ".join(r.output.split())
    assert "Frames (largest 15 of 1000)" in out
    assert "… 980 more entry point(s) (--all draws every one)" in out
    # e0_f0's path: itself, 10 frames, "… 988 more call(s)", the last frame: 12 frames drawn
    assert "… 988 more call(s), 15,808 B" in out and "f999 16 B" in out


def test_all_draws_everything(module):
    r = run("stack", module(stackgen.chain(100, exports=100)), "--all")
    assert r.exit_code == 0 and "more entry point" not in r.output and "(--all" not in r.output
    assert "Frames (largest 100 of 100)" in r.output and r.output.count("e99_f99") == 1
    # a long path: 11 calls as a staircase, then the rest one per line at the same depth
    out = " ".join(r.output.split())
    assert "└── then 89 more call(s), in order:" in out and "├── f11 16 B" in out
    assert all(f" f{i} 16 B" in out for i in range(1, 100))


def test_json_is_complete_and_valid(module):
    from wasmem.schemas import get_schema

    n = 300
    r = run("stack", module(stackgen.chain(n, exports=20, tail=[n - 3])), "--json", "--recursion-depth", "4")
    assert r.exit_code == 0
    d = json.loads(r.output)
    jsonschema.Draft202012Validator(get_schema("stack")).validate(d)
    assert len(d["frames"]) == n and len(d["roots"]) == 20
    e0 = d["roots"][0]
    assert len(e0["path"]) == n - 2 and len(e0["bounded_path"]) == n - 2  # to the cycle, and its bound
    assert e0["bounded_bytes"] == (n - 3) * 16 + 4 * 16 and e0["cycle"] == [f"f{i}" for i in range(n - 3, n)]
    assert all(isinstance(c, str) for f in d["frames"] for c in f["calls"])
    assert d["recommended_stack_size"] >= d["worst_bytes"]


def test_entry_points_without_stack_use_are_one_bounded_line(module):
    calls = [[] for _ in range(100)]
    r = run("stack", module(stackgen.build(calls, frames=0, exports=range(100))))
    out = " ".join(r.output.split())
    assert "100 more use no linear stack: e0_f0, e10_f10," in out and ", … 80 more" in out
    assert "no -z stack-size recommendation: no entry point uses the linear stack" in out
    assert "-z stack-size=0" not in out


def test_advice_names_the_unbounded_entry_points_and_the_depth_that_fits(module):
    # f0 → f1 → f2 ↺ (recursion, 64 B a level) and f3 with a VLA
    data = stackgen.build([[1], [2], [2], []], frames=[16, 16, 64, 16], dynamic=[3], exports=[0, 3],
                          stack=65536)
    r = run("stack", module(data), "--headroom", "25")
    out = " ".join(r.output.split())
    assert "no -z stack-size recommendation: 2 entry points have no static bound" in out
    assert "e0_f0 recursion (f2): 96 B at recursion depth 1, at most 64 B more per further level" in out
    assert "e1_f3 dynamic frame: f3 (sized at run time: a VLA or alloca)" in out
    # 75% of 64 KiB = 49,152 B: 96 + (N-1) × 64 <= 49,152 for N <= 767
    assert "with N ≤ 767 they fit the current 65,536 B stack with 25% headroom" in out
    r = run("stack", module(data), "--recursion-depth", "767", "--json")
    d = json.loads(r.output)
    assert d["roots"][0]["bounded_bytes"] == 96 + 766 * 64 <= 49152
    assert d["recommended_stack_size"] is None  # f3's VLA still has no bound


def test_check_stack_headroom_on_the_same_analysis(module):
    deep = module(stackgen.chain(2000, stack=16384), "deep.wasm")
    r = run("check", deep, "--stack-headroom", "25", "--no-config", "--format", "json")
    assert r.exit_code == 1
    (res,) = json.loads(r.output)["modules"][0]["results"]
    assert res["status"] == "fail" and res["measured"] == 32000 and res["limit"] == 12288
    (detail,) = res["details"]
    assert detail.startswith("e0_f0: 32000 bytes > 12288 (f0 → f1 → ") and "… 1992 more → f1999" in detail
    assert len(detail) < 200  # a path of 2,000 frames, bounded

    rec = module(stackgen.build([[1], [1]], frames=[16, 64], exports=[0], stack=16384), "rec.wasm")
    r = run("check", rec, "--stack-headroom", "25", "--no-config", "--format", "json")
    (res,) = json.loads(r.output)["modules"][0]["results"]
    assert res["status"] == "fail" and res["measured"] is None and res["limit"] == 12288
    assert res["details"] == ["e0_f0: unbounded (recursion: f1 → f1); --recursion-depth N gives at most "
                              "80 + (N-1) × 64 bytes: N ≤ 191 fits"]
    r = run("check", rec, "--stack-headroom", "25", "--recursion-depth", "191", "--no-config")
    assert r.exit_code == 0
    assert run("check", rec, "--stack-headroom", "25", "--recursion-depth", "192", "--no-config").exit_code == 1


def test_check_stack_headroom_limit_is_bytes_or_null(module, tmp_path):
    from conftest import sample

    r = run("check", sample("nomemory.wasm"), sample("memdemo.wasm"), "--stack-headroom", "20",
            "--allow-unbounded", "--no-config", "--format", "json")
    skip, ok = (m["results"][0] for m in json.loads(r.output)["modules"])
    assert skip["status"] == "skip" and skip["limit"] is None  # was the percentage, 20.0
    assert ok["status"] == "pass" and ok["limit"] == 52428 and isinstance(ok["limit"], int)
    # a frame no entry point reaches must fit too: a stack-size below it is never safe
    big = module(stackgen.build([[], []], frames=[16, 20000], exports=[0], stack=16384), "big.wasm")
    r = run("check", big, "--stack-headroom", "25", "--no-config", "--format", "json")
    (res,) = json.loads(r.output)["modules"][0]["results"]
    assert res["status"] == "fail" and res["details"] == ["f1: its frame alone is 20000 bytes > 12288"]
    assert "the largest frame (f1, 20000 bytes) does not fit" in res["message"]
