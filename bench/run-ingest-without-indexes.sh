#!/usr/bin/env bash
# Where the ingest ceiling is: the benchmark of run-ingest.sh against a store whose `events`
# table has had its indexes dropped (no dedupe, no subject lookups, no retention index), so
# what is left is HTTP, decode, policy, enrichment and one row per event. Not a configuration
# anyone should run: it answers "how fast without the indexes the issue requires?".
#   bench/run-ingest-without-indexes.sh [seconds]
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-10}
source bench/collector.sh
start_collector
kill "$pid"; wait "$pid" || true
sqlite3 "$dir/data/events.db" 'DROP INDEX events_by_message; DROP INDEX events_by_user;
  DROP INDEX events_by_anonymous_id; DROP INDEX events_by_received;'
start_collector
echo "machine: $(nproc) cores, $(uname -r); collector and load generator share them; NO indexes on events"
load() { target/release/assent-loadgen --addr "$addr" --write-key pk_bench --seconds "$seconds" "$@"; }
load --mode single --connections 64
load --mode batch --batch-size 50 --connections 32
