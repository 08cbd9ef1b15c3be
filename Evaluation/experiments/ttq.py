#!/usr/bin/env python3
"""Time to quality: mAP and NMI of exported embeddings against minutes of training.

    python3 Evaluation/experiments/ttq.py OUT [FIGURE_DIR]
    python3 Evaluation/experiments/ttq.py --results FIGURE_DIR BASELINES.tsv ROWS.tsv [ROWS.tsv ...]

Reads what `time_to_quality.sh` leaves under OUT/seed-*/: `ttq/eval-VARIANT-SOURCE-STEP/metrics.json`
for every checkpoint, `run-VARIANT/log.tsv` for the minutes of training at each step (or, for a
variant trained a fixed number of steps, `VARIANT.idle-steps`: those steps and the idle minutes
they stand for), and the
baselines `eval-features` and `eval-features-controls` (with the random embeddings evaluated beside
them). Prints `ttq.tsv` rows (variant, source, seed, step, minutes, map, nmi, ari) to OUT/ttq.tsv
and a Markdown table of the last checkpoint of every run; with FIGURE_DIR (needs matplotlib) draws
`time_to_quality.svg`: mean ± std over seeds, checkpoints grouped by step.

With --results the figure is drawn from committed rows instead (Evaluation/results/ttq-*.tsv, the
columns of ttq.tsv) and a baselines table (name, map, nmi: the means over the screens).
"""
import csv
import glob
import json
import os
import re
import statistics
import sys
from collections import defaultdict


def minutes_at(log_path):
    """Step → minutes of training, from a run's log.tsv."""
    out = {0: 0.0}
    with open(log_path) as f:
        for row in csv.DictReader(f, delimiter="\t"):
            out[int(row["step"])] = float(row["time_s"]) / 60
    return out


def main(out, figure_dir=None):
    rows = []
    baselines = defaultdict(lambda: defaultdict(list))
    for seed_dir in sorted(glob.glob(os.path.join(out, "seed-*"))):
        seed = seed_dir.rsplit("-", 1)[-1]
        for name in ("features", "features-controls"):
            path = os.path.join(seed_dir, f"eval-{name}", "metrics.json")
            if os.path.exists(path):
                m = json.load(open(path))
                baselines[name]["map"].append(m["map"])
                baselines[name]["nmi"].append(m["kmeans"]["nmi"]["mean"])
                for b in m.get("baselines", []):
                    if b.get("name") == "random" and name == "features":
                        baselines["random"]["map"].append(b["map"])
                        baselines["random"]["nmi"].append(b["kmeans"]["nmi"]["mean"])
        for path in glob.glob(os.path.join(seed_dir, "ttq", "eval-*", "metrics.json")):
            match = re.match(r"eval-(.+)-(embedding|style-mean)-(\d+)$", os.path.basename(os.path.dirname(path)))
            if not match:
                continue
            variant, source, step = match.group(1), match.group(2), int(match.group(3))
            log = os.path.join(seed_dir, f"run-{variant}", "log.tsv")
            idle = os.path.join(seed_dir, f"{variant}.idle-steps")
            if os.path.exists(idle):
                # Trained for the steps that N idle minutes give (FIXED_STEPS): minutes by step.
                steps, budget = (float(v) for v in open(idle).read().split())
                minutes = step / steps * budget
            else:
                minutes = minutes_at(log).get(step, float("nan")) if os.path.exists(log) else 0.0
            m = json.load(open(path))
            rows.append(dict(variant=variant, source=source, seed=seed, step=step, minutes=minutes, map=m["map"],
                             nmi=m["kmeans"]["nmi"]["mean"], ari=m["kmeans"]["ari"]["mean"]))
    if not rows:
        sys.exit(f"{out}: no checkpoint evaluations under seed-*/ttq/")
    rows.sort(key=lambda r: (r["variant"], r["source"], r["seed"], r["step"]))
    with open(os.path.join(out, "ttq.tsv"), "w") as f:
        w = csv.DictWriter(f, fieldnames=list(rows[0]), delimiter="\t")
        w.writeheader()
        w.writerows(rows)

    def fmt(v):
        return "—" if not v else (f"{v[0]:.3f}" if len(v) == 1 else f"{statistics.mean(v):.3f} ± {statistics.stdev(v):.3f}")

    print("| embedding | seeds | minutes | steps | mAP | NMI | ARI |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    for name in ("random", "features", "features-controls"):
        if baselines[name]["map"]:
            print(f"| {name} | {len(baselines[name]['map'])} | — | — | {fmt(baselines[name]['map'])} | {fmt(baselines[name]['nmi'])} | — |")
    last = defaultdict(dict)
    for r in rows:
        key = (r["variant"], r["source"])
        if r["step"] >= last[key].get(r["seed"], {"step": -1})["step"]:
            last[key][r["seed"]] = r
    for (variant, source), per_seed in sorted(last.items()):
        rs = list(per_seed.values())
        print(f"| {variant}, {source} | {len(rs)} | {fmt([r['minutes'] for r in rs])} | {fmt([float(r['step']) for r in rs])} | "
              f"{fmt([r['map'] for r in rs])} | {fmt([r['nmi'] for r in rs])} | {fmt([r['ari'] for r in rs])} |")
    if figure_dir:
        draw(rows, baselines, figure_dir)


def draw(rows, baselines, figure_dir):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    os.makedirs(figure_dir, exist_ok=True)
    fig, axes = plt.subplots(1, 2, figsize=(11, 4))
    for ax, metric, label in ((axes[0], "map", "mAP"), (axes[1], "nmi", "NMI (k-means, k = 14)")):
        groups = defaultdict(lambda: defaultdict(list))
        for r in rows:
            groups[(r["variant"], r["source"])][r["step"]].append(r)
        for (variant, source), by_step in sorted(groups.items()):
            steps = sorted(by_step)
            xs = [statistics.mean(r["minutes"] for r in by_step[s]) for s in steps]
            ys = [statistics.mean(r[metric] for r in by_step[s]) for s in steps]
            sd = [statistics.stdev([r[metric] for r in by_step[s]]) if len(by_step[s]) > 1 else 0 for s in steps]
            what = {"embedding": "rows of M", "style-mean": "style means (controls)",
                    "style-mean+harmony": "style means (controls, Harmony)"}.get(source, source)
            shown = {"align-steps": "GRAPE", "grape": "GRAPE (rerun)", "abra": "GRAPE + ABRA",
                     "abra-w03": "GRAPE + ABRA (abra_weight 0.3)"}.get(variant, variant)
            name = f"{shown}, {what}"
            line, = ax.plot(xs, ys, marker="o", ms=3, label=name)
            ax.fill_between(xs, [y - e for y, e in zip(ys, sd)], [y + e for y, e in zip(ys, sd)], alpha=0.08, color=line.get_color())
        for name, style, colour in (("features-controls", "--", "grey"), ("features-harmony", "--", "black"),
                                    ("features", ":", "grey"), ("random", "-.", "grey")):
            if baselines[name][metric]:
                ax.axhline(statistics.mean(baselines[name][metric]), color=colour, ls=style, lw=1, label=name)
        ax.set_xlabel("minutes of training (2 cores)")
        ax.set_ylabel(label)
    axes[1].legend(fontsize=7, loc="lower right")
    fig.tight_layout()
    fig.savefig(os.path.join(figure_dir, "time_to_quality.svg"))


def from_results(figure_dir, baselines_path, row_paths):
    """Draws the figure from committed ttq rows and a baselines table."""
    rows = []
    for path in row_paths:
        with open(path) as f:
            for r in csv.DictReader(f, delimiter="\t"):
                rows.append(dict(variant=r["variant"], source=r["source"], seed=r["seed"], step=int(r["step"]),
                                 minutes=float(r["minutes"]), map=float(r["map"]), nmi=float(r["nmi"]), ari=float(r["ari"])))
    baselines = defaultdict(lambda: defaultdict(list))
    with open(baselines_path) as f:
        for r in csv.DictReader(f, delimiter="\t"):
            baselines[r["name"]]["map"].append(float(r["map"]))
            baselines[r["name"]]["nmi"].append(float(r["nmi"]))
    draw(rows, baselines, figure_dir)


if __name__ == "__main__":
    if len(sys.argv) > 3 and sys.argv[1] == "--results":
        from_results(sys.argv[2], sys.argv[3], sys.argv[4:])
    else:
        main(sys.argv[1], sys.argv[2] if len(sys.argv) > 2 else None)
