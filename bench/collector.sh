# Sourced by the ingest benchmarks: builds the release collector and the load generator, and
# writes a config for a fresh store in a temporary directory with durable commits
# (`durability = "full"`: the WAL is fsynced before any `200`).
#   start_collector   starts it (again) on that store; sets $pid and $addr
# The directory and the collector go when the script exits.
cargo build --release --quiet -p assent -p assent-loadgen
dir=$(mktemp -d)
pid=
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

start_collector() {
  RUST_LOG=warn target/release/assent serve --config "$dir/assent.toml" > "$dir/out" &
  pid=$!
  for _ in $(seq 100); do grep -q 'listening on' "$dir/out" 2>/dev/null && break; sleep 0.1; done
  addr=$(sed -n 's#.*listening on http://##p' "$dir/out")
}
