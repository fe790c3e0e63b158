// heapdemo.c - heap tracking fixture (issue 15): wasi-libc's malloc (dlmalloc), a planted leak of 24
// bytes per call at a known line, a clean sequence, a double free, a use after free, posix_memalign and a
// block returned to the caller. Line numbers are asserted by tests/heap/test_heap.py: keep them.
//
// build: $CC --target=wasm32-wasi -mexec-model=reactor -O1 -g -fno-sanitize=all -Wl,--export=malloc -Wl,--export=free -Wl,--export=calloc -Wl,--export=realloc -Wl,--export=__heap_base heapdemo.c -o heapdemo.wasm
// build: $CC --target=wasm32-wasi -mexec-model=reactor -O2 -g0 -fno-sanitize=all -Wl,--strip-all heapdemo.c -o heapdemo-stripped.wasm
#include <stdlib.h>
#include <string.h>

struct Node { int value; struct Node *next; };

struct Node *list_head;          // a typed pointer into the heap: `wasmem heap` names the block's type
static char *cache;
void *volatile sink;             // every pointer stored here escapes: the compiler cannot drop a malloc

__attribute__((export_name("leak_step")))
int leak_step(int n) {
    char *keep = malloc(24);             // LEAK_LINE: 24 bytes per call, never freed
    char *tmp = malloc(100);
    sink = keep; sink = tmp;
    memset(tmp, n, 100);
    keep[0] = tmp[5];
    free(tmp);
    return keep[0];
}

__attribute__((export_name("clean_step")))
int clean_step(int n) {
    int *a = calloc(4, sizeof(int));
    char *b = malloc(10);
    b = realloc(b, 200);
    void *c = 0;
    if (posix_memalign(&c, 64, 48) != 0) return -1;
    sink = a; sink = b; sink = c;
    a[1] = n; b[150] = (char)n;
    int r = a[1] + b[150];
    free(c);
    free(b);
    free(a);
    return r;
}

__attribute__((export_name("push")))
int push(int v) {
    struct Node *node = malloc(sizeof *node);   // PUSH_LINE
    node->value = v;
    node->next = list_head;
    list_head = node;
    return v;
}

__attribute__((export_name("pop")))
int pop(void) {
    struct Node *node = list_head;
    if (!node) return -1;
    list_head = node->next;
    int v = node->value;
    free(node);
    return v;
}

__attribute__((export_name("warm_cache")))
int warm_cache(int n) {
    if (!cache) cache = malloc(4096);     // allocated once, on the first call: not a leak per call
    cache[n & 4095] = 1;
    return cache[0];
}

__attribute__((export_name("make_greeting")))
char *make_greeting(int n) {
    char *s = malloc(16);                 // GREETING_LINE: returned: the caller must free it
    strcpy(s, "hello");
    s[5] = '0' + (n % 10);
    s[6] = 0;
    return s;
}

__attribute__((export_name("double_free")))
int double_free(void) {
    char *p = malloc(32);
    sink = p;
    p[0] = 1;
    free(p);
    free(p);                              // DOUBLE_FREE_LINE
    return 0;
}

__attribute__((export_name("use_after_free")))
int use_after_free(void) {
    int *p = malloc(8 * sizeof(int));
    sink = p;
    p[0] = 7;
    free(p);
    p[1] = 9;                             // USE_AFTER_FREE_LINE
    return p[0];
}

__attribute__((export_name("str_len")))
int str_len(const char *s) { return (int)strlen(s); }

__attribute__((export_name("churn")))
int churn(int n) {                        // the allocation-heavy loop of the benchmark
    int sum = 0;
    for (int i = 0; i < n; i++) {
        char *p = malloc(16 + (i & 63));
        sink = p;
        p[0] = (char)i;
        sum += p[0];
        free(p);
    }
    return sum;
}

__attribute__((export_name("write_past_end")))
int write_past_end(int n) {
    char *p = malloc(10);
    sink = p;
    ((volatile char *)p)[n] = 1;          // PAST_END_LINE: n >= 10 writes past the block
    int r = p[0];
    free(p);
    return r;
}
