# spinscope: `make up` runs the app, `make test` passes every test.
CARGO ?= cargo
LISTEN ?= 127.0.0.1:3000
COMPONENTS := -p gateway -p metrics -p health -p ready -p text-tools -p calc
TEST_COMPONENTS := -p probe -p faults
HOST := target/release/spinscope-host

.PHONY: up build components test-components host test deps bench clean

## Runs the app: with Spin when `spin` is on PATH, else with the local host.
up:
	@if command -v spin >/dev/null 2>&1; then \
		spin up --build --listen $(LISTEN); \
	else \
		$(MAKE) --no-print-directory components host && \
		echo "No 'spin' on PATH: serving spin.toml with the local host ($(HOST))" && \
		$(HOST) up -f spin.toml --listen $(LISTEN); \
	fi

components:
	rustup target add wasm32-wasip2 >/dev/null 2>&1 || true
	$(CARGO) build --release --target wasm32-wasip2 $(COMPONENTS)

test-components:
	$(CARGO) build --release --target wasm32-wasip2 $(COMPONENTS) $(TEST_COMPONENTS)

host:
	$(CARGO) build --release -p spinscope-host

build: test-components host

## Installs what the tests need (wasm target, redis-server, prometheus), builds, tests.
deps:
	@bash scripts/install-deps.sh

test: deps build
	$(CARGO) test --release -p spinscope -p spinscope-host -p spinscope-e2e

bench: deps build
	$(CARGO) run --release -p spinscope-e2e --bin bench

clean:
	$(CARGO) clean
