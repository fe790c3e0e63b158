;; passive.wat - every kind of segment. Imports env.base (immutable i32 global, the data
;; offset base) and env.memory (1 page min). Data: segment 0 active at (global.get 0)
;; (imported global), segment 1 active at (i32.add (i32.const 1024) (i32.const 16)) = 1040
;; (extended-const), segment 2 passive, segment 3 active at 2048 (plain).
;; Elements: segment 0 active at table offset 0, segment 1 passive, segment 2 declarative
;; (for ref.func). A DataCount section is present (memory.init/data.drop are used).
;; Instantiate with env.base = e.g. 512 and a 1-page env.memory.
;; build: $PY -c "import wasmtime,sys; open(sys.argv[2],'wb').write(wasmtime.wat2wasm(open(sys.argv[1]).read()))" passive.wat passive.wasm
(module
  (import "env" "base" (global $base i32))
  (import "env" "memory" (memory $mem 1))
  (table $tab 4 funcref)
  (data $at_base (global.get $base) "at imported base\00")
  (data $ext (offset (i32.add (i32.const 1024) (i32.const 16))) "extended const\00")
  (data $lazy "passive bytes\00")
  (data $plain (i32.const 2048) "\de\ad\be\ef")
  (elem $active (table $tab) (i32.const 0) func $one $two)
  (elem $pass func $three)
  (elem $decl declare func $four)
  (func $one (result i32) i32.const 1)
  (func $two (result i32) i32.const 2)
  (func $three (result i32) i32.const 3)
  (func $four (result i32) i32.const 4)
  ;; copy the passive data segment to dst and drop it
  (func (export "load_passive") (param $dst i32)
    (memory.init $lazy (local.get $dst) (i32.const 0) (i32.const 14))
    (data.drop $lazy))
  ;; put $three into table slot 2 and drop the passive element segment
  (func (export "fill_table")
    (table.init $tab $pass (i32.const 2) (i32.const 0) (i32.const 1))
    (elem.drop $pass))
  (func (export "call_slot") (param i32) (result i32)
    (call_indirect (result i32) (local.get 0)))
  (func (export "get_four") (result funcref)
    ref.func $four)
)
