;; go_like.wat - Go (js/wasm)-like module: imports from module "gojs" with the Go calling
;; convention (one i32 = SP), memory exported as "mem", exports run/resume/getsp, and Go's 8
;; globals: 0 SP (mut i32, starts at 0), 1 CTXT (mut i32), 2 g (mut i64), 3..6 RET0..RET3
;; (mut i64), 7 PAUSE (mut i32). Go has no C-style linear stack: global 0 IS adjusted with
;; global.get 0; i32.const 8; i32.sub; global.set 0 (Go style, no local.tee), but the module
;; must be reported as Go, not as a C stack. Data at 0x1000 (Go rodata-like).
;; build: $PY -c "import wasmtime,sys; open(sys.argv[2],'wb').write(wasmtime.wat2wasm(open(sys.argv[1]).read()))" go_like.wat go_like.wasm
(module
  (import "gojs" "runtime.wasmExit" (func $runtime.wasmExit (param i32)))
  (import "gojs" "runtime.wasmWrite" (func $runtime.wasmWrite (param i32)))
  (import "gojs" "runtime.nanotime1" (func $runtime.nanotime1 (param i32)))
  (import "gojs" "syscall/js.valueGet" (func $syscall/js.valueGet (param i32)))
  (memory (export "mem") 17)
  (global (mut i32) (i32.const 0))
  (global (mut i32) (i32.const 0))
  (global (mut i64) (i64.const 0))
  (global (mut i64) (i64.const 0))
  (global (mut i64) (i64.const 0))
  (global (mut i64) (i64.const 0))
  (global (mut i64) (i64.const 0))
  (global (mut i32) (i32.const 0))
  (data (i32.const 4096) "go.buildid\00runtime.main\00")
  ;; Go-style frame: SP -= 8, store, call import with SP, SP += 8
  (func $main.main (param i32) (result i32)
    global.get 0
    i32.const 8
    i32.sub
    global.set 0
    global.get 0
    local.get 0
    i64.extend_i32_u
    i64.store
    global.get 0
    call $runtime.nanotime1
    global.get 0
    i32.const 8
    i32.add
    global.set 0
    i32.const 0)
  (func $_rt0_wasm_js (export "run") (param $argc i32) (param $argv i32)
    (global.set 0 (i32.const 65536))
    (drop (call $main.main (local.get $argc)))
    (global.set 7 (i32.const 0)))
  (func $wasm_export_resume (export "resume")
    (global.set 7 (i32.const 0)))
  (func $wasm_export_getsp (export "getsp") (result i32)
    global.get 0)
)
