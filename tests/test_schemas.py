"""The JSON Schemas in wasmem/schemas/: valid draft 2020-12, strict, in step with the code and docs/json.md,
and every real `--json` output of every command (on the bundled samples and a few hand-made modules,
traps, sret, --after, with and without DWARF) validates against its command's schema."""

from __future__ import annotations

import contextlib
import copy
import functools
import io
import json
import re
from pathlib import Path

import pytest
from conftest import SAMPLES, wat
from coredump_util import CRASH_CORE, CRASH_O0_CORE, CRASH_O0_WASM, CRASH_WASM, write_with_locals

from wasmem import schemas
from wasmem.cli.main import COMMANDS as CLI_COMMANDS
from wasmem.cli.main import main
from wasmem.errors import UsageError

jsonschema = pytest.importorskip("jsonschema")
from jsonschema import Draft202012Validator, validators  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
JSON_MD = ROOT / "docs" / "json.md"

# ------------------------------------------------------------------------------------------------
# hand-made modules for the branches the samples do not reach (findings, an odd stack pointer)
WAT = {
    "scatter": """(module (memory (export "memory") 1)
      (func (export "scatter") (i32.store8 (i32.const 100) (i32.const 1)) (i32.store8 (i32.const 200) (i32.const 2))
        (i32.store8 (i32.const 300) (i32.const 3))))""",
    "overlap": """(module (memory (export "memory") 1)
      (global $__stack_pointer (mut i32) (i32.const 1030))
      (data (i32.const 1024) "static data here"))""",
    "funcref_sp": """(module (memory (export "memory") 1)
      (global $__stack_pointer (mut funcref) (ref.null func)) (data (i32.const 16) "hi"))""",
    "invalid_limits": """(module (memory (export "memory") 2 1 shared) (memory 1 2 (pagesize 2))
      (data (i32.const 65530) "0123456789"))""",
    "shared_no_max": '(module (memory (export "memory") 1 shared))',
    "data_no_memory": '(module (data (i32.const 0) "x"))',
    "bad_custom": """(module (memory 1) (global i32 (i32.const 0)) (data (global.get 5) "x")
      (@custom "producers" "\\ff") (@custom "target_features" "\\01\\7a") (@custom "dylink.0" "\\ff")
      (@custom "external_debug_info" "\\ff") (@custom "sourceMappingURL" "\\ff") (@custom "name" "\\01\\ff"))""",
    "imported_max": '(module (import "env" "memory" (memory 1 2)))',
    "indirect_cycle": """(module (type $ii (func (param i32) (result i32))) (memory (export "memory") 1)
      (global $__stack_pointer (mut i32) (i32.const 65536)) (table 2 funcref) (elem (i32.const 0) $b)
      (func $a (export "a") (param i32) (result i32) (local i32)
        (local.set 1 (i32.sub (global.get $__stack_pointer) (i32.const 32))) (global.set $__stack_pointer (local.get 1))
        (local.set 0 (call_indirect (type $ii) (local.get 0) (i32.const 0)))
        (global.set $__stack_pointer (i32.add (local.get 1) (i32.const 32))) (local.get 0))
      (func $b (type $ii) (call $a (local.get 0))))""",
    "stack_high": """(module (memory (export "memory") 2)
      (global $__stack_pointer (mut i32) (i32.const 65536))
      (global (export "__stack_high") i32 (i32.const 60000)) (data (i32.const 65536) "0123"))""",
}
SAMPLE_NAMES = sorted(p.name for p in Path(SAMPLES).glob("*.wasm"))
M, D, DF = "memdemo.wasm", "memdemo-debug.wasm", "memdemo-datafirst.wasm"

# (command, argv after the command, expected exit status). A name ending in .wasm is a sample, "wat:NAME"
# a module of WAT, "tmp:NAME" a file in the test's directory.
CASES: list[tuple[str, tuple, int]] = [
    *[("inspect", (n,), 0) for n in SAMPLE_NAMES],
    *[("inspect", (f"wat:{n}",), 0) for n in WAT],
    ("inspect", ("memdemo-import.wasm", "--pages", "1"), 1),
    ("inspect", ("pic.wasm", "--imports", "--exports"), 0),
    ("inspect", ("tags.wasm", "--imports", "--exports"), 0),
    ("inspect", ("hosts-emscripten.wasm", "--imports", "--exports"), 0),
    ("inspect", ("memdemo-import.wasm", "--pages", "2"), 0),
    ("inspect", ("wat:imported_max", "--pages", "3"), 1),
    ("inspect", (M, "--pages", "4", "--min-stack", "1000000"), 0),

    ("call", (M, "make_point", "1.0", "2.0", "--returns", "x:f64,y:f64"), 0),
    ("call", (M, "make_point", "1.0", "2.0", "--returns", "x:f64,pad:u8[4],ok:bool"), 0),
    ("call", (M, "divide", "1", "0"), 1),
    ("call", (M, "process_string", "s:hello"), 0),
    ("call", (M, "checksum", "b:68656c6c6f", "--before", "get_counter", "--before", "allocate 8"), 0),
    ("call", (M, "grow_memory", "1"), 0),
    ("call", (M, "deep", "9", "--check-stack"), 0),
    ("call", ("wat:scatter", "scatter", "--max-changes", "1"), 0),  # changes_omitted
    ("dump", ("wat:scatter", "--after", "scatter", "--max-changes", "1", "--len", "16"), 0),
    ("call", (DF, "deep", "100", "--check-stack"), 1),
    ("call", (M, "spin", "--timeout", "0.05"), 1),
    ("call", (M, "divide", "4", "2", "--before", "divide 1 0"), 1),
    ("call", (D, "make_point", "1", "2"), 0),
    ("call", (D, "get_config"), 0),
    ("call", (D, "get_list_head"), 0),
    ("call", (D, "get_counter", "--write", "call_counter=2a000000"), 0),
    ("call", (D, "crash"), 1),
    ("call", ("memdemo-stripped.wasm", "get_data_ptr"), 0),
    ("call", ("imports.wasm", "run", "3"), 0),
    ("call", ("imports.wasm", "run", "3", "--strict-imports"), 1),
    ("call", ("hello_wasi.wasm", "_start"), 0),
    ("call", ("watchdemo.wasm", "reset_scores", "--watch", "settings.limit", "--watch", ".data"), 0),
    ("call", ("watchdemo.wasm", "deep", "8", "--watch", "sp", "--stop"), 1),
    ("watch", ("watchseq.wasm", "list.used", "head->value", "--after", "push 1", "--after", "bump 2"), 0),
    ("watch", ("watchseq.wasm", "list", "--after", "push 1", "--after", "push 2", "--trace-writes",
               "--access", "rw"), 0),
    ("watch", ("watchdemo.wasm", "settings.limit", "--after", "get_limit", "--after", "reset_scores", "--after",
               "get_limit", "--stop"), 1),
    ("watch", ("watchseq.wasm", "head->value", "--before", "push 1", "--after", "bump 2"), 0),
    ("watch", ("memdemo.wasm", "0x10000:4", "--before", "divide 1 0", "--after", "get_counter"), 1),
    ("watch", ("memdemo-debug.wasm", "config", "--after", "get_config", "--after", "make_point 1 2"), 0),
    ("call", ("watchdemo.wasm", "get_limit", "--before", "reset_scores", "--trace-writes"), 0),
    ("call", ("watchdemo.wasm", "read_line", "--watch", "line", "--watch", "0x410:4", "--access", "rw",
              "--stdin", str(Path(SAMPLES) / "watchdemo.c")), 0),

    ("dump", (M, "--at", "0x10000", "--len", "64"), 0),
    ("dump", (M, "--at", "0x10020", "--len", "16", "-f", "i32"), 0),
    ("dump", (M, "--at", "0x10000", "--len", "32", "-f", "f64", "--width", "2", "--big-endian"), 0),
    ("dump", (M, "--at", "__heap_base", "--len", "32", "--after", "process_string s:hello"), 0),
    ("dump", (M, "--at", "sp", "--len", "16", "--after", "divide 1 0"), 1),
    ("dump", (M, "--len", "0"), 0),
    ("dump", (D, "--at", "config", "--type", "auto"), 0),
    ("dump", (D, "--at", "node_a"), 0),
    ("dump", (M, "--at", "0x10000", "--len", "16", "--save", "tmp:saved.bin"), 0),
    ("dump", (M, "--snapshot", "tmp:memory.bin", "--at", "0x10000", "--len", "16", "-f", "u8"), 0),
    ("dump", ("memory64.wasm", "--len", "16", "-f", "u64"), 0),

    ("stack", (M,), 0),
    ("stack", (DF, "--recursion-depth", "10", "--headroom", "50"), 0),
    ("stack", ("go_like.wasm",), 0),
    ("stack", ("wat:indirect_cycle",), 0),
    ("stack", ("imports.wasm",), 0),
    ("stack", ("pic.wasm",), 0),
    ("stack", ("nomemory.wasm",), 0),
    ("stack", ("tags.wasm",), 0),
    ("stack", (M, "--call", "fib_stack 10", "--recursion-depth", "12"), 0),
    ("stack", (DF, "--call", "deep 100", "--check-stack"), 1),
    ("stack", ("go_like.wasm", "--call", "run 0 0"), 0),

    ("symbols", (D,), 0),
    ("symbols", (M,), 0),
    ("symbols", ("memdemo-dwarf5.wasm", "--functions"), 0),
    ("symbols", ("memdemo-stripped.wasm", "--functions"), 0),
    ("symbols", ("go_like.wasm",), 0),
    ("symbols", ("nomemory.wasm",), 0),

    ("chase", (D, "node_a"), 0),
    ("chase", (D, "names"), 0),
    ("chase", (D, "config", "--depth", "1"), 0),
    ("chase", (D, "node_a", "--depth", "0"), 0),
    ("chase", (D, "ops", "--words"), 0),
    ("chase", (M, "0x10090"), 0),
    ("chase", (M, "0x10094", "--len", "4"), 0),
    ("chase", (M, "0x10040", "--len", "20"), 0),
    ("chase", (M, "__heap_base", "--after", "allocate 32", "--len", "16"), 0),
    ("chase", (M, "0x10090", "--snapshot", "tmp:memory.bin"), 0),

    ("check", (DF, "--require-stack-first", "--min-stack-size", "16384"), 1),
    ("check", (M, DF, "--stack-headroom", "25", "--recursion-depth", "16", "--max-data-size", "100"), 1),
    ("check", (M, "--stack-headroom", "25", "--allow-unbounded", "--max-initial-pages", "4",
               "--require-max-memory", "--max-stack-size", "1000000"), 1),
    ("check", ("memdemo-import.wasm", "--host-pages", "1", "--max-initial-pages", "1"), 1),
    ("check", ("memdemo-import.wasm", "--host-pages", "2"), 0),
    ("check", ("go_like.wasm", "nomemory.wasm", "--require-stack-first", "--min-stack-size", "1",
               "--host-pages", "1", "--require-max-memory", "--max-initial-pages", "1", "--stack-headroom", "10"), 1),
    ("check", (M, "tmp:not-a-module.wasm", "--require-stack-first"), 2),

    ("backtrace", (CRASH_CORE, CRASH_WASM), 0),
    ("inspect", (CRASH_WASM, "--core", CRASH_CORE), 0),
    ("symbols", (CRASH_WASM, "--core", CRASH_CORE), 0),
    ("backtrace", (CRASH_O0_CORE, CRASH_O0_WASM), 0),
    ("backtrace", ("tmp:locals.core", CRASH_WASM), 0),
    ("call", (CRASH_WASM, "_start", "--coredump", "tmp:call.core"), 1),
    ("dump", (CRASH_WASM, "--core", CRASH_CORE, "--at", "accounts", "--type", "auto"), 0),
    ("chase", (CRASH_WASM, "accounts", "--core", CRASH_CORE), 0),

    ("heap", ("heap:heapdemo.wasm", "--after", "push 1", "--after", "push 2", "--after", "make_greeting 3"), 0),
    ("heap", ("heap:heapdemo.wasm", "--after", "leak_step 1", "--after", "double_free", "--paths"), 1),
    ("heap", ("heap:heapdemo.wasm",), 0),
    ("heap", ("heap:rust_heap.wasm", "--after", "leak 1", "--after", "bad_size"), 1),
    ("heap", ("heap:heapdemo.wasm", "--after", "str_len 4000000000"), 1),
    ("heap", ("heap:heapdemo.wasm", "--after", "use_after_free", "--after", "write_past_end 12", "--memcheck"), 1),
    ("heap", ("heap:memcheck_ops.wasm", "--after", "uninit", "--after", "bulk_bad", "--memcheck", "--memcheck-uninit"),
     1),
    ("leaks", ("heap:heapdemo.wasm", "warm_cache 7", "--repeat", "2", "--memcheck", "--memcheck-uninit"), 1),
    ("leaks", ("heap:heapdemo.wasm", "make_greeting 3", "--repeat", "3"), 0),
    ("heap", ("heap:family.wasm", "--allocator", "my_malloc,my_free", "--after", "remapped"), 0),
    ("leaks", ("heap:family.wasm", "remapped", "--allocator", "my_malloc,my_free", "--repeat", "2"), 0),
    ("leaks", ("heap:heapdemo.wasm", "leak_step 3", "--repeat", "3", "--max-growth", "0"), 1),
    ("leaks", ("heap:rust_heap.wasm", "twice", "--repeat", "2", "--before", "leak 1"), 1),
    ("leaks", ("heap:heapdemo.wasm", "clean_step 3", "--before", "use_after_free", "--max-growth", "0"), 0),
]
OPTION = {"call": "--json", "dump": "--json", "stack": "--json", "symbols": "--json", "chase": "--json",
          "inspect": "--json", "check": ("--no-config", "--format", "json"), "backtrace": "--json",
          "watch": "--json", "heap": "--json", "leaks": "--json"}
HEAP_DATA = ROOT / "tests" / "heap" / "data"


def _case_id(case) -> str:
    cmd, args, _ = case
    return " ".join((cmd, *args))[:90]


@pytest.fixture(scope="module")
def files(tmp_path_factory) -> Path:
    """The WAT modules as .wasm files, a raw memory image and a file that is not a module."""
    d = tmp_path_factory.mktemp("schemas")
    for name, text in WAT.items():
        (d / f"{name}.wasm").write_bytes(wat(text))
    (d / "not-a-module.wasm").write_bytes(b"\0asm\x01\0\0\0\x01\x10\x00")
    write_with_locals(d / "locals.core", module_name="renamed.wasm")  # recorded locals; a note: another name
    code, _, err = _run(("dump", str(Path(SAMPLES) / M), "--len", "16", "--save", str(d / "memory.bin")))
    assert code == 0, err
    return d


@functools.cache
def _run(argv: tuple) -> tuple[int, str, str]:
    """Runs the real entry point (its exit-code mapping included) once per argument list."""
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err), pytest.raises(SystemExit) as ei:
        main(list(argv))
    return ei.value.code, out.getvalue(), err.getvalue()


def real_output(case, files: Path):
    cmd, args, status = case
    argv = [cmd]
    for a in args:
        if a.startswith("wat:"):
            a = str(files / f"{a[4:]}.wasm")
        elif a.startswith("tmp:"):
            a = str(files / a[4:])
        elif a.startswith("heap:"):
            a = str(HEAP_DATA / a[5:])
        elif a.endswith(".wasm"):
            a = str(Path(SAMPLES) / a)
        argv.append(a)
    opt = OPTION[cmd]
    argv += [opt] if isinstance(opt, str) else list(opt)
    code, out, err = _run(tuple(argv))
    assert code == status, f"exit {code}, expected {status}: {err}"
    assert "internal error" not in err, err
    return json.loads(out)


# ------------------------------------------------------------------------------------------------
# a validator that also records which properties of the schema real documents used
_SEEN: set[tuple[int, str]] = set()


def _recording_properties(validator, properties, instance, schema):
    if validator.is_type(instance, "object"):
        _SEEN.update((id(properties), p) for p in properties if p in instance)
    yield from _PROPERTIES(validator, properties, instance, schema)


_PROPERTIES = Draft202012Validator.VALIDATORS["properties"]


RecordingValidator = validators.extend(Draft202012Validator, {"properties": _recording_properties})


@functools.cache
def schema(command: str) -> dict:
    return schemas.get_schema(command)


@functools.cache
def validator(command: str):
    return RecordingValidator(schema(command))  # no format_checker: formats are not asserted


def errors_of(command: str, doc) -> list[str]:
    """Every error as `path: message`, with the errors inside anyOf/if branches listed after their parent."""
    out: list[str] = []

    def add(errs, depth=0):
        for e in sorted(errs, key=lambda e: list(map(str, e.absolute_path))):
            out.append(f"{'  ' * depth}{'/'.join(map(str, e.absolute_path)) or '(root)'}: {e.message}")
            add(e.context, depth + 1)

    add(validator(command).iter_errors(doc))
    return out


def assert_valid(command: str, doc) -> None:
    errs = errors_of(command, doc)
    assert not errs, "\n".join(e[:400] for e in errs[:20])


# ------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("command", schemas.COMMANDS)
def test_schema_is_valid_draft_2020_12(command):
    s = schema(command)
    Draft202012Validator.check_schema(s)
    assert s["$schema"] == schemas.DRAFT == "https://json-schema.org/draft/2020-12/schema"
    assert s["$id"] == f"wasmem:{command}/1"
    assert s["title"].startswith(f"wasmem {command} ") and s["description"]
    assert s["type"] == ("array" if command == "symbols" else "object")


def test_every_command_with_json_output_has_a_schema_file():
    # schema prints schemas; shell and view are interactive (a shell script's output is its echo, not data)
    assert set(schemas.COMMANDS) == set(CLI_COMMANDS) - {"schema", "shell", "view"}
    shipped = {p.stem for p in Path(schemas.__file__).parent.glob("*.json")}
    assert shipped == set(schemas.COMMANDS)


def test_get_schema_returns_a_fresh_dict_and_refuses_unknown_commands():
    a = schemas.get_schema("check")
    a["title"] = "changed"
    assert schemas.get_schema("check")["title"] == "wasmem check --format json"
    assert json.loads(schemas.get_schema_text("check")) == schemas.get_schema("check")
    with pytest.raises(UsageError, match="no JSON schema for 'schema'"):
        schemas.get_schema("schema")


@pytest.mark.parametrize("case", CASES, ids=_case_id)
def test_real_output_validates(case, files):
    assert_valid(case[0], real_output(case, files))


def _record_properties(node, path: str, out: dict) -> None:
    """Every property of every fixed record in a schema: id(properties dict) → (path, names)."""
    if isinstance(node, dict):
        if isinstance(node.get("properties"), dict) and (node.get("type") == "object" or "required" in node):
            out[id(node["properties"])] = (path, set(node["properties"]))
        for k, v in node.items():
            _record_properties(v, f"{path}/{k}", out)
    elif isinstance(node, list):
        for i, v in enumerate(node):
            _record_properties(v, f"{path}/{i}", out)


# properties that no case produces, each with the reason; every other property must appear in some real
# output (for the definitions shared by several schemas, in the output of any command)
NEVER_SEEN = {
    "/$defs/value": {"error"},  # a DWARF value that cannot be read: damaged debug info
    "/$defs/block": {"truncated"},  # a telescope of more than 512 words, or one that runs off the end of memory
}


CALL_RESULT_KEYS = set(schemas.get_schema("call")["$defs"]["callResult"]["properties"])


def test_real_outputs_use_every_property_of_every_schema(files):
    """The cases reach every optional branch: each property of each schema appears in a real output."""
    _SEEN.clear()  # only what the real outputs use (other tests validate changed documents)
    for case in CASES:
        assert_valid(case[0], real_output(case, files))
    unseen: dict[tuple, set] = {}
    for command in schemas.COMMANDS:
        records: dict = {}
        _record_properties(schema(command), "", records)
        for pid, (path, names) in records.items():
            if command == "call" and path.startswith("/properties/") and path.split("/")[2] in CALL_RESULT_KEYS:
                path = "/$defs/callResult" + path  # a call document's own keys are a callResult's
            shared = path.startswith("/$defs/") and path.split("/")[2] in SHARED
            key = ("shared" if shared else command, path)
            left = {n for n in names if (pid, n) not in _SEEN}
            unseen[key] = unseen[key] & left if key in unseen else left
    missing = [f"{who} {path}: {sorted(names - NEVER_SEEN.get(path, set()))}"
               for (who, path), names in sorted(unseen.items()) if names - NEVER_SEEN.get(path, set())]
    assert not missing, "no real output has: " + "; ".join(missing)


# ------------------------------------------------------------------------------------------------
# strictness: a key the schema does not know, a wrong type, a missing key or an unknown code fail
def _at(doc, path):
    """The value at ``path``; ``*`` stands for the first list element where the rest of the path exists."""
    if not path:
        return doc
    head, rest = path[0], path[1:]
    if head != "*":
        return _at(doc[head], rest)
    for item in doc:
        try:
            return _at(item, rest)
        except (IndexError, KeyError, TypeError):
            continue
    raise LookupError(path)


@pytest.mark.parametrize("command, args, status, paths", [
    ("inspect", (M,), 0, [(), ("memories", 0), ("stack_pointer",), ("layout",), ("stack",), ("data",),
                          ("data", "segments", 0), ("heap",), ("regions", 0), ("module",), ("module", "sections", 0),
                          ("findings", 0), ("producers", "language", 0)]),
    ("call", (D, "crash"), 1, [(), ("trap",), ("trap", "frames", 0), ("stack",)]),
    ("call", (D, "make_point", "1", "2"), 0, [("sret",), ("sret", "value"), ("sret", "value", "children", 0),
                                              ("changes", 0)]),
    ("stack", (M,), 0, [(), ("frames", 0), ("frames", "*", "indirect", 0), ("roots", 0), ("roots", 0, "path", 0)]),
    ("check", (DF, "--require-stack-first"), 1, [(), ("modules", 0), ("modules", 0, "results", 0)]),
    ("symbols", (D,), 0, [(0,)]),
    ("dump", (M, "--len", "16", "-f", "u8", "--after", "divide 1 0"), 1,
     [(), ("rows", 0), ("calls", 0), ("calls", 0, "trap")]),
    ("chase", (M, "0x10094", "--len", "4"), 0, [(), ("words",), ("words", "words", 0),
                                                ("words", "words", 0, "block")]),
])
def test_an_added_key_fails_at_every_level(files, command, args, status, paths):
    doc = real_output((command, args, status), files)
    for path in paths:
        bad = copy.deepcopy(doc)
        _at(bad, path)["new_key"] = True
        assert any("new_key" in e for e in errors_of(command, bad)), path


def test_a_before_call_has_no_outcome_keys(files):
    doc = real_output(("call", (M, "divide", "4", "2", "--before", "divide 1 0"), 1), files)
    bad = copy.deepcopy(doc)
    bad["before"] = [dict(copy.deepcopy(doc), module="x")]  # a --before call carries no module or before key
    errs = errors_of("call", bad)
    assert any(e.startswith("before/0: Additional properties are not allowed") and "'module'" in e
               and "'before'" in e for e in errs), errs


@pytest.mark.parametrize("command, args, status, change, needle", [
    ("inspect", (M,), 0, lambda d: d.update(file_size="2743"), "is not of type 'integer'"),
    ("inspect", (M,), 0, lambda d: d["findings"][0].update(code="no-such-code"), "is not one of"),
    ("inspect", (M,), 0, lambda d: d["layout"].update(kind="sideways"), "is not one of"),
    ("inspect", (M,), 0, lambda d: d["stack"].pop("exact"), "'exact' is a required property"),
    ("inspect", (M,), 0, lambda d: d["stack"].update(size=1.5), "is not of type 'integer', 'null'"),
    ("inspect", (M,), 0, lambda d: d["linker_symbols"].update(__my_symbol=1), "__my_symbol"),
    ("inspect", (M,), 0, lambda d: d.update(schema=2), "1 was expected"),
    ("stack", (M,), 0, lambda d: d["roots"][0].update(kind="import"), "is not one of"),
    ("stack", (M,), 0, lambda d: d.update(measured=None), "'trap' is a dependency of 'measured'"),
    ("check", (DF, "--require-stack-first"), 1, lambda d: d["modules"][0]["results"][0].update(status="ok"),
     "is not one of"),
    ("symbols", (D,), 0, lambda d: d[0].update(region="stack"), "is not one of"),
    ("symbols", (D,), 0, lambda d: d[0].update(line="71"), "is not of type 'integer', 'null'"),
    ("call", (M, "make_point", "1.0", "2.0", "--returns", "x:f64,y:f64"), 0,
     lambda d: d["changes"][0].update(before="F03F"), "does not match"),
    ("call", (M, "make_point", "1.0", "2.0", "--returns", "x:f64,y:f64"), 0, lambda d: d.pop("ok"),
     "'ok' is a required property"),
    ("dump", (M, "--len", "16"), 0, lambda d: d["rows"][0].update(values=[1]), "should not be valid"),
    ("dump", (M, "--len", "16", "-f", "i32"), 0, lambda d: d["rows"][0].pop("values"), "'values' is a required"),
    ("chase", (D, "node_a"), 0, lambda d: d.update(mode="words"), "'words' is a required property"),
    ("chase", (D, "node_a"), 0, lambda d: d["value"]["children"][0].update(kind="structure"), "is not one of"),
    ("chase", (D, "node_a"), 0, lambda d: d["value"].update(value=None), "should not be valid"),
])
def test_a_wrong_value_fails(files, command, args, status, change, needle):
    doc = real_output((command, args, status), files)
    assert_valid(command, doc)
    change(doc)
    errs = errors_of(command, doc)
    assert any(needle in e for e in errs), errs


# ------------------------------------------------------------------------------------------------
# the schemas follow the code: shared parts are identical, enums are the code's sets
SHARED = ("hex", "callResult", "sret", "value", "stackUse", "trap", "traceFrame", "stackOverflow", "pathStep")


def test_shared_definitions_are_identical_in_every_file():
    for name in SHARED:
        copies = {c: schema(c)["$defs"][name] for c in schemas.COMMANDS if name in schema(c).get("$defs", {})}
        assert copies, name
        first = next(iter(copies.values()))
        assert all(v == first for v in copies.values()), f"$defs/{name} differs between {sorted(copies)}"


def test_a_call_document_is_a_call_result_plus_the_outcome_keys():
    top, base = schema("call")["properties"], schema("call")["$defs"]["callResult"]["properties"]
    assert {k: top[k] for k in base} == base
    assert set(top) - set(base) == {"before", "module", "host", "result_notes", "result_values", "coredump",
                                    "watch"}
    measured = schema("stack")["properties"]["measured"]["anyOf"][0]["properties"]
    use = schema("call")["$defs"]["stackUse"]["properties"]
    assert {k: v for k, v in measured.items() if k != "call"} == use


def test_enums_are_the_codes_sets():
    from dataclasses import fields

    import wasmtime

    from wasmem.model import staticdata, values
    from wasmem.model.checks import Rules

    src = "".join((ROOT / "wasmem" / "model" / name).read_text(encoding="utf-8")  # the layout model
                  for name in ("layout.py", "staticdata.py", "findings.py"))
    src += (ROOT / "wasmem" / "debuginfo" / "layout.py").read_text(encoding="utf-8")  # dwarf-not-read
    codes = set(re.findall(r'Finding\(\s*"(?:error|warning|info)",\s*"([a-z-]+)"', src))
    codes |= {f"bad-{w}" for w in re.findall(r'best_effort\("([A-Za-z_]+)"', src)}
    host = (ROOT / "wasmem" / "model" / "hostmem.py").read_text(encoding="utf-8")  # --pages findings
    codes |= set(re.findall(r'LinkProblem\(\s*"([a-z-]+)"', host)) | {"host-memory-ok"}
    ins = schema("inspect")["properties"]
    assert set(ins["findings"]["items"]["properties"]["code"]["enum"]) == codes
    assert ins["linker_symbols"]["propertyNames"]["enum"] == list(staticdata.LINKER_SYMBOLS)
    kinds = ins["layout"]["properties"]["kind"]["enum"]
    assert kinds == schema("stack")["properties"]["stack"]["properties"]["layout"]["enum"]
    assert set(re.findall(r'\bkind(?:, reason, stack_reason)? = "([a-z-]+)"', src)) | {"unknown"} == set(kinds)
    assert schema("dump")["properties"]["format"]["enum"] == ["hex", *values.SCALARS]
    assert schema("call")["$defs"]["sret"]["properties"]["fields"]["items"]["properties"]["type"]["enum"] == \
        list(values.SCALARS)
    every_rule = Rules(**{f.name: True if f.type == "bool" else 1 for f in fields(Rules)})
    rules = schema("check")["properties"]["modules"]["items"]["properties"]["results"]["items"]["properties"]
    assert set(rules["rule"]["enum"]) == set(every_rule.active)
    kind = re.compile(schema("call")["$defs"]["trap"]["properties"]["kind"]["pattern"])
    assert all(kind.match(c.name.lower()) for c in wasmtime.TrapCode)


# ------------------------------------------------------------------------------------------------
# docs/json.md documents the same top-level keys as the schemas, and the same codes
def _json_md_sections() -> dict[str, str]:
    text = JSON_MD.read_text(encoding="utf-8")
    parts = re.split(r"^## (.+?)\s*$", text, flags=re.M)
    return dict(zip(parts[1::2], parts[2::2], strict=True))


def _table_rows(section: str) -> list[tuple[str, str]]:
    rows = []
    for line in section.splitlines():
        cells = [c.strip() for c in re.split(r"(?<!\\)\|", line)[1:-1]]
        if len(cells) >= 3 and cells[0] not in ("key", "---"):
            rows.append((cells[0], cells[2]))
    return rows


def _documented_top_level_keys(section: str) -> set[str]:
    keys = set()
    for first, _ in _table_rows(section):
        for name in re.findall(r"`([^`]+)`", first):
            keys.add(re.split(r"[.\[]", name)[0])
    return keys


@pytest.mark.parametrize("command", schemas.COMMANDS)
def test_json_md_documents_every_top_level_key(command):
    sections = _json_md_sections()
    assert command in sections, f"docs/json.md has no `## {command}` section"
    documented = _documented_top_level_keys(sections[command])
    s = schema(command)
    keys = set((s["items"] if s["type"] == "array" else s)["properties"])
    assert documented == keys, (f"docs/json.md documents {sorted(documented - keys)} that the schema lacks, and "
                                f"lacks {sorted(keys - documented)}")


def test_json_md_lists_the_schema_codes_and_kinds():
    sec = _json_md_sections()["inspect"]
    para = sec.split("Finding codes:", 1)[1].split("\n\n", 1)[0]
    ins = schema("inspect")["properties"]
    assert set(re.findall(r"`([^`]+)`", para)) == set(ins["findings"]["items"]["properties"]["code"]["enum"])
    kinds_row = next(meaning for first, meaning in _table_rows(sec) if first == "`layout.kind`")
    assert set(re.findall(r"`([^`]+)`", kinds_row)) == set(ins["layout"]["properties"]["kind"]["enum"])
    text = JSON_MD.read_text(encoding="utf-8")
    assert "wasmem schema COMMAND" in text and "wasmem/schemas/" in text


# ------------------------------------------------------------------------------------------------
# `wasmem schema`
def test_schema_command_prints_the_shipped_schema():
    for command in schemas.COMMANDS:
        code, out, err = _run(("schema", command))
        assert code == 0, err
        assert json.loads(out) == schemas.get_schema(command)


@pytest.mark.parametrize("argv", [("schema",), ("schema", "--list")])
def test_schema_list(argv):
    code, out, _ = _run(argv)
    assert code == 0
    assert [line.split()[0] for line in out.splitlines()] == list(schemas.COMMANDS)


@pytest.mark.parametrize("argv, message", [
    (("schema", "bogus"), "no JSON schema for 'bogus'"),
    (("schema", "inspect", "--list"), "give COMMAND or --list, not both"),
])
def test_schema_bad_input_is_one_line_exit_2(argv, message):
    code, out, err = _run(argv)
    assert code == 2 and out == ""
    assert err.startswith("wasmem: error: ") and err.count("\n") == 1 and message in err


def test_schema_help_names_every_shipped_schema():
    # the help once listed 7 of the 11 commands with a schema; it is now built from the shipped files' list
    shipped = {p.stem for p in (ROOT / "wasmem" / "schemas").glob("*.json")}
    code, out, err = _run(("schema", "--help"))
    assert code == 0, err
    listed = re.search(r"COMMAND is one of (.*?)\.\s", " ".join(out.split())).group(1)
    names = {name.split()[0] for name in listed.split(", ")}
    assert names == shipped and len(names) == 11
