#!/usr/bin/env bash
# Ingest benchmark: a release collector with durable commits (synchronous=FULL, group commit)
# on a fresh SQLite file, loaded by bench/loadgen on the same machine. Prints the figures:
# single events and 50-event batches with ordered ids (the figures the targets are about),
# then batches with random UUIDs, as browsers make them (what a B-tree pays for scattered keys).
#   bench/run-ingest.sh [seconds]
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-10}
source bench/collector.sh
start_collector
echo "machine: $(nproc) cores, $(uname -r); collector and load generator share them"
load() { target/release/assent-loadgen --addr "$addr" --write-key pk_bench --seconds "$seconds" "$@"; }
load --mode single --connections 64
load --mode batch --batch-size 50 --connections 32
load --mode batch --batch-size 50 --connections 32 --ids random
echo "stored events: $(sqlite3 "$dir/data/events.db" 'select count(*) from events')"
