#!/usr/bin/env bash
# Measures every function the way Lambda runs it and prints a Markdown table for the README:
#  - size of the stripped arm64 `bootstrap` (cargo lambda build --release --arm64)
#  - init time: process start until it asks the Runtime API for its first event, over 20 cold
#    starts of the native (x86_64) release binary against runtime-harness on loopback
#  - peak RSS after serving 1,000 requests (infra/fixtures/apigw-v2-*.json) against the emulators
#  - per-request CPU of issue and redeem, presign alone and the SigV4 floor (criterion)
# Needs: pip install cargo-lambda ziglang (for the arm64 build). Runs the emulators in a private
# network namespace where it can, like `make test`.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
mapfile -t functions < <(bash scripts/functions.sh)
out="$root/target/measurements"
mkdir -p "$out"

if [ "${INSIDE_MEASURE_NETNS:-0}" != 1 ]; then
  bash localstack/setup.sh
  if command -v cargo-lambda >/dev/null 2>&1; then
    echo "==> cargo lambda build --release --arm64" >&2
    cargo lambda build --release --arm64 --locked $(printf -- '-p %s ' "${functions[@]}") >&2
  else
    echo "note: cargo-lambda not installed (pip install cargo-lambda ziglang): no arm64 sizes" >&2
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
free_port() { python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
export S3_PORT="$(free_port)" DYNAMODB_PORT="$(free_port)"
state="$(mktemp -d)"
source localstack/emulators.sh
trap 'stop_emulators "$state"; rm -rf "$state"' EXIT
start_s3 "$S3_PORT" "$state" >&2 &
s3_starting=$!
start_dynamodb "$DYNAMODB_PORT" "$state" >&2
wait "$s3_starting"
source scripts/local-env.sh
export TABLE_NAME=measure-tokens BUCKET_NAME=measure-audio ALLOWED_ORIGINS=http://127.0.0.1:3000
target/release/provision >/dev/null 2>&1

: >"$out/functions.jsonl"
for f in "${functions[@]}"; do
  echo "==> $f: 20 cold starts, 1000 requests" >&2
  target/release/runtime-harness "target/release/$f" "infra/fixtures/apigw-v2-$f.json" 20 1000 >>"$out/functions.jsonl"
done

python3 - "$out" "${functions[@]}" <<'PY'
import json, os, sys
out, names = sys.argv[1], sys.argv[2:]
rows = [json.loads(l) for l in open(os.path.join(out, "functions.jsonl"))]
print("| function | arm64 bootstrap (stripped) | init median / max (20 cold starts) | peak RSS, 1,000 requests | statuses |")
print("| --- | --- | --- | --- | --- |")
for name, r in zip(names, rows):
    arm = os.path.join("target", "lambda", name, "bootstrap")
    size = f"{os.path.getsize(arm) / 1e6:.2f} MB" if os.path.exists(arm) else "n/a"
    statuses = ", ".join(f"{k}×{v}" for k, v in r["statuses"].items())
    print(f"| {name} | {size} | {r['init_ms_median']:.1f} / {r['init_ms_max']:.1f} ms | {r['peak_rss_kib'] / 1024:.1f} MiB | {statuses} |")
bench = os.path.join(out, "bench.txt")
if os.path.exists(bench) and os.path.getsize(bench):
    print()
    print("| per request (criterion, median of the estimate) | time |")
    print("| --- | --- |")
    lines = [l.strip() for l in open(bench)]
    name = None
    for l in lines:
        if l.startswith("time:"):
            mid = l.split("[")[1].split("]")[0].split()
            print(f"| {name} | {mid[2]} {mid[3]} |")
        else:
            name = l
PY
