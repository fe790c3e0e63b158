;; hosts-wasi-reactor.wat - a WASI reactor whose memory is IMPORTED (env.memory: the shape of
;; Emscripten and `wasm-ld --import-memory` output). `_initialize` prints "init\n" through
;; wasi_snapshot_preview1.fd_write and, like wasi-libc's crt1-reactor.c, traps when it is called a
;; second time. wasmtime's WASI finds memory through the export `memory`, which this module does not
;; have: the host profile exports the imported memory for it. `hi` prints "hi\n" and returns the
;; byte count fd_write reported (3); `inits` returns how often `_initialize` ran.
;; build: $PY -c "import wasmtime,sys; open(sys.argv[2],'wb').write(wasmtime.wat2wasm(open(sys.argv[1]).read()))" hosts-wasi-reactor.wat hosts-wasi-reactor.wasm
(module
  (import "wasi_snapshot_preview1" "fd_write" (func $fd_write (param i32 i32 i32 i32) (result i32)))
  (import "env" "memory" (memory 1))
  (global $inits (mut i32) (i32.const 0))
  (data (i32.const 64) "init\n")
  (data (i32.const 80) "hi\n")
  ;; one iovec at 0, the written count at 8
  (func $print (param $p i32) (param $n i32) (result i32)
    (i32.store (i32.const 0) (local.get $p))
    (i32.store (i32.const 4) (local.get $n))
    (drop (call $fd_write (i32.const 1) (i32.const 0) (i32.const 1) (i32.const 8)))
    (i32.load (i32.const 8)))
  (func (export "_initialize")
    (if (global.get $inits) (then unreachable))
    (global.set $inits (i32.add (global.get $inits) (i32.const 1)))
    (drop (call $print (i32.const 64) (i32.const 5))))
  (func (export "hi") (result i32) (call $print (i32.const 80) (i32.const 3)))
  (func (export "inits") (result i32) (global.get $inits)))
