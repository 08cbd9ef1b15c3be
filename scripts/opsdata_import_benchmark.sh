#!/usr/bin/env bash
# Import throughput, peak memory and random mini-batch reads on a store of about 207,000 cells of
# 4×96×96 (Evaluation/performance.md, "Import and reading").
#
#   scripts/opsdata_import_benchmark.sh [WORK_DIR]     (default /tmp/grape-import-bench)
#
# Writes 230 LZW-compressed 4×2048×2048 uint16 tiles (about 5.7 GB) with the toolkit's own TIFF
# writer, imports them with the release build under /usr/bin/time -v (no normalisation, then
# percentile), times random mini-batches of 16 and 256 cells with `grape inspect --time-reads` and
# with h5py, then deletes WORK_DIR unless KEEP=1.
set -euo pipefail
cd "$(dirname "$0")/.."
WORK=${1:-/tmp/grape-import-bench}
TILES=${TILES:-230}
mkdir -p "$WORK"

swift build -c release --product grape
swift build --build-tests
if [ ! -f "$WORK/cells.csv" ]; then
  GRAPE_IMPORT_BENCH_DIR="$WORK" GRAPE_IMPORT_BENCH_TILES="$TILES" \
    swift test --skip-build --filter OPSDataTests.BenchmarkInput
fi
echo "input: $(($(wc -l < "$WORK/cells.csv") - 1)) table rows, $(du -sh "$WORK/tiles" | cut -f1) of tiles"

for mode in none percentile; do
  echo "== grape import --normalize $mode"
  /usr/bin/time -v .build/release/grape import --table "$WORK/cells.csv" --images "$WORK" \
    --out "$WORK/cells-$mode.h5" --normalize "$mode" 2> "$WORK/import-$mode.log"
  grep -E "^import: pass|Elapsed|Maximum resident" "$WORK/import-$mode.log"
  ls -la "$WORK/cells-$mode.h5"
done

echo "== random mini-batch reads"
.build/release/grape inspect "$WORK/cells-none.h5" --sample 200 --time-reads 16,256 --time-batches 200 | grep "random reads"
python3 scripts/reference/opsdata_h5py_reads.py "$WORK/cells-none.h5" --batches 200 --sizes 16,256

if [ "${KEEP:-0}" != "1" ]; then rm -rf "$WORK"; fi
