"""WAT modules shared by the exception-handling tests (tests/model/test_legacy_eh.py,
tests/runtime/test_legacy_eh_refusal.py): the same exported f(i32) -> i32 throwing a tag and catching it,
in the legacy try/catch encoding (which wasmtime refuses) and in the exnref try_table encoding."""

LEGACY = """(module
  (tag $e (param i32))
  (memory (export "memory") 1)
  (func $thrower (param i32) (throw $e (local.get 0)))
  (func (export "f") (param i32) (result i32)
    try
      local.get 0
      call $thrower
    catch $e
      drop
    catch_all
    end
    i32.const 7))"""

EXNREF = """(module
  (tag $e (param i32))
  (memory (export "memory") 1)
  (func $thrower (param i32) (throw $e (local.get 0)))
  (func (export "f") (param i32) (result i32)
    (block $h (result i32)
      (try_table (catch $e $h) (call $thrower (local.get 0)))
      (i32.const -1))))"""
