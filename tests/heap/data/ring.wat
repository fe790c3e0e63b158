;; ring.wat - blocks that live a while (issue 15's tracking cost): `ring(n)` makes n allocations of 16 bytes and
;; keeps the last 64 in a ring, freeing each one 64 allocations after it was made. The allocator hands out
;; 16-byte blocks from a 1 MiB arena, round and round (never more than 64 are live), and its free does
;; nothing, so that a loop measures the tracking rather than an allocator.
;; build: $PY -c "import wasmtime,sys; open(sys.argv[2],'wb').write(wasmtime.wat2wasm(open(sys.argv[1]).read()))" ring.wat ring.wasm
(module
  (memory (export "memory") 17)
  (global $top (mut i32) (i32.const 1024))
  (func $malloc (export "malloc") (param i32) (result i32) (local i32)
    (if (i32.gt_u (i32.add (global.get $top) (local.get 0)) (i32.const 1049600))
      (then (global.set $top (i32.const 1024))))
    (local.set 1 (global.get $top))
    (global.set $top (i32.add (global.get $top) (i32.and (i32.add (local.get 0) (i32.const 15)) (i32.const -16))))
    (local.get 1))
  (func $free (export "free") (param i32))
  (func (export "ring") (param $n i32) (local $i i32) (local $slot i32)
    (block $done (loop $more
      (br_if $done (i32.ge_u (local.get $i) (local.get $n)))
      (local.set $slot (i32.shl (i32.and (local.get $i) (i32.const 63)) (i32.const 2)))
      (if (i32.load (local.get $slot)) (then (call $free (i32.load (local.get $slot)))))
      (i32.store (local.get $slot) (call $malloc (i32.const 16)))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br $more))))
)
