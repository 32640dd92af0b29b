# Thin wrapper over CMake.  `make` builds build/sluice; `make test` builds and
# runs every test (normal build, then the unit tests again under ASan+UBSan);
# `make demo` runs the demo; `make bench` runs the benchmarks (`make
# bench-report` writes them into docs/benchmarks.md); `make fuzz`
# fuzzes the broker's request decoder, then the DSL, each for $(FUZZ_SECONDS) seconds.
BUILD      ?= build
BUILD_SAN  ?= build-asan
BUILD_FUZZ ?= build-fuzz
JOBS       ?= $(shell nproc)
FUZZ_SECONDS ?= 60

.PHONY: all deps build test test-normal test-asan demo bench bench-report fuzz clean

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

bench:
	@scripts/install-deps.sh bench
	@$(MAKE) --no-print-directory build
	@scripts/bench.sh $(BUILD)

# docs/benchmarks.md and its plot from the last `make bench` (run first when
# $(BUILD)/bench-results has no results yet).
bench-report:
	@[ -f $(BUILD)/bench-results/bench.txt ] || $(MAKE) --no-print-directory bench
	@scripts/install-deps.sh bench
	@/usr/bin/python3 scripts/bench_report.py $(BUILD)/bench-results docs

# clang + libFuzzer, everything instrumented (ASan+UBSan).  New inputs go to
# $(BUILD_FUZZ)/corpus and corpus-dsl (the committed fuzz/corpus/* are only
# read), crashes to $(BUILD_FUZZ)/artifacts and artifacts-dsl.  fuzz/README.md
# says how to add findings.
fuzz:
	@scripts/install-deps.sh fuzz
	@cmake -S . -B $(BUILD_FUZZ) -DCMAKE_C_COMPILER=clang -DCMAKE_BUILD_TYPE=RelWithDebInfo \
	  -DSL_WERROR=ON -DSL_FUZZ=ON >/dev/null
	@cmake --build $(BUILD_FUZZ) -j $(JOBS) --target fuzz_request fuzz_dsl
	@mkdir -p $(BUILD_FUZZ)/corpus $(BUILD_FUZZ)/artifacts $(BUILD_FUZZ)/corpus-dsl $(BUILD_FUZZ)/artifacts-dsl
	$(BUILD_FUZZ)/fuzz/fuzz_request -max_total_time=$(FUZZ_SECONDS) -timeout=10 -max_len=65536 \
	  -print_final_stats=1 -artifact_prefix=$(BUILD_FUZZ)/artifacts/ $(BUILD_FUZZ)/corpus fuzz/corpus/request
	$(BUILD_FUZZ)/fuzz/fuzz_dsl -max_total_time=$(FUZZ_SECONDS) -timeout=10 -max_len=65536 \
	  -print_final_stats=1 -artifact_prefix=$(BUILD_FUZZ)/artifacts-dsl/ $(BUILD_FUZZ)/corpus-dsl fuzz/corpus/dsl

clean:
	rm -rf $(BUILD) $(BUILD_SAN) $(BUILD_FUZZ)
