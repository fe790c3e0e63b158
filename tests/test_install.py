"""What users install: an sdist and a wheel built from this checkout, each installed non-editable into a
fresh virtual environment outside the checkout, then every command run on the bundled samples.

The editable install that the rest of the suite uses can hide a broken release (an import that only
works because the checkout happens to load a module first, a data file missing from the wheel). These
tests run offline: the build backend and the dependencies come from the wheelhouse that `make test`'s
set-up builds (`.venv/wheelhouse`, or `WASMEM_WHEELHOUSE`); without one they skip with a reason.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import tarfile
import zipfile
from pathlib import Path

import pytest
from install_util import built_once, find_wheelhouse, offline_env

from wasmem.cli.main import COMMANDS

ROOT = Path(__file__).resolve().parents[1]
SAMPLES = ROOT / "samples"
# what never goes into a build copy of the tree: environments, caches, earlier builds
_SKIP_DIRS = {".venv", ".git", "build", "dist", "__pycache__", ".pytest_cache", ".hypothesis", ".ruff_cache"}


def run(cmd, *, env=None, cwd=None, timeout=300) -> subprocess.CompletedProcess:
    return subprocess.run([str(c) for c in cmd], env=env, cwd=cwd, capture_output=True, text=True,
                          timeout=timeout, check=False)


def must(proc: subprocess.CompletedProcess) -> subprocess.CompletedProcess:
    assert proc.returncode == 0, f"{proc.args} exited {proc.returncode}\n{proc.stdout}\n{proc.stderr}"
    return proc


@pytest.fixture(scope="module")
def wheelhouse() -> Path:
    wh = find_wheelhouse()
    if wh is None:
        pytest.skip("no wheelhouse of dependencies (made by `make test`'s set-up, or set WASMEM_WHEELHOUSE): "
                    "the install tests run offline")
    return wh


@pytest.fixture(scope="module")
def dists(tmp_path_factory, wheelhouse):
    """Builds the sdist from a copy of the tree, then the wheel *from that sdist* (what `python -m build`
    does), so a file missing from the sdist breaks the wheel too. Returns (sdist, wheel, build log). Built
    once in a session, whichever pytest-xdist worker runs these tests first."""
    def build(folder: Path):
        src = folder / "src" / "wasmem"
        shutil.copytree(ROOT, src, ignore=lambda d, names: [n for n in names if n in _SKIP_DIRS
                                                             or n.endswith(".egg-info")])
        out = folder / "dist"
        proc = must(run([sys.executable, "-m", "build", "--outdir", out, src], env=offline_env(wheelhouse)))
        sdists, wheels = list(out.glob("wasmem-*.tar.gz")), list(out.glob("wasmem-*.whl"))
        assert len(sdists) == 1 and len(wheels) == 1, sorted(p.name for p in out.iterdir())
        return str(sdists[0]), str(wheels[0]), proc.stdout + proc.stderr

    sdist, wheel, log = built_once(tmp_path_factory, "dists", build)
    return Path(sdist), Path(wheel), log


def _venv(base: Path, wheelhouse: Path, target: Path) -> Path:
    """A fresh venv with `target` (a wheel or an sdist) installed into it non-editable; returns its bin/."""
    must(run([sys.executable, "-m", "venv", "--without-pip", base]))
    python = base / "bin" / "python"
    # this interpreter's pip installs into the new venv (`--python`), which saves bootstrapping pip there
    must(run([sys.executable, "-m", "pip", "--python", python, "install", "--quiet", target],
             env=offline_env(wheelhouse)))
    return base / "bin"


@pytest.fixture(scope="module", params=["wheel", "sdist"])
def installed(request, tmp_path_factory, dists, wheelhouse):
    """The venv with the wheel (the sdist) installed: made once in a session, as ``dists``; the tests only run
    its commands, so pytest-xdist workers share it."""
    sdist, wheel, _ = dists
    target = wheel if request.param == "wheel" else sdist
    return Path(built_once(tmp_path_factory, f"venv-{request.param}",
                           lambda folder: str(_venv(folder / "venv", wheelhouse, target))))


@pytest.fixture(scope="module")
def workdir(tmp_path_factory) -> Path:
    """Commands run from a folder outside the checkout, so nothing can be imported from it."""
    return tmp_path_factory.mktemp("user")


def wasmem(bindir: Path, cwd: Path, *args) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTHON", "VIRTUAL_ENV", "WASMEM_"))}
    env.update(COLUMNS="100", NO_COLOR="1", TERM="dumb")
    return run([bindir / "wasmem", *args], env=env, cwd=cwd, timeout=120)


def sample(name: str) -> str:
    return str(SAMPLES / name)


# (arguments, expected exit status, a line or phrase the output must hold)
SMOKE = [
    (["inspect", sample("memdemo-datafirst.wasm")], 0, "layout        data-first"),
    (["inspect", sample("memdemo-import.wasm"), "--pages", "1"], 1,
     "a host memory of 1 pages is smaller than the declared minimum of 2"),
    (["call", sample("memdemo.wasm"), "make_point", "1.0", "2.0", "--returns", "x:f64,y:f64"], 0,
     "x = 1.0, y = 2.0"),
    (["call", sample("memdemo.wasm"), "divide", "1", "0"], 1, "integer_division_by_zero"),
    (["dump", sample("memdemo.wasm"), "--at", "0x10000", "--len", "64"], 0,
     "0x00010000  6d 65 6d 64 65 6d 6f 00  64 65 6c 74 61 00 62 65  |memdemo.delta.be|"),
    (["stack", sample("memdemo.wasm"), "--top", "6"], 0, "deep  unbounded: recursion: deep → deep"),
    (["check", sample("memdemo-datafirst.wasm"), "--require-stack-first", "--no-config"], 1,
     "FAIL "),
    (["check", sample("memdemo.wasm"), "--require-stack-first", "--no-config"], 0, "PASS "),
    (["symbols", sample("memdemo-debug.wasm")], 0, "data_array"),
    (["chase", sample("memdemo-debug.wasm"), "node_a"], 0, "cycle to 0x10090"),
    (["inspect", sample("memdemo.wasm"), "--json"], 0, '"kind": "stack-first"'),
]


@pytest.mark.parametrize("args,status,expected", SMOKE, ids=[" ".join(a[:1] + a[2:])[:60] for a, _, _ in SMOKE])
def test_command_runs_installed(installed, workdir, args, status, expected):
    proc = wasmem(installed, workdir, *args)
    assert proc.returncode == status, proc.stdout + proc.stderr
    assert expected in proc.stdout, proc.stdout
    assert "internal error" not in proc.stderr and "Traceback" not in proc.stderr, proc.stderr


def test_every_command_has_help_installed(installed, workdir):
    top = wasmem(installed, workdir, "--help")
    assert top.returncode == 0, top.stderr
    for name in COMMANDS:
        assert re.search(rf"^\s+{name}\s", top.stdout, re.M), f"{name} missing from wasmem --help"
        proc = wasmem(installed, workdir, name, "--help")
        assert proc.returncode == 0 and "Usage: wasmem " + name in proc.stdout, proc.stdout + proc.stderr


def test_version_is_the_distribution_version(installed, workdir):
    meta = must(run([installed / "python", "-c", "import importlib.metadata as m; print(m.version('wasmem'))"],
                    cwd=workdir)).stdout.strip()
    for cmd in ([installed / "python", "-m", "wasmem", "--version"], [installed / "wasmem", "--version"]):
        out = must(run(cmd, cwd=workdir)).stdout.strip()
        assert out == f"wasmem, version {meta}", out


def test_imports_come_from_the_venv(installed, workdir):
    where = must(run([installed / "python", "-c", "import wasmem, sys; print(wasmem.__file__)"],
                     cwd=workdir)).stdout.strip()
    assert Path(where).resolve().is_relative_to(installed.parent.resolve()), where
    assert "site-packages" in where


def test_bad_input_is_one_line_installed(installed, workdir):
    bad = workdir / "bad.wasm"
    bad.write_bytes(b"\0asm\x01\0\0\0\x01\x10\x00")
    proc = wasmem(installed, workdir, "inspect", bad)
    assert proc.returncode == 2
    assert proc.stderr.startswith("wasmem: error: ") and proc.stderr.count("\n") == 1, proc.stderr
    assert "(at offset 0x" in proc.stderr


def test_schema_files_ship_in_the_wheel(installed, workdir):
    if "schema" not in COMMANDS:
        pytest.skip("no `schema` command in this checkout")
    proc = wasmem(installed, workdir, "schema", "inspect")
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["type"] == "object"


def test_sdist_is_a_source_release(dists):
    sdist, _, _ = dists
    with tarfile.open(sdist) as tar:
        names = {n.split("/", 1)[1] for n in tar.getnames() if "/" in n}
    for needed in ("LICENSE", "README.md", "Makefile", "pyproject.toml", "samples/memdemo.wasm",
                   "samples/memdemo.c", "tests/conftest.py", "docs/json.md", "wasmem/cli/main.py"):
        assert needed in names, f"{needed} missing from the sdist"
    assert not any("__pycache__" in n or n.endswith(".pyc") for n in names)


def test_wheel_holds_the_package_only(dists):
    _, wheel, _ = dists
    with zipfile.ZipFile(wheel) as zf:
        names = zf.namelist()
        meta_name = next(n for n in names if n.endswith(".dist-info/METADATA"))
        meta = zf.read(meta_name).decode()
    tops = {n.split("/", 1)[0] for n in names}
    assert tops == {"wasmem", meta_name.split("/")[0]}, tops
    assert "wasmem/cli/main.py" in names
    assert any(n.endswith(".dist-info/licenses/LICENSE") for n in names)
    assert "License-Expression: MIT" in meta
    assert "Classifier: Topic :: Software Development :: Debuggers" in meta
    assert "Project-URL: Source, " in meta and "Keywords: " in meta
    assert "Description-Content-Type: text/markdown" in meta


def test_build_prints_no_deprecation_warning(dists):
    _, _, log = dists
    hits = [line for line in log.splitlines() if re.search(r"deprecat", line, re.I)]
    assert not hits, "\n".join(hits)


def test_metadata_renders_on_pypi(dists):
    pytest.importorskip("twine")
    sdist, wheel, _ = dists
    proc = run([sys.executable, "-m", "twine", "check", "--strict", sdist, wheel])
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert proc.stdout.count("PASSED") == 2, proc.stdout
