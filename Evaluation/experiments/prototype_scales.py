#!/usr/bin/env python3
"""Prototypes of frozen codes at several softmax scales (grape-training.md §9).

    python3 Evaluation/experiments/prototype_scales.py CODES.h5 OUT SEED [SCALES]

CODES.h5 is `grape encode` output (/styles [N, d], /obs/gene, /obs/batch, /genes). For each
scale s, a cosine-softmax classifier with one free prototype per gene (what F(M) is to the
style-gene alignment) is fitted to the L2-normalised codes (Adam, lr 1e-2, β (0.9, 0.99), 400
full-batch steps, prototypes from N(0, 0.01²), numpy's default generator seeded 0); the
prototypes are written as OUT/prototypes-s.h5 and evaluated with `grape evaluate --restarts 20`.
The per-gene means of the normalised codes (raw, centred per batch, standardised per batch by
the control cells) are evaluated beside them. Prints one line per embedding: name, mAP, NMI.
"""
import json
import os
import subprocess
import sys

import h5py
import numpy as np


def write(path, genes, values):
    with h5py.File(path, "w") as f:
        f["embedding"] = values.astype(np.float32)
        f.create_dataset("genes", data=np.array(genes, dtype=object), dtype=h5py.string_dtype())
        f.attrs["source"] = "prototype_scales.py"


def evaluate(path, out, seed):
    grape = os.environ.get("BIN", ".build/release/grape")
    subprocess.run([grape, "evaluate", "--embedding", path, "--out", out, "--seed", str(seed), "--restarts", "20",
                    "--k-range", "none", "--no-figures"], check=True, capture_output=True)
    m = json.load(open(f"{out}/metrics.json"))
    return m["map"], m["kmeans"]["nmi"]["mean"]


def prototypes(z, genes_of_cell, count, scale, steps=400, lr=1e-2):
    w = np.random.default_rng(0).normal(0, 0.01, (count, z.shape[1]))
    m, v = np.zeros_like(w), np.zeros_like(w)
    onehot = np.eye(count)[genes_of_cell]
    for t in range(1, steps + 1):
        norm = np.linalg.norm(w, axis=1, keepdims=True)
        wn = w / norm
        logits = scale * z @ wn.T
        p = np.exp(logits - logits.max(1, keepdims=True))
        p /= p.sum(1, keepdims=True)
        d_wn = ((p - onehot) * scale / len(z)).T @ z
        grad = (d_wn - wn * (d_wn * wn).sum(1, keepdims=True)) / norm
        m = 0.9 * m + 0.1 * grad
        v = 0.99 * v + 0.01 * grad**2
        w -= lr * (m / (1 - 0.9**t)) / (np.sqrt(v / (1 - 0.99**t)) + 1e-8)
    return w


def main():
    codes_path, out, seed = sys.argv[1], sys.argv[2], int(sys.argv[3])
    scales = [float(s) for s in (sys.argv[4] if len(sys.argv) > 4 else "2,4,8,16,32").split(",")]
    os.makedirs(out, exist_ok=True)
    with h5py.File(codes_path) as f:
        x = f["styles"][:].astype(np.float64)
        gene = f["obs"]["gene"][:].astype(int)
        batch = f["obs"]["batch"][:].astype(int)
        genes = [g.decode() if isinstance(g, bytes) else g for g in f["genes"][:]]
    control = genes.index("nontargeting") if "nontargeting" in genes else None
    unit = lambda a: a / np.linalg.norm(a, axis=1, keepdims=True)
    for s in scales:
        path = f"{out}/prototypes-{s:g}.h5"
        write(path, genes, prototypes(unit(x), gene, len(genes), s))
        print("prototypes, scale %g\t%.3f\t%.3f" % ((s,) + evaluate(path, f"{out}/eval-prototypes-{s:g}", seed)))
    variants = {"raw": x.copy(), "centred per batch": x.copy(), "standardised by the controls": x.copy()}
    for b in np.unique(batch):
        rows = batch == b
        variants["centred per batch"][rows] -= x[rows].mean(0)
        if control is not None:
            ref = x[rows & (gene == control)]
            variants["standardised by the controls"][rows] = (x[rows] - ref.mean(0)) / (ref.std(0) + 1e-6)
    for name, z in variants.items():
        zn = unit(z)
        path = f"{out}/means-{name.split()[0]}.h5"
        write(path, genes, np.stack([zn[gene == g].mean(0) for g in range(len(genes))]))
        print("means of normalised codes, %s\t%.3f\t%.3f" % ((name,) + evaluate(path, f"{out}/eval-means-{name.split()[0]}", seed)))


if __name__ == "__main__":
    main()
