#!/usr/bin/env python3
"""Batch-versus-gene separability of a simulated screen, with scikit-learn.

Cross-checks the Swift self-check (`ScreenSimulator.measureSeparability`, nearest centroid) with
logistic regression. Features are the per-cell mean and standard deviation of each channel.

Input, either
  * a cell store written by `grape simulate --out FILE.h5` (needs h5py: /images, /obs/gene,
    /obs/batch, /genes, /truth/complex, root attribute `control`), or
  * a features CSV (columns gene,batch,plate,<8 features>) plus a genes TSV (gene<TAB>complex)
    as exported by the simulator's feature export.

Prints one line per measure; Evaluation/simulator.md records the output.

Run: python3 scripts/reference/sim_separability.py STORE.h5
     python3 scripts/reference/sim_separability.py features.csv genes.tsv
"""
import sys

import numpy as np
import sklearn
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import StratifiedKFold, cross_val_score
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

SEED = 0


def load_store(path):
    import h5py

    with h5py.File(path, "r") as f:
        images = f["/images"]
        n = images.shape[0]
        feats = np.zeros((n, 2 * images.shape[1]), dtype=np.float64)
        for start in range(0, n, 4096):
            block = images[start : start + 4096].astype(np.float64)
            flat = block.reshape(block.shape[0], block.shape[1], -1)
            feats[start : start + len(block)] = np.concatenate([flat.mean(2), flat.std(2)], axis=1)
        gene = f["/obs/gene"][:]
        batch = f["/obs/batch"][:]
        complex_of = f["/truth/complex"][:]
        names = [g.decode() if isinstance(g, bytes) else g for g in f["/genes"][:]]
        control = f.attrs["control"]
        control = control.decode() if isinstance(control, bytes) else control
    return feats, gene, batch, complex_of, names.index(control)


def load_csv(features_path, genes_path):
    data = np.loadtxt(features_path, delimiter=",", skiprows=1)
    genes = [line.rstrip("\n").split("\t") for line in open(genes_path)][1:]
    complex_of = np.array([int(c) for _, c in genes])
    control = len(genes) - 1  # the simulator lists the control last
    return data[:, 3:], data[:, 0].astype(int), data[:, 1].astype(int), complex_of, control


def cv_accuracy(x, y):
    model = make_pipeline(StandardScaler(), LogisticRegression(max_iter=3000))
    folds = StratifiedKFold(n_splits=5, shuffle=True, random_state=SEED)
    return cross_val_score(model, x, y, cv=folds, scoring="accuracy").mean()


def complex_map(profiles, complex_of):
    idx = np.where(complex_of >= 0)[0]
    x = profiles[idx]
    x = x / np.maximum(np.linalg.norm(x, axis=1, keepdims=True), 1e-12)
    sim = x @ x.T
    labels = complex_of[idx]
    aps = []
    for q in range(len(idx)):
        order = [o for o in np.argsort(-sim[q], kind="stable") if o != q]
        hits = labels[order] == labels[q]
        if hits.any():
            ranks = np.where(hits)[0] + 1
            aps.append(np.mean(np.arange(1, len(ranks) + 1) / ranks))
    return float(np.mean(aps))


def main():
    if len(sys.argv) == 2:
        feats, gene, batch, complex_of, control = load_store(sys.argv[1])
    elif len(sys.argv) == 3:
        feats, gene, batch, complex_of, control = load_csv(sys.argv[1], sys.argv[2])
    else:
        sys.exit(__doc__)
    print(f"# scikit-learn {sklearn.__version__}, numpy {np.__version__}; {len(gene)} cells, "
          f"{len(set(batch))} batches, {len(complex_of)} genes")
    chance_batch = np.bincount(batch).max() / len(batch)
    chance_gene = np.bincount(gene).max() / len(gene)
    print(f"batch accuracy (logistic regression, 5-fold): {cv_accuracy(feats, batch):.3f} "
          f"(chance {chance_batch:.3f})")
    controls = gene == control
    print(f"batch accuracy on control cells only: {cv_accuracy(feats[controls], batch[controls]):.3f}")
    print(f"gene accuracy (all {len(complex_of)} genes): {cv_accuracy(feats, gene):.3f} "
          f"(chance {chance_gene:.3f}, uniform {1 / len(complex_of):.3f})")
    # Per-batch standardisation on that batch's control cells, then per-gene means.
    corrected = feats.copy()
    for b in np.unique(batch):
        ref = feats[(batch == b) & controls]
        corrected[batch == b] = (feats[batch == b] - ref.mean(0)) / ref.std(0)
    in_complex = complex_of[gene] >= 0
    targeted = gene != control
    print(f"complex accuracy, targeting cells, control-standardised per batch: "
          f"{cv_accuracy(corrected[in_complex & targeted], complex_of[gene[in_complex & targeted]]):.3f} "
          f"(chance {np.bincount(complex_of[gene[in_complex]]).max() / in_complex.sum():.3f})")
    profiles = np.stack([corrected[gene == g].mean(0) for g in range(len(complex_of))])
    raw = StandardScaler().fit_transform(feats)
    raw_profiles = np.stack([raw[gene == g].mean(0) for g in range(len(complex_of))])
    raw_profiles -= raw_profiles[control]
    rng = np.random.default_rng(SEED)
    random_map = np.mean([complex_map(rng.normal(size=profiles.shape), complex_of) for _ in range(200)])
    print(f"complex mAP of per-gene mean features: {complex_map(profiles, complex_of):.3f} corrected, "
          f"{complex_map(raw_profiles, complex_of):.3f} uncorrected (random {random_map:.3f})")


if __name__ == "__main__":
    main()
