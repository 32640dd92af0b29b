# Thin wrapper over CMake.  `make` builds build/sluice; `make test` builds and
# runs every test (normal build, then the unit tests again under ASan+UBSan);
# `make demo` runs the demo; `make bench` runs the benchmarks.
BUILD      ?= build
BUILD_SAN  ?= build-asan
JOBS       ?= $(shell nproc)

.PHONY: all deps build test test-normal test-asan demo bench clean

all: build

deps:
	@scripts/install-deps.sh

build: deps
	@cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo -DSL_WERROR=ON >/dev/null
	@cmake --build $(BUILD) -j $(JOBS)

test: test-normal test-asan

test-normal: build
	cd $(BUILD) && ctest --output-on-failure -j $(JOBS)

test-asan: deps
	@cmake -S . -B $(BUILD_SAN) -DCMAKE_BUILD_TYPE=Debug -DSL_WERROR=ON -DSL_SANITIZE=ON >/dev/null
	@cmake --build $(BUILD_SAN) -j $(JOBS)
	cd $(BUILD_SAN) && ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 \
	  ctest --output-on-failure -j $(JOBS) -L 'unit|crash'

demo: build
	@scripts/demo.sh $(BUILD)/sluice

bench: build
	@scripts/bench.sh $(BUILD)

clean:
	rm -rf $(BUILD) $(BUILD_SAN)
