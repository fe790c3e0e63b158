"""Invalid but well-formed modules are analysed, with their problems said, not crashed on."""

from wasmem.model.layout import analyze
from wasmem.model.stackframes import analyze_stack
from wasmem.parser import WasmModule


def sec(sid: int, payload: bytes) -> bytes:
    return bytes([sid, len(payload)]) + payload


def test_a_call_to_a_missing_function_is_a_note():
    body = b"\x00\x10\x05\x0b"  # no locals; call 5; end
    data = (b"\0asm\x01\0\0\0" + sec(1, b"\x01\x60\x00\x00") + sec(3, b"\x01\x00")
            + sec(7, b"\x01\x01f\x00\x00") + sec(10, b"\x01" + bytes([len(body)]) + body))
    m = WasmModule.from_bytes(data)
    sa = analyze_stack(m, analyze(m))
    f = sa.frames[0]
    assert f.calls == () and "calls function 5, which does not exist" in f.note


def test_invalid_limits_are_findings_not_parse_errors():
    mem = b"\x01\x09\x05\x02\x0c"  # min 5 > max 2, page size 2^12
    m = WasmModule.from_bytes(b"\0asm\x01\0\0\0" + sec(5, mem))
    lay = analyze(m)
    assert (lay.memory.min_pages, lay.memory.max_pages, lay.memory.page_size) == (5, 2, 4096)
    assert {"max-below-min", "bad-page-size"} <= {f.code for f in lay.findings}


def test_a_data_offset_reading_a_missing_global_is_a_finding():
    # data segment 0 at `global.get 5` in a module with no globals (found by `make fuzz`: it crashed)
    m = WasmModule.from_bytes(b"\0asm\x01\0\0\0" + sec(5, b"\x01\x00\x01") + sec(11, b"\x01\x00\x23\x05\x0b\x02hi"))
    lay = analyze(m)
    assert lay.segments[0].address is None
    f = next(f for f in lay.findings if f.code == "unknown-global")
    assert f.severity == "error" and "reads global 5, but the module has 0 globals" in f.message
