"""Fail fast: every command that takes calls ("FUNC ARGS") checks each export's name, the argument count and
each argument's kind against the module's parsed data before it compiles anything (wasmtime takes minutes on
a large module). Proven by making compiling raise: a wrong call still gets its one-line usage error (exit 2),
a right one reaches the compile. And the two progress lines a non-interactive run prints around a compile."""

import json

import pytest
import wasmtime
from conftest import run_main, wat

from wasmem.app import check_calls, load_module
from wasmem.errors import UsageError

MODULE = """
(module
  (memory (export "memory") 1)
  (global $sp (mut i32) (i32.const 4096))
  (global $brk (mut i32) (i32.const 8192))
  (func (export "add") (param i32 i32) (result i32) local.get 0 local.get 1 i32.add)
  (func (export "scale") (param f64) (result f64) local.get 0 f64.const 2 f64.mul)
  (func (export "fill") (param i32 i32) local.get 0 i32.const 7 local.get 1 memory.fill)
  (func (export "malloc") (param i32) (result i32)
    (local i32) global.get $brk local.set 1
    global.get $brk local.get 0 i32.add i32.const 15 i32.add i32.const -16 i32.and global.set $brk
    local.get 1)
  (func (export "free") (param i32))
  (export "__stack_pointer" (global $sp)))
"""


class Compiled(Exception):
    pass


@pytest.fixture
def module(tmp_path):
    p = tmp_path / "m.wasm"
    p.write_bytes(wat(MODULE))
    return str(p)


@pytest.fixture
def no_compile(monkeypatch):
    """Compiling raises ``Compiled`` (and is counted in the list returned): whatever reaches it was not stopped
    before."""
    import wasmem.runtime.engine as engine
    import wasmem.runtime.session as session

    reached = []

    def boom(*args, **kwargs):
        reached.append(args[:1])
        raise Compiled("compiled")

    monkeypatch.setattr(engine, "compile_module", boom)
    monkeypatch.setattr(session, "compile_module", boom)
    monkeypatch.setattr(wasmtime.Module, "__init__", boom)
    monkeypatch.setenv("WASMEM_PROGRESS", "0")
    return reached


# (command line after the module, what the error says)
WRONG = [
    (["call", "{m}", "nosuch"], "'nosuch' is not an exported function of m.wasm"),
    (["call", "{m}", "add", "1"], "add expects (i32, i32) -> i32 but got 1 argument: 1"),
    (["call", "{m}", "add", "1", "x"], "add: argument 2: "),
    (["call", "{m}", "scale", "z:hi"], "scale: argument 1 'z:hi' is a pointer but parameter 1 is f64"),
    (["call", "{m}", "add", "1", "2", "--before", "fill 0"], "fill expects (i32, i32) but got 1 argument"),
    (["call", "{m}", "add", "1", "2", "--alloc", "nosuch"], "--alloc nosuch: not an exported function"),
    (["call", "{m}", "add", "1", "2", "--alloc", "memory"], "--alloc memory: not an exported function"),
    (["call", "{m}", "add", "1", "2", "--write", "nonsense"], "nonsense"),
    (["call", "{m}", "memory"], "'memory' is not an exported function of m.wasm"),
    (["dump", "{m}", "--after", "nosuch 1"], "'nosuch' is not an exported function"),
    (["dump", "{m}", "--after", "add 1 2", "--after", "add 1"], "add expects (i32, i32) -> i32 but got 1"),
    (["chase", "{m}", "0x100", "--after", "scale s:hello"], "scale expects (f64) -> f64 but got 1 argument"),
    (["heap", "{m}", "--after", "nosuch"], "'nosuch' is not an exported function"),
    (["heap", "{m}", "--after", "add 1.5 2"], "add: argument 1: "),
    (["leaks", "{m}", "add 1"], "add expects (i32, i32) -> i32 but got 1 argument"),
    (["leaks", "{m}", "add 1 2", "--before", "nosuch"], "'nosuch' is not an exported function"),
    (["watch", "{m}", "0x100:4", "--after", "nosuch"], "'nosuch' is not an exported function"),
    (["watch", "{m}", "0x100:4", "--after", "add 1 2", "--before", "scale"], "scale expects (f64) -> f64 but got 0"),
    (["stack", "{m}", "--call", "nosuch"], "'nosuch' is not an exported function"),
    (["stack", "{m}", "--call", "fill 1 2 3"], "fill expects (i32, i32) but got 3 arguments"),
    (["view", "{m}", "--after", "nosuch"], "'nosuch' is not an exported function"),
    (["view", "{m}", "--after", "scale 1 2"], "scale expects (f64) -> f64 but got 2 arguments"),
]


@pytest.mark.parametrize("argv, says", WRONG, ids=[" ".join(a).replace("{m}", "M") for a, _ in WRONG])
def test_a_wrong_call_fails_before_compiling(capsys, module, no_compile, argv, says):
    code, out, err = run_main(capsys, *[a.format(m=module) for a in argv])
    assert code == 2, err
    assert err.startswith("wasmem: error: ") and says in err, err
    assert len(err.strip().splitlines()) == 1, err  # the one line, no traceback
    assert out == ""
    assert no_compile == []


@pytest.mark.parametrize("argv", [
    ["call", "{m}", "add", "1", "2"], ["dump", "{m}", "--after", "add 1 2"], ["heap", "{m}", "--after", "fill 0 4"],
    ["leaks", "{m}", "scale 1.5", "-n", "1"], ["watch", "{m}", "0x100:4", "--after", "fill 256 4"],
    ["stack", "{m}", "--call", "add 1 2"], ["chase", "{m}", "0x100", "--after", "malloc 16"],
])
def test_a_right_call_reaches_the_compile(capsys, module, no_compile, argv):
    """The control: the patch above does stop compiling, and the checks let a right call through."""
    try:
        code, _, err = run_main(capsys, *[a.format(m=module) for a in argv])
    except Compiled:  # a command that does not map unexpected errors to an exit code
        code, err = None, ""
    assert no_compile, err
    assert code != 0


def test_the_right_calls_run(capsys, module):
    code, out, err = run_main(capsys, "call", module, "add", "2", "3", "--before", "fill 256 4", "--json")
    assert code == 0, err
    assert json.loads(out)["results"][0]["value"] == 5


def test_check_calls_library(module):
    m = load_module(module)
    check_calls(m, ["add 1 2", ("scale", ["2.5"]), ("fill", ["s:abc"]), ("fill", ["256", "4"], {"sret": False,
                                                                                           "writes": ["0x10=ff"]})],
                alloc="malloc,free")
    with pytest.raises(UsageError, match="did you mean add"):
        check_calls(m, ["ad 1 2"])
    with pytest.raises(UsageError, match="has no hidden result pointer"):
        check_calls(m, [("add", ["1"], {"sret": True})])
    with pytest.raises(UsageError, match="cannot parse call"):
        check_calls(m, ["add 'open"])


# -- the progress lines of a run whose stderr is not a terminal ---------------------------------------------
def test_two_lines_on_stderr_around_a_compile(capsys, module, monkeypatch):
    monkeypatch.delenv("WASMEM_PROGRESS", raising=False)
    monkeypatch.setenv("WASMEM_PROGRESS_MIN_BYTES", "0")  # this small module counts as large
    code, out, err = run_main(capsys, "call", module, "add", "2", "3", "--json")
    assert code == 0, err
    assert json.loads(out)["results"][0]["value"] == 5  # stdout untouched
    lines = err.splitlines()
    assert len(lines) == 2, err
    assert lines[0].startswith("wasmem: compiling m.wasm (") and "B" in lines[0]
    assert lines[1].startswith("wasmem: compiled m.wasm in ") and lines[1].endswith(" s")
    assert "\x1b" not in err and "\r" not in err  # plain lines: nothing redrawn


def test_no_lines_for_a_small_module_or_when_turned_off(capsys, module, monkeypatch):
    monkeypatch.delenv("WASMEM_PROGRESS", raising=False)
    monkeypatch.delenv("WASMEM_PROGRESS_MIN_BYTES", raising=False)  # default: 1 MiB, far above this module
    code, _, err = run_main(capsys, "call", module, "add", "2", "3")
    assert code == 0 and err == ""
    monkeypatch.setenv("WASMEM_PROGRESS_MIN_BYTES", "0")
    monkeypatch.setenv("WASMEM_PROGRESS", "0")
    code, _, err = run_main(capsys, "call", module, "add", "2", "3")
    assert code == 0 and err == ""


def test_the_end_line_says_when_the_start_failed(capsys, tmp_path, monkeypatch):
    """--check-stack needs a stack pointer: the session fails after the start line, before compiling."""
    p = tmp_path / "nosp.wasm"
    p.write_bytes(wat('(module (func (export "f")))'))
    monkeypatch.delenv("WASMEM_PROGRESS", raising=False)
    monkeypatch.setenv("WASMEM_PROGRESS_MIN_BYTES", "0")
    code, out, err = run_main(capsys, "call", str(p), "f", "--check-stack")
    assert code == 2 and out == ""
    lines = err.splitlines()
    assert len(lines) == 3, err
    assert lines[0].startswith("wasmem: compiling nosp.wasm (")
    assert lines[1].startswith("wasmem: compiling nosp.wasm stopped after ") and lines[1].endswith(" s")
    assert lines[2].startswith("wasmem: error: ")


def test_other_commands_print_them_too(capsys, module, monkeypatch):
    monkeypatch.delenv("WASMEM_PROGRESS", raising=False)
    monkeypatch.setenv("WASMEM_PROGRESS_MIN_BYTES", "0")
    for argv in (["dump", module, "--after", "fill 256 4", "--at", "0x100", "--len", "16"],
                 ["stack", module, "--call", "add 1 2"]):
        code, out, err = run_main(capsys, *argv)
        assert code == 0, err
        assert [ln.split(" m.wasm")[0] for ln in err.splitlines()] == ["wasmem: compiling", "wasmem: compiled"], err
        assert "wasmem: compil" not in out
