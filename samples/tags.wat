;; tags.wat - exception handling + reference types: an exception tag (param i32), a funcref
;; table of 3 (2 filled by an active element segment), a mutable global of type funcref
;; initialised with ref.func (call_current stores it in slot 2 and calls it), a small memory (1 page, exported) and a function that throws.
;; build: $PY -c "import wasmtime,sys; open(sys.argv[2],'wb').write(wasmtime.wat2wasm(open(sys.argv[1]).read()))" tags.wat tags.wasm
(module
  (tag $oops (export "oops") (param i32))
  (table $callbacks (export "callbacks") 3 funcref)
  (memory (export "memory") 1)
  (global $current (export "current") (mut funcref) (ref.func $first))
  (elem (table $callbacks) (i32.const 0) func $first $second)
  (func $first (result i32) i32.const 1)
  (func $second (result i32) i32.const 2)
  (func (export "call_current") (result i32)
    (table.set $callbacks (i32.const 2) (global.get $current))
    (call_indirect $callbacks (result i32) (i32.const 2)))
  (func (export "throw_it") (param i32)
    local.get 0
    throw $oops)
)
