#!/usr/bin/env bash
# Runs the pinned MCP conformance suite (tests/e2e/conformance/package.json,
# installed by scripts/install-deps.sh under target/conformance) against an
# MCP endpoint, for each requirement set named (default: 2026-07-28 and
# 2025-11-25), with the expected-failures file of tests/e2e/conformance/,
# and prints each set's summary table. Exits non-zero when a scenario fails
# that the file does not list, or one it lists passes.
#   scripts/conformance.sh http://127.0.0.1:3000/mcp [REVISION...]
set -uo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
url="${1:?usage: scripts/conformance.sh URL [REVISION...]}"
shift
revisions=("$@")
[ ${#revisions[@]} -eq 0 ] && revisions=(2026-07-28 2025-11-25)
conf="$root/target/conformance"
cli="$conf/suite/node_modules/@modelcontextprotocol/conformance/dist/index.js"
if [ ! -x "$conf/node" ] || [ ! -f "$cli" ]; then
  echo "conformance: the suite is not installed under $conf: run scripts/install-deps.sh (make deps)" >&2
  exit 2
fi
status=0
for revision in "${revisions[@]}"; do
  out="$conf/results/$revision"
  rm -rf "$out"
  mkdir -p "$out"
  echo "== MCP conformance suite, --requirements $revision, against $url"
  # The suite prints every scenario's checks, then the summary: keep the
  # whole log beside the results, print the summary.
  (cd "$conf" && ./node "$cli" server --url "$url" --requirements "$revision" \
    --expected-failures "$root/tests/e2e/conformance/expected-failures.yaml" -o "$out") >"$out/log.txt" 2>&1
  rc=$?
  sed -n '/=== SUMMARY ===/,$p' "$out/log.txt"
  echo "== --requirements $revision: exit $rc (log: $out/log.txt)"
  [ $rc -ne 0 ] && status=1
done
exit $status
