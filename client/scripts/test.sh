#!/usr/bin/env bash
# Runs every client test: native unit tests, the browser tests in headless
# Chromium and in headless Firefox ESR (wasm-bindgen-test-runner through
# chromedriver and geckodriver), the built package in a plain ES module page,
# and a type-check of the .d.ts. With RECOVERY_API_URL set, also the
# server-path tests against that gateway, in both browsers. Exits non-zero on
# any failure. CLIENT_TEST_BROWSERS picks the browsers ("chromium firefox").
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

select_browsers CLIENT_TEST_BROWSERS
ensure_wasm_target
ensure_wasm_bindgen
ensure_npm_deps

# The runner reads webdriver.json (headless flags for root, the browsers'
# binaries) from the working directory. In Firefox, navigator.storage.persist()
# waits for the user's answer to a permission prompt, which headless never
# shows: webdriver.json's prefs answer "allow", as Firefox's own tests do.
cd "$CLIENT_DIR"
export CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUNNER=wasm-bindgen-test-runner
export WASM_BINDGEN_TEST_TIMEOUT=${WASM_BINDGEN_TEST_TIMEOUT:-180}

# `cargo test` of one wasm test target in one browser.
wasm_test() {
    in_browser "$1" cargo test --manifest-path "$ROOT_DIR/Cargo.toml" -p "$CRATE" \
        --target wasm32-unknown-unknown --test "$2"
}
name() { [[ $1 == firefox ]] && echo "Firefox ESR" || echo "Chromium"; }

say "native unit tests"
cargo test --manifest-path "$ROOT_DIR/Cargo.toml" -p "$CRATE" --lib

for browser in "${browsers[@]}"; do
    say "browser tests (headless $(name "$browser"))"
    wasm_test "$browser" browser
done

if [[ -n "${RECOVERY_API_URL:-}" ]]; then
    # The gateway allows CORS for a fixed origin, so pin the test page's.
    export WASM_BINDGEN_TEST_ADDRESS=${WASM_BINDGEN_TEST_ADDRESS:-127.0.0.1:8765}
    export WASM_BINDGEN_TEST_NO_ORIGIN_ISOLATION=1
    for browser in "${browsers[@]}"; do
        say "server-path tests against $RECOVERY_API_URL in $(name "$browser") (page origin http://$WASM_BINDGEN_TEST_ADDRESS)"
        wasm_test "$browser" server
    done
    unset WASM_BINDGEN_TEST_ADDRESS
else
    say "RECOVERY_API_URL not set: skipping the server-path tests (tests/server.rs)"
fi

say "package build"
"$CLIENT_DIR/scripts/build.sh"

say "type-check the package's .d.ts (tsc --noEmit)"
"$CLIENT_DIR/node_modules/.bin/tsc" -p "$CLIENT_DIR/test-js/tsconfig.json"

say "import the package in a plain ES module page (headless Chromium)"
node "$CLIENT_DIR/test-js/esm-page.mjs"

say "two users on one browser profile, and clearRecoveryData (headless ${browsers[*]})"
USERS_PAGE_BROWSERS="${browsers[*]}" node "$CLIENT_DIR/test-js/users-page.mjs"

say "client tests passed"
