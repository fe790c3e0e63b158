"""Property tests: mutated, truncated and spliced samples parse or raise ParseError, nothing else.

A bounded run is part of `make test`; `make fuzz` runs many more examples (WASMEM_FUZZ_EXAMPLES), and mutates
the spec testsuite's modules too when `make spec` has converted them into the bench cache (their GC, custom
descriptors, threads and memory64 encodings are in no sample)."""

import os
from pathlib import Path

from conftest import all_samples
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from wasmem.errors import ParseError
from wasmem.model.layout import analyze
from wasmem.parser import WasmModule
from wasmem.parser.validate import check_structure

EXAMPLES = int(os.environ.get("WASMEM_FUZZ_EXAMPLES", "150"))


def spec_seeds() -> list[bytes]:
    """Under `make fuzz` only (the bounded run stays the same on every machine): the module binaries of the
    spec testsuite that bench/spec.py converted into the bench cache, when it has run."""
    if os.environ.get("WASMEM_FUZZ_EXAMPLES") is None:
        return []
    cache = Path(os.environ.get("WASMEM_BENCH_CACHE") or Path.home() / ".cache" / "wasmem-bench") / "spec"
    return [p.read_bytes() for p in sorted(cache.glob("json-*/*/*.wasm")) if 8 < p.stat().st_size < 200_000]


CORPUS = [open(p, "rb").read() for p in all_samples() if os.path.getsize(p) < 200_000] + spec_seeds()
SETTINGS = settings(max_examples=EXAMPLES, deadline=2000, derandomize=os.environ.get("WASMEM_FUZZ_EXAMPLES") is None,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


def parse_everything(data: bytes) -> None:
    try:
        m = WasmModule.from_bytes(data)
        for attr in ("types", "imports", "function_type_indices", "tables", "memories", "tags", "globals",
                     "exports", "start", "elements", "data_count", "functions", "data_segments"):
            getattr(m, attr)
        analyze(m)  # the layout model copes with whatever the parser accepted
        check_structure(m)  # and every body decodes or fails cleanly (the code sections here are small)
    except ParseError as exc:
        assert exc.offset is None or 0 <= exc.offset <= len(data)


@SETTINGS
@given(st.sampled_from(CORPUS), st.data())
def test_mutations(base, data):
    buf = bytearray(base)
    for _ in range(data.draw(st.integers(1, 8))):
        pos = data.draw(st.integers(8, len(buf) - 1))
        buf[pos] = data.draw(st.integers(0, 255))
    parse_everything(bytes(buf))


@SETTINGS
@given(st.sampled_from(CORPUS), st.data())
def test_truncations_and_splices(base, data):
    cut = data.draw(st.integers(0, len(base)))
    other = data.draw(st.sampled_from(CORPUS))
    start = data.draw(st.integers(0, len(other)))
    tail = other[start:start + data.draw(st.integers(0, 64))]
    parse_everything(base[:cut] + tail)


@SETTINGS
@given(st.binary(min_size=0, max_size=64))
def test_random_sections_after_a_valid_header(body):
    parse_everything(b"\0asm\x01\0\0\0" + body)
