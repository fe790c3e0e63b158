// shapeheap.c - allocator discovery by shape (issue 25 item 3): the same program in three stripped builds with
// no name of any allocator function, so wasmem must find malloc and free by their code:
//
//   shapeheap-dlmalloc.wasm  Debian clang 14 + wasi-libc (dlmalloc), -O2, linked with --strip-all
//   shapeheap-opt.wasm       the same objects linked with names, then wasm-opt -O2 (Debian binaryen 108), which
//                            drops the name section and inlines wasi-libc's malloc/free thunks over dlmalloc
//   shapeheap-zig.wasm       zig cc 0.17.1 -O2 (Zig's libc malloc over its BrkAllocator), --strip-all
//
// leak_step leaks 32 bytes per call (a planted leak); clean_step frees all it takes (calloc, realloc, free).
// Tests: tests/heap/test_allocshape.py.
//
// build: mkdir -p build
// build: $CLANG --target=wasm32-wasi -mexec-model=reactor -O2 -c shapeheap.c -o build/shapeheap.o
// build: $CLANG --target=wasm32-wasi -mexec-model=reactor -Wl,--strip-all build/shapeheap.o -o shapeheap-dlmalloc.wasm
// build: $CLANG --target=wasm32-wasi -mexec-model=reactor build/shapeheap.o -o build/shapeheap-named.wasm
// build: $WASMOPT -O2 --strip-debug build/shapeheap-named.wasm -o shapeheap-opt.wasm
// build: $CC --target=wasm32-wasi -mexec-model=reactor -O2 -g0 -fno-sanitize=all -Wl,--strip-all shapeheap.c -o shapeheap-zig.wasm
// build: rm -r build
#include <stdlib.h>
#include <string.h>

void *volatile sink;  // every pointer stored here escapes: the compiler cannot drop a malloc

__attribute__((export_name("leak_step")))
int leak_step(int n) {
    char *keep = malloc(32);  // the planted leak: 32 bytes per call, never freed
    char *tmp = malloc(200);
    sink = keep; sink = tmp;
    memset(tmp, n, 200);
    keep[0] = tmp[7];
    free(tmp);
    return keep[0];
}

__attribute__((export_name("clean_step")))
int clean_step(int n) {
    int *a = calloc(8, sizeof(int));
    char *b = malloc(16);
    sink = a; sink = b;
    b = realloc(b, 300);
    sink = b;
    a[3] = n; b[250] = (char)n;
    int r = a[3] + b[250];
    free(b);
    free(a);
    return r;
}
