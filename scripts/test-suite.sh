#!/usr/bin/env bash
# The test suite proper; scripts/test.sh runs it (in a private network namespace where it can).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"

free_port() { python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
if [ "${RECOVERY_TEST_NETNS:-0}" = 1 ]; then
  ip link set lo up
  export S3_PORT="${TEST_S3_PORT:-4566}" DYNAMODB_PORT="${TEST_DYNAMODB_PORT:-8000}"
else
  export S3_PORT="${TEST_S3_PORT:-$(free_port)}" DYNAMODB_PORT="${TEST_DYNAMODB_PORT:-$(free_port)}"
fi

state="$(mktemp -d /tmp/chatterbox-recovery-test.XXXXXX)"
# shellcheck source=../localstack/emulators.sh
source localstack/emulators.sh
cleanup() { stop_emulators "$state"; sleep 0.5; rm -rf "$state"; }
trap cleanup EXIT

echo "==> starting LocalStack (S3) on 127.0.0.1:$S3_PORT and DynamoDB Local on 127.0.0.1:$DYNAMODB_PORT"
start_s3 "$S3_PORT" "$state" &
s3_starting=$!
start_dynamodb "$DYNAMODB_PORT" "$state"
wait "$s3_starting"

# shellcheck source=local-env.sh
source scripts/local-env.sh
echo "==> cargo test (unit and end-to-end)"
cargo test --offline --locked --workspace
