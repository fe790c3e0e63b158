"""`wasmem check`: exit codes, output formats, config files, several modules."""

import json
import xml.etree.ElementTree as ET

import pytest
from click.testing import CliRunner
from conftest import sample
from golden_util import check_golden

from wasmem.cli.main import cli, main


def run(*args, cwd=None):
    return CliRunner().invoke(cli, ["check", *args], catch_exceptions=False)


@pytest.fixture(autouse=True)
def _no_config(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # no pyproject.toml/wasmem.toml with rules above tmp


@pytest.mark.parametrize("flag, good, bad", [
    ("--max-initial-pages", "2", "1"),
    ("--min-stack-size", "65536", "65537"),
    ("--max-stack-size", "65536", "1024"),
    ("--max-data-size", "4096", "16"),
])
def test_each_numeric_rule_exit_code(flag, good, bad):
    assert run(sample("memdemo.wasm"), flag, good).exit_code == 0
    r = run(sample("memdemo.wasm"), flag, bad)
    assert r.exit_code == 1 and "✘ " + flag[2:] in r.output


def test_flag_rules():
    assert run(sample("memdemo.wasm"), "--require-stack-first").exit_code == 0
    assert run(sample("memdemo-datafirst.wasm"), "--require-stack-first").exit_code == 1
    assert run(sample("memdemo.wasm"), "--require-max-memory").exit_code == 1
    assert run(sample("memdemo-import.wasm"), "--host-pages", "2").exit_code == 0
    assert run(sample("memdemo-import.wasm"), "--host-pages", "1").exit_code == 1
    assert run(sample("memdemo.wasm"), "--stack-headroom", "20").exit_code == 1  # recursion/VLA
    assert run(sample("memdemo.wasm"), "--stack-headroom", "20", "--allow-unbounded").exit_code == 0


def test_several_modules_and_usage_errors(tmp_path, capsys):
    r = run(sample("memdemo.wasm"), sample("memdemo-datafirst.wasm"), "--require-stack-first")
    assert r.exit_code == 1 and r.output.count("PASS") == 1 and r.output.count("FAIL") == 1
    with pytest.raises(SystemExit) as exc:
        main(["check", sample("memdemo.wasm")])  # no rules
    assert exc.value.code == 2 and "no rules given" in capsys.readouterr().err
    bad = tmp_path / "bad.wasm"
    bad.write_bytes(b"\0asm\x01\0\0\0\x05\x03\x03")
    with pytest.raises(SystemExit) as exc:
        main(["check", str(bad), sample("memdemo.wasm"), "--max-initial-pages", "9"])
    cap = capsys.readouterr()
    assert exc.value.code == 2 and "declares 3 bytes" in cap.err and "PASS" in cap.out  # the good one still checked


def test_github_format():
    r = run(sample("memdemo-datafirst.wasm"), "--require-stack-first", "--min-stack-size", "4096",
            "--format", "github")
    assert r.exit_code == 1
    lines = r.output.splitlines()
    errors = [x for x in lines if x.startswith("::error ")]
    assert len(errors) == 1
    assert errors[0].startswith(f"::error file={sample('memdemo-datafirst.wasm')},title=wasmem require-stack-first::")
    assert lines[-1].startswith("wasmem check: 1 of 2 rule results hold")


def test_json_format():
    r = run(sample("memdemo.wasm"), "--max-initial-pages", "1", "--format", "json")
    d = json.loads(r.output)
    assert r.exit_code == 1 and d["passed"] is False
    (res,) = d["modules"][0]["results"]
    assert res == {"rule": "max-initial-pages", "status": "fail", "measured": 2, "limit": 1,
                   "message": res["message"], "details": []}


def test_junit_to_output(tmp_path):
    out = tmp_path / "wasmem.xml"
    r = run(sample("memdemo.wasm"), sample("memdemo-import.wasm"), "--host-pages", "2", "--require-max-memory",
            "--format", "junit", "--output", str(out))
    assert r.exit_code == 1
    root = ET.parse(out).getroot()
    assert root.tag == "testsuites" and root.get("failures") == "2" and root.get("tests") == "4"
    cases = root.findall(".//testcase")
    assert {c.get("name") for c in cases} == {"host-pages", "require-max-memory"}
    assert len(root.findall(".//failure")) == 2 and len(root.findall(".//skipped")) == 1


def test_config_from_pyproject_and_override(tmp_path):
    (tmp_path / "pyproject.toml").write_text(
        f'[tool.wasmem.check]\nmodules = ["{sample("memdemo-datafirst.wasm")}"]\n'
        'require-stack-first = true\nmin-stack-size = 4096\n')
    r = run()
    assert r.exit_code == 1 and "require-stack-first" in r.output and "rules from" in " ".join(r.output.split())
    r = run(sample("memdemo.wasm"), "--min-stack-size", "70000")  # CLI module and flag override
    assert r.exit_code == 1 and "65536" in r.output
    assert run(sample("memdemo.wasm")).exit_code == 0
    assert run(sample("memdemo-datafirst.wasm"), "--no-config", "--max-initial-pages", "1").exit_code == 0


def test_text_golden(monkeypatch):
    import os

    from conftest import ROOT

    monkeypatch.chdir(ROOT)
    r = CliRunner().invoke(cli, ["check", os.path.join("samples", "memdemo-datafirst.wasm"),
                                 "--max-initial-pages", "2", "--min-stack-size", "16384", "--require-stack-first",
                                 "--stack-headroom", "25", "--recursion-depth", "4", "--no-config",
                                 "--output", os.devnull], catch_exceptions=False)
    assert r.exit_code == 1
    from golden_util import render_text

    from wasmem.model.checks import Rules, run_checks
    from wasmem.parser.module import WasmModule
    from wasmem.render.check import CheckView

    reps = run_checks([os.path.join("samples", "memdemo-datafirst.wasm")],
                      Rules(max_initial_pages=2, min_stack_size=16384, require_stack_first=True,
                            stack_headroom=25, recursion_depth=4), WasmModule.from_file)
    check_golden("check-memdemo-datafirst.txt", render_text(CheckView(reps)))


def test_output_directory_is_created_and_an_unwritable_output_is_a_usage_error(tmp_path, capsys):
    r = run(sample("memdemo.wasm"), "--max-initial-pages", "1", "--format", "json", "-o",
            str(tmp_path / "reports" / "ci" / "check.json"))
    assert r.exit_code == 1
    assert json.loads((tmp_path / "reports" / "ci" / "check.json").read_text())["passed"] is False
    (tmp_path / "file").write_text("")
    with pytest.raises(SystemExit) as exc:
        main(["check", sample("memdemo.wasm"), "--max-initial-pages", "1", "-o", str(tmp_path / "file" / "x.txt")])
    assert exc.value.code == 2 and "cannot write the report to" in capsys.readouterr().err


def test_github_annotations_name_config_modules_by_their_path_in_the_repository(tmp_path):
    import shutil

    (tmp_path / "build").mkdir()
    shutil.copyfile(sample("memdemo-datafirst.wasm"), tmp_path / "build" / "app.wasm")
    (tmp_path / "pyproject.toml").write_text('[tool.wasmem.check]\nmodules = ["build/app.wasm"]\n'
                                             'require-stack-first = true\n')
    r = run("--format", "github")  # config modules are absolute paths; an annotation needs the repository's
    assert r.exit_code == 1
    assert r.stdout.startswith("::error file=build/app.wasm,title=wasmem require-stack-first::")
