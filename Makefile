# spinscope: `make up` runs the app, `make test` passes every test.
CARGO ?= cargo
LISTEN ?= 127.0.0.1:3000
COMPONENTS := -p gateway -p metrics -p health -p ready -p text-tools -p calc
TEST_COMPONENTS := -p probe -p faults
HOST := target/release/spinscope-host
# The native crates are always built together, so cargo resolves one feature
# set for their shared dependencies (wasmtime above all) and never builds
# them twice: `make up`, `make test` and `make bench` reuse each other's work.
NATIVE := -p spinscope -p spinscope-host -p spinscope-e2e
# The example tools' pure modules have native unit tests; their crates are
# cdylibs for Spin, so only their test harnesses are built natively.
TOOL_UNIT_TESTS := -p calc -p text-tools

.PHONY: up build components host test deps bench clean

## Runs the app: with Spin when `spin` is on PATH, else with the local host.
up:
	@if command -v spin >/dev/null 2>&1; then \
		spin up --build --listen $(LISTEN); \
	else \
		$(MAKE) --no-print-directory components host && \
		echo "No 'spin' on PATH: serving spin.toml with the local host ($(HOST))" && \
		$(HOST) up -f spin.toml --listen $(LISTEN); \
	fi

# The test-only components are built with the others (one cargo call, one
# feature resolution): they are small, and nothing is built twice.
components:
	@rustup target list --installed 2>/dev/null | grep -qx wasm32-wasip2 || rustup target add wasm32-wasip2
	$(CARGO) build --release --target wasm32-wasip2 $(COMPONENTS) $(TEST_COMPONENTS)

host:
	$(CARGO) build --release $(NATIVE)

build: components host

## Installs what the tests need (wasm target, redis-server, prometheus), builds, tests.
deps:
	@bash scripts/install-deps.sh

test: deps build
	$(CARGO) test --release $(NATIVE)
	$(CARGO) test --release --lib $(TOOL_UNIT_TESTS)

bench: deps build
	target/release/bench

clean:
	$(CARGO) clean
