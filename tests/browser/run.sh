#!/usr/bin/env bash
# Browser end-to-end tests of the demo page against a running gateway: Debian's Chromium driven by
# playwright-core over the DevTools protocol, killed with SIGKILL and started again on the same
# profile. Usage:
#   RECOVERY_BASE_URL=http://127.0.0.1:3000 bash tests/browser/run.sh [test files...]
# The gateway must serve the demo page, the recovery API (with a provisioned table and bucket,
# and the page's origin in ALLOWED_ORIGINS) and the development speech endpoint.
# Knobs: KILL_LOOP_RUNS (50), KILL_LOOP_SEED, HEADFUL=1, KEEP_PROFILES=1, CHROMIUM.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
cd "$here"

: "${RECOVERY_BASE_URL:?set RECOVERY_BASE_URL to the gateway, e.g. http://127.0.0.1:3000}"
export RECOVERY_BASE_URL
chromium="${CHROMIUM:-/usr/bin/chromium}"
[ -x "$chromium" ] || { echo "the browser tests need Chromium at $chromium (Debian: apt-get install chromium)" >&2; exit 1; }
[ -d node_modules/playwright-core ] || { echo "tests/browser: run 'npm ci' here first (scripts/test.sh does)" >&2; exit 1; }
status=$(curl -s -o /dev/null -w '%{http_code}' -X POST "$RECOVERY_BASE_URL/v1/audio/speech" \
  -H 'content-type: application/json' -d '{"input":"ready?"}' || true)
[ "$status" = 200 ] || { echo "no development speech endpoint at $RECOVERY_BASE_URL (HTTP $status); is DEV_SPEECH on?" >&2; exit 1; }

if [ $# -eq 0 ]; then set -- personas.test.mjs recovery.test.mjs kill-loop.test.mjs; fi
echo "==> browser end-to-end tests against $RECOVERY_BASE_URL ($("$chromium" --version 2>/dev/null | head -n 1))"
node --test --test-concurrency=1 --test-reporter=spec "$@"
