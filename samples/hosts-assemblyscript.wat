;; hosts-assemblyscript.wat - the host side of AssemblyScript output, hand-written: imports
;; env.abort(message, fileName, line, column), env.trace(message, n, a0..a4) and env.seed(); a stub
;; runtime exporting __new(size, id) (a bump allocator from 1200: a 20-byte object header -
;; mmInfo, gcInfo, gcInfo2, rtId at payload-8, rtSize (bytes) at payload-4 - then the payload),
;; __pin/__unpin (they count pins in the i32 at 1196, not in a global: a global decremented
;; like that looks like a stack pointer to the layout heuristic). Strings are String objects
;; (class id 2, UTF-16LE): "x must be positive" at 1040, "assembly/index.ts" at 1100, "value" at 1160.
;;   check(x)         x, or abort("x must be positive", "assembly/index.ts", 12, 5) when x <= 0
;;   abort_null()     abort(null, null, 1, 2)
;;   trace_it()       trace("value", 2, 1.5, 2, 0, 0, 0)
;;   rand()           seed()
;;   inspect(s)       rtId(s) * 10000 + pins() * 1000 + length of s in characters
;;   char_at(s, i)    the UTF-16 code unit at index i of s
;;   pins()           the pin count
;; build: $PY -c "import wasmtime,sys; open(sys.argv[2],'wb').write(wasmtime.wat2wasm(open(sys.argv[1]).read()))" hosts-assemblyscript.wat hosts-assemblyscript.wasm
(module
  (import "env" "abort" (func $abort (param i32 i32 i32 i32)))
  (import "env" "trace" (func $trace (param i32 i32 f64 f64 f64 f64 f64)))
  (import "env" "seed" (func $seed (result f64)))
  (memory (export "memory") 1)
  (global $offset (mut i32) (i32.const 1200))
  (data (i32.const 1020) "\00\00\00\00\00\00\00\00\00\00\00\00\02\00\00\00$\00\00\00x\00 \00m\00u\00s\00t\00 \00b\00e\00 \00p\00o\00s\00i\00t\00i\00v\00e\00")  ;; "x must be positive"
  (data (i32.const 1080) "\00\00\00\00\00\00\00\00\00\00\00\00\02\00\00\00\22\00\00\00a\00s\00s\00e\00m\00b\00l\00y\00/\00i\00n\00d\00e\00x\00.\00t\00s\00")  ;; "assembly/index.ts"
  (data (i32.const 1140) "\00\00\00\00\00\00\00\00\00\00\00\00\02\00\00\00\0a\00\00\00v\00a\00l\00u\00e\00")  ;; "value"
  (func (export "__new") (param $size i32) (param $id i32) (result i32) (local $block i32)
    (local.set $block (global.get $offset))
    (i32.store offset=12 (local.get $block) (local.get $id))
    (i32.store offset=16 (local.get $block) (local.get $size))
    (global.set $offset (i32.add (local.get $block)
      (i32.and (i32.add (local.get $size) (i32.const 35)) (i32.const -16))))
    (i32.add (local.get $block) (i32.const 20)))
  (func (export "__pin") (param $p i32) (result i32)
    (i32.store (i32.const 1196) (i32.add (i32.load (i32.const 1196)) (i32.const 1)))
    (local.get $p))
  (func (export "__unpin") (param $p i32)
    (i32.store (i32.const 1196) (i32.add (i32.load (i32.const 1196)) (i32.const -1))))
  (func (export "pins") (result i32) (i32.load (i32.const 1196)))
  (func (export "check") (param $x i32) (result i32)
    (if (i32.le_s (local.get $x) (i32.const 0))
      (then (call $abort (i32.const 1040) (i32.const 1100) (i32.const 12) (i32.const 5)) (unreachable)))
    (local.get $x))
  (func (export "abort_null") (call $abort (i32.const 0) (i32.const 0) (i32.const 1) (i32.const 2)))
  (func (export "trace_it")
    (call $trace (i32.const 1160) (i32.const 2) (f64.const 1.5) (f64.const 2) (f64.const 0) (f64.const 0)
      (f64.const 0)))
  (func (export "rand") (result f64) (call $seed))
  (func (export "inspect") (param $s i32) (result i32)
    (i32.add (i32.add
      (i32.mul (i32.load (i32.sub (local.get $s) (i32.const 8))) (i32.const 10000))
      (i32.mul (i32.load (i32.const 1196)) (i32.const 1000)))
      (i32.shr_u (i32.load (i32.sub (local.get $s) (i32.const 4))) (i32.const 1))))
  (func (export "char_at") (param $s i32) (param $i i32) (result i32)
    (i32.load16_u (i32.add (local.get $s) (i32.shl (local.get $i) (i32.const 1))))))
