#!/usr/bin/env bash
# `make run`: installs what is missing, starts the emulators, provisions the table and bucket from
# template.yaml, and serves the API and the demo page on http://127.0.0.1:3000 until Ctrl-C, which
# stops everything this script started.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"

export GATEWAY_PORT="${GATEWAY_PORT:-3000}" S3_PORT="${S3_PORT:-4566}" DYNAMODB_PORT="${DYNAMODB_PORT:-8000}"
state="$root/.state/run"

# shellcheck source=packages.sh
source scripts/packages.sh
ensure_packages "${RUN_PACKAGES[@]}"
want_packages "${RUN_OPTIONAL_PACKAGES[@]}"
[ "${LOCAL_AWS:-host}" = docker ] || bash localstack/setup.sh
echo "==> building the local gateway"
cargo build --locked --quiet -p recovery-infra --bins
# The demo page imports the browser client's package, and the React example (served at /react/)
# bundles it: each is built again when a source is newer than it (after a pull, or an edit).
stale() { # stale OUTPUT SOURCE...: OUTPUT is missing or older than a file under SOURCE...
  [ ! -f "$1" ] || [ -n "$(find "${@:2}" -newer "$1" -type f -not -path '*/node_modules/*' -print -quit)" ]
}
client_sources=(client/src client/Cargo.toml client/scripts/build.sh Cargo.lock)
if stale client/pkg/chatterbox_recovery_client_bg.wasm "${client_sources[@]}"; then
  bash client/scripts/build.sh
fi
# The package's JS layer, compiled from client/ts/ into client/js/ (build.sh above compiles it too).
if stale client/js/index.js client/ts client/scripts/build-js.sh; then
  bash client/scripts/build-js.sh
fi
if stale client/examples/react/dist/index.html client/pkg client/js \
  client/examples/react/{src,index.html,package-lock.json,vite.config.ts}; then
  bash client/scripts/example.sh
fi

# shellcheck source=../localstack/emulators.sh
source localstack/emulators.sh
# shellcheck source=local-env.sh
source scripts/local-env.sh
export TABLE_NAME="${TABLE_NAME:-chatterbox-recovery-tokens}" BUCKET_NAME="${BUCKET_NAME:-chatterbox-recovery-audio}"
# The app's origins, one list for the API's CORS (the gateway) and the bucket's (provision), e.g.
# ALLOWED_ORIGINS=http://127.0.0.1:4321,http://127.0.0.1:3000 make run (README, "Cross-origin").
export ALLOWED_ORIGINS="${ALLOWED_ORIGINS:-http://127.0.0.1:$GATEWAY_PORT,http://localhost:$GATEWAY_PORT}"
export GATEWAY_ADDR="127.0.0.1:$GATEWAY_PORT"

for port in "$GATEWAY_PORT" "$S3_PORT" "$DYNAMODB_PORT"; do
  if curl -s -o /dev/null --max-time 1 "http://127.0.0.1:$port"; then
    echo "port $port on 127.0.0.1 is already in use (another make run?); set GATEWAY_PORT, S3_PORT or DYNAMODB_PORT" >&2
    exit 1
  fi
done

rm -rf "$state" && mkdir -p "$state"
gateway_pid=""
cleanup() {
  trap - EXIT INT TERM
  echo; echo "==> stopping"
  [ -z "$gateway_pid" ] || kill -TERM "$gateway_pid" 2>/dev/null || true
  stop_emulators "$state"
  wait 2>/dev/null || true
}
trap cleanup EXIT
trap 'exit 130' INT TERM

if [ "${LOCAL_AWS:-host}" != docker ]; then
  if can_isolate_dynamodb; then export ISOLATE_DYNAMODB=1; else
    echo "note: socat/unshare unavailable, DynamoDB Local will listen on every interface" >&2
  fi
fi
start_emulators "$state"
echo "==> provisioning $TABLE_NAME and $BUCKET_NAME from template.yaml"
target/debug/provision
echo "==> serving the API and demo on http://127.0.0.1:$GATEWAY_PORT (Ctrl-C stops everything)"
# In the background and waited for, so that a signal to this script runs the cleanup at once.
target/debug/local-gateway &
gateway_pid=$!
wait "$gateway_pid"
