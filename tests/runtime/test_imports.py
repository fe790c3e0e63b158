"""Every kind of import is satisfied with a default: tags, reference-typed globals and tables."""

from conftest import wat

from wasmem.parser import WasmModule
from wasmem.runtime.session import Session


def test_tag_funcref_global_externref_table_and_float_global_imports():
    m = WasmModule.from_bytes(wat("""(module
      (import "env" "t" (tag $t (param i32)))
      (import "env" "g" (global $g funcref))
      (import "env" "tab" (table 2 externref))
      (import "env" "m" (memory 1))
      (import "env" "h" (global $h (mut f64)))
      (func (export "f") (result i32) i32.const 7)
      (func (export "throws") (throw $t (i32.const 5))))"""), "imports.wasm")
    with Session(m, timeout=5) as s:
        assert s.call("f", []).results == [7]
        r = s.call("throws", [])
        assert r.trap.kind == "uncaught_exception"  # the host tag is real: the throw ends the call
