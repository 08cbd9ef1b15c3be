#!/usr/bin/env bash
# profile_pipelines.sh OUT "SEEDS" [CODES_NAME=RUN ...]
#
# Table 1's practitioners' baselines: each screen's per-cell engineered features (and, optionally,
# GRAPE's per-cell codes from trained runs) through the profile pipelines a screening lab would run
# (pycytominer / JUMP conventions), aggregated per gene and scored with `grape evaluate`.
#
# Needs OUT/seed-S/screen.h5 (grape simulate --seed S --phenotype-strength 2) for each seed; runs
# given as NAME=RUN_DIR (relative to OUT/seed-S) are encoded with `grape encode` and go through the
# same pipelines. Prints one TSV row per (seed, input, pipeline): mAP, NMI, ARI and the fraction of
# complexes retrieved at corrected p < 0.05 (NA and the reason where a pipeline cannot run).
# The pipelines named in BATCH_PIPELINES (default: none, standardize, standardize+harmony) also
# keep their processed per-cell matrix and get `grape evaluate --cells`: batch ASW, kNN batch
# accuracy (and its chance) and graph connectivity, one row each in OUT/batch.tsv. PIPELINES (labels,
# space-separated) runs a subset; FEATURES=0 skips the engineered features (codes only).
set -euo pipefail
out=$1; seeds=$2; shift 2
bin=${GRAPE:-grape}
restarts=${RESTARTS:-100}
batch_pipelines=" ${BATCH_PIPELINES:-none standardize standardize+harmony} "

pipelines=(
  "none|"
  "standardize|--normalize standardize"
  "standardize+select+sphere|--normalize standardize --feature-select variance,correlation --sphere"
  "robust+select+sphere|--normalize robust --feature-select variance,correlation --sphere"
  "standardize+harmony|--normalize standardize --harmony"
  "standardize+select+sphere+harmony|--normalize standardize --feature-select variance,correlation --sphere --harmony"
)

score() {  # score SEED INPUT PIPELINE EMBEDDING EVALDIR
  "$bin" evaluate --embedding "$4" --out "$5" --seed "$1" --restarts "$restarts" --no-figures >/dev/null
  python3 - "$1" "$2" "$3" "$5/metrics.json" <<'PY'
import json, sys
seed, source, pipeline, path = sys.argv[1:]
m = json.load(open(path))
frac = m.get("significance", {}).get("fraction_complexes_retrieved")
frac = float("nan") if frac is None else frac
print(f"{seed}\t{source}\t{pipeline}\t{m['map']:.4f}\t{m['kmeans']['nmi']['mean']:.4f}\t{m['kmeans']['ari']['mean']:.4f}\t{frac:.3f}")
PY
}

for seed in $seeds; do
  dir=$out/seed-$seed
  inputs=()
  if [ "${FEATURES:-1}" != 0 ]; then
    inputs+=("features=$dir/cells-features.h5")
    [ -f "$dir/cells-features.h5" ] || "$bin" features --data "$dir/screen.h5" --out "$dir/features-pca.h5" --cells-out "$dir/cells-features.h5" >/dev/null
  fi
  for spec in "$@"; do
    name=${spec%%=*}; run=$dir/${spec#*=}
    [ -f "$dir/cells-$name.h5" ] || "$bin" encode --run "$run" --data "$dir/screen.h5" --out "$dir/cells-$name.h5" >/dev/null
    inputs+=("$name=$dir/cells-$name.h5")
  done
  for input in "${inputs[@]}"; do
    name=${input%%=*}; cells=${input#*=}
    for p in "${pipelines[@]}"; do
      label=${p%%|*}; flags=${p#*|}
      [ -z "${PIPELINES:-}" ] || [[ " $PIPELINES " == *" $label "* ]] || continue
      prof=$dir/profile-$name-$label.h5
      keep=()
      [[ $batch_pipelines == *" $label "* ]] && keep=(--cells-out "$dir/cells-$name-$label.h5")
      # shellcheck disable=SC2086
      if ! "$bin" profile --cells "$cells" --out "$prof" $flags --seed "$seed" --force "${keep[@]}" >/dev/null 2>"$dir/profile-$name-$label.err"; then
        # a pipeline the data cannot support (sphering with fewer control cells than features)
        printf '%s\t%s\t%s\tNA\tNA\tNA\tNA\t%s\n' "$seed" "$name" "$label" "$(head -c 200 "$dir/profile-$name-$label.err")"
        continue
      fi
      score "$seed" "$name" "$label" "$prof" "$dir/eval-profile-$name-$label"
      if [ ${#keep[@]} -gt 0 ]; then
        "$bin" evaluate --cells "$dir/cells-$name-$label.h5" --out "$dir/eval-cells-$name-$label" --seed "$seed" \
          --restarts 20 --null-size 0 --no-figures >/dev/null
        python3 - "$seed" "$name" "$label" "$dir/eval-cells-$name-$label/metrics.json" >>"$out/batch.tsv" <<'PY'
import json, sys
seed, source, pipeline, path = sys.argv[1:]
b = json.load(open(path))["batch"]
print(f"{seed}\t{source}\t{pipeline}\t{b['asw']:.4f}\t{b['knn_accuracy']:.4f}\t{b['chance']:.4f}\t{b['graph_connectivity']:.4f}")
PY
      fi
    done
  done
done
