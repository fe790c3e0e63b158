"""--memcheck on every kind of access of memory 0 (instrument/memcheck.py): SIMD loads and stores (lanes, splats,
zero-extending), atomics (loads, stores, read-modify-writes, compare-exchanges, notify, wait) and bulk memory
(memory.fill, memory.copy's two ranges, memory.init), on the blocks of memcheck_ops.wat's tiny allocator. Each
finding is asserted exactly: its kind, the instruction (function, opcode, original offset) and the message;
the clean sequence reports nothing, and a trapping access traps as it does without wasmem."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import wat

import wasmem
from wasmem.app.heap import heap_report, open_heap_session
from wasmem.parser import WasmModule
from wasmem.parser.code import decode_locals, iter_instruction_tuples, op_name

DATA = Path(__file__).resolve().parent / "data"
OPS = str(DATA / "memcheck_ops.wasm")
MODULE = WasmModule.from_bytes((DATA / "memcheck_ops.wasm").read_bytes())


def offset_of(func: str, name: str, nth: int = 0) -> int:
    """The original offset of the nth instruction called ``name`` in the exported function ``func``."""
    index = MODULE.find_export(func).index
    body = next(b for b in MODULE.functions if b.index == index)
    _, p0 = decode_locals(MODULE.data, body.start, body.end)
    found = [off for off, op, _ in iter_instruction_tuples(MODULE.data, p0, body.end) if op_name(op) == name]
    return found[nth]


def findings(*calls, **kw):
    report, session = heap_report(OPS, after=list(calls), memcheck=True, **kw)
    sites = session.memcheck_pass.sites
    session.close()
    return report, [(f.kind, f.access.function, op_name(sites[f.access.id].op), f.access.offset, f.message)
                    for f in report.findings]


# (kind, function, instruction, its nth occurrence in the function, the message after "NAME: ")
P, Q = 0x10010, 0x10040  # simd_bad's freed block of 32 bytes, its live block of 20 bytes
SIMD = [
    ("use-after-free", "v128.load", 0, f"read of 16 bytes at {P:#x}, 0 bytes into a freed block of 32 bytes at {P:#x}"),
    ("outside-block", "v128.store", 0, f"write of 16 bytes at {Q + 8:#x} (from its byte 12, at {Q + 20:#x}), just "
                                       f"past the end of the block of 20 bytes at {Q:#x}"),
    ("outside-block", "v128.load32_lane", 0, f"read of 4 bytes at {Q + 20:#x}, just past the end of the block of 20 "
                                             f"bytes at {Q:#x}"),
    ("use-after-free", "v128.store16_lane", 0, f"write of 2 bytes at {P + 4:#x}, 4 bytes into a freed block of 32 "
                                               f"bytes at {P:#x}"),
    ("use-after-free", "v128.load64_splat", 0, f"read of 8 bytes at {P + 24:#x}, 24 bytes into a freed block of 32 "
                                               f"bytes at {P:#x}"),
    ("outside-block", "v128.load8x8_u", 0, f"read of 8 bytes at {Q + 16:#x} (from its byte 4, at {Q + 20:#x}), just "
                                           f"past the end of the block of 20 bytes at {Q:#x}"),
]
P, Q = 0x10070, 0x100A0
ATOMIC = [
    ("use-after-free", "i32.atomic.load", 0, f"read of 4 bytes at {P:#x}, 0 bytes into a freed block of 32 bytes at "
                                             f"{P:#x}"),
    ("outside-block", "i64.atomic.rmw.add", 0, f"read-modify-write of 8 bytes at {Q + 16:#x} (from its byte 4, at "
                                               f"{Q + 20:#x}), just past the end of the block of 20 bytes at {Q:#x}"),
    ("use-after-free", "i32.atomic.rmw.cmpxchg", 0, f"read-modify-write of 4 bytes at {P + 8:#x}, 8 bytes into a freed "
                                                    f"block of 32 bytes at {P:#x}"),
    ("outside-block", "i32.atomic.store8", 0, f"write of 1 byte at {Q + 20:#x}, just past the end of the block of 20 "
                                              f"bytes at {Q:#x}"),
    ("use-after-free", "memory.atomic.notify", 0, f"notify on 4 bytes at {P:#x}, 0 bytes into a freed block of 32 "
                                                  f"bytes at {P:#x}"),
]
P, Q, R = 0x100D0, 0x10120, 0x10150  # bulk_bad's freed block of 64, live blocks of 20 and 40
BULK = [
    ("use-after-free", "memory.fill", 0, f"write of 16 bytes at {P + 8:#x}, 8 bytes into a freed block of 64 bytes at "
                                         f"{P:#x}"),
    ("outside-block", "memory.fill", 1, f"write of 24 bytes at {Q:#x} (from its byte 20, at {Q + 20:#x}), just past "
                                        f"the end of the block of 20 bytes at {Q:#x}"),
    ("use-after-free", "memory.copy", 0, f"read of 32 bytes at {P:#x}, 0 bytes into a freed block of 64 bytes at "
                                         f"{P:#x}"),
    ("outside-block", "memory.copy", 1, f"write of 16 bytes at {Q + 8:#x} (from its byte 12, at {Q + 20:#x}), just "
                                        f"past the end of the block of 20 bytes at {Q:#x}"),
    ("outside-block", "memory.copy", 2, f"read of 20 bytes at {Q + 4:#x} (from its byte 16, at {Q + 20:#x}), just "
                                        f"past the end of the block of 20 bytes at {Q:#x}"),
    ("use-after-free", "memory.copy", 2, f"write of 20 bytes at {P + 16:#x}, 16 bytes into a freed block of 64 bytes "
                                         f"at {P:#x}"),
    ("outside-block", "memory.init", 0, f"write of 12 bytes at {Q + 10:#x} (from its byte 10, at {Q + 20:#x}), just "
                                        f"past the end of the block of 20 bytes at {Q:#x}"),
]
OTHER = [("use-after-free", "memory.copy", 1, "read of 16 bytes at 0x10190, 0 bytes into a freed block of 16 bytes "
                                              "at 0x10190")]


def expected(func, table):
    return [(kind, func, name, offset_of(func, name, nth), f"{name}: {msg}") for kind, name, nth, msg in table]


def test_every_simd_atomic_and_bulk_access_is_reported_exactly_and_the_clean_sequence_not_at_all():
    report, got = findings("simd_bad", "atomic_bad", "bulk_bad", "other_memory", "clean 5")
    assert got == (expected("simd_bad", SIMD) + expected("atomic_bad", ATOMIC) + expected("bulk_bad", BULK)
                   + expected("other_memory", OTHER))
    assert {f.call for f in report.findings} == {1, 2, 3, 4}  # none in the clean call
    freed = {f.freed_at for f in report.findings if f.kind == "use-after-free"}
    assert {report.sites[s].function for s in freed} == {"simd_bad", "atomic_bad", "bulk_bad", "other_memory"}


def test_the_clean_sequence_reports_nothing():
    report, got = findings("clean 1", "clean 2", "clean 3")
    assert got == [] and report.ok and report.blocks == []


def test_a_repeated_bad_access_is_one_finding_with_a_count():
    report, got = findings("bulk_bad", "bulk_bad")
    # the second call's blocks are other blocks: the same sites, counted again
    assert [g[:4] for g in got] == [e[:4] for e in expected("bulk_bad", BULK)]
    assert [f.count for f in report.findings] == [2] * len(BULK)


@pytest.mark.parametrize("call", [["unaligned_atomic"], ["fill_oob"], ["v128_oob"], ["atomic_at", "131068"],
                                  ["atomic_at", "131069"], ["atomic_at", "131066"], ["atomic_at", "-4"]])
def test_a_trapping_access_traps_as_without_wasmem_and_reports_nothing(call):
    """An out-of-bounds access traps with the same trap code at the same instruction; an unaligned atomic
    (also one that is out of bounds too) traps as unaligned, as it does without wasmem."""
    plain = wasmem.open(OPS)
    want = plain.call(call[0], call[1:]).trap
    plain.close()
    session, _ = open_heap_session(OPS, memcheck=True)
    got = session.call(call[0], call[1:]).trap
    tr = session.heap_tracker
    tr.disarm()
    assert tr.findings == []
    session.close()
    assert want is not None and got is not None
    assert (got.kind, [(f.name, f.module_offset) for f in got.frames]) == \
        (want.kind, [(f.name, f.module_offset) for f in want.frames])


SHARED = """(module
  (memory (export "memory") 2 4 shared)
  (global (export "__heap_base") i32 (i32.const 65536))
  (global $top (mut i32) (i32.const 65536))
  (func $malloc (export "malloc") (param $n i32) (result i32)
    (local $p i32) (local.set $p (global.get $top))
    (global.set $top (i32.add (local.get $p) (i32.const 32))) (local.get $p))
  (func $free (export "free") (param i32))
  (func (export "wait_freed") (result i32)
    (local $p i32)
    (local.set $p (call $malloc (i32.const 16)))
    (drop (call $malloc (i32.const 16)))
    (call $free (local.get $p))
    (i32.add (memory.atomic.wait32 (local.get $p) (i32.const 1) (i64.const 0))
             (memory.atomic.wait64 offset=8 (local.get $p) (i64.const 0) (i64.const 0)))))"""


def test_atomic_waits_on_a_shared_memory_are_checked(wat_file):
    report, session = heap_report(wat_file(SHARED), after=["wait_freed"], memcheck=True)
    session.close()
    assert [f.message for f in report.findings] == [
        "memory.atomic.wait32: wait on 4 bytes at 0x10000, 0 bytes into a freed block of 16 bytes at 0x10000",
        "memory.atomic.wait64: wait on 8 bytes at 0x10008, 8 bytes into a freed block of 16 bytes at 0x10000"]


def test_the_pass_leaves_other_memories_and_unshared_waits_alone():
    from wasmem.instrument import rewrite
    from wasmem.instrument.heap import HeapPass
    from wasmem.instrument.memcheck import MemcheckPass
    from wasmem.model.allocators import find_allocators

    data = (DATA / "memcheck_ops.wasm").read_bytes()
    hp = HeapPass(find_allocators(MODULE).functions)
    mc = MemcheckPass(hp)
    rewrite(data, [hp, mc])
    other = MODULE.find_export("other_memory").index
    # other_memory: only memory.copy $other $heap (its source range) is a site; nothing of memory 1
    assert [(op_name(s.op), s.write) for s in mc.sites if s.func_index == other] == [("memory.copy", False)]
    plain = WasmModule.from_bytes(wat(SHARED.replace(" 4 shared", "")))
    data = bytes(plain.data)
    hp = HeapPass(find_allocators(plain).functions)
    mc = MemcheckPass(hp)
    rewrite(data, [hp, mc])
    assert not any("wait" in op_name(s.op) for s in mc.sites)  # a wait on an unshared memory always traps


def test_memcheck_and_a_watch_of_reads_instrument_the_same_accesses_and_validate():
    """Both passes save an access's operands and put them back: their edits of one instruction combine."""
    import wasmtime

    from wasmem.instrument import WatchPass, rewrite
    from wasmem.instrument.heap import HeapPass
    from wasmem.instrument.memcheck import MemcheckPass
    from wasmem.model.allocators import find_allocators

    data = (DATA / "memcheck_ops.wasm").read_bytes()
    hp = HeapPass(find_allocators(MODULE).functions)
    wp = WatchPass(2, reads=True)
    rw = rewrite(data, [hp, MemcheckPass(hp), wp])
    wasmtime.Module(wasmtime.Engine(), rw.data)
    assert len(wp.sites) > 40


# -- --memcheck-uninit ---------------------------------------------------------------------------------------
P, Q = 0x10010, 0x10070  # uninit's two malloc'ed blocks of 32 bytes (its calloc'ed one lies between)
UNINIT = [
    ("uninit-read", "i32.load", 1, f"read of 4 bytes at {P + 8:#x}: never written, 8 bytes into the block of 32 "
                                   f"bytes at {P:#x}"),
    ("uninit-read", "i32.load", 3, f"read of 4 bytes at {P + 2:#x} (from its byte 2, at {P + 4:#x}): never written, "
                                   f"4 bytes into the block of 32 bytes at {P:#x}"),
    ("uninit-read", "i32.load8_u", 0, f"read of 1 byte at {Q + 13:#x}: never written, 13 bytes into the block of 32 "
                                      f"bytes at {Q:#x}"),
    ("uninit-read", "i32.atomic.rmw.add", 0, f"read-modify-write of 4 bytes at {Q + 12:#x}: never written, 12 "
                                             f"bytes into the block of 32 bytes at {Q:#x}"),
]


def test_reads_of_never_written_bytes_are_reported_once_per_site_with_the_allocating_site():
    """Stores (plain, SIMD, lane, atomic), memory.fill and memory.init make bytes written; memory.copy carries
    the source's state to the destination (copying never-written bytes is no finding, reading the copies is);
    calloc'ed bytes are written; a read-modify-write of never-written bytes is reported and writes them. Bytes
    reported once count as written from then on (so are their copies)."""
    report, got = findings("uninit", "uninit", "clean 3", "dense 3", "simd_bad", memcheck_uninit=True)
    assert got[:4] == expected("uninit", UNINIT)
    assert [f.count for f in report.findings[:4]] == [2, 2, 2, 2]
    mallocs = [offset_of("uninit", "call", k) for k in range(3)]  # malloc, calloc, malloc
    assert [report.sites[f.site].offset for f in report.findings[:4]] == [mallocs[0]] * 2 + [mallocs[2]] * 2
    # the other checks go on as before
    assert [g[:4] for g in got[4:]] == [e[:4] for e in expected("simd_bad", SIMD)]
    report, got = findings("uninit", "clean 3")
    assert got == []  # off without --memcheck-uninit



def test_uninit_on_c_with_wasi_libc_malloc_reports_the_real_one_and_not_the_hosts_writes(capsys):
    """heapdemo.c's warm_cache returns cache[0] of a malloc'ed cache it never wrote (a real bug, at its line);
    the bytes wasmem writes itself (a z: argument copied into a block it allocated) are written; the clean
    sequence of test_heap.py reports nothing."""
    from conftest import run_main

    c = str(DATA / "heapdemo.wasm")
    source = (DATA / "heapdemo.c").read_text().splitlines()
    line = next(i for i, t in enumerate(source, 1) if "return cache[0]" in t)
    report, session = heap_report(c, after=["push 1", "clean_step 2", "churn 300", "str_len z:hello",
                                            "make_greeting 2", "pop", "warm_cache 7", "leak_step 1", "warm_cache 8"],
                                  memcheck=True, memcheck_uninit=True)
    session.close()
    (f,) = report.findings
    # the second warm_cache reads the same byte: reported once, it counts as written since
    assert (f.kind, f.access.function, f.access.location, f.count) == ("uninit-read", "warm_cache",
                                                                       f"heapdemo.c:{line}", 1)
    alloc = next(i for i, t in enumerate(source, 1) if "cache = malloc(4096)" in t)
    assert report.sites[f.site].location == f"heapdemo.c:{alloc}"
    assert "read of 1 byte at" in f.message and "never written, 0 bytes into the block of 4096 bytes" in f.message
    code, _, err = run_main(capsys, "heap", c, "--memcheck-uninit")
    assert code == 2 and "--memcheck-uninit needs --memcheck" in err


WASI = """(module
  (import "wasi_snapshot_preview1" "fd_read" (func $fd_read (param i32 i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "random_get" (func $random_get (param i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "clock_time_get" (func $clock (param i32 i64 i32) (result i32)))
  (memory (export "memory") 2)
  (global (export "__heap_base") i32 (i32.const 65536))
  (global $top (mut i32) (i32.const 65536))
  (func $malloc (export "malloc") (param $n i32) (result i32)
    (local $p i32) (local.set $p (i32.add (global.get $top) (i32.const 16)))
    (global.set $top (i32.add (local.get $p) (i32.and (i32.add (local.get $n) (i32.const 15)) (i32.const -16))))
    (local.get $p))
  (func $free (export "free") (param i32))
  ;; stdin read into a malloc'ed buffer through a malloc'ed iovec; the count lands in a malloc'ed int
  (func (export "read_stdin") (result i32)
    (local $buf i32) (local $iov i32) (local $n i32)
    (local.set $buf (call $malloc (i32.const 16)))
    (local.set $iov (call $malloc (i32.const 8)))
    (local.set $n (call $malloc (i32.const 4)))
    (i32.store (local.get $iov) (local.get $buf))
    (i32.store offset=4 (local.get $iov) (i32.const 16))
    (drop (call $fd_read (i32.const 0) (local.get $iov) (i32.const 1) (local.get $n)))
    (i32.add (i32.load8_u offset=15 (local.get $buf)) (i32.load (local.get $n))))
  (func (export "random_and_clock") (result i32)
    (local $b i32) (local $t i32)
    (local.set $b (call $malloc (i32.const 24)))
    (local.set $t (call $malloc (i32.const 8)))
    (drop (call $random_get (i32.add (local.get $b) (i32.const 8)) (i32.const 16)))
    (drop (call $clock (i32.const 0) (i64.const 1) (local.get $t)))
    (i32.add (i32.load offset=20 (local.get $b))
             (i32.add (i32.wrap_i64 (i64.load (local.get $t))) (i32.load offset=4 (local.get $b)))))  ;; 4: never
)"""


def test_what_an_import_writes_is_written(tmp_path, wat_file):
    """--memcheck-uninit: WASI's fd_read into a buffer an iovec names, its count through an out pointer,
    random_get's buffer and clock_time_get's out parameter are written; bytes no one wrote still are not."""
    path = wat_file(WASI)
    stdin = tmp_path / "stdin.txt"
    stdin.write_bytes(b"0123456789abcdef")
    report, session = heap_report(path, after=["read_stdin", "random_and_clock"], memcheck=True,
                                  memcheck_uninit=True, wasi_stdin=str(stdin))
    session.close()
    assert [(f.kind, f.access.function, f.message) for f in report.findings] == [
        ("uninit-read", "random_and_clock", "i32.load: read of 4 bytes at 0x10074: never written, 4 bytes into "
                                            "the block of 24 bytes at 0x10070")]


GROWN_BY_THE_HOST = """(module
  (import "env" "emscripten_resize_heap" (func $resize (param i32) (result i32)))
  (memory (export "memory") 2 100)
  (global (export "__heap_base") i32 (i32.const 65536))
  (global $top (mut i32) (i32.const 65536))
  (func $malloc (export "malloc") (param $n i32) (result i32)
    (local $p i32) (local $end i32)
    (local.set $end (i32.add (global.get $top) (i32.add (local.get $n) (i32.const 32))))
    (if (i32.gt_u (local.get $end) (i32.mul (memory.size) (i32.const 65536)))
      (then (drop (call $resize (local.get $end)))))
    (local.set $p (i32.add (global.get $top) (i32.const 16)))
    (global.set $top (i32.add (local.get $p) (i32.and (i32.add (local.get $n) (i32.const 15)) (i32.const -16))))
    (local.get $p))
  (func $free (export "free") (param i32))
  (func (export "big") (param $n i32) (result i32)
    (local $p i32)
    (local.set $p (i32.add (call $malloc (local.get $n)) (i32.sub (local.get $n) (i32.const 4))))
    (i32.store (local.get $p) (i32.const 7))
    (i32.add (i32.load (local.get $p)) (i32.load offset=4 (local.get $p))))  ;; 4: just past the end
  (func (export "grow_fails") (result i32)
    (memory.grow (i32.const 1000)))
)"""


@pytest.mark.parametrize("uninit", [False, True])
def test_the_shadow_grows_with_memory_0_when_the_host_grows_it(wat_file, uninit):
    """Emscripten's emscripten_resize_heap grows memory 0 from the host (wasmem's Emscripten profile): the shadow
    grows after the import returns, so an access to the new pages does not trap (and is checked); a
    memory.grow that fails grows nothing."""
    path = wat_file(GROWN_BY_THE_HOST)
    plain = wasmem.open(path)
    want = [plain.call("big", ["200000"]).results, plain.call("grow_fails", []).results,
            plain.call("big", ["300000"]).results]
    plain.close()
    session, _ = open_heap_session(path, memcheck=True, memcheck_uninit=uninit)
    got = [session.call("big", ["200000"]).results, session.call("grow_fails", []).results,
           session.call("big", ["300000"]).results]
    tr = session.heap_tracker
    tr.disarm()
    pages = session.memory_size(0) // 65536
    assert got == want and pages > 2 and tr._shadow.size(session.store) == pages
    assert [f.kind for f in tr.findings] == ["outside-block"]  # the load just past the end, counted twice
    assert tr.findings[0].count == 2 and "just past the end of the block of 200000 bytes" in tr.findings[0].message
    session.close()
