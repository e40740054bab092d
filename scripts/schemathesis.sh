#!/usr/bin/env bash
# Runs schemathesis (property-based API testing, PyPI) against openapi.yaml on a running gateway:
# every check, and the examples, coverage, fuzzing and stateful phases. Fails on any failure.
#
#   scripts/schemathesis.sh [BASE_URL [ARGS...]]   # default: $RECOVERY_API_URL; ARGS go to
#                                                  # `schemathesis run` (e.g. --report json)
#   scripts/schemathesis.sh --install              # only installs it (before going offline)
#
# schemathesis and its dependencies are pinned in scripts/schemathesis-requirements.txt and
# installed into .tools/schemathesis. SCHEMATHESIS_SEED (1), SCHEMATHESIS_WORKERS (2) and
# SCHEMATHESIS_SEEDED_KEYS (16) vary a run.
#
# The stateful phase follows openapi.yaml's links: createUpload -> issueToken (the upload's key)
# -> redeemToken, redeemTokenInHeader, revokeToken (the issued token), and copySession ->
# getSession, deleteSession (its session) and redeemTokenInHeader, revokeToken (a first copy's
# token). It also seeds a server copy (a gzip document), whose token is one of the tokens drawn
# for the token parameters. (Drawing its session id for `{session_id}` as well cut the stateful
# phase from about 190 scenarios to 23: the links then mostly led to the one seeded session.) schemathesis cannot PUT
# the audio to S3, so a token for a key it was just handed answers 404 (documented). So that
# tokens are also issued, redeemed and revoked for real, this script first uploads objects itself
# (presigned PUT, as a browser does) and issues a token for one of them; schemathesis then draws,
# half of the time, one of the other objects' keys for `key`, and the token for `{token}` and
# X-Recovery-Token (config dictionaries, in a copy of tests/schemathesis/schemathesis.toml).
# The token's object is not one of the keys': revoking it with purge=true (as fuzzing does)
# deletes only its own object. Each revoke with purge=true in the stateful phase deletes one key's
# object, hence several keys. (schemathesis 4.32 starts its stateful scenarios at issueToken, not
# at createUpload: its dependency inference reads `session_id` as a reference to a "Session"
# resource that no operation produces, so the IssueToken link is declared but not followed.)
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
venv="$root/.tools/schemathesis"

# Python >= 3.12, picked as localstack/setup.sh picks LocalStack's: in 3.11, ast.parse in two
# threads at once can fail with "SystemError: AST constructor recursion depth mismatch", which
# hypothesis does in both workers at the start of the coverage phase (it did, 2 runs out of 2).
# shellcheck source=python.sh
source "$root/scripts/python.sh"

if ! { recent_enough "$venv/bin/python" && "$venv/bin/schemathesis" --version >/dev/null 2>&1; }; then
  python="$(pick_python SCHEMATHESIS_PYTHON LOCALSTACK_PYTHON)" || { echo "schemathesis needs Python >= 3.12 (set SCHEMATHESIS_PYTHON)" >&2; exit 1; }
  echo "==> installing schemathesis into .tools/schemathesis (with $python)" >&2
  rm -rf "$venv"
  "$python" -m venv "$venv"
  "$venv/bin/pip" install --quiet --disable-pip-version-check -r "$root/scripts/schemathesis-requirements.txt"
fi
[ "${1:-}" = --install ] && exit 0

base="${1:-${RECOVERY_API_URL:-}}"
[ -n "$base" ] || { echo "usage: $0 BASE_URL (or set RECOVERY_API_URL)" >&2; exit 2; }
shift $(($# > 0 ? 1 : 0))
base="${base%/}"

# A client secret of its own (128 random bits, base64url), as a browser makes one.
secret=$(head -c 16 /dev/urandom | base64 | tr '+/' '-_' | tr -d '=\n')

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

key_count="${SCHEMATHESIS_SEEDED_KEYS:-16}"
echo "==> seeding $((key_count + 1)) uploaded objects and a token for schemathesis on $base"
# requests is one of schemathesis's own dependencies. Prints the token, then the keys.
"$venv/bin/python" - "$base" "$secret" "$key_count" >"$work/seeded" <<'PY'
import sys

import requests

base, secret = sys.argv[1], sys.argv[2]
identity = {"X-Recovery-Client": secret}


def post(path, body):
    response = requests.post(f"{base}/api/recovery/{path}", json=body, headers=identity, timeout=15)
    if response.status_code != 201:
        sys.exit(f"seeding: POST {path} answered {response.status_code}: {response.text}")
    return response.json()


def uploaded(name):
    audio = b"RIFF schemathesis"
    upload = post(
        "uploads",
        {"session_id": "schemathesis", "content_type": "audio/wav", "content_length": len(audio), "filename": name},
    )
    put = requests.put(upload["upload_url"], data=audio, headers=upload["headers"], timeout=15)
    if not put.ok:
        sys.exit(f"seeding: the presigned PUT answered {put.status_code}: {put.text}")
    return upload["key"]


token = post("token", {"key": uploaded("seeded-token.wav")})["token"]
print(token)
# A server copy (PUT /sessions/{id}, a gzip document), so that redeeming and revoking also meet
# a copy's token: it goes into the tokens' dictionary below.
import gzip
copy = requests.put(
    f"{base}/api/recovery/sessions/schemathesis-copy",
    params={"parts": 0, "updated_at": 1767225600000},
    data=gzip.compress(b'{"version":2,"id":"schemathesis-copy","text":"seeded","parts":[]}'),
    headers={**identity, "Content-Type": "application/vnd.chatterbox.session+json", "Content-Encoding": "gzip"},
    timeout=15,
)
if copy.status_code != 201:
    sys.exit(f"seeding: PUT sessions answered {copy.status_code}: {copy.text}")
print(copy.json()["token"])
for n in range(int(sys.argv[3])):
    print(uploaded(f"seeded-key-{n}.wav"))
PY
seeded_token=$(sed -n 1p "$work/seeded")
seeded_copy_token=$(sed -n 2p "$work/seeded")
# As a TOML array of strings (keys and tokens are base64url and slashes: nothing to escape).
seeded_keys=$(tail -n +3 "$work/seeded" | sed 's/.*/"&"/' | paste -sd, -)

# The repository's configuration, and the seeded values as dictionaries drawn from half of the time
# (only where they fit the schema: a negative case still gets a malformed value).
cp "$root/tests/schemathesis/schemathesis.toml" "$work/schemathesis.toml"
cat >>"$work/schemathesis.toml" <<TOML

# Added by scripts/schemathesis.sh for this run: uploaded objects' keys, and a token of another.
[dictionaries.seeded-keys]
values = [$seeded_keys]

[dictionaries.seeded-tokens]
values = ["$seeded_token", "$seeded_copy_token"]

[parameters]
"body.key" = { dictionary = "seeded-keys", probability = 0.5 }
"path.token" = { dictionary = "seeded-tokens", probability = 0.5 }
"header.X-Recovery-Token" = { dictionary = "seeded-tokens", probability = 0.5 }
TOML

echo "==> schemathesis against $base (openapi.yaml)"
cd "$root"
"$venv/bin/schemathesis" --config-file "$work/schemathesis.toml" run openapi.yaml \
  --url "$base" \
  --checks all \
  --phases examples,coverage,fuzzing,stateful \
  --header "X-Recovery-Client: $secret" \
  --workers "${SCHEMATHESIS_WORKERS:-2}" \
  --seed "${SCHEMATHESIS_SEED:-1}" \
  --request-timeout 15 \
  --warnings off \
  "$@"
