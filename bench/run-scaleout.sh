#!/usr/bin/env bash
# Scale-out benchmark, every part on this one machine (so it measures overhead, not scale):
# a PostgreSQL cluster and a 3-node JetStream cluster (R3 stream, file storage), started by
# assent-testbed; then, one after the other on the same load (50-event batches, random UUID v4
# ids, 2 load generators of 16 connections each):
#   queue   2 collectors publishing to JetStream + 1 sink draining it into PostgreSQL
#   direct  2 collectors writing to PostgreSQL themselves (group commit)
#   sqlite  1 collector on the embedded SQLite store (bench/collector.sh), the reference
# Prints, per mode: events/s acknowledged, p50/p99, events/s stored (until the sink has caught
# up), and the CPU time per stored event of each part: collectors, sink, NATS nodes, PostgreSQL.
#   bench/run-scaleout.sh [seconds]
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-10}
cargo build --release --quiet -p assent-testbed --bins
source bench/collector.sh

# The servers live as long as fd 3 (the testbed's standard input) is open.
mkfifo "$dir/testbed.in"
target/release/assent-testbed < "$dir/testbed.in" > "$dir/testbed.out" 2> "$dir/testbed.err" &
testbed_pid=$!
exec 3> "$dir/testbed.in"
for _ in $(seq 600); do grep -q '^pids nats' "$dir/testbed.out" 2>/dev/null && break; sleep 0.1; done
pg_url=$(sed -n 's/^postgres //p' "$dir/testbed.out")
nats_urls=$(sed -n 's/^nats //p' "$dir/testbed.out")
pg_pid=$(sed -n 's/^pids postgres //p' "$dir/testbed.out")
nats_pids=$(sed -n 's/^pids nats //p' "$dir/testbed.out")
[ -n "$pg_url" ] || { cat "$dir/testbed.err"; exit 1; }
servers=$(echo "$nats_urls" | sed 's/[^,]*/"&"/g; s/,/, /g')
parts_pids=()
cleanup() {
  kill "${parts_pids[@]}" 2>/dev/null || true
  wait "${parts_pids[@]}" 2>/dev/null || true
  exec 3>&-
  wait "$testbed_pid" 2>/dev/null || true
}
trap 'cleanup; kill $pid $echo_pid 2>/dev/null || true; rm -rf "$dir"' EXIT

psql_() { psql "$1" -XAtqc "$2"; }
psql_ "$pg_url" "CREATE DATABASE direct" >/dev/null
direct_url=${pg_url%/*}/direct

# CPU seconds of a process tree: PostgreSQL's postmaster with its backends (and those that
# exited), or any one process.
cpu_tree() {
  { awk '{ print $14 + $15 + $16 + $17 }' "/proc/$1/stat"
    for c in $(ps --ppid "$1" -o pid= 2>/dev/null); do awk '{ print $14 + $15 }' "/proc/$c/stat" 2>/dev/null; done
  } | awk '{ t += $1 } END { printf "%.2f", t / 100 }'
}
cpu_sum() { for p in "$@"; do cpu_seconds "$p"; echo; done | awk '{ t += $1 } END { printf "%.2f", t }'; }

config() { # name, [store] lines, extra sections
  cat > "$dir/$1.toml" <<TOML
listen = "127.0.0.1:0"
data_dir = "$dir/$1-data"
[store]
durability = "full"
keys_dir = "$dir/keys"
$2
$3
[web]
demo = false
[[projects]]
id = "bench"
write_keys = ["pk_bench"]
TOML
}
config queue "backend = \"postgres\"
url = \"$pg_url\"" "[queue]
backend = \"nats\"
servers = [$servers]
replicas = 3"
config direct "backend = \"postgres\"
url = \"$direct_url\"" ""

start_part() { # config, kind (serve|sink); sets $part_pid and $part_addr
    # 3>&-: only this script may hold the testbed's standard input open.
  RUST_LOG=warn target/release/assent "$2" --config "$dir/$1.toml" > "$dir/$1-$2-$$.out" 2>> "$dir/$1.err" 3>&- &
  part_pid=$!
  parts_pids+=("$part_pid")
  for _ in $(seq 200); do grep -qE 'listening on|draining' "$dir/$1-$2-$$.out" 2>/dev/null && break; sleep 0.05; done
  part_addr=$(sed -n 's#.*listening on http://##p' "$dir/$1-$2-$$.out")
  mv "$dir/$1-$2-$$.out" "$dir/$1-$2-$part_pid.out"
}

pg_events() { psql_ "$1" "SELECT count(*) FROM events"; }

# Loads both collectors at once; prints their two summary lines.
load_two() {
  target/release/assent-loadgen --addr "$1" --write-key pk_bench --seconds "$seconds" \
        --mode batch --batch-size 50 --connections 16 --ids random > "$dir/load1" 3>&- &
  local l1=$!
  target/release/assent-loadgen --addr "$2" --write-key pk_bench --seconds "$seconds" \
        --mode batch --batch-size 50 --connections 16 --ids random > "$dir/load2" 3>&- &
  wait "$l1" $!
  cat "$dir/load1" "$dir/load2"
}

# Sums the two loads' rates; the worse p50/p99.
summary() {
  sed -n 's/.*requests\/s, \([0-9]*\) events\/s, p50 \([0-9.]*\) ms, p99 \([0-9.]*\) ms.*/\1 \2 \3/p' |
    awk '{ r += $1; if ($2 > p50) p50 = $2; if ($3 > p99) p99 = $3 } END { printf "%d events/s acknowledged, p50 %.1f ms, p99 %.1f ms", r, p50, p99 }'
}

scale_mode() { # name, url, with sink (yes|no)
  local name=$1 url=$2 sink=$3
  start_part "$name" serve; local c1=$part_pid a1=$part_addr
  start_part "$name" serve; local c2=$part_pid a2=$part_addr
  local s=
  if [ "$sink" = yes ]; then start_part "$name" sink; s=$part_pid; fi
  local before_events cpu_c cpu_s cpu_n cpu_p started
  before_events=$(pg_events "$url")
  cpu_c=$(cpu_sum "$c1" "$c2"); cpu_s=$([ -n "$s" ] && cpu_seconds "$s" || echo 0)
  cpu_n=$(cpu_sum $nats_pids); cpu_p=$(cpu_tree "$pg_pid")
    local lsn; lsn=$(psql_ "$url" "SELECT pg_current_wal_lsn()")
  started=$(date +%s.%N)
  local out; out=$(load_two "$a1" "$a2")
    # Stored: wait until the count has not grown for 5 s (the sink has drained the stream); the
  # end is the moment of the last growth.
  local last=-1 now ended changed
  changed=$(date +%s.%N)
  while :; do
    now=$(pg_events "$url")
    if [ "$now" != "$last" ]; then last=$now; changed=$(date +%s.%N); fi
    awk -v c="$changed" -v t="$(date +%s.%N)" 'BEGIN { exit !(t - c > 5) }' && break
    sleep 0.5
  done
  ended=$changed
  local stored
  stored=$(( now - before_events ))
    local wal size
  wal=$(psql_ "$url" "SELECT pg_wal_lsn_diff(pg_current_wal_lsn(), '$lsn')")
  size=$(psql_ "$url" "SELECT sum(pg_total_relation_size(inhrelid)) FROM pg_inherits WHERE inhparent = 'events'::regclass")
  echo "$name: $(echo "$out" | summary)"
  awk -v n="$stored" -v t0="$started" -v t1="$ended" -v c="$(awk -v a="$cpu_c" -v b="$(cpu_sum "$c1" "$c2")" 'BEGIN{print b-a}')" \
      -v s="$(awk -v a="$cpu_s" -v b="$([ -n "$s" ] && cpu_seconds "$s" || echo 0)" 'BEGIN{print b-a}')" \
      -v k="$(awk -v a="$cpu_n" -v b="$(cpu_sum $nats_pids)" 'BEGIN{print b-a}')" \
            -v p="$(awk -v a="$cpu_p" -v b="$(cpu_tree "$pg_pid")" 'BEGIN{print b-a}')" -v w="$wal" -v z="$size" \
      'BEGIN { printf "  %d events stored, %.0f events/s until stored (load %ss, the last stored %.1f s after the start)\n", n, n / (t1 - t0), "'"$seconds"'+2", t1 - t0;
                              printf "  CPU per stored event: collectors %.1f us, sink %.1f us, NATS nodes %.1f us, PostgreSQL %.1f us\n", 1e6*c/n, 1e6*s/n, 1e6*k/n, 1e6*p/n;
               printf "  PostgreSQL: %.0f bytes of WAL and %.0f bytes of events tables (indexes included) per stored event\n", w/n, z/n }'
  kill "$c1" "$c2" $s 2>/dev/null || true
  wait "$c1" "$c2" $s 2>/dev/null || true
}

echo "machine: $(nproc) cores, $(uname -r); every part and both load generators share them"
echo "PostgreSQL $(psql_ "$pg_url" 'SHOW server_version'), nats-server $(/usr/sbin/nats-server --version | sed 's/.* v//'), 3 nodes, R3 file stream"
scale_mode queue "$pg_url" yes
scale_mode direct "$direct_url" no

# The reference: the embedded store, one collector, the same load from both generators. The
# servers are stopped first (their standard input closes).
exec 3>&-
wait "$testbed_pid" 2>/dev/null || true
start_collector
before=$(cpu_seconds "$pid"); events_before=$(stored_events); started=$(date +%s.%N)
out=$(load_two "$addr" "$addr")
ended=$(date +%s.%N)
stored=$(( $(stored_events) - events_before ))
echo "sqlite: $(echo "$out" | summary)"
awk -v n="$stored" -v c="$(awk -v a="$before" -v b="$(cpu_seconds "$pid")" 'BEGIN{print b-a}')" -v t0="$started" -v t1="$ended" \
  'BEGIN { printf "  %d events stored, %.0f events/s until stored; CPU per stored event: collector %.1f us\n", n, n / (t1 - t0), 1e6*c/n }'
