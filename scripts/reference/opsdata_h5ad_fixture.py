"""Writes the AnnData fixtures of Tests/OPSDataTests/Fixtures/embedding with Python's anndata.

tiny.h5ad:      X float32 [3, 4] = 0.5 * arange(12) - 1, obs index TP53, BRCA1, nontargeting,
                an extra categorical obs column 'complex', var index dim_0..dim_3, uns['source'] = 'python'.
tiny_f64.h5ad:  the same matrix stored as float64, without uns.

Run: python3 scripts/reference/opsdata_h5ad_fixture.py   (anndata 0.12.19, pandas 2.3.3, numpy 2.4.6, h5py 3.16.0)
The Swift test reads both and checks the values above.
"""
import os
import numpy as np
import pandas as pd
import anndata as ad

out = os.path.join(os.path.dirname(__file__), "..", "..", "Tests", "OPSDataTests", "Fixtures", "embedding")
os.makedirs(out, exist_ok=True)
X = (0.5 * np.arange(12) - 1).reshape(3, 4)
obs = pd.DataFrame({"complex": pd.Categorical(["p53", "BRCA", "none"])},
                   index=["TP53", "BRCA1", "nontargeting"])
var = pd.DataFrame(index=[f"dim_{i}" for i in range(4)])
a = ad.AnnData(X=X.astype(np.float32), obs=obs, var=var)
a.uns["source"] = "python"
a.write_h5ad(os.path.join(out, "tiny.h5ad"))
b = ad.AnnData(X=X.astype(np.float64), obs=pd.DataFrame(index=obs.index), var=var)
b.write_h5ad(os.path.join(out, "tiny_f64.h5ad"))
print("wrote", sorted(os.listdir(out)))
