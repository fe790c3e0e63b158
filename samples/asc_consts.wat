;; asc_consts.wat - AssemblyScript-like exports of immutable i32 globals. AssemblyScript exports
;; `export const` values as globals: most are sizes, page counts, class ids and versions, not
;; addresses, and must never label memory (once they did: `<BLOCK_SIZE+0x10>` for an address in the
;; data, `→ 53 <ARRAY_LENGTH+0x25>`). Two are pointers into the static data (`greeting`, `tablePtr`)
;; and do label it.
;;   value:   ARRAY_LENGTH 16, PAGES 2, CLASS_ID 4 (named like sizes/ids); BLOCK_SIZE 1024 (named like
;;            a size though it equals the first data address); VERSION 0x10203 (past the memory);
;;            ODD 1037 (inside the data but not aligned); small 8 (below the data)
;;   address: greeting 1040 (a UTF-16 string in data segment 0), tablePtr 1072 (data segment 1)
;; build: $PY -c "import wasmtime,sys; open(sys.argv[2],'wb').write(wasmtime.wat2wasm(open(sys.argv[1]).read()))" asc_consts.wat asc_consts.wasm
(module
  (memory (export "memory") 1)
  (global (mut i32) (i32.const 1104))
  (global (export "ARRAY_LENGTH") i32 (i32.const 16))
  (global (export "PAGES") i32 (i32.const 2))
  (global (export "CLASS_ID") i32 (i32.const 4))
  (global (export "BLOCK_SIZE") i32 (i32.const 1024))
  (global (export "VERSION") i32 (i32.const 0x10203))
  (global (export "ODD") i32 (i32.const 1037))
  (global (export "small") i32 (i32.const 8))
  (global (export "greeting") i32 (i32.const 1040))
  (global (export "tablePtr") i32 (i32.const 1072))
  ;; an AS-style object header, then "hi!" as UTF-16 at 1040
  (data (i32.const 1024) "\1c\00\00\00\00\00\00\00\00\00\00\00\02\00\00\00h\00i\00!\00\00\00")
  ;; a table of three pointers into the data (1040, 1024, 1088) and a count 53
  (data (i32.const 1072) "\10\04\00\00\00\04\00\00\40\04\00\00\35\00\00\00\2a\00\00\00\00\00\00\00")
  (func (export "get_greeting") (result i32) global.get 8)
  (func (export "read") (param i32) (result i32) local.get 0 i32.load)
  (func (export "length") (result i32) global.get 1))
