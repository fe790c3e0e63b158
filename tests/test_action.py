"""action.yml, the composite GitHub Action: its structure, and its bash steps run here as a runner would
(`bash --noprofile --norc -eo pipefail`), with the `${{ … }}` of their `env:` resolved like GitHub does."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import ROOT, sample
from install_util import find_wheelhouse, offline_env, snapshot_repo

from wasmem.cli.check import FORMATS

yaml = pytest.importorskip("yaml", reason="pyyaml is needed to read action.yml")

ACTION = yaml.safe_load((Path(ROOT) / "action.yml").read_text(encoding="utf-8"))
STEPS = {s.get("id"): s for s in ACTION["runs"]["steps"]}
EXPR = re.compile(r"^\$\{\{ (inputs|steps|github)\.([\w.-]+) \}\}$")


def test_structure():
    assert ACTION["name"] and ACTION["description"]
    assert ACTION["runs"]["using"] == "composite"
    inputs = ACTION["inputs"]
    assert {"modules", "args", "format", "output", "python-version", "version", "working-directory"} <= set(inputs)
    assert inputs["python-version"]["default"] == "3.12" and inputs["format"]["default"] == "github"
    assert inputs["modules"]["default"] == "" and inputs["version"]["default"] == ""
    for fmt in FORMATS:  # the formats the CLI has are the ones the action documents
        assert fmt in inputs["format"]["description"]
    assert set(ACTION["outputs"]) == {"report", "exit-code"}
    assert ACTION["outputs"]["report"]["value"] == "${{ steps.check.outputs.report }}"
    assert ACTION["outputs"]["exit-code"]["value"] == "${{ steps.check.outputs.exit-code }}"
    setup = STEPS["python"]
    assert setup["uses"].startswith("actions/setup-python@")
    assert setup["with"]["python-version"] == "${{ inputs.python-version }}"
    assert STEPS["install"]["env"]["WASMEM_SOURCE"] == "${{ github.action_path }}"
    for step in ACTION["runs"]["steps"]:
        if "run" in step:
            # no expression is ever expanded into a script (script injection): inputs come through env
            assert step["shell"] == "bash" and "${{" not in step["run"], step["name"]
            assert all(EXPR.match(v) for v in step.get("env", {}).values()), step["env"]


def run_step(step_id: str, inputs: dict, *, cwd: Path, tmp: Path, steps: dict | None = None,
             env: dict | None = None) -> tuple[subprocess.CompletedProcess, dict]:
    """Runs the step's script; returns the process and the outputs it wrote to $GITHUB_OUTPUT."""
    step = STEPS[step_id]
    values = {k: v.get("default", "") for k, v in ACTION["inputs"].items()} | inputs

    def resolve(expr: str) -> str:
        kind, path = EXPR.match(expr).groups()
        if kind == "inputs":
            return str(values[path])
        if kind == "github":
            assert path == "action_path"
            return str(steps["action_path"])
        step_name, _, out = path.split(".")
        return steps[step_name][out]

    script = tmp / f"{step_id}.sh"
    script.write_text(step["run"])
    gh_out = tmp / f"{step_id}.out"
    gh_out.write_text("")
    base = env if env is not None else {k: v for k, v in os.environ.items() if not k.startswith("WASMEM_")}
    full = base | {k: resolve(v) for k, v in step.get("env", {}).items()} | {
        "GITHUB_OUTPUT": str(gh_out), "RUNNER_TEMP": str(tmp)}
    proc = subprocess.run(["bash", "--noprofile", "--norc", "-eo", "pipefail", str(script)], cwd=cwd, env=full,
                          capture_output=True, text=True, timeout=600)
    outputs = dict(line.split("=", 1) for line in gh_out.read_text().splitlines())
    return proc, outputs


def check(inputs: dict, cwd: Path, tmp: Path, python: str = sys.executable):
    return run_step("check", inputs, cwd=cwd, tmp=tmp, steps={"install": {"python": python}})


@pytest.fixture
def project(tmp_path):
    """A directory with build/ok.wasm (stack-first), build/sub/bad.wasm (data-first) and a config."""
    p = tmp_path / "project"
    (p / "build" / "sub").mkdir(parents=True)
    shutil.copyfile(sample("memdemo.wasm"), p / "build" / "ok.wasm")
    shutil.copyfile(sample("memdemo-datafirst.wasm"), p / "build" / "sub" / "bad.wasm")
    (p / "pyproject.toml").write_text('[tool.wasmem.check]\nmodules = ["build/ok.wasm"]\nrequire-stack-first = true\n')
    return p


def test_check_step_github_annotations_from_globs(project, tmp_path):
    proc, out = check({"modules": "build/*.wasm\n  build/sub/*.wasm", "args": "--min-stack-size 4096"},
                      project, tmp_path)
    assert proc.returncode == 1, proc.stderr
    assert out == {"report": "", "exit-code": "1"}
    lines = proc.stdout.splitlines()
    assert lines[0] == "wasmem check build/ok.wasm build/sub/bad.wasm --min-stack-size 4096 --format github"
    assert [ln for ln in lines if ln.startswith("::error ")] == [
        "::error file=build/sub/bad.wasm,title=wasmem require-stack-first::layout is data-first: a stack overflow "
        "silently corrupts static data (link with --stack-first) (measured data-first, limit stack-first)"]


def test_check_step_sarif_to_the_default_file_with_recursive_glob(project, tmp_path):
    proc, out = check({"modules": "build/**/*.wasm", "format": "sarif"}, project, tmp_path)
    assert proc.returncode == 1, proc.stderr
    assert out == {"report": "wasmem-check.sarif", "exit-code": "1"}
    log = json.loads((project / "wasmem-check.sarif").read_text())
    assert [a["location"]["uri"] for a in log["runs"][0]["artifacts"]] == ["build/ok.wasm", "build/sub/bad.wasm"]
    assert [r["ruleId"] for r in log["runs"][0]["results"]] == ["require-stack-first"]


def test_check_step_uses_the_config_in_the_working_directory(project, tmp_path):
    proc, out = check({}, project, tmp_path)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert out == {"report": "", "exit-code": "0"}
    assert "1 of 1 rule results hold in 1 module(s)" in proc.stdout
    proc, out = check({"format": "junit", "output": "reports/check.xml", "modules": "build/sub/bad.wasm"},
                      project, tmp_path)
    assert proc.returncode == 1 and out == {"report": "reports/check.xml", "exit-code": "1"}
    assert (project / "reports" / "check.xml").read_text().startswith("<?xml")


def test_check_step_inputs_are_data_not_code(project, tmp_path):
    evil = project / "build" / "x\n::warning::injected.wasm"
    shutil.copyfile(sample("memdemo.wasm"), evil)
    proc, out = check({"modules": "build/x* $(touch pwned1) `touch pwned2`",
                       "args": "--require-max-memory '$(touch pwned3)'; touch pwned4"}, project, tmp_path)
    assert out["exit-code"] == "2" and proc.returncode == 2  # the odd words are file names that do not exist
    assert not list(project.glob("pwned*")) and not list(tmp_path.glob("pwned*"))
    assert not [ln for ln in proc.stdout.splitlines() if ln.startswith("::warning::")]
    assert "x\\x0a::warning::injected.wasm" in proc.stdout.splitlines()[0]
    proc, out = check({"args": "--config 'unterminated"}, project, tmp_path)
    assert proc.returncode == 2 and out == {"report": "", "exit-code": "2"}
    assert proc.stdout.startswith("::error title=wasmem check::cannot split the args input")


def test_install_then_check_from_the_action_checkout(tmp_path):
    """The whole action but setup-python: a venv with wasmem pip-installed from the action's checkout
    (offline, from the wheelhouse), then the check step with that venv's Python."""
    wheelhouse = find_wheelhouse()
    if wheelhouse is None:
        pytest.skip("no wheelhouse of dependencies (made by `make test`'s set-up, or set WASMEM_WHEELHOUSE)")
    action_path = tmp_path / "action"
    action_path.mkdir()
    snapshot_repo(action_path)
    proc, out = run_step("install", {}, cwd=tmp_path, tmp=tmp_path, env=offline_env(wheelhouse),
                         steps={"python": {"python-path": sys.executable}, "action_path": action_path})
    assert proc.returncode == 0, proc.stdout + proc.stderr
    python = out["python"]
    assert Path(python).is_relative_to(tmp_path) and "wasmem, version" in proc.stdout
    shutil.copyfile(sample("memdemo-datafirst.wasm"), tmp_path / "app.wasm")
    proc, out = check({"modules": "app.wasm", "args": "--require-stack-first", "format": "sarif",
                       "output": "out.sarif"}, tmp_path, tmp_path, python=python)
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert out == {"report": "out.sarif", "exit-code": "1"}
    assert json.loads((tmp_path / "out.sarif").read_text())["runs"][0]["results"][0]["ruleId"] == "require-stack-first"


def test_docs_describe_every_input_and_output():
    text = (Path(ROOT) / "docs" / "ci.md").read_text(encoding="utf-8")
    section = text.split("## The GitHub Action", 1)[1].split("\n## ", 1)[0]
    for name in [*ACTION["inputs"], *ACTION["outputs"]]:
        assert f"`{name}`" in section, name
