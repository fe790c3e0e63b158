;; nomemory.wat - a module with no memory at all (no memory section, no memory import).
;; wasmem must report "no linear memory" rather than fail.
;; build: $PY -c "import wasmtime,sys; open(sys.argv[2],'wb').write(wasmtime.wat2wasm(open(sys.argv[1]).read()))" nomemory.wat nomemory.wasm
(module
  (global $counter (mut i32) (i32.const 0))
  (func $add (export "add") (param i32 i32) (result i32)
    local.get 0
    local.get 1
    i32.add)
  (func $bump (export "bump") (result i32)
    global.get $counter
    i32.const 1
    i32.add
    global.set $counter
    global.get $counter)
)
