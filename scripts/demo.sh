#!/usr/bin/env bash
# The demo pipeline on a small simulated screen: simulate → train GRAPE briefly → export →
# engineered-feature baseline → evaluate against CORUM. Every step is a real `grape` command.
set -euo pipefail
bin=${1:-.build/release/grape}
out=${2:-demo-output}
steps=${DEMO_STEPS:-150}
rm -rf "$out"
mkdir -p "$out"

echo "== 1/5 grape simulate: 14 CORUM complexes + control, 4 batches, 32 px"
"$bin" simulate --out "$out/screen.h5" --size 32 --cells-per-gene 60 --batches 4 --seed 1

echo "== 2/5 grape train: preset cpu, $steps steps (set DEMO_STEPS to change)"
"$bin" train --data "$out/screen.h5" --run "$out/run" --preset cpu --steps "$steps" --seed 1

echo "== 3/5 grape export and grape encode"
"$bin" export --run "$out/run" --out "$out/grape_embedding.h5ad" --data "$out/screen.h5"
"$bin" export --run "$out/run" --out "$out/grape_embedding.h5"
"$bin" export --run "$out/run" --out "$out/grape_style_means.h5" --source style-mean --data "$out/screen.h5" --normalize controls
"$bin" encode --run "$out/run" --data "$out/screen.h5" --out "$out/styles.h5"

echo "== 4/5 grape features and grape profile (baselines: raw features, standardised per batch by the controls, and + Harmony)"
"$bin" features --data "$out/screen.h5" --out "$out/features.h5"
"$bin" features --data "$out/screen.h5" --out "$out/features_controls.h5" --normalize controls \
  --cells-out "$out/cells_features.h5"
"$bin" profile --cells "$out/cells_features.h5" --normalize standardize --harmony --out "$out/features_harmony.h5"

echo "== 5/5 grape evaluate (CORUM mAP, k-means NMI/ARI/purity; random and engineered baselines)"
baselines=(--baseline "$out/features.h5" --baseline "$out/features_controls.h5" --baseline "$out/features_harmony.h5")
"$bin" evaluate --embedding "$out/grape_embedding.h5" "${baselines[@]}" --out "$out/evaluation"
"$bin" evaluate --embedding "$out/grape_style_means.h5" "${baselines[@]}" --out "$out/evaluation_style_means"
"$bin" evaluate --cells "$out/styles.h5" "${baselines[@]}" --out "$out/evaluation_cells"
# GRAPE's codes through the same practitioners' steps as the Harmony baseline, in one export
"$bin" export --run "$out/run" --out "$out/grape_codes_harmony.h5" --source style-mean --data "$out/screen.h5" \
  --normalize controls --harmony
"$bin" evaluate --embedding "$out/grape_codes_harmony.h5" "${baselines[@]}" --out "$out/evaluation_codes_harmony"

echo
for report in "$out/evaluation" "$out/evaluation_style_means" "$out/evaluation_codes_harmony"; do
  echo "$(basename "$report"):"
  grep -E '^- (Clearly|Not clearly|Beats|Does not beat)' "$report/report.md" | sed 's/^/  /'
done
echo
echo "Demo finished."
echo "  report:        $out/evaluation/report.md (metrics.json and SVG figures beside it)"
echo "  style means:   $out/evaluation_style_means/report.md (per-gene means of the codes, standardised per batch by the controls)"
echo "  codes+Harmony: $out/evaluation_codes_harmony/report.md (the codes standardised per batch, aligned with Harmony, averaged per gene)"
echo "  cell report:   $out/evaluation_cells/report.md (batch-effect metrics of the style codes)"
echo "  run folder:    $out/run (config.json, log.tsv, loss_curves.svg, checkpoints/)"
echo "  embedding:     $out/grape_embedding.h5ad (opens with anndata.read_h5ad; obs: control flag, cells, complex)"
