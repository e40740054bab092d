#!/usr/bin/env bash
# The React + Zustand layer's fast checks, without a browser: the package's TypeScript source
# compiled, strict (client/ts/ → client/js/ by build-js.sh: the type-check of the source), strict
# tsc (--noEmit) of the example app and its tests (which type-checks the package's .d.ts as an app
# sees them), and vitest (the Zustand middleware and slice with real Zustand), and the READMEs'
# snippets against the code they are cut from (test-js/readme-snippets.mjs; check-react.sh also
# type-checks and builds that code from the tarball). `react-unit.sh [build] [typecheck] [vitest]
# [snippets]`: all four when no step is named (typecheck and vitest alone compile client/ts/ first
# when it is newer than client/js/). `make check` (scripts/check.sh) and check-react.sh run it.
# Installs nothing: without the example's node_modules it says what to run.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
example="$CLIENT_DIR/examples/react"
steps=("$@")
[[ ${#steps[@]} -gt 0 ]] || steps=(build typecheck vitest snippets)

command -v npm >/dev/null 2>&1 || die "npm not found: run 'make test' once (it installs everything)"
[[ -x "$example/node_modules/.bin/vitest" && -x "$example/node_modules/.bin/tsc" ]] ||
    die "the React example's npm packages are missing: run (cd client/examples/react && npm ci), or 'make test' once"
# The example imports the package, whose types (client/js/*.d.ts) point into client/pkg/.
[[ -f "$PKG_DIR/${WASM_NAME}.js" ]] ||
    die "client/pkg/ is missing: run 'make client' (or 'make test' once)"
[[ -x "$CLIENT_DIR/node_modules/.bin/tsc" && -f "$CLIENT_DIR/ts/node_modules/@types/react/package.json" &&
    -f "$CLIENT_DIR/ts/node_modules/zustand/package.json" ]] ||
    die "the package's npm dev dependencies are missing: run (cd client && npm ci) and (cd client/ts && npm ci), or 'make test' once"
# client/js/ missing, or older than client/ts/ or the glue's types it compiles against.
js_stale() {
    [[ ! -f "$CLIENT_DIR/js/index.js" ]] ||
        [[ -n "$(find "$CLIENT_DIR/ts" "$PKG_DIR/${WASM_NAME}.d.ts" -newer "$CLIENT_DIR/js/index.js" -print -quit)" ]]
}

cd "$example"
for step in "${steps[@]}"; do
    case $step in
        build) "$CLIENT_DIR/scripts/build-js.sh" ;;
        typecheck)
            if js_stale; then "$CLIENT_DIR/scripts/build-js.sh"; fi
            say "tsc --noEmit (strict): the React example and its tests"; npm run --silent typecheck ;;
        vitest)
            if js_stale; then "$CLIENT_DIR/scripts/build-js.sh"; fi
            say "vitest: middleware and slice"; npx --no-install vitest run ;;
        snippets)
            say "README snippets still lines of the code they are cut from"
            node "$CLIENT_DIR/test-js/readme-snippets.mjs" "$example/README.md" "$ROOT_DIR/README.md" --all "$CLIENT_DIR/README.md" ;;
        *) die "unknown step '$step' (build, typecheck, vitest, snippets)" ;;
    esac
done
