import glob
import os

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SAMPLES = os.path.join(ROOT, "samples")


def sample(name: str) -> str:
    path = os.path.join(SAMPLES, name)
    if not os.path.exists(path):
        pytest.skip(f"sample {name} is not built")
    return path


def all_samples() -> list[str]:
    return sorted(glob.glob(os.path.join(SAMPLES, "*.wasm")))


def wat(text: str) -> bytes:
    import wasmtime

    return wasmtime.wat2wasm(text)


@pytest.fixture
def wat_file(tmp_path):
    """Writes a text module as a binary .wasm file and returns its path."""
    counter = iter(range(10**6))

    def make(text: str, name: str | None = None) -> str:
        p = tmp_path / (name or f"m{next(counter)}.wasm")
        p.write_bytes(wat(text))
        return str(p)

    return make


def run_main(capsys, *argv) -> tuple[int, str, str]:
    """``wasmem ARGV`` through the command line's own entry point (its error mapping and exit codes):
    (exit code, stdout, stderr)."""
    from wasmem.cli.main import main

    with pytest.raises(SystemExit) as ei:
        main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return ei.value.code, out, err


@pytest.fixture(autouse=True)
def _dwarf_index_cache(tmp_path_factory, monkeypatch):
    """The DWARF index cache (wasmem/debuginfo/dwcache.py) and the rewrite cache (runtime/rewritecache.py) of
    each test in directories of its own, never the user's ~/.cache: no test sees another's entries."""
    monkeypatch.setenv("WASMEM_DWARF_CACHE", str(tmp_path_factory.mktemp("dwarf-cache")))
    monkeypatch.setenv("WASMEM_REWRITE_CACHE", str(tmp_path_factory.mktemp("rewrite-cache")))
