"""`--timeout` bounds wasmem's own stack analysis of an untrusted module (issues 18 and 24): the body scan and
the graph solve both look at the command's deadline (``wasmem.deadline.Deadline``). `stack` ends with what it
scanned and a note that says what was cut; `check --stack-headroom` (which needs the whole analysis) reports
that module's error in one line; 0 means no limit.

Deterministic: every cut here comes from a deadline that has already passed (a fake clock, or a limit far
below what starting a command takes), never from racing a real one."""

from __future__ import annotations

import pytest
import stackgen
from conftest import run_main

from wasmem.deadline import Deadline
from wasmem.errors import AnalysisTimeout
from wasmem.model import stackframes
from wasmem.parser import WasmModule


class FakeClock:
    """A clock that moves only when told: ``after(n)`` makes it jump past every deadline on its n-th read."""

    def __init__(self, jump_at: int | None = None):
        self.t = 0.0
        self.reads = 0
        self.jump_at = jump_at

    def __call__(self) -> float:
        self.reads += 1
        if self.jump_at is not None and self.reads >= self.jump_at:
            self.t = 1e9
        return self.t


def expired() -> Deadline:
    return Deadline(5, clock=FakeClock(), started=-10.0)


@pytest.fixture(scope="module")
def chain(tmp_path_factory):
    p = tmp_path_factory.mktemp("chain") / "chain.wasm"
    p.write_bytes(stackgen.chain(20_000))
    return str(p)


def test_the_scan_and_the_solve_both_stop_at_the_deadline(chain):
    m = WasmModule.from_file(chain)
    with pytest.raises(AnalysisTimeout, match=r"the stack analysis did not finish in 5 s \(--timeout; 0 = no limit\)"):
        stackframes.analyze_stack(m, deadline=expired())
    # the scan finishes; the deadline passes inside the graph solve (checked per root and every 16k nodes)
    frames = stackframes.analyze_frames(m, 0)
    with pytest.raises(AnalysisTimeout):
        stackframes._Graph(frames, None, expired())
    assert stackframes.analyze_stack(m, timeout=0).worst_bytes == 20_000 * 16  # 0: no limit


def test_a_partial_analysis_names_what_the_deadline_cut(chain):
    """The clock jumps past the deadline part-way through the scan: the bodies scanned keep their frames,
    the rest are unknown (dynamic), the entry point reaching them has no bound, nothing is recommended, and
    a note says how many bodies were not scanned and which option lifts it."""
    m = WasmModule.from_file(chain)
    clock = FakeClock(jump_at=1000)
    sa = stackframes.analyze_stack(m, deadline=Deadline(5, clock=clock), partial=True)
    cut = sa.frames.not_scanned
    assert 0 < cut < 20_000
    assert sa.frames[0].size == 16 and not sa.frames[0].dynamic  # scanned
    last = sa.frames[19_999]
    assert last.dynamic and last.note == stackframes.NOT_SCANNED
    (root,) = sa.roots
    assert root.bytes is None and "not scanned before the deadline (--timeout)" in root.reason
    assert sa.recommended_stack_size(25) is None
    (note,) = [n for n in sa.notes if "was cut" in n]
    assert f"{cut} of 20000 function bodies were not scanned" in note
    assert "--timeout SECONDS" in note and "0 for no limit" in note
    # the same module with time to spare: whole, and no note
    whole = stackframes.analyze_stack(m, deadline=Deadline(5, clock=FakeClock()), partial=True)
    assert whole.frames.not_scanned == 0 and whole.worst_bytes == 20_000 * 16
    assert not [n for n in whole.notes if "was cut" in n]


def test_a_partial_analysis_in_worker_processes(chain):
    """The parallel scan (forked workers) stops at the deadline too, and the workers are ended."""
    m = WasmModule.from_file(chain)
    frames = stackframes.analyze_frames(m, 0, workers=2, deadline=expired(), partial=True)
    assert frames.not_scanned == 20_000 and len(frames) == 20_000


def test_stack_shows_what_it_scanned_and_check_reports_the_timeout(chain, capsys):
    code, out, err = run_main(capsys, "stack", chain, "--timeout", "0.000001")  # passed before the scan starts
    assert code == 0 and err == ""
    assert "the stack analysis was cut at the 1e-06 s deadline (--timeout, counted from" in " ".join(out.split())
    assert "20000 of 20000 function bodies were not scanned" in " ".join(out.split())
    code, out, err = run_main(capsys, "stack", chain, "--json", "--timeout", "0.000001")
    assert code == 0 and "were not scanned" in out and '"recommended_stack_size": null' in out
    code, out, err = run_main(capsys, "check", chain, "--stack-headroom", "10", "--timeout", "0.000001")
    assert code == 2 and "did not finish in 1e-06 s" in out and "could not be read or" in out
    code, out, err = run_main(capsys, "stack", chain, "--top", "1")
    assert code == 0 and "was cut" not in out  # the default limit (ANALYSIS_TIMEOUT) is far above what it takes


@pytest.mark.parametrize("bad", ["nan", "inf", "-1"])
def test_the_timeout_is_a_finite_number(capsys, chain, bad):
    code, _out, err = run_main(capsys, "stack", chain, "--timeout", bad)
    assert code == 2 and "finite number of seconds" in err
