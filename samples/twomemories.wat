;; twomemories.wat - multi-memory: memory 0 (exported "memory", 1 page) and memory 1
;; (exported "scratch", 2..3 pages), each with an active data segment.
;; build: $PY -c "import wasmtime,sys; open(sys.argv[2],'wb').write(wasmtime.wat2wasm(open(sys.argv[1]).read()))" twomemories.wat twomemories.wasm
(module
  (memory $main (export "memory") 1)
  (memory $scratch (export "scratch") 2 3)
  (data (memory $main) (i32.const 16) "in memory zero\00")
  (data (memory $scratch) (i32.const 256) "in memory one\00")
  (func (export "load0") (param i32) (result i32)
    local.get 0
    i32.load8_u $main)
  (func (export "load1") (param i32) (result i32)
    local.get 0
    i32.load8_u $scratch)
  ;; copy n bytes from scratch[src] to memory[dst]
  (func (export "copy_1_to_0") (param $dst i32) (param $src i32) (param $n i32)
    local.get $dst
    local.get $src
    local.get $n
    memory.copy $main $scratch)
  (func (export "size1") (result i32)
    memory.size $scratch)
)
