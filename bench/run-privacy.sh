#!/usr/bin/env bash
# Privacy operations at scale: a release build fills a year of daily partitions with 50 million
# events of 500 000 subjects, then exports and deletes single subjects through the store seam,
# as the server and the CLI do, and times retention dropping a partition of 5 million events.
#   bench/run-privacy.sh [events] [subjects] [days]
set -euo pipefail
cd "$(dirname "$0")/.."
events=${1:-50000000}
subjects=${2:-500000}
days=${3:-365}
cargo build --release --quiet -p assent-store --example privacy_scale
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
echo "machine: $(nproc) cores, $(uname -r); load average $(cut -d' ' -f1-3 /proc/loadavg)"
target/release/examples/privacy_scale "$events" "$subjects" "$days" "$dir"
