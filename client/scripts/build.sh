#!/usr/bin/env bash
# Builds the optimised package into client/pkg/: wasm (wasm-release profile,
# then wasm-opt -Oz), the ES module glue and its TypeScript declarations.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

ensure_wasm_target
ensure_wasm_bindgen
ensure_npm_deps

say "cargo build --profile wasm-release"
cargo build --manifest-path "$ROOT_DIR/Cargo.toml" -p "$CRATE" \
    --target wasm32-unknown-unknown --profile wasm-release

rm -rf "$PKG_DIR"
say "wasm-bindgen --target web"
wasm-bindgen --target web --out-dir "$PKG_DIR" --out-name "$WASM_NAME" \
    "$TARGET_DIR/wasm32-unknown-unknown/wasm-release/$WASM_NAME.wasm"

say "wasm-opt -Oz"
"$WASM_OPT" -Oz --converge --strip-producers --strip-target-features "${WASM_OPT_FEATURES[@]}" "$PKG_DIR/${WASM_NAME}_bg.wasm" -o "$PKG_DIR/${WASM_NAME}_bg.wasm.opt"
mv "$PKG_DIR/${WASM_NAME}_bg.wasm.opt" "$PKG_DIR/${WASM_NAME}_bg.wasm"

wasm_gz=$(gzip -9c "$PKG_DIR/${WASM_NAME}_bg.wasm" | wc -c)
js_gz=$(gzip -9c "$PKG_DIR/${WASM_NAME}.js" | wc -c)
say "built $PKG_DIR: wasm ${wasm_gz} B gzip, glue ${js_gz} B gzip"
