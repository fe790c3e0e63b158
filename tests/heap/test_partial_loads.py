"""--memcheck's word-at-a-time rule (issue 25; runtime/heapfamily.py's ``partial_load_ok``): an aligned 4-byte read
that starts inside a live block and runs past its end (musl's strlen reads a string's last word this way; quickjs's
string code gave two such false findings) is counted, not reported, as valgrind's --partial-loads-ok does; the
same read unaligned, or starting past the end, or a write, stays a finding."""

from __future__ import annotations

from heap_util import BUMP_MODULE_HEAD

from wasmem.app.heap import heap_report

WAT = BUMP_MODULE_HEAD + """  ;; a block of 18 bytes at 0x10010: its last aligned word 0x10020 holds bytes 16, 17 and two past its end
  (func (export "word_read") (result i32) (local $p i32)
    (local.set $p (call $malloc (i32.const 18)))
    (i32.load offset=16 (local.get $p)))
  (func (export "unaligned_read") (result i32) (local $p i32)
    (local.set $p (call $malloc (i32.const 18)))
    (i32.load offset=15 (local.get $p)))
  (func (export "past_read") (result i32) (local $p i32)
    (local.set $p (call $malloc (i32.const 18)))
    (i32.load offset=20 (local.get $p)))
  (func (export "word_write") (local $p i32)
    (local.set $p (call $malloc (i32.const 18)))
    (i32.store offset=16 (local.get $p) (i32.const 0)))
)
"""


def run(wat_file, func):
    report, session = heap_report(wat_file(WAT), after=[func], memcheck=True)
    session.close()
    return [(f.kind, f.message) for f in report.findings], report.unjudged


def test_aligned_word_read_past_a_block_end_is_counted_not_reported(wat_file):
    found, unjudged = run(wat_file, "word_read")
    assert found == []
    assert [u["count"] for u in unjudged if "partial-loads-ok" in u["reason"]] == [1]


def test_other_reads_past_a_block_end_stay_findings(wat_file):
    for func, at in (("unaligned_read", 0x1001F), ("past_read", 0x10024), ("word_write", 0x10020)):
        found, unjudged = run(wat_file, func)
        assert len(found) == 1 and found[0][0] == "outside-block", (func, found)
        assert f"{at:#x}" in found[0][1], (func, found)
        assert not any("partial-loads-ok" in u["reason"] for u in unjudged)
