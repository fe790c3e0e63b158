"""The error contract over the hand-made malformed corpus and every valid sample: malformed → one
line on stderr and exit 2; valid → exit 0."""

import os
import sys

import pytest
from conftest import all_samples

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "corpus"))
from make_corpus import CORPUS  # noqa: E402

from wasmem.cli.main import main  # noqa: E402


def run(capsys, *argv):
    with pytest.raises(SystemExit) as exc:
        main(list(argv))
    return exc.value.code, capsys.readouterr()


@pytest.mark.parametrize("name, data, expect", CORPUS, ids=[c[0] for c in CORPUS])
def test_malformed_module_is_one_line_exit_2(tmp_path, capsys, name, data, expect):
    p = tmp_path / f"{name}.wasm"
    p.write_bytes(data)
    code, out = run(capsys, "inspect", str(p))
    if expect is None:  # malformed only in a custom section: still inspectable, with a finding
        assert code == 0
        return
    assert code == 2, out
    assert out.err.startswith("wasmem: error: ") and out.err.count("\n") == 1, out.err
    assert expect in out.err
    assert "Traceback" not in out.err and out.out == ""


def test_committed_corpus_matches_the_generator():
    here = os.path.join(os.path.dirname(os.path.abspath(__file__)), "corpus", "malformed")
    for name, data, _ in CORPUS:
        with open(os.path.join(here, name + ".wasm"), "rb") as f:
            assert f.read() == data, name


@pytest.mark.parametrize("path", all_samples(), ids=os.path.basename)
def test_every_valid_sample_inspects_with_exit_0(capsys, path):
    code, out = run(capsys, "inspect", path, "--json")
    assert code == 0 and out.err == ""


def test_non_minimal_leb128_encodings_are_valid(tmp_path, capsys):
    """Padded LEB128 (as linkers emit for relocations) is well-formed: counts, limits and indices."""
    from make_corpus import H, sec

    body = b"\x81\x80\x80\x80\x00"  # 1, padded to 5 bytes
    data = H + sec(5, b"\x81\x80\x80\x80\x00" + b"\x01" + body + b"\x82\x80\x80\x80\x00") \
        + sec(7, b"\x01\x01m\x02\x80\x80\x80\x80\x00")
    p = tmp_path / "padded.wasm"
    p.write_bytes(data)
    code, out = run(capsys, "inspect", str(p), "--json")
    assert code == 0
    import json

    mem = json.loads(out.out)["memories"][0]
    assert (mem["min_pages"], mem["max_pages"], mem["exports"]) == (1, 2, ["m"])
