#!/usr/bin/env bash
# The React + Zustand part of the package, checked end to end without a browser:
#   1. vitest: the Zustand middleware and slice with real Zustand (persist, createJSONStorage);
#   2. tsc --noEmit (strict, skipLibCheck off) on the example app, which type-checks the
#      package's .d.ts as an app sees them, and the example's Vite build (dist/, base /react/);
#   3. the npm tarball (scripts/pack.sh) installed into a scratch Vite + React + Zustand app,
#      type-checked (with `noUncheckedSideEffectImports` and no `vite/client` types: the package's
#      `react.css` import must type-check on its own) and built, as a new user would with no Rust
#      toolchain; the READMEs' snippets (client/README.md, the package's guide, and the example's)
#      still lines of that app, in order (test-js/readme-snippets.mjs); before that, the tarball must be ready to publish: publint --strict,
#      @arethetypeswrong/cli (ESM-only profile) and `npm publish --dry-run` with no warning but the
#      missing login (client/package.json's devDependencies, offline after `npm ci` in client/);
#   4. in that app's build, the three components on a page styled by Tailwind v4 (its preflight)
#      with a dark theme, in Debian's Chromium (playwright-core): text contrast >= 4.5:1, the modal
#      centred, the buttons painted, the modal closing once empty (test-js/tarball-app/
#      host-css.check.mjs); it writes docs/screenshots/react-host-css-dark{,-modal}.png; and the
#      banner's skeleton in its first paint: the app's bundle held back, shown when the start-up
#      hint (vite.config.ts puts it in <head>) says work may be waiting, hidden when not, replaced
#      by React's first render (test-js/tarball-app/first-paint.check.mjs);
#   5. that app under `vite` dev (pre-bundling on, nothing configured for the package), with the
#      app's Vite 8 and with Vite 7 (whose pre-bundling broke the wasm's URL), in Chromium:
#      "Generate" on the unedited draft stores its text, voice and parameters with its audio part
#      (through the slice's audio actions; vite.config.ts stubs the speech endpoint), Restore after
#      a renderer crash brings them back, an edit autosaves, the indicator reaching
#      data-state="saved", and a new take in the same session leaves only its own parts
#      (test-js/tarball-app/vite-dev.check.mjs; a dev server on a free loopback port, stopped
#      after);
#   6. the package in a webpack 5 production build with nothing configured for the wasm: the .wasm
#      emitted, and a page that opens a store, saves and restores in Chromium
#      (test-js/tarball-app/webpack.check.mjs).
# npm talks to the npm registry only, and prefers its cache. Without a network (make test's
# namespace), install first, online: `npm ci` in client/examples/react and in
# client/test-js/tarball-app (that fills the cache the scratch app installs from).
# Needs client/pkg/ (built here if missing, which needs Rust). Exits non-zero on any failure.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
require_cmd npm npm
require_cmd chromium chromium
example="$CLIENT_DIR/examples/react"

"$CLIENT_DIR/scripts/example.sh" # client/ts/ → client/js/, npm ci if needed, tsc --noEmit, vite build

say "no 'any' in the public types of /react and /zustand"
if grep -nwE 'any' "$CLIENT_DIR"/js/{react,zustand,storage,status}.d.ts; then die "'any' in a public type"; fi
cd "$example"
"$CLIENT_DIR/scripts/react-unit.sh" vitest

say "the npm tarball in a scratch Vite app"
"$CLIENT_DIR/scripts/pack.sh"
tarball=$(ls "$CLIENT_DIR"/dist/*.tgz)
scratch=$(mktemp -d /tmp/recovery-tarball-app.XXXXXX)
unpacked=$(mktemp -d /tmp/recovery-tarball-lint.XXXXXX)
trap 'rm -rf "$scratch" "$unpacked"' EXIT

say "ready to publish: publint --strict, arethetypeswrong (ESM only), npm publish --dry-run, on the tarball"
if [[ ! -x "$CLIENT_DIR/node_modules/.bin/publint" || ! -x "$CLIENT_DIR/node_modules/.bin/attw" ]]; then
    (cd "$CLIENT_DIR" && npm ci --no-audit --no-fund --prefer-offline)
fi
tar -xzf "$tarball" -C "$unpacked"
"$CLIENT_DIR/node_modules/.bin/publint" run --strict --pack false "$unpacked/package"
# ./wasm is the .wasm file itself (a URL for `wasmUrl`, or Vite's `?url`), not a module with types.
"$CLIENT_DIR/node_modules/.bin/attw" "$tarball" --profile esm-only --exclude-entrypoints ./wasm --format ascii >"$unpacked/attw.txt" ||
    { cat "$unpacked/attw.txt" >&2; die "arethetypeswrong found problems in $tarball"; }
# Offline, from a directory with no package.json: only the tarball is looked at. Without npm
# credentials (never here) npm warns that publishing needs a login; any other warning fails.
published=$(cd "$unpacked" && npm publish --dry-run --offline "$tarball" 2>&1) ||
    { printf '%s\n' "$published" >&2; die "npm publish --dry-run failed"; }
if grep -E '^npm (warn|error)' <<<"$published" | grep -v 'requires you to be logged in' >&2; then
    die "npm publish --dry-run warned"
fi
grep -q 'with tag latest and public access' <<<"$published" || die "npm publish --dry-run: not public access"
cp -r "$CLIENT_DIR/test-js/tarball-app/." "$scratch/"
# React, Zustand, Vite and TypeScript from the app's lock file (the npm cache serves them when
# the network is gone), then the tarball, as `npm install ./chatterbox-recovery-client-*.tgz`.
(cd "$scratch" && npm ci --no-audit --no-fund --prefer-offline &&
    npm install --no-audit --no-fund --prefer-offline --no-save "$tarball")
[[ ! -L "$scratch/node_modules/@chatterbox/recovery-client" ]] || die "the package was linked, not installed from the tarball"
# The app's tsconfig is the strict one a new Vite app starts from, minus `vite/client`: the CSS
# import must type-check through the package's own types.
node -e '
  const c = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8")).compilerOptions;
  if (c.noUncheckedSideEffectImports !== true || (c.types ?? []).includes("vite/client")) {
    console.error("test-js/tarball-app/tsconfig.json: want noUncheckedSideEffectImports and no vite/client types"); process.exit(1);
  }' "$scratch/tsconfig.json"
(cd "$scratch" && npx --no-install tsc --noEmit -p tsconfig.json && npx --no-install vite build --logLevel warn)
ls "$scratch"/dist/assets/*.wasm >/dev/null 2>&1 || die "the scratch app's build has no .wasm asset"
# The READMEs' snippets are cut from code this script type-checks and builds (that app, and the
# example's vite.config.ts): each line of every marked snippet must still be there, in order, and
# every tsx block must be marked, in client/README.md every js, ts and tsx block: the plain API's
# are cut from test-js/tarball-app/src/plain/, type-checked with that app
# (test-js/readme-snippets.mjs). client/README.md ships in the
# tarball (the package's guide): the packed one must be the one checked.
node "$CLIENT_DIR/test-js/readme-snippets.mjs" "$example/README.md" "$ROOT_DIR/README.md" --all "$CLIENT_DIR/README.md"
cmp -s "$unpacked/package/README.md" "$CLIENT_DIR/README.md" || die "the tarball's README.md is not client/README.md"
say "tarball app built: $(cd "$scratch/dist/assets" && ls | tr '\n' ' ')"

say "the components under a host's CSS (Tailwind v4 preflight, dark theme) in Chromium"
(cd "$scratch" && node host-css.check.mjs "$ROOT_DIR/docs/screenshots")

say "the recovery banner in that app's first paint (the hint's inline script, index.html's skeleton) in Chromium"
(cd "$scratch" && node first-paint.check.mjs)

say "the tarball app under vite dev (Vite 8, then Vite 7) in Chromium: Generate on the draft, a crash, Restore; an edit reaches 'saved'; a new take clears the old parts"
(cd "$scratch" && node vite-dev.check.mjs vite && node vite-dev.check.mjs vite7)

say "the package in a webpack 5 build (no configuration for the wasm) in Chromium"
(cd "$scratch" && node webpack.check.mjs)
say "React + Zustand checks passed"
