#!/usr/bin/env bash
# The demo pipeline: every stage that exists runs on a small simulated screen.
set -euo pipefail
bin=${1:-.build/release/grape}
out=${2:-demo-output}
mkdir -p "$out"

echo "== grape bench ops (convolution throughput at the cpu preset's shapes)"
"$bin" bench ops | tee "$out/bench-ops.jsonl"

echo
echo "Demo finished. Results are in $out/"
