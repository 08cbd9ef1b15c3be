#!/usr/bin/env python3
"""Figures of an experiment folder, averaged over seeds (needs matplotlib).

    python3 Evaluation/experiments/figures.py OUT FIGURE_DIR

Writes, from whatever `OUT/seed-*/` holds:

- `metrics_vs_k.svg` (GRAPE Fig. 4): NMI, ARI and purity of k-means against k for every
  `eval-NAME` gene embedding and the random baseline, mean ± std over seeds (each seed's value is
  itself the mean over the k-means restarts);
- `tta_batch_size.svg` (ABRA Fig. 7): held-out accuracy with AdaBN against the test batch size for
  every `classify-NAME-adabn` evaluation that has a curve, with the no-adaptation accuracy as a
  dashed line.
"""
import glob
import json
import os
import statistics
import sys
from collections import defaultdict

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

LABELS = {
    "features": "engineered features",
    "features-controls": "engineered features, per-batch control-standardised",
    "untrained-style-mean": "untrained encoder style means",
    "grape-embedding": "GRAPE (rows of M)",
    "grape-style-mean": "GRAPE style means",
    "abra-embedding": "GRAPE + ABRA (rows of M)",
    "abra-style-mean": "GRAPE + ABRA style means",
    "grape-no-dcls-embedding": "GRAPE without D's gene classification (rows of M)",
    "grape-no-dcls-style-mean": "GRAPE without D's gene classification, style means",
    "abra-no-dcls-embedding": "GRAPE + ABRA without D's gene classification (rows of M)",
    "abra-no-dcls-style-mean": "GRAPE + ABRA without D's gene classification, style means",
    "random": "random",
}


def load(out):
    """{name: [metrics of each seed]} for every metrics.json under OUT/seed-*/."""
    found = defaultdict(list)
    for path in sorted(glob.glob(os.path.join(out, "seed-*", "*", "metrics.json"))):
        with open(path) as f:
            found[os.path.basename(os.path.dirname(path))].append(json.load(f))
    return found


def mean_std(values):
    return statistics.mean(values), (statistics.stdev(values) if len(values) > 1 else 0.0)


def metrics_vs_k(found, path):
    curves = {}
    for name, runs in found.items():
        if not name.startswith("eval-") or name.endswith("-codes") or "k_sweep" not in runs[0]:
            continue
        curves[name[5:]] = [r["k_sweep"] for r in runs]
        if name == "eval-features":
            curves["random"] = [b["k_sweep"] for r in runs for b in r.get("baselines", []) if b["name"] == "random"]
    if not curves:
        return False
    fig, axes = plt.subplots(1, 3, figsize=(13, 3.8))
    for ax, metric in zip(axes, ("nmi", "ari", "purity")):
        for name in sorted(curves, key=lambda n: list(LABELS).index(n) if n in LABELS else 99):
            sweeps = curves[name]
            ks = [p["k"] for p in sweeps[0]]
            stats = [mean_std([s[i][metric]["mean"] for s in sweeps]) for i in range(len(ks))]
            mean = [m for m, _ in stats]
            std = [s for _, s in stats]
            style = {"linestyle": "--", "color": "grey"} if name == "random" else {}
            line, = ax.plot(ks, mean, label=LABELS.get(name, name), **style)
            ax.fill_between(ks, [m - s for m, s in zip(mean, std)], [m + s for m, s in zip(mean, std)], alpha=0.12,
                            color=line.get_color())
        ax.set_xlabel("k (k-means clusters)")
        ax.set_title(metric.upper() if metric != "purity" else "purity")
        ax.grid(alpha=0.3)
    axes[0].legend(fontsize=8)
    seeds = len(next(iter(curves.values())))
    fig.suptitle(f"CORUM complexes against k-means clusters, mean ± std over {seeds} seed(s)", fontsize=10)
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)
    return True


def tta_batch_size(found, path):
    curves = {name[9:-6]: runs for name, runs in found.items()
              if name.startswith("classify-") and name.endswith("-adabn") and "tta_batch_size_curve" in runs[0]}
    if not curves:
        return False
    fig, ax = plt.subplots(figsize=(6, 4))
    for name in sorted(curves):
        runs = curves[name]
        sizes = [p["batch_size"] for p in runs[0]["tta_batch_size_curve"]]
        stats = [mean_std([r["tta_batch_size_curve"][i]["mean"] for r in runs]) for i in range(len(sizes))]
        line, = ax.plot(sizes, [m for m, _ in stats], marker="o", label=name)
        ax.fill_between(sizes, [m - s for m, s in stats], [m + s for m, s in stats], alpha=0.15, color=line.get_color())
        plain = found.get(f"classify-{name}", [])
        if plain:
            ax.axhline(statistics.mean(r["accuracy"] for r in plain), linestyle="--", color=line.get_color(), alpha=0.6)
    ax.set_xscale("log", base=2)
    ax.set_xlabel("AdaBN test batch size (cells)")
    ax.set_ylabel("held-out-batch accuracy")
    ax.set_title("AdaBN against test batch size (dashed: no adaptation)", fontsize=10)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)
    return True


def main(out, figure_dir):
    found = load(out)
    if not found:
        sys.exit(f"{out}: no metrics.json under seed-*/")
    os.makedirs(figure_dir, exist_ok=True)
    for writer, name in ((metrics_vs_k, "metrics_vs_k.svg"), (tta_batch_size, "tta_batch_size.svg")):
        path = os.path.join(figure_dir, name)
        if writer(found, path):
            print(f"wrote {path}")


if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    main(sys.argv[1], sys.argv[2])
