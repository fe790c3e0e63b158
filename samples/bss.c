// bss.c - a data-first module whose .bss is invisible in the file (no __data_end or __heap_base
// exported), so the layout model can only bound the stack from below by the end of .data: the
// estimated stack range covers .bss. `wasmem call` must not paint it (get_counter returned 0xaaaaaaaa
// when it did) and measures the stack by instrumenting the stack pointer instead.
//
// build: $CC --target=wasm32-freestanding -O2 -fno-sanitize=all -g0 -c bss.c -o build/bss.o
// build: $ZIGLD --no-entry --no-stack-first -z stack-size=8192 --export=get_counter --export=bump --export=scratch_sum --export=table_at --export=uses_stack build/bss.o -o bss.wasm

int counter;                   /* .bss */
char scratch[256];             /* .bss */
int table[4] = {1, 2, 3, 4};   /* .data */

int get_counter(void) { return counter; }
int bump(int by) { counter += by; return counter; }
int scratch_sum(void) {
    int s = 0;
    for (int i = 0; i < 256; i++) s += scratch[i];
    return s;
}
int table_at(int i) { return table[i & 3]; }

__attribute__((noinline)) static int fill(volatile char *p, int n) {
    for (int i = 0; i < n; i++) p[i] = (char)i;
    return p[n - 1];
}

// 512 bytes of frame: the stack pointer moves, so instrumentation sees the peak
int uses_stack(int n) {
    volatile char buf[512];
    if (n > 512) n = 512;
    if (n < 1) n = 1;
    return fill(buf, n);
}
