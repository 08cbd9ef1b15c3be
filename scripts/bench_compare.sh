#!/usr/bin/env bash
# Runs `grape bench train` and the PyTorch reference (Evaluation/scripts/grape_torch.py) on the
# same preset back to back, and prints both figures and their ratio. PyTorch CPU must be
# installed (pip install torch); it is not a dependency of the toolkit.
#
# Environment: BIN (the grape binary), STEPS (timed steps, default 10), PRESETS (default
# "cpu cpu64"), THREADS (threads for both sides, default 2), LOG (a file that keeps every JSON
# line, default none).
set -euo pipefail
bin=${BIN:-.build/release/grape}
steps=${STEPS:-10}
threads=${THREADS:-2}
log=${LOG:-/dev/null}

# Prints the value of one metric from JSON lines on stdin.
metric() {
  python3 -c 'import json,sys
name = sys.argv[1]
for line in sys.stdin:
    row = json.loads(line)
    if row.get("metric") == name:
        print(row["value"]); break' "$1"
}

echo "commit $(git rev-parse --short HEAD 2>/dev/null || echo unknown), $(date -u +%Y-%m-%dT%H:%MZ), $threads threads, $steps steps"
for preset in ${PRESETS:-cpu cpu64}; do
  for abra in "" "--abra"; do
    load_before=$(cut -d' ' -f1 /proc/loadavg)
    ours=$(GRAPE_THREADS=$threads "$bin" bench train --preset "$preset" --steps "$steps" $abra)
    printf '%s\n' "$ours" >> "$log"
    line="$preset ${abra:-         }: grape $(metric images_per_s <<<"$ours") img/s, $(metric cpu_s_per_iteration <<<"$ours") CPU-s/it, $(metric peak_rss_mb <<<"$ours") MiB"
    theirs=$(python3 Evaluation/scripts/grape_torch.py bench --preset "$preset" --steps "$steps" --threads "$threads" --no-r1-ablation $abra)
    printf '%s\n' "$theirs" >> "$log"
    ratio=$(python3 -c "import sys; print(f'{float(sys.argv[1]) / float(sys.argv[2]):.2f}')" \
      "$(metric images_per_s <<<"$ours")" "$(metric images_per_s <<<"$theirs")")
    line="$line; torch $(metric images_per_s <<<"$theirs") img/s, $(metric cpu_s_per_iteration <<<"$theirs") CPU-s/it, $(metric peak_rss_mb <<<"$theirs") MiB; ratio $ratio"
    echo "$line (load $load_before → $(cut -d' ' -f1 /proc/loadavg))"
  done
done
