;; snapshot.wat - a pre-initialised (snapshot) module, shaped like Wizer's output for a stack-first
;; build with a 16 MiB stack (Zig wasi's default): Wizer ran the initialiser, then wrote every non-zero
;; run of memory back as active data. So besides .rodata/.data at the stack's top (0x1000000) and the
;; heap objects made during initialisation, the data covers parts of the stack region [0, 0x1000000):
;; the frames the initialiser left behind — one run merged with the first .rodata bytes (Wizer merges
;; runs separated by small gaps), one deeper. These are pre-initialised stack contents: the stack is
;; still [0, 0x1000000) = 16 MiB, not "overlap", and `check` passes it.
;; build: $PY -c "import wasmtime,sys; open(sys.argv[2],'wb').write(wasmtime.wat2wasm(open(sys.argv[1]).read()))" snapshot.wat snapshot.wasm
(module
  (memory (export "memory") 257 512)
  (global $__stack_pointer (mut i32) (i32.const 0x1000000))
  ;; clang's -O2 prologue/epilogue: a 32-byte frame
  (func $frame (export "frame") (param i32) (result i32) (local i32)
    global.get $__stack_pointer i32.const 32 i32.sub local.tee 1 global.set $__stack_pointer
    local.get 1 local.get 0 i32.store
    local.get 1 i32.load
    i32.const 1 i32.add
    local.get 1 i32.const 32 i32.add global.set $__stack_pointer)
  (func (export "read") (param i32) (result i32) local.get 0 i32.load)
  (func (export "sp") (result i32) global.get $__stack_pointer)
  ;; an old, deeper frame left by the initialiser
  (data (i32.const 0xFFF000) "\de\ad\be\ef\00\00\00\00\10\00\00\01")
  ;; the initialiser's last frames (0xFFFFC0..0x1000000), merged with .rodata (0x1000000..)
  (data (i32.const 0xFFFFC0)
    "\01\00\00\00\02\00\00\00\03\00\00\00\04\00\00\00\00\00\00\00\00\00\00\00\00\00\00\00\00\00\00\00"
    "\00\00\00\00\00\00\00\00\00\00\00\00\2a\00\00\00\00\00\00\00\00\00\00\00\c0\ff\ff\00\00\00\00\00"
    "config v1\00\00\00\00\00\00\00")
  ;; .data
  (data (i32.const 0x1000020) "\01\00\00\00\00\00\00\01\07\00\00\00")
  ;; a heap object allocated during initialisation
  (data (i32.const 0x1000100) "\10\00\00\00hello\00"))
