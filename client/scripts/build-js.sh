#!/usr/bin/env bash
# Compiles the package's JS layer: client/ts/*.ts (strict TypeScript, the one source) into
# client/js/*.js and their .d.ts, with tsc (client/ts/tsconfig.json: ES2022 as written, no
# downlevelling, doc comments kept). The outputs are not tracked (.gitignore lists them one by one:
# hint*.js, hint*.d.ts and react.css* beside them are hand-written and tracked). A few seconds:
# build.sh runs it after writing client/pkg/ (whose .d.ts the source imports), and so do `make
# run` when client/ts/ changed, react-unit.sh (`make check`), example.sh, pack.sh and
# react-size.sh, so that nothing reads a client/js/ older than its source.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
ensure_npm_deps
[[ -f "$PKG_DIR/${WASM_NAME}.d.ts" ]] ||
    die "client/pkg/ is missing (client/ts/ imports its types): run client/scripts/build.sh ('make client')"
say "tsc -p client/ts: the package's TypeScript → client/js/*.js and *.d.ts"
"$CLIENT_DIR/node_modules/.bin/tsc" -p "$CLIENT_DIR/ts/tsconfig.json"
