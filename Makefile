# Grape: `make demo` runs the whole pipeline on a small simulated screen; `make test` runs the
# test suite. Both install missing system libraries first.

SWIFT ?= swift
BIN := .build/release/grape
DEMO_DIR ?= demo-output

.PHONY: all deps build release test demo bench bench-compare fuzz clean

all: build

deps:
	@bash scripts/install-deps.sh

build: deps
	$(SWIFT) build

release: deps
	$(SWIFT) build -c release --product grape

test: deps
	bash scripts/check-module-graph.sh
	bash scripts/install-test-deps.sh
	$(SWIFT) build --build-tests
	$(SWIFT) test --skip-build

demo: release
	@bash scripts/demo.sh $(BIN) $(DEMO_DIR)

bench: release
	$(BIN) bench ops
	$(BIN) bench train --preset cpu --steps 10

# Grape against PyTorch CPU on the same networks and step (needs `pip install torch`).
bench-compare: release
	BIN=$(BIN) bash scripts/bench_compare.sh

# The file readers under libFuzzer, FUZZ_SECONDS each (default 60; Evaluation/robustness.md).
fuzz: deps
	bash scripts/fuzz.sh

clean:
	rm -rf .build $(DEMO_DIR)
