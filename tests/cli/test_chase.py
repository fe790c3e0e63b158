"""`wasmem chase` on real modules under wasmtime: the linked list and its cycle, function pointers,
strings, heap pointers after --after, DWARF 4 vs 5, names-only and stripped builds, --json."""

import json

import pytest
from conftest import sample
from golden_util import check_golden, render_text

from wasmem.app import chase_memory
from wasmem.cli.main import main
from wasmem.debuginfo import load_symbols
from wasmem.parser import WasmModule
from wasmem.render.chase import render_chase


def run(capsys, *argv):
    with pytest.raises(SystemExit) as ei:
        main(list(argv))
    out, err = capsys.readouterr()
    return ei.value.code, out, err


def node_addresses(name="memdemo-debug.wasm"):
    syms = load_symbols(WasmModule.from_file(sample(name)))
    return tuple(syms.find_symbol(n).address for n in ("node_a", "node_b", "node_c"))


def walk_list(value):
    """(node addresses, last .next pointer) of a typed chase of a Node."""
    out = [value["address"]]
    while True:
        nxt = next(c for c in value["children"] if c["label"] == ".next")
        if "children" not in nxt:
            return out, nxt
        value = nxt["children"][0]
        out.append(value["address"])


@pytest.mark.parametrize("name", ["memdemo-debug.wasm", "memdemo-dwarf5.wasm"])
def test_typed_chase_walks_the_list_to_the_cycle(name, capsys):
    a, b, c = node_addresses(name)
    assert (a, b, c) == (0x10090, 0x100A0, 0x10098)  # a -> b -> c -> a
    code, out, err = run(capsys, "chase", sample(name), "node_a", "--json")
    assert code == 0, err
    d = json.loads(out)
    assert d["mode"] == "typed" and d["type"] == "Node" and d["address"] == a
    nodes, last = walk_list(d["value"])
    assert nodes == [a, b, c]
    assert last["note"] == "cycle" and last["cycle_to"] == a and last["value"] == a
    assert [n["children"][0]["value"] for n in [d["value"]]] == [10]


def test_text_output_marks_the_cycle(capsys):
    code, out, err = run(capsys, "chase", sample("memdemo-debug.wasm"), "node_a")
    assert code == 0, err
    assert "<node_b>" in out and "<node_c>" in out
    assert "↺ cycle to 0x10090" in " ".join(out.split())


def test_dwarf4_and_dwarf5_give_the_same_chase():
    def data(name, at, **kw):
        o = chase_memory(sample(name), at, **kw)
        try:
            d = o.to_dict()
        finally:
            o.session.close()
        return d

    for at in ("node_a", "config", "names", "ops"):
        assert data("memdemo-debug.wasm", at) == data("memdemo-dwarf5.wasm", at), at
    assert data("memdemo-debug.wasm", "node_a", untyped=True) == data("memdemo-dwarf5.wasm", "node_a", untyped=True)


def test_untyped_words_follow_the_list(capsys):
    a, b, c = node_addresses()
    code, out, err = run(capsys, "chase", sample("memdemo-debug.wasm"), "node_a", "--words", "--json")
    assert code == 0, err
    d = json.loads(out)
    assert d["mode"] == "words" and d["words"]["size"] == 8  # node_a's size from DWARF
    w = d["words"]["words"][1]
    assert (w["kind"], w["value"], w["target"], w["region"]) == ("pointer", b, "<node_b>", "data")
    w2 = w["block"]["words"][1]
    assert (w2["value"], w2["target"]) == (c, "<node_c>")
    back = w2["block"]["words"][1]
    assert back["note"] == "cycle" and back["cycle_to"] == a and "block" not in back


def test_function_pointers_are_table_indices(capsys):
    code, out, err = run(capsys, "chase", sample("memdemo-debug.wasm"), "ops", "--json")
    d = json.loads(out)
    assert [c["target"] for c in d["value"]["children"]] == ["op_double", "op_square", "op_negate"]
    assert [c["kind"] for c in d["value"]["children"]] == ["function_pointer"] * 3
    code, out, err = run(capsys, "chase", sample("memdemo.wasm"), "0x100a8", "--len", "12", "--json")
    words = json.loads(out)["words"]["words"]
    assert [(w["kind"], w["value"], w["target"]) for w in words] == [
        ("function", 1, "op_double"), ("function", 2, "op_square"), ("function", 3, "op_negate")]


def test_strings(capsys):
    code, out, err = run(capsys, "chase", sample("memdemo-debug.wasm"), "names", "--json")
    d = json.loads(out)
    assert [c.get("string") for c in d["value"]["children"]] == ["alpha", "beta", "gamma", "delta", None]
    code, out, err = run(capsys, "chase", sample("memdemo.wasm"), "0x10040", "--len", "20", "--json")
    words = json.loads(out)["words"]["words"]
    assert [w.get("string") for w in words] == ["alpha", "beta", "gamma", "delta", None]
    assert words[0]["kind"] == "string" and words[0]["region"] == "rodata" and words[4]["kind"] == "null"


def test_heap_pointer_after_allocate(capsys):
    code, out, err = run(capsys, "chase", sample("memdemo-debug.wasm"), "heap_top", "--words",
                         "--after", "allocate 32", "--json")
    assert code == 0, err
    d = json.loads(out)
    w = d["words"]["words"][0]
    assert w["kind"] == "pointer" and w["region"] == "heap" and w["value"] == 0x100C0 + 32
    assert [r["value"] for r in d["calls"][0]["results"]] == [0x100C0]


def test_typed_free_list_in_the_heap():
    o = chase_memory(sample("memdemo-debug.wasm"), "free_list",
                     after=["allocate 32", "allocate 32", "deallocate 65728 32", "deallocate 65760 32"])
    try:
        v = o.chase.value
        assert v.value == 65760
        blk = v.children[0]
        assert blk.address == 65760 and blk.children[0].value == 32
        nxt = blk.children[1]
        assert nxt.value == 65728 and nxt.children[0].children[1].text == "NULL"
    finally:
        o.session.close()


def test_names_only_and_stripped_builds_give_the_telescope(capsys):
    code, out, err = run(capsys, "chase", sample("memdemo.wasm"), "0x10090", "--len", "8", "--json")
    d = json.loads(out)
    assert d["mode"] == "words" and d["symbols"] == "name section"
    w = d["words"]["words"][1]
    assert (w["value"], w["target"]) == (0x100A0, "<.data+0x80>")
    assert w["block"]["words"][1]["block"]["words"][1]["note"] == "cycle"
    code, out, err = run(capsys, "chase", sample("memdemo-stripped.wasm"), "0x10090", "--len", "8", "--json")
    d = json.loads(out)
    assert d["mode"] == "words"
    w = d["words"]["words"][1]
    assert w["kind"] == "pointer" and w["value"] == 0x100A0
    assert w["block"]["words"][1]["block"]["words"][1]["cycle_to"] == 0x10090
    # symbols in the names-only build: segments
    code, out, err = run(capsys, "chase", sample("memdemo.wasm"), ".data", "--len", "8", "--json")
    assert json.loads(out)["address"] == 0x10020


def test_json_shape(capsys):
    code, out, err = run(capsys, "chase", sample("memdemo-debug.wasm"), "node_a", "--words", "--json")
    d = json.loads(out)
    assert {"address", "expression", "label", "mode", "type", "depth", "word_size", "memory_size", "sp",
            "symbols", "words", "calls"} <= set(d)
    assert d["word_size"] == 4 and d["depth"] == 4 and d["label"] == "<node_a>"
    for w in d["words"]["words"]:
        assert {"address", "value", "kind", "label"} <= set(w)
    code, out, err = run(capsys, "chase", sample("memdemo-debug.wasm"), "node_a", "--json")
    d = json.loads(out)
    assert "value" in d and "words" not in d
    assert {"label", "type", "address", "kind", "children"} <= set(d["value"])


def test_depth_and_errors(capsys):
    code, out, err = run(capsys, "chase", sample("memdemo-debug.wasm"), "free_list", "--depth", "0",
                         "--after", "allocate 16", "--after", "deallocate 65728 16", "--json")
    assert json.loads(out)["value"]["note"] == "depth"
    code, out, err = run(capsys, "chase", sample("memdemo-debug.wasm"), "nosuch")
    assert code == 2 and err.startswith("wasmem: error:") and len(err.strip().splitlines()) == 1
    code, out, err = run(capsys, "chase", sample("memdemo-debug.wasm"), "0x7fffffff")
    assert code == 2 and "outside memory" in err
    code, out, err = run(capsys, "chase", sample("memdemo.wasm"), "config.meta")
    assert code == 2 and "no data symbol, export or named global is named 'config'" in err
    assert "`wasmem symbols " in err and "memdemo.wasm` lists the names it has" in err


def test_memory64_uses_8_byte_words(capsys):
    code, out, err = run(capsys, "chase", sample("memory64.wasm"), "0x10010", "--len", "16", "--json")
    d = json.loads(out)
    assert d["word_size"] == 8 and [w["value"] for w in d["words"]["words"]] == [1, 2]


def test_golden_typed_and_words():
    for name, kw in (("chase-node_a.txt", {}), ("chase-node_a-words.txt", {"untyped": True}),
                     ("chase-config.txt", {"at": "config"})):
        at = kw.pop("at", "node_a")
        o = chase_memory(sample("memdemo-debug.wasm"), at, **kw)
        try:
            check_golden(name, render_text(render_chase(o)))
        finally:
            o.session.close()


def test_chase_in_a_saved_snapshot_follows_the_same_list(tmp_path, capsys):
    image = tmp_path / "mem.bin"
    with pytest.raises(SystemExit):
        main(["dump", sample("memdemo-debug.wasm"), "--at", "0", "--len", "16", "--save", str(image)])
    capsys.readouterr()
    with pytest.raises(SystemExit) as exc:
        main(["chase", sample("memdemo-debug.wasm"), "node_a", "--snapshot", str(image), "--json"])
    assert exc.value.code == 0
    d = json.loads(capsys.readouterr().out)
    text = json.dumps(d)
    assert d["address"] == 0x10090 and "cycle" in text and d.get("sp") is None
