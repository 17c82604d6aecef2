#!/usr/bin/env bash
# Ingest benchmark: a release collector with durable commits (`durability = "full"`: the WAL is
# fsynced before any `200`) on a fresh store, loaded by bench/loadgen on the same machine, and
# the same loads against a bare axum + serde_json echo in the same run, for the ratio. Prints,
# per mode: requests or events per second, latency, the collector's CPU time per event, and its
# share of the echo's rate.
#   bench/run-ingest.sh [seconds]
#   SINGLE_CONNECTIONS="64 96 128" bench/run-ingest.sh   single events at each count (default 64)
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-10}
source bench/collector.sh
start_collector
start_echo
echo "machine: $(nproc) cores, $(uname -r); collector, echo and load generator share them"
load() { target/release/assent-loadgen --write-key pk_bench --seconds "$seconds" "$@"; }
rate() { sed -n 's/.*: [0-9]* requests\/s, \([0-9]*\) events\/s.*/\1/p'; }
mode() {
  local name=$1; shift
  local before events_before out echo_out
  before=$(cpu_seconds "$pid"); events_before=$(stored_events)
  out=$(load --addr "$addr" "$@")
  local cpu events
  cpu=$(awk -v a="$before" -v b="$(cpu_seconds "$pid")" 'BEGIN { print b - a }')
  events=$(( $(stored_events) - events_before ))
  echo_out=$(load --addr "$echo_addr" "$@")
  echo "$name"
  echo "  assent: $out"
  echo "  echo:   $echo_out"
  awk -v c="$cpu" -v n="$events" -v a="$(echo "$out" | rate)" -v e="$(echo "$echo_out" | rate)" \
    'BEGIN { printf "  assent: %.1f us of CPU per event (%d events stored); %.0f%% of the echo\n", 1e6 * c / n, n, 100 * a / e }'
}
for n in ${SINGLE_CONNECTIONS:-64}; do
  mode "single events, $n connections" --mode single --connections "$n"
done
mode "50-event batches, ordered ids" --mode batch --batch-size 50 --connections 32
mode "50-event batches, random UUID v4 ids" --mode batch --batch-size 50 --connections 32 --ids random
