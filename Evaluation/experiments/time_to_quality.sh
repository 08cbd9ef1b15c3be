#!/usr/bin/env bash
# Time to quality (gene-embeddings.md): each variant trains for MINUTES of wall-clock on every
# seed's screen, writing a checkpoint every CHECKPOINT_EVERY steps; every checkpoint is exported
# as the rows of M (EMA) and as per-gene means of the encoder's codes standardised per batch by
# the controls, and evaluated. The engineered features (raw and standardised per batch) and
# random embeddings are the baselines. `ttq.py` draws mAP and NMI against minutes.
#
#   Evaluation/experiments/time_to_quality.sh OUT [MINUTES] [SEEDS] [EXTRA SIMULATE FLAGS...]
#
# VARIANTS (default "grape abra"): `grape` and `abra` (`--abra`), the `cpu` preset as it is;
# `no-align` and `abra-no-align`, the preset without the alignment of real cells
# (`{"lambda_style_align": 0}`, the recipe before it); `align` and `abra-align`, the alignment in
# the G step alone (`{"lambda_style_align": 1, "style_align_steps": 0}`); `align-steps` (the
# alignment plus STYLE_ALIGN_STEPS, default 4, alignment-only updates per iteration);
# `align-steps-N` and `abra-align-steps-N` (N alignment-only updates, without and with ABRA);
# `plate` (the preset with ABRA's plate-consistent mini-batches, `{"sampler": "plate"}`); `ceiling`
# (`{"objective": "encoder_classifier"}`), `untrained`.
# VARIANT_CONFIG="NAME={json} ..." adds variants of the preset with those config fields (no spaces
# inside the JSON), e.g. VARIANTS="scale32" VARIANT_CONFIG='scale32={"style_align_scale":32}'.
# CHECKPOINT_EVERY defaults to 200 steps (1,000 for the ceiling, which runs ~6 times faster).
# Runs are resumable: a variant whose run folder holds a checkpoint is continued with --resume,
# so the experiment can stop at any point and be continued. Run on an idle machine: minutes are
# the training loop's own elapsed time (log.tsv), which other work on the cores stretches.
#
# FIXED_STEPS="VARIANT=N ..." trains those variants for N steps instead of MINUTES, where N is
# what MINUTES give on the idle cores (measured beforehand: `grape train --steps 40`, seconds
# between steps 10 and 40 of log.tsv). Their minutes are then step / N · MINUTES, so the runs
# can share the machine with other work without changing what they measure.
set -euo pipefail
source "$(dirname "$0")/common.sh"
parse_arguments time_to_quality.sh 30 "$@"
minutes=$steps
for seed in $seeds; do
  dir="$out/seed-$seed"
  screen=$(screen_for "$seed")
  for norm in none controls; do
    suffix=$([ "$norm" = none ] && echo "" || echo "-controls")
    [ -f "$dir/eval-features$suffix/metrics.json" ] && continue
    "$bin" features --data "$screen" --out "$dir/features$suffix.h5" --normalize "$norm" >/dev/null
    "$bin" evaluate --embedding "$dir/features$suffix.h5" --out "$dir/eval-features$suffix" --seed "$seed" --no-figures | head -n 1
  done
  for variant in ${VARIANTS:-grape abra}; do
    run="$dir/run-$variant"
    every=${CHECKPOINT_EVERY:-200}
    config="{\"checkpoint_every\": $every}"
    flags=()
    case "$variant" in
      abra*) flags+=(--abra) ;;
    esac
    case "$variant" in
      *no-align) config="{\"checkpoint_every\": $every, \"lambda_style_align\": 0}" ;;
      *align) config="{\"checkpoint_every\": $every, \"lambda_style_align\": 1, \"style_align_steps\": 0}" ;;
      align-steps) config="{\"checkpoint_every\": $every, \"lambda_style_align\": 1, \"style_align_steps\": ${STYLE_ALIGN_STEPS:-4}}" ;;
      align-steps-*) config="{\"checkpoint_every\": $every, \"lambda_style_align\": 1, \"style_align_steps\": ${variant#align-steps-}}" ;;
      abra-align-steps-*) config="{\"checkpoint_every\": $every, \"lambda_style_align\": 1, \"style_align_steps\": ${variant#abra-align-steps-}}" ;;
      plate) config="{\"checkpoint_every\": $every, \"sampler\": \"plate\"}" ;;
      ceiling) config="{\"checkpoint_every\": ${CHECKPOINT_EVERY:-1000}, \"objective\": \"encoder_classifier\"}" ;;
    esac
    for entry in ${VARIANT_CONFIG:-}; do
      [ "${entry%%=*}" = "$variant" ] && config="{\"checkpoint_every\": $every, ${entry#*=\{}"
    done
    printf '%s\n' "$config" > "$dir/$variant.json"
    fixed=""
    for entry in ${FIXED_STEPS:-}; do [ "${entry%%=*}" = "$variant" ] && fixed=${entry#*=}; done
    if [ "$variant" = untrained ]; then
      [ -f "$run/checkpoints/latest" ] || "$bin" train --data "$screen" --run "$run" --preset cpu --steps 0 --seed "$seed" >/dev/null
    elif [ -n "$fixed" ]; then
      printf '%s\t%s\n' "$fixed" "$minutes" > "$dir/$variant.idle-steps"
      if [ -f "$run/checkpoints/latest" ]; then
        "$bin" train --data "$screen" --run "$run" --resume --steps "$fixed" | tail -n 1
      else
        "$bin" train --data "$screen" --run "$run" --preset cpu --steps "$fixed" --seed "$seed" \
          --config "$dir/$variant.json" "${flags[@]}" | tail -n 1
      fi
    elif [ -f "$run/checkpoints/latest" ]; then
      "$bin" train --data "$screen" --run "$run" --resume --max-minutes "$minutes" | tail -n 1
    else
      "$bin" train --data "$screen" --run "$run" --preset cpu --steps 1000000 --max-minutes "$minutes" --seed "$seed" \
        --config "$dir/$variant.json" "${flags[@]}" | tail -n 1
    fi
    for ckpt in "$run"/checkpoints/step-*; do
      step=$((10#${ckpt##*step-}))
      for source in embedding style-mean; do
        name="eval-$variant-$source-$step"
        [ -f "$dir/ttq/$name/metrics.json" ] && continue
        file="$dir/ttq/$variant-$source-$step.h5"
        mkdir -p "$dir/ttq"
        if [ "$source" = embedding ]; then
          "$bin" export --run "$run" --checkpoint "$step" --out "$file" >/dev/null
        else
          "$bin" export --run "$run" --checkpoint "$step" --out "$file" --source style-mean --data "$screen" --normalize controls >/dev/null
        fi
        "$bin" evaluate --embedding "$file" --out "$dir/ttq/$name" --seed "$seed" --restarts 20 --k-range none --no-figures >/dev/null
        rm -f "$file"
      done
    done
  done
done
python3 "$(dirname "$0")/ttq.py" "$out"
