#!/usr/bin/env bash
# ABRA ablation (Evaluation/README.md, experiment 4): where the perturbation sits (after residual
# stage 1, 2 or 3 of the classifier; 3 is the default and the paper's best) and which loss terms
# take part (CE; CE + ArcFace; CE + ArcFace + JS, the default). Each variant is trained with
# `grape classify train --method abra --config VARIANT.json` on the screen of each seed, with the
# last batch held out, and evaluated without and with AdaBN.
#
#   Evaluation/experiments/abra_ablation.sh OUT [STEPS] [SEEDS] [EXTRA SIMULATE FLAGS...]
#
# Defaults: 1000 steps, seeds "1 2 3", `--phenotype-strength 2`. The default variant (stage 3,
# all terms) is the `abra` row of abra_table2.sh; pass the same OUT to reuse its screens.
set -euo pipefail
source "$(dirname "$0")/common.sh"
parse_arguments abra_ablation.sh 1000 "$@"
variants=(
  'stage-1 {"perturb_stage": 1}'
  'stage-2 {"perturb_stage": 2}'
  'terms-ce {"abra_terms": "ce"}'
  'terms-ce_arc {"abra_terms": "ce_arc"}'
)
for seed in $seeds; do
  dir="$out/seed-$seed"
  screen=$(screen_for "$seed")
  for variant in "${variants[@]}"; do
    name=${variant%% *}
    run="$dir/run-abra-$name"
    printf '%s\n' "${variant#* }" > "$dir/abra-$name.json"
    [ -f "$run/checkpoints/latest" ] || "$bin" classify train --data "$screen" --run "$run" --method abra \
      --config "$dir/abra-$name.json" --steps "$steps" --seed "$seed"
    "$bin" classify evaluate --run "$run" --data "$screen" --out "$dir/classify-abra-$name" --no-curve
    "$bin" classify evaluate --run "$run" --data "$screen" --out "$dir/classify-abra-$name-adabn" --tta --no-curve
  done
done
python3 "$(dirname "$0")/summarize.py" "$out"
