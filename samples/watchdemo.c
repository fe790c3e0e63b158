// watchdemo.c - the `wasmem call --watch` demo: two real memory bugs in a data-first build (the stack
// sits above the static data), and a buffer a host function fills.
//
//   reset_scores()  an off-by-one loop (<= instead of <) writes one int past `scores` and so sets the
//                   neighbouring global settings.limit to -1: `--watch settings.limit` names the line.
//   deep(n)         uses n+1 frames of ~600 bytes in a 4 KiB stack: past n=5 the stack runs down over
//                   the static data; `--watch sp --stop` stops at the first write below the stack.
//   read_line()     WASI fd_read fills `line`: a host write (`--watch line --stdin FILE`).
//   fill(v)         scalar stores of every width and bulk memory (memset/memcpy: -mbulk-memory) into `mix`.
//
// build: $CC --target=wasm32-freestanding -mbulk-memory -O1 -fno-sanitize=all -g -c watchdemo.c -o build/watchdemo.o
// build: $ZIGLD --no-entry --no-stack-first -z stack-size=4096 build/watchdemo.o -o watchdemo.wasm

#include <stdint.h>
#include <stddef.h>

#define EXPORT(name) __attribute__((export_name(#name)))

#define NSCORES 4

struct settings {
    int32_t limit;
    int32_t verbose;
};

int32_t scores[NSCORES] = {10, 20, 30, 40};
struct settings settings = {100, 1};

EXPORT(reset_scores) void reset_scores(void) {
    for (int32_t i = 0; i <= NSCORES; i++)  // BUG: <= writes scores[4], which is settings.limit
        scores[i] = -1;
}

EXPORT(get_limit) int32_t get_limit(void) { return settings.limit; }

EXPORT(deep) int32_t deep(int32_t n) {
    volatile char buf[600];
    for (int32_t i = 0; i < 600; i += 100)
        buf[i] = (char)n;
    if (n <= 0)
        return 1;
    return deep(n - 1) + buf[n % 600] - n + 1;  // deep(n) == n + 1 (n < 128)
}

typedef struct {
    uint8_t *buf;
    uint32_t len;
} iovec;

__attribute__((import_module("wasi_snapshot_preview1"), import_name("fd_read")))
int32_t fd_read(int32_t fd, const iovec *iovs, int32_t n, uint32_t *nread);

char line[16];

EXPORT(read_line) int32_t read_line(void) {
    iovec v = {(uint8_t *)line, sizeof line};
    uint32_t n = 0;
    if (fd_read(0, &v, 1, &n) != 0)
        return -1;
    return (int32_t)n;
}

struct mix {
    uint8_t b;
    uint16_t h;
    uint32_t w;
    uint64_t d;
    float f;
    double g;
    uint8_t bytes[32];
};

struct mix mix;

EXPORT(fill) uint32_t fill(uint32_t v) {
    volatile struct mix *m = &mix;
    m->b = (uint8_t)v;
    m->h = (uint16_t)(v * 3);
    m->w = v * 5;
    m->d = (uint64_t)v << 40;
    m->f = (float)v / 2;
    m->g = (double)v / 4;
    __builtin_memset(mix.bytes, (int)v, 16);
    __builtin_memcpy(mix.bytes + 16, mix.bytes, 16);
    return mix.w + mix.bytes[31];
}
