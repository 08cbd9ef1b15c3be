#!/usr/bin/env python3
"""Experiment, cell line and gene separability of a simulated arrayed screen, with scikit-learn.

Input: the per-cell features CSV of `grape features --cells-out FILE.csv` on a store written by
`grape simulate --layout arrayed` (columns Metadata_gene, Metadata_batch, Metadata_plate,
Metadata_well, Metadata_cell, then the features). The cell line is the experiment name up to its
last '-' (`HEPG2-01` -> `HEPG2`); the control is `nontargeting` unless given as the second argument.

Measures (features standardised; logistic regression and nearest centroid):
  * experiment and cell line of a cell: 5-fold stratified cross-validation over all cells;
  * cell line of a cell in unseen experiments (trained on the others);
  * gene of a cell, and of a well (the mean of its cells, the unit RxRx1 classifies): trained on
    some experiments and tested on unseen ones (the last third of each cell line's experiments),
    with the features either raw or standardised per experiment on its control cells.

Prints one line per measure; Evaluation/simulator.md records the output.

Run: python3 scripts/reference/sim_arrayed_separability.py cells.csv [CONTROL]
"""
import sys
import time

import numpy as np
import pandas as pd
import sklearn
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import StratifiedKFold, cross_val_score
from sklearn.neighbors import NearestCentroid
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

SEED = 0


def classifiers():
    return {
        "logistic": lambda: make_pipeline(StandardScaler(), LogisticRegression(max_iter=300)),
        "nearest centroid": lambda: make_pipeline(StandardScaler(), NearestCentroid()),
    }


def control_standardised(x, batch, is_control):
    out = np.empty_like(x)
    for b in np.unique(batch):
        rows = batch == b
        ref = x[rows & is_control]
        out[rows] = (x[rows] - ref.mean(0)) / np.maximum(ref.std(0), 1e-9)
    return out


def main():
    path = sys.argv[1]
    control = sys.argv[2] if len(sys.argv) > 2 else "nontargeting"
    table = pd.read_csv(path)
    meta = [c for c in table.columns if c.startswith("Metadata_")]
    x = table.drop(columns=meta).to_numpy(np.float64)
    gene = table["Metadata_gene"].to_numpy()
    batch = table["Metadata_batch"].to_numpy()
    line = np.array([b.rsplit("-", 1)[0] for b in batch])
    well = (table["Metadata_plate"] + "/" + table["Metadata_well"]).to_numpy()
    experiments = sorted(set(batch))
    print(
        f"{len(x)} cells, {x.shape[1]} features, {len(experiments)} experiments, "
        f"{len(set(line))} cell lines, {len(set(gene))} genes, {len(set(well))} wells; "
        f"scikit-learn {sklearn.__version__}"
    )
    folds = StratifiedKFold(5, shuffle=True, random_state=SEED)
    for target, labels in [("experiment", batch), ("cell line", line)]:
        chance = pd.Series(labels).value_counts(normalize=True).max()
        for name, make in classifiers().items():
            t = time.time()
            acc = cross_val_score(make(), x, labels, cv=folds).mean()
            print(f"{target} accuracy ({name}, 5-fold, cells): {acc:.3f} (chance {chance:.3f}) [{time.time() - t:.0f} s]")

    # Unseen experiments: the last third of each line's experiments.
    test_exps = set()
    for l in sorted(set(line)):
        own = sorted(e for e in experiments if e.rsplit("-", 1)[0] == l)
        test_exps.update(own[len(own) - max(1, len(own) // 3) :])
    test = np.isin(batch, sorted(test_exps))
    targeting = gene != control
    print(f"held-out experiments: {', '.join(sorted(test_exps))}")
    for name, make in classifiers().items():
        model = make().fit(x[~test], line[~test])
        acc = (model.predict(x[test]) == line[test]).mean()
        print(f"cell line accuracy on unseen experiments ({name}, cells): {acc:.3f} (chance 0.500)")
    chance = 1 / len(set(gene[targeting]))
    for norm, features in [("raw", x), ("control-standardised", control_standardised(x, batch, gene == control))]:
        wells = pd.DataFrame(features).groupby(well).mean()
        wmeta = table.groupby(well)[["Metadata_gene", "Metadata_batch"]].first().loc[wells.index]
        wx = wells.to_numpy()
        wgene = wmeta["Metadata_gene"].to_numpy()
        wtest = wmeta["Metadata_batch"].isin(test_exps).to_numpy()
        wtarget = wgene != control
        for name, make in classifiers().items():
            t = time.time()
            model = make().fit(features[~test & targeting], gene[~test & targeting])
            cell_acc = (model.predict(features[test & targeting]) == gene[test & targeting]).mean()
            model = make().fit(wx[~wtest & wtarget], wgene[~wtest & wtarget])
            well_acc = (model.predict(wx[wtest & wtarget]) == wgene[wtest & wtarget]).mean()
            print(
                f"gene accuracy on unseen experiments ({name}, {norm}): cells {cell_acc:.3f}, "
                f"wells {well_acc:.3f} (chance {chance:.3f}) [{time.time() - t:.0f} s]"
            )


if __name__ == "__main__":
    main()
