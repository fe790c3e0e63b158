"""Typed values: call arguments, struct layouts, dump formats, C strings, address expressions."""

import math
import struct

import pytest

from wasmem.errors import UsageError
from wasmem.model.values import (
    MemoryImage,
    c_string,
    decode_array,
    decode_fields,
    eval_address,
    make_dump,
    parse_arg,
    parse_bytes_arg,
    parse_layout,
)


@pytest.mark.parametrize("text,vt,want", [
    ("42", "i32", 42), ("-1", "i32", -1), ("0xffffffff", "i32", -1), ("4294967295", "i32", -1),
    ("0x7fffffff", "i32", 2**31 - 1), ("2147483648", "i32", -2**31), ("0x10", "i64", 16),
    ("18446744073709551615", "i64", -1), ("-9223372036854775808", "i64", -2**63),
    ("1.5", "f64", 1.5), ("-2", "f32", -2.0), ("inf", "f64", math.inf), ("-inf", "f32", -math.inf),
    ("0x1p-2", "f64", 0.25), ("1e3", "f64", 1000.0),
])
def test_parse_arg(text, vt, want):
    assert parse_arg(text, vt) == want


def test_parse_arg_nan_and_errors():
    assert math.isnan(parse_arg("nan", "f64"))
    for text, vt in [("4294967296", "i32"), ("-2147483649", "i32"), ("abc", "i32"), ("1.5", "i32"),
                     ("x", "f64")]:
        with pytest.raises(UsageError):
            parse_arg(text, vt)


def test_bytes_args():
    assert parse_bytes_arg("s:Hello") == b"Hello"
    assert parse_bytes_arg("b:68656c6c6f") == b"hello"
    assert parse_bytes_arg("42") is None
    with pytest.raises(UsageError):
        parse_bytes_arg("b:zz")


def test_layout_c_alignment():
    lay = parse_layout("u8,i32,u8,f64")
    assert [(f.offset, f.size) for f in lay.fields] == [(0, 1), (4, 4), (8, 1), (16, 8)]
    assert lay.size == 24 and lay.align == 8
    named = parse_layout("x:f64, y:f64")
    assert [f.name for f in named.fields] == ["x", "y"] and named.size == 16
    c_style = parse_layout("double x, int y")
    assert [(f.name, f.type, f.offset) for f in c_style.fields] == [("x", "f64", 0), ("y", "i32", 8)]
    assert c_style.size == 16
    arr = parse_layout("i32,u8[5]")
    assert arr.fields[1].count == 5 and arr.size == 12
    with pytest.raises(UsageError, match="unknown field type"):
        parse_layout("f64,widget")


def test_decode_fields():
    lay = parse_layout("x:f64,y:f64")
    vals = decode_fields(struct.pack("<dd", 1.0, 2.0), lay)
    assert [(f.name, v) for f, v in vals] == [("x", 1.0), ("y", 2.0)]
    with pytest.raises(UsageError):
        decode_fields(b"\0" * 8, lay)


def test_decode_array_formats():
    data = bytes(range(1, 9)) + b"\xff"
    assert decode_array(data, "u8")[:3] == [1, 2, 3]
    assert decode_array(b"\xff\xfe", "i8") == [-1, -2]
    assert decode_array(data, "u16") == [0x0201, 0x0403, 0x0605, 0x0807]
    assert decode_array(data, "u16", big_endian=True)[0] == 0x0102
    assert decode_array(data, "i32") == [0x04030201, 0x08070605]
    assert decode_array(data, "u64") == [0x0807060504030201]
    assert decode_array(struct.pack("<f", 1.5), "f32") == [1.5]
    assert decode_array(struct.pack("<I", 0x10000), "ptr") == [0x10000]
    assert decode_array(b"\xff\xff\xff\xff", "i32") == [-1]


def test_c_string():
    assert c_string(b"hello\0world") == "hello"
    assert c_string(b"abcdef", 3) == "abc"
    assert c_string(b"\xff\0") == "\ufffd"


def test_eval_address():
    syms = {"__heap_base": 0x10000, "sp": 0xFFF0}
    assert eval_address("1024", syms.get) == 1024
    assert eval_address("0x400", syms.get) == 1024
    assert eval_address("__heap_base", syms.get) == 0x10000
    assert eval_address("__heap_base+0x10", syms.get) == 0x10010
    assert eval_address("sp - 16", syms.get) == 0xFFE0
    with pytest.raises(UsageError, match="unknown address"):
        eval_address("nothere+4", syms.get)
    with pytest.raises(UsageError, match="negative"):
        eval_address("sp-0x10000", syms.get)


def test_make_dump_rows_and_labels():
    class R:
        def __init__(self, s, e, label):
            self.start, self.end, self.label, self.kind = s, e, label, "data"

    data = bytes(range(40))
    d = make_dump(data, 0x100, regions=[R(0x100, 0x110, ".rodata"), R(0x110, 0x200, ".data")],
                  changed={0x101, 0x112})
    assert [r.address for r in d.rows] == [0x100, 0x110, 0x120]
    assert [r.label for r in d.rows] == [".rodata", ".data", ".data"]
    assert d.rows[0].changed == (1,) and d.rows[1].changed == (2,)
    t = make_dump(data[:16], 0, "u32", width=2)
    assert [len(r.values) for r in t.rows] == [2, 2]
    assert t.to_dict()["rows"][0]["values"] == [0x03020100, 0x07060504]


def test_memory_image_bounds():
    img = MemoryImage(bytes(65536))
    assert img.read(65530, 6) == bytes(6)
    with pytest.raises(UsageError, match="65536 bytes \\(1 page\\)"):
        img.read(65530, 7)
