#!/usr/bin/env python3
"""Table 2 on arrayed screens: one row per classifier run of `abra_table2_arrayed.sh`.

    python3 Evaluation/experiments/summarize_arrayed.py OUT [ROWS.tsv]

Reads OUT/seed-*/run-*/{config.json, log.tsv, eval/metrics.json, eval-adabn/metrics.json} and
OUT/seed-*/lr*/metrics.json (the logistic regression of `grape classify baseline`; `lr-TAG` for
the split of the runs `run-*-TAG`). Writes the
per-run rows (seed, run, method, training experiments, train / validation / held-out accuracy
without and with AdaBN, AdaBN at test batch 8 … 128, final K_mu and K_sigma) to ROWS.tsv when
given, and prints a Markdown table of the means over seeds (± standard deviation).
"""
import csv
import glob
import json
import os
import statistics
import sys
from collections import defaultdict

FIELDS = ["seed", "run", "method", "train_experiments", "steps", "train", "validation", "held_out",
          "adabn_validation", "adabn_held_out", "adabn_8", "adabn_16", "adabn_32", "adabn_64", "adabn_128",
          "k_mu", "k_sigma"]


def load(path):
    return json.load(open(path)) if os.path.exists(path) else None


def rows_of(out):
    rows = []
    for seed_dir in sorted(glob.glob(os.path.join(out, "seed-*"))):
        seed = seed_dir.rsplit("-", 1)[-1]
        for lr_dir in sorted(glob.glob(os.path.join(seed_dir, "lr*/"))):
            lr = load(os.path.join(lr_dir, "metrics.json"))
            if lr:
                tag = os.path.basename(lr_dir.rstrip("/"))[2:]
                rows.append(dict(seed=seed, run="logistic regression" + tag, method="lr", train=lr.get("train_accuracy"),
                                 validation=lr.get("validation_accuracy"), held_out=lr.get("accuracy")))
        for run in sorted(glob.glob(os.path.join(seed_dir, "run-*/"))):
            name = os.path.basename(run.rstrip("/"))[4:]
            config = load(os.path.join(run, "config.json"))
            plain = load(os.path.join(run, "eval", "metrics.json"))
            if not config or not plain:
                continue
            adabn = load(os.path.join(run, "eval-adabn", "metrics.json")) or {}
            trained = config.get("train_batches") or [b for b in config["batches"] if b not in config["holdout_batches"]]
            row = dict(seed=seed, run=name, method=config["method"], train_experiments=len(trained), steps=config["steps"],
                       train=plain.get("train_accuracy"), validation=plain.get("validation_accuracy"),
                       held_out=plain.get("accuracy"), adabn_validation=adabn.get("validation_accuracy"),
                       adabn_held_out=adabn.get("accuracy"))
            for point in adabn.get("tta_batch_size_curve", []):
                row[f"adabn_{point['batch_size']}"] = point["mean"]
            log = os.path.join(run, "log.tsv")
            last = {}
            if os.path.exists(log):
                with open(log) as f:
                    last = list(csv.DictReader(f, delimiter="\t"))[-1]
            if config["method"] == "abra" and "k_mu" in last:
                row["k_mu"], row["k_sigma"] = float(last["k_mu"]), float(last["k_sigma"])
            rows.append(row)
    return rows


def fmt(values):
    values = [v for v in values if v is not None]
    if not values:
        return "—"
    if len(values) == 1:
        return f"{values[0]:.3f}"
    return f"{statistics.mean(values):.3f} ± {statistics.stdev(values):.3f}"


def main(out, rows_path=None):
    rows = rows_of(out)
    if rows_path:
        with open(rows_path, "w") as f:
            w = csv.DictWriter(f, fieldnames=FIELDS, delimiter="\t", extrasaction="ignore")
            w.writeheader()
            for r in rows:
                w.writerow({k: (f"{v:.4f}" if isinstance(v, float) else v) for k, v in r.items()})
    groups = defaultdict(list)
    for r in rows:
        groups[r["run"]].append(r)
    print("| run | screens | train | validation | held-out | held-out with AdaBN (64) | AdaBN at 8 / 32 / 128 | K_mu, K_sigma |")
    print("|---|---:|---:|---:|---:|---|---|---|")
    for name, rs in groups.items():
        k = "—" if rs[0].get("k_mu") is None else f"{fmt([r.get('k_mu') for r in rs])}, {fmt([r.get('k_sigma') for r in rs])}"
        curve = " / ".join(fmt([r.get(f"adabn_{b}") for r in rs]).split(" ±")[0] for b in (8, 32, 128))
        print(f"| {name} | {len(rs)} | {fmt([r.get('train') for r in rs])} | {fmt([r.get('validation') for r in rs])} | "
              f"{fmt([r.get('held_out') for r in rs])} | {fmt([r.get('adabn_held_out') for r in rs])} | {curve} | {k} |")


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2] if len(sys.argv) > 2 else None)
