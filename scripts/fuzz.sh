#!/usr/bin/env bash
# `make fuzz`: the safetensors, TIFF, cell-store, embedding-table and AnnData readers under libFuzzer with AddressSanitizer,
# each for FUZZ_SECONDS (default 60), seeded with the test fixtures. Prints one line per reader:
# executions, the corpus it grew, and crashes (a crashing input is kept under FUZZ_OUT and can be
# replayed with a plain build: `.build/debug/grape-fuzz TARGET FILE`).
set -uo pipefail
cd "$(dirname "$0")/.."
seconds=${FUZZ_SECONDS:-60}
out=${FUZZ_OUT:-.build/fuzz-runs}
swift build -c release --product grape-fuzz --build-path .build/fuzz \
  -Xswiftc -sanitize=fuzzer,address -Xswiftc -DFUZZING -Xswiftc -Xclang-linker -Xswiftc -fuse-ld=lld || exit 1
bin=.build/fuzz/release/grape-fuzz
declare -A seeds=(
  [safetensors]="Tests/NeuralNetTests/Fixtures/*.safetensors Tests/GRAPETests/Fixtures/*.safetensors"
  [tiff]="Tests/OPSDataTests/Fixtures/import/*/*.tif Tests/OPSDataTests/Fixtures/tiff/*.tif"
  [cellstore]="Tests/OPSDataTests/Fixtures/stores/*.h5"
  [table]="Tests/OPSDataTests/Fixtures/inputs/*.csv Tests/OPSDataTests/Fixtures/inputs/*.tsv"
  [anndata]="Tests/OPSDataTests/Fixtures/inputs/*.h5ad Tests/OPSDataTests/Fixtures/embedding/*.h5ad"
)
status=0
printf 'reader\tseconds\texecutions\tcorpus\tcrashes\n'
for target in safetensors tiff cellstore table anndata; do
  corpus="$out/$target"
  rm -rf "$corpus" "$out"/crash-"$target"-* && mkdir -p "$corpus"
  # shellcheck disable=SC2086
  cp ${seeds[$target]} "$corpus"/ 2>/dev/null
  # Leak checks are off at exit too: libhdf5 and Foundation's file reads keep allocations there.
  ASAN_OPTIONS=detect_leaks=0 GRAPE_FUZZ_TARGET=$target "$bin" "$corpus" -max_total_time="$seconds" -max_len=65536 -rss_limit_mb=4096 \
    -artifact_prefix="$out/crash-$target-" -print_final_stats=1 -detect_leaks=0 >"$out/$target.log" 2>&1
  code=$?
  runs=$(grep -oE 'stat::number_of_executed_units: *[0-9]+' "$out/$target.log" | grep -oE '[0-9]+$' | tail -1)
  crashes=$(find "$out" -maxdepth 1 -name "crash-$target-*" | wc -l)
  printf '%s\t%s\t%s\t%s\t%s\n' "$target" "$seconds" "${runs:-?}" "$(find "$corpus" -type f | wc -l)" "$crashes"
  if [ "$code" -ne 0 ] || [ "$crashes" -gt 0 ]; then status=1; fi
done
exit $status
