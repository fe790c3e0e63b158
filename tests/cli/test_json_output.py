"""`print_json`: the streamed, batched writer gives the same document as the stdlib, whichever encoder it uses."""

import io
import json

import pytest

from wasmem.cli import common


def doc():
    seg = {"index": 1, "address": 0x10000, "name": "caf\u00e9\n\x1b", "bytes": [1, 2, 3], "ratio": 0.5,
           "big": 1 << 70, "none": None, "ok": True, "nested": {"a": [], "b": {}}}
    return {"schema": 1, "empty": [], "memories": [{"min": 17, "max": None, "segments": [seg] * 3}],
            "segments": [dict(seg, index=i) for i in range(10_000)], "text": "x", "float": -1.25}


def written(data) -> str:
    out = io.StringIO()
    common.print_json(data, out)
    return out.getvalue()


@pytest.mark.parametrize("force_fallback", [False, True])
def test_same_document_as_json(monkeypatch, force_fallback):
    if force_fallback:
        monkeypatch.setattr(common, "_leaf_encoder", lambda: json.dumps)
    data = doc()
    text = written(data)
    assert json.loads(text) == data
    assert text.endswith("}\n") and text.count("\n") > 10_000  # one segment per line, not one huge line
    lines = text.splitlines()
    assert lines[0] == "{" and lines[1] == '  "schema": 1,' and lines[2] == '  "empty": [],'
    # each segment's members get a line; below the inline depth, values are written as json.dumps writes them
    assert '      "nested": {"a": [], "b": {}}' in lines and '      "bytes": [1, 2, 3],' in lines
    assert '      "name": "caf\\u00e9\\n\\u001b",' in lines


def test_fast_encoder_matches_dumps():
    enc = common._leaf_encoder()
    for v in [doc()["segments"][0], [1.0, 2.5e300, -0.0], "\u2603", {"k": [None, False]}, 12345678901234567890]:
        assert enc(v) == json.dumps(v)


@pytest.mark.parametrize("force_fallback", [False, True])
def test_nan_and_inf_are_strings_never_bare_tokens(monkeypatch, force_fallback):
    """JSON has no NaN or Infinity: wherever such a float stands (a host call's argument, a DWARF value deep
    in a tree), it is written as "nan", "inf" or "-inf", and the document stays valid JSON."""
    if force_fallback:
        monkeypatch.setattr(common, "_leaf_encoder", lambda: common.functools.partial(json.dumps, allow_nan=False))
    data = {"top": float("nan"), "list": [1.5, float("inf")],
            "deep": {"a": {"b": {"c": [float("-inf"), {"d": float("nan")}]}}}}
    text = written(data)
    assert "NaN" not in text and "Infinity" not in text
    assert json.loads(text) == {"top": "nan", "list": [1.5, "inf"],
                                "deep": {"a": {"b": {"c": ["-inf", {"d": "nan"}]}}}}


def test_large_output_is_written_in_batches():
    writes = []

    class Out:
        def write(self, s):
            writes.append(len(s))

    common.print_json(doc(), Out())
    assert len(writes) > 2 and max(writes) < 2_000_000


def test_generators_are_written_as_the_lists_they_make():
    """stack --json streams its frames and paths: a generator anywhere is written exactly as its list."""
    data = doc()
    lazy = dict(data, segments=(s for s in data["segments"]), memories=(m for m in data["memories"]),
                deep={"a": {"b": (x for x in [1, 2, {"c": 3}])}, "e": (x for x in [])})
    eager = dict(data, deep={"a": {"b": [1, 2, {"c": 3}]}, "e": []})
    assert written(lazy) == written(eager)


def test_stack_json_streamed_is_the_same_document():
    from conftest import sample

    from wasmem.app import load_module
    from wasmem.model.stackframes import analyze_stack, stack_to_dict

    for name in ("memdemo.wasm", "memdemo-O0.wasm", "hosts-emscripten.wasm"):
        sa = analyze_stack(load_module(sample(name)))
        assert written(stack_to_dict(sa, 25, lazy=True)) == written(stack_to_dict(sa, 25))
