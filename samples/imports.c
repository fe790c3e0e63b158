// imports.c - a freestanding module that imports host functions, for stub recording tests.
// Imports: env.log_i32 (i32) -> (), env.host_add (i32, i32) -> i32,
//          env.log_str (i32 ptr, i32 len) -> ()  (the host reads the string from memory).
// Exports: run(n) -> i32, sum_via_host(n) -> i32, greet() -> (), memory.
//
// build: $CC --target=wasm32-freestanding -O2 -fno-sanitize=all -g0 -Xclang -stack-usage-file -Xclang build/imports.su -c imports.c -o build/imports.o
// build: $CC --target=wasm32-freestanding -nostdlib -Wl,--no-entry -z stack-size=65536 build/imports.o -o imports.wasm
// build: cp build/imports.su imports.su

#include <stdint.h>

#define IMPORT(name) __attribute__((import_module("env"), import_name(#name)))
#define EXPORT(name) __attribute__((export_name(#name)))

IMPORT(log_i32) void log_i32(int32_t value);
IMPORT(host_add) int32_t host_add(int32_t a, int32_t b);
IMPORT(log_str) void log_str(const char *ptr, int32_t len);

static const char hello[] = "hello host";

// Logs 0..n-1 through env.log_i32 and returns n.
EXPORT(run) int32_t run(int32_t n) {
    for (int32_t i = 0; i < n; i++) log_i32(i);
    return n;
}

// Sums 1..n using env.host_add for every addition; logs the result.
EXPORT(sum_via_host) int32_t sum_via_host(int32_t n) {
    int32_t s = 0;
    for (int32_t i = 1; i <= n; i++) s = host_add(s, i);
    log_i32(s);
    return s;
}

EXPORT(greet) void greet(void) { log_str(hello, (int32_t)(sizeof hello - 1)); }
