#!/usr/bin/env bash
# Builds the optimised package into client/pkg/: wasm (wasm-release profile,
# then its panic-message formatters stubbed, its panic locations zeroed and
# wasm-opt -Os), the ES module glue and its TypeScript declarations; then the JS layer above it,
# client/ts/ compiled into client/js/ (build-js.sh).
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

ensure_wasm_target
ensure_wasm_bindgen
ensure_npm_deps

say "cargo build --profile wasm-release --features tiny-runtime"
cargo build --manifest-path "$ROOT_DIR/Cargo.toml" -p "$CRATE" \
    --target wasm32-unknown-unknown --profile wasm-release --features tiny-runtime

rm -rf "$PKG_DIR"
say "wasm-bindgen --target web"
wasm-bindgen --target web --out-dir "$PKG_DIR" --out-name "$WASM_NAME" \
    "$TARGET_DIR/wasm32-unknown-unknown/wasm-release/$WASM_NAME.wasm"

say "stub the panic-message formatters (scripts/stub-panic-fmt.mjs)"
wat=$(mktemp)
"$WASM_DIS" "${WASM_OPT_FEATURES[@]}" "$PKG_DIR/${WASM_NAME}_bg.wasm" -o "$wat"
node "$CLIENT_DIR/scripts/stub-panic-fmt.mjs" "$wat"
say "zero what a panic hands its trapping handler (scripts/blank-panic-data.mjs)"
node "$CLIENT_DIR/scripts/blank-panic-data.mjs" "$wat"
"$WASM_AS" "${WASM_OPT_FEATURES[@]}" "$wat" -o "$PKG_DIR/${WASM_NAME}_bg.wasm"
rm "$wat"

say "wasm-opt -Os"
# -Os compresses better than -Oz here (larger raw, smaller gzip), as do
# --gufa and --merge-similar-functions (about 0.5 KB gzip together).
# --ignore-implicit-traps: loads, stores and divisions do not trap; true of
# what rustc emits (bounds and divisors are checked in code, explicit traps
# stay). --low-memory-unused: Rust places nothing in the first 1 KB of
# memory, so loads and stores may fold their offsets. The minified
# import/export names are written to a map that shrink-glue.mjs applies to
# the glue.
names=$(mktemp)
trap 'rm -f "$names"' EXIT
"$WASM_OPT" --gufa --merge-similar-functions -Os --converge --ignore-implicit-traps \
    --low-memory-unused --strip-debug --strip-producers --strip-target-features \
    "${WASM_OPT_FEATURES[@]}" "$PKG_DIR/${WASM_NAME}_bg.wasm" -o "$PKG_DIR/${WASM_NAME}_bg.wasm.opt"
# A pass of its own: under --converge the map would be printed once per round.
"$WASM_OPT" --minify-imports-and-exports-and-modules "${WASM_OPT_FEATURES[@]}" \
    "$PKG_DIR/${WASM_NAME}_bg.wasm.opt" -o "$PKG_DIR/${WASM_NAME}_bg.wasm" >"$names"
rm "$PKG_DIR/${WASM_NAME}_bg.wasm.opt"

say "shrink the glue (short import/export names, esbuild --minify)"
node "$CLIENT_DIR/scripts/shrink-glue.mjs" "$PKG_DIR/${WASM_NAME}.js" "$names"

# After the glue: the source imports its declarations.
"$CLIENT_DIR/scripts/build-js.sh"

wasm_gz=$(gzip -9c "$PKG_DIR/${WASM_NAME}_bg.wasm" | wc -c)
js_gz=$(gzip -9c "$PKG_DIR/${WASM_NAME}.js" | wc -c)
say "built $PKG_DIR: wasm ${wasm_gz} B gzip, glue ${js_gz} B gzip"
