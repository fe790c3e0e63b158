// bss_far.c - data-first modules whose .bss reaches far above the last data segment, with no
// __data_end or __heap_base exported: the file's segments end at 0x410, but `tail` lives past
// the 40,000-byte `big`. The layout model proves the .bss from other facts:
//   bss-far-got.wasm    -fPIC objects linked into a plain module: wasm-ld gives every data symbol a
//                       GOT.data.internal.<name> global holding its address (named in the name section)
//   bss-far-dwarf.wasm  -g: DWARF variables with their addresses and sizes
//
// build: $CC --target=wasm32-freestanding -O2 -fno-sanitize=all -g0 -fPIC -fvisibility=default -c bss_far.c -o build/bss_far_got.o
// build: $ZIGLD --no-entry --no-stack-first -z stack-size=8192 build/bss_far_got.o -o bss-far-got.wasm
// build: $CC --target=wasm32-freestanding -O2 -fno-sanitize=all -g -c bss_far.c -o build/bss_far_dwarf.o
// build: $ZIGLD --no-entry --no-stack-first -z stack-size=8192 build/bss_far_dwarf.o -o bss-far-dwarf.wasm

char big[40000];               /* .bss */
int counter;                   /* .bss */
char tail[16];                 /* .bss, after big */
int table[4] = {1, 2, 3, 4};   /* .data */

__attribute__((export_name("get_counter"))) int get_counter(void) { return counter; }
__attribute__((export_name("bump"))) int bump(int by) { counter += by; return counter; }
__attribute__((export_name("big_at"))) int big_at(int i) { big[i % 40000] += 1; return big[i % 40000]; }
__attribute__((export_name("tail_at"))) int tail_at(int i) { tail[i & 15] += 2; return tail[i & 15]; }
__attribute__((export_name("table_at"))) int table_at(int i) { return table[i & 3]; }
