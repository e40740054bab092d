#!/usr/bin/env bash
# Runs every client test: native unit tests, the browser tests in headless
# Chromium, the built package in a plain ES module page, and a type-check of
# the .d.ts. With RECOVERY_API_URL set, also the server-path tests against
# that gateway. Exits non-zero on any failure.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

require_cmd chromium chromium
require_cmd chromedriver chromium-driver
ensure_wasm_target
ensure_wasm_bindgen
ensure_npm_deps

# The runner reads webdriver.json (headless Chromium flags for root) from
# the working directory.
cd "$CLIENT_DIR"
export CHROMEDRIVER=${CHROMEDRIVER:-$(command -v chromedriver)}
export CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUNNER=wasm-bindgen-test-runner
export WASM_BINDGEN_TEST_TIMEOUT=${WASM_BINDGEN_TEST_TIMEOUT:-180}

say "native unit tests"
cargo test --manifest-path "$ROOT_DIR/Cargo.toml" -p "$CRATE" --lib

say "browser tests (headless Chromium)"
cargo test --manifest-path "$ROOT_DIR/Cargo.toml" -p "$CRATE" \
    --target wasm32-unknown-unknown --test browser

if [[ -n "${RECOVERY_API_URL:-}" ]]; then
    # The gateway allows CORS for a fixed origin, so pin the test page's.
    export WASM_BINDGEN_TEST_ADDRESS=${WASM_BINDGEN_TEST_ADDRESS:-127.0.0.1:8765}
    export WASM_BINDGEN_TEST_NO_ORIGIN_ISOLATION=1
    say "server-path tests against $RECOVERY_API_URL (page origin http://$WASM_BINDGEN_TEST_ADDRESS)"
    cargo test --manifest-path "$ROOT_DIR/Cargo.toml" -p "$CRATE" \
        --target wasm32-unknown-unknown --test server
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

say "client tests passed"
