#!/usr/bin/env bash
# ABRA Table 2 on RxRx1-like arrayed screens (abra-classification.md, "Table 2 on arrayed
# screens"): for each seed, an arrayed screen of 12 experiments over two cell lines with one
# experiment of each line held out; each method trained with the same recipe and evaluated on the
# held-out experiments without and with AdaBN (with the AdaBN test-batch-size curve).
#
#   Evaluation/experiments/abra_table2_arrayed.sh OUT [STEPS] [SEEDS] [EXTRA SIMULATE FLAGS...]
#
# The screens are `grape simulate --layout arrayed --phenotype-strength 2 --cells-per-well 10`
# followed by the extra simulate flags, if any (e.g. `--experiments 14 --batch-effect 2`).
# Environment: METHODS (default "erm dsu advstyle abra"); EXTRA (more `grape classify train`
# flags, default the recipe below); TAG (suffix of the run folders, default empty); TRAIN (a
# comma-separated list of training experiments; default every one not held out); HOLDOUT (the
# held-out experiments, default HEPG2-06,HUVEC-06); BIN (the grape binary). Finished runs and
# evaluations are skipped, so the script can be rerun to continue.
set -euo pipefail
source "$(dirname "$0")/common.sh"
parse_arguments abra_table2_arrayed.sh 1500 "$@"
methods=${METHODS:-erm dsu advstyle abra}
recipe=(--lr 2e-3 --lr-schedule cosine --warmup-steps 100 --label-smoothing 0.1 --input-normalization image)
read -r -a extra <<<"${EXTRA:-}"
holdout=${HOLDOUT:-HEPG2-06,HUVEC-06}
screen_flags=(--phenotype-strength 2 --cells-per-well 10)
[ $# -le 3 ] || screen_flags+=("${sim_flags[@]}")
for seed in $seeds; do
  dir="$out/seed-$seed"
  mkdir -p "$dir"
  [ -f "$dir/screen.h5" ] || "$bin" simulate --layout arrayed --out "$dir/screen.h5" --seed "$seed" \
    "${screen_flags[@]}" >/dev/null
  train=()
  [ -z "${TRAIN:-}" ] || train=(--train-batches "$TRAIN")
  for method in $methods; do
    run="$dir/run-$method${TAG:-}"
    [ -f "$run/checkpoints/latest" ] || "$bin" classify train --data "$dir/screen.h5" --run "$run" --method "$method" \
      --holdout-batches "$holdout" "${train[@]}" --steps "$steps" --seed "$seed" "${recipe[@]}" "${extra[@]}" >"$run.log" 2>&1
    [ -f "$run/eval/metrics.json" ] || "$bin" classify evaluate --run "$run" --data "$dir/screen.h5" --out "$run/eval" --no-curve >/dev/null
    [ -f "$run/eval-adabn/metrics.json" ] || "$bin" classify evaluate --run "$run" --data "$dir/screen.h5" --out "$run/eval-adabn" --tta --no-splits >/dev/null
  done
done
