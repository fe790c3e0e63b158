"""`wasmem call` end to end through the real CLI entry point (exit codes included)."""

import io
import json

import pytest
from conftest import sample
from rich.console import Console

from wasmem.app import call_function
from wasmem.cli.main import main
from wasmem.render.call import CallView
from wasmem.render.trap import collapse_frames

ADDER = '''(module
  (import "env" "log" (func $log (param i32)))
  (memory (export "memory") 1)
  (global $sp (mut i32) (i32.const 4096))
  (func (export "add") (param $a i32) (param $b i32) (result i32)
    (call $log (local.get $a)) (i32.add (local.get $a) (local.get $b)))
  (func (export "crash") (unreachable))
  (func (export "spin") (loop $l (br $l))))'''


def run(capsys, *argv):
    with pytest.raises(SystemExit) as ei:
        main(list(argv))
    out, err = capsys.readouterr()
    return ei.value.code, out, err


def text_of(renderable) -> str:
    c = Console(width=100, file=io.StringIO(), color_system=None)
    c.print(renderable)
    return c.file.getvalue()


def test_call_results_and_host_calls(wat_file, capsys):
    path = wat_file(ADDER)
    code, out, err = run(capsys, "call", path, "add", "2", "-5")
    assert code == 0, err
    assert "→ i32 -3 (0xfffffffd)" in out
    assert "env.log(2)" in out and "[stub]" in out


def test_call_json(wat_file, capsys):
    code, out, _ = run(capsys, "call", wat_file(ADDER), "add", "0x10", "1", "--json")
    data = json.loads(out)
    assert code == 0 and data["results"] == [{"type": "i32", "value": 17}]
    assert data["host_calls"][0]["import"] == "env.log"
    assert data["ok"] is True and data["trap"] is None


def test_trap_exits_1_with_backtrace(wat_file, capsys):
    code, out, err = run(capsys, "call", wat_file(ADDER), "crash")
    assert code == 1 and "unreachable" in out and "#0" in out and err == ""


def test_timeout_exits_1(wat_file, capsys):
    code, out, _ = run(capsys, "call", wat_file(ADDER), "spin", "--timeout", "0.2")
    assert code == 1 and "timed out after 0.2 s" in out


def test_usage_errors_exit_2(wat_file, capsys):
    path = wat_file(ADDER)
    code, _, err = run(capsys, "call", path, "add", "1")
    assert code == 2 and err.startswith("wasmem: error: add expects (i32 a, i32 b) -> i32")
    code, _, err = run(capsys, "call", path, "add", "1", "x")
    assert code == 2 and "not a valid i32" in err
    code, _, err = run(capsys, "call", path, "nothere")
    assert code == 2 and "not an exported function" in err


def test_imported_memory_link_error_exit_2(wat_file, capsys):
    path = wat_file('(module (import "env" "memory" (memory 17)) (func (export "f")))')
    code, _, err = run(capsys, "call", path, "f", "--pages", "16")
    assert code == 2
    assert "LinkError: memory import has 16 pages which is smaller than the declared initial of 17" in err


def test_strict_imports(wat_file, capsys):
    code, out, _ = run(capsys, "call", wat_file(ADDER), "add", "1", "2", "--strict-imports")
    assert code == 1 and "env.log" in out and "strict" in out


def test_before_calls(wat_file, capsys):
    code, out, _ = run(capsys, "call", wat_file(ADDER), "add", "1", "2", "--before", "add 5 5", "--json")
    data = json.loads(out)
    assert code == 0 and data["before"][0]["results"][0]["value"] == 10


def test_render_collapses_recursion_and_shows_sp():
    class F:
        def __init__(self, i, off):
            self.func_index, self.func_offset, self.name, self.module_offset = i, off, f"f{i}", 0
    rows = collapse_frames([F(1, 2), F(3, 4), F(3, 4), F(3, 4), F(5, 0)])
    assert [(f.name, n) for f, n in rows] == [("f1", 1), ("f3", 3), ("f5", 1)]


# -- the C sample ------------------------------------------------------------------------------------
def test_sample_make_point(capsys):
    path = sample("memdemo.wasm")
    code, out, _ = run(capsys, "call", path, "make_point", "1.0", "2.0", "--returns", "x:f64,y:f64")
    assert code == 0 and "x = 1.0, y = 2.0" in out
    code, out, _ = run(capsys, "call", path, "make_point", "1.0", "2.0", "--sret")
    assert "16 bytes returned through a hidden pointer" in out
    assert "00 00 00 00 00 00 f0 3f  00 00 00 00 00 00 00 40" in out


def test_sample_process_string_render():
    o = call_function(sample("memdemo.wasm"), "process_string", ["s:Hello"], timeout=1)
    text = text_of(CallView(o.result, o.session.regions))
    assert "→ i32 2" in text
    assert "s:Hello → ptr 0x" in text and "(via allocate)" in text
    assert "4 bytes changed in 1 range" in text and "ELLO" in text
    o.session.close()


def test_sample_growth_and_stack(capsys):
    path = sample("memdemo.wasm")
    code, out, _ = run(capsys, "call", path, "grow_memory", "1")
    assert code == 0 and "grew from 2 to 3 pages" in out and "detached" in out
    code, out, _ = run(capsys, "call", path, "fib_stack", "5")
    assert "→ i32 5" in out and "stack: peak 320 bytes" in out


def test_sample_wasi_stdout(capsys):
    path = sample("hello_wasi.wasm")
    code, out, _ = run(capsys, "call", path, "greet", "7")
    assert code == 0 and "greet 7" in out
    code, out, _ = run(capsys, "call", path, "_start", "--json")
    data = json.loads(out)
    assert "hello from wasm (argc=1)" in data["stdout"]


def test_check_stack_overflow_exits_1_naming_the_function(capsys):
    path = sample("memdemo-datafirst.wasm")
    code, out, _ = run(capsys, "call", path, "deep", "8", "--check-stack")
    flat = " ".join(out.split()).replace("│", "").replace("  ", " ")
    assert code == 1 and "stack_overflow" in out
    assert "stack overflow in deep: needed at least 9216 bytes, the stack is 8192 bytes" in " ".join(flat.split())
    code, out, _ = run(capsys, "call", path, "deep", "8", "--check-stack", "--json")
    d = json.loads(out)
    assert code == 1 and d["trap"]["kind"] == "stack_overflow" and d["trap"]["overflow"]["function"] == "deep"
    assert d["trap"]["frames"][0]["name"] == "deep" and d["stack"]["overflowed"]
    assert not any(c["start"] < 1216 and c["end"] > 1024 for c in d["changes"])  # static data untouched
    code, out, _ = run(capsys, "call", path, "deep", "8", "--json")  # without: "ok", data overwritten
    d = json.loads(out)
    assert code == 0 and any(c["start"] < 1216 and c["end"] > 1024 for c in d["changes"])


def test_check_stack_exact_peak_in_json(capsys):
    code, out, _ = run(capsys, "call", sample("memdemo.wasm"), "fib_stack", "7", "--check-stack", "--json")
    st = json.loads(out)["stack"]
    assert code == 0 and st["exact_peak_bytes"] == 7 * 64 and abs(st["peak_bytes"] - 7 * 64) <= 128


def test_check_stack_without_stack_pointer_is_a_usage_error(wat_file, capsys):
    code, _, err = run(capsys, "call", wat_file('(module (func (export "f")))'), "f", "--check-stack")
    assert code == 2 and "--check-stack" in err and "no known stack pointer" in err


# -- DWARF (issue 5) -------------------------------------------------------------------------------
@pytest.mark.parametrize("name", ["memdemo-debug.wasm", "memdemo-dwarf5.wasm"])
def test_sret_decoded_by_dwarf_type(name, capsys):
    code, out, err = run(capsys, "call", sample(name), "make_point", "1.0", "2.0")
    assert code == 0, err
    assert "→ Point { x = 1.0, y = 2.0 }" in out
    code, out, err = run(capsys, "call", sample(name), "make_point", "1.0", "2.0", "--json")
    s = json.loads(out)["sret"]
    assert s["type"] == "Point" and s["text"] == "{ x = 1.0, y = 2.0 }"
    assert [(c["label"], c["value"]) for c in s["value"]["children"]] == [(".x", 1.0), (".y", 2.0)]


def test_sret_without_dwarf_keeps_the_layout_rule(capsys):
    code, out, err = run(capsys, "call", sample("memdemo.wasm"), "make_point", "1.0", "2.0", "--sret")
    assert code == 0 and "decode with --returns" in out and "Point" not in out
    code, out, err = run(capsys, "call", sample("memdemo.wasm"), "make_point", "1.0", "2.0")
    assert code == 2 and "make_point expects (i32, f64, f64) but got 2 arguments" in err and "--sret" in err
    code, out, err = run(capsys, "call", sample("memdemo-debug.wasm"), "make_point", "1.0", "2.0",
                         "--returns", "f64,f64")
    assert "f0 = 1.0, f1 = 2.0" in out  # an explicit layout wins over DWARF


def test_returned_pointers_get_symbol_notes(capsys):
    code, out, err = run(capsys, "call", sample("memdemo-debug.wasm"), "get_config")
    assert "→ i32 65624 (0x10058) (Config *) <config>" in out  # with DWARF: the pointer's type too
    code, out, err = run(capsys, "call", sample("memdemo-debug.wasm"), "get_list_head", "--json")
    assert json.loads(out)["result_notes"] == {"0": "(Node *) <node_a>"}
    code, out, err = run(capsys, "call", sample("memdemo.wasm"), "get_names")
    assert "<.data+0x20>" in out  # names only: the segment
    code, out, err = run(capsys, "call", sample("memdemo-debug.wasm"), "fib_stack", "10", "--json")
    assert "result_notes" not in json.loads(out)  # an int return type gets no note


def test_trap_backtrace_has_file_and_line(capsys):
    for name in ("memdemo-debug.wasm", "memdemo-dwarf5.wasm"):
        code, out, err = run(capsys, "call", sample(name), "divide", "1", "0")
        assert code == 1
        assert "divide  memdemo.c:244" in out
        code, out, err = run(capsys, "call", sample(name), "divide", "1", "0", "--json")
        frames = json.loads(out)["trap"]["frames"]
        assert frames[0]["location"] == "memdemo.c:244"
    code, out, err = run(capsys, "call", sample("memdemo-debug.wasm"), "deep", "100000", "--json")
    frames = json.loads(out)["trap"]["frames"]
    assert {f["location"] for f in frames[1:]} == {"memdemo.c:222"}  # int32_t r = deep(n - 1);
    code, out, err = run(capsys, "call", sample("memdemo.wasm"), "divide", "1", "0")
    assert "memdemo.c" not in out  # no DWARF, no lines


def test_returned_pointer_shows_its_dwarf_type_and_the_value_it_points_at(capsys):
    path = sample("memdemo-debug.wasm")
    code, out, _ = run(capsys, "call", path, "get_config")
    assert code == 0 and "(Config *) <config>" in out
    assert ".version (int32_t) = 3" in out and '.name (char[16]) = "wasmem"' in out
    code, out, _ = run(capsys, "call", path, "get_config", "--json")
    d = json.loads(out)
    assert d["result_values"]["0"]["type"] == "Config"


def test_check_stack_shows_the_exact_peak_beside_the_painted_one(capsys):
    code, out, _ = run(capsys, "call", sample("memdemo-datafirst.wasm"), "fib_stack", "5", "--check-stack",
                       "--paint")
    assert code == 0 and "peak 320 bytes" in out and "exact peak 320 bytes (--check-stack)" in " ".join(out.split())
    code, out, _ = run(capsys, "call", sample("memdemo-datafirst.wasm"), "fib_stack", "5", "--check-stack")
    flat = " ".join(out.split())
    assert code == 0 and "peak 320 bytes" in flat and "instrumented: stack pointer writes" in flat


def test_every_run_option_sets_a_session_spec_field():
    from wasmem.cli.call import SPEC_FIELDS
    from wasmem.runtime.spec import SessionSpec

    assert set(SPEC_FIELDS.values()) <= SessionSpec.field_names()
