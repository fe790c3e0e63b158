"""The call-path pass: a shadow stack of function indices that every way out of a function unwinds."""

import pytest
from conftest import wat

from wasmem.instrument import WatchPass, rewrite
from wasmem.instrument.callpath import CallPathPass

wasmtime = pytest.importorskip("wasmtime")

TEXT = r'''(module
  (type $pair (func (result i32 i64)))
  (memory (export "memory") 1)
  (func $leaf (param i32) (result i32)
    (i32.store (i32.const 0x100) (local.get 0))       ;; the watched write
    (local.get 0))
  (func $early (param i32) (result i32)
    (if (local.get 0) (then (return (call $leaf (i32.const 7)))))
    (i32.const 0))
  (func $branchy (param i32) (result i32)
    (br_if 0 (i32.const 5) (local.get 0))              ;; leaves the function through its own label
    (drop) (call $leaf (i32.const 9)))
  (func $tail (param i32) (result i32) (return_call $leaf (local.get 0)))
  (func $multi (type $pair) (call $leaf (i32.const 3)) (i64.const 4))
  (func (export "run") (param $k i32) (result i32)
    (block $b (result i32)
      (br_if $b (call $early (i32.const 1)) (i32.eq (local.get $k) (i32.const 0)))
      (drop)
      (br_if $b (call $branchy (i32.const 0)) (i32.eq (local.get $k) (i32.const 1)))
      (drop)
      (br_if $b (call $tail (i32.const 11)) (i32.eq (local.get $k) (i32.const 2)))
      (drop)
      (drop (call $multi))))
)'''


def run(k: int):
    cp, wp = CallPathPass(), WatchPass(1)
    data = rewrite(wat(TEXT), [cp, wp]).data
    engine = wasmtime.Engine()
    store = wasmtime.Store(engine)
    ex = wasmtime.Instance(store, wasmtime.Module(engine, data), []).exports(store)
    paths = []

    def hook(site, addr, size, v0, v1):
        depth = ex["__wasmem_callpath_depth"].value(store)
        raw = ex["__wasmem_callpath"].read(store, 0, 4 * depth)
        paths.append([int.from_bytes(raw[4 * i:4 * i + 4], "little") for i in range(depth)])

    ty = wasmtime.FuncType([wasmtime.ValType.i32()] + [wasmtime.ValType.i64()] * 4, [])
    ex["__wasmem_watch_hook"].set(store, 0, wasmtime.Func(store, ty, hook))
    ex["__wasmem_watch_lo"].set_value(store, 0x100 - 15)
    ex["__wasmem_watch_span"].set_value(store, 32)
    ex["__wasmem_watch_lo_0"].set_value(store, 0x100)
    ex["__wasmem_watch_hi_0"].set_value(store, 0x104)
    r = ex["run"](store, k)
    return r, paths, ex["__wasmem_callpath_depth"].value(store)


LEAF, EARLY, BRANCHY, TAIL, MULTI, RUN = range(6)


@pytest.mark.parametrize("k, result, path", [
    (0, 7, [RUN, EARLY, LEAF]),                   # return from inside an if
    (1, 9, [RUN, BRANCHY, LEAF]),                 # br_if 0 not taken, then a call
    (2, 11, [RUN, LEAF]),                         # a tail call replaces $tail's frame
    (3, 3, [RUN, MULTI, LEAF]),                   # a function with two results is wrapped in a typed block
])
def test_every_way_out_unwinds_the_shadow_stack(k, result, path):
    r, paths, depth = run(k)
    assert r == result
    assert paths[-1] == path
    assert depth == 0  # back where the call started, whichever way each function left


def test_a_branch_to_the_function_label_restores_the_depth():
    # branchy(1) leaves by `br_if 0` before calling anything; run(1) calls branchy(0), so test it directly
    text = TEXT.replace('(call $branchy (i32.const 0))', '(call $branchy (i32.const 1))')
    cp, wp = CallPathPass(), WatchPass(1)
    data = rewrite(wat(text), [cp, wp]).data
    store = wasmtime.Store(wasmtime.Engine())
    ex = wasmtime.Instance(store, wasmtime.Module(store.engine, data), []).exports(store)
    ex["__wasmem_watch_hook"].set(store, 0, wasmtime.Func(
        store, wasmtime.FuncType([wasmtime.ValType.i32()] + [wasmtime.ValType.i64()] * 4, []), lambda *a: None))
    assert ex["run"](store, 1) == 5
    assert ex["__wasmem_callpath_depth"].value(store) == 0


def test_the_results_are_unchanged():
    plain = wasmtime.Store(wasmtime.Engine())
    pex = wasmtime.Instance(plain, wasmtime.Module(plain.engine, wat(TEXT)), []).exports(plain)
    for k in range(4):
        assert run(k)[0] == pex["run"](plain, k)


def test_a_multi_value_function_in_a_module_of_many_types_keeps_a_valid_block_type():
    """The wrapping block of a function with several results names a type index, an s33: from 64 on it takes
    two bytes (a one-byte uleb of 64..127 reads as a negative value type and the module did not validate)."""
    types = "\n".join(f"  (type (func (param {' '.join(['i32'] * (k % 7 + 1))}) (result {'f32 ' * (k // 7 + 1)})))"
                      for k in range(70))
    text = f"""(module
{types}
  (memory 1)
  (func (export "pair") (result i32 i64) (i32.const 1) (i64.const 2)))"""
    data = wat(text)
    cp = CallPathPass()
    out = rewrite(data, [cp]).data
    inst = wasmtime.Instance(store := wasmtime.Store(), wasmtime.Module(store.engine, out), [])
    assert inst.exports(store)["pair"](store) == [1, 2]
