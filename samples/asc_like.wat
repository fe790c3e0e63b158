;; asc_like.wat - AssemblyScript-like (stub runtime): global 0 is a mutable i32 that is NOT a
;; stack pointer but the heap offset (like ~lib/rt/stub/offset; unnamed here), initialised
;; to the end of static data (1068 rounded up to 1072) and only ever INCREMENTED by __new
;; (global.get 0; local.get; i32.add; global.set 0), never with the sub/set prologue.
;; It must not be detected as a stack pointer. Data at 1036 and 1052 (AS-style object
;; headers before strings). Memory 1 page, exported as "memory".
;; build: $PY -c "import wasmtime,sys; open(sys.argv[2],'wb').write(wasmtime.wat2wasm(open(sys.argv[1]).read()))" asc_like.wat asc_like.wasm
(module
  (memory (export "memory") 1)
  (global (mut i32) (i32.const 1072))
  (global $~lib/memory/__data_end i32 (i32.const 1068))
  ;; "hi" as a UTF-16 string with a 16-byte-ish object header (rtId=2, rtSize=4)
  (data (i32.const 1036) "\1c\00\00\00\00\00\00\00\00\00\00\00\02\00\00\00\04\00\00\00h\00i\00")
  (data (i32.const 1064) "\2a\00\00\00")
  ;; bump allocator: returns old offset + 16 (payload), moves offset by align16(size + 16)
  (func $~lib/rt/stub/__new (export "__new") (param $size i32) (param $id i32) (result i32)
    (local $ptr i32) (local $new i32)
    global.get 0
    local.tee $ptr
    local.get $size
    i32.const 31
    i32.add
    i32.const -16
    i32.and
    i32.add
    local.tee $new
    memory.size
    i32.const 16
    i32.shl
    i32.gt_u
    if
      (drop (memory.grow (i32.const 1)))
    end
    local.get $new
    global.set 0
    local.get $ptr
    local.get $id
    i32.store offset=12
    local.get $ptr
    local.get $size
    i32.store offset=16
    local.get $ptr
    i32.const 16
    i32.add)
  (func $~lib/rt/stub/__reset (export "__reset")
    i32.const 1072
    global.set 0)
  (func $assembly/index/add (export "add") (param i32 i32) (result i32)
    local.get 0
    local.get 1
    i32.add)
  (func $assembly/index/heapTop (export "heapTop") (result i32)
    global.get 0)
)
