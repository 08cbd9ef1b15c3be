#!/usr/bin/env bash
# Import throughput, peak memory and random mini-batch reads on a store of about 207,000 cells of
# 4×96×96 (Evaluation/performance.md, "Import and reading").
#
#   scripts/opsdata_import_benchmark.sh [WORK_DIR]     (default /tmp/grape-import-bench)
#
# Writes 230 LZW-compressed 4×2048×2048 uint16 tiles (about 5.4 GB) with the toolkit's own TIFF
# writer, imports them with the release build under /usr/bin/time -v (no normalisation, then
# percentile, and without compression), times random mini-batches of 16 and 256 cells with
# `grape inspect --time-reads` and with h5py; then imports CROPS (default 20000) single-cell TIFF
# files the same way. WORK_DIR is deleted at the end unless KEEP=1.
set -euo pipefail
cd "$(dirname "$0")/.."
WORK=${1:-/tmp/grape-import-bench}
TILES=${TILES:-230}
CROPS=${CROPS:-20000}
mkdir -p "$WORK"

swift build -c release --product grape
swift build --build-tests
if [ ! -f "$WORK/cells.csv" ]; then
  GRAPE_IMPORT_BENCH_DIR="$WORK" GRAPE_IMPORT_BENCH_TILES="$TILES" \
    swift test --skip-build --filter OPSDataTests.BenchmarkInput
fi
echo "input: $(($(wc -l < "$WORK/cells.csv") - 1)) table rows, $(du -sh "$WORK/tiles" | cut -f1) of tiles"

run_import() {  # name table extra-flags...
  local name=$1 table=$2
  shift 2
  echo "== grape import $* ($name)"
  /usr/bin/time -v .build/release/grape import --table "$table" --images "$WORK" \
    --out "$WORK/$name.h5" "$@" 2> "$WORK/import-$name.log"
  grep -E "^import: (reading|pass)|User time|System time|Elapsed|Maximum resident" "$WORK/import-$name.log" \
    | grep -v "%)"
  ls -la "$WORK/$name.h5"
}
run_import cells-none "$WORK/cells.csv"
run_import cells-percentile "$WORK/cells.csv" --normalize percentile
rm -f "$WORK/cells-percentile.h5"
run_import cells-raw "$WORK/cells.csv" --compression none

echo "== random mini-batch reads"
.build/release/grape inspect "$WORK/cells-none.h5" --sample 200 --time-reads 16,256 --time-batches 200 | grep "random reads"
python3 scripts/reference/opsdata_h5py_reads.py "$WORK/cells-none.h5" --batches 200 --sizes 16,256

python3 scripts/reference/opsdata_h5py_reads.py "$WORK/cells-raw.h5" --batches 100 --sizes 16,256
.build/release/grape inspect "$WORK/cells-raw.h5" --sample 50 --time-reads 16,256 --time-batches 200 | grep "random reads"
rm -f "$WORK"/cells-*.h5

if [ ! -f "$WORK/crops.csv" ]; then
  GRAPE_IMPORT_BENCH_DIR="$WORK" GRAPE_IMPORT_BENCH_CROPS="$CROPS" \
    swift test --skip-build --filter OPSDataTests.BenchmarkInput
fi
run_import crops-deflate "$WORK/crops.csv"
run_import crops-raw "$WORK/crops.csv" --compression none

if [ "${KEEP:-0}" != "1" ]; then rm -rf "$WORK"; fi
