#!/usr/bin/env bash
# Sustained ingest: 50-event batches with random UUID v4 ids, as browsers send them, for N
# minutes (default 5) on one durable store, measured a minute at a time, so that the last
# minute (the store then holds tens of millions of events) can be compared with the first.
# Prints each minute's rate and latency, the WAL and disk sizes, and the collector's CPU per
# event.
#   bench/run-sustained.sh [minutes] [connections]
set -euo pipefail
cd "$(dirname "$0")/.."
minutes=${1:-5}
connections=${2:-32}
source bench/collector.sh
start_collector
echo "machine: $(nproc) cores, $(uname -r); collector and load generator share them"
first=
for m in $(seq "$minutes"); do
  before=$(cpu_seconds "$pid")
  out=$(target/release/assent-loadgen --addr "$addr" --write-key pk_bench --seconds 60 --warmup 0 \
    --mode batch --batch-size 50 --connections "$connections" --ids random)
  cpu=$(awk -v a="$before" -v b="$(cpu_seconds "$pid")" 'BEGIN { print b - a }')
  rate=$(echo "$out" | sed -n 's/.*requests\/s, \([0-9]*\) events\/s.*/\1/p')
  first=${first:-$rate}
  wal=$(du -cb "$dir"/data/events/*-wal 2>/dev/null | tail -1 | cut -f1)
  disk=$(du -sb "$dir/data" | cut -f1)
  echo "minute $m: $out"
  awk -v c="$cpu" -v r="$rate" -v f="$first" -v w="${wal:-0}" -v d="$disk" \
    'BEGIN { printf "  %.1f us of CPU per event; %.0f%% of the first minute; WAL %.0f MB, data %.1f GB\n", 1e6 * c / (r * 60), 100 * r / f, w / 1e6, d / 1e9 }'
done
echo "stored events: $(stored_events)"
