"""Times random mini-batch reads of a cell store with h5py, for comparison with
`grape inspect STORE --time-reads 16,256` (see Evaluation/performance.md, "Import and reading").

Each mini-batch draws `batch` distinct cells uniformly at random (seeded) and reads them as
float32, in two ways: one fancy-indexing read `/images[sorted idx]` (h5py needs increasing
indices), and one read per cell `/images[i]` as a PyTorch `Dataset.__getitem__` would do, stacked.

Run: python3 scripts/reference/opsdata_h5py_reads.py STORE [--batches 200] [--sizes 16,256]
"""
import argparse
import time
import h5py
import numpy as np

parser = argparse.ArgumentParser()
parser.add_argument("store")
parser.add_argument("--batches", type=int, default=200)
parser.add_argument("--sizes", default="16,256")
args = parser.parse_args()

rng = np.random.default_rng(0)
with h5py.File(args.store, "r") as f:
    images = f["images"]
    n = images.shape[0]
    for size in [int(s) for s in args.sizes.split(",")]:
        for mode in ("fancy", "per-cell"):
            times = []
            for _ in range(args.batches):
                idx = np.sort(rng.choice(n, size=size, replace=False))
                start = time.perf_counter()
                if mode == "fancy":
                    batch = images[idx].astype(np.float32)
                else:
                    batch = np.stack([images[i] for i in idx]).astype(np.float32)
                times.append(time.perf_counter() - start)
            times = np.array(times) * 1000
            print(f"h5py {h5py.__version__} (HDF5 {h5py.version.hdf5_version}) {mode} reads, batch {size}: "
                  f"{np.median(times):.2f} ms median, {times.mean():.2f} ms mean per batch, "
                  f"{size * args.batches / (times.sum() / 1000):.0f} cells/s ({args.batches} batches)")
