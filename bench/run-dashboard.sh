#!/usr/bin/env bash
# Dashboard benchmark: a store filled by `assent demo-data` (10 M events over 90 days by default),
# a release collector on it, then every panel's API answer (p50/p95 over repeated requests, as
# the dashboard asks them) and the whole dashboard loaded and drawn in Chromium.
#   bench/run-dashboard.sh              EVENTS=10000000 DAYS=90 by default
#   STORE=postgres bench/run-dashboard.sh   the same on a throwaway PostgreSQL (assent-testbed)
# The SQLite store is kept in $BENCH_DIR (default /tmp/assent-dashboard-bench) and made again
# only when EVENTS or DAYS change; the PostgreSQL one is made at every run.
set -euo pipefail
cd "$(dirname "$0")/.."
events=${EVENTS:-10000000}
days=${DAYS:-90}
store=${STORE:-sqlite}
dir=${BENCH_DIR:-/tmp/assent-dashboard-bench}
[ "$store" = postgres ] && dir="$dir-postgres"
cargo build --release --quiet -p assent -p assent-testbed --bins
npm run --silent build --workspace @assent/dashboard
backend=""
if [ "$store" = postgres ]; then
  rm -rf "$dir"
  mkdir -p "$dir"
  # The cluster lives as long as fd 3 (the testbed's standard input) is open.
  mkfifo "$dir/testbed.in"
  target/release/assent-testbed --nats-nodes 0 < "$dir/testbed.in" > "$dir/testbed.out" 2> "$dir/testbed.err" &
  exec 3> "$dir/testbed.in"
  for _ in $(seq 600); do grep -q '^pids nats' "$dir/testbed.out" 2>/dev/null && break; sleep 0.1; done
  backend="[store]
backend = \"postgres\"
url = \"$(sed -n 's/^postgres //p' "$dir/testbed.out")\""
fi
if [ ! -f "$dir/made-$events-$days" ]; then
  [ "$store" = postgres ] || rm -rf "$dir"
  mkdir -p "$dir"
  cat > "$dir/assent.toml" <<TOML
listen = "127.0.0.1:0"
data_dir = "$dir/data"
$backend
[web]
dashboard_dir = "$PWD/dashboard/dist"
[[projects]]
id = "shop"
write_keys = ["pk_bench"]
admin_tokens = ["sk_bench"]
viewer_tokens = ["vk_bench"]
TOML
  echo "filling the store: $events events over $days days"
  /usr/bin/time -f "demo-data: %e s, %M KB max RSS" target/release/assent demo-data --config "$dir/assent.toml" --events "$events" --days "$days"
  touch "$dir/made-$events-$days"
fi
if [ "$store" = postgres ]; then
  pg_dir=$(sed -n 's/^dir //p' "$dir/testbed.out")
  echo "store: PostgreSQL, $(du -sh "$pg_dir" | cut -f1) of cluster files"
else
  echo "store: $(du -sh "$dir/data" | cut -f1) in $(ls "$dir"/data/events/*.db | wc -l) partitions"
fi
RUST_LOG=warn target/release/assent serve --config "$dir/assent.toml" > "$dir/out" 2> "$dir/err" &
pid=$!
trap 'kill $pid 2>/dev/null || true; wait $pid 2>/dev/null || true' EXIT
for _ in $(seq 100); do grep -q 'listening on' "$dir/out" 2>/dev/null && break; sleep 0.1; done
addr=$(sed -n 's#.*listening on http://##p' "$dir/out")
echo "machine: $(nproc) cores, $(uname -r); collector and Chromium share them"
node bench/dashboard.mjs "http://$addr" vk_bench
echo "collector: $(awk '/VmRSS/ { print $2 / 1024 " MB resident" }' /proc/$pid/status)"
