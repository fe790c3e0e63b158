;; memory64.wat - a memory64 memory (min 2, max 4 pages) with i64 addressing, data segments
;; at 0x10000 and 0x10010, and an i64 stack-pointer global (global 0, init 0x10000 = 65536, stack-first
;; style: stack [0, 0x10000)) used with the C prologue pattern in i64.
;; build: $PY -c "import wasmtime,sys; open(sys.argv[2],'wb').write(wasmtime.wat2wasm(open(sys.argv[1]).read()))" memory64.wat memory64.wasm
(module
  (memory $mem (export "memory") i64 2 4)
  (global $sp (mut i64) (i64.const 65536))
  (data (i64.const 0x10000) "memory64 data\00")
  (data (i64.const 0x10010) "\01\00\00\00\00\00\00\00\02\00\00\00\00\00\00\00")

  ;; load an i64 from an i64 address
  (func (export "load64") (param $addr i64) (result i64)
    local.get $addr
    i64.load)
  (func (export "store64") (param $addr i64) (param $v i64)
    local.get $addr
    local.get $v
    i64.store)
  (func (export "size") (result i64)
    memory.size)
  (func (export "grow") (param i64) (result i64)
    local.get 0
    memory.grow)
  ;; uses 32 bytes of linear stack: global.get; i64.const 32; i64.sub; local.tee; global.set
  (func (export "with_frame") (param $x i64) (result i64)
    (local $fp i64)
    global.get $sp
    i64.const 32
    i64.sub
    local.tee $fp
    global.set $sp
    local.get $fp
    local.get $x
    i64.store offset=8
    local.get $fp
    i64.load offset=8
    local.get $fp
    i64.const 32
    i64.add
    global.set $sp)
)
