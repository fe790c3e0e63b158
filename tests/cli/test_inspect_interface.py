"""inspect --imports / --exports: every import and export with its full type, in text and JSON."""

import json

import pytest
from conftest import run_main, sample

from wasmem.app import load_module
from wasmem.model.interface import describe_exports, describe_imports

MODULE = r'''(module
  (import "env" "log" (func (param i32 f64)))
  (import "env" "pair" (func (result i32 i64)))
  (import "env" "memory" (memory 2 16 shared))
  (import "env" "sp" (global (mut i32)))
  (import "env" "tbl" (table 3 funcref))
  (tag $t (export "oops") (param i32))
  (global (export "answer") i64 (i64.const 42))
  (func $f (export "f") (export "f_again") (param i32) (result i32) local.get 0)
  (func (export "nothing")))'''


@pytest.fixture
def module_file(tmp_path):
    p = tmp_path / "iface.wat"
    p.write_text(MODULE)
    return p


def test_library_describes_every_kind(module_file):
    m = load_module(str(module_file))
    imps = {i["name"]: i for i in describe_imports(m)}
    assert imps["log"]["signature"] == "(i32, f64) -> ()" and imps["log"]["index"] == 0
    assert imps["pair"]["signature"] == "() -> (i32, i64)" and imps["pair"]["index"] == 1
    assert imps["memory"]["signature"] == "memory: 2 pages, max 16 (shared)"
    assert imps["memory"]["type"] == {"min": 2, "max": 16, "shared": True, "memory64": False, "page_size": 65536}
    assert imps["sp"]["signature"] == "global mut i32"
    assert imps["tbl"]["signature"] == "table of funcref: 3 entries, no maximum"
    exps = {e["name"]: e for e in describe_exports(m)}
    assert exps["f"]["signature"] == exps["f_again"]["signature"] == "(i32) -> i32"
    assert exps["f"]["index"] == 2 and exps["f"]["function_name"] == "f"  # the WAT name $f
    assert exps["nothing"]["signature"] == "() -> ()"
    assert exps["answer"]["signature"] == "global i64" and exps["oops"]["signature"] == "tag (i32)"


def test_text_view_lists_both(capsys, module_file):
    code, out, err = run_main(capsys, "inspect", module_file, "--imports", "--exports")
    assert code == 0, err
    assert "Imports (5)" in out and "Exports (5)" in out
    assert "(i32, f64) -> ()" in out and "memory: 2 pages, max 16 (shared)" in out
    code, out, _ = run_main(capsys, "inspect", module_file)
    assert "Imports (" not in out and "Exports (" not in out  # only when asked


def test_json_carries_them_only_when_asked(capsys):
    code, out, _ = run_main(capsys, "inspect", sample("pic.wasm"), "--json", "--imports")
    d = json.loads(out)
    assert [i["name"] for i in d["imports"]][:3] == ["memory", "__indirect_function_table", "__stack_pointer"]
    assert "exports" not in d
    code, out, _ = run_main(capsys, "inspect", sample("pic.wasm"), "--json")
    assert "imports" not in json.loads(out)
