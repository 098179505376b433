#!/usr/bin/env bash
# Real Python clients and a real OTel backend against `peekr serve`, all on loopback:
#
#  1. The user's app (app.py: OpenTelemetry Python SDK + OTLP/gRPC exporter + the official
#     OpenAI instrumentation, `openai` client pointed at fake_openai.py) sends spans to
#     `peekr serve` with an API key; `peekr sql` shows them priced exactly (check.py store).
#     The same with Arize's OpenInference instrumentation (cached tokens priced as cache reads),
#     and a wrong key refused.
#  2. Arize Phoenix runs on loopback; `peekr serve --forward` (with and without
#     `--dialect openinference`) sends the enriched spans to its OTLP/gRPC port, and Phoenix's
#     REST API returns them with `gen_ai.usage.cost` (and `llm.cost.total`) intact.
#
# The commands are the ones docs/integrations-python.md shows, with temp dirs and free ports.
# Needs the venv of tests/python/ci-setup.sh (or PEEKR_PYTHON) and the peekr binary
# (PEEKR_BIN, else target/debug/peekr, built when missing or older than the sources).
# Exits non-zero when any check failed; every wait is bounded.
set -uo pipefail
cd "$(dirname "$0")/../.."
ROOT=$PWD
PY=${PEEKR_PYTHON:-$ROOT/target/pyenv/bin/python}
QUERIES=3
start=$(date +%s)

if [ ! -x "$PY" ]; then
  echo "error: $PY not found: run tests/python/ci-setup.sh first (or set PEEKR_PYTHON)" >&2
  exit 1
fi
if [ -z "${PEEKR_BIN:-}" ]; then
  PEEKR_BIN=$ROOT/target/debug/peekr
  if [ ! -x "$PEEKR_BIN" ] || [ -n "$(find src Cargo.toml -newer "$PEEKR_BIN" -print -quit)" ]; then
    echo "building $PEEKR_BIN"
    timeout 1800 cargo build --quiet --features server --bin peekr || exit 1
  fi
fi
export PEEKR_BIN
PEEKR=$PEEKR_BIN

# Only this script's settings reach the app: no inherited OTEL_* and no proxy for loopback.
for v in $(env | sed -n 's/^\(OTEL_[A-Z0-9_]*\)=.*/\1/p'); do unset "$v"; done
export NO_PROXY=127.0.0.1,localhost no_proxy=127.0.0.1,localhost

T=$(mktemp -d "${TMPDIR:-/tmp}/peekr-python.XXXXXX")
export RESULTS=$T/results
: > "$RESULTS"
PIDS=()
LOGS=()

cleanup() {
  local code=$?
  for pid in "${PIDS[@]}"; do
    kill -TERM -- "-$pid" 2>/dev/null || kill -TERM "$pid" 2>/dev/null
  done
  for pid in "${PIDS[@]}"; do
    for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL -- "-$pid" 2>/dev/null || kill -KILL "$pid" 2>/dev/null
  done
  wait 2>/dev/null
  if [ "$code" -ne 0 ] || grep -q '^fail' "$RESULTS" 2>/dev/null; then
    for log in "${LOGS[@]}"; do
      echo "----- last lines of $(basename "$log")"
      tail -n 40 "$log" 2>/dev/null
    done
  fi
  if [ -n "${KEEP_TMP:-}" ]; then echo "kept $T"; else rm -rf "$T"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

step() { echo; echo "=== $* ($(( $(date +%s) - start )) s)"; }
# Records one check of this script (check.py records its own).
result() {
  if [ "$1" = pass ]; then echo "  ok: $2"; else echo "  FAIL: $2"; fi
  printf '%s\t%s\n' "$1" "$2" >> "$RESULTS"
}
# Prints a command, then runs it.
run() { echo "+ $*" >&2; "$@"; }
# Starts a background process in its own process group (so cleanup ends it and its children).
bg() {
  local log=$1; shift
  echo "+ $* &" >&2
  setsid "$@" > "$log" 2>&1 &
  PIDS+=($!)
  LOGS+=("$log")
}
# Waits for `peekr serve` to print its addresses; sets GRPC_ADDR.
wait_peekr() {
  local log=$1 pid=${PIDS[-1]}
  GRPC_ADDR=""
  for _ in $(seq 1 300); do
    GRPC_ADDR=$(sed -n 's/^peekr: receiving OTLP\/gRPC on \([^,]*\),.*/\1/p' "$log")
    [ -n "$GRPC_ADDR" ] && break
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.1
  done
  if [ -n "$GRPC_ADDR" ]; then result pass "peekr serve listening on $GRPC_ADDR"; return 0; fi
  result fail "peekr serve did not start within 30 s (see $(basename "$log"))"
  return 1
}
free_port() { "$PY" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }

# Runs app.py against a receiver: app ENDPOINT KEY [extra env...] -- [app args...]
app() {
  local endpoint=$1 key=$2; shift 2
  local envs=()
  while [ $# -gt 0 ] && [ "$1" != -- ]; do envs+=("$1"); shift; done
  [ "${1:-}" = -- ] && shift
  run env OTEL_EXPORTER_OTLP_ENDPOINT="http://$endpoint" \
    OTEL_EXPORTER_OTLP_HEADERS="authorization=Bearer%20$key" \
    OTEL_SERVICE_NAME=py-app "${envs[@]}" \
    timeout 120 "$PY" tests/python/app.py --base-url "$OPENAI_BASE_URL" --queries "$QUERIES" "$@"
}

echo "python: $("$PY" --version), peekr: $PEEKR, temp: $T"

step "fake OpenAI provider"
bg "$T/fake_openai.log" "$PY" tests/python/fake_openai.py --port 0 --port-file "$T/fake.port" --requests-log "$T/requests.jsonl"
for _ in $(seq 1 100); do [ -s "$T/fake.port" ] && break; sleep 0.1; done
if [ ! -s "$T/fake.port" ]; then result fail "fake OpenAI provider did not start within 10 s"; exit 1; fi
OPENAI_BASE_URL="http://127.0.0.1:$(cat "$T/fake.port")/v1"
result pass "fake OpenAI provider on $OPENAI_BASE_URL"

# ---------------------------------------------------------------------------------------------
step "1. Python app -> peekr serve (receiver + store)"
DATA=$T/peekr-data
run "$PEEKR" keys create --project py --data "$DATA" > "$T/key-py" || exit 1
run "$PEEKR" keys create --project py-oi --data "$DATA" > "$T/key-py-oi" || exit 1
KEY=$(cat "$T/key-py")
bg "$T/peekr.log" "$PEEKR" serve --data "$DATA" --listen 127.0.0.1:0 --http 127.0.0.1:0
wait_peekr "$T/peekr.log" || exit 1
PEEKR_GRPC=$GRPC_ADDR

step "1a. official OpenAI instrumentation (opentelemetry-instrumentation-openai-v2)"
if app "$PEEKR_GRPC" "$KEY"; then result pass "app.py (openai-v2) exported its spans"; else result fail "app.py (openai-v2) exited non-zero"; fi
run "$PEEKR" sql --data "$DATA" "SELECT model, cost_status, cost_usd, tokens_input, tokens_output FROM spans WHERE cost_status IS NOT NULL"
"$PY" tests/python/check.py store --data "$DATA" --project py --queries "$QUERIES" --instrumentation openai-v2

step "1b. OpenInference instrumentation (openinference-instrumentation-openai): cached tokens"
if app "$PEEKR_GRPC" "$(cat "$T/key-py-oi")" -- --instrumentation openinference; then
  result pass "app.py (openinference) exported its spans"
else
  result fail "app.py (openinference) exited non-zero"
fi
run "$PEEKR" sql --data "$DATA" "SELECT project, model, cost_usd, tokens_input, cache_read_tokens, tokens_output FROM spans WHERE project = 'py-oi' AND cost_status IS NOT NULL"
"$PY" tests/python/check.py store --data "$DATA" --project py-oi --queries "$QUERIES" --instrumentation openinference

step "1c. a wrong API key is refused (UNAUTHENTICATED) and nothing is stored"
before=$("$PEEKR" sql --data "$DATA" --json "SELECT COUNT(*) AS n FROM spans" | "$PY" -c 'import json,sys; print(json.load(sys.stdin)["rows"][0]["n"])')
if app "$PEEKR_GRPC" "pk_not_a_real_key" -- --queries 1 > "$T/wrong-key.log" 2>&1; then
  result fail "app.py with a wrong key should fail to export"
else
  grep -q -i "UNAUTHENTICATED" "$T/wrong-key.log" \
    && result pass "app.py with a wrong key: export refused with UNAUTHENTICATED" \
    || { result fail "app.py with a wrong key failed, but not with UNAUTHENTICATED"; tail -n 20 "$T/wrong-key.log"; }
fi
after=$("$PEEKR" sql --data "$DATA" --json "SELECT COUNT(*) AS n FROM spans" | "$PY" -c 'import json,sys; print(json.load(sys.stdin)["rows"][0]["n"])')
[ "$before" = "$after" ] && result pass "no span stored for the wrong key ($after spans in the store)" \
  || result fail "spans stored for a wrong key: $before before, $after after"
calls=$(grep -c '"/v1/chat/completions"' "$T/requests.jsonl" 2>/dev/null || echo 0)
# 1a and 1b made QUERIES calls each, the wrong-key run one.
[ "$calls" -eq $((2 * QUERIES + 1)) ] && result pass "the fake provider served $calls chat completions (real HTTP calls by the openai client)" \
  || result fail "the fake provider served $calls chat completions, expected $((2 * QUERIES + 1))"

# ---------------------------------------------------------------------------------------------
step "2. peekr serve --forward -> Arize Phoenix (OTLP/gRPC), read back over Phoenix's REST API"
PX_HTTP=$(free_port)
PX_GRPC=$(free_port)
PHOENIX_URL="http://127.0.0.1:$PX_HTTP"
mkdir -p "$T/phoenix"
bg "$T/phoenix.log" env PHOENIX_WORKING_DIR="$T/phoenix" PHOENIX_HOST=127.0.0.1 PHOENIX_PORT="$PX_HTTP" \
  PHOENIX_GRPC_PORT="$PX_GRPC" PHOENIX_TELEMETRY_ENABLED=false \
  "$PY" -m phoenix.server.main serve
px_pid=${PIDS[-1]}
px_up=""
for _ in $(seq 1 360); do
  if "$PY" -c "import urllib.request,sys; urllib.request.urlopen('$PHOENIX_URL/healthz', timeout=2)" 2>/dev/null; then px_up=1; break; fi
  kill -0 "$px_pid" 2>/dev/null || break
  sleep 0.5
done
if [ -n "$px_up" ]; then
  result pass "Phoenix up at $PHOENIX_URL (OTLP/gRPC on 127.0.0.1:$PX_GRPC) after $(( $(date +%s) - start )) s total"
else
  result fail "Phoenix did not answer /healthz within 180 s"
fi

if [ -n "$px_up" ]; then
  # Gateway with the OpenInference dialect: gen_ai.usage.cost + llm.cost.total.
  GW_OI=$T/gateway-openinference
  run "$PEEKR" keys create --project py --data "$GW_OI" > "$T/key-gw-oi" || exit 1
  bg "$T/peekr-forward-openinference.log" "$PEEKR" serve --data "$GW_OI" --listen 127.0.0.1:0 --http 127.0.0.1:0 \
    --forward "http://127.0.0.1:$PX_GRPC" --dialect openinference
  if wait_peekr "$T/peekr-forward-openinference.log"; then
    if app "$GRPC_ADDR" "$(cat "$T/key-gw-oi")" OTEL_RESOURCE_ATTRIBUTES=openinference.project.name=peekr-openinference; then
      result pass "app.py -> peekr --forward --dialect openinference exported its spans"
    else
      result fail "app.py -> peekr --forward --dialect openinference exited non-zero"
    fi
    "$PY" tests/python/check.py phoenix --url "$PHOENIX_URL" --project peekr-openinference --queries "$QUERIES" --data "$GW_OI" --openinference
  fi

  # Gateway without dialects: gen_ai.usage.cost only.
  GW_PLAIN=$T/gateway-plain
  run "$PEEKR" keys create --project py --data "$GW_PLAIN" > "$T/key-gw-plain" || exit 1
  bg "$T/peekr-forward-plain.log" "$PEEKR" serve --data "$GW_PLAIN" --listen 127.0.0.1:0 --http 127.0.0.1:0 \
    --forward "http://127.0.0.1:$PX_GRPC"
  if wait_peekr "$T/peekr-forward-plain.log"; then
    if app "$GRPC_ADDR" "$(cat "$T/key-gw-plain")" OTEL_RESOURCE_ATTRIBUTES=openinference.project.name=peekr-plain; then
      result pass "app.py -> peekr --forward exported its spans"
    else
      result fail "app.py -> peekr --forward exited non-zero"
    fi
    "$PY" tests/python/check.py phoenix --url "$PHOENIX_URL" --project peekr-plain --queries "$QUERIES" --data "$GW_PLAIN"
  fi
fi

# ---------------------------------------------------------------------------------------------
step "summary"
passed=$(grep -c '^pass' "$RESULTS")
failed=$(grep -c '^fail' "$RESULTS")
if [ "$failed" -gt 0 ]; then
  echo "failed checks:"
  grep '^fail' "$RESULTS" | cut -f2- | sed 's/^/  /'
fi
echo "python: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
