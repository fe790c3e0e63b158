"""wasmem's s: arguments for a wasm-bindgen module against the real thing: node running the string-passing
algorithm of wasm-bindgen's JS glue (malloc for the UTF-16 length, the ASCII prefix, realloc to 3 bytes a unit
for the rest, encodeInto, realloc down to the bytes written; the argument is never freed by JS). The same
calls must give the same pointers, lengths, bytes and final memory."""

from __future__ import annotations

import hashlib
import json
import subprocess
from pathlib import Path

from node_util import node_or_skip

import wasmem

WBG = Path(__file__).resolve().parent / "data" / "wbg_stripped.wasm"
TEXTS = ["hello", "héllo wörld", "", "日本語 and more", "hello"]

SCRIPT = r"""
const fs = require('fs');
const [path, texts] = [process.argv[1], JSON.parse(process.argv[2])];
const inst = new WebAssembly.Instance(new WebAssembly.Module(fs.readFileSync(path)), {});
const w = inst.exports;
const enc = new TextEncoder();
let VLEN = 0;
function pass(arg, malloc, realloc) {
  let len = arg.length;
  let ptr = malloc(len, 1) >>> 0;
  let mem = new Uint8Array(w.memory.buffer);
  let off = 0;
  for (; off < len; off++) { const c = arg.charCodeAt(off); if (c > 0x7f) break; mem[ptr + off] = c; }
  if (off !== len) {
    if (off !== 0) arg = arg.slice(off);
    ptr = realloc(ptr, len, len = off + arg.length * 3, 1) >>> 0;
    off += enc.encodeInto(arg, new Uint8Array(w.memory.buffer).subarray(ptr + off, ptr + len)).written;
    ptr = realloc(ptr, len, off, 1) >>> 0;
  }
  VLEN = off;
  return ptr;
}
const out = [];
for (const t of texts) {
  const p = pass(t, w.__wbindgen_malloc, w.__wbindgen_realloc);
  const [r, n] = w.greet(p, VLEN);
  out.push([p, VLEN, r >>> 0, n, Buffer.from(new Uint8Array(w.memory.buffer, r >>> 0, n)).toString('hex')]);
}
const h = require('crypto').createHash('sha256').update(new Uint8Array(w.memory.buffer)).digest('hex');
process.stdout.write(JSON.stringify({out, h}));
"""


def test_string_arguments_match_the_wasm_bindgen_glue_in_node():
    node = node_or_skip()
    r = subprocess.run([node, "-e", SCRIPT, str(WBG), json.dumps(TEXTS)], capture_output=True, text=True,
                       timeout=60)
    assert r.returncode == 0, r.stderr
    want = json.loads(r.stdout)
    got = []
    with wasmem.open(str(WBG), paint=False) as s:
        for t in TEXTS:
            c = s.call("greet", [f"s:{t}"])
            (a,) = c.allocations
            ptr, n = (v & 0xFFFFFFFF for v in c.results)
            got.append([a.address, a.size, ptr, n, s.read(ptr, n).hex()])
        mem = s.read(0, s.memory_size(0))
    assert got == want["out"]
    assert hashlib.sha256(mem).hexdigest() == want["h"]
