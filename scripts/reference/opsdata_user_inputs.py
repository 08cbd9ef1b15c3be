"""Writes embedding inputs as pandas, anndata and pycytominer users have them, for the readers of
`grape evaluate --embedding` and `grape inspect` (Tests/OPSDataTests/Fixtures/inputs).

Every value below is a multiple of 1/4 (so float32 holds it, and each per-gene mean, exactly);
the Swift tests (Tests/OPSDataTests/UserInputTests.swift) check genes and values exactly.

profiles.csv      pycytominer-like per-well profiles, written by pandas `to_csv(index=False)`:
                  Metadata_Plate, Metadata_Well, Metadata_gene, Metadata_Note (text with commas,
                  quotes and a line break: quoted fields), Cells_AreaShape_Area,
                  Nuclei_Intensity_Mean, compartment (text, not Metadata_: ignored),
                  Cytoplasm_Texture. Genes A, B, C, two wells each (rows A1, B1, C1, A2, B2, C2).
                  Row r of gene g (0-based gene, well w = 0, 1): feature f = g + 0.25 * f + 0.5 * w.
                  Per-gene means: g + 0.25 * f + 0.25.
profiles.tsv      the same per-gene means, tab-separated, Metadata_gene as first column, one row
                  per gene (`to_csv(sep="\t", index=False)`).
pandas_index.csv  per-gene table with the pandas index written (`to_csv()`: an unnamed first
                  column 0, 1, 2), genes in column `gene_symbol`; values as the means above.
dense_cells.h5ad  X float64 [3, 3] = the means above, obs index '0', '1', '2' (cell ids), genes in
                  the plain string obs column `gene`.
sparse_csr.h5ad   X scipy.sparse.csr_matrix float32 [4, 5] (values below), obs index = genes
                  G0..G3, var index f0..f4.
sparse_csc.h5ad   the same matrix as csc_matrix.
per_cell.h5ad     9 cells, X float32 [9, 3]: cell i has gene GENES[i % 3] (categorical obs column
                  `Metadata_gene`, categories written sorted: A, B, C; order of first appearance
                  C, A, B), Metadata_Plate categorical; obs index '0'..'8'; X[i, f] = i + 0.25 * f;
                  obsm['X_grape'] float32 [9, 2] = [[i, -i]].

Run: python3 scripts/reference/opsdata_user_inputs.py
     (anndata 0.12.19, pandas 2.3.3, scipy 1.17.1, h5py 3.16.0; no random numbers)
"""
import os
import numpy as np
import pandas as pd
import scipy.sparse as sp
import anndata as ad

out = os.path.join(os.path.dirname(__file__), "..", "..", "Tests", "OPSDataTests", "Fixtures", "inputs")
os.makedirs(out, exist_ok=True)

genes = ["A", "B", "C"]
features = ["Cells_AreaShape_Area", "Nuclei_Intensity_Mean", "Cytoplasm_Texture"]

# profiles.csv: two wells per gene, rows ordered well-major (A1, B1, C1, A2, B2, C2).
rows = []
for w in range(2):
    for g, gene in enumerate(genes):
        row = {"Metadata_Plate": "P1", "Metadata_Well": f"{'AB'[w]}{g + 1:02d}", "Metadata_gene": gene,
               "Metadata_Note": f'well {w}, "gene" {gene}\nsecond line' if g == 0 else "plain"}
        row["Cells_AreaShape_Area"] = g + 0.0 + 0.5 * w
        row["Nuclei_Intensity_Mean"] = g + 0.25 + 0.5 * w
        row["compartment"] = "cells"
        row["Cytoplasm_Texture"] = g + 0.5 + 0.5 * w
        rows.append(row)
profiles = pd.DataFrame(rows)
profiles.to_csv(os.path.join(out, "profiles.csv"), index=False)

means = pd.DataFrame({"Metadata_gene": genes})
for f, name in enumerate(features):
    means[name] = [g + 0.25 * f + 0.25 for g in range(3)]
means.to_csv(os.path.join(out, "profiles.tsv"), sep="\t", index=False)

indexed = means.rename(columns={"Metadata_gene": "gene_symbol"})
indexed.to_csv(os.path.join(out, "pandas_index.csv"))

X = np.array([[g + 0.25 * f + 0.25 for f in range(3)] for g in range(3)], dtype=np.float64)
dense = ad.AnnData(X=X, obs=pd.DataFrame({"gene": genes}, index=["0", "1", "2"]),
                   var=pd.DataFrame(index=features))
dense.write_h5ad(os.path.join(out, "dense_cells.h5ad"))

S = np.array([[1, 0, 0, 2.5, 0],
              [0, 0, 0, 0, 0],
              [0, -0.75, 0, 0, 4],
              [0.25, 0, 3, 0, 0]], dtype=np.float32)
sparse_obs = pd.DataFrame(index=[f"G{i}" for i in range(4)])
sparse_var = pd.DataFrame(index=[f"f{j}" for j in range(5)])
ad.AnnData(X=sp.csr_matrix(S), obs=sparse_obs, var=sparse_var).write_h5ad(os.path.join(out, "sparse_csr.h5ad"))
ad.AnnData(X=sp.csc_matrix(S), obs=sparse_obs, var=sparse_var).write_h5ad(os.path.join(out, "sparse_csc.h5ad"))

order = ["C", "A", "B"]
cells = pd.DataFrame({
    "Metadata_gene": pd.Categorical([order[i % 3] for i in range(9)], categories=["A", "B", "C"]),
    "Metadata_Plate": pd.Categorical(["P1"] * 5 + ["P2"] * 4),
}, index=[str(i) for i in range(9)])
Xc = np.array([[i + 0.25 * f for f in range(3)] for i in range(9)], dtype=np.float32)
per_cell = ad.AnnData(X=Xc, obs=cells, var=pd.DataFrame(index=features))
per_cell.obsm["X_grape"] = np.array([[i, -i] for i in range(9)], dtype=np.float32)
per_cell.write_h5ad(os.path.join(out, "per_cell.h5ad"))

print("wrote", sorted(os.listdir(out)))
