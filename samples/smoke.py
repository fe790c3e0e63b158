# ruff: noqa
# (a quick smoke script: star import and one-line statements on purpose)
"""Smoke check of the built samples with wasmtime-py: instantiate each, call the memdemo exports
(make_point through its sret pointer, traps, fuel timeout, data-first overflow), run hello_wasi
with captured stdout/stderr, record imports.wasm host calls. Run: .venv/bin/python samples/smoke.py"""
import struct, zlib, sys, os, tempfile
from wasmtime import *

HERE = os.path.dirname(os.path.abspath(__file__))
def engine(**kw):
    c = Config()
    c.consume_fuel = True
    for k, v in kw.items(): setattr(c, k, v)
    return Engine(c)

def memdemo(name):
    eng = engine()
    store = Store(eng); store.set_fuel(10**10)
    mod = Module.from_file(eng, f"{HERE}/{name}")
    imports = []
    mem = None
    if name == "memdemo-import.wasm":
        mem = Memory(store, MemoryType(Limits(2, None)))
        imports = [mem]
    inst = Instance(store, mod, imports)
    ex = inst.exports(store)
    mem = mem or ex["memory"]
    f = lambda n, *a: ex[n](store, *a)
    p = f("allocate", 16)
    f("make_point", p, 1.0, 2.0)
    pt = struct.unpack("<dd", mem.read(store, p, p + 16))
    d = f("get_data_ptr")
    arr = struct.unpack("<8i", mem.read(store, d, d + 32))
    s = b"hello wasm world"
    q = f("allocate", len(s)); mem.write(store, s, q)
    vowels = f("process_string", q, len(s)); up = mem.read(store, q, q + len(s))
    ck = f("checksum", q, len(s)) & 0xffffffff
    res = dict(point=pt, arr=arr, vowels=vowels, up=bytes(up), ck_ok=ck == zlib.adler32(bytes(up)),
               fib=f("fib_stack", 10), vla=f("sum_vla", 10), al=f("aligned_local", 3),
               apply=[f("apply", i, 5) for i in range(3)], deep5=f("deep", 5),
               list=hex(f("get_list_head")), names=hex(f("get_names")), cfg=hex(f("get_config")))
    for fn, args in [("divide", (1, 0)), ("crash", ()), ("deep", (100000,))]:
        try:
            f(fn, *args); res[fn] = "no trap"
        except Trap as t:
            res[fn] = str(t.trap_code)
    # fresh instance: a stack overflow leaves SP broken
    store = Store(eng); store.set_fuel(10**6)
    if mem is not None and name == "memdemo-import.wasm":
        imports = [Memory(store, MemoryType(Limits(2, None)))]
    inst = Instance(store, mod, imports); ex = inst.exports(store)
    f = lambda n, *a: ex[n](store, *a)
    try:
        f("spin"); res["spin"] = "returned?!"
    except Trap as t:
        res["spin"] = str(t.trap_code)
    print(name, res)
    if name == "memdemo-datafirst.wasm":
        for n in (7, 8, 9):
            store = Store(eng); store.set_fuel(10**9)
            inst = Instance(store, mod, []); ex = inst.exports(store); m = ex["memory"]
            try:
                r = ex["deep"](store, n)
            except Trap as t:
                r = str(t.trap_code)
            d = ex["get_data_ptr"](store)
            print("   datafirst deep(%d) ->" % n, r, "data_array now", struct.unpack("<8i", m.read(store, d, d + 32)))

for n in sorted(os.listdir(HERE)):
    if n.startswith("memdemo") and n.endswith(".wasm"):
        memdemo(n)

# hello_wasi
eng = engine(); store = Store(eng); store.set_fuel(10**10)
linker = Linker(eng); linker.define_wasi()
wc = WasiConfig(); td = tempfile.mkdtemp()
wc.stdout_file = f"{td}/out"; wc.stderr_file = f"{td}/err"; store.set_wasi(wc)
inst = linker.instantiate(store, Module.from_file(eng, f"{HERE}/hello_wasi.wasm"))
try:
    inst.exports(store)["_start"](store)
except ExitTrap as e:
    print("exit", e.code)
print("hello_wasi add", inst.exports(store)["add"](store, 2, 3), "greet", inst.exports(store)["greet"](store, 7))
print("stdout", open(f"{td}/out").read().encode(), "stderr", open(f"{td}/err").read().encode())

# imports
eng = engine(); store = Store(eng); store.set_fuel(10**10)
log = []
linker = Linker(eng)
mod = Module.from_file(eng, f"{HERE}/imports.wasm")
i32 = ValType.i32()
linker.define_func("env", "log_i32", FuncType([i32], []), lambda v: log.append(("log_i32", v)))
linker.define_func("env", "host_add", FuncType([i32, i32], [i32]), lambda a, b: (log.append(("host_add", a, b)), a + b)[1])
memref = {}
def log_str(caller, p, n):
    log.append(("log_str", caller["memory"].read(caller, p, p + n)))
linker.define_func("env", "log_str", FuncType([i32, i32], []), log_str, access_caller=True)
inst = linker.instantiate(store, mod)
ex = inst.exports(store)
print("imports run", ex["run"](store, 3), "sum", ex["sum_via_host"](store, 4)); ex["greet"](store)
print(log)

# WAT modules
def inst_wat(name, imports=lambda s: [], **cfg):
    eng = engine(**cfg); store = Store(eng); store.set_fuel(10**8)
    try:
        mod = Module.from_file(eng, f"{HERE}/{name}.wasm")
        inst = Instance(store, mod, imports(store))
        print(name, "instantiated OK")
        return store, inst
    except Exception as e:
        print(name, "FAILED", str(e).splitlines()[0])
        return None, None

inst_wat("nomemory"); inst_wat("memory64", wasm_memory64=True); inst_wat("twomemories", wasm_multi_memory=True)
s, i = inst_wat("shared", wasm_threads=True, shared_memory=True)
if i:
    print("shared load(1024) =", hex(i.exports(s)["load"](s, 1024)), "(0x72616873 = b\"shar\")")
inst_wat("renamed"); inst_wat("asc_like")
inst_wat("passive", lambda s: [Global(s, GlobalType(ValType.i32(), False), Val.i32(512)), Memory(s, MemoryType(Limits(1, None)))])
def gojs(s):
    return [Func(s, FuncType([ValType.i32()], []), lambda sp: None) for _ in range(4)]
inst_wat("go_like", gojs)
def pic(s):
    return [Memory(s, MemoryType(Limits(1, None))), Table(s, TableType(ValType.funcref(), Limits(1, None)), None),
            Global(s, GlobalType(ValType.i32(), True), Val.i32(65536)),
            Global(s, GlobalType(ValType.i32(), False), Val.i32(1024)),
            Global(s, GlobalType(ValType.i32(), False), Val.i32(0))]
s, i = inst_wat("pic", pic)
if i: print("pic framed(5) =", i.exports(s)["framed"](s, 5), "data_addr", i.exports(s)["data_addr"](s))
s, i = inst_wat("tags")
if i is None:
    s, i = inst_wat("tags", wasm_exceptions=True) if hasattr(Config, "wasm_exceptions") else (None, None)
if i: print("tags call_current", i.exports(s)["call_current"](s))
