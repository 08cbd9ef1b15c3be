#!/usr/bin/env python3
"""Reference values for NeuralNet: Adam trajectories (torch.optim.Adam), BatchNorm2d module
training/eval steps, and a safetensors file written by the Python `safetensors` package with
several dtypes. Writes Tests/NeuralNetTests/Fixtures/{torch_reference.json,python_written.safetensors}.

Run from the repository root: python3 scripts/reference/neuralnet_reference.py (not run in CI).
"""
import json
import os

import numpy as np
import safetensors
import torch
from safetensors.torch import save_file

FIX = os.path.join("Tests", "NeuralNetTests", "Fixtures")
rng = np.random.default_rng(7)


def tj(t):
    a = t.detach().to(torch.float32).numpy() if isinstance(t, torch.Tensor) else np.asarray(t, dtype=np.float32)
    return {"shape": list(a.shape), "data": [float(x) for x in a.ravel()]}


cases = {}

# Adam trajectories: fixed gradient sequences, several hyperparameter settings.
p0 = rng.standard_normal((3, 4)).astype(np.float32)
grads = [rng.standard_normal((3, 4)).astype(np.float32) for _ in range(6)]
for name, kw in {
    "adam_default": dict(lr=1e-2),
    "adam_grape": dict(lr=1e-4, betas=(0.0, 0.99), weight_decay=1e-4),
    "adam_decay": dict(lr=5e-2, betas=(0.9, 0.99), weight_decay=0.1, eps=1e-6),
    "adam_maximize": dict(lr=1e-2, betas=(0.5, 0.9), maximize=True),
}.items():
    p = torch.nn.Parameter(torch.tensor(p0))
    opt = torch.optim.Adam([p], **kw)
    traj = []
    for g in grads:
        opt.zero_grad()
        p.grad = torch.tensor(g)
        opt.step()
        traj.append(tj(p))
    hp = {k: (list(v) if isinstance(v, tuple) else v) for k, v in kw.items()}
    cases[name] = {"p0": tj(p0), "grads": [tj(g) for g in grads], "trajectory": traj, "hyper": hp}

# BatchNorm2d module: two training steps then evaluation.
bn = torch.nn.BatchNorm2d(3, momentum=0.1, eps=1e-5)
with torch.no_grad():
    bn.weight.copy_(torch.tensor([0.5, 1.5, -1.0]))
    bn.bias.copy_(torch.tensor([0.1, -0.2, 0.3]))
xs = [rng.standard_normal((4, 3, 3, 3)).astype(np.float32) * 2 + 1 for _ in range(2)]
bn.train()
ys = [bn(torch.tensor(x)) for x in xs]
bn.eval()
y_eval = bn(torch.tensor(xs[0]))
cases["batchnorm_module"] = {
    "x": [tj(x) for x in xs], "y_train": [tj(y) for y in ys], "y_eval": tj(y_eval),
    "running_mean": tj(bn.running_mean), "running_var": tj(bn.running_var),
    "num_batches_tracked": int(bn.num_batches_tracked), "weight": tj(bn.weight), "bias": tj(bn.bias),
}

doc = {"format_version": 1, "generator": "scripts/reference/neuralnet_reference.py",
       "torch": torch.__version__, "safetensors": safetensors.__version__, "cases": cases}
with open(os.path.join(FIX, "torch_reference.json"), "w") as f:
    json.dump(doc, f)

# A safetensors file written by Python, with several dtypes and metadata.
values = np.arange(6, dtype=np.float32).reshape(2, 3) / 4 - 0.5
tensors = {
    "layer.weight": torch.tensor(values),
    "layer.half": torch.tensor(values).to(torch.float16),
    "layer.bf16": torch.tensor(values).to(torch.bfloat16),
    "layer.double": torch.tensor(values, dtype=torch.float64),
    "counter": torch.tensor(42, dtype=torch.int64),
    "empty": torch.zeros(0, 4),
}
save_file(tensors, os.path.join(FIX, "python_written.safetensors"), metadata={"format": "pt", "note": "fixture"})
print("wrote fixtures with torch", torch.__version__)
