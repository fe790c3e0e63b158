;; asc_heap.wat - an AssemblyScript-style heap (issue 15) with the interface of AssemblyScript 0.27's
;; incremental runtime (itcms) as `asc --runtime incremental --exportRuntime` builds it: its names, object
;; layout and call structure (checked against such a build), not its code.
;; - `__new(size, id)` (= `~lib/rt/itcms/__new`) asks `~lib/rt/tlsf/__alloc(16 + size)` for a block; the
;;   object's header starts 4 bytes before the block (`obj`: mmInfo, next, prev, rtId, rtSize) and the
;;   object's pointer is obj + 20.
;; - The collector frees an object with `~lib/rt/itcms/free(obj)`, which calls `~lib/rt/tlsf/__free(obj + 4)`.
;;   It runs inside `__new` when `total` reaches `threshold` (`~lib/rt/itcms/interrupt`), or from `__collect`.
;; - `__renew(ptr, size)` resizes in place when the block is large enough, else makes a new object and copies;
;;   the old one stays until the collector frees it.
;; This collector is a stand-in: it frees every object that is neither pinned (`__pin`, kept in the header's
;; `prev` field here) nor the array `keep` grows nor held by it. The memory manager is a bump allocator.
;; `keep` keeps a 12-byte object per call in that array; `temp` makes a 32-byte object it drops at once;
;; `churn(n)` makes n of those, so the collector runs inside `__new`.
;; build: $PY -c "import wasmtime,sys; open(sys.argv[2],'wb').write(wasmtime.wat2wasm(open(sys.argv[1]).read()))" asc_heap.wat asc_heap.wasm
(module
  (memory (export "memory") 4)
  (global $~lib/memory/__heap_base i32 (i32.const 1024))
  (global $top (mut i32) (i32.const 1024))
  (global $objs (mut i32) (i32.const 0))
  (global $total (mut i32) (i32.const 0))
  (global $threshold (mut i32) (i32.const 1024))
  (global $arr (mut i32) (i32.const 0))
  (global $len (mut i32) (i32.const 0))
  (func $~lib/rt/tlsf/__alloc (param $size i32) (result i32)
    (local $p i32)
    (local.set $p (i32.add (global.get $top) (i32.const 4)))
    (global.set $top
      (i32.and (i32.add (i32.add (local.get $p) (local.get $size)) (i32.const 15)) (i32.const -16)))
    (if (i32.gt_u (global.get $top) (i32.const 262144)) (then unreachable))
    (i32.store (i32.sub (local.get $p) (i32.const 4)) (i32.sub (global.get $top) (local.get $p)))  ;; mmInfo
    (local.get $p))
  (func $~lib/rt/tlsf/__free (param $ptr i32)
    (if (i32.lt_u (local.get $ptr) (global.get $~lib/memory/__heap_base)) (then return))
    (i32.store (i32.sub (local.get $ptr) (i32.const 4)) (i32.const 1)))  ;; mmInfo: free
  (func $~lib/rt/itcms/free (param $obj i32)
    (global.set $total (i32.sub (global.get $total) (i32.load (local.get $obj))))
    (call $~lib/rt/tlsf/__free (i32.add (local.get $obj) (i32.const 4))))
  (func $held (param $obj i32) (result i32)
    (local $ptr i32) (local $i i32)
    (local.set $ptr (i32.add (local.get $obj) (i32.const 20)))
    (if (i32.load offset=8 (local.get $obj)) (then (return (i32.const 1))))
    (if (i32.eq (local.get $ptr) (global.get $arr)) (then (return (i32.const 1))))
    (block $done (loop $scan
      (br_if $done (i32.ge_u (local.get $i) (global.get $len)))
      (if (i32.eq (i32.load (i32.add (global.get $arr) (i32.shl (local.get $i) (i32.const 2)))) (local.get $ptr))
        (then (return (i32.const 1))))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br $scan)))
    (i32.const 0))
  (func $~lib/rt/itcms/__collect (export "__collect")
    (local $prev i32) (local $o i32) (local $next i32)
    (local.set $o (global.get $objs))
    (block $done (loop $walk
      (br_if $done (i32.eqz (local.get $o)))
      (local.set $next (i32.load offset=4 (local.get $o)))
      (if (call $held (local.get $o))
        (then (local.set $prev (local.get $o)))
        (else
          (if (local.get $prev)
            (then (i32.store offset=4 (local.get $prev) (local.get $next)))
            (else (global.set $objs (local.get $next))))
          (call $~lib/rt/itcms/free (local.get $o))))
      (local.set $o (local.get $next))
      (br $walk))))
  (func $~lib/rt/itcms/interrupt
    (call $~lib/rt/itcms/__collect)
    (global.set $threshold (i32.add (global.get $total) (i32.const 1024))))
  (func $~lib/rt/itcms/__new (export "__new") (param $size i32) (param $id i32) (result i32)
    (local $obj i32) (local $ptr i32)
    (if (i32.ge_u (global.get $total) (global.get $threshold)) (then (call $~lib/rt/itcms/interrupt)))
    (local.set $obj (i32.sub (call $~lib/rt/tlsf/__alloc (i32.add (i32.const 16) (local.get $size))) (i32.const 4)))
    (i32.store offset=12 (local.get $obj) (local.get $id))
    (i32.store offset=16 (local.get $obj) (local.get $size))
    (i32.store offset=8 (local.get $obj) (i32.const 0))
    (i32.store offset=4 (local.get $obj) (global.get $objs))
    (global.set $objs (local.get $obj))
    (global.set $total (i32.add (global.get $total) (i32.load (local.get $obj))))
    (local.set $ptr (i32.add (local.get $obj) (i32.const 20)))
    (memory.fill (local.get $ptr) (i32.const 0) (local.get $size))
    (local.get $ptr))
  (func $~lib/rt/itcms/__renew (export "__renew") (param $oldPtr i32) (param $size i32) (result i32)
    (local $oldObj i32) (local $newPtr i32) (local $old i32)
    (local.set $oldObj (i32.sub (local.get $oldPtr) (i32.const 20)))
    (if (i32.le_u (local.get $size) (i32.sub (i32.load (local.get $oldObj)) (i32.const 16)))
      (then
        (i32.store offset=16 (local.get $oldObj) (local.get $size))
        (return (local.get $oldPtr))))
    (local.set $newPtr (call $~lib/rt/itcms/__new (local.get $size) (i32.load offset=12 (local.get $oldObj))))
    (local.set $old (i32.load offset=16 (local.get $oldObj)))
    (memory.copy (local.get $newPtr) (local.get $oldPtr)
      (select (local.get $size) (local.get $old) (i32.lt_u (local.get $size) (local.get $old))))
    (local.get $newPtr))
  (func $~lib/rt/itcms/__pin (export "__pin") (param $ptr i32) (result i32)
    (i32.store offset=8 (i32.sub (local.get $ptr) (i32.const 20)) (i32.const 1))
    (local.get $ptr))
  (func $~lib/rt/itcms/__unpin (export "__unpin") (param $ptr i32)
    (i32.store offset=8 (i32.sub (local.get $ptr) (i32.const 20)) (i32.const 0)))
  (func $keep (export "keep") (param $v i32) (result i32)
    (local $o i32)
    ;; the array first (growing it may run the collector), then the object, held at once
    (if (i32.eqz (global.get $arr))
      (then (global.set $arr (call $~lib/rt/itcms/__new (i32.const 4) (i32.const 4))))
      (else (global.set $arr (call $~lib/rt/itcms/__renew (global.get $arr)
                               (i32.shl (i32.add (global.get $len) (i32.const 1)) (i32.const 2))))))
    (local.set $o (call $~lib/rt/itcms/__new (i32.const 12) (i32.const 3)))
    (i32.store (local.get $o) (local.get $v))
    (i32.store (i32.add (global.get $arr) (i32.shl (global.get $len) (i32.const 2))) (local.get $o))
    (global.set $len (i32.add (global.get $len) (i32.const 1)))
    (global.get $len))
  (func $temp (export "temp") (param $v i32) (result i32)
    (local $o i32)
    (local.set $o (call $~lib/rt/itcms/__new (i32.const 32) (i32.const 5)))
    (i32.store (local.get $o) (local.get $v))
    (i32.load (local.get $o)))
  (func $churn (export "churn") (param $n i32) (result i32)
    (local $s i32)
    (block $done (loop $more
      (br_if $done (i32.eqz (local.get $n)))
      (local.set $s (i32.add (local.get $s) (call $temp (local.get $n))))
      (local.set $n (i32.sub (local.get $n) (i32.const 1)))
      (br $more)))
    (local.get $s))
)
