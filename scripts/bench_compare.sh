#!/usr/bin/env bash
# Runs `grape bench train` and the PyTorch reference (Evaluation/scripts/grape_torch.py) on the
# same preset back to back, and prints both figures and their ratio. PyTorch CPU must be
# installed (pip install torch); it is not a dependency of the toolkit.
set -euo pipefail
bin=${BIN:-.build/release/grape}
steps=${STEPS:-10}
for preset in ${PRESETS:-cpu cpu64}; do
  for abra in "" "--abra"; do
    echo "== preset $preset ${abra:-(no ABRA)}; load: $(cut -d' ' -f1-3 /proc/loadavg)"
    ours=$("$bin" bench train --preset "$preset" --steps "$steps" $abra | tee /dev/stderr | python3 -c 'import json,sys; print([json.loads(l)["value"] for l in sys.stdin if json.loads(l)["metric"]=="images_per_s"][0])')
    if [ -z "$abra" ]; then
      theirs=$(python3 Evaluation/scripts/grape_torch.py bench --preset "$preset" --steps "$steps" --threads 2 --no-r1-ablation | tee /dev/stderr | python3 -c 'import json,sys; print([json.loads(l)["value"] for l in sys.stdin if json.loads(l)["metric"]=="images_per_s"][0])')
      python3 -c "print(f'$preset: grape {float($ours):.2f} img/s, torch {float($theirs):.2f} img/s, ratio {float($ours)/float($theirs):.2f}')"
    else
      echo "$preset with ABRA: grape $ours img/s (the PyTorch reference has no ABRA)"
    fi
  done
done
