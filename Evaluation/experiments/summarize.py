#!/usr/bin/env python3
"""Mean ± std over seeds of the metrics.json files of an experiment folder, as a Markdown table.

    python3 Evaluation/experiments/summarize.py OUT

Every `OUT/seed-*/eval-NAME/metrics.json` (from `grape evaluate`) becomes a row NAME with the
CORUM metrics (and batch metrics when present); every `OUT/seed-*/classify-NAME/metrics.json`
(from `grape classify evaluate`) a row NAME with the held-out accuracy. The random-embedding
baseline that `grape evaluate` computes beside every embedding is added as the row `random`
(taken from `eval-features`, the engineered-feature evaluation of each seed).
"""
import glob
import json
import os
import statistics
import sys
from collections import defaultdict


def fmt(values):
    if not values:
        return "—"
    if len(values) == 1:
        return f"{values[0]:.3f}"
    return f"{statistics.mean(values):.3f} ± {statistics.stdev(values):.3f}"


def add_corum(row, m):
    """Appends one evaluation's mAP and mean k-means scores to a row."""
    row["mAP"].append(m["map"])
    for key in ("nmi", "ari", "purity"):
        row[key].append(m["kmeans"][key]["mean"])


def main(out):
    rows = defaultdict(lambda: defaultdict(list))
    seeds = set()
    for path in sorted(glob.glob(os.path.join(out, "seed-*", "*", "metrics.json"))):
        seed = path.split(os.sep)[-3]
        name = path.split(os.sep)[-2]
        seeds.add(seed)
        m = json.load(open(path))
        r = rows[name]
        if "accuracy" in m:
            r["accuracy"].append(m["accuracy"])
            for point in m.get("tta_batch_size_curve", []):
                r[f"tta_b{point['batch_size']}"].append(point["mean"])
            continue
        add_corum(r, m)
        if name == "eval-features":
            for baseline in m.get("baselines", []):
                if baseline.get("name") == "random":
                    add_corum(rows["random"], baseline)
        if "batch" in m:
            for key in ("asw", "knn_accuracy", "chance", "graph_connectivity"):
                r[key].append(m["batch"][key])
    if not rows:
        sys.exit(f"{out}: no metrics.json under seed-*/")
    curve = sorted({c for r in rows.values() for c in r if c.startswith("tta_b")}, key=lambda c: int(c[5:]))
    columns = [c for c in ("mAP", "nmi", "ari", "purity", "asw", "knn_accuracy", "chance", "graph_connectivity", "accuracy")
               if any(c in r for r in rows.values())] + curve
    print(f"{len(seeds)} seed(s): {', '.join(sorted(seeds))}\n")
    print("| " + " | ".join(["run"] + columns) + " |")
    print("|" + "---|" * (len(columns) + 1))
    for name in sorted(rows):
        print("| " + " | ".join([name] + [fmt(rows[name].get(c, [])) for c in columns]) + " |")


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else sys.exit(__doc__))
