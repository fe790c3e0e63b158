"""Legacy exception handling (try/catch/catch_all/delegate/rethrow): found by decoding candidate bodies,
reported by `inspect` as a finding with its consequence and remedy; the exnref encoding is not flagged."""

import pytest
from conftest import wat
from eh_modules import EXNREF
from eh_modules import LEGACY as VOID_TRY

from wasmem.model.layout import analyze, layout_to_dict
from wasmem.parser import WasmModule, features
from wasmem.parser.features import LEGACY_EH_REMEDY, find_legacy_eh, scan_legacy_eh

# a try that yields a value: its bytes are `06 7f`, never `06 40`
VALUE_TRY = """(module
  (tag $e (param i32))
  (func (export "f") (result i32)
    try (result i32)
      i32.const 1
      throw $e
    catch $e
    end))"""

# try_table: the exnref encoding that wasmtime runs


def module(text: str, name: str = "m.wasm") -> WasmModule:
    return WasmModule.from_bytes(wat(text), name)


def test_void_try_is_found_at_its_opcode():
    m = module(VOID_TRY)
    scan = scan_legacy_eh(m)
    hit = scan.hit
    assert hit is not None and hit.op == "try" and scan.method == "void try" and scan.complete
    assert m.data[hit.offset] == 0x06 and m.data[hit.offset + 1] == 0x40
    assert hit.func_index == 1  # $thrower is function 0
    assert find_legacy_eh(m) == hit


def test_inspect_reports_it_with_consequence_and_remedy():
    lay = analyze(module(VOID_TRY))
    (f,) = [f for f in lay.findings if f.code == "legacy-exceptions"]
    assert f.severity == "warning"
    assert "uses legacy exception handling" in f.message
    assert "wasmtime (and so `wasmem call`) cannot run it; browsers and Node still do" in f.message
    assert "`try` at 0x" in f.message and "function 1" in f.message
    assert f.hint == LEGACY_EH_REMEDY
    for flag in ("-sWASM_LEGACY_EXCEPTIONS=0", "-mllvm -wasm-use-legacy-eh=false", "--translate-to-exnref"):
        assert flag in f.hint
    d = layout_to_dict(lay)
    assert any(x["code"] == "legacy-exceptions" for x in d["findings"])


def test_a_value_try_is_found_by_the_second_pass_when_the_module_has_tags():
    m = module(VALUE_TRY)
    assert b"\x06\x40" not in bytes(m.data)
    scan = scan_legacy_eh(m)
    assert scan.hit is not None and scan.hit.op == "try" and scan.method == "value try"
    assert m.data[scan.hit.offset + 1] == 0x7F


def test_delegate_and_catch_all_without_tags():
    m = module("""(module (func (export "f") (result i32)
      try
        try
          nop
        delegate 0
      catch_all
      end
      i32.const 1))""")
    assert m.tags == []
    hit = find_legacy_eh(m)
    assert hit is not None and hit.op == "try"


def test_exnref_module_is_not_flagged():
    m = module(EXNREF)
    scan = scan_legacy_eh(m)
    assert scan.hit is None and scan.complete
    assert not [f for f in analyze(m).findings if f.code == "legacy-exceptions"]


def test_the_two_bytes_inside_an_immediate_are_not_a_try():
    # f64.const 2.75 is 44 00 00 00 00 00 00 06 40: the candidate body decodes to no legacy opcode
    m = module('(module (func (export "g") (result f64) f64.const 2.75))')
    assert b"\x06\x40" in bytes(m.data)
    scan = scan_legacy_eh(m)
    assert scan.hit is None and scan.decoded == 1 and scan.method == "no tags"


def test_no_code_and_a_body_that_does_not_decode():
    assert scan_legacy_eh(module("(module (memory 1))")).hit is None
    raw = bytearray(wat('(module (func (export "g") (result f64) f64.const 2.75))'))
    i = raw.index(b"\x44")
    raw[i] = 0xFF  # an unknown opcode before the bytes 06 40
    scan = scan_legacy_eh(WasmModule.from_bytes(bytes(raw)))
    assert scan.hit is None and not scan.complete


def test_the_second_pass_stops_at_its_budget(monkeypatch):
    # many bodies with `i64.const 6; i64.mul` (42 06 7e) in a module with tags: candidates, no try
    funcs = "\n".join(f'(func (export "f{i}") (param i64) (result i64) local.get 0 i64.const 6 i64.mul)'
                      for i in range(50))
    m = module(f"(module (tag $e) {funcs})")
    monkeypatch.setattr(features, "PASS2_BUDGET", 100)
    scan = scan_legacy_eh(m)
    assert scan.hit is None and not scan.complete and scan.method == "budget" and 0 < scan.decoded < 50
    monkeypatch.setattr(features, "PASS2_BUDGET", 10**6)
    m2 = module(f"(module (tag $e) {funcs})")
    full = scan_legacy_eh(m2)
    assert full.hit is None and full.complete and full.decoded == 50


@pytest.mark.parametrize("text", [VOID_TRY, VALUE_TRY])
def test_memoised_per_module(text):
    m = module(text)
    assert scan_legacy_eh(m) is scan_legacy_eh(m)
