;; renamed.wat - Emscripten-like minified module WITHOUT any names: memory exported as "ra",
;; functions exported as "sa"/"ta"/"ua", a mutable i32 global 0 that is a C-style stack pointer
;; (data-first: data at 1024..1060, SP initial 66608 = align16(1060) + 65536) used with the
;; prologue pattern global.get 0; i32.const N; i32.sub; local.tee; global.set 0 in three
;; functions (one at -O0 style through locals), plus an immutable global 1 (heap base 66608).
;; No $identifiers are used, so the binary has no name section.
;; build: $PY -c "import wasmtime,sys; open(sys.argv[2],'wb').write(wasmtime.wat2wasm(open(sys.argv[1]).read()))" renamed.wat renamed.wasm
(module
  (type (func (param i32) (result i32)))
  (type (func (result i32)))
  (memory 2 32768)
  (global (mut i32) (i32.const 66608))
  (global i32 (i32.const 66608))
  (export "ra" (memory 0))
  (export "sa" (func 0))
  (export "ta" (func 1))
  (export "ua" (func 2))
  (export "va" (func 3))
  (data (i32.const 1024) "minified module data\00")
  (data (i32.const 1048) "\01\00\00\00\02\00\00\00\03\00\00\00")
  ;; func 0: 16-byte frame, -O2 style (local.tee)
  (func (type 0) (local i32)
    global.get 0
    i32.const 16
    i32.sub
    local.tee 1
    global.set 0
    local.get 1
    local.get 0
    i32.store offset=12
    local.get 1
    i32.load offset=12
    i32.const 1
    i32.add
    local.get 1
    i32.const 16
    i32.add
    global.set 0)
  ;; func 1: 48-byte frame, calls func 0
  (func (type 0) (local i32)
    global.get 0
    i32.const 48
    i32.sub
    local.tee 1
    global.set 0
    local.get 1
    local.get 0
    call 0
    i32.store offset=40
    local.get 1
    i32.load offset=40
    local.get 1
    i32.const 48
    i32.add
    global.set 0)
  ;; func 2: -O0 style, SP passes through locals (local.set/local.get, no tee)
  (func (type 0) (local i32 i32 i32)
    global.get 0
    local.set 1
    i32.const 32
    local.set 2
    local.get 1
    local.get 2
    i32.sub
    local.set 3
    local.get 3
    global.set 0
    local.get 3
    local.get 0
    i32.store offset=28
    local.get 3
    i32.load offset=28
    call 1
    local.get 3
    i32.const 32
    i32.add
    global.set 0)
  ;; func 3: returns the heap base (global 1)
  (func (type 1)
    global.get 1)
)
