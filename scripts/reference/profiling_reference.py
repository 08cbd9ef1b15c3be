#!/usr/bin/env python3
"""Reference values for the profile-processing steps (`grape profile`), from pycytominer and harmonypy.

Writes JSON fixtures to Tests/EvaluationTests/Fixtures/profiling/. Run from the repository root:

    pip install pycytominer harmonypy pandas
    python3 scripts/reference/profiling_reference.py            # normalize, feature_select, spherize
    pip install "harmonypy==0.0.10"                             # the pure-Python Harmony (initial centroids
    python3 scripts/reference/profiling_reference.py --legacy   # can be given): harmony_*.json

Every fixture records the seed, the library versions and a format version. The values are checked by
Tests/EvaluationTests/ProfilingTests.swift; they are never computed during a test run.

The data: 150 cells of 5 genes and the control `nontargeting` in 3 batches; 10 features, of which
8 are continuous (two pairs correlated above 0.9) and 2 are discrete (few distinct values, one of
them almost constant) so that the frequency/uniqueness test drops them. Each batch shifts and scales
every feature. Values are rounded to 6 decimals so that the JSON holds the exact input.

What each fixture holds:
- normalize.json: pycytominer.normalize(method="standardize" | "mad_robustize",
  samples="Metadata_gene == 'nontargeting'") applied to each batch on its own (features 0-7).
- feature_select.json: pycytominer.feature_select with operation "frequency_threshold"
  (freq_cut 0.05, unique_cut 0.01), "correlation_threshold" (0.9, pearson), "variance_threshold"
  (min_variance 1e-6, on a copy with one constant feature), and ["frequency_threshold",
  "correlation_threshold"] in that order; features are given explicitly (no inference).
- spherize.json: pycytominer's Spherize(method="ZCA", center=True, epsilon=1e-6) fitted on the control
  cells of each batch and applied to that batch's cells (features 0-7, standardised input).
- harmony_mixing.json (--legacy, harmonypy 0.0.10): harmonypy.run_harmony on the top 6 principal
  components of the continuous features z-scored over all cells (the batch effect left in), batches
  as the variable, theta 2, lamb 1, sigma 0.1, nclust round(N/30), max_iter_kmeans 20, block_size
  0.05, random states 0-4; the batch and gene R^2 (share of the total variance explained by the batch
  or gene means) and the kNN same-batch fraction (k = 10) before and after. harmonypy 2 (a C++
  rewrite) changed its defaults and its convergence tests (lambda estimated from alpha 0.2,
  max_iter_kmeans 4, epsilon_cluster 1e-3, epsilon_harmony 1e-2); with lamb 1, max_iter_kmeans 20 and
  the 0.0.10 epsilons it leaves batch R^2 at 0.05-0.11 here, against 0.15-0.16 for 0.0.10.
- harmony_fixed_init.json (--legacy, harmonypy 0.0.10): the same input, initial centroids from
  scikit-learn's KMeans(random_state=0) passed through `cluster_fn`, block_size 1 (one block: the
  update order does not matter), so the result is deterministic and the corrected matrix is compared
  value by value.
"""
import json
import os
import sys

import numpy as np
import pandas as pd

FORMAT_VERSION = 1
SEED = 20261207
OUT = os.path.join(os.path.dirname(__file__), "..", "..", "Tests", "EvaluationTests", "Fixtures", "profiling")
CONTROL = "nontargeting"
GENES = ["nontargeting", "PSMA1", "PSMA2", "POLR2A", "RPL3", "SF3B1"]
BATCHES = ["B1", "B2", "B3"]
CONTINUOUS = 8


def versions():
    out = {"python": sys.version.split()[0], "numpy": np.__version__, "pandas": pd.__version__}
    try:
        from importlib.metadata import version

        for package in ["pycytominer", "harmonypy", "scikit-learn", "scipy"]:
            try:
                out[package] = version(package)
            except Exception:
                pass
    except ImportError:
        pass
    return out


def write(name, payload):
    payload = {
        "meta": {
            "format_version": FORMAT_VERSION,
            "seed": SEED,
            "generator": "scripts/reference/profiling_reference.py",
            "versions": versions(),
        },
        **payload,
    }
    os.makedirs(OUT, exist_ok=True)
    path = os.path.join(OUT, name)
    tmp = path + ".tmp"
    with open(tmp, "w") as f:
        json.dump(payload, f, separators=(",", ":"))
        f.write("\n")
    os.replace(tmp, path)
    print(f"wrote {path} ({os.path.getsize(path)} bytes)")


def flat(matrix):
    return [float(f"{v:.12g}") for v in np.asarray(matrix, dtype=np.float64).ravel()]


def make_data():
    rng = np.random.default_rng(SEED)
    n_per_batch = 50
    genes, batches = [], []
    for b in range(len(BATCHES)):
        # 20 controls per batch (enough for sphering 8 features), 6 cells of each other gene.
        genes += [0] * 20 + [g for g in range(1, len(GENES)) for _ in range(6)]
        batches += [b] * n_per_batch
    genes = np.array(genes)
    batches = np.array(batches)
    n = len(genes)
    effects = rng.normal(0, 1.0, size=(len(GENES), CONTINUOUS))
    effects[0] = 0
    x = rng.normal(0, 1, size=(n, CONTINUOUS)) + 0.8 * effects[genes]
    shift = rng.normal(0, 2, size=(len(BATCHES), CONTINUOUS))
    scale = np.exp(rng.normal(0, 0.4, size=(len(BATCHES), CONTINUOUS)))
    x = x * scale[batches] + shift[batches]
    # Correlated pairs over all cells (the batch effect included), as feature selection sees them.
    x[:, 1] = 0.95 * x[:, 0] + 0.3 * rng.normal(0, 1, size=n)   # corr(0, 1) > 0.9
    x[:, 5] = -0.9 * x[:, 4] + 0.3 * rng.normal(0, 1, size=n)   # strongly negative: kept by the signed test
    x[:, 7] = 0.9 * x[:, 6] + 0.3 * rng.normal(0, 1, size=n)    # corr(6, 7) > 0.9
    discrete_a = rng.choice([0.0, 1.0, 2.0], size=n, p=[0.9, 0.08, 0.02])   # 3 distinct values
    discrete_b = np.where(rng.random(n) < 0.985, 5.0, 6.0)                  # second value rare
    x = np.column_stack([x, discrete_a, discrete_b])
    return np.round(x, 6), genes, batches


def frame(x, genes, batches, names):
    df = pd.DataFrame(x, columns=names)
    df.insert(0, "Metadata_batch", [BATCHES[b] for b in batches])
    df.insert(0, "Metadata_gene", [GENES[g] for g in genes])
    return df


def per_batch(df, features, fn):
    parts = []
    for b in BATCHES:
        part = df[df.Metadata_batch == b]
        parts.append(fn(part, features))
    out = pd.concat(parts)
    return out.loc[df.index, features].to_numpy()


def main_current():
    from pycytominer import feature_select, normalize
    from pycytominer.operations.transform import Spherize

    x, genes, batches = make_data()
    names = [f"f{j}" for j in range(x.shape[1])]
    cont = names[:CONTINUOUS]
    df = frame(x, genes, batches, names)
    base = {
        "genes": GENES, "batches": BATCHES, "control": CONTROL, "feature_names": names,
        "gene_of_cell": genes.tolist(), "batch_of_cell": batches.tolist(),
        "cells": int(x.shape[0]), "features": int(x.shape[1]), "x": flat(x),
    }
    samples = f"Metadata_gene == '{CONTROL}'"

    def norm(method):
        def fn(part, features):
            return normalize(
                profiles=part.reset_index(drop=True), features=features,
                meta_features=["Metadata_gene", "Metadata_batch"], samples=samples, method=method,
            ).set_index(part.index)
        return fn

    standardized = per_batch(df, cont, norm("standardize"))
    robust = per_batch(df, cont, norm("mad_robustize"))
    write("normalize.json", {
        **base, "normalized_features": CONTINUOUS,
        "standardize": flat(standardized), "robust": flat(robust),
        "robust_epsilon": 1e-18,
    })

    def selected(operation, data, features, **kw):
        out = feature_select(profiles=data, features=features, operation=operation, **kw)
        return [c for c in out.columns if c in features]

    with_constant = df.copy()
    with_constant["f3"] = 4.25 + 1e-5 * (np.arange(len(df)) % 2)   # variance 2.5e-11 < 1e-6
    write("feature_select.json", {
        **base,
        "frequency": selected("frequency_threshold", df, names, freq_cut=0.05, unique_cut=0.01),
        "correlation": selected("correlation_threshold", df, names, corr_threshold=0.9),
        "frequency_then_correlation": selected(
            ["frequency_threshold", "correlation_threshold"], df, names, freq_cut=0.05, unique_cut=0.01,
            corr_threshold=0.9),
        "min_variance_input_f3": flat(with_constant["f3"].to_numpy()),
        "min_variance": selected("variance_threshold", with_constant, names, min_variance=1e-6),
    })

    def sphere(part, features):
        controls = part[part.Metadata_gene == CONTROL][features]
        s = Spherize(method="ZCA", center=True, epsilon=1e-6).fit(controls)
        out = s.transform(part[features])
        out.index = part.index
        return out

    sphered = per_batch(df.assign(**dict(zip(cont, standardized.T))), cont, sphere)
    write("spherize.json", {
        **base, "input": flat(standardized), "input_features": CONTINUOUS, "epsilon": 1e-6,
        "sphered": flat(sphered),
    })



def harmony_input(x):
    """The top 6 principal components of the continuous features z-scored over all cells (the batch
    effect kept, for Harmony to remove)."""
    from sklearn.decomposition import PCA
    from sklearn.preprocessing import StandardScaler

    return PCA(n_components=6, svd_solver="full").fit_transform(StandardScaler().fit_transform(x[:, :CONTINUOUS]))


def mixing(z, genes, batches, k=10):
    def r2(labels):
        total = ((z - z.mean(0)) ** 2).sum()
        between = sum(((z[labels == l].mean(0) - z.mean(0)) ** 2).sum() * (labels == l).sum()
                      for l in np.unique(labels))
        return float(between / total)

    d = ((z[:, None, :] - z[None, :, :]) ** 2).sum(-1)
    np.fill_diagonal(d, np.inf)
    nn = np.argsort(d, axis=1, kind="stable")[:, :k]
    same = float((batches[nn] == batches[:, None]).mean())
    return {"batch_r2": r2(batches), "gene_r2": r2(genes), "knn_same_batch": same}


def main_legacy():
    import harmonypy
    from sklearn.cluster import KMeans

    x, genes, batches = make_data()
    pcs = harmony_input(x)
    meta = pd.DataFrame({"batch": [BATCHES[b] for b in batches]})
    n = len(genes)
    nclust = int(min(round(n / 30.0), 100))
    # Harmony's first step: each cell divided by its largest coordinate, then scaled to unit length.
    z_cos = pcs.T / pcs.T.max(axis=0)
    z_cos = z_cos / np.linalg.norm(z_cos, ord=2, axis=0)
    init = KMeans(n_clusters=nclust, init="k-means++", n_init=10, max_iter=25, random_state=0).fit(z_cos.T)
    centroids = init.cluster_centers_
    ho = harmonypy.run_harmony(
        pcs, meta, "batch", theta=2, lamb=1, sigma=0.1, max_iter_harmony=10, max_iter_kmeans=20,
        block_size=1, verbose=False, cluster_fn=lambda data, k: centroids.copy())
    write("harmony_fixed_init.json", {
        "genes": GENES, "batches": BATCHES, "gene_of_cell": genes.tolist(), "batch_of_cell": batches.tolist(),
        "cells": n, "components": int(pcs.shape[1]), "pcs": flat(pcs),
        "initial_centroids": flat(centroids), "clusters": nclust,
        "settings": {"theta": 2, "lamb": 1, "sigma": 0.1, "block_size": 1, "max_iter_harmony": 10,
                     "max_iter_kmeans": 20, "epsilon_cluster": 1e-5, "epsilon_harmony": 1e-4},
        "corrected": flat(np.asarray(ho.Z_corr).T),
        "objective_harmony": [float(v) for v in ho.objective_harmony],
        "kmeans_rounds": [int(v) for v in ho.kmeans_rounds],
    })
    runs = []
    for state in range(5):
        ho = harmonypy.run_harmony(
            pcs, meta, "batch", theta=2, lamb=1, sigma=0.1, max_iter_harmony=10, max_iter_kmeans=20,
            random_state=state, verbose=False)
        runs.append(mixing(np.asarray(ho.Z_corr).T, genes, batches))
    write("harmony_mixing.json", {
        "genes": GENES, "batches": BATCHES, "gene_of_cell": genes.tolist(), "batch_of_cell": batches.tolist(),
        "cells": n, "pcs": flat(pcs), "components": int(pcs.shape[1]),
        "before": mixing(pcs, genes, batches), "after": runs,
        "settings": {"theta": 2, "lamb": 1, "sigma": 0.1, "nclust": nclust, "block_size": 0.05,
                     "max_iter_harmony": 10, "max_iter_kmeans": 20, "knn": 10, "random_states": [0, 1, 2, 3, 4]},
    })


if __name__ == "__main__":
    if "--legacy" in sys.argv:
        main_legacy()
    else:
        main_current()
