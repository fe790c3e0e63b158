"""--memcheck checks heap bounds whenever the heap's start is known (issue 25): the exported ``__heap_base``,
``__heap_base`` named in the name section, else the layout's estimate (with a note naming its value and
provenance); the report (text and --json) says which one was used. A module whose heap start nothing tells
keeps checking only freed blocks, with the note saying so."""

from __future__ import annotations

import json
from pathlib import Path

from conftest import run_main

from wasmem.app.heap import heap_report

SAMPLES = Path(__file__).resolve().parents[2] / "samples"
BUGS = SAMPLES / "heapbugs.wasm"  # the default wasi-libc link: __heap_base not exported
OVERFLOW_LINE = 18

# a bump allocator over a 64 KiB heap; `overflow` writes one byte past a 10-byte block. HEAP is the heap's
# start: exported, named (name section only) or not there at all.
# a free that does nothing and a one-byte overflow of a 10-byte block (both modules below)
FREE_AND_OVERFLOW = """(func $free (export "free") (param i32))
  (func (export "overflow") (result i32)
    (local $p i32)
    (local.set $p (call $malloc (i32.const 10)))
    (i32.store8 offset=10 (local.get $p) (i32.const 1))
    (i32.const 0))"""

BUMP = """(module
  (memory (export "memory") 2)
  HEAP
  (global $top (mut i32) (i32.const 65536))
  (func $malloc (export "malloc") (param $n i32) (result i32)
    (local $p i32) (local.set $p (global.get $top))
    (global.set $top (i32.add (local.get $p) (i32.const 32))) (local.get $p))
  FREE_AND_OVERFLOW
  (func (export "after_free") (result i32)
    (local $p i32)
    (local.set $p (call $malloc (i32.const 10)))
    (drop (call $malloc (i32.const 10)))
    (call $free (local.get $p))
    (i32.load8_u offset=2 (local.get $p))))""".replace("FREE_AND_OVERFLOW", FREE_AND_OVERFLOW)


def test_the_overflow_is_found_without_the_export_the_note_naming_the_layouts_estimate(capsys):
    # the data's end is only a lower bound (DWARF's variables): the estimate could sit below .bss, so only
    # the memory the allocator grows at run time (dlmalloc's blocks) is checked as heap
    rc, out, err = run_main(capsys, "heap", BUGS, "--after", "overflow_heap", "--memcheck")
    assert rc == 1
    assert "outside-block" in out and f"heapbugs.c:{OVERFLOW_LINE}" in out
    assert "heap base 0x01010000 (the memory grown at run time)" in out
    assert "the layout's heap base estimate 0x10000c0 (the end of the static data (at least 0x10000b8, " \
           "from dwarf)" in err
    assert "only the memory grown at run time, from 0x1010000, is checked as heap" in err
    assert "__heap_base is unknown" not in err
    rc, out, err = run_main(capsys, "heap", BUGS, "--after", "overflow_heap", "--memcheck", "--json")
    doc = json.loads(out)
    assert rc == 1
    assert (doc["heap_base"], doc["heap_base_source"]) == (0x1010000, "memory-grow")
    assert [f["kind"] for f in doc["findings"]] == ["outside-block"]
    assert "just past the end of the block of 10 bytes" in doc["findings"][0]["message"]
    assert any("estimate 0x10000c0" in n for n in doc["notes"])


def test_the_same_block_written_inside_its_bounds_reports_nothing(capsys):
    rc, out, err = run_main(capsys, "heap", BUGS, "--after", "clean_heap", "--memcheck")
    assert rc == 0
    assert "outside-block" not in out and "(the memory grown at run time)" in out


# stack-first, the data's end proven by an exported __data_end: the estimate (16-byte aligned) is trusted
PROVEN = BUMP.replace("(global $top (mut i32) (i32.const 65536))", """(global $__stack_pointer (mut i32) (i32.const 65536))
  (global (export "__data_end") i32 (i32.const 65540))
  (data (i32.const 65536) "data")
  (global $top (mut i32) (i32.const 65600))""")


def test_a_trusted_estimate_checks_from_it_and_the_note_names_it(wat_file, capsys):
    path = wat_file(PROVEN.replace("HEAP", ""))
    rc, out, err = run_main(capsys, "heap", path, "--after", "overflow", "--memcheck", "--json")
    doc = json.loads(out)
    assert rc == 1
    assert (doc["heap_base"], doc["heap_base_source"]) == (0x10050 - 0x40, "estimate")
    assert [f["kind"] for f in doc["findings"]] == ["outside-block"]
    assert any("the heap is taken to start at 0x10010, the layout's estimate (the end of the static data "
               "(0x10004, from __data_end), 16-byte aligned" in n for n in doc["notes"])


def test_the_exported_heap_base_is_used_and_named(wat_file, capsys):
    path = wat_file(BUMP.replace("HEAP", '(global (export "__heap_base") i32 (i32.const 65536))'))
    rc, out, err = run_main(capsys, "heap", path, "--after", "overflow", "--memcheck")
    assert rc == 1 and "outside-block" in out
    assert "heap base 0x00010000 (the exported __heap_base)" in out
    assert "estimate" not in err
    rc, out, _ = run_main(capsys, "heap", path, "--after", "overflow", "--memcheck", "--json")
    assert (json.loads(out)["heap_base"], json.loads(out)["heap_base_source"]) == (0x10000, "export")
    rc, out, _ = run_main(capsys, "heap", path, "--json")  # without --memcheck: still said
    assert (json.loads(out)["heap_base"], json.loads(out)["heap_base_source"]) == (0x10000, "export")


def test_a_heap_base_named_only_in_the_name_section_is_a_linker_symbol(wat_file):
    path = wat_file(BUMP.replace("HEAP", "(global $__heap_base i32 (i32.const 65536))"))
    report, session = heap_report(path, after=["overflow"], memcheck=True)
    session.close()
    assert (report.heap_base, report.heap_base_source) == (0x10000, "linker-symbol")
    assert [f.kind for f in report.findings] == ["outside-block"]
    assert not any("estimate" in n for n in report.notes)


def test_a_module_whose_heap_start_nothing_tells_checks_only_freed_blocks_and_says_so(wat_file, capsys):
    path = wat_file(BUMP.replace("HEAP", ""))
    report, session = heap_report(path, after=["overflow", "after_free"], memcheck=True)
    session.close()
    assert (report.heap_base, report.heap_base_source) == (None, None)
    assert [f.kind for f in report.findings] == ["use-after-free"]  # the overflow is not seen
    assert "--memcheck: __heap_base is unknown: only accesses to freed blocks and to the memory the allocator grows " \
           "are checked" in report.notes
    rc, out, err = run_main(capsys, "heap", path, "--after", "overflow", "--memcheck", "--json")
    assert rc == 0 and json.loads(out)["heap_base_source"] is None


# the same bump allocator, its heap the memory it grows itself (its sbrk is memory.grow, inside malloc)
GROWING = """(module
  (memory (export "memory") 1)
  (global $top (mut i32) (i32.const 0))
  (func $malloc (export "malloc") (param $n i32) (result i32)
    (local $p i32)
    (if (i32.eqz (global.get $top))
      (then (global.set $top (i32.shl (memory.grow (i32.const 1)) (i32.const 16)))))
    (local.set $p (global.get $top))
    (global.set $top (i32.add (local.get $p) (i32.const 32))) (local.get $p))
  FREE_AND_OVERFLOW
  (func (export "static") (result i32)
    (i32.store8 (i32.const 100) (i32.const 1))
    (i32.const 0)))""".replace("FREE_AND_OVERFLOW", FREE_AND_OVERFLOW)


def test_the_heap_start_is_learned_where_the_allocator_first_grows_memory(wat_file, capsys):
    """Nothing tells where the heap starts, but the allocator grows memory 0 (its sbrk): the memory from the
    first grow inside it is heap, so the overflow is found; the memory below stays unchecked (no finding for
    the program's own static byte); heap and leaks name the source (allocator-grow)."""
    path = wat_file(GROWING)
    report, session = heap_report(path, after=["static", "overflow"], memcheck=True)
    session.close()
    assert (report.heap_base, report.heap_base_source) == (0x10000, "allocator-grow")
    assert [f.kind for f in report.findings] == ["outside-block"]
    assert "just past the end of the block of 10 bytes at 0x10000" in report.findings[0].message
    assert any("learned at run time, where the allocator first grew memory 0 (0x10000)" in n for n in report.notes)
    assert not any("__heap_base is unknown: only" in n for n in report.notes)
    rc, out, err = run_main(capsys, "heap", path, "--after", "overflow", "--memcheck")
    assert rc == 1 and "heap base 0x00010000 (learned where the allocator first grew memory)" in out
    rc, out, err = run_main(capsys, "leaks", path, "overflow", "-n", "2", "--memcheck", "--json")
    doc = json.loads(out)
    assert rc == 1 and (doc["heap_base"], doc["heap_base_source"]) == (0x10000, "allocator-grow")
    assert [f["kind"] for f in doc["findings"]] == ["outside-block"]


def test_leaks_memcheck_names_its_heap_base_source_as_heap_does(capsys):
    rc, out, err = run_main(capsys, "leaks", BUGS, "overflow_heap", "-n", "2", "--memcheck", "--json")
    doc = json.loads(out)
    assert rc == 1 and (doc["heap_base"], doc["heap_base_source"]) == (0x1010000, "memory-grow")
    rc, out, err = run_main(capsys, "leaks", BUGS, "overflow_heap", "-n", "2", "--memcheck")
    assert "heap base 0x01010000 (the memory grown at run time)" in out
    rc, out, err = run_main(capsys, "leaks", BUGS, "clean_heap", "-n", "2", "--json")
    assert rc == 0 and json.loads(out)["heap_base_source"] is None  # without --memcheck: none used
