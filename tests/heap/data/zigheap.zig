// zigheap.zig - heap tracking fixture for Zig's allocators (issue 15): std.heap.wasm_allocator (on a
// single-threaded wasm32 target that is std.heap.BrkAllocator, which is also what std.heap.page_allocator
// is there), reached through std.mem.Allocator's vtable (call_indirect), an ArenaAllocator layered on it,
// an ArrayList growing through remap/resize, a planted leak of 24 bytes per call and a double free that
// BrkAllocator lets through (it only pushes the block on its free list again). Line numbers are asserted
// by tests/heap/test_zig_heap.py through the markers in the comments: keep them.
//
// build: $ZIG build-exe -target wasm32-freestanding -fno-entry -rdynamic -O ReleaseSmall -fno-strip zigheap.zig -femit-bin=zigheap.wasm
const std = @import("std");

const wa = std.heap.wasm_allocator;
var sink: ?[*]u8 = null; // every pointer stored here escapes: the optimiser keeps each allocation

export fn leak_step(n: u32) u32 {
    const keep = wa.alloc(u8, 24) catch return 0; // LEAK_LINE: 24 bytes per call, never freed
    const tmp = wa.alloc(u8, 100) catch return 0;
    @memset(tmp, @truncate(n));
    keep[0] = tmp[5];
    wa.free(tmp);
    sink = keep.ptr;
    return keep[0];
}

export fn clean_step(n: u32) u32 {
    var list: std.ArrayList(u32) = .empty; // grows through remap, alloc and free
    defer list.deinit(wa);
    var i: u32 = 0;
    while (i < 40) : (i += 1) list.append(wa, i * n) catch return 0;
    var buf = wa.alloc(u8, 20) catch return 0;
    sink = buf.ptr;
    if (wa.resize(buf, 24)) buf = buf.ptr[0..24]; // the same 32-byte slot: resized in place
    defer wa.free(buf);
    var arena = std.heap.ArenaAllocator.init(wa); // its buffers come from wa, all freed by deinit
    defer arena.deinit();
    const aa = arena.allocator();
    const s = std.fmt.allocPrint(aa, "n={d}", .{n}) catch return 0;
    const t = aa.dupe(u8, s) catch return 0;
    return list.items[3] + @as(u32, @intCast(t.len)) + buf[0];
}

export fn double_free() void {
    const p = wa.alloc(u8, 40) catch return; // DOUBLE_ALLOC_LINE
    sink = p.ptr;
    wa.free(p); // FIRST_FREE_LINE
    wa.free(p); // DOUBLE_FREE_LINE
}
