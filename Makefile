# spinscope: `make up` runs the app, `make test` passes every test.
CARGO ?= cargo
LISTEN ?= 127.0.0.1:3000
STATE_DIR ?= .spin
COMPONENTS := -p gateway -p gateway-otel -p metrics -p audit -p health -p ready -p status -p text-tools -p calc
TEST_COMPONENTS := -p probe -p faults -p conformance -p hop -p many-tools
HOST := target/release/spinscope-host
# The native crates are always built together, so cargo resolves one feature
# set for their shared dependencies (wasmtime above all) and never builds
# them twice: `make up`, `make test` and `make bench` reuse each other's work.
NATIVE := -p spinscope -p spinscope-testkit -p spinscope-sqlite -p spinscope-variables -p spinscope-audit -p spinscope-slo -p spinscope-host -p spinscope-e2e
# The example tools' pure modules have native unit tests; their crates are
# cdylibs for Spin, so only their test harnesses are built natively.
TOOL_UNIT_TESTS := -p calc -p text-tools -p conformance
# The Spin CLI: SPIN_BIN (a path or a command name), else `spin` on PATH;
# empty when there is none. Made absolute, since the tests run elsewhere.
SPIN_BIN ?= $(shell command -v spin 2>/dev/null)
SPIN := $(if $(findstring /,$(SPIN_BIN)),$(abspath $(SPIN_BIN)),$(if $(SPIN_BIN),$(shell command -v $(SPIN_BIN) 2>/dev/null)))

## The nested-trace mode (docs/traces.md): spin-otel.toml (the gateway built as
## gateway_otel.wasm) on real Spin with --experimental-wasi-otel, Spin's exporter
## sending every span, the gateway's among them, to OTEL_EXPORTER_OTLP_ENDPOINT
## (default http://127.0.0.1:4318, OTLP/HTTP protobuf). Spin 4 only: the local host
## does not offer wasi:otel.
OTEL_EXPORTER_OTLP_ENDPOINT ?= http://127.0.0.1:4318
OTEL_EXPORTER_OTLP_PROTOCOL ?= http/protobuf

.PHONY: up up-otel store-prep runtime-config build components host test lint deps bench bench-slow-disk profile slo clean conformance

## Runs the app: with Spin (SPIN_BIN, else `spin` on PATH), else with the local host.
## The default store is put in write-ahead logging mode first (store-prep), and
## the variables are given to Spin in a static provider (runtime-config).
up: store-prep runtime-config
	@if [ -n "$(SPIN)" ] && [ -x "$(SPIN)" ]; then \
		"$(SPIN)" up --build --listen $(LISTEN) --state-dir $(STATE_DIR) --runtime-config-file $(RUNTIME_CONFIG); \
	else \
		$(MAKE) --no-print-directory components host && \
		echo "No Spin (SPIN_BIN or 'spin' on PATH): serving spin.toml with the local host ($(HOST))" && \
		$(HOST) up -f spin.toml --listen $(LISTEN) --state-dir $(STATE_DIR) --runtime-config-file $(RUNTIME_CONFIG); \
	fi

up-otel: store-prep runtime-config spin-otel.toml
	@if [ -z "$(SPIN)" ] || [ ! -x "$(SPIN)" ]; then \
		echo "make up-otel needs Spin 4 (SPIN_BIN or 'spin' on PATH): the local host does not offer wasi:otel; 'make up' runs the default build anywhere"; \
		exit 1; \
	fi
	OTEL_EXPORTER_OTLP_ENDPOINT=$(OTEL_EXPORTER_OTLP_ENDPOINT) OTEL_EXPORTER_OTLP_PROTOCOL=$(OTEL_EXPORTER_OTLP_PROTOCOL) \
		"$(SPIN)" up --build -f spin-otel.toml --experimental-wasi-otel --listen $(LISTEN) --state-dir $(STATE_DIR) --runtime-config-file $(RUNTIME_CONFIG)

# spin-otel.toml is spin.toml with the gateway's source and build swapped for
# the nested-trace build's; tests/e2e/tests/traces_nested.rs fails when the
# committed file is not this rule's output.
spin-otel.toml: spin.toml
	{ echo '# GENERATED from spin.toml by `make spin-otel.toml`: do not edit. The nested-trace'; \
	  echo '# mode (docs/traces.md): the gateway built with wasi:otel (gateway_otel.wasm), run'; \
	  echo '# by `make up-otel` (spin up -f spin-otel.toml --experimental-wasi-otel).'; \
	  sed -e 's|component/gateway.wasm"|component/gateway_otel.wasm"|' -e 's|--profile component -p gateway"|--profile component -p gateway-otel"|' spin.toml; } > $@.tmp && mv $@.tmp $@

# Spin opens its default key-value store (one SQLite file) with a rollback
# journal: several fsyncs per write. Write-ahead logging, a property of the
# file, makes it one; docs/deployment.md. Without it the app still runs, slower.
store-prep:
	@$(CARGO) build --release --quiet -p spinscope-sqlite && target/release/spinscope-sqlite prepare --state-dir $(STATE_DIR) \
		|| echo "make up: the store was not prepared (above); Spin keeps its default journal, at a lower write rate"

# Spin asks its environment provider for each variable on every read, with a
# thread hand-off each (0.8 ms per gateway call on the bench machine); a static
# provider answers from a map. spinscope-variables writes one with the values
# that provider would give now (SPIN_VARIABLE_*, .env, the defaults) after
# SPINSCOPE_RUNTIME_CONFIG, the operator's own file, if set (docs/deployment.md).
RUNTIME_CONFIG ?= $(STATE_DIR)/runtime-config.toml
runtime-config:
	@$(CARGO) build --release --quiet -p spinscope-variables && target/release/spinscope-variables static-provider --manifest spin.toml --out $(RUNTIME_CONFIG)

# The test-only components are built with the others (one cargo call, one
# feature resolution): they are small, and nothing is built twice.
components:
	@rustup target list --installed 2>/dev/null | grep -qx wasm32-wasip2 || rustup target add wasm32-wasip2
	$(CARGO) build --profile component --target wasm32-wasip2 $(COMPONENTS) $(TEST_COMPONENTS)

host:
	$(CARGO) build --release $(NATIVE)

build: components host

## Installs what the tests need (wasm target, redis-server, prometheus, chromium), builds, tests.
deps:
	@bash scripts/install-deps.sh

# The e2e suite runs on the local host, then again on real Spin when there
# is a Spin binary (same test binaries: `--test '*'` selects only the suite).
test: deps build lint
	SPINSCOPE_E2E_HOST=local $(CARGO) test --release $(NATIVE)
	$(CARGO) test --release --lib $(TOOL_UNIT_TESTS)
	@if [ -n "$(SPIN)" ] && [ -x "$(SPIN)" ]; then \
		echo "SPINSCOPE_E2E_HOST=spin SPIN_BIN=$(SPIN) $(CARGO) test --release $(NATIVE) --test '*'"; \
		SPINSCOPE_E2E_HOST=spin SPIN_BIN="$(SPIN)" $(CARGO) test --release $(NATIVE) --test '*'; \
	else \
		echo "No Spin binary (set SPIN_BIN or put spin on PATH): the e2e suite's Spin leg is skipped"; \
	fi

## The official MCP conformance suite (pinned, tests/e2e/conformance/) through the
## gateway with the conformance component behind it, both requirement sets, with
## its table: on the local host, then on real Spin when there is one. `make test`
## runs the same test (tests/e2e/tests/conformance.rs) with the rest.
conformance: deps build
	SPINSCOPE_E2E_HOST=local $(CARGO) test --release -p spinscope-e2e --test conformance -- --nocapture
	@if [ -n "$(SPIN)" ] && [ -x "$(SPIN)" ]; then \
		SPINSCOPE_E2E_HOST=spin SPIN_BIN="$(SPIN)" $(CARGO) test --release -p spinscope-e2e --test conformance -- --nocapture; \
	else \
		echo "No Spin binary (set SPIN_BIN or put spin on PATH): the conformance suite's Spin leg is skipped"; \
	fi

## Formatting and lints, native and wasm32, warnings denied.
lint:
	$(CARGO) fmt --all --check
	$(CARGO) clippy --release $(NATIVE) -p spinscope-fsync-delay --all-targets -- -D warnings
	$(CARGO) clippy --release --target wasm32-wasip2 $(COMPONENTS) $(TEST_COMPONENTS) -- -D warnings

# Every table, then the SQLite tables again on a slower disk.
bench: deps build
	target/release/bench
	$(MAKE) --no-print-directory bench-slow-disk

# The SQLite tables on an emulated disk whose fsync takes FSYNC_MS longer
# (docs/benchmark.md): on a fast disk the gateway's CPU can run out before
# the store's serialized commits do, and the SQLite goal is about the latter.
FSYNC_MS ?= 2.5
bench-slow-disk: deps build
	$(CARGO) build --release -p spinscope-fsync-delay
	SPINSCOPE_BENCH_FSYNC_MS=$(FSYNC_MS) SPINSCOPE_BENCH_ONLY=sqlite target/release/bench

## A guest profile of one component over PROFILE_REQUESTS requests on the
## local host (wasmtime's GuestProfiler), driven by tools/call word_count:
## target/profile/<component>.profile.json, for https://profiler.firefox.com
## (docs/benchmark.md, "Profiling a component"). E.g.
## `make profile PROFILE_COMPONENT=text-tools PROFILE_REQUESTS=5000`.
PROFILE_COMPONENT ?= gateway
PROFILE_REQUESTS ?= 2000
profile: build
	PROFILE_COMPONENT=$(PROFILE_COMPONENT) PROFILE_REQUESTS=$(PROFILE_REQUESTS) target/release/profile

## Renders the SLO rules (docs/slo.md) into SLO_OUT; with no SLO_ARGS, the
## shipped ops/prometheus/slo.yml (its defaults): e.g.
## `make slo SLO_ARGS="--availability 99.5 --latency 0.5s" SLO_OUT=my-slo.yml`.
SLO_ARGS ?=
SLO_OUT ?= ops/prometheus/slo.yml
slo:
	$(CARGO) build --release --quiet -p spinscope-slo
	target/release/spinscope-slo $(SLO_ARGS) > $(SLO_OUT).tmp && mv $(SLO_OUT).tmp $(SLO_OUT) || { rm -f $(SLO_OUT).tmp; exit 1; }

clean:
	$(CARGO) clean
