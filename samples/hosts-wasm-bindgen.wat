;; hosts-wasm-bindgen.wat - the host side of wasm-bindgen output: imports from "./hosts_bg.js"
;; (`__wbindgen_throw(ptr, len)`, a `__wbg_log_*` binding) and the exported allocator
;; `__wbindgen_malloc(size, align)` (a bump allocator from 4096 that remembers the align it got:
;; `last_align`) and `__wbindgen_free(ptr, size, align)`. `greet(ptr, len)` passes the string
;; to the log binding and returns len; `fail()` throws "boom: invalid input" (the 19 bytes at 1024).
;; build: $PY -c "import wasmtime,sys; open(sys.argv[2],'wb').write(wasmtime.wat2wasm(open(sys.argv[1]).read()))" hosts-wasm-bindgen.wat hosts-wasm-bindgen.wasm
(module
  (import "./hosts_bg.js" "__wbindgen_throw" (func $throw (param i32 i32)))
  (import "./hosts_bg.js" "__wbg_log_0123456789abcdef" (func $log (param i32 i32)))
  (memory (export "memory") 1)
  (global $heap (mut i32) (i32.const 4096))
  (global $last_align (mut i32) (i32.const 0))
  (data (i32.const 1024) "boom: invalid input")
  (func (export "__wbindgen_malloc") (param $size i32) (param $align i32) (result i32) (local $p i32)
    (global.set $last_align (local.get $align))
    (local.set $p (global.get $heap))
    (global.set $heap (i32.add (global.get $heap)
      (i32.and (i32.add (local.get $size) (i32.const 15)) (i32.const -16))))
    (local.get $p))
  (func (export "__wbindgen_free") (param i32 i32 i32))
  (func (export "last_align") (result i32) (global.get $last_align))
  (func (export "greet") (param $p i32) (param $n i32) (result i32)
    (call $log (local.get $p) (local.get $n))
    (local.get $n))
  (func (export "fail") (call $throw (i32.const 1024) (i32.const 19))))
