"""CI rules: each rule passing and failing, config files, unbounded stacks."""

import pytest
from conftest import sample

from wasmem.errors import UsageError
from wasmem.model.checks import Rules, find_config, load_config, make_rules, run_checks
from wasmem.parser.module import WasmModule


def results(path, **rules):
    (rep,) = run_checks([path], Rules(**rules), WasmModule.from_file)
    assert rep.error is None
    return {r.rule: r for r in rep.results}


@pytest.mark.parametrize("rule, good, bad, name, measured", [
    ("max_initial_pages", 2, 1, "memdemo.wasm", 2),
    ("min_stack_size", 65536, 65537, "memdemo.wasm", 65536),
    ("max_stack_size", 65536, 65535, "memdemo.wasm", 65536),
    ("max_data_size", 192, 191, "memdemo.wasm", 192),
    ("host_pages", 2, 1, "memdemo-import.wasm", 2),
])
def test_numeric_rules(rule, good, bad, name, measured):
    key = rule.replace("_", "-")
    ok = results(sample(name), **{rule: good})[key]
    assert ok.status == "pass" and ok.measured == measured and ok.limit == good
    ko = results(sample(name), **{rule: bad})[key]
    assert ko.status == "fail" and ko.limit == bad


def test_host_pages_message_and_skip():
    r = results(sample("memdemo-import.wasm"), host_pages=1)["host-pages"]
    assert "smaller than the declared minimum of 2 pages" in r.message
    assert results(sample("memdemo.wasm"), host_pages=1)["host-pages"].status == "skip"


def test_layout_rules():
    assert results(sample("memdemo.wasm"), require_stack_first=True)["require-stack-first"].status == "pass"
    r = results(sample("memdemo-datafirst.wasm"), require_stack_first=True)["require-stack-first"]
    assert r.status == "fail" and r.measured == "data-first" and "corrupts" in r.message
    assert results(sample("memdemo.wasm"), require_max_memory=True)["require-max-memory"].status == "fail"
    assert results(sample("shared.wasm"), require_max_memory=True)["require-max-memory"].status == "pass"


def test_stack_headroom_unbounded_and_recursion_depth():
    p = sample("memdemo.wasm")
    r = results(p, stack_headroom=20)["stack-headroom"]
    assert r.status == "fail" and any("fib_stack: unbounded" in d for d in r.details)
    r = results(p, stack_headroom=20, allow_unbounded=True)["stack-headroom"]
    assert r.status == "pass" and r.measured == 112 and r.limit == 52428
    # 64 frames of deep() = 64 KiB: does not fit in 64 KiB with 20% free; 32 frames do
    r = results(p, stack_headroom=20, recursion_depth=64, allow_unbounded=True)["stack-headroom"]
    assert r.status == "fail" and r.measured == 65536 and any(d.startswith("deep: 65536") for d in r.details)
    r = results(p, stack_headroom=20, recursion_depth=32, allow_unbounded=True)["stack-headroom"]
    assert r.status == "pass" and r.measured == 32768


def test_parse_error_is_reported_per_module(tmp_path):
    bad = tmp_path / "bad.wasm"
    bad.write_bytes(b"\0asm\x01\0\0\0\x05\x03\x03")
    reps = run_checks([str(bad), sample("memdemo.wasm")], Rules(max_initial_pages=4), WasmModule.from_file)
    assert reps[0].error and not reps[0].passed and reps[1].passed


def test_config_pyproject_in_a_parent_and_cli_override(tmp_path):
    (tmp_path / "pyproject.toml").write_text(
        '[project]\nname = "x"\n[tool.wasmem.check]\nmax-initial-pages = 1\nrequire_stack_first = true\n'
        'stack-headroom = 10\nmodules = ["build/app.wasm"]\n')
    sub = tmp_path / "a" / "b"
    sub.mkdir(parents=True)
    assert find_config(str(sub)) == str(tmp_path / "pyproject.toml")
    rules, used, mods = make_rules({"max_initial_pages": 3, "min_stack_size": None}, search_from=str(sub))
    assert used.endswith("pyproject.toml") and mods == [str(tmp_path / "build/app.wasm")]
    assert rules == Rules(max_initial_pages=3, require_stack_first=True, stack_headroom=10.0)


def test_config_wasmem_toml_and_errors(tmp_path):
    (tmp_path / "pyproject.toml").write_text('[project]\nname = "x"\n')  # no table: not a config
    assert find_config(str(tmp_path)) is None
    w = tmp_path / "wasmem.toml"
    w.write_text("[check]\nmax-stack-size = 1024\n")
    assert find_config(str(tmp_path)) == str(w)
    assert load_config(str(w))[0] == {"max_stack_size": 1024}
    w.write_text("max-stak-size = 1\n")
    with pytest.raises(UsageError, match="unknown rule 'max-stak-size'"):
        load_config(str(w))
    w.write_text("require-stack-first = 1\n")
    with pytest.raises(UsageError, match="true or false"):
        load_config(str(w))
    w.write_text("stack-headroom = [\n")
    with pytest.raises(UsageError, match="invalid TOML"):
        load_config(str(w))


def test_a_limit_of_zero_is_a_rule_not_an_absent_one():
    """`--max-data-size 0` (or `--max-initial-pages 0`) is checked: 0 == False in Python must not drop it."""
    from wasmem.model.checks import make_rules

    rules, _, _ = make_rules({"max_data_size": 0, "max_initial_pages": 0}, use_config=False)
    assert {"max-data-size", "max-initial-pages"} <= set(rules.active)


def test_stack_headroom_message_starts_with_what_failed():
    # the issue: ✘ beside "leaves 99.8% free (need 25%)" when what failed was recursion elsewhere
    p = sample("memdemo.wasm")
    r = results(p, stack_headroom=25)["stack-headroom"]
    assert r.status == "fail"
    assert r.message.startswith("3 entry point(s) have no static bound, so no stack size keeps 25% free for them")
    assert "the bounded ones fit: worst case 112 bytes (aligned_local)" in r.message
    r = results(p, stack_headroom=20, recursion_depth=64, allow_unbounded=True)["stack-headroom"]
    assert r.status == "fail" and r.message.startswith("1 entry point(s) need more than the 52428 bytes that keep")
    assert "the bounded ones fit" not in r.message
    r = results(p, stack_headroom=20, allow_unbounded=True)["stack-headroom"]
    assert r.status == "pass" and r.message.startswith("worst case 112 bytes (aligned_local)")
