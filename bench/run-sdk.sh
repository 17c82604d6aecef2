#!/usr/bin/env bash
# Server-side SDK benchmarks: what one `track()` call costs, and how many events per second one
# client delivers to a release collector with durable commits, beside the collector's own
# maximum measured in the same run by the load generator (same batch size and concurrency, fresh
# store each).
#   bench/run-sdk.sh [seconds] [batch size] [requests in flight]
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-10}
batch=${2:-500}
in_flight=${3:-8}
source bench/collector.sh
cargo build --release --quiet -p assent-sdk --example throughput
echo "machine: $(nproc) cores, $(uname -r); collector, load generator and SDK share them"

echo "--- track() enqueue cost"
cargo bench --quiet -p assent-sdk --bench track 2>/dev/null

fresh_store() {
  kill "$pid"; wait "$pid" 2>/dev/null || true
  rm -rf "$dir/data"
  start_collector
  [ -n "$addr" ] || { echo "the collector did not start:"; cat "$dir/out"; exit 1; }
}

# The collector's CPU time per stored event so far (its own measure of how costly the events are).
collector_cpu() {
  local events
  # Events live in one SQLite file per day of receipt.
  events=$(for f in "$dir"/data/events/*.db; do sqlite3 "$f" 'select count(*) from events'; done |
    awk '{ n += $1 } END { print n + 0 }')
  awk -v n="$events" '{ printf "  collector: %.1f us of CPU per stored event (%d events)\n", 1e6 * ($14 + $15) / 100 / n, n }' "/proc/$pid/stat"
}

echo "--- one client against the collector, then the collector's maximum"
start_collector
sdk=$(target/release/examples/throughput "http://$addr" pk_bench "$seconds" "$batch" "$in_flight")
echo "$sdk"
collector_cpu
max_rate=0
for connections in "$in_flight" 32; do
  fresh_store
  max=$(target/release/assent-loadgen --addr "$addr" --write-key pk_bench --seconds "$seconds" \
    --mode batch --batch-size "$batch" --connections "$connections")
  echo "loadgen: $max"
  collector_cpu
  rate=$(sed -n 's/.* requests\/s, \([0-9]*\) events\/s.*/\1/p' <<<"$max")
  [ "$rate" -gt "$max_rate" ] && max_rate=$rate
done
sdk_rate=$(sed -n 's/^sdk: \([0-9]*\) events\/s.*/\1/p' <<<"$sdk")
awk -v s="$sdk_rate" -v m="$max_rate" 'BEGIN { printf "ratio: one SDK client reaches %.0f %% of the collector'"'"'s maximum (%d / %d events/s)\n", 100 * s / m, s, m }'
