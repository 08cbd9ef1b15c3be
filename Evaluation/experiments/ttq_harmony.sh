#!/usr/bin/env bash
# ttq_harmony.sh OUT "SEEDS" VARIANT=RUN:STEPS ...
#
# The time-to-quality rows of GRAPE's per-cell codes through the practitioners' pipeline: for
# every checkpoint of each run (OUT/seed-S/RUN, trained for STEPS steps standing for 30 idle
# minutes), `grape export --source style-mean --normalize controls --harmony` over the screen
# OUT/seed-S/screen.h5, scored with `grape evaluate --seed S`. Prints ttq.tsv rows (variant,
# source, seed, step, minutes, map, nmi, ari) for `ttq.py --results`.
set -euo pipefail
out=$1; seeds=$2; shift 2
bin=${GRAPE:-grape}
budget=${MINUTES:-30}
echo -e "variant\tsource\tseed\tstep\tminutes\tmap\tnmi\tari"
for seed in $seeds; do
  dir=$out/seed-$seed
  for spec in "$@"; do
    variant=${spec%%=*}; rest=${spec#*=}; run=$dir/${rest%%:*}; steps=${rest##*:}
    for ck in "$run"/checkpoints/step-*; do
      step=$((10#${ck##*step-}))
      emb=$dir/ttqh-$variant-$step.h5
      [ -f "$emb" ] || "$bin" export --run "$run" --checkpoint "$step" --data "$dir/screen.h5" --source style-mean \
        --normalize controls --harmony --out "$emb" >/dev/null 2>&1
      "$bin" evaluate --embedding "$emb" --out "$dir/eval-ttqh-$variant-$step" --seed "$seed" --no-figures >/dev/null
      python3 - "$variant" "$seed" "$step" "$steps" "$budget" "$dir/eval-ttqh-$variant-$step/metrics.json" <<'PY'
import json, sys
variant, seed, step, steps, budget, path = sys.argv[1:]
m = json.load(open(path))
minutes = int(step) / int(steps) * float(budget)
print(f"{variant}\tstyle-mean+harmony\t{seed}\t{step}\t{minutes:.2f}\t{m['map']:.4f}\t{m['kmeans']['nmi']['mean']:.4f}\t{m['kmeans']['ari']['mean']:.4f}")
PY
    done
  done
done
