# convbook — a thin wrapper over CMake. The two commands of the README:
#   make train    install dependencies, build, train the default model, write its curves
#   make test     install dependencies, build, run the whole test suite (ctest)
# Others: make build | docs | chapter CH=01 | exercise CH=00 | bench | bench-compare | bench-model |
#         bench-blas | fixtures | format | clean

BUILD       ?= build
JOBS        ?= $(shell nproc 2>/dev/null || echo 2)
MODEL       ?= small_cnn
EPOCHS      ?= 15
RUN         ?= runs/$(MODEL)
TRAIN_ARGS  ?=
THREADS     ?= 1 2
CMAKE_FLAGS ?=
ifdef CI
CMAKE_FLAGS += -DCONVBOOK_WERROR=ON
endif

MAKEFLAGS += --no-print-directory

.PHONY: all deps configure build test train docs chapter exercise bench bench-compare bench-model bench-blas fixtures format clean

all: build

deps:
	@scripts/install-deps.sh

configure: deps
	@cmake -S . -B $(BUILD) $(CMAKE_FLAGS) >/dev/null

build: configure
	cmake --build $(BUILD) -j$(JOBS)

test: build
	cd $(BUILD) && ctest --output-on-failure -j$(JOBS)

# Data: --data DIR, else $$CONVBOOK_DATA, else datasets/cifar-10-batches-bin (see
# datasets/download_cifar10.sh), else the small sample bundled in datasets/cifar-10-sample.
train: build
	$(BUILD)/convbook train --model $(MODEL) --epochs $(EPOCHS) --out $(RUN) $(TRAIN_ARGS)

docs: deps
	@mkdir -p $(BUILD)/docs
	doxygen book/Doxyfile
	@ln -sfn /usr/share/javascript/mathjax $(BUILD)/docs/html/mathjax
	@echo "The book: $(BUILD)/docs/html/index.html"

# One chapter: its tests, then its demos.  make chapter CH=01
chapter: build
	@test -n "$(CH)" || { echo "make chapter: give the chapter number, e.g. make chapter CH=01" >&2; exit 2; }
	cd $(BUILD) && ctest --output-on-failure -L ch$(CH)
	@for demo in $(BUILD)/ch$(CH)_demo_*; do [ -x "$$demo" ] || continue; echo "== $$demo"; "$$demo" || exit 1; done

# Check YOUR exercise stubs (exercises/NN_x/exercise.cpp) instead of the book's solutions.
exercise: deps
	@test -n "$(CH)" || { echo "make exercise: give the chapter number, e.g. make exercise CH=00" >&2; exit 2; }
	@cmake -S . -B $(BUILD)-exercises -DCONVBOOK_EXERCISES=stub $(CMAKE_FLAGS) >/dev/null
	cmake --build $(BUILD)-exercises -j$(JOBS) --target exercise_$(CH)
	$(BUILD)-exercises/exercise_$(CH)

# Benchmarks are programs, not tests: every convolution algorithm on the CIFAR ResNet shapes
# (ms and GFLOP/s, forward and forward+backward), then the GEMM.
bench: build
	$(BUILD)/convbook bench conv
	$(BUILD)/convbook bench gemm

# convbook against PyTorch (python3-torch), measured back to back in one run: one table of ratios.
bench-compare: build
	@scripts/install-deps.sh --fixtures
	/usr/bin/python3 tools/bench_compare.py --convbook $(BUILD)/convbook --threads $(THREADS)

# Whole models against PyTorch, back to back: training-step and inference img/s and their ratio.
# BENCH_MODELS="resnet20 small_cnn" picks the models; `convbook bench model --profile` says
# where the time goes.
BENCH_MODELS ?= small_cnn
bench-model: build
	@scripts/install-deps.sh --fixtures
	/usr/bin/python3 tools/bench_compare.py --convbook $(BUILD)/convbook --threads $(THREADS) \
	  $(addprefix --model ,$(BENCH_MODELS))

# convbook's SGEMM against OpenBLAS, back to back in one run (installs OpenBLAS: only this target
# needs it). Debian's OpenBLAS must be told to use its AVX-512 kernels on CPUs it does not know
# (Zen 4); OPENBLAS_NUM_THREADS sizes its thread pool, the program sets the count per row.
bench-blas:
	@scripts/install-deps.sh --bench
	@cmake -S . -B $(BUILD) $(CMAKE_FLAGS) >/dev/null
	cmake --build $(BUILD) -j$(JOBS) --target ch01_bench_gemm_vs_openblas
	OPENBLAS_CORETYPE=SkylakeX OPENBLAS_NUM_THREADS=$(JOBS) \
	  $(BUILD)/ch01_bench_gemm_vs_openblas $(addprefix --threads ,$(THREADS))

# Regenerate the PyTorch fixtures in tests/fixtures (needs python3-torch; the tests do not).
fixtures:
	@scripts/install-deps.sh --fixtures
	@for script in tests/tools/make_*.py; do echo "== $$script"; /usr/bin/python3 "$$script" || exit 1; done

format:
	clang-format -i $$(git ls-files '*.cpp' '*.hpp')

clean:
	rm -rf $(BUILD) $(BUILD)-exercises
