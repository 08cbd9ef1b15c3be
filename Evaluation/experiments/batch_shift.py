#!/usr/bin/env python3
"""How far experiments lie apart at ABRA's perturbation point, in the units of its K.

    python3 Evaluation/experiments/batch_shift.py OUT [ROWS.tsv]

Reads OUT/seed-*/run-*/stats.tsv (`grape classify evaluate --statistics-out`: per batch and
channel the mean μ and standard deviation σ of the activations after the perturbation stage,
and the run's K). Per run and channel it measures

- the spread of the training experiments: the standard deviation over them of μ_c (and of σ_c);
- the shift of each held-out experiment: |μ_c − the training experiments' mean μ_c|, and the
  same as a z-score against the training spread (about 0.8 when a held-out experiment is drawn
  like a training one, since E|z| = 0.8 for a normal z);
- ABRA's perturbation: ε·K_μ with ε ~ N(0, 1) shifts μ_c by |K_μ,c| in standard deviation.

All are summarised as medians over channels, and divided by the median within-experiment σ_c so
that they read as effect sizes. Prints a Markdown table; writes one row per run to ROWS.tsv.
"""
import csv
import glob
import os
import statistics
import sys
from collections import defaultdict

FIELDS = ["seed", "run", "channels", "sigma_within", "mu_spread_train", "mu_shift_heldout", "mu_shift_heldout_z",
          "k_mu", "sigma_spread_train", "sigma_shift_heldout", "k_sigma"]


def read(path):
    batches = defaultdict(dict)
    with open(path) as f:
        for r in csv.DictReader(f, delimiter="\t"):
            b = batches[r["batch"]]
            b["held_out"] = r["held_out"] == "1"
            b.setdefault("mu", []).append(float(r["mean"]))
            b.setdefault("sd", []).append(float(r["std"]))
            b.setdefault("k_mu", []).append(abs(float(r["k_mu"])) if r["k_mu"] else None)
            b.setdefault("k_sigma", []).append(abs(float(r["k_sigma"])) if r["k_sigma"] else None)
    return batches


def summary(batches):
    train = [b for b in batches.values() if not b["held_out"]]
    held = [b for b in batches.values() if b["held_out"]]
    channels = len(train[0]["mu"])
    med = statistics.median
    within = med(statistics.mean(b["sd"][c] for b in train) for c in range(channels))
    spread_mu, spread_sd, shift_mu, shift_z, shift_sd = [], [], [], [], []
    for c in range(channels):
        mus = [b["mu"][c] for b in train]
        sds = [b["sd"][c] for b in train]
        m, s = statistics.mean(mus), statistics.stdev(mus)
        spread_mu.append(s)
        spread_sd.append(statistics.stdev(sds))
        for h in held:
            shift_mu.append(abs(h["mu"][c] - m))
            shift_z.append(abs(h["mu"][c] - m) / s if s > 0 else 0.0)
            shift_sd.append(abs(h["sd"][c] - statistics.mean(sds)))
    k_mu = [k for k in train[0]["k_mu"] if k is not None]
    k_sd = [k for k in train[0]["k_sigma"] if k is not None]
    return dict(channels=channels, sigma_within=within, mu_spread_train=med(spread_mu) / within,
                mu_shift_heldout=med(shift_mu) / within if held else None, mu_shift_heldout_z=med(shift_z) if held else None,
                k_mu=med(k_mu) / within if k_mu else None, sigma_spread_train=med(spread_sd) / within,
                sigma_shift_heldout=med(shift_sd) / within if held else None, k_sigma=med(k_sd) / within if k_sd else None)


def fmt(v):
    return "—" if v is None else f"{v:.3f}"


def main(out, rows_path=None):
    rows = []
    for path in sorted(glob.glob(os.path.join(out, "seed-*", "run-*", "stats.tsv"))):
        run_dir = os.path.dirname(path)
        seed = os.path.basename(os.path.dirname(run_dir)).rsplit("-", 1)[-1]
        rows.append(dict(seed=seed, run=os.path.basename(run_dir)[4:], **summary(read(path))))
    if rows_path:
        with open(rows_path, "w") as f:
            w = csv.DictWriter(f, fieldnames=FIELDS, delimiter="\t")
            w.writeheader()
            for r in rows:
                w.writerow({k: (f"{v:.6g}" if isinstance(v, float) else v) for k, v in r.items()})
    print("| screen | run | σ within | μ spread, training | μ shift, held-out | held-out shift / spread | K_μ | σ spread, training | σ shift, held-out | K_σ |")
    print("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|")
    for r in rows:
        print(f"| {r['seed']} | {r['run']} | {r['sigma_within']:.3f} | {fmt(r['mu_spread_train'])} | {fmt(r['mu_shift_heldout'])} | "
              f"{fmt(r['mu_shift_heldout_z'])} | {fmt(r['k_mu'])} | {fmt(r['sigma_spread_train'])} | {fmt(r['sigma_shift_heldout'])} | {fmt(r['k_sigma'])} |")


if __name__ == "__main__":
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    main(*sys.argv[1:3])
