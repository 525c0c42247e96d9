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

VERSION_MAJOR := 0
VERSION := 0.1.0
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

.PHONY: all lib venv python-package demo test test-swift test-c test-abi test-python \
        test-examples example-c example-swift valgrind-c clean

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
	cp $(SWIFT_LIB) $(LIBDIR)/libhessianlr.so.$(VERSION)
	ln -sf libhessianlr.so.$(VERSION) $(LIBDIR)/libhessianlr.so.$(VERSION_MAJOR)
	ln -sf libhessianlr.so.$(VERSION_MAJOR) $(LIB)

# ---------------------------------------------------------------------------------------------
# Python environment (pinned) and the binding installed into it, with the library beside it.
# ---------------------------------------------------------------------------------------------
venv: $(VENV)/.stamp

$(VENV)/.stamp: $(PYPKG)/requirements.txt $(PYPKG)/pyproject.toml
	test -x $(VPY) || $(PYTHON) -m venv $(VENV)
	$(VPY) -m pip install --disable-pip-version-check -q -r $(PYPKG)/requirements.txt
	$(VPY) -m pip install --disable-pip-version-check -q --no-deps --no-build-isolation -e $(PYPKG)
	touch $@

python-package: $(LIB) venv
	cp -L $(LIB) $(PYPKG)/hessianlr/libhessianlr.so

# ---------------------------------------------------------------------------------------------
# The main job.
# ---------------------------------------------------------------------------------------------
demo: python-package
	cd $(ROOT) && $(VPY) examples/python/train_digits.py --out $(BUILD)/demo

# ---------------------------------------------------------------------------------------------
# Tests.
# ---------------------------------------------------------------------------------------------
test: test-swift test-abi test-c test-python test-examples
	@echo "make test: all suites passed"

test-swift:
	$(SWIFT) build --product hessianlr-replay
	$(SWIFT) test

test-abi: $(LIB)
	tools/check_exports.sh $(LIB) $(HEADER)

C_TESTS := $(patsubst Tests/c/%.c,$(BUILD)/tests/c/%,$(wildcard Tests/c/test_*.c))

$(BUILD)/tests/c/%: Tests/c/%.c Tests/c/check.h $(HEADER) $(LIB)
	mkdir -p $(dir $@)
	$(CC) $(CFLAGS_TEST) -o $@ $< $(LDFLAGS_LIB)

$(BUILD)/tests/c/replay: Tests/determinism/c/replay.c $(HEADER) $(LIB)
	mkdir -p $(dir $@)
	$(CC) $(CFLAGS_TEST) -o $@ $< $(LDFLAGS_LIB)

test-c: $(C_TESTS) $(BUILD)/tests/c/replay
	@st=0; for t in $(C_TESTS); do echo "== $$t"; $$t || st=1; done; \
	  echo "== replay"; Tests/c/replay/run.sh $(BUILD)/tests/c/replay || st=1; exit $$st

# Every C-surface test (and the C example) under valgrind memcheck: zero errors, zero definite
# leaks. The Swift runtime's metadata caches are suppressed (Tests/c/valgrind.supp).
VALGRIND := valgrind -q --error-exitcode=1 --leak-check=full --errors-for-leak-kinds=definite \
            --suppressions=$(ROOT)/Tests/c/valgrind.supp
valgrind-c: $(C_TESTS) $(BUILD)/examples/logreg_c
	@st=0; for t in $(C_TESTS); do echo "== valgrind $$t"; \
	  HLR_TEST_THREADS_SCALE=0.1 $(VALGRIND) $$t >/dev/null || st=1; done; \
	  echo "== valgrind logreg_c"; \
	  $(VALGRIND) $(BUILD)/examples/logreg_c examples/data/breast_cancer.csv >/dev/null || st=1; exit $$st

test-python: python-package $(BUILD)/tests/c/replay
	$(SWIFT) build --product hessianlr-replay
	HLR_REPLAY_C=$(BUILD)/tests/c/replay \
	HLR_REPLAY_SWIFT=$$($(SWIFT) build --show-bin-path)/hessianlr-replay \
	  $(VPY) -m pytest -q $(PYPKG)/tests

test-examples: example-c example-swift

example-c: $(BUILD)/examples/logreg_c
	$(BUILD)/examples/logreg_c examples/data/breast_cancer.csv

$(BUILD)/examples/logreg_c: examples/c/logreg.c $(HEADER) $(LIB)
	mkdir -p $(dir $@)
	$(CC) -std=c11 -Wall -Wextra -O2 -I$(ROOT)/include -o $@ $< $(LDFLAGS_LIB)

example-swift:
	$(SWIFT) run hessianlr-swift-example examples/data/breast_cancer.csv

clean:
	rm -rf .build .build-lib $(BUILD) $(PYPKG)/hessianlr/libhessianlr.so
