#!/usr/bin/env bash
# ABRA Table 2 and Fig. 7 analogue (Evaluation/README.md): for each seed, a simulated screen with
# the last batch held out; ERM, DSU, AdvStyle and ABRA classifiers, each evaluated on the held-out
# batch without and with AdaBN test-time adaptation, and with AdaBN at test batch sizes 8 … 128.
#
#   Evaluation/experiments/abra_table2.sh OUT [STEPS] [SEEDS] [EXTRA SIMULATE FLAGS...]
#
# Defaults: 1500 steps, seeds "1 2 3", `--phenotype-strength 2`.
set -euo pipefail
source "$(dirname "$0")/common.sh"
parse_arguments abra_table2.sh 1500 "$@"
for seed in $seeds; do
  dir="$out/seed-$seed"
  screen_for "$seed" >/dev/null
  for method in erm dsu advstyle abra; do
    run="$dir/run-$method"
    [ -f "$run/checkpoints/latest" ] || "$bin" classify train --data "$dir/screen.h5" --run "$run" --method "$method" --steps "$steps" --seed "$seed"
    "$bin" classify evaluate --run "$run" --data "$dir/screen.h5" --out "$dir/classify-$method" --no-curve
    # AdaBN at batch 64, plus metrics.json's tta_batch_size_curve (batches of 8 … 128, Fig. 7).
    "$bin" classify evaluate --run "$run" --data "$dir/screen.h5" --out "$dir/classify-$method-adabn" --tta
  done
done
python3 "$(dirname "$0")/summarize.py" "$out"
