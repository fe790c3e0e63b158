"""The hand-made corpus of malformed modules: each entry is (name, bytes, expected message part).

`python tests/corpus/make_corpus.py` writes them to tests/corpus/malformed/ (committed) for use with
other tools; tests/test_corpus.py checks every entry through the CLI."""

from __future__ import annotations

import os

H = b"\0asm\x01\0\0\0"


def sec(sid: int, payload: bytes) -> bytes:
    return bytes([sid]) + leb(len(payload)) + payload


def leb(n: int) -> bytes:
    from wasmem.parser.encode import uleb

    return uleb(n)


def name(s: bytes) -> bytes:
    return leb(len(s)) + s


MEM1 = sec(5, b"\x01\x00\x01")
TYPE0 = sec(1, b"\x01\x60\x00\x00")

CORPUS: list[tuple[str, bytes, str]] = [
    # header
    ("empty", b"", "empty file"),
    ("short-magic", b"\0as", "truncated"),
    ("bad-magic", b"\0asn\x01\0\0\0", "bad magic"),
    ("elf", b"\x7fELF\x02\x01\x01\x00" + bytes(56), "ELF"),
    ("version-2", b"\0asm\x02\0\0\0", "unsupported WebAssembly version 2"),
    ("component", b"\0asm\x0d\0\x01\0", "components are not supported"),
    ("text-syntax-error", b"(module\n  (func (i32.bogus)))", "line 2 column"),
    # section framing
    ("unknown-section-14", H + b"\x0e\x00", "unknown section id 14"),
    ("unknown-section-255", H + b"\xff\x00", "unknown section id 255"),
    ("section-size-past-eof", H + b"\x01\x10\x00", "declares 16 bytes"),
    ("section-size-huge", H + b"\x01\xff\xff\xff\xff\x0f", "declares 4294967295 bytes"),
    ("section-trailing-bytes", H + sec(5, b"\x01\x00\x01\x00"), "unexpected bytes after the last entry"),
    ("duplicate-memory-section", H + MEM1 + MEM1, "duplicate memory section"),
    ("out-of-order-sections", H + sec(7, b"\x00") + MEM1, "out of order"),
    ("tag-after-global", H + sec(6, b"\x00") + sec(13, b"\x00"), "out of order"),
    ("custom-name-past-end", H + b"\x00\x02\x05ab", "expected 5 bytes but only 1 remain"),
    ("custom-name-bad-utf8", H + b"\x00\x03\x02\xc0\xaf", "UTF-8"),
    # LEB128
    ("leb-u32-overlong", H + sec(5, b"\x01\x00\x80\x80\x80\x80\x80\x00"), "LEB128 too long for u32"),
    ("leb-u32-too-big", H + sec(5, b"\x01\x00\xff\xff\xff\xff\x1f"), "too large for u32"),
    ("leb-u32-unterminated", H + sec(5, b"\x01\x00\x80\x80"), "ends inside entry 0"),
    ("leb-s32-too-big", H + sec(6, b"\x01\x7f\x00\x41\xff\xff\xff\xff\x0f\x0b"), "too large for s32"),
    ("leb-s32-too-small", H + sec(6, b"\x01\x7f\x00\x41\x80\x80\x80\x80\x70\x0b"), "too large for s32"),
    ("leb-s64-too-long", H + sec(6, b"\x01\x7e\x00\x42" + b"\x80" * 10 + b"\x00\x0b"), "LEB128 too long for s64"),
    ("leb-s64-too-big", H + sec(6, b"\x01\x7e\x00\x42" + b"\xff" * 9 + b"\x0f\x0b"), "too large for s64"),
    ("leb-s33-blocktype-heaptype", H + sec(6, b"\x01\x63\x80\x80\x80\x80\x40\x00\xd0\x70\x0b"), "too large for s33"),
    ("leb-u64-memory64-too-big", H + sec(5, b"\x01\x04" + b"\xff" * 9 + b"\x7f"), "too large for u64"),
    # vector counts
    ("count-exceeds-section", H + sec(5, b"\x05\x00\x01"), "declares 5 entries but ends after 1"),
    ("count-huge", H + sec(2, b"\xff\xff\xff\xff\x0f"), "declares 4294967295 entries but ends after 0"),
    ("type-params-count-huge", H + sec(1, b"\x01\x60\xff\xff\xff\x0f"), "vector count"),
    ("names-count-huge", H + sec(7, b"\x01\x01a\x00\x00") + sec(0, name(b"name") + b"\x01\x06\xff\xff\xff\xff\x0f\x00"), None),
    # entries
    ("bad-valtype", H + sec(1, b"\x01\x60\x01\x55\x00"), "unknown value type 0x55"),
    ("bad-type-form", H + sec(1, b"\x01\x61\x00\x00"), "unknown type form 0x61"),
    ("bad-import-kind", H + sec(2, b"\x01" + name(b"a") + name(b"b") + b"\x07\x00"), "unknown import kind 0x07"),
    ("import-name-bad-utf8", H + sec(2, b"\x01" + name(b"\xff") + name(b"b") + b"\x02\x00\x01"), "UTF-8"),
    ("bad-export-kind", H + sec(7, b"\x01" + name(b"x") + b"\x09\x00"), "unknown export kind 0x09"),
    ("export-name-truncated", H + sec(7, b"\x01\x09ab"), "expected 9 bytes"),
    ("bad-limits-flags", H + sec(5, b"\x01\x10\x01"), "unknown limits flags 0x10"),
    ("bad-page-size", H + sec(5, b"\x01\x08\x01\x41"), "page size 2^65 is malformed"),
    ("bad-mutability", H + sec(6, b"\x01\x7f\x02\x41\x00\x0b"), "mutability must be 0 or 1"),
    ("const-expr-unterminated", H + sec(6, b"\x01\x7f\x00\x41\x00"), "not terminated"),
    ("const-expr-local-get", H + sec(6, b"\x01\x7f\x00\x20\x00\x0b"), "not allowed in a constant expression"),
    ("const-expr-bad-simd", H + sec(6, b"\x01\x7b\x00\xfd\x0d\x0b"), "is not constant"),
    ("bad-elem-flags", H + sec(9, b"\x01\x08"), "unknown element segment flags 8"),
    ("bad-elem-kind", H + sec(9, b"\x01\x01\x05\x00"), "unknown element kind 0x05"),
    ("bad-data-flags", H + MEM1 + sec(11, b"\x01\x03"), "unknown data segment flags 3"),
    ("data-past-section", H + MEM1 + sec(11, b"\x01\x01\x20abc"), "declares 32 bytes"),
    ("datacount-mismatch", H + MEM1 + sec(12, b"\x02") + sec(11, b"\x01\x01\x00"), "data count section says 2"),
    ("datacount-without-data", H + MEM1 + sec(12, b"\x01"), "data count section says 1"),
    ("func-code-mismatch", H + TYPE0 + sec(3, b"\x02\x00\x00") + sec(10, b"\x01\x02\x00\x0b"), "2 functions but the code section has 1"),
    ("code-body-past-section", H + TYPE0 + sec(3, b"\x01\x00") + sec(10, b"\x01\x10\x00\x0b"), "past the end of the code section"),
    ("bad-tag-attribute", H + TYPE0 + sec(13, b"\x01\x01\x00"), "tag attribute must be 0"),
    ("bad-start-section", H + sec(8, b"\x00\x00"), "unexpected bytes"),
    ("bad-heaptype", H + sec(6, b"\x01\x63\x50\x00\xd0\x70\x0b"), "unknown heap type 0x50"),
    ("table-of-i32", H + sec(4, b"\x01\x7f\x00\x01"), "malformed reference type i32"),
    ("elem-of-f64", H + sec(9, b"\x01\x05\x7c\x00"), "malformed reference type f64"),
    # GC and custom-descriptors type encodings
    ("gc-struct-field-mutability-2", H + sec(1, b"\x01\x5f\x01\x7f\x02"), "struct field mutability must be 0 or 1, not 2"),
    ("gc-array-mutability-2", H + sec(1, b"\x01\x5e\x78\x02"), "array element mutability must be 0 or 1, not 2"),
    ("heaptype-two-byte-abstract", H + sec(6, b"\x01\x70\x00\xd0\xf0\x7f\x0b"), "unknown heap type 0x70"),
    ("descriptor-clause-twice", H + sec(1, b"\x01\x4e\x02\x4d\x01\x4d\x01\x5f\x00\x4c\x00\x5f\x00"),
     "unknown type form 0x4d"),
    ("describes-after-descriptor", H + sec(1, b"\x01\x4e\x02\x4d\x01\x5f\x00\x4d\x02\x4c\x00\x5f\x00"),
     "unknown type form 0x4c"),
    ("exact-without-ref", H + sec(1, b"\x01\x5f\x01\x62\x00\x00"), "unknown value type 0x62"),
    ("exact-index-truncated", H + sec(1, b"\x02\x5f\x00\x5f\x01\x63\x62"), "ends inside entry 1"),
    ("exact-func-export", H + TYPE0 + sec(3, b"\x01\x00") + sec(7, b"\x01\x01f\x20\x00")
     + sec(10, b"\x01\x02\x00\x0b"), "unknown export kind 0x20"),
    ("exact-import-kind-0x21", H + TYPE0 + sec(2, b"\x01\x01m\x01f\x21\x00"), "unknown import kind 0x21"),
    # function bodies (decoded when the code section is small)
    ("body-without-end", H + TYPE0 + sec(3, b"\x01\x00") + sec(10, b"\x01\x02\x00\x01"), "ends without `end`"),
    ("body-block-not-closed", H + TYPE0 + sec(3, b"\x01\x00") + sec(10, b"\x01\x04\x00\x02\x40\x0b"),
     "(1 block still open)"),
    ("body-after-end", H + TYPE0 + sec(3, b"\x01\x00") + sec(10, b"\x01\x03\x00\x0b\x01"), "after the final `end`"),
    ("body-unknown-opcode", H + TYPE0 + sec(3, b"\x01\x00") + sec(10, b"\x01\x03\x00\xff\x0b"), "unknown opcode 0xff"),
    ("body-too-many-locals", H + TYPE0 + sec(3, b"\x01\x00")
     + sec(10, b"\x01\x0e\x02\xff\xff\xff\xff\x0f\x7f\xff\xff\xff\xff\x0f\x7f\x0b"), "locals"),
    ("body-memop-flags", H + TYPE0 + sec(3, b"\x01\x00") + MEM1
     + sec(10, b"\x01\x09\x00\x41\x00\x28\x80\x01\x00\x1a\x0b"), "malformed memop flags 0x80"),
    ("body-memory-init-without-datacount", H + TYPE0 + sec(3, b"\x01\x00") + MEM1
     + sec(10, b"\x01\x0c\x00\x41\x00\x41\x00\x41\x00\xfc\x08\x00\x00\x0b") + sec(11, b"\x01\x01\x00"),
     "need a data count section"),
    ("body-cast-desc-bad-heaptype", H + TYPE0 + sec(3, b"\x01\x00")
     + sec(10, b"\x01\x06\x00\xd0\x6e\xfb\x23\x55"), "unknown heap type 0x55"),
    ("body-br-on-cast-desc-truncated", H + TYPE0 + sec(3, b"\x01\x00")
     + sec(10, b"\x01\x07\x00\x02\x40\xfb\x25\x03\x00"), "br_on_cast_desc_eq"),
]


def main() -> None:
    out = os.path.join(os.path.dirname(os.path.abspath(__file__)), "malformed")
    os.makedirs(out, exist_ok=True)
    for name_, data, _ in CORPUS:
        with open(os.path.join(out, name_ + ".wasm"), "wb") as f:
            f.write(data)


if __name__ == "__main__":
    main()
