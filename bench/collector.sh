# Sourced by the ingest benchmarks: builds the release collector and the load generator, and
# writes a config for a fresh store in a temporary directory with durable commits
# (`durability = "full"`: the WAL is fsynced before any `200`).
#   start_collector   starts it (again) on that store; sets $pid and $addr
# The directory and the collector go when the script exits.
cargo build --release --quiet -p assent -p assent-loadgen --bins
dir=$(mktemp -d)
pid=
echo_pid=
trap 'kill $pid $echo_pid 2>/dev/null || true; wait $pid $echo_pid 2>/dev/null || true; rm -rf "$dir"' EXIT
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
  RUST_LOG=warn target/release/assent serve --config "$dir/assent.toml" > "$dir/out" 2> "$dir/err" &
  pid=$!
  for _ in $(seq 100); do grep -q 'listening on' "$dir/out" 2>/dev/null && break; sleep 0.1; done
  addr=$(sed -n 's#.*listening on http://##p' "$dir/out")
}

# CPU seconds (user + system) a process has used so far.
cpu_seconds() { awk '{ printf "%.2f", ($14 + $15) / 100 }' "/proc/$1/stat"; }

# Events stored so far, over every daily partition.
stored_events() {
  for f in "$dir"/data/events/*.db; do
    if [ -e "$f" ]; then sqlite3 "$f" 'select count(*) from events'; fi
  done | awk '{ n += $1 } END { print n + 0 }'
}

# The yardstick: a bare axum + serde_json echo (bench/loadgen/src/bin/echo.rs); sets $echo_pid
# and $echo_addr.
start_echo() {
  target/release/echo --addr 127.0.0.1:0 > "$dir/echo.out" &
  echo_pid=$!
  for _ in $(seq 100); do grep -q 'listening on' "$dir/echo.out" 2>/dev/null && break; sleep 0.1; done
  echo_addr=$(sed -n 's#.*listening on http://##p' "$dir/echo.out")
}
