"""The pre-commit hooks of .pre-commit-hooks.yaml, run by the real pre-commit in scratch git repositories.

pre-commit installs the hook repository (a committed snapshot of this working tree) into a fresh
virtualenv with pip: offline, from the wheelhouse that `make test`'s set-up builds (skipped without
one). Both projects share one PRE_COMMIT_HOME, so that environment is built once (under pytest-xdist too: the
snapshot and the home are made once in the session, and pre-commit's own lock serialises the install).
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import sample
from install_util import GIT_ENV, built_once, find_wheelhouse, git, offline_env, snapshot_repo

CONFIG = """[tool.wasmem.check]
modules = ["build/other.wasm"]
require-stack-first = true
"""


@pytest.fixture(scope="module")
def precommit(tmp_path_factory):
    """A function running `pre-commit ARGS` in a project directory, offline, with no user configuration."""
    pytest.importorskip("pre_commit", reason="pre-commit (dev extra) is not installed")
    wheelhouse = find_wheelhouse()
    if wheelhouse is None:
        pytest.skip("no wheelhouse of dependencies (made by `make test`'s set-up, or set WASMEM_WHEELHOUSE): "
                    "pre-commit installs the hook offline from it")
    def make(folder: Path):
        hooks, home = folder / "hook-repo", folder / "pre-commit-home"
        hooks.mkdir()
        home.mkdir()
        return str(hooks), snapshot_repo(hooks), str(home)

    hooks, sha, home = built_once(tmp_path_factory, "precommit", make)
    hooks, home = Path(hooks), Path(home)
    env = offline_env(wheelhouse, PRE_COMMIT_HOME=str(home / "cache"), PRE_COMMIT_COLOR="never",
                      VIRTUALENV_CONFIG_FILE=os.devnull, VIRTUALENV_OVERRIDE_APP_DATA=str(home / "app-data"),
                      VIRTUALENV_NO_PERIODIC_UPDATE="1",
                      **GIT_ENV)
    env = {k: v for k, v in env.items() if not k.startswith("GIT_") or k in GIT_ENV}

    def run(project: Path, *args: str) -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, "-m", "pre_commit", *args], cwd=project, env=env,
                              capture_output=True, text=True, timeout=600)

    run.hooks, run.sha = hooks, sha
    return run


def make_project(path: Path, committed: str, other: str, precommit) -> Path:
    """A git repository with a pyproject.toml that checks require-stack-first, the sample ``committed``
    committed as app.wasm, and the sample ``other`` as build/other.wasm (ignored, not committed): the
    config's `modules`."""
    path.mkdir()
    (path / "pyproject.toml").write_text(CONFIG)
    (path / ".gitignore").write_text("build/\n")
    shutil.copyfile(sample(committed), path / "app.wasm")
    (path / "build").mkdir()
    shutil.copyfile(sample(other), path / "build" / "other.wasm")
    (path / ".pre-commit-config.yaml").write_text(
        f"repos:\n  - repo: {precommit.hooks}\n    rev: {precommit.sha}\n"
        "    hooks:\n      - id: wasmem-check\n      - id: wasmem-check-all\n")
    git("init", "-q", cwd=path)
    git("add", "-A", cwd=path)
    git("commit", "-q", "-m", "project", cwd=path)
    return path


def status(out: str, name: str) -> str:
    m = re.search(rf"^{re.escape(name)}\.+(Passed|Failed|Skipped)", out, re.MULTILINE)
    assert m, out
    return m.group(1)


def test_hook_fails_on_a_committed_data_first_module(tmp_path, precommit):
    project = make_project(tmp_path / "p", "memdemo-datafirst.wasm", "memdemo.wasm", precommit)
    r = precommit(project, "run", "--all-files")
    out = r.stdout + r.stderr
    assert r.returncode == 1, out
    # the committed file was checked with the config's rules (not the config's `modules`, which pass)
    assert status(out, "wasmem check") == "Failed"
    assert "- hook id: wasmem-check\n- exit code: 1" in out
    assert re.search(r"FAIL app\.wasm\n\s+✘ require-stack-first\s+layout is data-first", out), out
    assert "other.wasm" not in out.split("wasmem check (config modules)")[0]
    assert status(out, "wasmem check (config modules)") == "Passed"


def test_hook_passes_on_a_stack_first_module_and_the_all_hook_checks_config_modules(tmp_path, precommit):
    project = make_project(tmp_path / "p", "memdemo.wasm", "memdemo-datafirst.wasm", precommit)
    r = precommit(project, "run", "wasmem-check", "--all-files")
    assert r.returncode == 0, r.stdout + r.stderr
    assert status(r.stdout, "wasmem check") == "Passed"
    r = precommit(project, "run", "wasmem-check-all", "--all-files")
    out = r.stdout + r.stderr
    assert r.returncode == 1, out
    assert status(out, "wasmem check (config modules)") == "Failed"
    assert re.search(r"FAIL (\S*/)?build/other\.wasm\n\s+✘ require-stack-first", out), out
