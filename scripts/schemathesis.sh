#!/usr/bin/env bash
# Runs schemathesis (property-based API testing, PyPI) against openapi.yaml on a running gateway:
# every check, and the examples, coverage, fuzzing and stateful phases. Fails on any failure.
#
#   scripts/schemathesis.sh [BASE_URL]       # default: $RECOVERY_API_URL
#   scripts/schemathesis.sh --install        # only installs it (before going offline)
#
# schemathesis and its dependencies are pinned in scripts/schemathesis-requirements.txt and
# installed into .tools/schemathesis.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
venv="$root/.tools/schemathesis"

if ! "$venv/bin/schemathesis" --version >/dev/null 2>&1; then
  echo "==> installing schemathesis into .tools/schemathesis" >&2
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet --disable-pip-version-check -r "$root/scripts/schemathesis-requirements.txt"
fi
[ "${1:-}" = --install ] && exit 0

base="${1:-${RECOVERY_API_URL:-}}"
[ -n "$base" ] || { echo "usage: $0 BASE_URL (or set RECOVERY_API_URL)" >&2; exit 2; }

# A client secret of its own (128 random bits, base64url), as a browser makes one.
secret=$(head -c 16 /dev/urandom | base64 | tr '+/' '-_' | tr -d '=\n')

echo "==> schemathesis against $base (openapi.yaml)"
cd "$root"
exec "$venv/bin/schemathesis" --config-file tests/schemathesis/schemathesis.toml run openapi.yaml \
  --url "$base" \
  --checks all \
  --phases examples,coverage,fuzzing,stateful \
  --header "X-Recovery-Client: $secret" \
  --workers 2 \
  --seed "${SCHEMATHESIS_SEED:-1}" \
  --request-timeout 15 \
  --warnings off
