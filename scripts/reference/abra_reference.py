#!/usr/bin/env python3
"""Reference values for the ABRA module, computed with PyTorch in float64:

- ArcFace logits and loss (insightface/arcface-pytorch `ArcMarginProduct` formulation:
  cos(θ+m) = cosθ·cos m − sinθ·sin m, with the threshold fallback cosθ − sin(π−m)·m where
  cosθ ≤ cos(π−m), or the easy margin), including rows that hit the fallback;
- the Jensen–Shannon divergence of Eq. 14 between two softmax predictions (batch mean, nats);
- the ABRA layer (Eq. 7–8) on [N, C, H, W] and [N, C] inputs with fixed noise and K;
- DSU (Li et al. 2022 reference code) and AdvStyle (Eq. 5) re-synthesis with fixed noise/shifts,
  and the gradients of a random projection of the ABRA output with respect to x and K.

The only deviation from the references that the Swift code documents is sinθ computed from
clamp(1 − cos²θ, 1e-6, 1) (PyTorch's reference clamps at 0); it is reproduced here.

Writes Tests/ABRATests/Fixtures/abra_reference.json. Run from the repository root:
python3 scripts/reference/abra_reference.py (not run in CI).
"""
import json
import math
import os

import numpy as np
import torch
import torch.nn.functional as F

torch.set_default_dtype(torch.float64)
FIX = os.path.join("Tests", "ABRATests", "Fixtures")
rng = np.random.default_rng(2603)


def f32(a):
    """Rounds to float32 and back, so Swift and PyTorch see the same inputs."""
    return np.asarray(a, dtype=np.float32).astype(np.float64)


def tj(t):
    a = t.detach().numpy() if isinstance(t, torch.Tensor) else np.asarray(t)
    return {"shape": list(a.shape), "data": [float(x) for x in np.asarray(a, dtype=np.float64).ravel()]}


def arcface_logits(x, w, targets, m, s, easy):
    cosine = F.linear(F.normalize(x), F.normalize(w))
    sine = torch.sqrt((1.0 - cosine * cosine).clamp(1e-6, 1.0))
    phi = cosine * math.cos(m) - sine * math.sin(m)
    if easy:
        phi = torch.where(cosine > 0, phi, cosine)
    else:
        phi = torch.where(cosine > math.cos(math.pi - m), phi, cosine - math.sin(math.pi - m) * m)
    one_hot = F.one_hot(torch.tensor(targets), w.shape[0]).to(x.dtype)
    return s * (one_hot * phi + (1.0 - one_hot) * cosine)


def js(lp, lq):
    p = F.softmax(lp, dim=1)
    q = F.softmax(lq, dim=1)
    mix = 0.5 * (p + q)
    kl_p = (p * (torch.log(p) - torch.log(mix))).sum(1)
    kl_q = (q * (torch.log(q) - torch.log(mix))).sum(1)
    return (0.5 * (kl_p + kl_q)).mean()


def abra_layer(x, eps_mu, eps_sigma, k_mu, k_sigma, var_eps=1e-6, min_ratio=0.1):
    axes = [0, 2, 3] if x.dim() == 4 else [0]
    shape = [1, x.shape[1], 1, 1] if x.dim() == 4 else [1, x.shape[1]]
    mu = x.mean(dim=axes, keepdim=True)
    sigma = torch.sqrt(((x - mu) ** 2).mean(dim=axes, keepdim=True) + var_eps)
    mu_t = mu + eps_mu.reshape(shape) * k_mu.reshape(shape)
    sigma_t = torch.maximum(sigma + eps_sigma.reshape(shape) * k_sigma.reshape(shape), sigma * min_ratio)
    return (x - mu) / sigma * sigma_t + mu_t


def dsu(x, eps_mu, eps_sigma, eps=1e-6):
    # DSU reference (github.com/lixiaotong97/DSU, `DistributionUncertainty.forward`), noise given.
    mean = x.mean(dim=[2, 3])
    std = (x.var(dim=[2, 3], unbiased=False) + eps).sqrt()
    sqrtvar_mu = (mean.var(dim=0, keepdim=True) + eps).sqrt()
    sqrtvar_std = (std.var(dim=0, keepdim=True) + eps).sqrt()
    beta = mean + eps_mu * sqrtvar_mu
    gamma = std + eps_sigma * sqrtvar_std
    x = (x - mean[:, :, None, None]) / std[:, :, None, None]
    return x * gamma[:, :, None, None] + beta[:, :, None, None]


def advstyle(x, shift_mu, shift_sigma, eps=1e-6, min_ratio=0.1):
    mu = x.mean(dim=[2, 3], keepdim=True)
    sigma = torch.sqrt(x.var(dim=[2, 3], unbiased=False, keepdim=True) + eps)
    sigma_t = torch.maximum(sigma + shift_sigma[:, :, None, None], sigma * min_ratio)
    return (x - mu) / sigma * sigma_t + mu + shift_mu[:, :, None, None]


cases = {}

# ArcFace: 6 rows, 5 classes, 4 dims; rows 4 and 5 point away from their class centre so that
# cosθ < cos(π − m) and the fallback is taken.
w = f32(rng.standard_normal((5, 4)))
x = f32(rng.standard_normal((6, 4)))
targets = [0, 3, 1, 4, 2, 1]
x[4] = f32(-w[2] * 1.7 + 0.05 * rng.standard_normal(4))
x[5] = f32(-w[1] * 0.6 + 0.02 * rng.standard_normal(4))
targets[4] = 2
for name, (m, s, easy) in {
    "arcface_default": (0.5, 30.0, False),
    "arcface_easy": (0.5, 30.0, True),
    "arcface_small": (0.2, 16.0, False),
}.items():
    xt = torch.tensor(x)
    wt = torch.tensor(w)
    logits = arcface_logits(xt, wt, targets, m, s, easy)
    loss = F.cross_entropy(logits, torch.tensor(targets))
    cos = F.linear(F.normalize(xt), F.normalize(wt))
    cases[name] = {
        "x": tj(x), "w": tj(w), "targets": targets, "margin": m, "scale": s, "easy": int(easy),
        "logits": tj(logits), "loss": float(loss), "target_cosines": tj(cos[range(6), targets]),
    }

# Jensen–Shannon: random logits, one row with identical predictions, one nearly one-hot pair.
lp = f32(rng.standard_normal((5, 7)) * 2)
lq = f32(rng.standard_normal((5, 7)) * 2)
lq[1] = lp[1]
lp[3] = f32(np.eye(7)[2] * 40)
lq[3] = f32(np.eye(7)[5] * 40)
cases["js"] = {"p": tj(lp), "q": tj(lq), "js": float(js(torch.tensor(lp), torch.tensor(lq))),
               "js_rows": tj(torch.stack([js(torch.tensor(lp[i:i + 1]), torch.tensor(lq[i:i + 1])) for i in range(5)]))}

# ABRA layer on [N, C, H, W] and on [N, C]; one channel with ε_σ·K_σ below −0.9σ hits the floor.
for name, shape in {"abra_4d": (3, 4, 3, 2), "abra_2d": (6, 3)}.items():
    c = shape[1]
    xa = f32(rng.standard_normal(shape) * 1.5 + 0.7)
    em = f32(rng.standard_normal(c))
    es = f32(rng.standard_normal(c))
    km = f32(rng.uniform(0.1, 0.8, c))
    ks = f32(rng.uniform(0.1, 0.8, c))
    es[0] = -3.0
    ks[0] = 1.5  # σ + ε_σ·K_σ < 0.1σ for channel 0 whenever σ < 5
    xt = torch.tensor(xa, requires_grad=True)
    kmt = torch.tensor(km, requires_grad=True)
    kst = torch.tensor(ks, requires_grad=True)
    y = abra_layer(xt, torch.tensor(em), torch.tensor(es), kmt, kst)
    proj = f32(rng.standard_normal(y.shape))
    (y * torch.tensor(proj)).sum().backward()
    cases[name] = {"x": tj(xa), "eps_mu": tj(em), "eps_sigma": tj(es), "k_mu": tj(km), "k_sigma": tj(ks), "y": tj(y),
                   "projection": tj(proj), "grad_x": tj(xt.grad), "grad_k_mu": tj(kmt.grad), "grad_k_sigma": tj(kst.grad)}

# DSU and AdvStyle with given noise/shifts.
xd = f32(rng.standard_normal((4, 3, 3, 3)) * 2 + 0.5)
e1 = f32(rng.standard_normal((4, 3)))
e2 = f32(rng.standard_normal((4, 3)))
cases["dsu"] = {"x": tj(xd), "eps_mu": tj(e1), "eps_sigma": tj(e2),
                "y": tj(dsu(torch.tensor(xd), torch.tensor(e1), torch.tensor(e2)))}
s1 = f32(rng.standard_normal((4, 3)) * 0.3)
s2 = f32(rng.standard_normal((4, 3)) * 0.3)
s2[0, 0] = -50.0  # floored
cases["advstyle"] = {"x": tj(xd), "shift_mu": tj(s1), "shift_sigma": tj(s2),
                     "y": tj(advstyle(torch.tensor(xd), torch.tensor(s1), torch.tensor(s2)))}

os.makedirs(FIX, exist_ok=True)
with open(os.path.join(FIX, "abra_reference.json"), "w") as f:
    json.dump({"format_version": 1, "generator": "scripts/reference/abra_reference.py", "torch": torch.__version__,
               "numpy": np.__version__, "seed": 2603, "cases": cases}, f)
print("wrote", os.path.join(FIX, "abra_reference.json"))
