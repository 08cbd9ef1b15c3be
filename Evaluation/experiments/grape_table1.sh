#!/usr/bin/env bash
# GRAPE Table 1 and Fig. 4 analogue, and the batch metrics of the same runs (Evaluation/README.md):
# for each seed, a simulated screen, the engineered features (raw, and standardised per batch by the
# control cells), the untrained networks (`--steps 0`), GRAPE and GRAPE + ABRA (cpu preset), each
# exported as rows of M and as per-gene means of style codes, all evaluated with 100 k-means
# restarts and the k sweep; per-cell codes evaluated for batch effect.
#
#   Evaluation/experiments/grape_table1.sh OUT [STEPS] [SEEDS] [EXTRA SIMULATE FLAGS...]
#
# Defaults: 1200 steps, seeds "1 2 3", `--phenotype-strength 2`. About 45 min per training run on
# 2 idle cores at the default steps (two runs per seed).
#
# VARIANTS (default "grape abra") picks the training runs: `grape`, `abra` (`--abra`), and
# `grape-no-dcls`, `abra-no-dcls`, the same without D's auxiliary gene classification
# (`{"lambda_d_cls": 0}`, the CPU recipe before it).
set -euo pipefail
source "$(dirname "$0")/common.sh"
parse_arguments grape_table1.sh 1200 "$@"
for seed in $seeds; do
  dir="$out/seed-$seed"
  screen_for "$seed" >/dev/null
  "$bin" features --data "$dir/screen.h5" --out "$dir/features.h5"
  "$bin" evaluate --embedding "$dir/features.h5" --out "$dir/eval-features" --seed "$seed" | head -n 1
  "$bin" features --data "$dir/screen.h5" --out "$dir/features-controls.h5" --normalize controls
  "$bin" evaluate --embedding "$dir/features-controls.h5" --out "$dir/eval-features-controls" --seed "$seed" | head -n 1
  # The untrained networks (`--steps 0`): what the style codes of a random encoder already give.
  untrained="$dir/run-untrained"
  [ -f "$untrained/checkpoints/latest" ] || "$bin" train --data "$dir/screen.h5" --run "$untrained" --preset cpu --steps 0 --seed "$seed"
  "$bin" export --run "$untrained" --out "$dir/untrained-style-mean.h5" --source style-mean --data "$dir/screen.h5"
  "$bin" encode --run "$untrained" --data "$dir/screen.h5" --out "$dir/untrained-codes.h5"
  "$bin" evaluate --embedding "$dir/untrained-style-mean.h5" --out "$dir/eval-untrained-style-mean" --seed "$seed" | head -n 1
  "$bin" evaluate --cells "$dir/untrained-codes.h5" --out "$dir/eval-untrained-codes" --seed "$seed" | head -n 2
  for variant in ${VARIANTS:-grape abra}; do
    run="$dir/run-$variant"
    flag=()
    case "$variant" in abra*) flag+=(--abra) ;; esac
    case "$variant" in
      *-no-dcls) printf '{"lambda_d_cls": 0}\n' > "$dir/no-dcls.json"; flag+=(--config "$dir/no-dcls.json") ;;
    esac
    [ -f "$run/checkpoints/latest" ] || "$bin" train --data "$dir/screen.h5" --run "$run" --preset cpu --steps "$steps" --seed "$seed" "${flag[@]}"
    "$bin" export --run "$run" --out "$dir/$variant-embedding.h5"
    "$bin" export --run "$run" --out "$dir/$variant-style-mean.h5" --source style-mean --data "$dir/screen.h5"
    "$bin" encode --run "$run" --data "$dir/screen.h5" --out "$dir/$variant-codes.h5"
    "$bin" evaluate --embedding "$dir/$variant-embedding.h5" --out "$dir/eval-$variant-embedding" --seed "$seed" | head -n 1
    "$bin" evaluate --embedding "$dir/$variant-style-mean.h5" --out "$dir/eval-$variant-style-mean" --seed "$seed" | head -n 1
    "$bin" evaluate --cells "$dir/$variant-codes.h5" --out "$dir/eval-$variant-codes" --seed "$seed" | head -n 2
  done
done
python3 "$(dirname "$0")/summarize.py" "$out"
