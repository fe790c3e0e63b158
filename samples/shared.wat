;; shared.wat - a shared memory (threads) with min 1 / max 4 pages, exported; two passive data
;; segments (so a DataCount section is emitted) copied in by an init function (like LLVM's
;; __wasm_init_memory: an atomic flag at address 0 guards it) run as the start function.
;; build: $PY -c "import wasmtime,sys; open(sys.argv[2],'wb').write(wasmtime.wat2wasm(open(sys.argv[1]).read()))" shared.wat shared.wasm
(module
  (memory $mem (export "memory") 1 4 shared)
  (data $greeting "shared hello\00")
  (data $table "\0a\00\00\00\14\00\00\00\1e\00\00\00")
  (func $init_memory
    ;; if cmpxchg(flag@0: 0 -> 1) == 0 then init
    (if (i32.eqz (i32.atomic.rmw.cmpxchg (i32.const 0) (i32.const 0) (i32.const 1)))
      (then
        (memory.init $greeting (i32.const 1024) (i32.const 0) (i32.const 13))
        (memory.init $table (i32.const 1040) (i32.const 0) (i32.const 12))
        (i32.atomic.store (i32.const 0) (i32.const 2))
        (data.drop $greeting)
        (data.drop $table))))
  (start $init_memory)
  (func (export "counter_add") (param i32) (result i32)
    i32.const 4
    local.get 0
    i32.atomic.rmw.add)
  (func (export "load") (param i32) (result i32)
    local.get 0
    i32.atomic.load)
)
