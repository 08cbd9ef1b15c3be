#!/usr/bin/env python3
"""Complex mAP of a richer hand-made feature set on a simulated screen (calibration only).

52 per-cell features computed with numpy/scipy from the crops (background = each channel's 5th
percentile): per-channel mean, std, 90th percentile and maximum; per-channel means in six rings
around the crop centre; nuclear area, mean DNA, DNA coefficient of variation and nuclear
eccentricity (DNA above 35 % of its maximum); cell area and eccentricity; DNA-damage foci
(local maxima inside the nucleus); per-channel gradient energy; actin orientation coherence.
Features are standardised on each batch's control cells, averaged per gene, and scored with the
complex mAP of the evaluation contract (cosine similarity). Evaluation/simulator.md records the
output.

Input: a cell store (`grape simulate --out FILE.h5`; h5py), or a folder with images.npy
([N, C, H, W] uint16), labels.csv (gene,batch,plate) and genes.tsv (gene<TAB>complex; control
last).

Run: python3 scripts/reference/sim_rich_features.py STORE.h5 | FOLDER
"""
import os
import sys

import numpy as np
import scipy
from scipy import ndimage


def load(path):
    if os.path.isdir(path):
        images = np.load(os.path.join(path, "images.npy"))
        labels = np.loadtxt(os.path.join(path, "labels.csv"), delimiter=",", skiprows=1).astype(int)
        genes = [line.rstrip("\n").split("\t") for line in open(os.path.join(path, "genes.tsv"))][1:]
        complex_of = np.array([int(c) for _, c in genes])
        return images, labels[:, 0], labels[:, 1], complex_of, len(genes) - 1
    import h5py

    with h5py.File(path, "r") as f:
        names = [g.decode() if isinstance(g, bytes) else g for g in f["/genes"][:]]
        control = f.attrs["control"]
        control = control.decode() if isinstance(control, bytes) else control
        return (f["/images"][:], f["/obs/gene"][:], f["/obs/batch"][:], f["/truth/complex"][:],
                names.index(control))


def eccentricity(mask, xx, yy):
    n = mask.sum((1, 2)).astype(float) + 1e-9
    mx = (mask * xx).sum((1, 2)) / n
    my = (mask * yy).sum((1, 2)) / n
    dx = xx[None] - mx[:, None, None]
    dy = yy[None] - my[:, None, None]
    a = (mask * dx * dx).sum((1, 2)) / n
    b = (mask * dy * dy).sum((1, 2)) / n
    c = (mask * dx * dy).sum((1, 2)) / n
    t = (a + b) / 2
    d = np.sqrt(((a - b) / 2) ** 2 + c * c)
    return np.sqrt(np.maximum(0, 1 - (t - d) / (t + d + 1e-9)))


def features(x):
    n, c, h, w = x.shape
    x = x.astype(np.float32)
    y = np.maximum(x - np.percentile(x.reshape(n, c, -1), 5, axis=2)[:, :, None, None], 0)
    yy, xx = np.mgrid[0:h, 0:w] + 0.5
    r = np.hypot(yy - h / 2, xx - w / 2) * (32 / h)
    flat = y.reshape(n, c, -1)
    out = [flat.mean(2), flat.std(2), np.percentile(flat, 90, axis=2), flat.max(2)]
    for lo, hi in [(0, 2), (2, 4), (4, 6), (6, 9), (9, 12), (12, 17)]:
        ring = (r >= lo) & (r < hi)
        out.append(y[:, :, ring].mean(2))
    dna = y[:, 0]
    nucleus = dna > 0.35 * dna.max((1, 2), keepdims=True)
    area = np.maximum(nucleus.sum((1, 2)), 1)
    mean = (dna * nucleus).sum((1, 2)) / area
    var = ((dna - mean[:, None, None]) ** 2 * nucleus).sum((1, 2)) / area
    out += [area[:, None], mean[:, None], (np.sqrt(var) / np.maximum(mean, 1))[:, None],
            eccentricity(nucleus, xx, yy)[:, None]]
    body = y[:, 2] + y[:, 3]
    cell = body > np.median(body.reshape(n, -1), axis=1)[:, None, None]
    out += [cell.sum((1, 2))[:, None], eccentricity(cell, xx, yy)[:, None]]
    damage = y[:, 1]
    peaks = (damage == ndimage.maximum_filter(damage, size=(1, 3, 3))) & nucleus
    peaks &= damage > np.median(damage * nucleus, axis=(1, 2))[:, None, None] + 150
    out.append(peaks.sum((1, 2))[:, None])
    gx = np.diff(y, axis=3)[:, :, :-1, :]
    gy = np.diff(y, axis=2)[:, :, :, :-1]
    out.append((gx ** 2 + gy ** 2).mean((2, 3)))
    ax, ay = gx[:, 3], gy[:, 3]
    jxx, jyy, jxy = (ax * ax).sum((1, 2)), (ay * ay).sum((1, 2)), (ax * ay).sum((1, 2))
    out.append((np.sqrt((jxx - jyy) ** 2 + 4 * jxy ** 2) / (jxx + jyy + 1e-9))[:, None])
    return np.concatenate([f.reshape(n, -1) for f in out], axis=1).astype(np.float64)


def complex_map(profiles, complex_of):
    idx = np.where(complex_of >= 0)[0]
    x = profiles[idx] / np.maximum(np.linalg.norm(profiles[idx], axis=1, keepdims=True), 1e-12)
    sim = x @ x.T
    labels = complex_of[idx]
    aps = []
    for q in range(len(idx)):
        order = [o for o in np.argsort(-sim[q], kind="stable") if o != q]
        ranks = np.where(labels[order] == labels[q])[0] + 1
        if len(ranks):
            aps.append(np.mean(np.arange(1, len(ranks) + 1) / ranks))
    return float(np.mean(aps))


def main():
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    images, gene, batch, complex_of, control = load(sys.argv[1])
    feats = np.concatenate([features(images[s : s + 2048]) for s in range(0, len(gene), 2048)])
    corrected = feats.copy()
    for b in np.unique(batch):
        ref = feats[(batch == b) & (gene == control)]
        corrected[batch == b] = (feats[batch == b] - ref.mean(0)) / (ref.std(0) + 1e-9)
    profiles = np.stack([corrected[gene == g].mean(0) for g in range(len(complex_of))])
    print(f"# numpy {np.__version__}, scipy {scipy.__version__}; {len(gene)} cells, "
          f"{feats.shape[1]} features")
    print(f"complex mAP of per-gene mean rich features (control-standardised per batch): "
          f"{complex_map(profiles, complex_of):.3f}")


if __name__ == "__main__":
    main()
