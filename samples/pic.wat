;; pic.wat - a PIC / Emscripten side-module-like module: imports env.memory (1 page),
;; env.__indirect_function_table, env.__stack_pointer (mut i32, the stack pointer, global 0),
;; env.__memory_base (global 1) and env.__table_base (global 2); a dylink.0 custom section
;; (first section) with mem_size 48, mem_align 2^4, table_size 1, table_align 0; one data
;; segment at offset (global.get __memory_base) and one element at (global.get __table_base).
;; The dylink.0 section is written with the wat crate's (@dylink.0 ...) annotation.
;; build: $PY -c "import wasmtime,sys; open(sys.argv[2],'wb').write(wasmtime.wat2wasm(open(sys.argv[1]).read()))" pic.wat pic.wasm
(module
  (@dylink.0 (mem-info (memory 48 4) (table 1 0)))
  (import "env" "memory" (memory 1))
  (import "env" "__indirect_function_table" (table 1 funcref))
  (import "env" "__stack_pointer" (global $__stack_pointer (mut i32)))
  (import "env" "__memory_base" (global $__memory_base i32))
  (import "env" "__table_base" (global $__table_base i32))
  (data (global.get $__memory_base) "pic module data\00\01\00\00\00\02\00\00\00")
  (elem (global.get $__table_base) func $callback)
  (func $callback (param i32) (result i32)
    local.get 0
    i32.const 3
    i32.mul)
  ;; a C-style frame on the imported stack pointer
  (func $framed (export "framed") (param i32) (result i32) (local i32)
    global.get $__stack_pointer
    i32.const 32
    i32.sub
    local.tee 1
    global.set $__stack_pointer
    local.get 1
    local.get 0
    i32.store offset=16
    local.get 1
    i32.load offset=16
    global.get $__table_base
    call_indirect (param i32) (result i32)
    local.get 1
    i32.const 32
    i32.add
    global.set $__stack_pointer)
  ;; address of the module's data (memory_base + 0)
  (func (export "data_addr") (result i32)
    global.get $__memory_base)
)
