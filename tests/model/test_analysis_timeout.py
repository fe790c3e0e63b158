"""`--timeout` bounds wasmem's own stack analysis of an untrusted module (issue 18): the body scan and the
graph solve both look at the deadline, so a module that would take long stops with one line (exit 2), in
`stack` and in `check --stack-headroom` (that module's error); the default is generous, 0 means no limit."""

from __future__ import annotations

import time

import pytest
import stackgen
from conftest import run_main

from wasmem.errors import AnalysisTimeout
from wasmem.model import stackframes
from wasmem.parser import WasmModule


@pytest.fixture(scope="module")
def chain(tmp_path_factory):
    p = tmp_path_factory.mktemp("chain") / "chain.wasm"
    p.write_bytes(stackgen.chain(20_000))
    return str(p)


def test_the_scan_and_the_solve_both_stop_at_the_deadline(chain, monkeypatch):
    m = WasmModule.from_file(chain)
    with pytest.raises(AnalysisTimeout, match="did not finish in 1e-09 s"):
        stackframes.analyze_stack(m, timeout=1e-9)
    # the scan finishes; the deadline passes inside the graph solve (checked per root and every 16k nodes)
    frames = stackframes.analyze_frames(m, 0)
    d = stackframes.Deadline(1e-9)
    time.sleep(0.001)
    with pytest.raises(AnalysisTimeout):
        stackframes._Graph(frames, None, d)
    assert stackframes.analyze_stack(m, timeout=0).worst_bytes == 20_000 * 16  # 0: no limit


def test_stack_and_check_report_the_timeout_in_one_line(chain, capsys):
    code, out, err = run_main(capsys, "stack", chain, "--timeout", "0.000001")
    assert code == 2 and err == "wasmem: error: the stack analysis did not finish in 1e-06 s (--timeout; 0 = no limit)\n"
    code, out, err = run_main(capsys, "check", chain, "--stack-headroom", "10", "--timeout", "0.000001")
    assert code == 2 and "did not finish in 1e-06 s" in out and "could not be read or" in out
    code, out, err = run_main(capsys, "stack", chain, "--top", "1")
    assert code == 0  # the default limit (ANALYSIS_TIMEOUT) is far above what 20,000 functions take


@pytest.mark.parametrize("bad", ["nan", "inf", "-1"])
def test_the_timeout_is_a_finite_number(capsys, chain, bad):
    code, _out, err = run_main(capsys, "stack", chain, "--timeout", bad)
    assert code == 2 and "finite number of seconds" in err
