"""`inspect --pages/--max-pages/--shared` and `check --host-pages/--host-max-pages/--host-shared`: exit
codes, config keys, JSON rule names, and the real `node` agreeing with every verdict `check` gives."""

import json
import re

import pytest
from click.testing import CliRunner
from conftest import sample, wat
from node_util import instantiate

from wasmem.cli.main import cli, main
from wasmem.model.hostmem import js_memory

MINMAX = '(module (import "env" "memory" (memory 17 32)))'
SHARED = '(module (import "env" "memory" (memory 17 256 shared)))'


def run(*args):
    return CliRunner().invoke(cli, list(args), catch_exceptions=False)


def usage_error(capsys, *args) -> str:
    """main() with args: exit status 2; the error message."""
    with pytest.raises(SystemExit) as exc:
        main(list(args))
    assert exc.value.code == 2
    return capsys.readouterr().err


@pytest.fixture(autouse=True)
def _no_config(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # no pyproject.toml/wasmem.toml with rules above tmp


@pytest.fixture
def mods(tmp_path):
    out = {}
    for name, text in (("minmax", MINMAX), ("shared", SHARED)):
        p = tmp_path / f"{name}.wasm"
        p.write_bytes(wat(text))
        out[name] = str(p)
    return out


def flat(text):
    return " ".join(text.split())


def test_inspect_pages_fails_where_v8_would(mods):
    r = run("inspect", mods["minmax"], "--pages", "17")
    assert r.exit_code == 1 and "memory import 0 has no maximum limit" in flat(r.output)
    assert "new WebAssembly.Memory({initial: 17, maximum: 32})" in flat(r.output)
    assert run("inspect", mods["minmax"], "--pages", "17", "--max-pages", "32").exit_code == 0
    r = run("inspect", mods["shared"], "--pages", "17", "--max-pages", "256")
    assert r.exit_code == 1 and "mismatch in shared state of memory, declared = 1, imported = 0" in flat(r.output)
    assert "new WebAssembly.Memory({initial: 17, maximum: 256, shared: true})" in flat(r.output)
    assert run("inspect", mods["shared"], "--pages", "17", "--max-pages", "256", "--shared").exit_code == 0


def test_inspect_json_codes(mods):
    d = json.loads(run("inspect", mods["shared"], "--pages", "16", "--json").output)
    codes = [f["code"] for f in d["findings"] if f["code"].startswith("host-memory")]
    assert codes == ["host-memory-too-small", "host-memory-no-maximum", "host-memory-shared-mismatch"]


@pytest.mark.parametrize("args", [("--max-pages", "3"), ("--shared",)])
def test_inspect_host_options_need_pages(mods, args, capsys):
    assert "give --pages N too" in usage_error(capsys, "inspect", mods["minmax"], *args)


def check(*args):
    return run("check", "--no-config", *args)


def test_check_host_rules_pass_and_fail(mods):
    r = check(mods["minmax"], "--host-pages", "17")
    assert r.exit_code == 1 and "host-max-pages" in r.output and "no maximum limit" in flat(r.output)
    assert check(mods["minmax"], "--host-pages", "17", "--host-max-pages", "32").exit_code == 0
    assert check(mods["minmax"], "--host-pages", "17", "--host-max-pages", "33").exit_code == 1
    # a non-shared host memory for a shared import fails (it used to pass)
    r = check(mods["shared"], "--host-pages", "17", "--host-max-pages", "256")
    assert r.exit_code == 1 and "host-shared" in r.output
    assert check(mods["shared"], "--host-pages", "17", "--host-max-pages", "256", "--host-shared").exit_code == 0
    # an import without maximum or shared: only host-pages, as before
    assert check(sample("memdemo-import.wasm"), "--host-pages", "2").exit_code == 0


def test_check_json_rule_names_and_fix(mods):
    r = check(mods["shared"], "--host-pages", "16", "--format", "json")
    res = {x["rule"]: x for x in json.loads(r.output)["modules"][0]["results"]}
    assert set(res) == {"host-pages", "host-max-pages", "host-shared"}
    assert [res[k]["status"] for k in ("host-pages", "host-max-pages", "host-shared")] == ["fail"] * 3
    assert res["host-pages"]["details"] == ["pass new WebAssembly.Memory({initial: 17, maximum: 256, shared: true})"]
    assert res["host-pages"]["message"].endswith("(the error V8 throws first)")
    assert res["host-shared"]["measured"] == "shared" and res["host-shared"]["limit"] == "not shared"


def test_check_json_validates_against_the_schema(mods):
    jsonschema = pytest.importorskip("jsonschema")
    from wasmem.schemas import get_schema

    doc = json.loads(check(mods["shared"], "--host-pages", "17", "--format", "json").output)
    jsonschema.Draft202012Validator(get_schema("check")).validate(doc)


def test_config_keys(mods, tmp_path, capsys):
    cfg = tmp_path / "wasmem.toml"
    cfg.write_text("host-pages = 17\nhost-max-pages = 256\nhost-shared = true\n")
    assert run("check", "--config", str(cfg), mods["shared"]).exit_code == 0
    cfg.write_text("host-pages = 17\nhost-max-pages = 256\n")
    assert run("check", "--config", str(cfg), mods["shared"]).exit_code == 1
    cfg.write_text("host-shared = 1\n")
    assert "host-shared must be true or false" in usage_error(capsys, "check", "--config", str(cfg), mods["shared"])


def test_host_max_pages_without_host_pages_is_a_usage_error(mods, capsys):
    err = usage_error(capsys, "check", "--no-config", mods["minmax"], "--host-max-pages", "32")
    assert "give --host-pages N" in err


def test_node_agrees_with_every_check_verdict(mods):
    """check passes exactly when node instantiates the module with that host memory."""
    cases = []
    for name, text in (("minmax", MINMAX), ("shared", SHARED)):
        for initial in (16, 17, 32):
            for maximum in (None, 31, 32, 256, 257):
                for shared in (False, True):
                    args = ["--host-pages", str(initial)]
                    args += [] if maximum is None else ["--host-max-pages", str(maximum)]
                    args += ["--host-shared"] if shared else []
                    r = check(mods[name], *args, "--format", "json")
                    cases.append((name, text, js_memory(initial, maximum, shared), r.exit_code,
                                  json.loads(r.output)["modules"][0]["results"]))
    outcomes = instantiate([(wat(text), js) for _, text, js, _, _ in cases])
    for (name, _, js, code, results), got in zip(cases, outcomes, strict=True):
        assert code == (0 if got == "OK" else 1), (name, js, got, results)
        if got != "OK" and got.startswith("LinkError"):
            assert any(got.split("(): ", 1)[1] in r["message"] for r in results), (name, js, got)
    fixes = {d for *_, results in cases for r in results for d in r["details"]}
    fixed = instantiate([(wat(MINMAX if "shared" not in js else SHARED), re.sub(r"^pass ", "", js)) for js in fixes])
    assert fixed == ["OK"] * len(fixes)
