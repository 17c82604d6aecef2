#!/usr/bin/env bash
# Dashboard benchmark: a store filled by `assent demo-data` (10 M events over 90 days by default),
# a release collector on it, then every panel's API answer (p50/p95 over repeated requests, as
# the dashboard asks them) and the whole dashboard loaded and drawn in Chromium.
#   bench/run-dashboard.sh              EVENTS=10000000 DAYS=90 by default
# The store is kept in $BENCH_DIR (default /tmp/assent-dashboard-bench) and made again only
# when EVENTS or DAYS change.
set -euo pipefail
cd "$(dirname "$0")/.."
events=${EVENTS:-10000000}
days=${DAYS:-90}
dir=${BENCH_DIR:-/tmp/assent-dashboard-bench}
cargo build --release --quiet -p assent
npm run --silent build --workspace @assent/dashboard
if [ ! -f "$dir/made-$events-$days" ]; then
  rm -rf "$dir"
  mkdir -p "$dir"
  cat > "$dir/assent.toml" <<TOML
listen = "127.0.0.1:0"
data_dir = "$dir/data"
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
echo "store: $(du -sh "$dir/data" | cut -f1) in $(ls "$dir"/data/events/*.db | wc -l) partitions"
RUST_LOG=warn target/release/assent serve --config "$dir/assent.toml" > "$dir/out" 2> "$dir/err" &
pid=$!
trap 'kill $pid 2>/dev/null || true; wait $pid 2>/dev/null || true' EXIT
for _ in $(seq 100); do grep -q 'listening on' "$dir/out" 2>/dev/null && break; sleep 0.1; done
addr=$(sed -n 's#.*listening on http://##p' "$dir/out")
echo "machine: $(nproc) cores, $(uname -r); collector and Chromium share them"
node bench/dashboard.mjs "http://$addr" vk_bench
echo "collector: $(awk '/VmRSS/ { print $2 / 1024 " MB resident" }' /proc/$pid/status)"
