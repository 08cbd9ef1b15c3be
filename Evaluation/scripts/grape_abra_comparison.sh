#!/usr/bin/env bash
# GRAPE with and without --abra on one simulated screen, same seed and steps: CORUM metrics of the
# exported embeddings (rows of M, per-gene means of style codes) and batch metrics of the per-cell
# style codes. Writes everything under OUT and prints one summary line per evaluation.
#
#   Evaluation/scripts/grape_abra_comparison.sh OUT [STEPS] [SEED] [PHENOTYPE_STRENGTH]
#
# Defaults: 1200 steps, seed 7, phenotype strength 2 (cpu preset, 32 px, 4 batches × 2 plates).
set -euo pipefail
out=${1:?usage: grape_abra_comparison.sh OUT [STEPS] [SEED] [PHENOTYPE_STRENGTH]}
steps=${2:-1200}
seed=${3:-7}
strength=${4:-2}
bin=${BIN:-.build/release/grape}
mkdir -p "$out"
screen="$out/screen.h5"
[ -f "$screen" ] || "$bin" simulate --out "$screen" --seed 3 --phenotype-strength "$strength"
"$bin" features --data "$screen" --out "$out/features.h5"
"$bin" evaluate --embedding "$out/features.h5" --out "$out/eval-features" --no-figures | head -n 1
for variant in grape abra; do
  run="$out/run-$variant"
  flag=""
  [ "$variant" = abra ] && flag="--abra"
  [ -f "$run/checkpoints/latest" ] || "$bin" train --data "$screen" --run "$run" --preset cpu --steps "$steps" --seed "$seed" $flag
  "$bin" export --run "$run" --out "$out/$variant-embedding.h5"
  "$bin" export --run "$run" --out "$out/$variant-style-mean.h5" --source style-mean --data "$screen"
  "$bin" encode --run "$run" --data "$screen" --out "$out/$variant-codes.h5"
  "$bin" evaluate --embedding "$out/$variant-embedding.h5" --out "$out/eval-$variant-embedding" --no-figures | head -n 1
  "$bin" evaluate --embedding "$out/$variant-style-mean.h5" --out "$out/eval-$variant-style-mean" --no-figures | head -n 1
  "$bin" evaluate --cells "$out/$variant-codes.h5" --out "$out/eval-$variant-codes" | head -n 2
done
