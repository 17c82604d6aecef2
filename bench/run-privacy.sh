#!/usr/bin/env bash
# Privacy operations at scale: a release build fills a fresh store with 5 million
# events of 100 000 subjects, then deletes and exports single subjects through the same code
# the server and the CLI use, and prints the figures.
#   bench/run-privacy.sh [events] [subjects]
set -euo pipefail
cd "$(dirname "$0")/.."
events=${1:-5000000}
subjects=${2:-100000}
cargo build --release --quiet -p assent-store --example privacy_scale
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
echo "machine: $(nproc) cores, $(uname -r)"
target/release/examples/privacy_scale "$events" "$subjects" "$dir"
