#!/usr/bin/env python3
"""What a GRAPE run has learned about genes, position by position.

    python3 Evaluation/scripts/grape_diagnostics.py RUN STORE [CHECKPOINT] [--cells N] [--grape BIN]

Prints the CORUM mAP (via `grape evaluate`) of
  - the rows of the gene embedding M (trained and EMA weights) and of F(M) (EMA),
  - the rows of the discriminator's head layer (one row per gene),
  - per-gene means of D's penultimate features and of the style encoder's codes on real cells,
and how well D's heads tell genes apart on real cells: the mean rank of the true gene's head among
all heads (0 = best; (G - 1) / 2 by chance) and the share of cells whose true head is in the top 5.

Needs torch, h5py and safetensors; the networks come from `grape_torch.py` beside this script, and
the stored pixels go through the run's `input_transform` (identity, affine or controls) as in
`grape train`.
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile

import h5py
import numpy as np
import torch
from safetensors.torch import load_file

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
COMPLEXES = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "Data", "corum_complexes.tsv")
import grape_torch as gt  # noqa: E402


def decode(values):
    return [v.decode() if isinstance(v, bytes) else str(v) for v in values]


def network_inputs(store, idx, transform):
    """Pixels of cells `idx` through the run's input transform, as grape train feeds them."""
    x = store["images"][idx].astype(np.float32)
    kind = (transform or {}).get("kind", "identity")
    if kind == "identity":
        return x
    off = np.array(transform["offset"], np.float32)[None, :, None, None]
    scale = np.array(transform["scale"], np.float32)[None, :, None, None]
    if kind == "affine":
        return (x - off) * scale
    if kind == "controls":
        y = np.clip((x - off) * scale, 0, 1)
        stats = {b["name"]: b for b in transform["batches"]}
        names = decode(store["batches"][:])
        for k, b in enumerate(store["obs/batch"][idx]):
            s = stats[names[b]]
            y[k] = (y[k] - np.array(s["mean"], np.float32)[:, None, None]) / np.array(s["std"], np.float32)[:, None, None]
        return y
    raise SystemExit(f"unknown input_transform kind {kind!r}")


def evaluate(grape, matrix, genes, name):
    """CORUM mAP of a gene x d matrix, from `grape evaluate`."""
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "e.h5")
        with h5py.File(path, "w") as f:
            f["embedding"] = matrix.astype(np.float32)
            f.create_dataset("genes", data=np.array(genes, dtype=object), dtype=h5py.string_dtype())
            f.attrs["source"] = name
        subprocess.run([grape, "evaluate", "--embedding", path, "--out", os.path.join(tmp, "ev"),
                        "--restarts", "5", "--complexes", COMPLEXES, "--k-range", "none", "--no-figures"], check=True, capture_output=True)
        m = json.load(open(os.path.join(tmp, "ev", "metrics.json")))
    print(f"  {name:<28} mAP {m['map']:.3f}  NMI {m['kmeans']['nmi']['mean']:.3f}  ARI {m['kmeans']['ari']['mean']:.3f}")


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("run")
    ap.add_argument("store")
    ap.add_argument("checkpoint", nargs="?")
    ap.add_argument("--cells", type=int, default=3000)
    ap.add_argument("--grape", default=".build/release/grape")
    a = ap.parse_args()
    torch.set_num_threads(1)
    ck = a.checkpoint or open(os.path.join(a.run, "checkpoints", "latest")).read().strip()
    c = json.load(open(os.path.join(a.run, "config.json")))
    genes = c["genes"]
    cfg = gt.Config(img_size=c["img_size"], dim_in=c["dim_in"], max_conv_dim=c["max_conv_dim"], style_dim=c["style_dim"],
                    latent_dim=c["latent_dim"], batch_size=16, mapping_hidden=c["mapping_hidden"],
                    in_channels=c["in_channels"], num_genes=len(genes))
    model, ema = gt.GRAPE(cfg), gt.GRAPE(cfg, with_discriminator=False)
    weights = load_file(os.path.join(a.run, "checkpoints", ck, "weights.safetensors"))
    model.load_state_dict({k: v for k, v in weights.items() if not k.startswith(("abra", "aux_head"))})
    ema.load_state_dict(load_file(os.path.join(a.run, "checkpoints", ck, "weights_ema.safetensors")))
    print(f"{a.run} {ck}")
    with torch.no_grad():
        evaluate(a.grape, model.gene_embedding.weight.numpy(), genes, "M")
        evaluate(a.grape, ema.gene_embedding.weight.numpy(), genes, "M (EMA)")
        evaluate(a.grape, ema.mapping_network(ema.gene_embedding.weight).numpy(), genes, "F(M) (EMA)")
        head = model.discriminator.main[-1]
        evaluate(a.grape, head.weight.flatten(1).numpy(), genes, "D heads")
        store = h5py.File(a.store, "r")
        n = store["images"].shape[0]
        idx = np.sort(np.random.default_rng(0).choice(n, min(a.cells, n), replace=False))
        cell_genes = store["obs/gene"][idx]
        features, logits, codes = [], [], []
        for i in range(0, len(idx), 250):
            x = torch.from_numpy(network_inputs(store, idx[i:i + 250], c.get("input_transform")))
            h = model.discriminator.main[:-1](x)
            features.append(h.flatten(1))
            logits.append(head(h).flatten(1))
            codes.append(model.style_encoder(x))
        features, logits, codes = (torch.cat(t).numpy() for t in (features, logits, codes))
    g = logits.shape[1]
    true = logits[np.arange(len(idx)), cell_genes]
    rank = (logits > true[:, None]).sum(1)
    print(f"  true-head rank {rank.mean():.1f} of {g} (chance {(g - 1) / 2:.1f}); "
          f"top-5 {np.mean(rank < 5):.3f} (chance {5 / g:.3f})")

    def per_gene(matrix):
        return np.stack([matrix[cell_genes == k].mean(0) if np.any(cell_genes == k) else np.zeros(matrix.shape[1])
                         for k in range(g)])

    evaluate(a.grape, per_gene(features), genes, "per-gene mean of D features")
    evaluate(a.grape, per_gene(codes), genes, "per-gene mean of E codes")


if __name__ == "__main__":
    main()
