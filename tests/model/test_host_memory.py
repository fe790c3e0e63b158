"""Host memory for an imported memory: the JavaScript wasmem advises for each import shape, the V8 errors
it predicts (the texts Node 20 / V8 11.3 prints, recorded on this machine's node), the relink advice, and
the real `node` accepting every recommended memory and rejecting exactly the ones `--pages` flags."""

import re

import pytest
from conftest import sample, wat
from node_util import instantiate, node_major

from wasmem.model.hostmem import HostMemory, advice, js_memory, link_problems
from wasmem.model.layout import analyze
from wasmem.parser import WasmModule

MIN = '(module (import "env" "memory" (memory 17)))'
MINMAX = '(module (import "env" "memory" (memory 17 32)))'
SHARED = '(module (import "env" "memory" (memory 17 256 shared)))'
MEM64 = '(module (import "env" "memory" (memory i64 17 32)))'
# the memory is the third import: V8 11.3 says "memory import 2"
THIRD = '(module (import "env" "f" (func)) (import "env" "g" (func)) (import "env" "memory" (memory 17 32)))'
SHAPES = {"min": MIN, "minmax": MINMAX, "shared": SHARED, "third": THIRD}
JS = re.compile(r"new WebAssembly\.Memory\(\{[^}]*\}\)")


def layout(text, **kw):
    return analyze(WasmModule.from_bytes(wat(text)), **kw)


def host_errors(lay):
    return [f for f in lay.findings if f.severity == "error" and f.code.startswith("host-memory")]


@pytest.mark.parametrize("text, pages, want", [
    (MIN, None, "new WebAssembly.Memory({initial: 17})"),
    (MIN, 20, "new WebAssembly.Memory({initial: 20})"),
    (MINMAX, None, "new WebAssembly.Memory({initial: 17, maximum: 32})"),
    (MINMAX, 40, "new WebAssembly.Memory({initial: 32, maximum: 32})"),  # never past the declared maximum
    (SHARED, None, "new WebAssembly.Memory({initial: 17, maximum: 256, shared: true})"),
    (SHARED, 3, "new WebAssembly.Memory({initial: 17, maximum: 256, shared: true})"),
    (MEM64, None, "new WebAssembly.Memory({address: 'i64', initial: 17n, maximum: 32n})"),
])
def test_advice_for_each_import_shape(text, pages, want):
    assert advice(layout(text).memory, pages) == want


def test_advice_keeps_a_host_maximum_that_fits_and_replaces_one_that_does_not():
    mem = layout(MINMAX).memory
    assert advice(mem, 17, 20) == "new WebAssembly.Memory({initial: 17, maximum: 20})"
    assert advice(mem, 17, 33) == "new WebAssembly.Memory({initial: 17, maximum: 32})"
    assert advice(layout(MIN).memory, 17, 100) == "new WebAssembly.Memory({initial: 17, maximum: 100})"
    assert js_memory(1, None, False) == "new WebAssembly.Memory({initial: 1})"


# (shape, host memory, what Node 20.20 / V8 11.3.244 throws first) — recorded with the real node
NODE20 = [
    ("min", HostMemory(10), "LinkError: WebAssembly.Instance(): memory import 0 is smaller than initial 17, got 10"),
    ("min", HostMemory(17, 256, True),
     "LinkError: WebAssembly.Instance(): mismatch in shared state of memory, declared = 0, imported = 1"),
    ("minmax", HostMemory(17),
     "LinkError: WebAssembly.Instance(): memory import 0 has no maximum limit, expected at most 4294967295"),
    ("minmax", HostMemory(17, 33), "LinkError: WebAssembly.Instance(): memory import 0 has a larger maximum size 33 "
                                   "than the module's declared maximum 32"),
    ("minmax", HostMemory(40, 40), "LinkError: WebAssembly.Instance(): memory import 0 has a larger maximum size 40 "
                                   "than the module's declared maximum 32"),
    ("minmax", HostMemory(10, 33, True),
     "LinkError: WebAssembly.Instance(): memory import 0 is smaller than initial 17, got 10"),
    ("shared", HostMemory(17, 256),
     "LinkError: WebAssembly.Instance(): mismatch in shared state of memory, declared = 1, imported = 0"),
    ("shared", HostMemory(17), "LinkError: WebAssembly.Instance(): memory import 0 has no maximum limit, expected at "
                               "most 4294967295"),
    ("shared", HostMemory(17, 300, True), "LinkError: WebAssembly.Instance(): memory import 0 has a larger maximum "
                                          "size 300 than the module's declared maximum 256"),
    ("shared", HostMemory(17, None, True),
     "TypeError: WebAssembly.Memory(): If shared is true, maximum property should be defined."),
    ("min", HostMemory(20, 10), "RangeError: WebAssembly.Memory(): Property 'maximum': value 10 is below the lower "
                                "bound 14"),  # sic: V8 11.3 prints the bound (20) in hex
    ("min", HostMemory(70000), "RangeError: WebAssembly.Memory(): Property 'initial': value 70000 is above the upper "
                               "bound 65536"),
    ("third", HostMemory(10, 32), "LinkError: WebAssembly.Instance(): memory import 2 is smaller than initial 17, got 10"),
    ("third", HostMemory(17), "LinkError: WebAssembly.Instance(): memory import 2 has no maximum limit, expected at "
                              "most 4294967295"),
]


@pytest.mark.parametrize("shape, host, text", NODE20, ids=[f"{s}-{h}" for s, h, _ in NODE20])
def test_predicted_errors_are_the_node20_texts(shape, host, text):
    lay = layout(SHAPES[shape])
    problems = link_problems(lay.memory, host, lay.memory.import_index)
    assert problems and problems[0].v8 == text


@pytest.mark.parametrize("shape, host", [("min", HostMemory(17)), ("min", HostMemory(300)),
                                         ("min", HostMemory(17, 20)), ("minmax", HostMemory(17, 32)),
                                         ("minmax", HostMemory(20, 20)), ("shared", HostMemory(17, 100, True))])
def test_accepted_host_memories_have_no_problems(shape, host):
    lay = layout(SHAPES[shape])
    assert link_problems(lay.memory, host, lay.memory.import_index) == []


def test_pages_findings_state_both_v8_wordings_and_the_full_js():
    lay = layout(MINMAX, pages=16)
    err = [f for f in lay.findings if f.code == "host-memory-too-small"][0]
    assert "memory import 0 is smaller than initial 17, got 16" in err.message
    assert "Node 20 / V8 11.3" in err.message
    assert 'Import #0 "env" "memory": memory import has 16 pages which is smaller than the declared initial of 17' \
        in err.message
    assert "new WebAssembly.Memory({initial: 17, maximum: 32})" in err.hint
    assert {f.code for f in host_errors(lay)} == {"host-memory-too-small", "host-memory-no-maximum"}
    ok = layout(SHARED, pages=17, host_max_pages=256, host_shared=True)
    assert [f.code for f in ok.findings if f.code.startswith("host-memory")] == ["host-memory-ok"]
    assert [f.code for f in host_errors(layout(SHARED, pages=17, host_max_pages=256))] == \
        ["host-memory-shared-mismatch"]


def test_imported_memory_gets_no_max_memory_link_advice():
    lay = layout(MIN)
    f = [f for f in lay.findings if f.code == "no-max-memory"][0]
    assert "-Wl,--max-memory=" not in f.hint and "new WebAssembly.Memory({initial: 17, maximum: 256})" in f.hint
    own = layout('(module (memory (export "memory") 2))')
    assert "-Wl,--max-memory=BYTES" in [f for f in own.findings if f.code == "no-max-memory"][0].hint


# stack-first: a 192 KiB stack, then 16 bytes of data; the import declares 4 pages; the layout needs 4
NEEDS_FOUR = """(module (import "env" "memory" (memory 4))
  (global $__stack_pointer (mut i32) (i32.const 0x30000))
  (global (export "__heap_base") i32 (i32.const 0x30010))
  (data (i32.const 0x30000) "0123456789abcdef"))"""


def test_relink_advice_is_never_below_what_the_layout_needs():
    lay = layout(NEEDS_FOUR, pages=2)
    assert lay.min_pages_needed == 4
    hint = [f for f in lay.findings if f.code == "host-memory-too-small"][0].hint
    sizes = [int(n) for n in re.findall(r"--initial-memory=(\d+)", hint)]
    assert sizes == [4 * 65536] and "cannot make 2 pages enough" in hint
    # a host memory big enough for the layout: relinking to it is the advice
    lay = analyze(WasmModule.from_file(sample("memdemo-import.wasm")), pages=1)
    hint = [f for f in lay.findings if f.code == "host-memory-too-small"][0].hint
    assert re.findall(r"--initial-memory=(\d+)", hint) == ["65536"] and lay.min_pages_needed == 1


# ---- the real node -------------------------------------------------------------------------------

def test_node_prints_the_recorded_texts():
    if node_major() != 20:
        pytest.skip("the recorded texts are Node 20's (V8 11.3); this node words them differently")
    cases = [(wat(SHAPES[s]), js_memory(h.initial, h.maximum, h.shared)) for s, h, _ in NODE20]
    assert instantiate(cases) == [text for _, _, text in NODE20]


IMPORTING_SAMPLES = ["memdemo-import.wasm", "hosts-emscripten.wasm", "hosts-wasi-reactor.wasm", "pic.wasm",
                     "passive.wasm"]


def _modules():
    out = {name: wat(text) for name, text in SHAPES.items()}
    out["needs-four"] = wat(NEEDS_FOUR)
    for name in IMPORTING_SAMPLES:
        with open(sample(name), "rb") as f:
            out[name] = f.read()
    return out


def test_node_accepts_every_memory_wasmem_recommends_and_rejects_what_pages_flags():
    """For every module with an imported memory and a grid of host memories around its limits: node
    accepts the host memory exactly when `--pages/--max-pages/--shared` raise no error, throws the text
    of the first error (Node 20), and accepts every `new WebAssembly.Memory(...)` in the findings."""
    modules = _modules()
    checked, advised = [], []
    for name, data in modules.items():
        mod = WasmModule.from_bytes(data)
        mem = analyze(mod).memory
        lo, hi = mem.min_pages, mem.max_pages if mem.max_pages is not None else mem.min_pages + 8
        for initial in sorted({max(0, lo - 1), lo, hi, hi + 1}):
            for maximum in sorted({None, hi - 1, hi, hi + 1} - {-1}, key=lambda v: -1 if v is None else v):
                for shared in (False, True):
                    lay = analyze(mod, pages=initial, host_max_pages=maximum, host_shared=shared)
                    errors = host_errors(lay)
                    oks = [f for f in lay.findings if f.code == "host-memory-ok"]
                    assert bool(errors) != bool(oks)
                    checked.append((name, data, js_memory(initial, maximum, shared), errors))
                    for f in lay.findings:
                        advised += [(name, data, js) for js in JS.findall(f"{f.message} {f.hint or ''}")
                                    if f.code != "host-memory-ok"]
    outcomes = instantiate([(d, js) for _, d, js, _ in checked] + [(d, js) for _, d, js in advised])
    node20 = node_major() == 20
    compiled = 0
    for (name, _, js, errors), got in zip(checked, outcomes[:len(checked)], strict=True):
        if got.startswith("compile "):
            continue  # a feature this node does not ship (passive.wasm: extended-const in Node 20)
        compiled += 1
        if not errors:
            assert got == "OK", (name, js, got)
        else:
            assert got != "OK", (name, js, [e.message for e in errors])
            if node20:
                assert got in errors[0].message, (name, js, got, errors[0].message)
    assert compiled > 100
    for (name, _, js), got in zip(advised, outcomes[len(checked):], strict=True):
        assert got == "OK" or got.startswith("compile "), (name, js, got)
    assert len(advised) > 50
