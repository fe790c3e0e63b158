// hello_wasi.c - a WASI preview1 command written against the raw WASI imports (no libc, so the
// module holds only this file's code): `_start` prints to stdout and stderr; `add` and `greet`
// are callable on their own, reactor-style.
//
// build: $CC --target=wasm32-freestanding -O2 -fno-sanitize=all -g0 -Xclang -stack-usage-file -Xclang build/hello_wasi.su -c hello_wasi.c -o build/hello_wasi.o
// build: $CC --target=wasm32-freestanding -nostdlib -Wl,--no-entry -z stack-size=65536 build/hello_wasi.o -o hello_wasi.wasm
// build: cp build/hello_wasi.su hello_wasi.su

#include <stdint.h>

typedef struct { const uint8_t *buf; uint32_t len; } ciovec;

#define WASI(name) __attribute__((import_module("wasi_snapshot_preview1"), import_name(name)))
WASI("fd_write") int32_t fd_write(int32_t fd, const ciovec *iovs, int32_t n, uint32_t *written);
WASI("args_sizes_get") int32_t args_sizes_get(uint32_t *argc, uint32_t *argv_buf_size);

static uint32_t write_all(int32_t fd, const char *s, uint32_t len) {
    ciovec v = {(const uint8_t *)s, len};
    uint32_t written = 0;
    fd_write(fd, &v, 1, &written);
    return written;
}

static uint32_t length(const char *s) {
    uint32_t n = 0;
    while (s[n]) n++;
    return n;
}

// Formats a non-negative number into buf (backwards), returns the first digit's position.
static char *utoa(uint32_t v, char *end) {
    do { *--end = (char)('0' + v % 10); v /= 10; } while (v);
    return end;
}

__attribute__((export_name("add"))) int32_t add(int32_t a, int32_t b) { return a + b; }

// Writes "greet N\n" to stdout and returns the number of bytes written.
__attribute__((export_name("greet"))) int32_t greet(int32_t n) {
    char line[32] = "greet ";
    char digits[12];
    char *d = utoa((uint32_t)n, digits + sizeof digits);
    uint32_t len = 6;
    while (d < digits + sizeof digits) line[len++] = *d++;
    line[len++] = '\n';
    return (int32_t)write_all(1, line, len);
}

__attribute__((export_name("_start"))) void start(void) {
    static const char hello[] = "hello from wasm (argc=";
    uint32_t argc = 0, size = 0;
    args_sizes_get(&argc, &size);
    char digits[12];
    char *d = utoa(argc, digits + sizeof digits);
    write_all(1, hello, length(hello));
    write_all(1, d, (uint32_t)(digits + sizeof digits - d));
    write_all(1, ")\n", 2);
    write_all(2, "this goes to stderr\n", 20);
}
