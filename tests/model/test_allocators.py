"""Allocator discovery (issue 15, item 1): by export, name section and DWARF names, accepted only with the
signature the convention has; `--allocator ALLOC[,FREE]` for stripped or custom allocators; inspect shows it."""

from __future__ import annotations

import json

import pytest
from conftest import sample, wat

from wasmem.api import load_module
from wasmem.cli.main import main
from wasmem.model.allocators import find_allocators
from wasmem.parser import WasmModule


def roles(a):
    return {(f.name, f.role, f.family, f.found_by) for f in a.functions}


def test_the_samples_toolchain_allocators():
    bg = find_allocators(load_module(sample("hosts-wasm-bindgen.wasm")))
    assert roles(bg) == {("__wbindgen_malloc", "aligned_alloc", "wasm-bindgen", "export"),
                         ("__wbindgen_free", "free", "wasm-bindgen", "export")} and bg.complete
    asc = find_allocators(load_module(sample("hosts-assemblyscript.wasm")))
    assert ("__new", "alloc", "assemblyscript", "export") in roles(asc)
    assert any("garbage collector" in n for n in asc.notes)
    assert not find_allocators(load_module(sample("memdemo.wasm"))).functions  # its own allocate/deallocate


C_LIKE = """(module (memory 1)
  (func $malloc (export "malloc") (param i32) (result i32) (local.get 0))
  (func $free (export "free") (param i32))
  (func $calloc (param i32 i32) (result i32) (i32.const 0))
  (func $realloc (param i32 i32) (result i32) (i32.const 0))
  (func $posix_memalign (param i32 i32 i32) (result i32) (i32.const 0))
  (func $__rust_alloc (param i32 i32) (result i32) (i32.const 0))
  (func $__rust_dealloc (param i32 i32 i32))
  (func $bogus_free (export "dlfree") (param f64)))"""


def test_exports_and_the_name_section_with_their_signatures():
    a = find_allocators(WasmModule.from_bytes(wat(C_LIKE), "c.wasm"))
    assert roles(a) == {("malloc", "alloc", "c", "export"), ("free", "free", "c", "export"),
                        ("calloc", "calloc", "c", "name-section"), ("realloc", "realloc", "c", "name-section"),
                        ("posix_memalign", "memalign_out", "c", "name-section"),
                        ("__rust_alloc", "aligned_alloc", "rust", "name-section"),
                        ("__rust_dealloc", "free", "rust", "name-section")}
    # dlfree(f64) is not a free: the wrong signature is never taken for one
    assert all(f.name != "dlfree" for f in a.functions)
    pm = a.find("memalign_out")
    assert pm.convention.params == ("out", "align", "size") and pm.convention.result == "status"


def test_dwarf_names_count_after_exports_and_names():
    m = WasmModule.from_bytes(wat("(module (memory 1) (func (param i32) (result i32) (local.get 0)) "
                                  "(func (param i32)))"), "s.wasm")
    a = find_allocators(m, dwarf_names={0: "malloc", 1: "free"})
    assert roles(a) == {("malloc", "alloc", "c", "dwarf"), ("free", "free", "c", "dwarf")}
    assert roles(find_allocators(m, dwarf_names={0: "alloc::alloc::__rust_alloc"})) == set()  # (i32)->i32: not Rust's


def test_user_allocator_names_and_their_errors():
    m = load_module(sample("memdemo.wasm"))
    a = find_allocators(m, user_names="allocate,deallocate")
    assert roles(a) == {("allocate", "alloc", "user", "--allocator"), ("deallocate", "free", "user", "--allocator")}
    assert a.find("free").convention.params == ("ptr", "old_size") and a.complete
    a = find_allocators(m, user_names="get_counter")
    assert not a.functions and "not the alloc shape" in a.notes[0]
    a = find_allocators(m, user_names="nothing_here")
    assert "no function named 'nothing_here'" in a.notes[0]


def test_user_allocator_by_an_index_past_the_last_function_says_it_does_not_exist():
    # it once said "func[999] has type an unknown type"
    m = WasmModule.from_bytes(wat("(module (memory 1) (func (param i32) (result i32) (local.get 0)) "
                                  "(func (param i32)))"), "s.wasm")
    a = find_allocators(m, user_names="func[999],func[1]")
    assert a.notes[0] == "--allocator: func[999] does not exist: the module has 2 functions (func[0] to func[1])"
    assert not any("unknown type" in n for n in a.notes)
    assert roles(a) == {("func[1]", "free", "user", "--allocator")}


def test_inspect_reports_them(capsys):
    with pytest.raises(SystemExit):
        main(["inspect", sample("hosts-wasm-bindgen.wasm"), "--json"])
    d = json.loads(capsys.readouterr().out)["heap"]["allocators"]
    assert [f["name"] for f in d["functions"]] == ["__wbindgen_malloc", "__wbindgen_free"]
    with pytest.raises(SystemExit):
        main(["inspect", sample("hosts-wasm-bindgen.wasm")])
    out = capsys.readouterr().out
    assert "allocator" in out and "__wbindgen_malloc, __wbindgen_free (wasm-bindgen; by export)" in out


THUNK = """(module (memory 1)
  (global $top (mut i32) (i32.const 1024))
  (func $dlmalloc (param i32) (result i32)
    (global.get $top) (global.set $top (i32.add (global.get $top) (i32.add (local.get 0) (i32.const 8)))))
  (func (export "malloc") (param i32) (result i32) (call $dlmalloc (local.get 0)))
  (func (export "free") (param i32))
  (func (export "not_a_thunk") (param i32) (result i32) (call $dlmalloc (i32.const 4)))
  (func (export "make") (result i32) (call $dlmalloc (i32.const 24))))"""


def test_an_exported_allocator_that_only_forwards_brings_the_function_behind_it():
    """A stripped Emscripten build exports `malloc` as a thunk over the dlmalloc its own code calls: the
    function behind it is found too (`forwarded`), so the module's own allocations are seen."""
    m = WasmModule.from_bytes(wat(THUNK))
    a = find_allocators(m)
    assert roles(a) == {("malloc", "alloc", "c", "export"), ("dlmalloc", "alloc", "c", "forwarded"),
                        ("free", "free", "c", "export")}
    assert next(f.index for f in a.functions if f.found_by == "forwarded") == 0  # $dlmalloc
    from wasmem.model.allocators import forward_target

    assert forward_target(m, m.find_export("not_a_thunk").index) is None  # a different argument
    assert forward_target(m, m.find_export("make").index) is None  # another type


def test_the_forwarded_allocator_tracks_the_modules_own_calls(wat_file):
    from wasmem.app.heap import heap_report

    report, session = heap_report(wat_file(THUNK), after=["make", "malloc 8"])
    session.close()
    assert report.allocations == 2 and sorted(b.size for b in report.blocks) == [8, 24]


def _as_runtime(kind: str) -> str:
    """The exports of an AssemblyScript build of runtime ``kind`` (itcms = incremental, tcms = minimal, stub),
    named as asc 0.27 names its runtime's functions."""
    free = '(func $~lib/rt/tlsf/__free (param i32))' if kind != "stub" else ""
    return f"""(module (memory 1)
      (func $~lib/rt/{kind}/__new (export "__new") (param i32 i32) (result i32) (i32.const 0))
      (func $~lib/rt/{kind}/__renew (export "__renew") (param i32 i32) (result i32) (i32.const 0))
      {free})"""


def test_assemblyscript_runtimes():
    """incremental (itcms) and minimal (tcms): the collector's frees through tlsf's __free (the object - 16);
    itcms' __renew leaves the old object to the collector, tcms' reallocates; the stub never frees."""
    it = find_allocators(WasmModule.from_bytes(wat(_as_runtime("itcms"))))
    assert {(f.name, f.role) for f in it.functions} == {("__new", "alloc"), ("__renew", "renew"),
                                                         ("~lib/rt/tlsf/__free", "gc_free")}
    assert next(f.convention.offset for f in it.functions if f.role == "gc_free") == 16
    tc = find_allocators(WasmModule.from_bytes(wat(_as_runtime("tcms"))))
    assert ("__renew", "realloc") in {(f.name, f.role) for f in tc.functions} and tc.complete
    stub = find_allocators(WasmModule.from_bytes(wat(_as_runtime("stub"))))
    assert stub.notes == ["AssemblyScript's stub runtime never frees an object"]
