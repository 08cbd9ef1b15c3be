#!/usr/bin/env python3
"""Where the gradient that trains the gene embedding M points, and how noisy it is.

    python3 Evaluation/scripts/grape_gradients.py RUN STORE [--draws N] [--shared] [--grape BIN]

For one checkpoint of a GRAPE run (the trained weights, as the G step sees them), every gene z is
drawn N times as the target of a real cell chosen at random, and the G step's gradients reaching
the style s = F(M[z]) and the row M[z] are taken per cell, separately for the adversarial loss
(BCE of D_z(G(x, s)) towards "real") and the cycle loss (|x - G(G(x, s), E(x))|, per cell, with the
G step's batch-16 scaling). For each it prints

  - the norm of the mean over all genes (a push shared by every row),
  - the spread of the per-gene means around it (what tells genes apart),
  - the spread of single draws around their gene's mean (the noise of one update),
  - their ratio, the signal-to-noise of one draw,

and the CORUM mAP (via `grape evaluate`) of the per-gene mean gradients (negated: the direction
in which the row moves). A high ratio with a low mAP says the row moves consistently but not
towards biology. With --shared, every gene is evaluated at the same point (the mean row of M), so
the genes differ only by their discriminator head.

Needs torch, h5py and safetensors; networks from `grape_torch.py`, inputs as `grape_diagnostics.py`.
"""
import argparse
import json
import os
import sys

import h5py
import numpy as np
import torch
from safetensors.torch import load_file

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import grape_torch as gt  # noqa: E402
from grape_diagnostics import evaluate, network_inputs  # noqa: E402


def load_model(run):
    ck = open(os.path.join(run, "checkpoints", "latest")).read().strip()
    c = json.load(open(os.path.join(run, "config.json")))
    cfg = gt.Config(img_size=c["img_size"], dim_in=c["dim_in"], max_conv_dim=c["max_conv_dim"], style_dim=c["style_dim"],
                    latent_dim=c["latent_dim"], batch_size=16, mapping_hidden=c["mapping_hidden"],
                    in_channels=c["in_channels"], num_genes=len(c["genes"]))
    model = gt.GRAPE(cfg)
    weights = load_file(os.path.join(run, "checkpoints", ck, "weights.safetensors"))
    model.load_state_dict({k: v for k, v in weights.items() if not k.startswith(("abra", "aux_head"))})
    model.requires_grad_(False)
    return model, c, ck


def per_draw_gradients(model, c, store, draws, shared, rng):
    """[G, draws, d] gradients of the adversarial and cycle losses wrt s and wrt the row of M."""
    g = len(c["genes"])
    m_rows = model.gene_embedding.weight
    out = {key: np.zeros((g, draws, m_rows.shape[1] if key.endswith("M") else model.cfg.style_dim), np.float32)
           for key in ("adv s", "adv M", "cycle s", "cycle M")}
    n = store["images"].shape[0]
    for d in range(draws):
        idx = np.sort(rng.choice(n, g, replace=False))
        x = torch.from_numpy(network_inputs(store, idx, c.get("input_transform")))
        z = torch.from_numpy(rng.permutation(g))
        rows = m_rows.mean(0, keepdim=True).expand(g, -1) if shared else m_rows[z]
        e = rows.clone().requires_grad_(True)
        s_of_e = model.mapping_network(e)
        s = s_of_e.detach().requires_grad_(True)
        fake = model.generator(x, s)
        logits = gt.select_head(model.discriminator(fake), z)
        adv = torch.nn.functional.binary_cross_entropy_with_logits(logits, torch.ones_like(logits), reduction="sum") / 16
        (gs,) = torch.autograd.grad(adv, s, retain_graph=True)
        (ge,) = torch.autograd.grad(s_of_e, e, gs, retain_graph=True)
        out["adv s"][z.numpy(), d], out["adv M"][z.numpy(), d] = gs.numpy(), ge.numpy()
        cycle = torch.abs(model.generator(fake, model.style_encoder(x)) - x).flatten(1).mean(1).sum() / 16
        (gs,) = torch.autograd.grad(cycle, s, retain_graph=True)
        (ge,) = torch.autograd.grad(s_of_e, e, gs)
        out["cycle s"][z.numpy(), d], out["cycle M"][z.numpy(), d] = gs.numpy(), ge.numpy()
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("run")
    ap.add_argument("store")
    ap.add_argument("--draws", type=int, default=20, help="draws per gene (at least 2)")
    ap.add_argument("--shared", action="store_true", help="evaluate every gene at the mean row of M")
    ap.add_argument("--grape", default=".build/release/grape")
    a = ap.parse_args()
    if a.draws < 2:
        ap.error("--draws must be at least 2")
    torch.set_num_threads(1)
    model, c, ck = load_model(a.run)
    grads = per_draw_gradients(model, c, h5py.File(a.store, "r"), a.draws, a.shared, np.random.default_rng(0))
    print(f"{a.run} {ck}{' (all genes at the mean row of M)' if a.shared else ''}, {a.draws} draws per gene")
    for name, g in grads.items():
        mean = g.mean(1)
        common = mean.mean(0)
        # Unbiased: the draws' scatter with ddof 1, and the genes' spread less what the draws'
        # noise adds to a mean of `draws` of them.
        within_sq = ((g - mean[:, None]) ** 2).sum(2).mean() * a.draws / max(a.draws - 1, 1)
        between = np.sqrt(max(((mean - common) ** 2).sum(1).mean() - within_sq / a.draws, 0))
        within = np.sqrt(within_sq)
        print(f"  {name:<8} shared push {np.linalg.norm(common):.2e}  between genes {between:.2e}  "
              f"one draw's noise {within:.2e}  signal-to-noise {between / within:.2f}")
        evaluate(a.grape, -mean, c["genes"], f"mean {name} gradient")


if __name__ == "__main__":
    main()
