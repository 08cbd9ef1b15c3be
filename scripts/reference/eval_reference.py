#!/usr/bin/env python3
"""Reference values for the Evaluation module's tests, computed with scikit-learn and scipy.

Writes JSON fixtures to Tests/EvaluationTests/Fixtures/. Run from the repository root:

    python3 scripts/reference/eval_reference.py

Every fixture records the seed, the library versions and a format version. The values are
checked by Tests/EvaluationTests; they are never computed during a test run.

Definitions mirrored here (see Sources/Evaluation):
- mAP: each row is a query; the other rows are ranked by cosine similarity; hits share the label;
  AP = sklearn.metrics.average_precision_score on that ranking (no ties occur in this data);
  mAP = mean over queries with at least one hit.
- NMI (arithmetic), ARI, purity, silhouette_samples: scikit-learn.
- batch ASW: scIB's silhouette_batch (per gene label, 1 - |silhouette on batch labels|, averaged per
  label, then over labels; labels with one batch or one cell per batch are skipped).
- kNN batch accuracy: leave-one-out, KNeighborsClassifier(n_neighbors=15).kneighbors(None),
  majority vote with ties to the smallest batch index; chance = frequency of the majority batch.
- graph connectivity: scIB's graph_connectivity on the symmetrised kNN graph where each cell links
  to its 14 nearest other cells (scanpy's n_neighbors = 15 counts the cell itself).
- k-means: the lowest inertia scikit-learn's KMeans finds over many seeds on small data sets.
"""
import json
import os
import sys

import numpy as np
import scipy
import scipy.sparse as sp
from scipy.sparse.csgraph import connected_components
import sklearn
from sklearn.cluster import KMeans, kmeans_plusplus
from sklearn.decomposition import PCA
from sklearn.metrics import (
    adjusted_rand_score,
    average_precision_score,
    normalized_mutual_info_score,
    silhouette_samples,
)
from sklearn.metrics.cluster import contingency_matrix
from sklearn.neighbors import NearestNeighbors

FORMAT_VERSION = 1
SEED = 20240617
OUT = os.path.join(os.path.dirname(__file__), "..", "..", "Tests", "EvaluationTests", "Fixtures")


def meta():
    return {
        "format_version": FORMAT_VERSION,
        "seed": SEED,
        "generator": "scripts/reference/eval_reference.py",
        "versions": {
            "python": sys.version.split()[0],
            "numpy": np.__version__,
            "scipy": scipy.__version__,
            "sklearn": sklearn.__version__,
        },
    }


def write(name, payload):
    payload = {"meta": meta(), **payload}
    path = os.path.join(OUT, name)
    tmp = path + ".tmp"
    with open(tmp, "w") as f:
        json.dump(payload, f, indent=1)
        f.write("\n")
    os.replace(tmp, path)
    print("wrote", os.path.normpath(path))


def f32(a):
    """Float32 values as Python floats (exactly what the Swift side reads)."""
    return [float(v) for v in np.asarray(a, dtype=np.float32).ravel()]


def mean_ap(x, labels):
    x = x.astype(np.float64)
    norms = np.linalg.norm(x, axis=1, keepdims=True)
    u = x / np.where(norms > 0, norms, 1)
    sims = u @ u.T
    aps = []
    for i in range(len(x)):
        others = np.array([j for j in range(len(x)) if j != i])
        y = (labels[others] == labels[i]).astype(int)
        if y.sum() == 0:
            aps.append(None)
            continue
        aps.append(float(average_precision_score(y, sims[i, others])))
    scored = [a for a in aps if a is not None]
    return aps, float(np.mean(scored))


def purity(truth, pred):
    c = contingency_matrix(truth, pred)
    return float(c.max(axis=0).sum() / c.sum())


def map_fixture(rng):
    cases = []
    # Clustered data: 14 complexes of 7-10 genes in 16 dimensions, plus 3 singleton labels.
    sizes = [10, 7, 10, 8, 7, 7, 7, 7, 7, 7, 7, 7, 8, 9, 1, 1, 1]
    labels = np.repeat(np.arange(len(sizes)), sizes)
    centres = rng.normal(size=(len(sizes), 16))
    x = centres[labels] * 0.8 + rng.normal(size=(len(labels), 16))
    perm = rng.permutation(len(labels))
    x, labels = x[perm].astype(np.float32), labels[perm]
    aps, m = mean_ap(x, labels)
    cases.append({"name": "clustered", "rows": len(x), "dimension": 16, "values": f32(x),
                  "labels": labels.tolist(), "ap": aps, "map": m})
    # Pure noise in 5 dimensions, 4 labels.
    labels = rng.integers(0, 4, size=37)
    x = rng.normal(size=(37, 5)).astype(np.float32)
    aps, m = mean_ap(x, labels)
    cases.append({"name": "noise", "rows": 37, "dimension": 5, "values": f32(x),
                  "labels": labels.tolist(), "ap": aps, "map": m})
    write("map.json", {"cases": cases})


def cluster_metrics_fixture(rng):
    cases = []

    def add(name, t, p):
        t = np.asarray(t)
        p = np.asarray(p)
        cases.append({
            "name": name, "truth": t.tolist(), "predicted": p.tolist(),
            "nmi": float(normalized_mutual_info_score(t, p)),
            "ari": float(adjusted_rand_score(t, p)),
            "purity": purity(t, p),
        })

    add("identical", [0, 0, 1, 1, 2, 2], [0, 0, 1, 1, 2, 2])
    add("relabelled", [0, 0, 1, 1, 2, 2], [5, 5, 3, 3, 9, 9])
    add("one_cluster_each", [0, 0, 0, 0], [0, 0, 0, 0])
    add("one_truth_split", [0, 0, 0, 0], [0, 1, 2, 3])
    add("truth_vs_single", [0, 1, 2, 3, 0, 1], [7, 7, 7, 7, 7, 7])
    add("partial", [0, 0, 0, 1, 1, 1, 2, 2, 2], [0, 0, 1, 1, 1, 2, 2, 2, 0])
    add("merged", [0, 0, 1, 1, 2, 2, 3, 3], [0, 0, 0, 0, 1, 1, 1, 1])
    for i in range(4):
        n = int(rng.integers(20, 200))
        t = rng.integers(0, int(rng.integers(2, 15)), size=n)
        p = rng.integers(0, int(rng.integers(2, 30)), size=n)
        add(f"random_{i}", t, p)
    t = np.repeat(np.arange(14), 8)
    p = np.where(rng.random(len(t)) < 0.7, t, rng.integers(0, 14, size=len(t)))
    add("noisy_14", t, p)
    write("cluster_metrics.json", {"cases": cases})


def silhouette_fixture(rng):
    cases = []
    for name, n, d, k in [("blobs", 60, 4, 3), ("noise", 45, 7, 5)]:
        labels = rng.integers(0, k, size=n)
        labels[:k] = np.arange(k)
        x = rng.normal(size=(n, d)) + (labels[:, None] * (1.5 if name == "blobs" else 0.0))
        x = x.astype(np.float32)
        s = silhouette_samples(x.astype(np.float64), labels)
        cases.append({"name": name, "rows": n, "dimension": d, "values": f32(x),
                      "labels": labels.tolist(), "samples": [float(v) for v in s]})
    # A singleton label: its sample is 0 in scikit-learn.
    x = rng.normal(size=(12, 3)).astype(np.float32)
    labels = np.array([0] * 6 + [1] * 5 + [2])
    s = silhouette_samples(x.astype(np.float64), labels)
    cases.append({"name": "singleton", "rows": 12, "dimension": 3, "values": f32(x),
                  "labels": labels.tolist(), "samples": [float(v) for v in s]})
    write("silhouette.json", {"cases": cases})


def batch_asw(x, genes, batches):
    """scIB silhouette_batch with scale=True."""
    per_label = []
    for g in np.unique(genes):
        idx = np.where(genes == g)[0]
        nb = len(np.unique(batches[idx]))
        if nb == 1 or nb == len(idx):
            continue
        s = silhouette_samples(x[idx].astype(np.float64), batches[idx])
        per_label.append(float(np.mean(1 - np.abs(s))))
    return float(np.mean(per_label)), len(per_label)


def knn_accuracy(x, batches, k):
    nn = NearestNeighbors(n_neighbors=k).fit(x.astype(np.float64))
    neigh = nn.kneighbors(None, return_distance=False)
    nb = batches.max() + 1
    pred = np.array([np.bincount(batches[row], minlength=nb).argmax() for row in neigh])
    return float((pred == batches).mean())


def graph_connectivity(x, genes, k):
    n = len(x)
    nn = NearestNeighbors(n_neighbors=k).fit(x.astype(np.float64))
    neigh = nn.kneighbors(None, return_distance=False)
    rows = np.repeat(np.arange(n), k)
    a = sp.csr_matrix((np.ones(n * k), (rows, neigh.ravel())), shape=(n, n))
    a = ((a + a.T) > 0).astype(float)
    scores = []
    for g in np.unique(genes):
        idx = np.where(genes == g)[0]
        sub = a[idx][:, idx]
        _, comp = connected_components(sub, connection="strong")
        scores.append(np.bincount(comp).max() / len(idx))
    return float(np.mean(scores))


def batch_fixture(rng):
    cases = []
    for name, shift in [("mild", 0.8), ("strong", 1.5)]:
        n, d, n_genes, n_batches = 600, 10, 6, 3
        genes = rng.integers(0, n_genes, size=n)
        batches = rng.integers(0, n_batches, size=n)
        # Batch 0 is over-represented; gene 5 sits in one batch only (skipped by the ASW).
        batches[rng.random(n) < 0.2] = 0
        batches[genes == 5] = 1
        gene_means = rng.normal(size=(n_genes, d)) * 1.0
        batch_shift = rng.normal(size=(n_batches, d)) * shift
        x = (gene_means[genes] + batch_shift[batches] + rng.normal(size=(n, d))).astype(np.float32)
        asw, labels_used = batch_asw(x, genes, batches)
        cases.append({
            "name": name, "rows": n, "dimension": d, "values": f32(x), "genes": genes.tolist(),
            "batches": batches.tolist(), "asw": asw, "asw_labels": labels_used,
            "knn_neighbors": 15, "knn_accuracy": knn_accuracy(x, batches, 15),
            "chance": float(np.bincount(batches).max() / n),
            "graph_neighbors": 14, "graph_connectivity": graph_connectivity(x, genes, 14),
        })
    write("batch_metrics.json", {"cases": cases})


def kmeans_fixture(rng):
    cases = []
    for name, n, d, k in [("small_a", 30, 2, 3), ("small_b", 40, 3, 5), ("small_c", 25, 5, 4),
                          ("overlap", 60, 4, 6)]:
        centres = rng.normal(size=(k, d)) * 3
        labels = rng.integers(0, k, size=n)
        x = (centres[labels] + rng.normal(size=(n, d)) * 1.2).astype(np.float32)
        best = min(KMeans(n_clusters=k, n_init=1, random_state=s).fit(x.astype(np.float64)).inertia_
                   for s in range(600))
        cases.append({"name": name, "rows": n, "dimension": d, "k": k, "values": f32(x),
                      "best_inertia": float(best)})
    # Well separated blobs: every run must recover the clusters exactly.
    k, d, per = 5, 6, 12
    centres = rng.normal(size=(k, d)) * 20
    labels = np.repeat(np.arange(k), per)
    x = (centres[labels] + rng.normal(size=(k * per, d))).astype(np.float32)
    perm = rng.permutation(len(x))
    cases.append({"name": "separated", "rows": k * per, "dimension": d, "k": k,
                  "values": f32(x[perm]), "labels": labels[perm].tolist(),
                  "best_inertia": float(KMeans(n_clusters=k, n_init=50, random_state=0)
                                        .fit(x[perm].astype(np.float64)).inertia_)})
    # Lloyd iterations from given seed points, compared label by label. The last case seeds two
    # centres on the same point, so one cluster starts empty and is relocated.
    lloyd = []
    for name, n, d, k in [("lloyd_a", 50, 3, 4), ("lloyd_b", 80, 8, 7)]:
        centres = rng.normal(size=(k, d)) * 2
        labels = rng.integers(0, k, size=n)
        x = (centres[labels] + rng.normal(size=(n, d))).astype(np.float32)
        seeds = rng.choice(n, size=k, replace=False)
        lloyd.append(lloyd_case(name, x, seeds))
    x = np.array([[0.0, 0.0], [0.5, 0.1], [0.2, 0.4], [9.0, 9.0], [9.5, 8.7], [20.0, 0.0],
                  [20.3, 0.2]], dtype=np.float32)
    lloyd.append(lloyd_case("duplicate_seed", x, np.array([0, 0, 3])))
    # Seeding potential (inertia of the seeds alone) over many draws: greedy k-means++ (the
    # default) and plain k-means++ (one trial), to compare distributions.
    seeding = []
    for case in cases[:4]:
        x = np.array(case["values"], dtype=np.float64).reshape(case["rows"], case["dimension"])
        k = case["k"]
        entry = {"name": case["name"], "draws": 4000}
        for label, trials in [("greedy", None), ("plain", 1)]:
            pots = []
            for s in range(4000):
                centres, _ = kmeans_plusplus(x, k, random_state=s, n_local_trials=trials)
                d = ((x[:, None, :] - centres[None, :, :]) ** 2).sum(axis=2).min(axis=1)
                pots.append(d.sum())
            entry[label + "_mean"] = float(np.mean(pots))
            entry[label + "_std"] = float(np.std(pots))
        seeding.append(entry)
    write("kmeans.json", {"cases": cases, "lloyd": lloyd, "seeding": seeding})


def lloyd_case(name, x, seeds):
    km = KMeans(n_clusters=len(seeds), init=x[seeds].astype(np.float64), n_init=1,
                algorithm="lloyd").fit(x.astype(np.float64))
    return {"name": name, "rows": len(x), "dimension": x.shape[1], "values": f32(x),
            "seeds": [int(v) for v in seeds], "labels": km.labels_.tolist(),
            "inertia": float(km.inertia_), "iterations": int(km.n_iter_)}


def pca_fixture(rng):
    cases = []
    for name, n, d, m in [("tall", 50, 6, 3), ("wide", 12, 30, 4)]:
        basis = rng.normal(size=(d, d))
        x = (rng.normal(size=(n, d)) * np.linspace(3, 0.2, d)) @ basis
        x = x.astype(np.float32)
        p = PCA(n_components=m, svd_solver="full").fit(x.astype(np.float64))
        comps = p.components_.copy()
        # The toolkit's sign convention: the entry of largest magnitude of each component is > 0.
        for i in range(m):
            j = np.argmax(np.abs(comps[i]))
            if comps[i, j] < 0:
                comps[i] *= -1
        cases.append({"name": name, "rows": n, "dimension": d, "components": m,
                      "values": f32(x), "explained_variance": p.explained_variance_.tolist(),
                      "explained_variance_ratio": p.explained_variance_ratio_.tolist(),
                      "component_rows": comps.ravel().tolist()})
    write("pca.json", {"cases": cases})


def main():
    os.makedirs(OUT, exist_ok=True)
    rng = np.random.default_rng(SEED)
    map_fixture(rng)
    cluster_metrics_fixture(rng)
    silhouette_fixture(rng)
    batch_fixture(rng)
    kmeans_fixture(rng)
    pca_fixture(rng)


if __name__ == "__main__":
    main()
