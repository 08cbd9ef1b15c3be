#!/usr/bin/env python3
"""Rows and summary of `well_split.py` runs, read from their printed output.

    python3 Evaluation/experiments/summarize_well_split.py ROWS.tsv LOG [LOG …]

Each LOG holds blocks of `== SET screen S [split seed K]` (SET `t2` for the 12-experiment
arrayed screens, `be2` for the 14-experiment `--batch-effect 2` ones; seed 0 when not given)
followed by the two lines `well_split.py` prints. Writes one row per screen, split seed and
unit to ROWS.tsv and prints, per screen set and unit, the mean train, validation and held-out
accuracy, validation − held-out, and that difference per screen.
"""
import re, sys, statistics
rows = []
for path in sys.argv[2:]:
    default_seed = "0"
    cur = None
    for line in open(path):
        m = re.match(r"== (\w+) screen (\d)(?: split seed (\d))?", line)
        if m:
            cur = (m.group(1), m.group(2), m.group(3) or default_seed); continue
        m = re.match(r"(cell|well) split: train ([\d.]+), validation ([\d.]+) \((\d+) cells\), held-out ([\d.]+)", line)
        if m and cur:
            rows.append(dict(screens="arrayed-12" if cur[0] == "t2" else "arrayed-14-be2", screen=cur[1], split_seed=cur[2], unit=m.group(1),
                             train=m.group(2), validation=m.group(3), validation_cells=m.group(4), held_out=m.group(5)))
keys = ["screens", "screen", "split_seed", "unit", "train", "validation", "validation_cells", "held_out"]
with open(sys.argv[1], "w") as f:
    f.write("\t".join(keys) + "\n")
    for r in rows: f.write("\t".join(r[k] for k in keys) + "\n")
for scr in ("arrayed-12", "arrayed-14-be2"):
    for unit in ("cell", "well"):
        sel = [r for r in rows if r["screens"] == scr and r["unit"] == unit]
        if not sel: continue
        v = [float(r["validation"]) for r in sel]; h = [float(r["held_out"]) for r in sel]; t = [float(r["train"]) for r in sel]
        per = {}
        for r in sel: per.setdefault(r["screen"], []).append(float(r["validation"]) - float(r["held_out"]))
        print(f"| {scr} | {unit} | {len(sel)} | {statistics.mean(t):.3f} | {statistics.mean(v):.3f} | {statistics.mean(h):.3f} | {statistics.mean(v)-statistics.mean(h):+.3f} | " +
              " / ".join(f"{statistics.mean(per[s]):+.3f}" for s in sorted(per)) + " |")
