"""Documentation: every command has help with an example and a page; README keeps the set-up commands;
the generated blocks in README.md and docs/ are in sync with a fresh run of docs/gen.py; --svg works."""

from __future__ import annotations

import importlib
import importlib.util
import re
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from wasmem.cli.main import available_commands, cli

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"


def _gen():
    spec = importlib.util.spec_from_file_location("wasmem_docs_gen", DOCS / "gen.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def _command(name):
    mod, attr = available_commands()[name].split(":")
    return getattr(importlib.import_module(mod), attr)


@pytest.mark.parametrize("name", sorted(available_commands()))
def test_every_command_has_help_with_an_example_and_a_page(name):
    cmd = _command(name)
    assert cmd.help and cmd.help.strip(), f"wasmem {name} has no help text"
    result = CliRunner().invoke(cli, [name, "--help"])
    assert result.exit_code == 0, result.output
    assert "Example" in result.output, f"wasmem {name} --help has no Example section"
    page = DOCS / "commands" / f"{name}.md"
    assert page.is_file(), f"no {page.relative_to(ROOT)}: run `make docs`"
    assert f"wasmem {name} --help" in page.read_text(encoding="utf-8")


def test_group_help_has_examples():
    result = CliRunner().invoke(cli, ["--help"])
    assert result.exit_code == 0 and "Example" in result.output


def test_readme_keeps_the_two_setup_commands_and_links():
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    assert "make demo" in text and "make test" in text
    for page in ("docs/memory-model.md", "docs/json.md", "docs/python-api.md", "docs/troubleshooting.md",
                 "docs/ci.md", "docs/commands/README.md"):
        assert page in text, page
        assert (ROOT / page).is_file(), page
    assert "pip install" in text and "_WASMEM_COMPLETE" in text


def test_docs_pages_exist_and_link_targets_exist():
    link = re.compile(r"\]\(([^)#\s]+)(?:#[^)]*)?\)")
    for md in [ROOT / "README.md", *DOCS.glob("*.md"), *(DOCS / "commands").glob("*.md")]:
        for target in link.findall(md.read_text(encoding="utf-8")):
            if "://" in target:
                continue
            assert (md.parent / target).exists(), f"{md.relative_to(ROOT)} links to missing {target}"


def _normalise(text: str, gen) -> str:
    """Trailing spaces stripped; the body of a `wasmem:run-timing` block replaced by a placeholder."""
    def sub(m):
        if m.group(2) == "run-timing":
            return f"{m.group(1)}<!-- wasmem:run-timing {m.group(3)} --> (timing-dependent)"
        return m.group(0)
    text = gen.BLOCK_RE.sub(sub, text)
    return "\n".join(ln.rstrip() for ln in text.split("\n")).rstrip() + "\n"


def test_generated_docs_are_in_sync(tmp_path):
    gen = _gen()
    subprocess.run([sys.executable, str(DOCS / "gen.py"), "--out", str(tmp_path), "--no-svg",
                    "--no-timing"], check=True,
                   cwd=ROOT, capture_output=True, timeout=300)
    fresh = sorted(p.relative_to(tmp_path) for p in tmp_path.rglob("*.md"))
    assert Path("README.md") in fresh
    stale = []
    for rel in fresh:
        have = ROOT / rel
        if not have.exists():
            stale.append(f"{rel} (missing)")
            continue
        a = _normalise(have.read_text(encoding="utf-8"), gen)
        b = _normalise((tmp_path / rel).read_text(encoding="utf-8"), gen)
        if a != b:
            stale.append(str(rel))
    assert not stale, f"out of date, run `make docs`: {', '.join(stale)}"
    # every block has output (a command that no longer exists would still be "in sync")
    for rel in fresh:
        for m in gen.BLOCK_RE.finditer((tmp_path / rel).read_text(encoding="utf-8")):
            assert "internal error" not in m.group(4), f"{rel}: {m.group(3)}"


def test_commands_pages_have_no_stale_extra_pages():
    names = set(available_commands())
    pages = {p.stem for p in (DOCS / "commands").glob("*.md")} - {"README"}
    assert pages <= names, f"pages for unknown commands: {sorted(pages - names)}"


@pytest.mark.parametrize("args", [
    ["symbols", "samples/memdemo-debug.wasm"],
    ["check", "samples/memdemo-datafirst.wasm", "--require-stack-first", "--no-config"],
    ["inspect", "samples/memdemo.wasm"],
])
def test_svg_option_writes_an_svg(tmp_path, monkeypatch, args):
    monkeypatch.chdir(ROOT)
    out = tmp_path / "out.svg"
    result = CliRunner().invoke(cli, [*args, "--svg", str(out)])
    assert result.exit_code in (0, 1), result.output
    assert out.read_text(encoding="utf-8").lstrip().startswith("<svg")


def test_check_svg_needs_text_format(tmp_path, monkeypatch):
    monkeypatch.chdir(ROOT)
    result = CliRunner().invoke(cli, ["check", "samples/memdemo.wasm", "--require-stack-first", "--no-config",
                                      "--format", "json", "--svg", str(tmp_path / "x.svg")])
    from wasmem.errors import UsageError

    assert isinstance(result.exception, UsageError)
