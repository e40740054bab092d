#!/usr/bin/env bash
# The issue's size figure: JavaScript that /react and /zustand add to an app bundle, minified and
# gzipped (-9), with React, Zustand and the core package (loader, wasm glue: measured on their
# own by bench.sh) left out. The bundle takes every export, so nothing is tree-shaken away.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
ensure_npm_deps
"$CLIENT_DIR/scripts/build-js.sh" # client/js/ from client/ts/ as it is now
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cat >"$work/entry.js" <<JS
export * from '$CLIENT_DIR/js/react.js';
export * from '$CLIENT_DIR/js/zustand.js';
JS
measure() { # name, entry, externals...
    local name=$1 entry=$2
    shift 2
    "$CLIENT_DIR/node_modules/.bin/esbuild" "$entry" --bundle --minify --format=esm --target=es2022 \
        --log-level=warning --outfile="$work/$name.js" "$@"
    printf '%-28s %6d B minified, %5d B gzip -9\n' "$name" "$(wc -c <"$work/$name.js")" "$(gzip -9c "$work/$name.js" | wc -c)"
}
core=(--external:react --external:zustand --external:./index.js --external:./storage.js)
measure "/react + /zustand" "$work/entry.js" "${core[@]}"
measure "/react" "$CLIENT_DIR/js/react.js" "${core[@]}"
measure "/zustand" "$CLIENT_DIR/js/zustand.js" "${core[@]}"
measure "react.css" "$CLIENT_DIR/js/react.css"
