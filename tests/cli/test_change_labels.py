"""The ranges a call changed are labelled by what they fall in (issue 25 item 7): the DWARF variable rather than
the section (`counter (.bss)`, not `.bss (zero-initialised …)`), the first names and how many more for a range
over several (never a bare count such as "428 pieces"), in `call`, its --json and the shell's `diff`; a module
of many unnamed data segments names the segment."""

from __future__ import annotations

import json

from conftest import run_main, sample

from wasmem.api import load_module
from wasmem.app import range_labeler, symbols_for
from wasmem.model.layout import MAX_MAP_SEGMENTS

BSS_DWARF = sample("bss-far-dwarf.wasm")
DEBUG = sample("memdemo-debug.wasm")


def _range_lines(out: str) -> list[str]:
    return [line.strip() for line in out.splitlines() if line.strip().startswith("[0x")]


def test_a_bss_variable_is_named_by_dwarf_not_by_its_section(capsys):
    code, out, err = run_main(capsys, "call", BSS_DWARF, "bump", "3")
    assert code == 0, err
    assert _range_lines(out) == ["[0x410, 0x411) 1 bytes  counter (.bss)"]
    code, out, err = run_main(capsys, "call", BSS_DWARF, "big_at", "7")
    assert _range_lines(out) == ["[0x427, 0x428) 1 bytes  big+0x7 (.bss)"]  # where in the array it starts
    code, out, err = run_main(capsys, "call", BSS_DWARF, "big_at", "7", "--json")
    (c,) = json.loads(out)["changes"]
    assert c["label"] == "big+0x7 (.bss)"


def test_a_range_over_several_variables_names_the_first_and_counts_the_rest(capsys):
    # allocate bumps call_counter and moves heap_top: one range over call_counter, free_list and heap_top
    code, out, err = run_main(capsys, "call", DEBUG, "allocate", "16")
    assert code == 0, err
    assert _range_lines(out) == ["[0x100b4, 0x100bf) 11 bytes  call_counter, free_list +1 more (.bss)"]


def test_range_labeler_names_holders_and_counts():
    label = range_labeler(symbols_for(load_module(DEBUG)))
    # data_array .. heap_top: ten variables
    assert label(0x10020, 0x100C0) == "data_array, names +8 more (.data)"
    assert label(0x10030, 0x10050) == "data_array+0x10, names (.data)"  # starts inside data_array
    assert label(0x10058, 0x10059) == "config (.data)"
    assert label(0x10070, 0x10074) == "config+0x18 (.data)"
    assert label(0x20000 - 16, 0x20000) is None  # the heap: no symbol; the layout's region label is used


def test_the_shell_call_and_diff_label_ranges_too():
    import io

    from wasmem.render.common import make_console
    from wasmem.shell import Shell

    buf = io.StringIO()
    sh = Shell(DEBUG, console=make_console(file=buf, width=100, color=False))
    try:
        sh.execute("snapshot a")
        sh.execute("call allocate 16")
        sh.execute("diff a")
    finally:
        sh.close()
    assert _range_lines(buf.getvalue()) == ["[0x100b4, 0x100bf) 11 bytes  call_counter, free_list +1 more (.bss)"] * 2


MANY = "(module (memory (export \"memory\") 1)\n" + "".join(
    f'  (data (i32.const {0x1000 + 16 * k}) "{chr(65 + k) * 8}")\n' for k in range(MAX_MAP_SEGMENTS + 4)) + \
    "  (func (export \"poke\") (i32.store8 (i32.const 0x1114) (i32.const 1))))"


def test_many_unnamed_segments_are_named_not_counted(capsys, wat_file):
    path = wat_file(MANY)
    code, out, err = run_main(capsys, "call", path, "poke")
    assert code == 0, err
    (line,) = _range_lines(out)
    assert line == "[0x1114, 0x1115) 1 bytes  data[17]+0x4 (.data)"
    code, out, err = run_main(capsys, "inspect", path)
    assert "pieces" not in out and "segment 0, segment 1 +18 more" in out


def test_a_libc_build_names_the_allocator_state_it_changed(capsys):
    # zig's wasi libc with DWARF: malloc's state is the variable `global` (heap.BrkAllocator), not ".bss …"
    code, out, err = run_main(capsys, "call", sample("heapbugs.wasm"), "clean_heap")
    assert code == 0, err
    lines = _range_lines(out)
    assert "[0x1000010, 0x1000014) 4 bytes  global+0x8 (.bss)" in lines
    assert "[0x10000b4, 0x10000b8) 4 bytes  sink (.bss)" in lines
    assert not any(".bss (zero" in line for line in lines)
    # the block malloc made lies in memory it grew: said so, not left blank
    assert "[0x1010008, 0x101000a) 2 bytes  memory grown past its initial size" in lines
