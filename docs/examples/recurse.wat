;; A function that calls itself forever without touching linear memory: every frame lives on the
;; engine's own call stack (locals and operands), so it ends in "call stack exhausted", not in an
;; out-of-bounds access. Used by docs/troubleshooting.md and docs/memory-model.md.
(module
  (memory (export "memory") 1)
  (func $down (export "down") (param $n i32) (result i32)
    (call $down (i32.add (local.get $n) (i32.const 1)))))
