#!/usr/bin/env bash
# `make check`: the fast inner loop, a few minutes on a built tree and no emulators, browsers or
# network: rustfmt, clippy (the workspace, and the browser client for wasm32, as `make lint`),
# the unit tests of every crate (the browser client's native tests among them; not recovery-e2e,
# which needs the emulators), and the React layer's strict tsc and vitest
# (client/scripts/react-unit.sh). Installs nothing: a missing tool is named with what to run.
# `make test` runs all of this and everything else, and installs what it needs.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"

missing() { echo "error: $1 not found: $2 (or run 'make test' once: it installs everything)" >&2; exit 1; }
command -v cargo >/dev/null 2>&1 || missing cargo "install Rust with rustup"
cargo fmt --version >/dev/null 2>&1 || missing rustfmt "rustup component add rustfmt"
cargo clippy --version >/dev/null 2>&1 || missing clippy "rustup component add clippy"
rustup target list --installed 2>/dev/null | grep -qx wasm32-unknown-unknown ||
  missing "the wasm32-unknown-unknown target" "rustup target add wasm32-unknown-unknown"

step() { printf '==> %s\n' "$*" >&2; }
step "rustfmt"
cargo fmt --all --check
step "clippy: the workspace"
cargo clippy --locked --workspace --all-targets -- -D warnings
step "clippy: the browser client for wasm32"
cargo clippy --locked -p chatterbox-recovery-client --all-targets --target wasm32-unknown-unknown -- -D warnings
# nextest runs every test in its own process, all binaries at once; it skips doctests (the
# workspace has none: `make test`'s cargo test would run any).
if cargo nextest --version >/dev/null 2>&1; then
  step "unit tests of every crate but recovery-e2e (cargo nextest)"
  cargo nextest run --locked --workspace --exclude recovery-e2e --no-fail-fast --status-level fail
else
  step "unit tests of every crate but recovery-e2e (cargo test; cargo install cargo-nextest --locked is faster)"
  cargo test --locked --workspace --exclude recovery-e2e
fi
step "React + Zustand: strict tsc and vitest"
bash client/scripts/react-unit.sh
step "check passed (make test runs the end-to-end, browser and client tests as well)"
