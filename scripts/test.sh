#!/usr/bin/env bash
# `make test`: every test. Builds first (the only step that may fetch crates), then runs the whole
# suite (unit tests, and the end-to-end tests against LocalStack S3 and DynamoDB Local, which it
# starts and stops itself) inside a private network namespace where it can: there the emulators
# use their default ports without touching a running `make run`, and DynamoDB Local, which binds
# every interface, is reachable from nowhere else. Without namespaces it runs on free ports.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"

# Everything that downloads happens here, before the suite runs without a network: the Debian
# packages (emulators' Java, the browsers, their drivers, the speech engine), the emulators, the
# browser client's tools (wasm target, wasm-bindgen-cli, geckodriver, npm packages) and every
# crate for every target.
# shellcheck source=packages.sh
source scripts/packages.sh
ensure_packages "${TEST_PACKAGES[@]}"
bash localstack/setup.sh
bash -c 'source client/scripts/lib.sh && ensure_wasm_target && ensure_wasm_bindgen && ensure_npm_deps'
ensure_geckodriver
# npm packages: the browser end-to-end tests' drivers (playwright-core for Chromium, puppeteer-core
# for Firefox; they use Debian's browsers and download none), the React example and the scratch app
# that installs the npm tarball. Installed now, so that the suite can build offline (npm serves them
# from its cache).
for app in tests/browser client/examples/react client/test-js/tarball-app; do
  [ "$app/package-lock.json" -ot "$app/node_modules/.package-lock.json" ] ||
    (cd "$app" && npm ci --no-audit --no-fund --loglevel=error)
done
cargo fetch --locked
bash scripts/schemathesis.sh --install
echo "==> building"
cargo build --locked --workspace --all-targets

if [ "${RECOVERY_TEST_NO_NETNS:-0}" != 1 ] && unshare --net --fork true >/dev/null 2>&1; then
  echo "==> running the suite in a private network namespace"
  exec unshare --net --fork env RECOVERY_TEST_NETNS=1 bash scripts/test-suite.sh
fi
echo "==> running the suite on free loopback ports (no network namespace available)"
exec bash scripts/test-suite.sh
