// libc_realloc.c - the libc's realloc moves a block that free frees, in a stripped build that exports only
// malloc and free (as a stripped Emscripten build does: issue 25's quickjs case). realloc is unnamed: wasmem
// finds it through the call graph (it calls the allocator's own helper); zig's libc allocator keeps free
// without helpers of its own, so realloc cannot be told from calloc or memalign by what it calls: it is tracked
// as a member wasmem does not interpret, and the block it returns, freed later, is counted, not reported.
// Tests: tests/heap/test_families.py.
//
// build: $CC --target=wasm32-wasi -mexec-model=reactor -O2 -g0 -fno-sanitize=all -Wl,--export=malloc -Wl,--export=free -Wl,--strip-all libc_realloc.c -o libc_realloc.wasm
#include <stdlib.h>

void *volatile sink;

__attribute__((export_name("grown"))) int grown(void) {
    char *p = malloc(8);
    sink = p;
    p = realloc(p, 100000);  // a new block: the old one cannot grow in place
    sink = p;
    free(p);
    return 0;
}

__attribute__((export_name("grown_used"))) int grown_used(void) {
    char *p = malloc(8);
    sink = p;
    p = realloc(p, 100000);
    ((volatile char *)p)[50000] = 1;  // inside the new block, whose size wasmem does not know
    int r = p[50000];
    free(p);
    return r;
}

__attribute__((export_name("double_free"))) int double_free(void) {
    char *p = malloc(8);
    sink = p;
    free(p);
    free(p);
    return 0;
}
