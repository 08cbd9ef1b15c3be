#!/usr/bin/env python3
"""Reference values for TensorCore's forward ops, computed with PyTorch (float64 internally,
stored as float32-representable decimals). Writes Tests/TensorCoreTests/Fixtures/torch_reference.json.

Run from the repository root: python3 scripts/reference/tensorcore_reference.py
Not run in CI; the JSON it writes is committed.
"""
import json
import os
import sys

import numpy as np
import torch
import torch.nn.functional as F

FORMAT_VERSION = 1
rng = np.random.default_rng(20261121)


def arr(shape, scale=1.0):
    return (rng.standard_normal(shape) * scale).astype(np.float32)


def t(a):
    return torch.tensor(a, dtype=torch.float64)


def entry(**kw):
    out = {}
    for k, v in kw.items():
        if isinstance(v, np.ndarray):
            out[k] = {"shape": list(v.shape), "data": [float(x) for x in v.astype(np.float32).ravel()]}
        elif isinstance(v, torch.Tensor):
            a = v.detach().to(torch.float32).numpy()
            out[k] = {"shape": list(a.shape), "data": [float(x) for x in a.ravel()]}
        else:
            out[k] = v
    return out


cases = {}

# conv2d with stride and padding variants, with bias.
for name, (n, c, h, o, k, s, p) in {
    "conv_3x3_s1_p1": (2, 3, 6, 4, 3, 1, 1),
    "conv_3x3_s2_p1": (2, 3, 7, 4, 3, 2, 1),
    "conv_1x1": (3, 5, 4, 2, 1, 1, 0),
    "conv_4x4_valid": (2, 2, 4, 3, 4, 1, 0),
}.items():
    x, w, b = arr((n, c, h, h)), arr((o, c, k, k), 0.3), arr((o,), 0.1)
    y = F.conv2d(t(x), t(w), t(b), stride=s, padding=p)
    cases[name] = entry(x=x, w=w, b=b, stride=s, padding=p, y=y)

# instance norm, affine and not (eps 1e-5, biased variance).
x, g, b = arr((2, 3, 5, 5), 2.0) + 1.5, arr((3,)), arr((3,))
cases["instance_norm"] = entry(x=x, y=F.instance_norm(t(x), eps=1e-5))
cases["instance_norm_affine"] = entry(x=x, weight=g, bias=b, y=F.instance_norm(t(x), weight=t(g), bias=t(b), eps=1e-5))

# batch norm: training output and updated running statistics (momentum 0.1), then eval output.
x = arr((4, 3, 3, 3), 1.5) + 0.7
g, b = arr((3,)), arr((3,))
rm, rv = torch.zeros(3, dtype=torch.float64), torch.ones(3, dtype=torch.float64)
y_train = F.batch_norm(t(x), rm, rv, weight=t(g), bias=t(b), training=True, momentum=0.1, eps=1e-5)
y_eval = F.batch_norm(t(x), rm, rv, weight=t(g), bias=t(b), training=False, eps=1e-5)
cases["batch_norm"] = entry(x=x, weight=g, bias=b, y_train=y_train, running_mean=rm, running_var=rv, y_eval=y_eval)

# softmax, log-softmax and cross-entropy.
logits = arr((5, 7), 3.0)
targets = [int(v) for v in rng.integers(0, 7, size=5)]
cases["softmax"] = entry(
    logits=logits, targets=targets,
    softmax=F.softmax(t(logits), dim=1), log_softmax=F.log_softmax(t(logits), dim=1),
    cross_entropy=float(F.cross_entropy(t(logits), torch.tensor(targets))))

# binary cross-entropy with logits.
z, tgt = arr((4, 6), 4.0), (rng.random((4, 6)) > 0.5).astype(np.float32)
cases["bce"] = entry(logits=z, targets=tgt, loss=float(F.binary_cross_entropy_with_logits(t(z), t(tgt))))

# L2 normalisation and L1 loss.
v = arr((3, 4))
cases["l2_normalize"] = entry(x=v, y=F.normalize(t(v), dim=1))

doc = {
    "format_version": FORMAT_VERSION,
    "generator": "scripts/reference/tensorcore_reference.py",
    "torch": torch.__version__,
    "numpy": np.__version__,
    "seed": 20261121,
    "cases": cases,
}
out = os.path.join("Tests", "TensorCoreTests", "Fixtures", "torch_reference.json")
with open(out, "w") as f:
    json.dump(doc, f)
print(f"wrote {out} ({len(cases)} cases) with torch {torch.__version__}", file=sys.stderr)
