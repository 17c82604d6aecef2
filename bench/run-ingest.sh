#!/usr/bin/env bash
# Ingest benchmark: a release collector with durable commits (synchronous=FULL, group commit)
# on a fresh SQLite file, loaded by bench/loadgen on the same machine. Prints the figures.
#   bench/run-ingest.sh [seconds]
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-10}
cargo build --release --quiet -p assent -p assent-loadgen
dir=$(mktemp -d)
trap 'kill $pid 2>/dev/null || true; wait $pid 2>/dev/null || true; rm -rf "$dir"' EXIT
cat > "$dir/assent.toml" <<TOML
listen = "127.0.0.1:0"
data_dir = "$dir/data"
[store]
durability = "full"
[[projects]]
id = "bench"
write_keys = ["pk_bench"]
TOML
RUST_LOG=warn target/release/assent serve --config "$dir/assent.toml" > "$dir/out" &
pid=$!
for _ in $(seq 100); do grep -q 'listening on' "$dir/out" 2>/dev/null && break; sleep 0.1; done
addr=$(sed -n 's#.*listening on http://##p' "$dir/out")
echo "machine: $(nproc) cores, $(uname -r); collector and load generator share them"
target/release/assent-loadgen --addr "$addr" --write-key pk_bench --mode single --connections 64 --seconds "$seconds"
target/release/assent-loadgen --addr "$addr" --write-key pk_bench --mode batch --batch-size 50 --connections 32 --seconds "$seconds"
echo "stored events: $(sqlite3 "$dir/data/events.db" 'select count(*) from events')"
