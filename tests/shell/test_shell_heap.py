"""Heap tracking in the shell: --heap from the start or `heap` reopening the instance hooked, the live blocks by
site, `heap findings`, asserts on heap.live / heap.bytes / heap.findings, the shell's own alloc/free tracked."""

from __future__ import annotations

import os

from conftest import ROOT, run_main, sample
from shell_util import reopened_matches_plain

DEMO = os.path.join(ROOT, "tests", "heap", "data", "heapdemo.wasm")
EXAMPLE = os.path.join(ROOT, "examples", "heap.wms")
LEAK_LINE = next(i for i, line in enumerate(open(os.path.join(ROOT, "tests", "heap", "data", "heapdemo.c")), 1)
                 if "LEAK_LINE" in line)


def test_the_example_script_finds_the_planted_leak(capsys):
    code, out, err = run_main(capsys, "shell", DEMO, "--heap", "-x", EXAMPLE)
    assert code == 0, out + err
    assert out.count("ok: ") == 9
    assert "reopened" not in out
    # after the script: the three leak_step blocks, 72 bytes, at the planted line
    assert "3 live blocks, 72 B" in out
    assert f"3 72 leak_step at 0x7bb heapdemo.c:{LEAK_LINE}" in " ".join(out.split())
    assert "0 findings: no double or invalid free so far" in out


def test_a_wrong_live_count_fails_the_script(capsys):
    code, out, err = run_main(capsys, "shell", DEMO, "--heap", "-c", "call leak_step 1", "-c", "call leak_step 1",
                         "-c", "assert heap.bytes == 24")
    assert code == 1 and "assertion failed: heap.bytes == 24 (left side is 48 (0x30))" in err


def test_the_seed_workflow_frees_what_it_allocates(capsys):
    """alloc/write/call/free on samples/memdemo.wasm with its allocate/deallocate hooked: nothing left live."""
    lines = ["alloc 16", 'write $1 "hello"', "assert heap.live == 1", "assert heap.bytes == 16",
             "call process_string $1 5", "assert $2 == 2", 'assert str $1 == "HELLO"', "free $1",
             "assert heap.live == 0", "assert heap.findings == 0"]
    argv = ["shell", sample("memdemo.wasm"), "--heap", "--allocator", "allocate,deallocate"]
    for line in lines:
        argv += ["-c", line]
    code, out, err = run_main(capsys, *argv)
    assert code == 0, out + err
    assert out.count("ok: ") == 6
    code, out, err = run_main(capsys, *argv[:-2], "-c", "heap")
    assert code == 0, out + err
    assert "allocators: allocate (alloc, --allocator), deallocate (free, --allocator)" in out
    assert "0 live blocks, 0 B (1 allocation, 1 free seen)" in out


def test_heap_reopens_the_instance_and_keeps_the_watches(capsys):
    code, out, err = run_main(capsys, "shell", DEMO, "-c", "call leak_step 1", "-c", "watch list_head",
                         "-c", "heap", "-c", "call leak_step 2", "-c", "call push 4", "-c", "assert watch.hits == 1",
                         "-c", "assert heap.live == 2", "-c", "assert heap.bytes == 32", "-c", "call pop",
                         "-c", "assert heap.live == 1", "-c", "assert watch.hits == 1")
    assert code == 0, out + err
    text = " ".join(out.split())
    assert "heap: the instance was reopened with its allocator calls hooked" in text
    assert "Blocks allocated before now are not known to the tracker" in text
    # then `watch` on a tracked instance: reopened with both passes, the tracker's blocks carried over
    code, out, err = run_main(capsys, "shell", DEMO, "--heap", "-c", "call leak_step 1", "-c", "watch list_head",
                         "-c", "call push 4", "-c", "assert watch.hits == 1", "-c", "assert heap.live == 2",
                         "-c", "call pop", "-c", "assert heap.live == 1", "-c", "assert heap.findings == 0")
    assert code == 0, out + err
    assert "forgotten" not in out


def test_restore_and_reset_put_the_tracker_back_with_the_memory(capsys):
    code, out, err = run_main(capsys, "shell", DEMO, "--heap", "-c", "call leak_step 1", "-c", "snapshot a",
                         "-c", "call leak_step 1", "-c", "call push 2", "-c", "assert heap.live == 3", "-c", "restore a",
                         "-c", "assert heap.live == 1", "-c", "call leak_step 1", "-c", "assert heap.bytes == 48",
                         "-c", "reset", "-c", "assert heap.live == 0", "-c", "restore a", "-c", "assert heap.live == 1")
    assert code == 0, out + err
    # a snapshot from before tracking: the memory goes back, the tracker's blocks stay (and the output says so)
    code, out, err = run_main(capsys, "shell", DEMO, "-c", "snapshot a", "-c", "heap", "-c", "call leak_step 1",
                         "-c", "restore a", "-c", "assert heap.live == 1")
    assert code == 0, out + err
    assert "the heap tracker was not running on this instance when it was saved" in " ".join(out.split())


def test_findings_are_shown_as_they_happen_and_counted(capsys):
    code, out, err = run_main(capsys, "shell", DEMO, "--heap", "--watch-slots", "2", "-c", "call double_free",
                         "-c", "assert heap.findings == 1", "-c", "heap findings")
    assert code == 0, out + err
    assert out.count("double-free: free(") == 2 and "the block was already freed" in out


def test_errors(capsys):
    code, out, err = run_main(capsys, "shell", DEMO, "-c", "call leak_step 1", "-c", "assert heap.live == 0")
    assert code == 2 and "-c:2: heap.live needs heap tracking: start the shell with --heap, or run `heap`" in err
    code, out, err = run_main(capsys, "shell", DEMO, "--heap", "-c", "assert heap.leaked == 0")
    assert code == 2 and "heap.leaked: use one of heap.live, heap.bytes" in err
    code, out, err = run_main(capsys, "shell", DEMO, "--heap", "-c", "heap blocks")
    assert code == 2 and "heap blocks: use `heap` or `heap findings`" in err
    code, out, err = run_main(capsys, "shell", DEMO, "--allocator", "malloc,free", "-c", "heap")
    assert code == 2 and "--allocator names the functions --heap tracks: give --heap too" in err
    code, out, err = run_main(capsys, "shell", sample("memdemo.wasm"), "--heap", "--allocator", "nosuch")
    assert code == 2 and "wasmem: error:" in err and "Traceback" not in err
    from coredump_util import CRASH_CORE, CRASH_WASM

    code, out, err = run_main(capsys, "shell", CRASH_WASM, "--core", CRASH_CORE, "--heap")
    assert code == 2 and "--heap: a coredump session runs nothing to track" in err
    code, out, err = run_main(capsys, "shell", CRASH_WASM, "--core", CRASH_CORE, "-c", "heap")
    assert code == 2 and "this session is the coredump" in err


def test_reopening_for_heap_carries_the_state_over_and_changes_nothing():
    """The instance reopened hooked holds the same memory and globals, and the calls after it compute what a
    plain instance computes (results and memory)."""
    calls = ["push 1", "leak_step 2", "clean_step 3", "push 4", "pop", "leak_step 5", "make_greeting 3", "pop"]
    sh = reopened_matches_plain(DEMO, calls, ["heap"])
    try:
        tr = sh.session.heap_tracker
        assert tr is not None
        # push 1 was before the reopen: the pops free one unknown block (an invalid free) and one tracked
        assert tr.allocations >= 4 and [f.kind for f in tr.findings] == ["invalid-free"]
    finally:
        sh.close()
