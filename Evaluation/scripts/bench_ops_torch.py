#!/usr/bin/env python3
"""PyTorch CPU counterpart of `grape bench ops`: sgemm and conv2d GFLOP/s at the same shapes,
printed as the same JSON lines (with "impl": "torch"). Run: python3 Evaluation/scripts/bench_ops_torch.py
"""
import json
import time

import torch

torch.set_num_threads(2)
torch.manual_seed(1)


def median_time(fn, repeats=5, warmup=1):
    for _ in range(warmup):
        fn()
    ts = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        ts.append(time.perf_counter() - t0)
    ts.sort()
    return ts[len(ts) // 2]


def emit(metric, value, unit, **fields):
    print(json.dumps({"bench": "ops", "impl": "torch", **fields, "metric": metric, "value": round(value, 3), "unit": unit}))


n = 1024
a, b = torch.randn(n, n), torch.randn(n, n)
t = median_time(lambda: a @ b)
emit("sgemm", 2 * n ** 3 / t / 1e9, "GFLOP/s", shape=f"{n}x{n}x{n}", threads=torch.get_num_threads())

for (batch, cin, cout, size) in [(16, 32, 32, 32), (16, 64, 64, 16), (16, 128, 128, 16), (16, 128, 128, 8), (16, 256, 256, 4)]:
    x = torch.randn(batch, cin, size, size)
    w = (torch.randn(cout, cin, 3, 3) * 0.05).requires_grad_()
    flops = 2 * batch * cout * size * size * cin * 9
    label = f"N{batch} {cin}->{cout} {size}x{size} k3 s1"
    with torch.no_grad():
        tf = median_time(lambda: torch.nn.functional.conv2d(x, w, padding=1))
    emit("conv2d_forward", flops / tf / 1e9, "GFLOP/s", shape=label, ms=round(tf * 1e3, 2))
    xg = x.clone().requires_grad_()

    def fb():
        y = torch.nn.functional.conv2d(xg, w, padding=1)
        torch.autograd.grad(y, [xg, w], grad_outputs=y.detach())

    tfb = median_time(fb)
    emit("conv2d_forward_backward", 3 * flops / tfb / 1e9, "GFLOP/s", shape=label, ms=round(tfb * 1e3, 2))
