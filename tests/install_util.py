"""Offline installs in tests: the wheelhouse of dependency wheels and a committed snapshot of the tree."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def find_wheelhouse() -> Path | None:
    """The folder of dependency wheels made at set-up (`WASMEM_WHEELHOUSE`, else `<repo>/.venv/wheelhouse`),
    or None when there is none with wasmtime and setuptools wheels in it."""
    env = os.environ.get("WASMEM_WHEELHOUSE")
    path = Path(env) if env else ROOT / ".venv" / "wheelhouse"
    if path.is_dir() and any(path.glob("wasmtime-*.whl")) and any(path.glob("setuptools-*.whl")):
        return path
    return None


def offline_env(wheelhouse: Path, **extra: str) -> dict[str, str]:
    """os.environ without pip/Python/virtualenv settings, plus: no index, only the wheelhouse, no pip config."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PIP_", "PYTHON", "VIRTUAL_ENV"))}
    env.update(PIP_NO_INDEX="1", PIP_FIND_LINKS=str(wheelhouse), PIP_CONFIG_FILE=os.devnull,
               PIP_DISABLE_PIP_VERSION_CHECK="1", PIP_NO_INPUT="1", **extra)
    return env


GIT_ENV = {"GIT_CONFIG_GLOBAL": os.devnull, "GIT_CONFIG_NOSYSTEM": "1", "GIT_AUTHOR_NAME": "wasmem tests",
           "GIT_AUTHOR_EMAIL": "tests@wasmem.invalid", "GIT_COMMITTER_NAME": "wasmem tests",
           "GIT_COMMITTER_EMAIL": "tests@wasmem.invalid"}


def git(*args, cwd) -> str:
    """Runs git with no user or system configuration; returns its stdout."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("GIT_")} | GIT_ENV
    return subprocess.run(["git", *args], cwd=cwd, env=env, check=True, capture_output=True, text=True).stdout


def snapshot_repo(dest: Path) -> str:
    """The working tree as it is (tracked and untracked files, not ignored ones) committed to a new git
    repository at ``dest``; returns the commit's sha. Tools that install from a git revision (pre-commit)
    then test the code under test, not the last commit."""
    files = git("ls-files", "-z", "--cached", "--others", "--exclude-standard", cwd=ROOT).split("\0")
    for rel in filter(None, files):
        src = ROOT / rel
        if src.is_file():  # a tracked file deleted in the working tree is left out
            (dest / rel).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(src, dest / rel)
    git("init", "-q", cwd=dest)
    git("add", "-A", cwd=dest)
    git("commit", "-q", "--no-verify", "-m", "snapshot", cwd=dest)
    return git("rev-parse", "HEAD", cwd=dest).strip()


def built_once(tmp_path_factory, name: str, build: Callable[[Path], object]):
    """``build(folder)`` run once in a test session, by whichever process asks first: under pytest-xdist
    (`make test`) every worker shares the session's temp root, takes a lock there, and the others get the first
    one's result (a JSON value, paths as strings) instead of building again. A build that fails leaves no
    result: the next one to ask tries again (and fails the same way)."""
    base = tmp_path_factory.getbasetemp()
    root = base.parent if os.environ.get("PYTEST_XDIST_WORKER") else base  # .../pytest-N/popen-gwK → .../pytest-N
    folder = root / f"once-{name}"
    done = root / f"once-{name}.json"
    with open(root / f"once-{name}.lock", "w") as lock:
        try:
            import fcntl
        except ImportError:  # not POSIX: no lock (only pytest-xdist runs these concurrently)
            fcntl = None
        if fcntl is not None:
            fcntl.flock(lock, fcntl.LOCK_EX)
        if done.exists():
            return json.loads(done.read_text(encoding="utf-8"))
        shutil.rmtree(folder, ignore_errors=True)  # what a failed build left
        folder.mkdir()
        result = build(folder)
        done.write_text(json.dumps(result), encoding="utf-8")
        return json.loads(json.dumps(result))
