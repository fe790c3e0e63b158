// memdemo.c - the main wasmem demo module (freestanding C, no libc, our own allocator).
//
// Variants (see samples/README.md for the measured facts of each):
//   memdemo.wasm           zig cc -O2, stack-first, 64 KiB stack, no DWARF, exports __heap_base/__data_end
//   memdemo-O0.wasm        zig cc -O0 (frames pass through locals), stack-first
//   memdemo-debug.wasm     zig cc -O1 -g -gdwarf-4
//   memdemo-dwarf5.wasm    zig cc -O1 -g -gdwarf-5
//   memdemo-datafirst.wasm Debian clang-14 + wasm-ld-14 -O2, data-first, 8 KiB stack (deep() overflows into data)
//   memdemo-import.wasm    zig cc -O2, imports env.memory (2 pages), 8 KiB stack
//   memdemo-stripped.wasm  zig cc -O2, --strip-all (no name section, no exported linker symbols)
//
// build: $CC --target=wasm32-freestanding -O2 -fno-sanitize=all -g0 -Xclang -stack-usage-file -Xclang build/memdemo.su -c memdemo.c -o build/memdemo.o
// build: $CC --target=wasm32-freestanding -nostdlib -Wl,--no-entry -z stack-size=65536 -Wl,--export=__heap_base -Wl,--export=__data_end build/memdemo.o -o memdemo.wasm
// build: cp build/memdemo.su memdemo.su
//
// build: $CC --target=wasm32-freestanding -O0 -fno-sanitize=all -g0 -Xclang -stack-usage-file -Xclang build/memdemo-O0.su -c memdemo.c -o build/memdemo-O0.o
// build: $CC --target=wasm32-freestanding -nostdlib -Wl,--no-entry -z stack-size=65536 build/memdemo-O0.o -o memdemo-O0.wasm
// build: cp build/memdemo-O0.su memdemo-O0.su
//
// build: $CC --target=wasm32-freestanding -O1 -fno-sanitize=all -g -gdwarf-4 -Xclang -stack-usage-file -Xclang build/memdemo-debug.su -c memdemo.c -o build/memdemo-debug.o
// build: $CC --target=wasm32-freestanding -nostdlib -Wl,--no-entry -z stack-size=65536 -Wl,--export=__heap_base -Wl,--export=__data_end build/memdemo-debug.o -o memdemo-debug.wasm
// build: cp build/memdemo-debug.su memdemo-debug.su
//
// build: $CC --target=wasm32-freestanding -O1 -fno-sanitize=all -g -gdwarf-5 -Xclang -stack-usage-file -Xclang build/memdemo-dwarf5.su -c memdemo.c -o build/memdemo-dwarf5.o
// build: $CC --target=wasm32-freestanding -nostdlib -Wl,--no-entry -z stack-size=65536 build/memdemo-dwarf5.o -o memdemo-dwarf5.wasm
// build: cp build/memdemo-dwarf5.su memdemo-dwarf5.su
//
// build: $CLANG --target=wasm32 -nostdlib -O2 -fstack-usage -c memdemo.c -o build/memdemo-datafirst.o
// build: $WASMLD --no-entry -z stack-size=8192 --export=__heap_base --export=__data_end build/memdemo-datafirst.o -o memdemo-datafirst.wasm
// build: cp build/memdemo-datafirst.su memdemo-datafirst.su
//
// build: $CC --target=wasm32-freestanding -O2 -fno-sanitize=all -g0 -Xclang -stack-usage-file -Xclang build/memdemo-import.su -c memdemo.c -o build/memdemo-import.o
// build: $CC --target=wasm32-freestanding -nostdlib -Wl,--no-entry -Wl,--import-memory -Wl,--initial-memory=131072 -z stack-size=8192 build/memdemo-import.o -o memdemo-import.wasm
// build: cp build/memdemo-import.su memdemo-import.su
//
// build: $CC --target=wasm32-freestanding -O2 -fno-sanitize=all -g0 -Xclang -stack-usage-file -Xclang build/memdemo-stripped.su -c memdemo.c -o build/memdemo-stripped.o
// build: $CC --target=wasm32-freestanding -nostdlib -Wl,--no-entry -z stack-size=65536 -Wl,--strip-all build/memdemo-stripped.o -o memdemo-stripped.wasm
// build: cp build/memdemo-stripped.su memdemo-stripped.su

#include <stdint.h>
#include <stddef.h>

#define EXPORT(name) __attribute__((export_name(#name)))

// ---------------------------------------------------------------- mem helpers
// No libc: the compiler may emit calls to memcpy/memset (e.g. clang-14 without
// bulk-memory). volatile stops the loops from being turned back into calls.
void *memcpy(void *dst, const void *src, size_t n) {
    volatile unsigned char *d = dst;
    const unsigned char *s = src;
    while (n--) *d++ = *s++;
    return dst;
}

void *memset(void *dst, int c, size_t n) {
    volatile unsigned char *d = dst;
    while (n--) *d++ = (unsigned char)c;
    return dst;
}

// ---------------------------------------------------------------- sret struct
typedef struct { double x, y; } Point;

// Returned by value: lowered to (i32 sret, f64, f64) -> ().
EXPORT(make_point) Point make_point(double x, double y) {
    Point p = { x, y };
    return p;
}

// ---------------------------------------------------------------- data
int32_t data_array[8] = { 1, 2, 3, 4, 5, 6, 7, 8 };

EXPORT(get_data_ptr) int32_t *get_data_ptr(void) { return data_array; }

const char *names[] = { "alpha", "beta", "gamma", "delta", 0 };

EXPORT(get_names) const char **get_names(void) { return names; }

typedef struct {
    int32_t version;
    struct { int16_t width, height; } size;
    struct {
        char name[16];
        double scale;
        Point origin;
    } meta;
    const char *title;
    uint8_t flags[4];
} Config;

Config config = {
    .version = 3,
    .size = { 640, 480 },
    .meta = { .name = "wasmem", .scale = 1.5, .origin = { -1.0, 2.5 } },
    .title = "memdemo",
    .flags = { 1, 0, 1, 1 },
};

EXPORT(get_config) Config *get_config(void) { return &config; }

// A linked list whose last node points back at the first (a cycle).
typedef struct Node { int32_t value; struct Node *next; } Node;
extern Node node_a;
Node node_c = { 30, &node_a };
Node node_b = { 20, &node_c };
Node node_a = { 10, &node_b };

EXPORT(get_list_head) Node *get_list_head(void) { return &node_a; }

// A zero-initialised global (.bss) that the code writes.
int32_t call_counter;

EXPORT(get_counter) int32_t get_counter(void) { return call_counter; }

// ---------------------------------------------------------------- allocator
// Bump allocator on top of __heap_base with a first-fit free list.
extern char __heap_base;

typedef struct FreeBlock { uint32_t size; struct FreeBlock *next; } FreeBlock;
static uintptr_t heap_top;       // next unused byte (0 = not initialised)
static FreeBlock *free_list;

static uint32_t round_up(uint32_t n) { return (n + 15u) & ~15u; }

EXPORT(allocate) void *allocate(int32_t size) {
    if (size <= 0) return 0;
    uint32_t n = round_up((uint32_t)size);
    FreeBlock **link = &free_list;
    for (FreeBlock *b = free_list; b; link = &b->next, b = b->next) {
        if (b->size >= n) { *link = b->next; return b; }
    }
    if (!heap_top) heap_top = round_up((uint32_t)(uintptr_t)&__heap_base);
    uintptr_t p = heap_top, end = p + n;
    uintptr_t have = (uintptr_t)__builtin_wasm_memory_size(0) * 65536u;
    if (end > have) {
        uintptr_t need = (end - have + 65535u) / 65536u;
        if (__builtin_wasm_memory_grow(0, need) == (size_t)-1) return 0;
    }
    heap_top = end;
    call_counter++;
    return (void *)p;
}

EXPORT(deallocate) void deallocate(void *ptr, int32_t size) {
    if (!ptr || size <= 0) return;
    FreeBlock *b = ptr;
    b->size = round_up((uint32_t)size);
    b->next = free_list;
    free_list = b;
}

EXPORT(grow_memory) int32_t grow_memory(int32_t pages) {
    return (int32_t)__builtin_wasm_memory_grow(0, (size_t)pages);
}

// ---------------------------------------------------------------- strings
// Upper-cases ASCII letters in place and returns the number of vowels.
EXPORT(process_string) int32_t process_string(char *ptr, int32_t len) {
    int32_t vowels = 0;
    for (int32_t i = 0; i < len; i++) {
        char c = ptr[i];
        if (c >= 'a' && c <= 'z') c = (char)(c - 'a' + 'A');
        if (c == 'A' || c == 'E' || c == 'I' || c == 'O' || c == 'U') vowels++;
        ptr[i] = c;
    }
    return vowels;
}

// Adler-32 (same as Python's zlib.adler32).
EXPORT(checksum) uint32_t checksum(const uint8_t *p, int32_t len) {
    uint32_t a = 1, b = 0;
    for (int32_t i = 0; i < len; i++) {
        a = (a + p[i]) % 65521u;
        b = (b + a) % 65521u;
    }
    return (b << 16) | a;
}

// ---------------------------------------------------------------- stack users
// Recursive fib with a 64-byte volatile local array per level.
EXPORT(fib_stack) int32_t fib_stack(int32_t n) {
    volatile int32_t scratch[16];
    scratch[n & 15] = n;
    if (n < 2) return scratch[n & 15];
    return fib_stack(n - 1) + fib_stack(n - 2) + (scratch[n & 15] - n);
}

// Not inlined, so the callers below are not leaves and must write SP back
// (leaf functions may use the red zone below SP without moving it, like spin()).
__attribute__((noinline)) static int32_t sum_i32(volatile int32_t *a, int32_t n) {
    int32_t s = 0;
    for (int32_t i = 0; i < n; i++) s += a[i];
    return s;
}

// Variable-length array: dynamic frame (SP minus a run-time value), "dynamic" in the .su.
EXPORT(sum_vla) int32_t sum_vla(int32_t n) {
    if (n <= 0) return 0;
    volatile int32_t arr[n];
    for (int32_t i = 0; i < n; i++) arr[i] = i + 1;
    return sum_i32(arr, n);
}

// Over-aligned local: the prologue rounds SP down with i32.const -64; i32.and.
// aligned_local(x) == 16*x + 120.
EXPORT(aligned_local) int32_t aligned_local(int32_t x) {
    _Alignas(64) volatile int32_t buf[16];
    for (int32_t i = 0; i < 16; i++) buf[i] = x + i;
    return sum_i32(buf, 16) + (int32_t)((uintptr_t)buf & 63);  // second term is 0
}

// Deep recursion with a 1 KiB frame per level, every byte of it written with (char)n:
// deep(n) uses n+1 frames (~(n+1) KiB of stack) and returns n. When the stack overflows
// into data (data-first layout) the data is overwritten with those bytes; when SP goes
// below 0 it wraps and the store traps (out of bounds).
// Writing the whole array keeps it alive; the volatile read after the call stops
// tail-recursion elimination.
EXPORT(deep) int32_t deep(int32_t n) {
    volatile char buf[1024];
    for (int32_t i = 0; i < 1024; i++) buf[i] = (char)n;
    if (n <= 0) return 0;
    int32_t r = deep(n - 1);
    return r + (buf[n & 1023] == (char)n);   // deep(n) == n
}

// ---------------------------------------------------------------- control flow
static int32_t op_double(int32_t x) { return x * 2; }
static int32_t op_square(int32_t x) { return x * x; }
static int32_t op_negate(int32_t x) { return -x; }

// Not const, so the calls stay call_indirect through the table.
int32_t (*ops[3])(int32_t) = { op_double, op_square, op_negate };

EXPORT(apply) int32_t apply(int32_t which, int32_t x) {
    return ops[(uint32_t)which % 3u](x);
}

EXPORT(spin) void spin(void) {
    volatile int32_t counter = 0;
    for (;;) counter++;
}

// divide(1, 0) traps with "integer divide by zero".
EXPORT(divide) int32_t divide(int32_t a, int32_t b) { return a / b; }

// crash() executes `unreachable`.
EXPORT(crash) void crash(void) { __builtin_trap(); }
