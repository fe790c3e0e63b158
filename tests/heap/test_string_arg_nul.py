"""An ``s:TEXT`` argument placed with the module's malloc gets a NUL past its length (issue 25): QuickJS's
JS_Eval(ctx, input, len, …) reads input[len] (documented as required), and without the NUL every eval read a byte
past wasmem's own block: ten false use-after-free findings on quickjs. The length passed stays the text's."""

from __future__ import annotations

from heap_util import BUMP_MODULE_HEAD

from wasmem.app.heap import heap_report

WAT = BUMP_MODULE_HEAD + """  ;; like JS_Eval: the length, plus the terminator it insists on (returns len * 256 + input[len])
  (func (export "eval") (param $p i32) (param $n i32) (result i32)
    (i32.add (i32.mul (local.get $n) (i32.const 256)) (i32.load8_u (i32.add (local.get $p) (local.get $n)))))
)
"""


def test_reading_the_byte_past_a_string_argument_is_no_finding(wat_file):
    report, session = heap_report(wat_file(WAT), after=["eval s:1+1"], memcheck=True)
    session.close()
    assert report.findings == []


def test_the_length_passed_is_the_texts_and_the_byte_past_it_is_nul(wat_file):
    from wasmem.parser import WasmModule
    from wasmem.runtime.session import Session

    with Session(WasmModule.from_bytes(open(wat_file(WAT), "rb").read(), "t.wasm"), timeout=5) as s:
        r = s.call("eval", ["s:1+1"])
        assert r.results == [3 * 256]
        assert r.allocations[0].size == 3
