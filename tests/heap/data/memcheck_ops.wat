;; memcheck_ops.wat - the SIMD, atomic and bulk-memory accesses of memory 0 for --memcheck (issue 15), on the
;; blocks of a tiny allocator: `malloc` bumps (16-byte header holding the size, written with an atomic store
;; below the block; blocks rounded up to 16 bytes), `free` poisons the block with memory.fill (both inside the
;; allocator: never reported). `simd_bad`, `atomic_bad` and `bulk_bad` each touch a freed block and the bytes
;; past the end of a live 20-byte block with every kind of access, next to accesses that fit (not reported);
;; `clean` does the same kinds of access inside live blocks only. `other_memory` makes the bad accesses on
;; memory 1 (never checked), and reads a freed block of memory 0 into memory 1 (its source range is checked).
;; `unaligned_atomic`, `fill_oob`, `v128_oob` and `atomic_at` (out of bounds, unaligned or both) trap as they do
;; without wasmem, with the same trap code at the same instruction (and report nothing).
;; `uninit` reads bytes of malloc'ed blocks never written (--memcheck-uninit), next to bytes written by plain,
;; SIMD, lane, atomic and bulk stores, a calloc'ed block, and a memory.copy that carries definedness along.
;; `dense` is bench/heapcost.py's access-dense loop (n rounds of every kind of access over a live 1 KiB block,
;; allocated on its first call).
;; build: $PY -c "import wasmtime,sys; open(sys.argv[2],'wb').write(wasmtime.wat2wasm(open(sys.argv[1]).read()))" memcheck_ops.wat memcheck_ops.wasm
(module
  (memory $heap (export "memory") 2)
  (memory $other 3)
  (global (export "__heap_base") i32 (i32.const 65536))
  (global $top (mut i32) (i32.const 65536))
  (data $text "0123456789abcdefghijklmnopqrstuv")  ;; a passive segment of 32 bytes

  (func $malloc (export "malloc") (param $n i32) (result i32)
    (local $p i32)
    (local.set $p (i32.add (global.get $top) (i32.const 16)))
    (i64.atomic.store offset=8 (global.get $top) (i64.extend_i32_u (local.get $n)))
    (global.set $top (i32.add (local.get $p) (i32.and (i32.add (local.get $n) (i32.const 15)) (i32.const -16))))
    (local.get $p))
  (func $calloc (export "calloc") (param $k i32) (param $n i32) (result i32)
    (local $p i32)
    (local.set $p (call $malloc (i32.mul (local.get $k) (local.get $n))))
    (memory.fill (local.get $p) (i32.const 0) (i32.mul (local.get $k) (local.get $n)))
    (local.get $p))
  (func $free (export "free") (param $p i32)
    (if (local.get $p)
      (then (memory.fill (local.get $p) (i32.const 0xdd)
                         (i32.wrap_i64 (i64.atomic.load offset=8 (i32.sub (local.get $p) (i32.const 16))))))))

  ;; p: a freed block of 32 bytes, q: a live block of 20 bytes (bytes 20..31 of its 32 are past its end)
  (func $simd_bad (export "simd_bad") (result i32)
    (local $p i32) (local $q i32) (local $v v128)
    (local.set $p (call $malloc (i32.const 32)))
    (local.set $q (call $malloc (i32.const 20)))
    (call $free (local.get $p))
    (local.set $v (v128.load (local.get $p)))                                           ;; freed, 16 bytes
    (v128.store offset=8 (local.get $q) (v128.const i32x4 1 2 3 4))                     ;; past the end from byte 12
    (local.set $v (v128.load32_lane offset=20 1 (local.get $q) (local.get $v)))          ;; just past the end
    (v128.store16_lane offset=4 0 (local.get $p) (local.get $v))                        ;; freed
    (local.set $v (i64x2.add (local.get $v) (v128.load64_splat offset=24 (local.get $p)))) ;; freed
    (local.set $v (i64x2.add (local.get $v) (v128.load8x8_u offset=16 (local.get $q))))  ;; past the end from byte 4
    (local.set $v (i64x2.add (local.get $v) (v128.load32_zero offset=16 (local.get $q)))) ;; fits: bytes 16..19
    (local.set $v (i64x2.add (local.get $v) (v128.load8_splat offset=19 (local.get $q)))) ;; fits
    (i32x4.extract_lane 1 (local.get $v)))

  (func $atomic_bad (export "atomic_bad") (result i32)
    (local $p i32) (local $q i32) (local $r i32)
    (local.set $p (call $malloc (i32.const 32)))
    (local.set $q (call $malloc (i32.const 20)))
    (call $free (local.get $p))
    (local.set $r (i32.atomic.load (local.get $p)))                                      ;; freed
    (drop (i64.atomic.rmw.add offset=16 (local.get $q) (i64.const 1)))                  ;; past the end from byte 4
    (local.set $r (i32.add (local.get $r)
                           (i32.atomic.rmw.cmpxchg offset=8 (local.get $p) (i32.const 0) (i32.const 1)))) ;; freed
    (i32.atomic.store8 offset=20 (local.get $q) (i32.const 7))                           ;; just past the end
    (local.set $r (i32.add (local.get $r) (memory.atomic.notify (local.get $p) (i32.const 1)))) ;; freed
    (local.set $r (i32.add (local.get $r) (i32.wrap_i64 (i64.atomic.load32_u offset=16 (local.get $q))))) ;; fits
    (local.get $r))

  ;; p: a freed block of 64 bytes, q: a live block of 20, r: a live block of 40
  (func $bulk_bad (export "bulk_bad") (result i32)
    (local $p i32) (local $q i32) (local $r i32)
    (local.set $p (call $malloc (i32.const 64)))
    (local.set $q (call $malloc (i32.const 20)))
    (local.set $r (call $malloc (i32.const 40)))
    (call $free (local.get $p))
    (memory.fill (i32.add (local.get $p) (i32.const 8)) (i32.const 0xaa) (i32.const 16))  ;; freed from byte 0
    (memory.fill (local.get $q) (i32.const 0) (i32.const 24))                          ;; past the end from byte 20
    (memory.copy (local.get $r) (local.get $p) (i32.const 32))                         ;; reads freed bytes
    (memory.copy (i32.add (local.get $q) (i32.const 8)) (local.get $r) (i32.const 16))  ;; writes past q's end
    (memory.copy (i32.add (local.get $p) (i32.const 16)) (i32.add (local.get $q) (i32.const 4))
                 (i32.const 20))                                                    ;; both: past q's end, into p
    (memory.init $text (i32.add (local.get $q) (i32.const 10)) (i32.const 0) (i32.const 12)) ;; past the end
    (memory.fill (local.get $p) (i32.const 0) (i32.const 0))                           ;; 0 bytes: nothing touched
    (i32.add (i32.load8_u (local.get $r)) (i32.load8_u offset=12 (local.get $q))))

  ;; the same kinds of access, inside live blocks only; then every block is freed
  (func $clean (export "clean") (param $k i32) (result i32)
    (local $p i32) (local $q i32) (local $v v128) (local $r i32)
    (local.set $p (call $malloc (i32.const 48)))
    (local.set $q (call $malloc (i32.const 20)))
    (memory.fill (local.get $p) (local.get $k) (i32.const 48))
    (memory.init $text (local.get $q) (i32.const 4) (i32.const 20))
    (memory.copy (i32.add (local.get $p) (i32.const 7)) (local.get $q) (i32.const 20))
    (memory.copy (local.get $p) (i32.add (local.get $p) (i32.const 3)) (i32.const 45))
    (local.set $v (v128.load offset=32 (local.get $p)))
    (v128.store offset=4 (local.get $q) (local.get $v))
    (local.set $v (v128.load64_lane offset=12 1 (local.get $q) (local.get $v)))
    (v128.store32_lane offset=16 3 (local.get $q) (local.get $v))
    (local.set $v (i64x2.add (local.get $v) (v128.load16x4_s offset=40 (local.get $p))))
    (local.set $v (i64x2.add (local.get $v) (v128.load64_zero offset=12 (local.get $q))))
    (local.set $r (i32x4.extract_lane 0 (local.get $v)))
    (i32.atomic.store offset=16 (local.get $q) (local.get $r))
    (drop (i32.atomic.rmw8.xchg_u offset=19 (local.get $q) (i32.const 9)))
    (drop (i64.atomic.rmw.cmpxchg offset=40 (local.get $p) (i64.const 0) (i64.const 5)))
    (drop (memory.atomic.notify offset=44 (local.get $p) (i32.const 0)))
    (local.set $r (i32.add (local.get $r) (i32.atomic.load16_u offset=18 (local.get $q))))
    (call $free (local.get $q))
    (memory.copy (local.get $q) (local.get $p) (i32.const 0))                            ;; 0 bytes of a freed block
    (local.set $r (i32.add (local.get $r) (i32.load offset=44 (local.get $p))))
    (call $free (local.get $p))
    (local.get $r))

  ;; memory 1 is not checked, whatever its addresses; a copy out of memory 0 reads memory 0
  (func $other_memory (export "other_memory") (result i32)
    (local $p i32)
    (local.set $p (call $malloc (i32.const 16)))
    (call $free (local.get $p))
    (i32.store $other (local.get $p) (i32.const 5))
    (memory.fill $other (local.get $p) (i32.const 1) (i32.const 64))
    (v128.store $other (local.get $p) (v128.const i64x2 1 2))
    (drop (i32.atomic.rmw.add $other (local.get $p) (i32.const 1)))
    (memory.copy $other $other (i32.const 0) (local.get $p) (i32.const 32))
    (memory.copy $other $heap (i32.const 128) (local.get $p) (i32.const 16))              ;; reads a freed block
    (i32.load $other (i32.const 128)))

  (func $unaligned_atomic (export "unaligned_atomic") (result i32)
    (local $p i32)
    (local.set $p (call $malloc (i32.const 16)))
    (call $free (local.get $p))
    (i32.atomic.load offset=1 (local.get $p)))                                          ;; traps: unaligned

  (func $fill_oob (export "fill_oob") (result i32)
    (local $p i32)
    (local.set $p (call $malloc (i32.const 16)))
    (call $free (local.get $p))
    (memory.fill (local.get $p) (i32.const 0) (i32.const 0x20000))                      ;; traps: out of bounds
    (i32.const 1))

  (func $v128_oob (export "v128_oob") (result i32)
    (i32x4.extract_lane 0 (v128.load (i32.const 131064))))                              ;; traps: 8 bytes past the end

  (func $atomic_at (export "atomic_at") (param $a i32) (result i32)
    (i32.atomic.load offset=4 (local.get $a)))

  (global $dense_block (mut i32) (i32.const 0))
  (func $dense (export "dense") (param $n i32) (result i32)
    (local $p i32) (local $i i32) (local $j i32) (local $v v128)
    (if (i32.eqz (global.get $dense_block))  ;; allocated on the first call, kept
      (then (global.set $dense_block (call $malloc (i32.const 1024)))
            (memory.fill (global.get $dense_block) (i32.const 1) (i32.const 1024))))
    (local.set $p (global.get $dense_block))
    (block $done
      (loop $round
        (br_if $done (i32.ge_u (local.get $i) (local.get $n)))
        (local.set $j (i32.const 0))
        (loop $words  ;; 128 i32 loads and 128 i32 stores
          (i32.store offset=512 (i32.add (local.get $p) (local.get $j))
                     (i32.add (i32.load (i32.add (local.get $p) (local.get $j))) (local.get $i)))
          (local.set $j (i32.add (local.get $j) (i32.const 4)))
          (br_if $words (i32.lt_u (local.get $j) (i32.const 512))))
        (local.set $j (i32.const 0))
        (loop $vectors  ;; 64 v128 loads
          (local.set $v (i32x4.add (local.get $v) (v128.load (i32.add (local.get $p) (local.get $j)))))
          (local.set $j (i32.add (local.get $j) (i32.const 16)))
          (br_if $vectors (i32.lt_u (local.get $j) (i32.const 1024))))
        (drop (i32.atomic.rmw.add (local.get $p) (local.get $i)))
        (memory.copy (local.get $p) (i32.add (local.get $p) (i32.const 512)) (i32.const 512))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $round)))
    (i32x4.extract_lane 0 (local.get $v)))

  ;; p, q: malloc'ed blocks of 32 bytes, c: a calloc'ed one
  (func $uninit (export "uninit") (result i32)
    (local $p i32) (local $q i32) (local $c i32) (local $r i32)
    (local.set $p (call $malloc (i32.const 32)))
    (local.set $c (call $calloc (i32.const 4) (i32.const 8)))
    (local.set $q (call $malloc (i32.const 32)))
    (i32.store (local.get $p) (i32.const 1))                                            ;; p[0..4) written
    (local.set $r (i32.load (local.get $p)))
    (local.set $r (i32.add (local.get $r) (i32.load offset=8 (local.get $p))))           ;; never written
    (local.set $r (i32.add (local.get $r) (i32.load offset=12 (local.get $c))))          ;; calloc: zeroed
    (v128.store offset=16 (local.get $p) (v128.const i32x4 1 2 3 4))                     ;; p[16..32) written
    (local.set $r (i32.add (local.get $r) (i32.wrap_i64 (i64.load offset=24 (local.get $p)))))
    (local.set $r (i32.add (local.get $r) (i32.load16_u offset=2 (local.get $p))))
    (local.set $r (i32.add (local.get $r) (i32.load offset=2 (local.get $p))))           ;; never written from byte 2
    (memory.copy (local.get $q) (local.get $p) (i32.const 32))                           ;; q's shadow = p's
    (local.set $r (i32.add (local.get $r) (i32.load offset=20 (local.get $q))))
    (local.set $r (i32.add (local.get $r) (i32.load8_u offset=13 (local.get $q))))       ;; never written (copied)
    (memory.fill (i32.add (local.get $p) (i32.const 4)) (i32.const 0) (i32.const 12))     ;; p all written
    (local.set $r (i32.add (local.get $r) (i32.wrap_i64 (i64.load offset=8 (local.get $p)))))
    (drop (i32.atomic.rmw.add offset=12 (local.get $q) (i32.const 1)))                  ;; never written; writes it
    (local.set $r (i32.add (local.get $r) (i32.load offset=8 (local.get $q))))
    (memory.init $text (i32.add (local.get $q) (i32.const 12)) (i32.const 0) (i32.const 4)) ;; q[12..16) written
    (v128.store32_lane offset=4 0 (local.get $q) (v128.const i32x4 9 9 9 9))             ;; q[4..8) written
    (local.set $r (i32.add (local.get $r) (i32.wrap_i64 (i64.load offset=0 (local.get $q)))))
    (local.set $r (i32.add (local.get $r) (i32.wrap_i64 (i64.load offset=8 (local.get $q)))))
    (call $free (local.get $p))
    (call $free (local.get $q))
    (call $free (local.get $c))
    (local.get $r))
)
