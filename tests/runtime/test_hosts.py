"""Host profiles (wasmem/runtime/hosts/) on real modules under real wasmtime: the samples/hosts-*.wat
modules import what each toolchain's output imports; every test checks what the host did (decoded
messages, output, memory growth, exits) and which profile was chosen."""

import io
import json
import time

import pytest
import wasmtime
from conftest import sample, wat
from rich.console import Console

from wasmem.app import call_function, open_session
from wasmem.cli.main import main
from wasmem.errors import UsageError
from wasmem.parser import WasmModule
from wasmem.render.call import render_call
from wasmem.runtime.hosts import HOST_NAMES, choose_host, define_host_imports, make_host_function


def session(name, **kw):
    return open_session(sample(name), **kw)


def calls_of(r):
    return [(h.module, h.name, h.handled_by, h.stub) for h in r.host_calls]


def run_cli(capsys, *argv):
    with pytest.raises(SystemExit) as ei:
        main(list(argv))
    out, err = capsys.readouterr()
    return ei.value.code, out, err


# -- WASI ------------------------------------------------------------------------------------------
def test_wasi_reactor_with_imported_memory_runs_initialize_once():
    """Imported memory + WASI used to fail in _initialize: "missing required memory export"."""
    with session("hosts-wasi-reactor.wasm") as s:
        c = s.host_choice
        assert (c.name, c.wasi, c.label) == ("wasi", True, "wasi")
        assert c.reason == "imports wasi_snapshot_preview1 (fd_write), a reactor (_initialize)"
        assert c.notes == ["the imported memory env.memory exported as `memory` for WASI"]
        assert s.init_function == "_initialize" and s.init_output == (b"init\n", b"")
        r = s.call("hi", [])
        assert r.ok and r.results == [3] and r.stdout == b"hi\n"
        assert s.call("inits", []).results == [1]
        with pytest.raises(UsageError, match=r"^_initialize already ran when wasmem opened hosts-wasi-reactor.wasm: "
                                             r"a WASI reactor's _initialize runs once"):
            s.call("_initialize", [])
        assert s.call("inits", []).results == [1]  # refused before anything ran


def test_calling_initialize_again_is_a_usage_error_in_the_cli(capsys):
    code, out, err = run_cli(capsys, "call", sample("hosts-wasi-reactor.wasm"), "_initialize")
    assert code == 2 and out == ""
    assert err.startswith("wasmem: error: _initialize already ran when wasmem opened hosts-wasi-reactor.wasm")


def test_wasi_command_gets_argv_and_stdin_and_exits_with_its_status(tmp_path):
    stdin = tmp_path / "in.txt"
    stdin.write_bytes(b"line one\nline two\n")
    with session("hosts-wasi-command.wasm", wasi_args=["one", "two words"], wasi_stdin=str(stdin)) as s:
        assert s.host_choice.reason.endswith(", a command (_start)")
        r = s.call("_start", [])
    assert (r.trap.kind, r.trap.exit_code, r.trap.message) == ("exit", 2, "the program exited with status 2")
    assert not r.ok
    assert r.stdout == b"one\ntwo words\nline one\nline two\n"
    with session("hosts-wasi-command.wasm") as s:  # no arguments, empty stdin: exit 0
        r = s.call("_start", [])
    assert r.ok and r.trap.exit_code == 0 and r.stdout == b""


def test_wasi_command_from_the_cli(tmp_path, capsys):
    stdin = tmp_path / "in.txt"
    stdin.write_text("from a file\n")
    code, out, err = run_cli(capsys, "call", sample("hosts-wasi-command.wasm"), "_start", "--arg=-x",
                             "--arg", "y", "--stdin", str(stdin), "--json")
    d = json.loads(out)
    assert code == 1 and d["trap"]["exit_code"] == 2 and d["stdout"] == "-x\ny\nfrom a file\n"
    assert d["host"] == {"profile": "wasi", "requested": "auto", "wasi": True,
                         "reason": "imports wasi_snapshot_preview1 (args_sizes_get, args_get, fd_read … 5 in all), "
                                   "a command (_start)"}
    code, _, err = run_cli(capsys, "call", sample("hosts-wasi-command.wasm"), "_start", "--stdin",
                           str(tmp_path / "missing"))
    assert code == 2 and "--stdin" in err


def test_arg_and_stdin_need_a_wasi_module():
    with pytest.raises(UsageError, match=r"--arg: hosts-go.wasm does not use WASI \(host profile go"):
        session("hosts-go.wasm", wasi_args=["x"])
    with pytest.raises(UsageError, match="--stdin /nonexistent/stdin: no such file"):
        session("hosts-wasi-command.wasm", wasi_stdin="/nonexistent/stdin")


# -- Emscripten ------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def em():
    s = open_session(sample("hosts-emscripten.wasm"))
    yield s
    s.close()


def test_emscripten_is_detected_and_brings_wasi(em):
    c = em.host_choice
    assert (c.name, c.wasi, c.label) == ("emscripten", True, "emscripten + WASI")
    assert c.reason == "imports env.__assert_fail, env.emscripten_resize_heap (+15 more)"
    assert c.notes == ["the imported memory env.memory exported as `memory` for WASI"]


def test_assert_fail_is_a_trap_with_emscriptens_message(em):
    assert em.call("check", ["3"]).results == [6]
    r = em.call("check", ["0"])
    assert (r.trap.kind, r.trap.message) == ("abort", "Assertion failed: n > 0, at: hosts.c,12,check")
    assert [f.name for f in r.trap.frames] == ["check"]  # the frames that called the import
    (h,) = r.host_calls
    assert (h.name, h.args, h.handled_by, h.message) == ("__assert_fail", (1024, 1032, 12, 1040), "emscripten",
                                                         "Assertion failed: n > 0, at: hosts.c,12,check")


def test_resize_heap_grows_memory_as_the_js_does():
    with session("hosts-emscripten.wasm") as s:
        r = s.call("grow", ["200000"])  # to 265536 bytes: 5 pages (at least the request, page aligned)
        assert r.results == [1] and (r.growth[0].old_pages, r.growth[0].new_pages) == (1, 5)
        assert s.call("pages", []).results == [5]
        r = s.call("grow", [str(2 * 1024 * 1024)])  # past the declared maximum (16 pages): refused
        assert r.results == [0] and not r.growth
        r = s.call("grow", ["10"])  # +20 % overgrowth: 5 pages → 6 pages (393216 bytes ≥ 1.2 × 327680)
        assert r.results == [1] and (r.growth[0].old_pages, r.growth[0].new_pages) == (5, 6)
        assert calls_of(r) == [("env", "emscripten_resize_heap", "emscripten", False)]


def test_console_log_and_wasi_output_on_imported_memory(em):
    r = em.call("say", [])
    assert r.ok and r.stdout == b"hello from emscripten\nvia wasi\n"  # host output and WASI's, in order
    assert r.host_calls[0].message == "hello from emscripten"


def test_clocks_memcpy_and_no_file_system(em):
    before = time.time() * 1000
    now = em.call("now", []).results[0]
    assert before - 1 <= now <= time.time() * 1000 + 1  # the host's clock, read during the call
    assert 0 <= em.call("since", []).results[0] < 600_000
    r = em.call("nofs", [])
    assert r.results == [-52] and calls_of(r) == [("env", "__syscall_openat", "emscripten", True)]
    r = em.call("copy", ["5000", "1024", "6"])
    assert em.read(5000, 6) == b"n > 0\0"
    assert r.host_calls[0].args == (5000, 1024, 6)


def test_abort_and_stubs(em):
    r = em.call("abort_now", [])
    assert (r.trap.kind, r.trap.message) == ("abort", "env._abort_js() called: the program aborted")
    r = em.call("keepalive", [])
    assert r.ok and calls_of(r) == [("env", "_emscripten_runtime_keepalive_clear", "emscripten", True)]


def test_invoke_catches_a_cpp_exception_through_set_threw(em):
    assert em.call("try_call", ["5"]).results == [5]
    r = em.call("try_call", ["-7"])
    assert r.ok and r.results == [1007]  # caught: 1000 - (-7)
    assert [h.name for h in r.host_calls] == ["invoke_vi", "__cxa_throw", "__cxa_find_matching_catch_3",
                                              "getTempRet0", "__cxa_begin_catch", "__cxa_end_catch"]
    assert r.sp_after == 65536  # the thrower lowered the stack pointer by 64: invoke_vi restored it
    assert em.call("selector", []).results == [4000]  # the catch clause's type, through tempRet0
    assert em.read(2072 - 24 + 4, 4) == (4000).to_bytes(4, "little")  # __cxa_exception.exceptionType


def test_an_exception_nothing_catches_ends_the_call(em):
    r = em.call("uncaught", ["3"])
    assert r.trap.kind == "uncaught_exception"
    assert r.trap.message == "a C++ exception was thrown (type info 0xfa0, object at 0x818) and nothing caught it"
    assert [f.name for f in r.trap.frames] == ["may_throw", "uncaught"]


def test_invoke_longjmp_and_traps(em):
    r = em.call("jump", [])
    assert r.results == [1] and [h.name for h in r.host_calls] == ["invoke_vi", "_emscripten_throw_longjmp"]
    r = em.call("invoke_crash", [])  # a wasm trap is not an Emscripten exception: rethrown
    assert r.trap.kind == "unreachable" and r.trap.frames[0].name == "crash"
    assert em.call("add_via_table", ["2", "40"]).results == [42]


def test_legalized_wasi_imports_link_and_answer_as_emscriptens_js(em):
    """Emscripten without WASM_BIGINT imports fd_seek(fd, lo, hi, whence, out): wasmtime's WASI cannot link
    that type (was: LinkError on web-tree-sitter, libflac, laz-perf)."""
    r = em.call("seek", [])
    assert r.results == [70] and calls_of(r) == [("wasi_snapshot_preview1", "fd_seek", "emscripten", False)]
    ns = em.call("clock_ns", []).results[0]
    assert abs(ns - time.time_ns()) < 5 * 10**9


def test_invoke_through_an_imported_table():
    text = '''(module
      (import "env" "memory" (memory 1))
      (import "env" "__indirect_function_table" (table 2 funcref))
      (import "env" "invoke_ii" (func $invoke_ii (param i32 i32) (result i32)))
      (func $twice (param i32) (result i32) (i32.mul (local.get 0) (i32.const 2)))
      (elem (i32.const 1) $twice)
      (func (export "go") (param i32) (result i32) (call $invoke_ii (i32.const 1) (local.get 0))))'''
    with open_session(WasmModule.from_bytes(wat(text), "main_module.wasm")) as s:
        assert s.host_choice.name == "emscripten" and s.call("go", ["21"]).results == [42]


def test_invoke_without_set_threw_rethrows():
    text = '''(module
      (import "env" "invoke_v" (func $invoke_v (param i32)))
      (import "env" "__cxa_throw" (func $throw (param i32 i32 i32)))
      (memory (export "memory") 1)
      (table (export "__indirect_function_table") 2 funcref)
      (elem (i32.const 1) $thrower)
      (func $thrower (call $throw (i32.const 64) (i32.const 8) (i32.const 0)))
      (func (export "go") (call $invoke_v (i32.const 1)))
      (func (export "null_entry") (call $invoke_v (i32.const 0))))'''
    with open_session(WasmModule.from_bytes(wat(text), "nothrew.wasm")) as s:
        r = s.call("go", [])
        assert r.trap.kind == "uncaught_exception" and "object at 0x40" in r.trap.message
        r = s.call("null_entry", [])
        assert (r.trap.kind, r.trap.message) == ("indirect_call_to_null", "invoke_v: table entry 0 is null")


def test_minified_emscripten_and_env_fd_write():
    mini = WasmModule.from_bytes(wat('''(module (import "a" "a" (func (param i32))) (import "a" "b" (func))
      (memory (export "c") 1))'''), "mini.wasm")
    c = choose_host(mini)
    assert c.name == "emscripten" and c.reason.startswith("minified Emscripten output (2 imports from module `a`")
    old = '''(module (import "env" "fd_write" (func $w (param i32 i32 i32 i32) (result i32)))
      (import "env" "emscripten_memcpy_big" (func (param i32 i32 i32)))
      (memory (export "memory") 1) (data (i32.const 16) "old\\n")
      (func (export "out") (result i32)
        (i32.store (i32.const 0) (i32.const 16)) (i32.store (i32.const 4) (i32.const 4))
        (drop (call $w (i32.const 2) (i32.const 0) (i32.const 1) (i32.const 8))) (i32.load (i32.const 8))))'''
    with open_session(WasmModule.from_bytes(wat(old), "old.wasm")) as s:
        r = s.call("out", [])
        assert s.host_choice.name == "emscripten" and r.results == [4] and r.stderr == b"old\n"


# -- wasm-bindgen ----------------------------------------------------------------------------------
def test_wasm_bindgen_strings_throw_and_stubs():
    with session("hosts-wasm-bindgen.wasm") as s:
        c = s.host_choice
        assert (c.name, c.wasi) == ("wasm-bindgen", False)
        assert c.reason == "imports ./hosts_bg.js.__wbindgen_throw, ./hosts_bg.js.__wbg_log_0123456789abcdef"
        r = s.call("greet", ["s:Hello"])
        assert r.results == [5] and r.allocations[0].via == "__wbindgen_malloc"
        assert s.call("last_align", []).results == [1]  # __wbindgen_malloc(size, 1), as the JS glue passes strings
        assert calls_of(r) == [("./hosts_bg.js", "__wbg_log_0123456789abcdef", "wasm-bindgen", True)]
        assert r.host_calls[0].args == (r.allocations[0].address, 5)
        r = s.call("fail", [])
        assert (r.trap.kind, r.trap.message) == ("throw", "boom: invalid input")
        assert r.host_calls[0].message == "boom: invalid input"


def test_wasm_bindgen_externref_table_and_string_objects():
    text = '''(module
      (import "./x_bg.js" "__wbindgen_init_externref_table" (func $init))
      (import "./x_bg.js" "__wbindgen_string_new" (func $string_new (param i32 i32) (result i32)))
      (memory (export "memory") 1) (data (i32.const 16) "héllo")
      (table (export "__wbindgen_export_2") 1 externref)
      (func (export "__wbindgen_start") (call $init))
      (func (export "size") (result i32) (table.size 0))
      (func (export "new") (result i32) (call $string_new (i32.const 16) (i32.const 6))))'''
    with open_session(WasmModule.from_bytes(wat(text), "x_bg.wasm")) as s:
        assert s.host_choice.name == "wasm-bindgen" and s.host_choice.reason.startswith("imports ./x_bg.js.")
        assert s.init_function == "__wbindgen_start"  # run once at open, as the JS glue does
        assert s.call("size", []).results == [5]  # 1 + the 4 slots the JS reserves (undefined, null, true, false)
        with pytest.raises(UsageError, match="__wbindgen_start already ran when wasmem opened x_bg.wasm: "
                                             "wasm-bindgen's JS calls it once"):
            s.call("__wbindgen_start", [])
        r = s.call("new", [])
        assert r.results == [132] and (r.host_calls[0].message, r.host_calls[0].stub) == ("héllo", True)
        assert s.call("new", []).results == [133]  # a fresh JS-heap index each time


# -- AssemblyScript --------------------------------------------------------------------------------
def test_assemblyscript_abort_trace_seed():
    with session("hosts-assemblyscript.wasm") as s:
        c = s.host_choice
        assert c.name == "assemblyscript"
        assert c.reason == ("imports env.abort(i32, i32, i32, i32) (AssemblyScript's abort(message, file, line, "
                            "column)); exports the runtime __new, __pin")
        assert s.call("check", ["4"]).results == [4]
        r = s.call("check", ["0"])
        assert (r.trap.kind, r.trap.message) == ("abort", "x must be positive in assembly/index.ts:12:5")
        assert r.host_calls[0].handled_by == "assemblyscript"
        assert s.call("abort_null", []).trap.message == "null in null:1:2"
        r = s.call("trace_it", [])
        assert r.stdout == b"value 1.5 2\n" and r.host_calls[0].message == "value 1.5 2"
        seed = s.call("rand", []).results[0]
        assert isinstance(seed, float) and 0 <= seed < time.time() * 1000 + 1


def test_assemblyscript_strings_are_utf16_string_objects_from_new():
    with session("hosts-assemblyscript.wasm") as s:
        r = s.call("inspect", ["s:héllo"])
        # class id 2 (String) at ptr-8, pinned during the call, 5 UTF-16 code units (rtSize 10 at ptr-4)
        assert r.results == [2 * 10000 + 1 * 1000 + 5]
        (a,) = r.allocations
        assert (a.via, a.size, r.args) == ("__new", 10, [a.address])
        assert s.read(a.address, 10) == "héllo".encode("utf-16-le")
        assert s.call("pins", []).results == [0]  # unpinned after the call
        assert s.call("char_at", ["s:héllo", "1"]).results == [0xE9]


def test_host_none_turns_the_profile_off():
    with session("hosts-assemblyscript.wasm", host="none") as s:
        assert (s.host_choice.name, s.host_choice.reason.startswith("--host none (not detected; auto would choose "
                                                                     "assemblyscript")) == ("none", True)
        r = s.call("check", ["0"])  # the generic abort: no decoding
        assert (r.trap.kind, r.trap.message) == ("abort", "env.abort(1040, 1100, 12, 5) called: the program aborted")
        r = s.call("trace_it", [])
        assert r.stdout == b"" and calls_of(r) == [("env", "trace", "stub", True)]


# -- Go --------------------------------------------------------------------------------------------
def test_go_duplicate_imports_output_clock_random_exit():
    """A legally duplicated import was an internal error: `import of gojs::runtime.getRandomData defined twice`."""
    with session("hosts-go.wasm") as s:
        c = s.host_choice
        assert (c.name, c.wasi) == ("go", False)
        assert c.reason == ("imports 7 functions from module `gojs` (Go's wasm_exec.js); runtime.getRandomData "
                            "imported more than once")
        r = s.call("hello", [])
        assert r.stdout == b"hello from go\n" and r.host_calls[0].message == "write(fd 1, 14 bytes)"
        r = s.call("random", [])
        assert r.results[0] >= 24 and [h.name for h in r.host_calls] == ["runtime.getRandomData"] * 2
        first = s.read(12288, 32)
        s.call("random", [])
        assert s.read(12288, 32) != first  # real random bytes each time
        before = time.time_ns()
        assert before - 10**6 <= s.call("clock", []).results[0] <= time.time_ns() + 10**6  # read during the call
        before = int(time.time())  # whole seconds
        assert before <= s.call("wall", []).results[0] <= time.time()
        assert 0 <= s.call("wall_ns", []).results[0] < 10**9
        r = s.call("js", [])
        assert r.results == [0] and calls_of(r) == [("gojs", "syscall/js.valueGet", "go", True)]  # undefined
        r = s.call("quit", ["3"])
        assert (r.trap.kind, r.trap.exit_code, r.ok) == ("exit", 3, False)
        assert s.call("quit", ["0"]).ok


def test_strict_imports_refuses_profile_stubs():
    with session("hosts-go.wasm", strict_imports=True) as s:
        assert s.call("hello", []).ok  # a real implementation, not a stub
        r = s.call("js", [])
        assert r.trap.kind == "strict_import" and "only a stub in the go host profile" in r.trap.message


# -- choosing, the CLI, the entry points ------------------------------------------------------------
def test_host_override_and_unknown_names():
    m = WasmModule.from_bytes(open(sample("hosts-emscripten.wasm"), "rb").read(), "e.wasm")
    c = choose_host(m, "wasi")
    assert (c.name, c.wasi) == ("wasi", True)
    assert c.reason == "--host wasi (imports wasi_snapshot_preview1 (fd_write, fd_seek, clock_time_get))"
    c = choose_host(m, "go")
    assert c.reason.startswith("--host go (not detected; auto would choose emscripten: imports env.__assert_fail")
    with pytest.raises(UsageError, match="unknown host profile"):
        choose_host(m, "deno")
    assert choose_host(WasmModule.from_bytes(wat("(module)"), "x.wasm")).reason == "the module imports no functions"


def test_cli_host_option_line_and_json(capsys):
    from wasmem.cli.call import HOST_NAMES as CLI_NAMES

    assert CLI_NAMES is HOST_NAMES  # one tuple, in the wasmtime-free spec: --help needs no wasmtime
    code, out, _ = run_cli(capsys, "call", sample("hosts-go.wasm"), "hello")
    assert code == 0
    assert "  host: go (imports 7 functions from module `gojs` (Go's wasm_exec.js);" in out
    code, out, _ = run_cli(capsys, "call", sample("hosts-wasm-bindgen.wasm"), "greet", "s:hi", "--host", "none",
                           "--json")
    d = json.loads(out)
    assert code == 0 and d["host"]["profile"] == "none" and d["host"]["requested"] == "none"
    assert d["host_calls"][0]["handled_by"] == "stub" and d["host_calls"][0]["stub"] is True
    code, _, err = run_cli(capsys, "call", sample("hosts-go.wasm"), "hello", "--host", "deno")
    assert code == 2 and "deno" in err


def test_render_shows_the_host_and_decoded_messages():
    outcome = call_function(sample("hosts-emscripten.wasm"), "check", ["0"])
    try:
        c = Console(width=200, file=io.StringIO(), color_system=None)
        c.print(render_call(outcome))
        text = c.file.getvalue()
    finally:
        outcome.session.close()
    assert "  host: emscripten + WASI (imports env.__assert_fail, env.emscripten_resize_heap (+15 more); " in text
    assert "env.__assert_fail(1024, 1032, 12, 1040)  'Assertion failed: n > 0, at: hosts.c,12,check'" in text
    assert outcome.to_dict()["host"]["profile"] == "emscripten"


def test_define_host_imports_serves_a_plain_linker():
    """The one entry point for a plain wasmtime embedding (tests/differential.py): every function import
    once, the profile's functions, WASI when the module uses it."""
    m = WasmModule.from_bytes(open(sample("hosts-go.wasm"), "rb").read(), "hosts-go.wasm")
    engine = wasmtime.Engine()
    store = wasmtime.Store(engine)
    linker = wasmtime.Linker(engine)
    ctx = define_host_imports(linker, store, m)
    assert ctx.choice.name == "go"
    inst = linker.instantiate(store, wasmtime.Module(engine, bytes(m.data)))
    inst.exports(store)["hello"](store)
    assert bytes(ctx.state.stdout) == b"hello from go\n"
    # the older per-import factory still works (kept in hostimports.py too)
    from wasmem.runtime.hostimports import make_host_function as old

    assert old is make_host_function


def test_emscripten_dynamic_module_relocations_then_constructors():
    """A MAIN_MODULE/SIDE_MODULE build: the loader applies the data relocations, then runs the constructors
    (each once); the constructors see relocated data."""
    text = r'''(module
      (import "env" "emscripten_resize_heap" (func (param i32) (result i32)))
      (memory (export "memory") 1)
      (func (export "__wasm_apply_data_relocs") (i32.store (i32.const 256) (i32.const 40)))
      (func (export "__wasm_call_ctors")
        (i32.store (i32.const 260) (i32.add (i32.load (i32.const 256)) (i32.const 2)))))'''
    with open_session(wat(text), timeout=2) as s:
        assert s.host_choice.name == "emscripten"
        assert s.init_functions == ["__wasm_apply_data_relocs", "__wasm_call_ctors"]
        assert s.read(256, 8) == (40).to_bytes(4, "little") + (42).to_bytes(4, "little")
        with pytest.raises(UsageError, match="__wasm_apply_data_relocs already ran"):
            s.call("__wasm_apply_data_relocs", [])


def test_a_wasi_exit_shows_its_status_and_no_trap_lines(capsys, tmp_path):
    """proc_exit ends the program: the call says it exited and with which status, with none of a trap's
    lines ("stack pointer at the trap" once showed under an exit(0) of a module with a stack pointer)."""
    wat_file = tmp_path / "exits.wat"
    wat_file.write_text("""(module
      (import "wasi_snapshot_preview1" "proc_exit" (func $exit (param i32)))
      (memory (export "memory") 1)
      (global $sp (mut i32) (i32.const 65536))
      (export "__stack_pointer" (global $sp))
      (func (export "_start")
        (global.set $sp (i32.sub (global.get $sp) (i32.const 16)))
        (call $exit (i32.const 0)))
      (func (export "bye") (param i32) (call $exit (local.get 0))))""")
    path = str(wat_file)
    for argv, status in ((("_start",), 0), (("bye", "3"), 3)):
        code, out, err = run_cli(capsys, "call", path, *argv)
        assert code == (0 if status == 0 else 1), err
        assert f"the program exited with status {status}" in out
        assert "─ exit ─" in out and "─ trap ─" not in out
        assert "stack pointer at the trap" not in out
    assert "stack: peak 16 bytes below sp 0x10000" in " ".join(run_cli(capsys, "call", path, "_start")[1].split())


STACK_CHECKED = r'''(module
  (import "env" "__handle_stack_overflow" (func $overflow (param i32)))
  (memory (export "memory") 2)
  (global $sp (mut i32) (i32.const 65536))
  (global $base (mut i32) (i32.const 0))
  (global $end (mut i32) (i32.const 0))
  (global $ctor_sp_ok (mut i32) (i32.const 0))
  (func (export "emscripten_stack_init") (global.set $base (i32.const 65536)) (global.set $end (i32.const 61440)))
  (func (export "emscripten_stack_get_base") (result i32) (global.get $base))
  (func (export "emscripten_stack_get_end") (result i32) (global.get $end))
  (func (export "__set_stack_limits") (param i32 i32) (global.set $base (local.get 0)) (global.set $end (local.get 1)))
  ;; binaryen's StackCheck: every stack-pointer write checked against the limits
  (func $set_sp (param $new i32)
    (if (i32.or (i32.gt_u (local.get $new) (global.get $base)) (i32.lt_u (local.get $new) (global.get $end)))
      (then (call $overflow (local.get $new))))
    (global.set $sp (local.get $new)))
  (func $frame (param $n i32) (result i32)
    (local $old i32)
    (local.set $old (global.get $sp))
    (call $set_sp (i32.sub (local.get $old) (local.get $n)))
    (i32.store (global.get $sp) (local.get $n))
    (call $set_sp (local.get $old))
    (local.get $n))
  (func (export "__wasm_call_ctors") (global.set $ctor_sp_ok (call $frame (i32.const 16))))
  (func (export "ctor_ran") (result i32) (global.get $ctor_sp_ok))
  (func (export "use_stack") (param i32) (result i32) (call $frame (local.get 0))))'''


def test_emscripten_stack_checks_get_their_limits_before_the_constructors():
    """A STACK_OVERFLOW_CHECK=2 build (binaryen's stack check, which imports __handle_stack_overflow): the
    JS runtime calls emscripten_stack_init, then __set_stack_limits(base, end), then the constructors
    (stackCheckInit, initRuntime). Without that every prologue called the overflow handler (seen as 344
    stub calls in one sql.js call); a real overflow aborts with the JS's message."""
    with open_session(wat(STACK_CHECKED), timeout=5) as s:
        assert s.init_functions == ["emscripten_stack_init", "__set_stack_limits", "__wasm_call_ctors"]
        assert s.init_calls[1] == ("__set_stack_limits", [65536, 61440])
        assert s.call("ctor_ran", []).results == [16]
        r = s.call("use_stack", ["64"])
        assert r.trap is None and r.results == [64] and not r.host_calls
        r = s.call("use_stack", ["8192"])
        assert r.trap is not None and r.trap.kind == "abort"
        assert "stack overflow (Attempt to set SP to 0xe000, with stack limits [0xf000 - 0x10000])" in r.trap.message


def test_assemblyscript_by_its_lib_names_without_parsing_another_toolchains_names():
    """A build with neither env.abort nor __new/__pin is AssemblyScript's by its ~lib/ function names; a module
    whose name section has no ~lib/ bytes is not made to parse its names for that (8% of a warm yosys call)."""
    from wasmem.runtime.hosts.assemblyscript import AssemblyScript

    asc = WasmModule.from_file(sample("asc_like.wasm"))
    assert AssemblyScript().detect(asc) == "has ~lib/ function names"
    other = WasmModule.from_file(sample("memdemo.wasm"))
    assert other.get_custom_section("name") is not None
    assert AssemblyScript().detect(other) is None
    assert "names" not in vars(other)  # the cached name table was never built
