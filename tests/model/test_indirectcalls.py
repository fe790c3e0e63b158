"""Recursion through call_indirect is possible, not proven: the stack analysis, its text, its JSON and
`check --stack-headroom` mark it so, with the site's type and table as evidence, and give worst cases both
with and without indirect calls (advice only from the one with them)."""

import io
import json

from click.testing import CliRunner
from conftest import wat
from rich.console import Console

from wasmem.cli.main import cli
from wasmem.model.checks import Rules, check_module
from wasmem.model.indirectcalls import indirect_view
from wasmem.model.layout import analyze
from wasmem.model.stackframes import analyze_stack
from wasmem.parser.module import WasmModule
from wasmem.render.stack import StackView

FRAME = '''(local.set $fp (i32.sub (global.get $sp) (i32.const {n})))
    (global.set $sp (local.get $fp))'''
POP = '''(global.set $sp (i32.add (local.get $fp) (i32.const {n})))'''

INDIRECT = r'''
(module
  (type $ii (func (param i32) (result i32)))
  (type $iii (func (param i32 i32) (result i32)))
  (memory (export "memory") 2)
  (global $sp (mut i32) (i32.const 65536))
  (table 4 funcref)
  (elem (i32.const 0) $visit $other $leafy $pair)
  ;; dispatch → (call_indirect (i32)->i32) → visit → dispatch: recursion only through the table
  (func $dispatch (export "dispatch") (param $x i32) (result i32) (local $fp i32)
    ''' + FRAME.format(n=64) + '''
    (local.set $x (call_indirect (type $ii) (local.get $x) (i32.and (local.get $x) (i32.const 3))))
    ''' + POP.format(n=64) + '''
    (local.get $x))
  (func $visit (type $ii) (local $fp i32)
    ''' + FRAME.format(n=1024) + '''
    (local.set 0 (call $dispatch (local.get 0)))
    ''' + POP.format(n=1024) + '''
    (local.get 0))
  (func $other (type $ii) (local $fp i32)
    ''' + FRAME.format(n=16) + '''
    ''' + POP.format(n=16) + '''
    (local.get 0))
  (func $leafy (type $ii) (local.get 0))
  (func $pair (type $iii) (local.get 0))
  ;; fact: proven (direct) recursion, and it also calls dispatch
  (func $fact (export "fact") (param $n i32) (result i32) (local $fp i32)
    ''' + FRAME.format(n=48) + '''
    (if (local.get $n)
      (then (local.set $n (i32.mul (local.get $n) (call $fact (i32.sub (local.get $n) (i32.const 1))))))
      (else (local.set $n (call $dispatch (i32.const 1)))))
    ''' + POP.format(n=48) + '''
    (local.get $n))
  (func (export "plain") (param i32) (result i32) (call $other (local.get 0)))
)'''


def _analysis(tmp_path=None, depth=None):
    m = WasmModule.from_bytes(wat(INDIRECT), "ind.wasm")
    return m, analyze_stack(m, analyze(m), recursion_depth=depth)


def test_cycles_through_call_indirect_are_possible_with_evidence():
    m, sa = _analysis()
    view = indirect_view(sa, m)
    by = {c.names: c for c in view.cycles}
    (dv,) = [c for names, c in by.items() if "dispatch" in names]
    assert dv.possible and set(dv.names) == {"dispatch", "visit"}
    (edge,) = dv.edges
    assert (edge.caller, edge.callee, edge.kind, edge.table) == ("dispatch", "visit", "call_indirect", 0)
    assert edge.type_text == "(i32) -> (i32)" and edge.candidates == 3  # $pair has another type
    assert "via call_indirect type (i32) -> (i32) in table 0, 3 table candidate(s)" in edge.text
    assert not by[("fact",)].possible
    roots = {r.name: r for r in sa.roots}
    assert view.recursion(roots["dispatch"]) == "possible"
    assert view.recursion(roots["fact"]) == "proven"
    assert view.recursion(roots["plain"]) is None
    # without indirect calls: dispatch is its own frame; fact is still recursive (proven)
    assert view.direct["dispatch"].bytes == 64 and view.direct["fact"].unbounded == "recursion"
    assert view.direct["fact"].level_bytes == 48 and roots["fact"].level_bytes == 48 + 1024  # the possible cycle's largest frame too
    assert view.worst_direct.name == "dispatch" and view.worst_direct.effective_bytes == 64


def test_no_indirect_call_no_view():
    m = WasmModule.from_bytes(wat('''(module (memory 1) (global $sp (mut i32) (i32.const 65536))
      (func (export "f") (local $fp i32) ''' + FRAME.format(n=16) + POP.format(n=16) + '''))'''), "d.wasm")
    sa = analyze_stack(m, analyze(m))
    assert sa.direct_roots is None and indirect_view(sa, m) is None


def _text(view):
    c = Console(width=250, file=io.StringIO(), color_system=None)  # no wrapping inside the tree
    c.print(view)
    return " ".join(c.file.getvalue().split())


def test_stack_text_marks_possible_recursion_and_both_worst_cases():
    m, sa = _analysis()
    out = _text(StackView(sa, headroom_pct=25, indirect=indirect_view(sa, m)))
    assert ("dispatch possibly unbounded: possible recursion through call_indirect: dispatch → visit → dispatch"
            in out)
    assert "possible, not proven: dispatch → visit via call_indirect type (i32) -> (i32) in table 0" in out
    assert "without indirect calls: 64 B" in out
    assert "fact unbounded: recursion: fact → fact" in out  # proven stays plain recursion
    # fact's per-level figure counts the possible cycle; the proven one is given beside it
    assert "through the direct calls alone (proven): 112 B at recursion depth 1, at most 48 B more" in out
    assert "without indirect calls (the calls the code proves): worst case 64 B (dispatch)" in out
    assert ("recursive cycles that need call_indirect (possible, not proven): 1 of 2 dispatch → visit → dispatch: "
            "dispatch → visit via call_indirect" in out)
    assert "-z stack-size=" not in out.replace("no -z stack-size", "")  # advice never from the smaller figure


def test_stack_json_has_both_worst_cases(tmp_path):
    p = tmp_path / "ind.wasm"
    p.write_bytes(wat(INDIRECT))
    r = CliRunner().invoke(cli, ["stack", str(p), "--json"], catch_exceptions=False)
    d = json.loads(r.output)
    ind = d["indirect"]
    assert ind["worst_bytes_without_indirect"] == 64 and ind["worst_entry_without_indirect"] == "dispatch"
    (cyc,) = [c for c in ind["cycles"] if "dispatch" in c["functions"]]
    assert cyc["recursion"] == "possible"
    assert cyc["via"][0]["signature"] == "(i32) -> (i32)" and cyc["via"][0]["candidates"] == 3
    roots = {x["function"]: x for x in ind["roots"]}
    assert roots["dispatch"]["recursion"] == "possible" and roots["dispatch"]["bytes_without_indirect"] == 64
    assert roots["fact"]["recursion"] == "proven"
    assert [x["function"] for x in ind["roots"]] == [x["function"] for x in d["roots"]]


def test_check_headroom_says_which_graph_and_what_is_possible():
    m, sa = _analysis()
    (r,) = check_module(analyze(m), Rules(stack_headroom=25), sa)
    assert r.status == "fail"
    assert r.message.startswith("2 entry point(s) have no static bound")
    assert "(1 only by possible recursion through call_indirect)" in r.message
    assert "call_indirect edges included" in r.message and "without them: worst case 64 bytes (dispatch)" in r.message
    (disp,) = [d for d in r.details if d.startswith("dispatch:")]
    assert "possible recursion through call_indirect, not proven" in disp and "without indirect calls 64" in disp
    (fact,) = [d for d in r.details if d.startswith("fact:")]
    assert "the direct calls alone give at most 112 + (N-1) × 48 bytes" in fact
