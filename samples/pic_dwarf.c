// pic_dwarf.c - a position-independent side module with DWARF: its variables are located by
// `DW_OP_WASM_location global __memory_base, DW_OP_addr X, DW_OP_plus` (relative to where the loader puts
// the data), its data segment's offset is `global.get __memory_base`, and its pointers are fixed up by
// `__wasm_apply_data_relocs`. wasmem gives __memory_base the value it instantiates with (1024), so
// symbols, inspect, dump and chase agree on the addresses.
//
// build: $CC --target=wasm32-freestanding -O1 -g -fPIC -fno-sanitize=all -c pic_dwarf.c -o build/pic_dwarf.o
// build: $ZIGLD --experimental-pic -shared --no-entry --export=get build/pic_dwarf.o -o pic_dwarf.wasm

int counter = 7;
int table[4] = {1, 2, 3, 4};
struct node { int v; struct node *next; } n2 = {2, 0}, n1 = {1, &n2};

int get(int i) { return table[i & 3] + counter + n1.next->v; }
