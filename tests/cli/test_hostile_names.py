"""Names come from the module, so they are shown as they are: never read as rich markup."""

import pytest

from wasmem.cli.main import main

MODULE = """(module (memory (export "[/x]") 1) (global (export "[bold]g") i32 (i32.const 16))
  (func (export "[/]f") (result i32) i32.const 1) (data (i32.const 16) "[/y]"))"""


@pytest.mark.parametrize("argv, shown", [
    (["inspect"], "'[/x]'"),
    (["stack"], "[/]f"),
    (["symbols"], "[bold]g"),
    (["call", "[/]f"], "[/]f"),
    (["dump", "--at", "16", "--len", "16"], "|[/y]"),
])
def test_markup_like_names_are_plain_text(tmp_path, capsys, argv, shown):
    p = tmp_path / "markup.wat"
    p.write_text(MODULE)
    with pytest.raises(SystemExit) as exc:
        main([argv[0], str(p), *argv[1:]])
    out = capsys.readouterr()
    assert exc.value.code == 0, out.err
    assert shown in out.out


def test_renderables_are_safe_in_a_console_with_markup_on(tmp_path):
    """Library users print our renderables with their own (markup-enabled) consoles."""
    import io

    from rich.console import Console

    import wasmem
    from wasmem.model.stackframes import analyze_stack
    from wasmem.render.inspect import InspectView
    from wasmem.render.stack import StackView

    p = tmp_path / "markup.wat"
    p.write_text(MODULE)
    layout = wasmem.inspect(str(p))
    module = wasmem.load_module(str(p))
    for view in (InspectView(layout), StackView(analyze_stack(module, layout))):
        buf = io.StringIO()
        Console(file=buf, width=100).print(view)  # markup=True is rich's default
        assert "[/" in buf.getvalue()


def test_control_characters_in_names_are_escaped_not_sent_to_the_terminal(tmp_path, capsys):
    p = tmp_path / "esc.wat"
    p.write_text('(module (memory (export "evil\\1b[2J\\1b[31mred") 1))')
    with pytest.raises(SystemExit) as exc:
        main(["inspect", str(p)])
    out = capsys.readouterr().out
    assert exc.value.code == 0
    assert "\x1b" not in out and "evil\\x1b[2J\\x1b[31mred" in out
