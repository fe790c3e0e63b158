"""Instantiate modules in the real `node` with a given `new WebAssembly.Memory(...)` for env.memory.

One node process per call: the cases go in as JSON on stdin, one outcome per case comes back, "OK" or
the exception as node prints it ("LinkError: WebAssembly.Instance(): ..."), or "compile ..." when this
node cannot compile the module at all (a feature it does not ship)."""

from __future__ import annotations

import base64
import json
import shutil
import subprocess

import pytest

SCRIPT = r"""
const cases = JSON.parse(require('fs').readFileSync(0, 'utf8'));
const out = [];
for (const c of cases) {
  const bytes = Buffer.from(c.wasm, 'base64');
  let memory;
  try { memory = eval(c.memory); } catch (e) { out.push(e.name + ': ' + e.message); continue; }
  let module;
  try { module = new WebAssembly.Module(bytes); } catch (e) { out.push('compile ' + e.name + ': ' + e.message); continue; }
  const imports = {};
  for (const imp of WebAssembly.Module.imports(module)) {
    const g = c.globals[imp.module + '\0' + imp.name];
    imports[imp.module] = imports[imp.module] || {};
    imports[imp.module][imp.name] = imp.kind === 'memory' ? memory : imp.kind === 'function' ? () => 0
      : imp.kind === 'table' ? new WebAssembly.Table({initial: 16, element: 'anyfunc'})
      : imp.kind === 'global' ? new WebAssembly.Global({value: g[0], mutable: g[1]}, g[0] === 'i64' ? 0n : 0)
      : undefined;
  }
  try { new WebAssembly.Instance(module, imports); out.push('OK'); }
  catch (e) { out.push(e.name + ': ' + e.message); }
}
process.stdout.write(JSON.stringify(out));
"""


def _globals(data: bytes) -> dict:
    from wasmem.parser import WasmModule

    return {f"{i.module}\0{i.name}": [i.type.valtype, i.type.mutable]
            for i in WasmModule.from_bytes(data).imports if i.kind == "global"}


def node_or_skip() -> str:
    node = shutil.which("node")
    if node is None:
        pytest.skip("node is not on PATH: the JavaScript advice cannot be run against V8 here")
    return node


def node_major() -> int:
    out = subprocess.run([node_or_skip(), "--version"], capture_output=True, text=True, check=True).stdout
    return int(out.strip().lstrip("v").split(".")[0])


def instantiate(cases: list[tuple[bytes, str]]) -> list[str]:
    """For each (module bytes, JS memory expression): "OK" or node's error text."""
    node = node_or_skip()
    data = json.dumps([{"wasm": base64.b64encode(b).decode(), "memory": m, "globals": _globals(b)}
                       for b, m in cases])
    r = subprocess.run([node, "-e", SCRIPT], input=data, capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    return json.loads(r.stdout)
