// heapbugs.c - a heap overflow planted at a known line, in the default wasi-libc link: no
// -Wl,--export=__heap_base, so `heap --memcheck` knows only the layout's estimate of the heap's start, a
// lower bound here: it checks the memory grown at run time, where dlmalloc puts its blocks, as heap.
// Line numbers are asserted by tests/heap/test_memcheck_heap_base.py: keep them.
//
//   overflow_heap()  writes one byte past a 10-byte block (OVERFLOW_LINE)
//   clean_heap()     the same block written inside its bounds: no finding
//
// build: $CC --target=wasm32-wasi -mexec-model=reactor -O0 -g -fno-sanitize=all heapbugs.c -o heapbugs.wasm
#include <stdlib.h>

void *volatile sink;  // the pointer escapes: the compiler cannot drop the malloc

__attribute__((export_name("overflow_heap")))
int overflow_heap(void) {
    char *p = malloc(10);
    sink = p;
    ((volatile char *)p)[10] = 1;         // OVERFLOW_LINE: one byte past the block
    int r = p[0];
    free(p);
    return r;
}

__attribute__((export_name("clean_heap")))
int clean_heap(void) {
    char *p = malloc(10);
    sink = p;
    ((volatile char *)p)[9] = 1;
    int r = p[9];
    free(p);
    return r;
}
