;; wbg_numbered.wat - wasm-bindgen's intrinsics under numbered names (issue 25 item 3), as wasm-bindgen 0.2.100
;; exports them in @swc/wasm 1.16.18: __wbindgen_export_0 = malloc(size, align), _1 = realloc(ptr, old, new,
;; align), _2 = the exception store (i32), _3 = free(ptr, size, align), _4 = the function table, _5 = a closure
;; invoker of free's very type (it calls through the table). Their bodies have the shapes of Rust's: malloc
;; and realloc check `Layout::from_size_align` (the alignment a power of two, by i32.popcnt; the size's bound),
;; free returns at once for size 0. No name section: wasmem must tell them apart by their code. The Rust
;; allocator behind them keeps an 8-byte header [size, state] and traps on a free of a block not live.
;; `leak(n)` allocates n bytes through the module's own malloc and keeps them (a planted leak; returns n); `churn(n)`
;; allocates, reallocates and frees (clean).
;; build: $PY -c "import wasmtime,sys; open(sys.argv[2],'wb').write(wasmtime.wat2wasm(open(sys.argv[1]).read()))" wbg_numbered.wat wbg_numbered.wasm
(module
  (import "__wbindgen_placeholder__" "__wbindgen_throw" (func (param i32 i32)))
  (type (func (param i32 i32)))
  (memory (export "memory") 2)
  (table (export "__wbindgen_export_4") 2 funcref)
  (global (mut i32) (i32.const 4096))
  (global (mut i32) (i32.const 0))
  (global (mut i32) (i32.const 0))
  (data (i32.const 1024) "capacity overflow")
  (elem (i32.const 1) 10)
  ;; 1: malloc(size) -> ptr
  (func (param i32) (result i32) (local i32)
    (local.set 1 (i32.add (global.get 0) (i32.const 8)))
    (i32.store (global.get 0) (local.get 0))
    (i32.store offset=4 (global.get 0) (i32.const 1))
    (global.set 0 (i32.and (i32.add (i32.add (local.get 1) (local.get 0)) (i32.const 15)) (i32.const -16)))
    (local.get 1))
  ;; 2: free(ptr)
  (func (param i32)
    (if (i32.ne (i32.load offset=4 (i32.sub (local.get 0) (i32.const 8))) (i32.const 1)) (then unreachable))
    (i32.store offset=4 (i32.sub (local.get 0) (i32.const 8)) (i32.const 2)))
  ;; 3: realloc(ptr, old, align, new) -> ptr
  (func (param i32 i32 i32 i32) (result i32) (local i32)
    (local.set 4 (call 1 (local.get 3)))
    (memory.copy (local.get 4) (local.get 0)
      (select (local.get 1) (local.get 3) (i32.lt_u (local.get 1) (local.get 3))))
    (call 2 (local.get 0))
    (local.get 4))
  ;; 4: memalign(align, size) -> ptr
  (func (param i32 i32) (result i32) (call 1 (local.get 1)))
  ;; 5: __wbindgen_export_0 = __wbindgen_malloc(size, align)
  (func (export "__wbindgen_export_0") (param i32 i32) (result i32)
    (block
      (br_if 0 (i32.ne (i32.popcnt (local.get 1)) (i32.const 1)))
      (br_if 0 (i32.gt_u (local.get 0) (i32.sub (i32.const -2147483648) (local.get 1))))
      (if (i32.eqz (local.get 0)) (then (return (local.get 1))))
      (return (if (result i32) (i32.gt_u (local.get 1) (i32.const 8))
        (then (call 4 (local.get 1) (local.get 0)))
        (else (call 1 (local.get 0))))))
    (call 0 (i32.const 1024) (i32.const 17))
    unreachable)
  ;; 6: __wbindgen_export_1 = __wbindgen_realloc(ptr, old, new, align)
  (func (export "__wbindgen_export_1") (param i32 i32 i32 i32) (result i32)
    (block
      (br_if 0 (i32.ne (i32.popcnt (local.get 3)) (i32.const 1)))
      (br_if 0 (i32.gt_u (local.get 1) (i32.sub (i32.const -2147483648) (local.get 3))))
      (return (call 3 (local.get 0) (local.get 1) (local.get 3) (local.get 2))))
    unreachable)
  ;; 7: __wbindgen_export_2 = __wbindgen_exn_store(idx)
  (func (export "__wbindgen_export_2") (param i32) (global.set 1 (local.get 0)))
  ;; 8: __wbindgen_export_3 = __wbindgen_free(ptr, size, align)
  (func (export "__wbindgen_export_3") (param i32 i32 i32)
    (block
      (br_if 0 (i32.eqz (local.get 1)))
      (call 2 (local.get 0))))
  ;; 9: __wbindgen_export_5: a closure invoker (a, b, arg), free's type, through the table
  (func (export "__wbindgen_export_5") (param i32 i32 i32)
    (block (br_if 0 (local.get 0)) (call 0 (i32.const 1024) (i32.const 17)) unreachable)
    (call_indirect (type 0) (local.get 0) (local.get 2) (i32.load offset=16 (local.get 1))))
  (func (param i32 i32))
  ;; leak(n): n bytes kept for ever
  (func (export "leak") (param i32) (result i32)
    (global.set 2 (call 1 (local.get 0)))
    (local.get 0))
  ;; churn(n): allocate, grow, free
  (func (export "churn") (param i32) (result i32) (local i32)
    (local.set 1 (call 3 (call 1 (i32.const 8)) (i32.const 8) (i32.const 1) (local.get 0)))
    (call 2 (local.get 1))
    (local.get 0))
)
