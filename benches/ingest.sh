#!/usr/bin/env bash
# Receiver ingest throughput and memory: OTLP/gRPC → enriched → committed, measured end to end
# with a separate load-generator process on loopback.
#   usage: benches/ingest.sh [SPANS] [BATCH] [CLIENTS]     (defaults 1000000 1000 8)
# Prints spans/s acknowledged, and the server's peak and final RSS (VmHWM / VmRSS).
set -euo pipefail
cd "$(dirname "$0")/.."
SPANS=${1:-1000000}; BATCH=${2:-1000}; CLIENTS=${3:-8}
cargo build -q --release --features server --bin peekr --example loadgen
dir=$(mktemp -d); port=$((20000 + RANDOM % 20000)); http=$((port + 1))
key=$(target/release/peekr keys create --project bench --data "$dir" 2>/dev/null)
target/release/peekr serve --data "$dir" --listen 127.0.0.1:$port --http 127.0.0.1:$http 2>/dev/null &
pid=$!
trap 'kill $pid 2>/dev/null; rm -rf "$dir"' EXIT
for _ in $(seq 100); do (echo > /dev/tcp/127.0.0.1/$port) 2>/dev/null && break; sleep 0.1; done
peak=0
( while kill -0 $pid 2>/dev/null; do r=$(awk '/VmRSS/{print $2}' /proc/$pid/status 2>/dev/null || echo 0); echo "$r"; sleep 0.5; done ) > "$dir/rss.log" &
cpu0=$(awk '{print $14 + $15}' /proc/$pid/stat)
/usr/bin/time -f "loadgen CPU: %U s user + %S s system, %e s wall" \
  target/release/examples/loadgen --endpoint http://127.0.0.1:$port --key "$key" --spans "$SPANS" --batch "$BATCH" --clients "$CLIENTS"
cpu1=$(awk '{print $14 + $15}' /proc/$pid/stat)
echo "server CPU during the load: $(( (cpu1 - cpu0) / $(getconf CLK_TCK) )) s (user + system)"
echo "server peak RSS (VmHWM): $(awk '/VmHWM/{print $2/1024 " MiB"}' /proc/$pid/status)"
echo "server RSS now (VmRSS):  $(awk '/VmRSS/{print $2/1024 " MiB"}' /proc/$pid/status)"
echo "RSS samples (MiB, every 0.5 s): $(awk '{printf "%d ", $1/1024}' "$dir/rss.log")"
echo "stored spans: $(target/release/peekr sql --data "$dir" 'SELECT COUNT(*) FROM spans' | tail -n 1)"
