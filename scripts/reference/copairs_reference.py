#!/usr/bin/env python3
"""Reference values for the field's evaluation conventions, computed with copairs and numpy.

Writes Tests/EvaluationTests/Fixtures/copairs.json. Run from the repository root:

    pip install copairs
    python3 scripts/reference/copairs_reference.py

The fixture records the seed, the library versions and a format version. Its values are checked
by Tests/EvaluationTests/ConventionsTests.swift; they are never computed during a test run.

Cases:
- "retrieval": a gene embedding (36 genes, 6 of them outside the complexes table) and a complexes
  table. copairs' `average_precision` ranks, for each gene of the table, every other gene of the
  table by cosine similarity (positives: same complex; negatives: another complex), and
  `mean_average_precision` groups the APs by complex (and, separately, by gene), draws copairs'
  null (`null_size` random rankings per (n_pos, total) configuration), computes the permutation
  p-values and the Benjamini-Hochberg corrected ones.
- "activity": per-cell codes of a few genes and control cells. copairs' phenotypic activity:
  each non-control cell is a query, the other cells of its gene are the positives and the control
  cells the negatives; APs are grouped by gene.
- "recall": the share of within-complex gene pairs of the "retrieval" embedding whose cosine
  similarity lies at or below the 5th or at or above the 95th percentile of all pairwise
  cosine similarities (numpy's linear percentile), as the EFAAR benchmark computes it.

Only the mAP values are matched exactly: copairs draws its null with numpy's PCG64 stream, which
the toolkit does not reproduce; its p-values are matched within Monte-Carlo error.
"""
import json
import logging
import os
import sys

import numpy as np
import pandas as pd
import copairs
from copairs import map as cmap
from copairs.matching import assign_reference_index

FORMAT_VERSION = 1
SEED = 20260712
NULL_SIZE = 10000
OUT = os.path.join(os.path.dirname(__file__), "..", "..", "Tests", "EvaluationTests", "Fixtures")


def meta():
    return {
        "format_version": FORMAT_VERSION,
        "seed": SEED,
        "generator": "scripts/reference/copairs_reference.py",
        "versions": {
            "python": sys.version.split()[0],
            "numpy": np.__version__,
            "pandas": pd.__version__,
            "copairs": getattr(copairs, "__version__", "unknown"),
        },
    }


def f32(a):
    return [float(v) for v in np.asarray(a, dtype=np.float32).ravel()]


def retrieval_case(rng):
    sizes = [2, 3, 4, 5, 6, 10]
    strengths = [2.5, 0.0, 1.5, 0.2, 1.0, 0.6]
    d = 6
    genes, complexes, rows = [], [], []
    for c, (size, s) in enumerate(zip(sizes, strengths)):
        centre = rng.normal(size=d)
        for j in range(size):
            genes.append(f"C{c}G{j}")
            complexes.append(f"CPX{c}")
            rows.append(s * centre + rng.normal(size=d))
    for j in range(6):
        genes.append(f"other{j}")
        complexes.append(None)
        rows.append(rng.normal(size=d))
    order = rng.permutation(len(genes))
    genes = [genes[i] for i in order]
    complexes = [complexes[i] for i in order]
    x = np.asarray(rows, dtype=np.float32)[order]

    in_table = [i for i, c in enumerate(complexes) if c is not None]
    meta_df = pd.DataFrame(
        {"gene": [genes[i] for i in in_table], "complex": [complexes[i] for i in in_table]}
    )
    feats = x[in_table].astype(np.float64)
    ap = cmap.average_precision(
        meta_df, feats, pos_sameby=["complex"], pos_diffby=[], neg_sameby=[],
        neg_diffby=["complex"], progress_bar=False,
    )
    by_complex = cmap.mean_average_precision(
        ap, ["complex"], null_size=NULL_SIZE, threshold=0.05, seed=SEED, progress_bar=False,
        cache_dir="/tmp/copairs-reference-cache",
    )
    by_gene = cmap.mean_average_precision(
        ap, ["gene"], null_size=NULL_SIZE, threshold=0.05, seed=SEED, progress_bar=False,
        cache_dir="/tmp/copairs-reference-cache",
    )
    return {
        "genes": genes,
        "complexes": [c if c is not None else "" for c in complexes],
        "dimension": d,
        "values": f32(x),
        "null_size": NULL_SIZE,
        "ap": {g: float(a) for g, a in zip(ap["gene"], ap["average_precision"])},
        "per_complex": [
            {
                "complex": r.complex, "map": float(r.mean_average_precision),
                "p": float(r.p_value), "p_corrected": float(r.corrected_p_value),
            }
            for r in by_complex.itertuples()
        ],
        "per_gene": [
            {
                "gene": r.gene, "map": float(r.mean_average_precision),
                "p": float(r.p_value), "p_corrected": float(r.corrected_p_value),
            }
            for r in by_gene.itertuples()
        ],
        "fraction_complexes_retrieved": float(by_complex["below_corrected_p"].mean()),
        "fraction_genes_retrieved": float(by_gene["below_corrected_p"].mean()),
    }, x, complexes


def activity_case(rng):
    d = 5
    shifts = {"A": 1.5, "B": 0.0, "C": 0.8, "D": 3.0}
    counts = {"A": 6, "B": 5, "C": 6, "D": 4}
    control = "nontargeting"
    cell_gene, rows = [], []
    for g, s in shifts.items():
        direction = rng.normal(size=d)
        for _ in range(counts[g]):
            cell_gene.append(g)
            rows.append(s * direction + rng.normal(size=d))
    for _ in range(14):
        cell_gene.append(control)
        rows.append(rng.normal(size=d))
    x = np.asarray(rows, dtype=np.float32)
    df = pd.DataFrame({"gene": cell_gene})
    df = assign_reference_index(
        df, f"gene == '{control}'", reference_col="reference_index", default_value=-1
    )
    ap = cmap.average_precision(
        df, x.astype(np.float64), pos_sameby=["gene", "reference_index"], pos_diffby=[],
        neg_sameby=[], neg_diffby=["gene", "reference_index"], progress_bar=False,
    )
    ap = ap.query(f"gene != '{control}'")
    res = cmap.mean_average_precision(
        ap, ["gene"], null_size=NULL_SIZE, threshold=0.05, seed=SEED, progress_bar=False,
        cache_dir="/tmp/copairs-reference-cache",
    )
    return {
        "control": control,
        "cell_genes": cell_gene,
        "dimension": d,
        "values": f32(x),
        "null_size": NULL_SIZE,
        "per_gene": [
            {
                "gene": r.gene, "map": float(r.mean_average_precision),
                "p": float(r.p_value), "p_corrected": float(r.corrected_p_value),
            }
            for r in res.itertuples()
        ],
        "fraction_active": float(res["below_corrected_p"].mean()),
    }


def recall_case(x, complexes):
    idx = [i for i, c in enumerate(complexes) if c is not None]
    v = x[idx].astype(np.float64)
    v /= np.linalg.norm(v, axis=1, keepdims=True)
    sims = v @ v.T
    iu = np.triu_indices(len(idx), k=1)
    all_pairs = sims[iu]
    lo, hi = np.percentile(all_pairs, [5, 95])
    labels = np.array([complexes[i] for i in idx])
    same = (labels[:, None] == labels[None, :])[iu]
    known = all_pairs[same]
    return {
        "threshold_percentile": 5,
        "lower": float(lo),
        "upper": float(hi),
        "pairs": int(len(known)),
        "recall": float(np.mean((known <= lo) | (known >= hi))),
        "recall_top": float(np.mean(known >= hi)),
    }


def main():
    logging.getLogger("copairs").setLevel(logging.WARNING)
    rng = np.random.default_rng(SEED)
    retrieval, x, complexes = retrieval_case(rng)
    payload = {
        "meta": meta(),
        "retrieval": retrieval,
        "activity": activity_case(rng),
        "recall": recall_case(x, complexes),
    }
    path = os.path.join(OUT, "copairs.json")
    tmp = path + ".tmp"
    with open(tmp, "w") as f:
        json.dump(payload, f, indent=1)
        f.write("\n")
    os.replace(tmp, path)
    print("wrote", os.path.normpath(path))


if __name__ == "__main__":
    main()
