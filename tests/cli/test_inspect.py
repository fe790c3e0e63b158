"""`wasmem inspect`: golden output on the samples, JSON, --pages and the error contract."""

import json
import os

import pytest
from click.testing import CliRunner
from conftest import ROOT, sample
from golden_util import check_golden, render_text

import wasmem
from wasmem.cli.main import cli, main
from wasmem.render.inspect import InspectView

GOLDEN_SAMPLES = ["memdemo.wasm", "memdemo-datafirst.wasm", "memdemo-import.wasm", "memdemo-stripped.wasm",
                  "renamed.wasm", "go_like.wasm", "pic.wasm", "twomemories.wasm", "nomemory.wasm"]


@pytest.mark.parametrize("name", GOLDEN_SAMPLES)
def test_golden_inspect(name, monkeypatch):
    sample(name)
    monkeypatch.chdir(ROOT)
    layout = wasmem.inspect(os.path.join("samples", name))
    check_golden(f"inspect-{name}.txt", render_text(InspectView(layout)))


def run(*args):
    return CliRunner().invoke(cli, list(args), catch_exceptions=False)


def test_json_is_the_model():
    r = run("inspect", sample("memdemo-datafirst.wasm"), "--json")
    assert r.exit_code == 0
    d = json.loads(r.output)
    assert d["schema"] == 1
    assert d["layout"]["kind"] == "data-first"
    assert d["stack_pointer"]["global"] == 0 and d["stack_pointer"]["provenance"] == "name-section"
    assert d["stack"]["size"] == d["stack"]["high"] - d["stack"]["low"] == 8192
    assert {f["code"] for f in d["findings"]} >= {"data-first", "small-stack"}


def test_pages_below_minimum_prints_the_link_error_and_fails():
    r = run("inspect", sample("memdemo-import.wasm"), "--pages", "1")
    assert r.exit_code == 1
    assert "LinkError: WebAssembly.Instance(): memory import 0 is smaller than initial 2, got 1" in \
        " ".join(r.output.split())
    assert "memory import has 1 pages which is smaller than the declared initial of 2" in " ".join(r.output.split())
    assert run("inspect", sample("memdemo-import.wasm"), "--pages", "2").exit_code == 0


def test_svg_export(tmp_path):
    out = tmp_path / "layout.svg"
    assert run("inspect", sample("memdemo.wasm"), "--svg", str(out)).exit_code == 0
    assert out.read_text().lstrip().startswith("<svg")


@pytest.mark.parametrize("content, expect", [
    (b"", "empty file"),
    (b"\x7fELF\x02\x01\x01\x00" + bytes(60), "ELF"),
    (b"\0asm\x01\0\0\0\x05\x03\x03\x00\x01", "declares 3 entries but ends after 1 (at offset 0xd)"),
    (b"\0asm\x0d\0\x01\0", "components are not supported"),
])
def test_bad_input_is_one_line_and_exit_2(tmp_path, capsys, content, expect):
    p = tmp_path / "bad.wasm"
    p.write_bytes(content)
    with pytest.raises(SystemExit) as exc:
        main(["inspect", str(p)])
    assert exc.value.code == 2
    err = capsys.readouterr().err
    assert err.startswith("wasmem: error: ") and err.count("\n") == 1
    assert expect in err


def test_missing_file_and_directory(tmp_path, capsys):
    for target, expect in ((str(tmp_path / "nope.wasm"), "no such file"), (str(tmp_path), "is a directory")):
        with pytest.raises(SystemExit) as exc:
            main(["inspect", target])
        assert exc.value.code == 2
        assert expect in capsys.readouterr().err


def test_traceback_flag_shows_the_traceback(tmp_path):
    p = tmp_path / "bad.wasm"
    p.write_bytes(b"nope")
    from wasmem.errors import ParseError

    with pytest.raises(ParseError):
        main(["--traceback", "inspect", str(p)])


def test_version_and_help():
    assert wasmem.__version__ in run("--version").output
    assert "Examples" in run("inspect", "--help").output
