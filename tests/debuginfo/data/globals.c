// Test fixture for wasmem.debuginfo: C globals of many shapes, with address/offsetof oracles.
// Built in this folder (stack-first layout, data at 1 MiB):
// build: mkdir -p build
// build: $CC --target=wasm32-freestanding -O1 -g -gdwarf-4 -fdebug-compilation-dir=. -c globals.c -o build/globals4.o
// build: $CC --target=wasm32-freestanding -O1 -g -gdwarf-5 -fdebug-compilation-dir=. -c globals.c -o build/globals5.o
// build: $CC --target=wasm32-freestanding -O1 -g0 -c globals.c -o build/globals0.o
// build: $CC --target=wasm32-freestanding -nostdlib -Wl,--no-entry -Wl,--export-dynamic -Wl,--gc-sections -Wl,--export=__heap_base -Wl,--export=__data_end build/globals4.o -o globals-dwarf4.wasm
// build: $CC --target=wasm32-freestanding -nostdlib -Wl,--no-entry -Wl,--export-dynamic -Wl,--gc-sections -Wl,--export=__heap_base -Wl,--export=__data_end build/globals5.o -o globals-dwarf5.wasm
// build: $CC --target=wasm32-freestanding -nostdlib -Wl,--no-entry -Wl,--export-dynamic -Wl,--gc-sections -Wl,--export=__heap_base -Wl,--export=__data_end -Wl,--export=counter -Wl,--export=cfg build/globals0.o -o globals-nodebug.wasm
// build: $CC --target=wasm32-freestanding -nostdlib -Wl,--no-entry -Wl,--export-dynamic -Wl,--gc-sections -Wl,--export=__heap_base -Wl,--export=__data_end -Wl,--export=counter -Wl,--export=cfg -Wl,--strip-debug build/globals4.o -o globals-stripped.wasm
// build: rm -r build
// globals-nodebug.wasm keeps the name section (no DWARF); globals-stripped.wasm has neither (lld's
// --strip-debug drops the name section too), so only exports remain.
#include <stddef.h>
#include <stdint.h>

#define EXPORT __attribute__((visibility("default")))

typedef struct point {
    int32_t x;
    int32_t y;
} point_t;

struct inner {
    uint8_t tag;
    uint16_t flags;
    double weight;
};

enum color { RED = 0, GREEN = 1, BLUE = 7 };

struct config {
    const char *name;
    int32_t values[4];
    struct inner in;
    point_t corners[2];
    enum color color;
    volatile uint32_t counter;
    float ratio;
};

struct node {
    int32_t value;
    struct node *next;
};

typedef int (*binop_fn)(int, int);

int32_t counter = 42;
int64_t big = -5;
uint8_t bss_bytes[16];
int grid[3][4] = {{1, 2, 3, 4}, {5, 6, 7, 8}, {9, 10, 11, 12}};
enum color favourite = BLUE;
const char greeting[] = "hello";
const char *names[] = {"alpha", "beta", "gamma"};

struct config cfg = {
    .name = "main-config",
    .values = {10, 20, 30, 40},
    .in = {.tag = 3, .flags = 0x102, .weight = 2.5},
    .corners = {{1, 2}, {3, 4}},
    .color = GREEN,
    .counter = 7,
    .ratio = 0.5f,
};

struct node list_c;
struct node list_a = {1, 0};
struct node list_b = {2, &list_c};
struct node list_c = {3, &list_a};
struct node *list_head = &list_b;

union number {
    int32_t i;
    float f;
    uint8_t bytes[4];
} num = {.i = 0x3f800000};

static int add(int a, int b) { return a + b; }
static int mul(int a, int b) { return a * b; }
binop_fn ops[2] = {add, mul};

int unused_global = 99;  // never referenced: removed by --gc-sections (address 0xffffffff in DWARF)

EXPORT int apply(int i, int a, int b) { return ops[i](a, b); }

EXPORT int next_id(void) {
    static int id_counter = 100;
    return ++id_counter;
}

EXPORT int sum_list(void) {
    int s = 0;
    struct node *n = list_head;
    for (int i = 0; i < 3 && n; i++, n = n->next)
        s += n->value;
    return s + counter + (int)big + bss_bytes[0] + grid[2][3] + favourite + greeting[0] + names[1][0] + num.bytes[3];
}

// oracles: the linker's own addresses and the compiler's offsetof
EXPORT void *addr_counter(void) { return &counter; }
EXPORT void *addr_big(void) { return &big; }
EXPORT void *addr_bss_bytes(void) { return bss_bytes; }
EXPORT void *addr_grid(void) { return grid; }
EXPORT void *addr_favourite(void) { return &favourite; }
EXPORT void *addr_greeting(void) { return (void *)greeting; }
EXPORT void *addr_names(void) { return names; }
EXPORT void *addr_cfg(void) { return &cfg; }
EXPORT void *addr_list_a(void) { return &list_a; }
EXPORT void *addr_list_b(void) { return &list_b; }
EXPORT void *addr_list_c(void) { return &list_c; }
EXPORT void *addr_list_head(void) { return &list_head; }
EXPORT void *addr_num(void) { return &num; }
EXPORT void *addr_ops(void) { return ops; }
EXPORT int size_cfg(void) { return sizeof(struct config); }
EXPORT int off_cfg_values(void) { return offsetof(struct config, values); }
EXPORT int off_cfg_in(void) { return offsetof(struct config, in); }
EXPORT int off_inner_weight(void) { return offsetof(struct inner, weight); }
EXPORT int off_cfg_corners(void) { return offsetof(struct config, corners); }
EXPORT int off_cfg_color(void) { return offsetof(struct config, color); }
EXPORT int off_cfg_counter(void) { return offsetof(struct config, counter); }
EXPORT int off_cfg_ratio(void) { return offsetof(struct config, ratio); }
EXPORT int size_inner(void) { return sizeof(struct inner); }
EXPORT int align_inner(void) { return _Alignof(struct inner); }

// never called nor exported: removed by --gc-sections (its DWARF low_pc becomes a tombstone)
int unused_function(int x) { return x * 3 + counter; }
