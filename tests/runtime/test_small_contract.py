"""The small items of the hostile-input issue: the cache config file, WASI options for modules without
WASI, --dir's access, --after with --snapshot."""

from __future__ import annotations

import glob
import os
import tempfile

import pytest
from conftest import run_main, sample

from wasmem.app import open_session
from wasmem.errors import UsageError
from wasmem.runtime.hosts.wasi import parse_dir


def test_cache_config_is_a_fresh_private_file_that_does_not_stay(tmp_path, monkeypatch):
    """It was written to a predictable path in the temp directory (and followed a planted symlink)."""
    cache = tmp_path / "cache"
    monkeypatch.setenv("WASMEM_CACHE_DIR", str(cache))
    # a temp directory of this test's own: a session opened meanwhile by another test (another pytest-xdist
    # worker) writes its own short-lived config file in the shared one
    tmp = tmp_path / "tmp"
    tmp.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(tmp))
    with open_session(sample("memdemo.wasm"), timeout=2) as s:
        assert s.call("divide", ["7", "2"]).results == [3]
    assert glob.glob(os.path.join(tempfile.gettempdir(), "wasmem-*")) == []
    assert (cache / "modules").is_dir()  # the cache works


@pytest.mark.parametrize("option", [["--dir", "."], ["--env", "A=1"], ["--arg", "x"]])
def test_wasi_options_for_a_module_without_wasi_are_errors(capsys, option):
    code, _, err = run_main(capsys, "call", sample("memdemo.wasm"), "divide", "7", "2", *option)
    assert code == 2 and f"{option[0]}: memdemo.wasm does not use WASI" in err


def test_dir_access(tmp_path):
    assert parse_dir("a") == ("a", "a", True)
    assert parse_dir("a:/b") == ("a", "/b", True)
    assert parse_dir("a:/b:ro") == ("a", "/b", False)
    assert parse_dir(("a", "/b", "ro")) == ("a", "/b", False)
    with pytest.raises(UsageError, match="ro or rw"):
        parse_dir(("a", "/b", "x"))


CREATE = r'''(module
  (import "wasi_snapshot_preview1" "path_open"
    (func $path_open (param i32 i32 i32 i32 i32 i64 i64 i32 i32) (result i32)))
  (memory (export "memory") 1)
  (data (i32.const 16) "out.txt")
  ;; path_open(fd 3 = the first preopen, no dirflags, "out.txt", O_CREAT, all rights) -> errno
  (func (export "create") (result i32)
    (call $path_open (i32.const 3) (i32.const 0) (i32.const 16) (i32.const 7) (i32.const 1)
      (i64.const 0x1fffffff) (i64.const 0x1fffffff) (i32.const 0) (i32.const 64))))'''


@pytest.mark.parametrize("access", ["", ":rw", ":ro"])
def test_dir_is_writable_unless_read_only(tmp_path, access):
    from conftest import wat

    with open_session(wat(CREATE), timeout=5, wasi_dirs=[f"{tmp_path}:/d{access}"]) as s:
        errno = s.call("create", []).results[0]
    if access == ":ro":
        assert errno != 0 and not (tmp_path / "out.txt").exists()
    else:
        assert errno == 0 and (tmp_path / "out.txt").exists()


def test_after_with_snapshot_is_an_error(capsys, tmp_path):
    snap = tmp_path / "m.bin"
    snap.write_bytes(bytes(65536))
    code, _, err = run_main(capsys, "dump", sample("memdemo.wasm"), "--snapshot", snap, "--after", "allocate 8")
    assert code == 2 and "use one or the other" in err
