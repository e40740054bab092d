#!/usr/bin/env bash
# Installs the deployment tools into .tools/venv where missing: AWS SAM CLI, cfn-lint, and
# cargo-lambda with zig (for cross-building the arm64 functions). Prints the venv's bin dir.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
venv="$root/.tools/venv"
if ! "$venv/bin/sam" --version >/dev/null 2>&1 || ! "$venv/bin/cargo-lambda" --version >/dev/null 2>&1 ||
   ! "$venv/bin/cfn-lint" --version >/dev/null 2>&1; then
  echo "==> installing aws-sam-cli, cfn-lint, cargo-lambda, ziglang into .tools/venv" >&2
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet --disable-pip-version-check -r "$root/scripts/deploy-requirements.txt"
fi
echo "$venv/bin"
