"""The command group itself: no arguments, unknown commands, missing arguments."""

import pytest

from wasmem.cli.main import main


def test_no_arguments_prints_the_help(capsys):
    with pytest.raises(SystemExit) as exc:
        main([])
    out = capsys.readouterr()
    assert exc.value.code == 0 and out.out.startswith("Usage: wasmem") and "inspect" in out.out


@pytest.mark.parametrize("argv, message", [
    (["bogus"], "No such command 'bogus'"),
    (["inspect"], "Missing argument 'MODULE'"),
    (["inspect", "x.wasm", "--pages", "-1"], "--pages"),
])
def test_usage_errors_are_one_line_exit_2(capsys, argv, message):
    with pytest.raises(SystemExit) as exc:
        main(argv)
    err = capsys.readouterr().err
    assert exc.value.code == 2 and err.startswith("wasmem: error: ") and err.count("\n") == 1
    assert message in err
