#!/usr/bin/env python3
"""Times scikit-learn (and scipy) on the inputs of `grape bench evaluate`.

The inputs are rebuilt bit for bit from Sources/Evaluation/BenchmarkData.swift (counter-based
SplitMix64 hashes), so both sides time the same numbers:

- k-means: KMeans(n_clusters=14, n_init=1, random_state=s).fit(X) for s in 0..99 on the 105 x 500
  embedding, each run scored with normalized_mutual_info_score, adjusted_rand_score and purity;
  the k sweep 5-30 with 100 runs per k; mAP (cosine ranking, average_precision_score per query).
- batch metrics on 100,000 cells x 64: scIB's batch ASW (silhouette_samples on batch labels within
  each gene), leave-one-out 15-NN batch accuracy (NearestNeighbors.kneighbors(None)), graph
  connectivity (scipy connected_components on the symmetrised 14-NN graph per gene).

Run from the repository root (takes a few minutes):

    python3 scripts/reference/eval_bench_sklearn.py [--cells N] [--restarts N] [--skip-batch]

It prints one JSON line per figure, in the format of `grape bench evaluate`.
"""
import argparse
import json
import time

import numpy as np
import scipy.sparse as sp
import sklearn
from scipy.sparse.csgraph import connected_components
from sklearn.cluster import KMeans
from sklearn.metrics import (
    adjusted_rand_score,
    average_precision_score,
    normalized_mutual_info_score,
    silhouette_samples,
)
from sklearn.metrics.cluster import contingency_matrix
from sklearn.neighbors import NearestNeighbors

GOLDEN = np.uint64(0x9E3779B97F4A7C15)


def splitmix(x):
    with np.errstate(over="ignore"):
        z = x + GOLDEN
        z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
        z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
        return z ^ (z >> np.uint64(31))


def uniform(stream, idx):
    with np.errstate(over="ignore"):
        x = np.uint64(stream) * GOLDEN + idx.astype(np.uint64)
    return (splitmix(x) >> np.uint64(11)).astype(np.float64) * (1.0 / 9007199254740992.0)


def normal(stream, count):
    i = np.arange(count, dtype=np.uint64)
    u1 = uniform(stream, 2 * i)
    u2 = uniform(stream, 2 * i + 1)
    return np.sqrt(-2 * np.log(1 - u1)) * np.cos(2 * np.pi * u2)


def embedding(genes=105, dim=500, clusters=14):
    labels = np.arange(genes) % clusters
    centres = normal(1, clusters * dim).reshape(clusters, dim)
    noise = normal(2, genes * dim).reshape(genes, dim)
    return (0.3 * centres[labels] + noise).astype(np.float32), labels


def cells(n=100_000, d=64, genes=105, batches=4):
    gene = np.arange(n) % genes
    batch = (np.arange(n) // genes) % batches
    means = normal(3, genes * d).reshape(genes, d)
    shifts = 0.5 * normal(4, batches * d).reshape(batches, d)
    noise = normal(5, n * d).reshape(n, d)
    return (means[gene] + shifts[batch] + noise).astype(np.float32), gene, batch


def purity(truth, pred):
    c = contingency_matrix(truth, pred)
    return c.max(axis=0).sum() / c.sum()


def emit(metric, seconds, inp):
    print(json.dumps({"bench": "evaluate-sklearn", "metric": metric, "value": round(seconds, 4),
                      "unit": "s", "input": inp, "sklearn": sklearn.__version__}), flush=True)


def kmeans_runs(x, labels, k, restarts):
    scores = []
    for s in range(restarts):
        pred = KMeans(n_clusters=k, n_init=1, random_state=s).fit(x).labels_
        scores.append((normalized_mutual_info_score(labels, pred), adjusted_rand_score(labels, pred),
                       purity(labels, pred)))
    return np.array(scores)


def mean_ap(x, labels):
    u = x.astype(np.float64)
    u /= np.linalg.norm(u, axis=1, keepdims=True)
    sims = u @ u.T
    aps = []
    for i in range(len(x)):
        others = np.arange(len(x)) != i
        y = labels[others] == labels[i]
        if y.any():
            aps.append(average_precision_score(y, sims[i, others]))
    return float(np.mean(aps))


def batch_asw(x, genes, batches):
    per_label = []
    for g in np.unique(genes):
        idx = np.where(genes == g)[0]
        nb = len(np.unique(batches[idx]))
        if nb == 1 or nb == len(idx):
            continue
        per_label.append(np.mean(1 - np.abs(silhouette_samples(x[idx], batches[idx]))))
    return float(np.mean(per_label))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--cells", type=int, default=100_000)
    ap.add_argument("--restarts", type=int, default=100)
    ap.add_argument("--skip-batch", action="store_true")
    ap.add_argument("--skip-sweep", action="store_true")
    args = ap.parse_args()

    x, labels = embedding()
    t = time.perf_counter()
    s = kmeans_runs(x, labels, 14, args.restarts)
    emit(f"kmeans_{args.restarts}_restarts_with_nmi_ari_purity", time.perf_counter() - t, "105x500 k=14")
    print(json.dumps({"nmi_mean": s[:, 0].mean(), "ari_mean": s[:, 1].mean(),
                      "purity_mean": s[:, 2].mean()}), flush=True)
    t = time.perf_counter()
    m = mean_ap(x, labels)
    emit("map", time.perf_counter() - t, "105x500")
    print(json.dumps({"map": m}), flush=True)
    if not args.skip_sweep:
        t = time.perf_counter()
        for k in range(5, 31):
            kmeans_runs(x, labels, k, args.restarts)
        emit(f"kmeans_sweep_5_30_{args.restarts}_restarts", time.perf_counter() - t, "105x500")
    if args.skip_batch:
        return
    n = args.cells
    codes, genes, batches = cells(n)
    inp = f"{n}x64, 105 genes, 4 batches"
    t = time.perf_counter()
    asw = batch_asw(codes, genes, batches)
    t_asw = time.perf_counter() - t
    emit("batch_asw", t_asw, inp)
    t = time.perf_counter()
    neigh = NearestNeighbors(n_neighbors=15).fit(codes).kneighbors(None, return_distance=False)
    t_knn = time.perf_counter() - t
    emit("knn_15_neighbors", t_knn, inp)
    t = time.perf_counter()
    votes = np.zeros((n, 4), dtype=np.int64)
    for j in range(15):
        np.add.at(votes, (np.arange(n), batches[neigh[:, j]]), 1)
    accuracy = float((votes.argmax(axis=1) == batches).mean())
    rows = np.repeat(np.arange(n), 14)
    a = sp.csr_matrix((np.ones(n * 14), (rows, neigh[:, :14].ravel())), shape=(n, n))
    a = ((a + a.T) > 0).astype(np.float64)
    scores = []
    for g in np.unique(genes):
        idx = np.where(genes == g)[0]
        _, comp = connected_components(a[idx][:, idx], connection="strong")
        scores.append(np.bincount(comp).max() / len(idx))
    connectivity = float(np.mean(scores))
    t_rest = time.perf_counter() - t
    emit("knn_accuracy_and_graph_connectivity", t_rest, inp)
    emit("batch_metrics_total", t_asw + t_knn + t_rest, inp)
    print(json.dumps({"asw": asw, "knn_accuracy": accuracy, "graph_connectivity": connectivity}),
          flush=True)


if __name__ == "__main__":
    main()
