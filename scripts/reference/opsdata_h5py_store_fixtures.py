"""Writes cell stores with h5py in several HDF5 layouts (Tests/OPSDataTests/Fixtures/stores).

Each store holds 6 cells of 2 × 3 × 4 with /images[k, c, y, x] = 1000 k + 100 c + 10 y + x
(uint16, or that value / 8 as float32), genes ['a', 'b', 'nt'] (control 'nt'), batches ['p1', 'p2'],
/obs/gene = [0, 1, 2, 0, 1, 2], /obs/batch = [0, 0, 0, 1, 1, 1]:

  gzip.h5              uint16, chunks [1, 2, 3, 4], gzip level 4, no shuffle
  shuffle_gzip.h5      uint16, chunks [1, 2, 3, 4], shuffle + gzip
  shuffle_only.h5      float32, chunks [1, 2, 3, 4], shuffle
  raw_chunks.h5        uint16, chunks [1, 2, 3, 4], no filters
  two_per_chunk.h5     uint16, chunks [2, 2, 3, 4], gzip (not one cell per chunk)
  contiguous.h5        float32, not chunked
  fletcher.h5          uint16, chunks [1, 2, 3, 4], fletcher32 checksum + gzip

Run: python3 scripts/reference/opsdata_h5py_store_fixtures.py   (h5py 3.16.0, numpy 2.4.6)
"""
import json
import os
import h5py
import numpy as np

out = os.path.join(os.path.dirname(__file__), "..", "..", "Tests", "OPSDataTests", "Fixtures", "stores")
os.makedirs(out, exist_ok=True)
k, c, y, x = np.meshgrid(np.arange(6), np.arange(2), np.arange(3), np.arange(4), indexing="ij")
values = (1000 * k + 100 * c + 10 * y + x).astype(np.uint16)

layouts = {
    "gzip.h5": dict(dtype=np.uint16, chunks=(1, 2, 3, 4), compression="gzip", compression_opts=4),
    "shuffle_gzip.h5": dict(dtype=np.uint16, chunks=(1, 2, 3, 4), compression="gzip", shuffle=True),
    "shuffle_only.h5": dict(dtype=np.float32, chunks=(1, 2, 3, 4), shuffle=True),
    "raw_chunks.h5": dict(dtype=np.uint16, chunks=(1, 2, 3, 4)),
    "two_per_chunk.h5": dict(dtype=np.uint16, chunks=(2, 2, 3, 4), compression="gzip"),
    "contiguous.h5": dict(dtype=np.float32),
    "fletcher.h5": dict(dtype=np.uint16, chunks=(1, 2, 3, 4), compression="gzip", fletcher32=True),
}
for name, options in layouts.items():
    dtype = options.pop("dtype")
    data = values.astype(np.float32) / 8 if dtype == np.float32 else values
    with h5py.File(os.path.join(out, name), "w") as f:
        f.create_dataset("images", data=data, **options)
        f["obs/gene"] = np.array([0, 1, 2, 0, 1, 2], dtype=np.int32)
        f["obs/batch"] = np.array([0, 0, 0, 1, 1, 1], dtype=np.int32)
        f["genes"] = np.array(["a", "b", "nt"], dtype=h5py.string_dtype())
        f["batches"] = np.array(["p1", "p2"], dtype=h5py.string_dtype())
        f.attrs["format"] = "grape-cells"
        f.attrs["version"] = 1
        f.attrs["channels"] = ["DNA", "actin"]
        f.attrs["control"] = "nt"
        f.attrs["preprocessing"] = json.dumps({"writer": "h5py", "layout": name})
print("wrote", sorted(os.listdir(out)))
