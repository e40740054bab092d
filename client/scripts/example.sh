#!/usr/bin/env bash
# Builds the React example (client/examples/react) into client/examples/react/dist/, which the
# local gateway serves at /react/. Builds the package first if client/pkg/ is missing, and
# installs the example's npm dependencies if they are not there.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
require_cmd npm npm
example="$CLIENT_DIR/examples/react"

if [[ ! -f "$PKG_DIR/${WASM_NAME}_bg.wasm" || ! -f "$PKG_DIR/${WASM_NAME}.js" ]]; then
    "$CLIENT_DIR/scripts/build.sh" # which compiles client/ts/ too
else
    "$CLIENT_DIR/scripts/build-js.sh" # the package's JS layer as client/ts/ has it now
fi
if [[ ! -x "$example/node_modules/.bin/vite" || "$example/package-lock.json" -nt "$example/node_modules/.package-lock.json" ]]; then
    say "installing the example's npm dependencies"
    (cd "$example" && npm ci --no-audit --no-fund --prefer-offline)
fi
say "tsc --noEmit (strict) and vite build → $example/dist (base /react/)"
(cd "$example" && npm run --silent build)
