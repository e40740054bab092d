#!/usr/bin/env bash
# Writes the installable npm tarball client/dist/chatterbox-recovery-client-<version>.tgz:
# the built wasm and its glue (pkg/, built first if missing), the loader, /react, /zustand,
# the optional stylesheet and every .d.ts. An app installs it with no Rust toolchain.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
require_cmd npm npm

if [[ ! -f "$PKG_DIR/${WASM_NAME}_bg.wasm" || ! -f "$PKG_DIR/${WASM_NAME}.js" || ! -f "$PKG_DIR/${WASM_NAME}.d.ts" ]]; then
    "$CLIENT_DIR/scripts/build.sh" # which compiles client/ts/ too
else
    "$CLIENT_DIR/scripts/build-js.sh" # the package's JS layer as client/ts/ has it now
fi

dist="$CLIENT_DIR/dist"
mkdir -p "$dist"
rm -f "$dist"/*.tgz
say "npm pack → $dist"
tarball=$(cd "$CLIENT_DIR" && npm pack --pack-destination "$dist" --silent | tail -n 1)

# What an app needs must be in it; a missing file is a broken install, so fail here.
contents=$(tar -tzf "$dist/$tarball")
for f in package.json README.md LICENSE CHANGELOG.md \
    js/index.js js/index.d.ts js/hint.js js/hint.d.ts js/hint-script.js js/hint-script.d.ts js/storage.js js/storage.d.ts \
    js/zustand.js js/zustand.d.ts js/react.js js/react.d.ts js/react.css js/react.css.d.ts \
    "pkg/${WASM_NAME}.js" "pkg/${WASM_NAME}.d.ts" "pkg/${WASM_NAME}_bg.wasm"; do
    grep -qx "package/$f" <<<"$contents" || die "$tarball lacks $f"
done
say "wrote $dist/$tarball ($(wc -c <"$dist/$tarball") B)"
