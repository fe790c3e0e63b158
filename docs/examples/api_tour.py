"""The Python API on the bundled samples (run from the repository root); docs/python-api.md shows its
output, refreshed by `make docs`."""

import wasmem

# Static: no wasmtime is imported for this.
layout = wasmem.inspect("samples/memdemo-datafirst.wasm")
print("layout:", layout.layout_kind)
print("stack pointer: global", layout.stack_pointer.global_index, "found by", layout.stack_pointer.provenance)
print(f"stack: [{layout.stack_low:#x}, {layout.stack_high:#x}) = {layout.stack_size} bytes")
print(f"heap base: {layout.heap_base:#x}, {layout.heap_available} bytes left in the initial memory")
for r in layout.regions:
    print(f"  {r.kind:6} {r.start:#08x}..{r.end:#08x} {r.label}")
for f in layout.findings:
    print(f"  {f.severity}: {f.code}")

# Live: a wasmtime instance with every import satisfied.
session = wasmem.open("samples/memdemo.wasm")
try:
    r = session.call("make_point", ["1.0", "2.0"], returns="x:f64,y:f64")
    print("make_point:", [(name, value) for name, _type, value in r.sret.fields], "ok:", r.ok)
    ptr = session.call("get_data_ptr", []).results[0]
    print(f"get_data_ptr() = {ptr:#x}:", session.read(ptr, 8).hex(" "))
    r = session.call("process_string", ["s:hello wasm"])
    print("process_string:", r.results, "changed", r.changed_bytes, "bytes; stack peak", r.stack.peak)
    r = session.call("divide", ["1", "0"])
    print("divide(1, 0) trapped:", r.trap.kind, "in", r.trap.frames[0].name)
    print("sp:", hex(session.get_sp()), "memory:", session.memory(0).pages, "pages")
finally:
    session.close()
