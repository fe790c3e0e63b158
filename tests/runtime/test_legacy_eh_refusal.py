"""call/dump/chase refuse legacy exception handling at once (before compiling), in one line with the cause
and the remedy, exit status 2; the exnref encoding runs. "At once" is held structurally (compiling would
fail the test), not by timing."""

import json

import pytest
import wasmtime
from click.testing import CliRunner
from conftest import wat
from eh_modules import EXNREF, LEGACY

from wasmem.cli.main import cli
from wasmem.errors import RunError
from wasmem.parser import WasmModule
from wasmem.parser.features import LegacyScan
from wasmem.runtime import engine as session_mod
from wasmem.runtime.session import Session


def _no_compile(monkeypatch):
    def refuse(*a, **k):
        raise AssertionError("wasmtime.Module was called: the refusal must come before compiling")
    monkeypatch.setattr(session_mod.wasmtime, "Module", refuse)


def test_session_refuses_before_compiling(monkeypatch):
    m = WasmModule.from_bytes(wat(LEGACY), "eh.wasm")
    _no_compile(monkeypatch)
    with pytest.raises(RunError) as ei:
        Session(m, timeout=2)
    msg = str(ei.value)
    assert "\n" not in msg and ei.value.exit_code == 2
    assert msg.startswith("eh.wasm uses legacy exception handling (`try` at 0x")
    assert "which wasmtime cannot run (browsers and Node can)" in msg
    assert "--translate-to-exnref" in msg and "-sWASM_LEGACY_EXCEPTIONS=0" in msg


def test_validator_decides_when_the_scan_was_not_complete(monkeypatch):
    m = WasmModule.from_bytes(wat(LEGACY), "eh.wasm")
    monkeypatch.setattr(session_mod, "scan_legacy_eh", lambda module: LegacyScan(None, False, 0, "budget"))
    calls = []
    real = wasmtime.Module

    class Watch:  # validate is allowed (it is what decides); compiling is not
        validate = staticmethod(lambda engine, data: (calls.append(len(data)), real.validate(engine, data)))

        def __init__(self, *a, **k):
            raise AssertionError("compiled")

    monkeypatch.setattr(session_mod.wasmtime, "Module", Watch)
    with pytest.raises(RunError) as ei:
        Session(m, timeout=2)
    assert calls and "legacy exception handling (at offset 0x" in str(ei.value)
    assert "--translate-to-exnref" in str(ei.value)


def test_compile_error_is_named_as_a_last_resort(monkeypatch):
    m = WasmModule.from_bytes(wat(LEGACY), "eh.wasm")
    monkeypatch.setattr(session_mod, "scan_legacy_eh", lambda module: LegacyScan(None, True, 0, "no tags"))
    with pytest.raises(RunError) as ei:
        Session(m, timeout=2)
    assert "eh.wasm uses legacy exception handling (at offset 0x" in str(ei.value)


def test_exnref_module_runs():
    m = WasmModule.from_bytes(wat(EXNREF), "exnref.wasm")
    with Session(m, timeout=0) as s:  # no limit: a loaded machine cannot make it time out
        assert s.call("f", ["42"]).results == [42]


@pytest.mark.parametrize("args", [
    ["call", "{path}", "f", "1"],
    ["call", "{path}", "f", "1", "--json"],
    ["dump", "{path}", "--at", "0", "--len", "16"],
    ["chase", "{path}", "0"],
])
def test_cli_refuses_in_one_line(wat_file, args, monkeypatch):
    path = wat_file(LEGACY, "eh.wasm")
    _no_compile(monkeypatch)  # "at once": before any compile work, whatever the machine's load
    r = CliRunner().invoke(cli, [a.format(path=path) for a in args], standalone_mode=False)
    assert isinstance(r.exception, RunError) and r.exception.exit_code == 2
    assert "legacy exception handling" in str(r.exception) and "\n" not in str(r.exception)
    assert r.stdout == ""


def test_inspect_json_of_the_legacy_module_has_the_finding(wat_file):
    path = wat_file(LEGACY, "eh.wasm")
    r = CliRunner().invoke(cli, ["inspect", path, "--json"])
    assert r.exit_code == 0
    codes = [f["code"] for f in json.loads(r.stdout)["findings"]]
    assert "legacy-exceptions" in codes
