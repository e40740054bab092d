#!/usr/bin/env bash
# The test suite proper; scripts/test.sh runs it (in a private network namespace where it can).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"

# shellcheck source=../localstack/emulators.sh
source localstack/emulators.sh
if [ "${RECOVERY_TEST_NETNS:-0}" = 1 ]; then
  ip link set lo up
  # Nothing can be downloaded in here; scripts/test.sh fetched everything.
  export CARGO_NET_OFFLINE=true
  export S3_PORT="${TEST_S3_PORT:-4566}" DYNAMODB_PORT="${TEST_DYNAMODB_PORT:-8000}"
  export GATEWAY_PORT="${TEST_GATEWAY_PORT:-3000}"
else
  export S3_PORT="${TEST_S3_PORT:-$(free_port)}" DYNAMODB_PORT="${TEST_DYNAMODB_PORT:-$(free_port)}"
  export GATEWAY_PORT="${TEST_GATEWAY_PORT:-$(free_port)}"
fi
# The origin of wasm-bindgen-test's page in the client's server-path tests (client/scripts/test.sh).
client_test_origin="http://127.0.0.1:8765"

# The emulators' working directories, logs and pids: under .state/, like make run's, never tracked.
mkdir -p "$root/.state"
state="$(mktemp -d "$root/.state/test.XXXXXX")"
gateway_pid=""
cleanup() {
  [ -z "$gateway_pid" ] || kill -TERM "$gateway_pid" 2>/dev/null || true
  stop_emulators "$state"; sleep 0.5; rm -rf "$state"
}
trap cleanup EXIT

start_emulators "$state"

# shellcheck source=local-env.sh
source scripts/local-env.sh
echo "==> cargo test (unit and end-to-end)"
cargo test --locked --workspace
cargo test --locked -p recovery-e2e --test e2e -- --ignored  # load and fault: freezes the emulators, so alone

echo "==> the browser client's tests, with its server path against a local gateway on :$GATEWAY_PORT"
export TABLE_NAME=client-test-tokens BUCKET_NAME=client-test-audio
# The demo page, served by the gateway itself, is the browser end-to-end tests' origin; :8766 and
# :8767 are the app on another origin of tests/browser/cross-origin.test.mjs (Chromium, Firefox).
export ALLOWED_ORIGINS="$client_test_origin,http://127.0.0.1:$GATEWAY_PORT,http://127.0.0.1:8766,http://127.0.0.1:8767" GATEWAY_ADDR="127.0.0.1:$GATEWAY_PORT"
target/debug/provision >"$state/provision.log" 2>&1 || { cat "$state/provision.log" >&2; exit 1; }
target/debug/local-gateway >"$state/gateway.log" 2>&1 &
gateway_pid=$!
wait_for_http "http://127.0.0.1:$GATEWAY_PORT/api/recovery/health" 30 "the local gateway" "$state/gateway.log"
RECOVERY_API_URL="http://127.0.0.1:$GATEWAY_PORT" bash scripts/schemathesis.sh
target/debug/smoke --api "http://127.0.0.1:$GATEWAY_PORT" --origin "http://127.0.0.1:$GATEWAY_PORT"
RECOVERY_API_URL="http://127.0.0.1:$GATEWAY_PORT" bash client/scripts/test.sh

echo "==> React + Zustand: vitest, strict tsc, the example's build (served at /react/), the npm tarball in a scratch Vite app"
bash client/scripts/check-react.sh

echo "==> browser end-to-end tests of the demo page (Chromium and Firefox side by side) on :$GATEWAY_PORT"
RECOVERY_BASE_URL="http://127.0.0.1:$GATEWAY_PORT" bash "$root/tests/browser/run.sh"
echo "==> the same browser end-to-end tests against the React example at /react/"
RECOVERY_BASE_URL="http://127.0.0.1:$GATEWAY_PORT" DEMO_PATH=/react/ bash "$root/tests/browser/run.sh"
