// watchseq.c - the `wasmem watch` demo: a sequence of calls over a linked list whose nodes come from a
// static pool, so a target through a pointer (head->value) lands somewhere else after every push.
//
//   push(v)   takes the next node of the pool and puts it at the head. BUG: the bound check is
//             `> POOL` instead of `>= POOL`, so the fifth push takes pool[4], which is `list.used` and
//             `list.pushes`: it overwrites the counters (`wasmem watch watchseq.wasm list.used --after …`).
//   bump(d)   adds d to the head's value (`wasmem watch watchseq.wasm head->value --after "push 1" --after "bump 5"`).
//   pop()     drops the head.
//
// build: $CC --target=wasm32-freestanding -O1 -fno-sanitize=all -g -c watchseq.c -o build/watchseq.o
// build: $ZIGLD --no-entry build/watchseq.o -o watchseq.wasm

#include <stdint.h>

#define EXPORT(name) __attribute__((export_name(#name)))
#define POOL 4

typedef struct node {
    int32_t value;
    struct node *next;
} node;

struct list {
    node pool[POOL];
    int32_t used;
    int32_t pushes;
};

struct list list;
node *head;

EXPORT(push) int32_t push(int32_t v) {
    if (list.used > POOL)  // BUG: >= POOL; pool[POOL] is list.used and list.pushes
        return -1;
    node *n = &list.pool[list.used];
    n->value = v;
    n->next = head;
    head = n;
    list.used++;
    list.pushes++;
    return list.used;
}

EXPORT(bump) int32_t bump(int32_t d) {
    if (!head)
        return 0;
    head->value += d;
    return head->value;
}

EXPORT(pop) int32_t pop(void) {
    if (!head)
        return 0;
    int32_t v = head->value;
    head = head->next;
    return v;
}

EXPORT(used) int32_t used(void) { return list.used; }
