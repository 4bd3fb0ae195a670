#!/usr/bin/env bash
# Installs what `make test` needs on a fresh machine: the wasm32-wasip2
# target and Debian's redis-server, prometheus (promtool) and chromium (the
# status page's browser test, tests/e2e/tests/status.rs). Idempotent.
set -euo pipefail
rustup target list --installed 2>/dev/null | grep -qx wasm32-wasip2 || rustup target add wasm32-wasip2
# `make lint` (part of `make test`) needs rustfmt and clippy.
cargo fmt --version >/dev/null 2>&1 || rustup component add rustfmt
cargo clippy --version >/dev/null 2>&1 || rustup component add clippy
missing=()
command -v redis-server >/dev/null 2>&1 || missing+=(redis-server)
command -v promtool >/dev/null 2>&1 || missing+=(prometheus)
command -v chromium >/dev/null 2>&1 || missing+=(chromium)
if [ ${#missing[@]} -gt 0 ]; then
  SUDO=""
  [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  # Debian starts the services it installs; the tests run their own.
  (command -v systemctl >/dev/null && $SUDO systemctl stop redis-server prometheus) >/dev/null 2>&1 || true
fi
