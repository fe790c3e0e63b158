;; rust_heap.wat - a Rust-style heap (issue 15): the allocator shims `__rust_alloc` → `__rdl_alloc`,
;; `__rust_dealloc`, `__rust_realloc`, `__rust_alloc_zeroed` as rustc names them (found by the name section;
;; none is exported), over a first-fit free list of 16-byte-aligned chunks with an 8-byte header. `leak`
;; leaks one 40-byte Vec buffer per call; `clean` allocates, grows and frees; `bad_size` deallocates with the
;; wrong size (a Rust bug class: a Layout that differs from the allocation's); `twice` deallocates twice.
;; build: $PY -c "import wasmtime,sys; open(sys.argv[2],'wb').write(wasmtime.wat2wasm(open(sys.argv[1]).read()))" rust_heap.wat rust_heap.wasm
(module
  (memory (export "memory") 2)
  (global $__stack_pointer (mut i32) (i32.const 65536))
  (global $top (mut i32) (i32.const 70000))   ;; bump pointer of the arena
  (global $free_list (mut i32) (i32.const 0)) ;; freed chunks: [size, next] headers
  (global $kept (mut i32) (i32.const 0))
  ;; chunk = 8-byte header (size rounded up to 16) then the payload; a freed chunk keeps its size and links
  (func $__rdl_alloc (param $size i32) (param $align i32) (result i32)
    (local $need i32) (local $p i32) (local $prev i32)
    (local.set $need (i32.and (i32.add (local.get $size) (i32.const 15)) (i32.const -16)))
    (local.set $p (global.get $free_list))
    (block $done
      (loop $walk
        (br_if $done (i32.eqz (local.get $p)))
        (if (i32.eq (i32.load (local.get $p)) (local.get $need))
          (then
            (if (local.get $prev)
              (then (i32.store offset=4 (local.get $prev) (i32.load offset=4 (local.get $p))))
              (else (global.set $free_list (i32.load offset=4 (local.get $p)))))
            (return (i32.add (local.get $p) (i32.const 8)))))
        (local.set $prev (local.get $p))
        (local.set $p (i32.load offset=4 (local.get $p)))
        (br $walk)))
    (local.set $p (global.get $top))
    (i32.store (local.get $p) (local.get $need))
    (global.set $top (i32.add (local.get $p) (i32.add (local.get $need) (i32.const 8))))
    (i32.add (local.get $p) (i32.const 8)))
  (func $__rdl_dealloc (param $ptr i32) (param $size i32) (param $align i32)
    (local $h i32)
    (local.set $h (i32.sub (local.get $ptr) (i32.const 8)))
    (i32.store offset=4 (local.get $h) (global.get $free_list))
    (global.set $free_list (local.get $h)))
  (func $__rust_alloc (param i32 i32) (result i32) (call $__rdl_alloc (local.get 0) (local.get 1)))
  (func $__rust_dealloc (param i32 i32 i32) (call $__rdl_dealloc (local.get 0) (local.get 1) (local.get 2)))
  (func $__rust_alloc_zeroed (param $size i32) (param $align i32) (result i32)
    (local $p i32)
    (local.set $p (call $__rdl_alloc (local.get $size) (local.get $align)))
    (memory.fill (local.get $p) (i32.const 0) (local.get $size))
    (local.get $p))
  (func $__rust_realloc (param $ptr i32) (param $old i32) (param $align i32) (param $new i32) (result i32)
    (local $p i32)
    (local.set $p (call $__rust_alloc (local.get $new) (local.get $align)))
    (memory.copy (local.get $p) (local.get $ptr) (local.get $old))
    (call $__rust_dealloc (local.get $ptr) (local.get $old) (local.get $align))
    (local.get $p))
  (func $leak (export "leak") (param $n i32) (result i32)
    (local $v i32)
    (local.set $v (call $__rust_alloc (i32.const 40) (i32.const 8)))   ;; the leaked Vec buffer
    (i32.store (local.get $v) (local.get $n))
    (global.set $kept (local.get $v))
    (i32.load (local.get $v)))
  (func $clean (export "clean") (param $n i32) (result i32)
    (local $a i32) (local $b i32)
    (local.set $a (call $__rust_alloc_zeroed (i32.const 24) (i32.const 4)))
    (local.set $b (call $__rust_alloc (i32.const 8) (i32.const 4)))
    (i32.store (local.get $b) (local.get $n))
    (local.set $b (call $__rust_realloc (local.get $b) (i32.const 8) (i32.const 4) (i32.const 64)))
    (i32.store offset=4 (local.get $a) (i32.load (local.get $b)))
    (call $__rust_dealloc (local.get $b) (i32.const 64) (i32.const 4))
    (local.set $n (i32.load offset=4 (local.get $a)))
    (call $__rust_dealloc (local.get $a) (i32.const 24) (i32.const 4))
    (local.get $n))
  (func $bad_size (export "bad_size") (result i32)
    (local $a i32)
    (local.set $a (call $__rust_alloc (i32.const 32) (i32.const 8)))
    (call $__rust_dealloc (local.get $a) (i32.const 16) (i32.const 8))   ;; frees 32 bytes as 16
    (i32.const 0))
  (func $twice (export "twice") (result i32)
    (local $a i32)
    (local.set $a (call $__rust_alloc (i32.const 12) (i32.const 4)))
    (call $__rust_dealloc (local.get $a) (i32.const 12) (i32.const 4))
    (return_call $__rust_dealloc_i (local.get $a)))
  (func $__rust_dealloc_i (param $a i32) (result i32)
    (call $drop_tail (local.get $a))
    (i32.const 0))
  (func $drop_tail (param $a i32)   ;; a tail call of the allocator: rewritten to a tail call of its wrapper
    (return_call $__rust_dealloc (local.get $a) (i32.const 12) (i32.const 4)))
)
