#!/usr/bin/env bash
# Browser end-to-end tests of the demo page against a running gateway, in Debian's Chromium
# (playwright-core over the DevTools protocol) and Debian's Firefox ESR (puppeteer-core over
# WebDriver BiDi), side by side: one suite per browser, both at once. Each browser is killed with
# SIGKILL and started again on the same profile. Usage:
#   RECOVERY_BASE_URL=http://127.0.0.1:3000 bash tests/browser/run.sh [test files...]
# The gateway must serve the demo page, the recovery API (with a provisioned table and bucket,
# and the page's origin in ALLOWED_ORIGINS) and the development speech endpoint. jwt.test.mjs
# starts a second gateway (target/debug/local-gateway, or LOCAL_GATEWAY) in JWT mode with this
# environment (the emulators' endpoints, TABLE_NAME, BUCKET_NAME), as scripts/test-suite.sh sets it.
# Knobs: E2E_BROWSERS ("chromium firefox"), DEMO_PATH (/; /react/ for the React example),
# KILL_LOOP_RUNS (50), KILL_LOOP_SEED, HEADFUL=1, KEEP_PROFILES=1, CHROMIUM, FIREFOX.
# The server-copy tests (copy*.test.mjs) also start gateways of their own: one in JWT mode, and one
# per browser on :8766/:8767 (FROZEN_STORAGE_PORT) whose object storage they freeze; the copy kill
# loop's knobs are COPY_KILL_RUNS (6) and COPY_KILL_MS (6000).
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
cd "$here"

: "${RECOVERY_BASE_URL:?set RECOVERY_BASE_URL to the gateway, e.g. http://127.0.0.1:3000}"
export RECOVERY_BASE_URL DEMO_PATH="${DEMO_PATH:-/}"
read -r -a browsers <<<"${E2E_BROWSERS:-chromium firefox}"
for browser in "${browsers[@]}"; do
  case $browser in
    chromium) exe="${CHROMIUM:-/usr/bin/chromium}" pkg=chromium ;;
    firefox) exe="${FIREFOX:-/usr/bin/firefox-esr}" pkg=firefox-esr ;;
    *) echo "E2E_BROWSERS: unknown browser '$browser' (chromium, firefox)" >&2; exit 1 ;;
  esac
  [ -x "$exe" ] || { echo "the browser tests need $browser at $exe (Debian: apt-get install $pkg)" >&2; exit 1; }
done
for module in playwright-core puppeteer-core @puppeteer/browsers; do
  [ -d "node_modules/$module" ] || { echo "tests/browser: run 'npm ci' here first (scripts/test.sh does)" >&2; exit 1; }
done
status=$(curl -s -o /dev/null -w '%{http_code}' -X POST "$RECOVERY_BASE_URL/v1/audio/speech" \
  -H 'content-type: application/json' -d '{"input":"ready?"}' || true)
[ "$status" = 200 ] || { echo "no development speech endpoint at $RECOVERY_BASE_URL (HTTP $status); is DEV_SPEECH on?" >&2; exit 1; }
page=$(curl -s -o /dev/null -w '%{http_code}' "${RECOVERY_BASE_URL%/}$DEMO_PATH" || true)
[ "$page" = 200 ] || { echo "no page at ${RECOVERY_BASE_URL%/}$DEMO_PATH (HTTP $page)" >&2; exit 1; }

if [ $# -eq 0 ]; then
  set -- personas.test.mjs hint.test.mjs writer.test.mjs returning.test.mjs recovery.test.mjs hostile.test.mjs jwt.test.mjs cross-origin.test.mjs \
    copy.test.mjs copy-purge.test.mjs copy-kill-loop.test.mjs kill-loop.test.mjs
fi

version() {
  case $1 in
    chromium) "${CHROMIUM:-/usr/bin/chromium}" --version 2>/dev/null | head -n 1 ;;
    firefox) "${FIREFOX:-/usr/bin/firefox-esr}" --version 2>/dev/null | head -n 1 ;;
  esac
}

# One browser's suite; its output lines prefixed with the browser's name, its wall time at the end.
suite() {
  local browser=$1 start=$SECONDS rc=0
  shift
  E2E_BROWSER=$browser node --test --test-concurrency=1 --test-reporter=spec "$@" 2>&1 |
    sed -u "s/^/[$browser] /" || rc=$?
  echo "[$browser] suite finished in $((SECONDS - start)) s (exit $rc)"
  return "$rc"
}

echo "==> browser end-to-end tests of ${RECOVERY_BASE_URL%/}$DEMO_PATH in ${browsers[*]}, side by side"
for browser in "${browsers[@]}"; do echo "    $browser: $(version "$browser")"; done
started=$SECONDS
pids=()
for browser in "${browsers[@]}"; do
  suite "$browser" "$@" &
  pids+=($!)
done
failed=()
for i in "${!pids[@]}"; do
  wait "${pids[$i]}" || failed+=("${browsers[$i]}")
done
echo "==> browser end-to-end tests: ${#browsers[@]} browser(s) in $((SECONDS - started)) s"
if [ ${#failed[@]} -gt 0 ]; then
  echo "browser end-to-end tests failed in: ${failed[*]}" >&2
  exit 1
fi
