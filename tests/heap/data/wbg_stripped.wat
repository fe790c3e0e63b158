;; wbg_stripped.wat - the allocator side of a stripped wasm-bindgen build (issue 15): no name section,
;; Rust's allocator (dlmalloc) unnamed behind wasm-bindgen's exported shims, as rustc + wasm-bindgen +
;; wasm-opt leave it: __wbindgen_malloc(size, align) calls malloc(size) or memalign(align, size),
;; __wbindgen_free(ptr, size, align) calls free(ptr) when size is not 0, __wbindgen_realloc(ptr, old, new,
;; align) calls Rust's realloc(ptr, old, align, new). The allocator keeps an 8-byte header [size, state]
;; and traps on a free of a block that is not live (a double free corrupts a real dlmalloc heap).
;; `take(ptr, len)` owns its string argument and frees it (a Rust `&str` argument's Box<str>), `greet(ptr,
;; len)` returns a new ("Hello, " + arg) as (ptr, len) and frees its argument, `grow(n)` allocates 8 bytes
;; and reallocates them to n (the module's own calls, not through the exports); `inlined()` allocates with
;; malloc's code inlined (as LTO inlines a shim) and frees the block with the allocator's free.
;; build: $PY -c "import wasmtime,sys; open(sys.argv[2],'wb').write(wasmtime.wat2wasm(open(sys.argv[1]).read()))" wbg_stripped.wat wbg_stripped.wasm
(module
  (memory (export "memory") 2)
  (global (mut i32) (i32.const 4096))
  (data (i32.const 1024) "Hello, ")
  ;; 0: malloc(size) -> ptr
  (func (param i32) (result i32) (local i32)
    (local.set 1 (i32.add (global.get 0) (i32.const 8)))
    (i32.store (global.get 0) (local.get 0))
    (i32.store offset=4 (global.get 0) (i32.const 1))
    (global.set 0 (i32.and (i32.add (i32.add (local.get 1) (local.get 0)) (i32.const 15)) (i32.const -16)))
    (local.get 1))
  ;; 1: free(ptr)
  (func (param i32)
    (if (i32.ne (i32.load offset=4 (i32.sub (local.get 0) (i32.const 8))) (i32.const 1)) (then unreachable))
    (i32.store offset=4 (i32.sub (local.get 0) (i32.const 8)) (i32.const 2)))
  ;; 2: realloc(ptr, old, align, new) -> ptr
  (func (param i32 i32 i32 i32) (result i32) (local i32)
    (local.set 4 (call 0 (local.get 3)))
    (memory.copy (local.get 4) (local.get 0)
      (select (local.get 1) (local.get 3) (i32.lt_u (local.get 1) (local.get 3))))
    (call 1 (local.get 0))
    (local.get 4))
  ;; 3: memalign(align, size) -> ptr
  (func (param i32 i32) (result i32) (call 0 (local.get 1)))
  ;; 4: __wbindgen_malloc(size, align)
  (func (export "__wbindgen_malloc") (param i32 i32) (result i32)
    (if (result i32) (i32.gt_u (local.get 1) (i32.const 8))
      (then (call 3 (local.get 1) (local.get 0)))
      (else (call 0 (local.get 0)))))
  ;; 5: __wbindgen_free(ptr, size, align)
  (func (export "__wbindgen_free") (param i32 i32 i32)
    (if (local.get 1) (then (call 1 (local.get 0)))))
  ;; 6: __wbindgen_realloc(ptr, old, new, align)
  (func (export "__wbindgen_realloc") (param i32 i32 i32 i32) (result i32)
    (call 2 (local.get 0) (local.get 1) (local.get 3) (local.get 2)))
  ;; 7: take(ptr, len) -> len
  (func (export "take") (param i32 i32) (result i32)
    (call 1 (local.get 0))
    (local.get 1))
  ;; 8: greet(ptr, len) -> (ptr, len)
  (func (export "greet") (param i32 i32) (result i32 i32) (local i32)
    (local.set 2 (call 0 (i32.add (local.get 1) (i32.const 7))))
    (memory.copy (local.get 2) (i32.const 1024) (i32.const 7))
    (memory.copy (i32.add (local.get 2) (i32.const 7)) (local.get 0) (local.get 1))
    (call 1 (local.get 0))
    (local.get 2) (i32.add (local.get 1) (i32.const 7)))
  ;; 9: grow(n) -> the block
  (func (export "grow") (param i32) (result i32)
    (call 2 (call 0 (i32.const 8)) (i32.const 8) (i32.const 1) (local.get 0)))
  ;; 10: inlined() -> a block allocated by malloc's inlined code, then freed through free
  (func (export "inlined") (result i32) (local i32)
    (local.set 0 (i32.add (global.get 0) (i32.const 8)))
    (i32.store (global.get 0) (i32.const 16))
    (i32.store offset=4 (global.get 0) (i32.const 1))
    (global.set 0 (i32.add (local.get 0) (i32.const 16)))
    (call 1 (local.get 0))
    (local.get 0))
)
