"""Allocator discovery by shape (issue 25 item 3, wasmem/model/allocshape.py): stripped and minified builds whose
allocator functions have no name are tracked without --allocator when exactly one candidate fits, with the
evidence in the output; otherwise the candidates are named with func[N]; a module without an allocator is not
given one. Real modules under real wasmtime: C built by zig cc and by Debian clang + wasi-libc (dlmalloc), the
latter also through wasm-opt (tests/heap/data/shapeheap.c), and WAT modules of our own."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest
import wasmtime
from conftest import run_main
from heap_util import heap, leaks

import wasmem
from wasmem.errors import UsageError
from wasmem.model.allocators import find_allocators
from wasmem.parser import WasmModule
from wasmem.schemas import get_schema

DATA = Path(__file__).resolve().parent / "data"
SAMPLES = Path(__file__).resolve().parents[2] / "samples"
DLMALLOC = str(DATA / "shapeheap-dlmalloc.wasm")  # clang 14 + wasi-libc, -O2, --strip-all
OPT = str(DATA / "shapeheap-opt.wasm")  # the same through wasm-opt -O2 (the malloc/free thunks inlined)
ZIGC = str(DATA / "shapeheap-zig.wasm")  # zig cc 0.17.1 -O2 (Zig's libc malloc), --strip-all
STRIPPED = [DLMALLOC, OPT, ZIGC, str(DATA / "heapdemo-stripped.wasm")]
WBG = str(DATA / "wbg_numbered.wasm")


def by_role(found) -> dict[str, tuple[str, str]]:
    return {f.role: (f.name, f.found_by) for f in found.functions if f.found_by == "shape"}


@pytest.mark.parametrize("path", STRIPPED, ids=lambda p: Path(p).stem)
def test_stripped_c_builds_have_no_allocator_name(path):
    m = WasmModule.from_file(path)
    assert m.names is None or not m.names.functions
    assert not any(e.kind == "func" and e.name in ("malloc", "free") for e in m.exports)


@pytest.mark.parametrize(("path", "per_call"), [(DLMALLOC, 32), (OPT, 32), (ZIGC, 32),
                                                (str(DATA / "heapdemo-stripped.wasm"), 24)],
                         ids=["dlmalloc", "wasm-opt", "zig", "heapdemo-stripped"])
def test_the_planted_leak_is_found_without_allocator(path, per_call):
    r = leaks(path, "leak_step 1", repeat=4)
    assert r.growth_per_call == per_call and not r.findings
    assert len(r.sites) == 1 and r.sites[0].site.function == "leak_step"
    shape = {a["role"]: a["name"] for a in r.allocators if a["found_by"] == "shape"}
    assert {"alloc", "free"} <= shape.keys() and all(n.startswith("func[") for n in shape.values())
    assert any("found by shape as malloc" in n for n in r.notes)
    assert any("found by shape as free(ptr): reads the block's header at ptr-" in n for n in r.notes)


@pytest.mark.parametrize("path", [DLMALLOC, OPT, ZIGC], ids=["dlmalloc", "wasm-opt", "zig"])
def test_a_clean_sequence_stays_clean(path):
    r = heap(path, after=["clean_step 3", "leak_step 2", "clean_step 4"])
    assert len(r.blocks) == 1 and r.blocks[0].size == 32 and not r.findings


def test_the_evidence_names_dlmalloc_only_where_its_constants_are():
    for path, dl in ((DLMALLOC, True), (OPT, True), (ZIGC, False)):
        notes = " ".join(find_allocators(WasmModule.from_file(path)).notes)
        assert ("dlmalloc's constants" in notes) == dl, path
        assert "reaches memory.grow in 1 call" in notes


def test_wasi_libc_thunks_are_the_sites_and_realloc_calloc_come_with_them():
    """The unoptimised link keeps wasi-libc's malloc/free thunks over dlmalloc/dlfree: the thunks are taken (the
    program calls them), the functions behind them forwarded; realloc and calloc are the one function of their
    type calling both (calloc: the malloc, with a multiplication)."""
    found = find_allocators(WasmModule.from_file(DLMALLOC))
    roles = by_role(found)
    assert set(roles) == {"alloc", "free", "realloc", "calloc"}
    fwd = {f.role for f in found.functions if f.found_by == "forwarded"}
    assert fwd == {"alloc", "free"}
    r = heap(DLMALLOC, after=["clean_step 1"])
    # calloc(8, 4), malloc(16) grown by realloc to 300 (one block replaced): all freed
    assert (r.allocations, r.frees, len(r.blocks), r.findings) == (3, 3, 0, [])


def test_inspect_and_json_say_found_by_shape(capsys):
    code, out, _ = run_main(capsys, "inspect", OPT)
    assert code == 0 and "by shape" in " ".join(out.split())
    code, out, _ = run_main(capsys, "inspect", OPT, "--json")
    al = json.loads(out)["heap"]["allocators"]
    assert {f["found_by"] for f in al["functions"]} == {"shape"}
    assert any("found by shape as malloc" in n for n in al["notes"]) and al["candidates"] == []
    jsonschema.Draft202012Validator(get_schema("inspect")).validate(json.loads(out))
    code, out, err = run_main(capsys, "leaks", OPT, "leak_step 1", "-n", "3", "--json")
    d = json.loads(out)
    assert code == 0 and d["growth_per_call"] == 32
    assert {a["found_by"] for a in d["allocators"]} == {"shape"}
    assert any("found by shape" in n for n in d["notes"])
    jsonschema.Draft202012Validator(get_schema("leaks")).validate(d)
    code, out, err = run_main(capsys, "heap", OPT, "--after", "leak_step 1", "--json")
    jsonschema.Draft202012Validator(get_schema("heap")).validate(json.loads(out))


def test_allocator_given_wins_over_shape():
    found = find_allocators(WasmModule.from_file(OPT), user_names="func[3],func[4]")
    assert {(f.name, f.found_by) for f in found.functions} == {("func[3]", "--allocator"), ("func[4]", "--allocator")}
    with pytest.raises(UsageError, match=r"func\[99\] does not exist: the module has 7 functions"):
        heap(OPT, allocator="func[99]")


def test_the_budget_names_itself_when_it_cuts(capsys):
    found = find_allocators(wasmem.load_module(OPT, budgets={"alloc-shape": 100}))
    assert not found.functions
    assert any("--budget alloc-shape=N" in n and "not looked for by their code" in n for n in found.notes)
    code, _, err = run_main(capsys, "leaks", OPT, "leak_step 1", "--budget", "alloc-shape=100")
    assert code == 2 and "no allocator found" in err and "--budget alloc-shape=N" in err
    code, out, err = run_main(capsys, "leaks", OPT, "leak_step 1", "-n", "2", "--budget", "alloc-shape=1M")
    assert code == 0 and "growth per call: 32 bytes" in out and "func[3] (alloc, shape)" in " ".join(out.split())
    assert "wasmem: note: func[3] found by shape as malloc (size) -> ptr" in err


# -- wasm-bindgen's numbered exports ----------------------------------------------------------------------
def test_wasm_bindgen_numbered_exports_are_recognised_by_their_bodies():
    found = find_allocators(WasmModule.from_file(WBG))
    shape = {f.name: f.role for f in found.functions if f.found_by == "shape"}
    assert shape == {"__wbindgen_export_0": "aligned_alloc", "__wbindgen_export_1": "realloc",
                     "__wbindgen_export_3": "free"}  # not _2 (the exception store) nor _5 (a closure of free's type)
    behind = {f.index for f in found.functions if f.found_by == "forwarded"}
    assert behind == {1, 2, 3, 4}  # the allocator behind them, so the module's own calls are seen too
    r = leaks(WBG, "leak 40", repeat=4)
    assert r.growth_per_call == 40 and not r.findings and r.sites[0].site.function == "leak"
    r = heap(WBG, after=["churn 100", "__wbindgen_export_3 0 0 1"])
    assert (len(r.blocks), r.allocations, r.frees, r.findings) == (0, 2, 2, [])


WBG_HEAD = """(module
  (import "__wbindgen_placeholder__" "__wbindgen_throw" (func (param i32 i32)))
  (memory (export "memory") 1)
  (global (mut i32) (i32.const 4096))
  (func (param i32) (result i32) (local i32)
    (local.set 1 (global.get 0)) (global.set 0 (i32.add (global.get 0) (local.get 0))) (local.get 1))
  (func (param i32) (drop (i32.load (i32.sub (local.get 0) (i32.const 8)))))
"""
MALLOC = """  (func (export "{}") (param i32 i32) (result i32)
    (if (i32.ne (i32.popcnt (local.get 1)) (i32.const 1)) (then unreachable))
    (call 1 (local.get 0)))
"""
FREE = """  (func (export "{}") (param i32 i32 i32) (block (br_if 0 (i32.eqz (local.get 1))) (call 2 (local.get 0))))
"""


def _module(tmp_path, body: str, name: str = "m.wasm") -> str:
    p = tmp_path / name
    p.write_bytes(wasmtime.wat2wasm(body))
    return str(p)


def test_numbered_exports_that_fit_twice_or_without_free_are_not_taken(tmp_path):
    two = _module(tmp_path, WBG_HEAD + MALLOC.format("__wbindgen_export_0") + MALLOC.format("__wbindgen_export_1")
                  + FREE.format("__wbindgen_export_2") + ")", "two.wasm")
    found = find_allocators(WasmModule.from_file(two))
    assert not any(f.found_by == "shape" for f in found.functions)
    assert any("__wbindgen_export_0, __wbindgen_export_1 all look like __wbindgen_malloc" in n for n in found.notes)
    alone = _module(tmp_path, WBG_HEAD + MALLOC.format("__wbindgen_export_0") + ")", "alone.wasm")
    found = find_allocators(WasmModule.from_file(alone))
    assert not any(f.found_by == "shape" for f in found.functions)
    # the same shapes in a module that is not wasm-bindgen's: no numbered convention to apply
    plain = _module(tmp_path, WBG_HEAD.replace('(import "__wbindgen_placeholder__" "__wbindgen_throw" (func (param '
                                               'i32 i32)))', "").replace("call 1", "call 0").replace("call 2", "call 1")
                    + MALLOC.format("__wbindgen_export_0").replace("call 1", "call 0")
                    + FREE.format("__wbindgen_export_1").replace("call 2", "call 1") + ")", "plain.wasm")
    assert not any(f.family == "wasm-bindgen" for f in find_allocators(WasmModule.from_file(plain)).functions)


# -- no false allocator -----------------------------------------------------------------------------------
NO_FREE_SAMPLES = ["memdemo.wasm", "memdemo-O0.wasm", "memdemo-stripped.wasm", "memdemo-datafirst.wasm",
                   "memdemo-import.wasm", "hello_wasi.wasm", "bss.wasm", "imports.wasm", "watchdemo.wasm",
                   "watchseq.wasm", "hosts-emscripten.wasm", "hosts-go.wasm", "go_like.wasm", "asc_like.wasm",
                   "memory64.wasm", "nomemory.wasm", "passive.wasm", "pic.wasm", "shared.wasm", "snapshot.wasm",
                   "twomemories.wasm", "tags.wasm", "renamed.wasm"]


@pytest.mark.parametrize("name", NO_FREE_SAMPLES)
def test_samples_without_an_allocator_get_none_by_shape(name):
    found = find_allocators(WasmModule.from_file(SAMPLES / name))
    assert not any(f.found_by == "shape" for f in found.functions), name


GROWER_AND_FIELD = """(module
  (memory (export "memory") 1)
  ;; 0: grow_pages(n) -> the old size: memory.grow, a (size) -> ptr shape
  (func (param i32) (result i32) (memory.grow (local.get 0)))
  ;; 1: reset(node): reads a field above the pointer, not a header below it
  (func (param i32) (i32.store (local.get 0) (i32.load offset=8 (local.get 0))))
  ;; 2: unlink(node): reads below the pointer, but nothing calls it together with an allocation
  (func (param i32) (i32.store (local.get 0) (i32.load (i32.sub (local.get 0) (i32.const 8)))))
  (func (export "run") (param i32) (result i32)
    (call 1 (call 0 (local.get 0)))
    (i32.const 0))
  (func (export "other") (param i32) (call 2 (local.get 0)))
)"""


def test_a_grower_without_a_paired_free_is_only_a_candidate(tmp_path):
    path = _module(tmp_path, GROWER_AND_FIELD)
    found = find_allocators(WasmModule.from_file(path))
    assert found.functions == []
    assert found.candidates[:1] == ["func[0]"] and "func[2]" in found.candidates
    assert any("no allocator is certain by its code" in n and "--allocator func[0],func[2]" in n for n in found.notes)
    with pytest.raises(UsageError, match=r"no allocator found .*; no allocator is certain by its code; candidates: "
                       r"malloc-like \(size\) -> ptr reaching memory.grow: func\[0\].*--allocator func\[0\],func\[2\]"):
        heap(path)
    # the user names them: tracked
    r = heap(path, allocator="func[0],func[2]", after=["run 1"])
    assert r.allocations == 1


def test_the_error_for_no_allocator_and_no_candidate_says_so(tmp_path):
    path = _module(tmp_path, '(module (memory 1) (func (export "f") (param i32) (result i32) (local.get 0)))')
    with pytest.raises(UsageError, match=r"no allocator found \(.*\): name it with --allocator") as e:
        heap(path)
    assert "candidates" not in str(e.value)
    # memdemo's own bump allocator (allocate(size), deallocate(ptr, size)): allocate (func[6]) is named first
    with pytest.raises(UsageError, match=r"functions that reach memory.grow and may allocate: func\[6\], func\[8\]"):
        heap(str(SAMPLES / "memdemo.wasm"))


# an Emscripten-like minified build: sbrk asks the host to grow memory (the import a.b, emscripten_resize_heap)
# after reading the heap's size in a leaf (emscripten_get_heap_size); a strdup-like function calls malloc and is
# called together with free too, but it is farther from sbrk than malloc
EMSCRIPTEN_LIKE = """(module
  (import "a" "b" (func (param i32) (result i32)))
  (memory (export "c") 1)
  (global (mut i32) (i32.const 4096))
  ;; 1: emscripten_get_heap_size
  (func (result i32) (i32.shl (memory.size) (i32.const 16)))
  ;; 2: sbrk(increment) -> old break
  (func (param i32) (result i32) (local i32)
    (local.set 1 (i32.add (global.get 0) (local.get 0)))
    (if (i32.gt_u (local.get 1) (call 1))
      (then (if (i32.eqz (call 0 (local.get 1))) (then (return (i32.const -1))))))
    (global.get 0)
    (global.set 0 (local.get 1)))
  ;; 3: malloc(size): a 4-byte header [size | 1]
  (func (param i32) (result i32) (local i32)
    (local.set 1 (call 2 (i32.add (local.get 0) (i32.const 4))))
    (i32.store (local.get 1) (i32.or (local.get 0) (i32.const 1)))
    (i32.add (local.get 1) (i32.const 4)))
  ;; 4: free(ptr): the header's in-use bit cleared
  (func (param i32)
    (if (i32.eqz (local.get 0)) (then (return)))
    (i32.store (i32.add (local.get 0) (i32.const -4))
      (i32.and (i32.load (i32.add (local.get 0) (i32.const -4))) (i32.const -2))))
  ;; 5: dup(n): malloc(n) filled
  (func (param i32) (result i32) (local i32)
    (local.set 1 (call 3 (local.get 0)))
    (memory.fill (local.get 1) (i32.const 7) (local.get 0))
    (local.get 1))
  ;; 6: d(n): leaks n bytes, frees a copy
  (func (export "d") (param i32) (result i32)
    (drop (call 3 (local.get 0)))
    (call 4 (call 5 (local.get 0)))
    (i32.const 0))
  ;; 7: e(n): a copy kept, a block freed
  (func (export "e") (param i32) (result i32)
    (drop (call 5 (local.get 0)))
    (call 4 (call 3 (local.get 0)))
    (i32.const 0))
)"""


def test_an_emscripten_like_minified_sbrk_and_the_nearest_malloc(tmp_path):
    path = _module(tmp_path, EMSCRIPTEN_LIKE)
    found = find_allocators(WasmModule.from_file(path))
    assert by_role(found) == {"alloc": ("func[3]", "shape"), "free": ("func[4]", "shape")}
    notes = " ".join(found.notes)
    assert "reaches the host's heap resize (an import, after memory.size) in 1 call (func[2])" in notes
    assert "at ptr-4" in notes


def test_a_double_free_is_still_a_finding_with_an_allocator_found_by_shape():
    """Frees of blocks never seen allocated are counted (code wasmem cannot see may allocate), but a second free
    of a block it saw freed is a double free."""
    r = heap(str(DATA / "heapdemo-stripped.wasm"), after=["double_free"])
    assert [f.kind for f in r.findings] == ["double-free"]
