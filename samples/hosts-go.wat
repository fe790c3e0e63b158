;; hosts-go.wat - the host side of Go's wasm_exec.js (GOOS=js): imports from module "gojs",
;; each taking Go's stack pointer and reading its arguments at sp+8 onwards; like real Go output it
;; imports runtime.getRandomData TWICE (the same module and name). Memory exported as "mem".
;; Every export uses sp = 4096:
;;   hello()        runtime.wasmWrite(fd 1, 8192, 14): "hello from go\n"
;;   random()       getRandomData through both imports: 16 bytes at 12288, 16 at 12304; returns how
;;                  many of the 32 bytes are non-zero
;;   clock()        runtime.nanotime1: the int64 written at sp+8
;;   wall()         runtime.walltime: the seconds written at sp+8 (nanoseconds at sp+16: wall_ns())
;;   quit(code)     runtime.wasmExit(code)
;;   js()           syscall/js.valueGet after putting -1 in the result slot sp+32: returns the slot
;; build: $PY -c "import wasmtime,sys; open(sys.argv[2],'wb').write(wasmtime.wat2wasm(open(sys.argv[1]).read()))" hosts-go.wat hosts-go.wasm
(module
  (import "gojs" "runtime.wasmExit" (func $wasmExit (param i32)))
  (import "gojs" "runtime.wasmWrite" (func $wasmWrite (param i32)))
  (import "gojs" "runtime.nanotime1" (func $nanotime1 (param i32)))
  (import "gojs" "runtime.walltime" (func $walltime (param i32)))
  (import "gojs" "runtime.getRandomData" (func $getRandomData (param i32)))
  (import "gojs" "runtime.getRandomData" (func $getRandomData2 (param i32)))
  (import "gojs" "syscall/js.valueGet" (func $valueGet (param i32)))
  (memory (export "mem") 2)
  (data (i32.const 8192) "hello from go\n")
  (func (export "hello")
    (i64.store (i32.const 4104) (i64.const 1))
    (i64.store (i32.const 4112) (i64.const 8192))
    (i32.store (i32.const 4120) (i32.const 14))
    (call $wasmWrite (i32.const 4096)))
  (func (export "random") (result i32) (local $i i32) (local $n i32)
    (i64.store (i32.const 4104) (i64.const 12288))
    (i64.store (i32.const 4112) (i64.const 16))
    (call $getRandomData (i32.const 4096))
    (i64.store (i32.const 4104) (i64.const 12304))
    (call $getRandomData2 (i32.const 4096))
    (block $done (loop $l
      (br_if $done (i32.ge_u (local.get $i) (i32.const 32)))
      (if (i32.load8_u (i32.add (i32.const 12288) (local.get $i)))
        (then (local.set $n (i32.add (local.get $n) (i32.const 1)))))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br $l)))
    (local.get $n))
  (func (export "clock") (result i64)
    (call $nanotime1 (i32.const 4096))
    (i64.load (i32.const 4104)))
  (func (export "wall") (result i64)
    (call $walltime (i32.const 4096))
    (i64.load (i32.const 4104)))
  (func (export "wall_ns") (result i32) (i32.load (i32.const 4112)))
  (func (export "quit") (param $code i32)
    (i32.store (i32.const 4104) (local.get $code))
    (call $wasmExit (i32.const 4096)))
  (func (export "js") (result i64)
    (i64.store (i32.const 4128) (i64.const -1))
    (call $valueGet (i32.const 4096))
    (i64.load (i32.const 4128))))
