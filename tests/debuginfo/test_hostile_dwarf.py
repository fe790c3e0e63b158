"""Hostile DWARF (issue 18, "DWARF is trusted"): crafted modules built here by ``dwarf_gen``, never
binaries in git. Every command that reads DWARF (`symbols`, `dump`, `chase`, and `call`, which
reads it for return types) finishes in bounded time without an internal error (exit 3), and says
why when it does not use the DWARF. Time bounds are loose (a generous factor) and count this process's
CPU time, not the wall clock, so that a loaded machine does not fail them; the exact numbers are
measured by running the generators by hand (see ``attribute_bomb``)."""

from __future__ import annotations

import json
import os
import time

import dwarf_gen as gen
import pytest
from debuginfo_util import data_path

from wasmem.cli.main import main
from wasmem.debuginfo import StaticMemory, format_value, load_symbols
from wasmem.debuginfo import dwarfread as dwarf_mod
from wasmem.debuginfo.debugfile import resolve_external_debug_file
from wasmem.parser import WasmModule

SLOW = 10.0  # CPU seconds: far above what any case takes (well under 2 s each)


def run(argv, capsys) -> tuple[int, str, str, float]:
    t = time.process_time()
    with pytest.raises(SystemExit) as exc:
        main(argv)
    took = time.process_time() - t
    out = capsys.readouterr()
    return exc.value.code, out.out, out.err, took


# case → (generator, the symbol to dump and chase, what `symbols` must show)
CASES = {
    "typedef_cycle": (gen.typedef_cycle, "cyc", ["cyc", " A "]),
    "const_cycle": (gen.const_cycle, "cv", ["const volatile <cycle>", "<cycle> *"]),
    "self_array": (gen.self_array, "arr", ["<cycle>[4]"]),
    "self_struct": (gen.self_struct, "node", ["struct node"]),
    "deep_namespaces": (gen.deep_namespaces, "top", ["::…::deep", "top"]),
    "many_dimensions": (gen.many_dimensions, "grid", ["<too", "deep>[1][1]"]),
    "pointer_chain": (lambda: gen.pointer_chain(5000, every=100), "chain", ["<too deep>", "int *"]),
    "spec_cycle": (gen.spec_cycle, "plain", ["plain"]),
    "sibling_loop": (gen.sibling_loop, "s", ["struct s"]),
    "name_amplifier": (lambda: gen.name_amplifier(n=300), "fp0", ["fp299"]),
    "huge_numbers": (gen.huge_numbers, "t", ["int[][3]", "struct S", "struct T"]),
    "line_header_bomb": (gen.line_header_bomb, "x", ["symbols from dwarf"]),
    "leb_bomb": (gen.leb_bomb, "0x400", ["absurd LEB128", "DWARF not used"]),
    "string_bomb": (gen.string_bomb, "0x400", ["DWARF over budget", "bytes of strings", "DWARF not used"]),
    "attribute_bomb_31k": (lambda: gen.attribute_bomb(31_000), "0x400", ["more than 256 attributes"]),
    "attribute_bomb_400k": (lambda: gen.attribute_bomb(400_000), "0x400", ["more than 256 attributes"]),
    "attribute_bomb_400k_k256": (lambda: gen.attribute_bomb(400_000, 256), "0x400",
                                 ["DWARF over budget", "attribute decodes", "DWARF not read whole",
                                  "symbols from dwarf index"]),
}


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    d = tmp_path_factory.mktemp("hostile")
    out = {}
    for name, (make, _sym, _want) in CASES.items():
        p = d / f"{name}.wasm"
        p.write_bytes(make())
        out[name] = str(p)
    return out


@pytest.mark.parametrize("case", list(CASES))
def test_symbols(case, files, capsys):
    code, out, err, took = run(["symbols", files[case], "--functions"], capsys)
    assert code == 0, err
    assert took < SLOW
    text = " ".join(out.split())  # the table wraps long cells
    for want in CASES[case][2]:
        assert " ".join(want.split()) in text, (want, out)


@pytest.mark.parametrize("case", list(CASES))
def test_dump(case, files, capsys):
    sym = CASES[case][1]
    argv = ["dump", files[case], "--at", sym] + ([] if sym.startswith("0x") else ["--type", "auto"])
    code, out, err, took = run(argv, capsys)
    assert code == 0, err
    assert took < SLOW


@pytest.mark.parametrize("case", list(CASES))
def test_chase(case, files, capsys):
    code, out, err, took = run(["chase", files[case], CASES[case][1], "--depth", "8"], capsys)
    assert code == 0, err
    assert took < SLOW


@pytest.mark.parametrize("case", list(CASES))
def test_call(case, files, capsys):
    code, out, err, took = run(["call", files[case], "f"], capsys)
    assert code == 0, err
    assert "7" in out
    assert took < SLOW


def test_json_says_why_dwarf_is_not_used(files, capsys):
    code, out, err, _ = run(["symbols", files["attribute_bomb_400k_k256"], "--json"], capsys)
    assert code == 0 and isinstance(json.loads(out), list)
    assert "DWARF not read whole: DWARF over budget" in err and err.count("\n") == 1
    code, out, err, _ = run(["chase", files["string_bomb"], "0x400", "--json"], capsys)
    assert code == 0 and "DWARF over budget" in json.loads(out)["symbols"]


# -- the types themselves ---------------------------------------------------------------------
def table(data: bytes):
    return load_symbols(WasmModule.from_bytes(data, "hostile.wasm"))


def test_cycles_become_cycle_types():
    t = table(gen.typedef_cycle())
    cyc = t.find_symbol("cyc")
    assert cyc.type.name == "A" and cyc.size is None
    assert cyc.type.strip().name == "<cycle>" and not cyc.type.is_aggregate
    arr = table(gen.self_array()).find_symbol("arr")
    assert arr.type.name == "<cycle>[4]" and arr.size is None and arr.type.dims == (4,)
    node = table(gen.self_struct()).find_symbol("node").type
    assert [m.type.name for m in node.members] == ["struct node *", "<cycle>", "<cycle>"]
    assert node.align == 4 and node.find_member("nothing") is None


def test_depth_is_bounded():
    from wasmem.debuginfo.typesys import MAX_TYPE_DEPTH

    grid = table(gen.many_dimensions()).find_symbol("grid")
    assert len(grid.type.dims) == MAX_TYPE_DEPTH and grid.size == 4
    t = table(gen.pointer_chain(5000, every=1))  # each level built on the one before: a 5,000-deep chain
    chain = t.find_symbol("chain").type
    assert chain.name.startswith("<too deep> *") and chain.name.count("*") <= MAX_TYPE_DEPTH + 1
    ns = table(gen.deep_namespaces())
    deep = [s for s in ns.data_symbols if s.name.endswith("::deep")]
    assert len(deep) == 1 and deep[0].name.count("::") <= 66


def test_names_of_shared_function_types_are_spelled_once():
    """12 levels of function types with 8 parameters each: spelled out, a name would have 8**12
    parts; each is cut at MAX_TYPE_NAME characters and the parameter lists are shared, so 5,000
    variables of distinct pointer types to it take well under a second, not hours."""
    from wasmem.debuginfo.typesys import MAX_TYPE_NAME

    t0 = time.process_time()
    t = table(gen.name_amplifier(n=5000))
    names = {s.type_name for s in t.data_symbols if s.name.startswith("fp")}
    assert len(names) == 1 and len(names.pop()) <= MAX_TYPE_NAME
    assert time.process_time() - t0 < SLOW


def test_value_trees_are_bounded():
    from wasmem.debuginfo.values import MAX_VALUE_NODES

    data = gen.many_dimensions()
    m = WasmModule.from_bytes(data, "x.wasm")
    t = load_symbols(m)
    v = format_value(t.find_symbol("grid").type, StaticMemory(m), 0x400, depth=10**6, symbols=t)

    def count(x):
        n, todo = 0, [x]
        while todo:
            y = todo.pop()
            n += 1
            todo.extend(y.children)
        return n

    assert count(v) <= MAX_VALUE_NODES


def test_the_decode_budget_applies_and_is_named(monkeypatch):
    monkeypatch.setattr(dwarf_mod, "MAX_DWARF_DECODES", 100)
    t = load_symbols(WasmModule.from_file(data_path("globals-dwarf4.wasm")))
    assert not t.has_dwarf and "more than 100 attribute decodes" in t.dwarf_error
    # the DWARF index still gives names, addresses and sizes (no types, no file:line), and the note says so
    assert t.dwarf_note.startswith(f"DWARF not read whole: {t.dwarf_error}; names, addresses and sizes")
    assert t.index_only and t.source.startswith("dwarf index")
    assert {s.name for s in t.data_symbols if s.kind == "variable"} >= {"counter", "cfg", "grid"}


def test_the_line_table_has_its_own_budget(monkeypatch):
    t = load_symbols(WasmModule.from_file(data_path("globals-dwarf4.wasm")))
    assert t.has_dwarf and t.dwarf_note is None
    add = t.find_symbol("add")
    monkeypatch.setattr(dwarf_mod, "MAX_DWARF_READ", 10)
    assert t.location_of(add.address + 3) is None
    assert "bytes of strings and tables read" in t.debug_info.line_error
    assert t.dwarf_note == f"no file:line from DWARF: {t.debug_info.line_error}"
    assert t.find_symbol("add").type is not None  # the names and types stay


def test_no_limit_counts_time(monkeypatch):
    """A machine 1,000 times slower (every clock reading an hour after the last) reads the same DWARF
    whole, with the same file:line: the budgets count work, and nothing is cut by the time it took."""
    m = WasmModule.from_file(data_path("globals-dwarf4.wasm"))
    fast = load_symbols(m)
    want = [(s.name, s.address, s.type_name, s.file, s.line) for s in fast.data_symbols]
    add = fast.find_symbol("add")
    where = fast.location_of(add.address + 3)
    assert where is not None and fast.dwarf_note is None
    clock = iter(range(0, 10**9, 3600))
    for name in ("monotonic", "perf_counter", "time", "process_time"):
        monkeypatch.setattr(time, name, lambda: float(next(clock)))
    slow = load_symbols(WasmModule.from_file(data_path("globals-dwarf4.wasm")))
    assert slow.has_dwarf and [(s.name, s.address, s.type_name, s.file, s.line) for s in slow.data_symbols] == want
    assert slow.location_of(add.address + 3) == where and slow.dwarf_note is None


def test_the_attribute_budget_is_linear_in_the_input():
    """The decodes allowed grow with the DWARF's size: 31 KB and 400 KB bombs both stop, the larger
    one after proportionally more work (both in well under a second or two)."""
    times = {}
    for size in (31_000, 400_000):
        t0 = time.process_time()
        t = table(gen.attribute_bomb(size, 256))
        assert "attribute decodes" in t.source
        times[size] = time.process_time() - t0
    assert times[400_000] < SLOW


# -- external_debug_info -------------------------------------------------------------------------
@pytest.fixture
def debug_copy():
    with open(data_path("globals-dwarf4.wasm"), "rb") as f:
        return f.read()


def with_ref(tmp_path, ref: str, folder: str = "app"):
    d = tmp_path / folder
    d.mkdir(exist_ok=True)
    p = d / "app.wasm"
    p.write_bytes(gen.external_debug(ref))
    return str(p)


def test_absolute_paths_are_not_followed(tmp_path, debug_copy, capsys):
    target = tmp_path / "x.debug.wasm"
    target.write_bytes(debug_copy)  # a real debug file: refused all the same
    for ref in ("/etc/passwd", str(target)):
        app = with_ref(tmp_path, ref)
        m = WasmModule.from_file(app)
        assert resolve_external_debug_file(m) == (None, "refused: an absolute path (only a path beside the "
                                                        "module is followed)")
        t = load_symbols(m)
        assert not t.has_dwarf
        code, out, err, _ = run(["symbols", app], capsys)
        assert code == 0 and "refused: an absolute path" in " ".join(out.split())
        assert "root:" not in out + err


def test_parent_paths_and_escaping_links_are_not_followed(tmp_path, debug_copy, capsys):
    (tmp_path / "x").write_bytes(debug_copy)
    app = with_ref(tmp_path, "../x")
    assert resolve_external_debug_file(WasmModule.from_file(app))[1] == "refused: the path leaves the module's folder"
    code, out, err, _ = run(["symbols", app, "--json"], capsys)
    assert code == 0 and "refused: the path leaves the module's folder" in err
    assert not any(r["kind"] == "variable" for r in json.loads(out))
    os.symlink(str(tmp_path / "x"), str(tmp_path / "app" / "link.wasm"))
    app = with_ref(tmp_path, "link.wasm")
    assert resolve_external_debug_file(WasmModule.from_file(app))[1].startswith("refused: a symbolic link")
    # a link that stays in the folder is fine
    (tmp_path / "app" / "real.wasm").write_bytes(debug_copy)
    os.symlink("real.wasm", str(tmp_path / "app" / "inside.wasm"))
    app = with_ref(tmp_path, "inside.wasm")
    t = load_symbols(WasmModule.from_file(app))
    assert t.has_dwarf and t.find_symbol("cfg").type_name == "struct config"


def test_only_regular_files_are_read(tmp_path, capsys):
    os.mkfifo(str(tmp_path / "app.fifo")) if hasattr(os, "mkfifo") else pytest.skip("no FIFOs")
    app = str(tmp_path / "app.wasm")
    with open(app, "wb") as f:
        f.write(gen.external_debug("app.fifo"))
    m = WasmModule.from_file(app)
    assert resolve_external_debug_file(m) == (None, "refused: not a regular file")
    code, out, err, took = run(["symbols", app, "--debug-file", str(tmp_path / "app.fifo")], capsys)
    assert code == 2 and "not a regular file" in err and took < SLOW


def test_debug_file_option(tmp_path, debug_copy, capsys):
    dbg = tmp_path / "elsewhere" / "app.debug.wasm"
    dbg.parent.mkdir()
    dbg.write_bytes(debug_copy)
    app = with_ref(tmp_path, "/etc/passwd")
    code, out, err, _ = run(["symbols", app, "--debug-file", str(dbg)], capsys)
    assert code == 0, err
    # the path wraps where the terminal width falls in it (anywhere: it depends on the temp folder's name)
    assert f"symbolsfromdwarf(external{dbg})" in "".join(out.split()) and "cfg" in out
    code, out, err, _ = run(["symbols", app, "--debug-file", str(tmp_path / "missing.wasm")], capsys)
    assert code == 2 and f"--debug-file {tmp_path / 'missing.wasm'}: no such file" in err
    code, out, err, _ = run(["symbols", app, "--debug-file", app], capsys)
    assert code == 2 and "has no .debug_info" in err
