"""Golden files: compare rendered output with tests/golden/NAME; BLESS=1 rewrites them."""

import io
import os

GOLDEN = os.path.join(os.path.dirname(os.path.abspath(__file__)), "golden")


def render_text(renderable, width: int = 100) -> str:
    from rich.console import Console

    buf = io.StringIO()
    Console(width=width, file=buf, color_system=None, highlight=False, markup=False, force_terminal=False).print(renderable)
    return "\n".join(line.rstrip() for line in buf.getvalue().splitlines()) + "\n"


def check_golden(name: str, text: str) -> None:
    path = os.path.join(GOLDEN, name)
    if os.environ.get("BLESS") == "1" or not os.path.exists(path):
        if os.environ.get("BLESS") != "1" and os.environ.get("CI"):
            raise AssertionError(f"golden file {name} is missing (run BLESS=1 make test and review it)")
        os.makedirs(GOLDEN, exist_ok=True)
        with open(path, "w") as f:
            f.write(text)
        return
    with open(path) as f:
        expected = f.read()
    assert text == expected, f"output differs from tests/golden/{name} (BLESS=1 to update after review)"
