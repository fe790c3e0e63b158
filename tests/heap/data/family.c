// family.c - an allocator family of the program's own (issue 25): my_malloc and my_free are named with
// --allocator; my_realloc is found through the call graph (it calls the same private helpers, take and give,
// on both sides) and tracked as a realloc; my_remap(ptr, size, flags) also belongs to the family (it calls
// them too) but has no shape wasmem understands: its calls are logged, not interpreted, and the blocks it
// returns or is passed get no invalid-free or double-free finding, only a count with the reason.
// Tests: tests/heap/test_families.py.
//
//   moved()        a block moved by my_realloc, freed by my_free: no finding
//   remapped()     a block moved by my_remap, freed by my_free: counted, not judged
//   double_free()  my_free twice on the same block: a double free (still reported)
//   keep()         a 16-byte block kept for ever: a leak
//
// build: $CC --target=wasm32-wasi -mexec-model=reactor -O0 -g -fno-sanitize=all family.c -o family.wasm
#include <stddef.h>
#include <string.h>

struct hdr { size_t size; int freed; int pad; };

static unsigned char arena[1 << 16] __attribute__((aligned(16)));
static size_t top;
void *volatile sink;

__attribute__((noinline)) struct hdr *take(size_t n) {
    n = (n + 15) & ~(size_t)15;
    if (top + sizeof(struct hdr) + n > sizeof arena) return 0;
    struct hdr *h = (struct hdr *)(arena + top);
    top += sizeof(struct hdr) + n;
    h->size = n;
    h->freed = 0;
    return h;
}

__attribute__((noinline)) struct hdr *header_of(void *p) { return (struct hdr *)p - 1; }

__attribute__((noinline)) void give(struct hdr *h) { h->freed = 1; }

__attribute__((noinline)) void *my_malloc(size_t n) {
    struct hdr *h = take(n);
    return h ? h + 1 : 0;
}

__attribute__((noinline)) void my_free(void *p) {
    if (!p) return;
    struct hdr *h = header_of(p);
    if (h->freed) return;  // the program's double free: this allocator survives it
    give(h);
}

__attribute__((noinline)) void *my_realloc(void *p, size_t n) {
    if (!p) return my_malloc(n);
    struct hdr *h = header_of(p);
    struct hdr *g = take(n);
    if (!g) return 0;
    memcpy(g + 1, p, h->size < n ? h->size : n);
    give(h);
    return g + 1;
}

__attribute__((noinline)) void *my_remap(void *p, size_t n, int flags) {
    struct hdr *h = header_of(p);
    struct hdr *g = take(n);
    if (!g) return 0;
    if (flags) memcpy(g + 1, p, h->size < n ? h->size : n);
    give(h);
    return g + 1;
}

__attribute__((export_name("moved"))) int moved(void) {
    char *p = my_malloc(8);
    p = my_realloc(p, 64);
    sink = p;
    my_free(p);
    return 0;
}

__attribute__((export_name("remapped"))) int remapped(void) {
    char *p = my_malloc(8);
    p = my_remap(p, 64, 1);
    sink = p;
    my_free(p);
    return 0;
}

__attribute__((export_name("double_free"))) int double_free(void) {
    char *p = my_malloc(8);
    sink = p;
    my_free(p);
    my_free(p);  // DOUBLE_FREE_LINE
    return 0;
}

__attribute__((export_name("keep"))) int keep(void) {
    sink = my_malloc(16);  // KEEP_LINE
    return 0;
}
