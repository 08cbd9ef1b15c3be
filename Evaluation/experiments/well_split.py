#!/usr/bin/env python3
"""Is the validation − held-out gap an experiment shift, or the wells shared with training?

    python3 Evaluation/experiments/well_split.py CELLS.h5 HOLDOUT[,HOLDOUT…] [--seed N] [--fraction F]

CELLS.h5 is `grape features --cells-out` of an arrayed screen (/features, /obs/gene, /obs/batch,
/obs/plate, /obs/well). Each experiment's features are standardised by its control cells (as
`grape features --normalize controls`), then by the training cells' mean and standard deviation,
and a multinomial logistic regression (scikit-learn, C = 1, L-BFGS, as `grape classify baseline`)
is fitted twice on the training experiments:

- cell split: a fraction of each training experiment's cells is kept for validation (the unit of
  `grape classify`, so validation cells share wells with training cells);
- well split: the same fraction of each training experiment's wells, with all their cells.

An arrayed well holds one gene and its own imaging conditions, so a classifier can score
validation cells of a seen well by recognising the well. If the well split's validation accuracy
falls to the held-out accuracy, the gap between seen and unseen experiments is the wells, not
the experiments. Prints one line per split: train, validation and held-out accuracy.
"""
import argparse

import h5py
import numpy as np
from sklearn.linear_model import LogisticRegression


def names(ds):
    return [x.decode() if isinstance(x, bytes) else str(x) for x in ds[:]]


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("cells")
    p.add_argument("holdout")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--fraction", type=float, default=0.1)
    a = p.parse_args()
    with h5py.File(a.cells, "r") as f:
        x = f["/features"][:].astype(np.float64)
        gene = f["/obs/gene"][:]
        batch = f["/obs/batch"][:]
        batches = names(f["/batches"])
        genes = names(f["/genes"])
        well = np.array([f"{pl}/{w}" for pl, w in zip(names(f["/obs/plate"]), names(f["/obs/well"]))])
    control = genes.index("nontargeting")
    for b in range(len(batches)):
        rows = batch == b
        ctl = rows & (gene == control)
        sd = x[ctl].std(0)
        x[rows] = (x[rows] - x[ctl].mean(0)) / np.where(sd > 1e-9, sd, 1)
    held = np.isin(batch, [batches.index(h) for h in a.holdout.split(",")])
    rng = np.random.default_rng(a.seed)
    for split in ("cell", "well"):
        val = np.zeros(len(x), bool)
        for b in np.unique(batch[~held]):
            rows = np.flatnonzero(batch == b)
            if split == "cell":
                val[rng.choice(rows, int(a.fraction * len(rows)), replace=False)] = True
            else:
                wells = np.unique(well[rows])
                chosen = rng.choice(wells, int(round(a.fraction * len(wells))), replace=False)
                val[rows[np.isin(well[rows], chosen)]] = True
        train = ~held & ~val
        m, s = x[train].mean(0), x[train].std(0)
        z = (x - m) / np.where(s > 1e-9, s, 1)
        clf = LogisticRegression(C=1.0, max_iter=1000).fit(z[train], gene[train])
        acc = lambda rows: float((clf.predict(z[rows]) == gene[rows]).mean())
        print(f"{split} split: train {acc(train):.4f}, validation {acc(val):.4f} ({val.sum()} cells), held-out {acc(held):.4f} ({held.sum()} cells)",
              flush=True)


if __name__ == "__main__":
    main()
