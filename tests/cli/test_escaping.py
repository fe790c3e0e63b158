"""One escaping policy (wasmem.text.shown): names from a module (exports, imports, the module name,
custom sections, the name section, producers) and hostile paths reach the terminal (both streams), SVG,
JUnit XML, GitHub annotations and SARIF escaped and on one line; JSON keeps them exact."""

import json
import re
import xml.etree.ElementTree as ET

import pytest
from conftest import wat

from wasmem.cli.main import main
from wasmem.text import shown

# Every name carries all of these: a fake line, an OSC title change, a screen clear, a bidi override,
# a carriage return and a NUL (WAT string escapes)
H = r"\0a\0dFAKE: all rules hold\1b]0;title\07\1b[2J\u{202e}\00"
HOSTILE = "\n\rFAKE: all rules hold\x1b]0;title\x07\x1b[2J\u202e\x00"
SHOWN = "\\n\\rFAKE: all rules hold\\x1b]0;title\\x07\\x1b[2J\\u202e\\x00"


def _name_section_payload(text: str) -> str:
    """A custom section whose payload is one wasm name (LEB length + UTF-8), as WAT string escapes."""
    raw = text.encode()
    assert len(raw) < 128
    return "".join(f"\\{b:02x}" for b in bytes([len(raw)]) + raw)


MODULE = f'''(module $"mod{H}"
 (@custom "cs{H}" "xx")
 (@custom "sourceMappingURL" "{_name_section_payload("map" + HOSTILE)}")
 (@producers (processed-by "clang{H}" "1{H}"))
 (import "env{H}" "imp{H}" (func $"imported{H}" (param i32)))
 (memory (export "mem{H}") 1)
 (global $__stack_pointer (mut i32) (i32.const 65536))
 (global $"g{H}" (export "gl{H}") i32 (i32.const 5))
 (func $"f{H}" (export "fn{H}") (result i32)
   (local i32)
   global.get $__stack_pointer i32.const 32 i32.sub local.tee 0 global.set $__stack_pointer
   local.get 0 i32.const 32 i32.add global.set $__stack_pointer
   i32.const 16)
 (func $"rec{H}" (export "rec{H}") (param i32)
   (local i32)
   global.get $__stack_pointer i32.const 64 i32.sub local.tee 1 global.set $__stack_pointer
   local.get 0 if local.get 0 i32.const 1 i32.sub call $"rec{H}" end
   local.get 1 i32.const 64 i32.add global.set $__stack_pointer)
 (func $"trap{H}" (export "trap{H}") unreachable)
 (func (export "callimp") i32.const 1 call $"imported{H}")
 (data $"d{H}" (i32.const 16) "hi\\1b[2J\\u{{202e}}\\0a\\0dX")
 (data $"p{H}" (i32.const 256) "\\10\\00\\00\\00"))'''

# what must never reach a person raw: C0 (also CR; LF and TAB only as the output's own), DEL, C1,
# format and bidi characters, line/paragraph separators
RAW = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u00ad\u061c\u200b-\u200f\u202a-\u202e\u2060-\u206f\ufeff"
                 "\u2028\u2029\ud800-\udfff\ufffe\uffff]")


def assert_safe(text: str, where: str = "") -> None:
    m = RAW.search(text)
    assert m is None, f"raw {m.group()!r} in {where}: …{text[max(0, m.start() - 60):m.end() + 20]!r}…"
    # the fake line never stands on its own: every FAKE follows the escaped \r of its name
    assert not re.search(r"(?<!\\r)FAKE", text), f"a FAKE line in {where}:\n{text}"
    assert not any(line.lstrip(" │┃|├└─╭╰").startswith("FAKE") for line in text.splitlines()), where


@pytest.fixture
def module(tmp_path, monkeypatch):
    monkeypatch.setenv("COLUMNS", "220")  # wide: a wrapped cell must not be mistaken for a fake line
    monkeypatch.delenv("WASMEM_PROGRESS", raising=False)
    p = tmp_path / "hostile.wasm"
    p.write_bytes(wat(MODULE))
    return str(p)


def run(capsys, *argv, code=0):
    with pytest.raises(SystemExit) as exc:
        main(list(argv))
    out = capsys.readouterr()
    assert exc.value.code == code, out.err
    return out.out, out.err


def test_shown_escapes_controls_format_and_bidi_and_keeps_letters():
    assert shown(HOSTILE) == SHOWN
    assert shown("naïve 名前 ✓ 😀") == "naïve 名前 ✓ 😀"
    assert shown("a\tb\x7f\x85\u061c\u200b\u200d\u2066\u2069\ufeff\u2028\U000e0041\ud800\uffff") == (
        "a\\tb\\x7f\\x85\\u061c\\u200b\\u200d\\u2066\\u2069\\ufeff\\u2028\\U000e0041\\ud800\\uffff")
    assert shown(None) == "" and shown(12) == "12"
    for c in range(0x110000):  # one line, and only characters XML 1.0 allows
        s = shown(chr(c))
        assert "\n" not in s and "\r" not in s and not RAW.search(s), hex(c)


@pytest.mark.parametrize("argv", [
    ["inspect"],
    ["stack"],
    ["stack", "--all"],
    ["symbols"],
    ["symbols", "--functions"],
])
def test_static_views_escape_every_name(module, capsys, argv):
    out, err = run(capsys, argv[0], module, *argv[1:])
    assert_safe(out, " ".join(argv))
    assert_safe(err, "stderr")
    assert SHOWN[:-len("\\x00")] in out  # the name is there, visibly escaped


def test_inspect_shows_custom_section_producer_and_export_names_escaped(module, capsys):
    out, _ = run(capsys, "inspect", module)
    for name in ("cs", "mem", "d"):
        assert name + SHOWN in out, name


@pytest.mark.parametrize("func, code", [(f"fn{HOSTILE}", 0), ("callimp", 0), (f"trap{HOSTILE}", 1),
                                        (f"rec{HOSTILE}", 0)])
def test_call_escapes_function_import_and_frame_names(module, capsys, func, code):
    argv = ["call", module, func] + (["3"] if func.startswith("rec") else [])
    out, err = run(capsys, *argv, code=code)
    assert_safe(out, "call")
    assert_safe(err, "call stderr")
    if func == "callimp":  # the host import's module and field names
        assert f"env{SHOWN}.imp{SHOWN}" in out
    elif func.startswith("trap"):  # the backtrace's frame name comes from the name section
        assert f"trap{SHOWN}" in out


def test_dump_and_chase_escape_segment_labels(module, capsys):
    out, err = run(capsys, "dump", module, "--at", "16", "--len", "32")
    assert_safe(out, "dump")
    assert f"d{SHOWN}" in out
    out, err = run(capsys, "dump", module, "--at", "16", "--len", "16", "--format", "u32")
    assert_safe(out, "dump u32")
    out, err = run(capsys, "chase", module, "256", "--words")
    assert_safe(out, "chase")
    assert_safe(err, "chase stderr")
    assert f"d{SHOWN}" in out  # the word at 256 points into the segment named d…


def test_an_error_naming_a_hostile_export_is_one_escaped_line(module, capsys):
    out, err = run(capsys, "call", module, f"missing{HOSTILE}", code=2)
    assert err.count("\n") == 1 and err.startswith("wasmem: error: ")
    assert_safe(err, "stderr")
    assert f"missing{SHOWN}" in err


def test_an_error_about_a_hostile_path_is_one_escaped_line(tmp_path, capsys):
    p = tmp_path / f"no{HOSTILE.replace(chr(0), '')}.wasm"
    out, err = run(capsys, "inspect", str(p), code=2)
    assert err.count("\n") == 1 and err.startswith("wasmem: error: ")
    assert_safe(err, "stderr")


@pytest.mark.parametrize("argv", [["inspect"], ["stack"], ["symbols"], ["call", f"trap{HOSTILE}"],
                                  ["dump", "--at", "16", "--len", "32"]])
def test_svg_is_escaped_and_parses(module, tmp_path, capsys, argv):
    svg = tmp_path / "out.svg"
    code = 1 if argv[0] == "call" else 0
    out, _ = run(capsys, argv[0], module, *argv[1:], "--svg", str(svg), code=code)
    text = svg.read_text(encoding="utf-8")
    ET.fromstring(text)  # well-formed XML
    assert RAW.search(text) is None
    assert "\\rFAKE:" in text  # the name is there, escaped, on its line


def test_json_keeps_the_exact_names(module, capsys):
    out, _ = run(capsys, "inspect", module, "--json")
    data = json.loads(out)
    assert data["memories"][0]["exports"] == ["mem" + HOSTILE]
    assert data["data"]["segments"][0]["name"] == "d" + HOSTILE
    out, _ = run(capsys, "symbols", module, "--json", "--functions")
    names = json.dumps(json.loads(out))
    assert json.dumps("f" + HOSTILE)[1:-1] in names


@pytest.fixture
def hostile_path(tmp_path, module):
    """The hostile module at a path that is itself hostile (newline, ESC, bidi; no NUL on Linux)."""
    d = tmp_path / "dir\x1b[31m\n\u202e%:,"
    d.mkdir()
    p = d / "m\rFAKE: all rules hold.wasm"
    p.write_bytes(open(module, "rb").read())
    return str(p)


CHECK = ["check", "--no-config", "--stack-headroom", "10"]


def test_check_text_is_escaped(hostile_path, capsys):
    out, err = run(capsys, *CHECK, hostile_path, code=1)
    assert_safe(out, "check")
    assert_safe(err, "check stderr")
    assert f"rec{SHOWN}" in out  # the unbounded entry point, named in the details


def test_check_json_keeps_the_exact_names(hostile_path, capsys):
    out, _ = run(capsys, *CHECK, "--format", "json", hostile_path, code=1)
    data = json.loads(out)
    (m,) = data["modules"]
    assert m["file"] == hostile_path
    (r,) = [r for r in m["results"] if r["rule"] == "stack-headroom"]
    assert any("rec" + HOSTILE in d for d in r["details"])


def test_check_github_annotations_are_one_line_each(hostile_path, capsys):
    out, err = run(capsys, *CHECK, "--format", "github", hostile_path, code=1)
    assert_safe(out, "github")
    lines = out.splitlines()
    assert all(ln.startswith("::error file=") for ln in lines[:-1]) and lines[-1].startswith("wasmem check:")
    (ann,) = [ln for ln in lines if "stack-headroom" in ln]
    props, _, data = ann[len("::error "):].partition("::")
    # properties: ',' and ':' only as separators; the path's own are %2C / %3A
    assert props.count(",") == 1 and ":" not in props and "%2C" in props and "%3A" in props
    assert "%0A" in data and f"rec{SHOWN}" in data  # details on lines of their own, names on one


def test_check_junit_is_valid_xml(hostile_path, capsys, tmp_path):
    out, _ = run(capsys, *CHECK, "--format", "junit", hostile_path, code=1)
    assert RAW.search(out) is None
    root = ET.fromstring(out)
    suite = root.find("testsuite")
    assert suite.get("name") == shown(hostile_path)
    failure = root.find(".//failure")
    assert f"rec{SHOWN}" in failure.text
    # written to a file too (-o), and a module that cannot be read is an <error> with a valid message
    broken = tmp_path / "broken\x1b[2J\u202e.wasm"
    broken.write_bytes(b"\x00asm\x01\x00\x00\x00\x05\x7f")
    report = tmp_path / "report.xml"
    run(capsys, *CHECK, "--format", "junit", "-o", str(report), hostile_path, str(broken), code=2)
    root = ET.parse(report).getroot()
    assert root.find(".//error") is not None
    assert RAW.search(report.read_text(encoding="utf-8")) is None


def test_check_sarif_messages_are_escaped(hostile_path, capsys):
    out, _ = run(capsys, *CHECK, "--format", "sarif", hostile_path, code=1)
    log = json.loads(out)
    for res in log["runs"][0]["results"]:
        text = res["message"]["text"]
        assert RAW.search(text) is None
        assert all(not ln.startswith("FAKE") for ln in text.splitlines())


def test_check_svg_parses(hostile_path, tmp_path, capsys):
    svg = tmp_path / "check.svg"
    run(capsys, *CHECK, hostile_path, "--svg", str(svg), code=1)
    ET.parse(svg)
    assert RAW.search(svg.read_text(encoding="utf-8")) is None
