#!/usr/bin/env python3
"""Golden values for the GRAPE networks and two training iterations, from the PyTorch reference
(Evaluation/scripts/grape_torch.py) at the `tiny` preset with 5 genes.

Writes, under Tests/GRAPETests/Fixtures/:
  tiny_weights.safetensors  every parameter under its contract name (float32); the EMA copies
                            start equal to these
  tiny_io.safetensors       inputs and outputs of single blocks and whole networks, and two full
                            training iterations (losses, intermediates, gradients, parameters after
                            Adam and after the EMA update), float32
  tiny_manifest.json        the cases, the tensor names and shapes, the integer inputs (genes),
                            the losses in full precision, the seed, versions and conventions
  tiny_names.json           state_dict names -> shapes (contract naming check)

Run from the repository root: python3 scripts/reference/grape_reference.py
Not run in CI; the files it writes are committed. Everything is computed in float64 from the
float32 weights and inputs and rounded to float32 when stored; the script then reloads the files
into a fresh float32 model and reports how far float32 PyTorch lands from the stored values
(recorded in the manifest as `float32_torch_vs_reference`, a guide for test tolerances).

The weights are He-initialised as in training, then every bias and every InstanceNorm affine
parameter is drawn at random (zero biases and unit scales would let a missing bias or scale go
unnoticed, and would leave the Adam update of the generator's gradient-free biases undetermined).
"""
import copy
import json
import os
import sys
from dataclasses import asdict, replace

import numpy as np
import safetensors
import torch
from safetensors.torch import load_file, save_file

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "Evaluation", "scripts"))
import grape_torch as gt  # noqa: E402

FORMAT_VERSION = 1
SEED = 20261121
OUT_DIR = os.path.join("Tests", "GRAPETests", "Fixtures")
GENES = 5
# Integer inputs of the two iterations: the gene of each cell (y) and the target gene (z).
STEP_GENES = {1: {"y": [0, 2, 4, 1], "z": [3, 0, 4, 2]}, 2: {"y": [3, 1, 0, 4], "z": [1, 4, 2, 0]}}

torch.set_num_threads(2)
cfg = replace(gt.PRESETS["tiny"], num_genes=GENES)
N, C, S = cfg.batch_size, cfg.in_channels, cfg.img_size

# ---- random draws, in this order --------------------------------------------------------------
RANDOM_DRAWS = [
    f"torch.manual_seed({SEED}); GRAPE(cfg): the constructors' default initialisers in the order gene_embedding "
    "(N(0,1)), mapping_network, generator, style_encoder, discriminator, then he_init over mapping_network, "
    "generator, style_encoder, discriminator",
    f"gen = torch.Generator().manual_seed({SEED + 1}); for every parameter in state_dict order: names ending in "
    "'.bias' <- N(0, 0.1); InstanceNorm affine weights (generator.encode.*.norm{1,2}.weight, "
    "generator.to_rgb.0.weight) <- 1 + N(0, 0.1); others unchanged",
    "case inputs from gen, float32 N(0,1), in the order the cases are listed in `cases` and, within a case, in "
    "the order of its `inputs` (a VJP case draws its cotangent last); `mapping` and the gene indices draw nothing",
    "step inputs from gen: step.x, then step2.x, float32 N(0,1)",
]
torch.manual_seed(SEED)
model32 = gt.GRAPE(cfg)
gen = torch.Generator().manual_seed(SEED + 1)
with torch.no_grad():
    for name, p in model32.named_parameters():
        if name.endswith(".bias"):
            p.normal_(0.0, 0.1, generator=gen)
        elif name.endswith(".weight") and (".norm" in name or name.startswith("generator.to_rgb.0")) and p.dim() == 1:
            p.normal_(0.0, 0.1, generator=gen).add_(1.0)

# Reference computations in float64.
model = copy.deepcopy(model32).double()


def randn(*shape):
    return torch.randn(*shape, generator=gen, dtype=torch.float32)


io: dict[str, torch.Tensor] = {}
cases: dict[str, dict] = {}


def put(name, t):
    t = t.detach()
    if t.dim() == 0:
        t = t.reshape(1)
    assert name not in io, name
    io[name] = t.to(torch.float32).contiguous()
    return name


def case(name, module, inputs: dict, outputs: dict, note: str, ints: dict | None = None):
    cases[name] = {
        "module": module,
        "note": note,
        "inputs": {k: put(f"{name}.{k}", v) for k, v in inputs.items()},
        "int_inputs": ints or {},
        "outputs": {k: put(f"{name}.{k}", v) for k, v in outputs.items()},
    }


def d64(t):
    return t.to(torch.float64)


g = model.generator
with torch.no_grad():
    # ---- single blocks ----------------------------------------------------------------------
    x = randn(N, 8, S, S)
    case("resblk_norm_down", "generator.encode.0", {"x": x}, {"out": g.encode[0](d64(x))},
         "ResBlk 8->16 with IN, avg-pool down-sampling and the 1x1 shortcut conv")
    x = randn(N, 32, S // 4, S // 4)
    case("resblk_norm_down_same", "generator.encode.2", {"x": x}, {"out": g.encode[2](d64(x))},
         "ResBlk 32->32 with IN and down-sampling, identity shortcut")
    x = randn(N, 32, S // 8, S // 8)
    case("resblk_norm", "generator.encode.3", {"x": x}, {"out": g.encode[3](d64(x))},
         "bottleneck ResBlk 32->32 with IN, no resampling")
    x = randn(N, 8, S, S)
    case("resblk_plain_down", "discriminator.main.1", {"x": x}, {"out": model.discriminator.main[1](d64(x))},
         "ResBlk 8->16 without normalisation, down-sampling, 1x1 shortcut conv")
    x, s = randn(N, 32, S // 4, S // 4), randn(N, cfg.style_dim)
    case("adain", "generator.decode.3.norm1", {"x": x, "s": s}, {"out": g.decode[3].norm1(d64(x), d64(s))},
         "AdaIN alone: (1 + gamma) * IN(x) + beta, gamma = fc(s)[:, :C]")
    x, s = randn(N, 32, S // 4, S // 4), randn(N, cfg.style_dim)
    case("adainresblk_up", "generator.decode.3", {"x": x, "s": s}, {"out": g.decode[3](d64(x), d64(s))},
         "AdainResBlk 32->16 with nearest up-sampling and the 1x1 shortcut conv")
    x, s = randn(N, 32, S // 8, S // 8), randn(N, cfg.style_dim)
    case("adainresblk", "generator.decode.0", {"x": x, "s": s}, {"out": g.decode[0](d64(x), d64(s))},
         "bottleneck AdainResBlk 32->32, no resampling, identity shortcut")

    # ---- whole networks -------------------------------------------------------------------------
    zi = torch.tensor([4, 0, 2, 2])
    lat = model.gene_embedding(zi)
    case("mapping", "gene_embedding + mapping_network", {}, {"latent": lat, "s": model.mapping_network(lat)},
         "latent = M[z] (rows of gene_embedding.weight), s = F(latent)", ints={"z": zi.tolist()})
    x, s = randn(N, C, S, S), randn(N, cfg.style_dim)
    h = g.from_rgb(d64(x))
    for blk in g.encode:
        h = blk(h)
    case("generator", "generator", {"x": x, "s": s},
         {"from_rgb": g.from_rgb(d64(x)), "encoded": h, "out": g(d64(x), d64(s))},
         "G(x, s); from_rgb and encoded (after encode.4) are intermediates")
    x = randn(N, C, S, S)
    case("style_encoder", "style_encoder", {"x": x},
         {"trunk": model.style_encoder.trunk(d64(x)), "out": model.style_encoder(d64(x))},
         "E(x); trunk = output of style_encoder.trunk, [N, width, k, k]")
    x = randn(N, C, S, S)
    yi = torch.tensor([1, 4, 0, 3])
    dall = model.discriminator(d64(x))
    case("discriminator", "discriminator", {"x": x}, {"out": dall, "out_y": gt.select_head(dall, yi)},
         "D(x) [N, G] and D_y(x) [N] = D(x)[i, y_i]", ints={"y": yi.tolist()})

# ---- vector-Jacobian products of whole networks (one pass, no L1, no second generator pass) -----


def vjp_case(name, module_name, net, inputs: dict, cotangent_shape, call, note):
    ins = {k: d64(v).requires_grad_(True) for k, v in inputs.items()}
    cot = randn(*cotangent_shape)
    out = call(net, ins)
    params = list(net.named_parameters())
    grads = torch.autograd.grad((out * d64(cot)).sum(), list(ins.values()) + [p for _, p in params])
    outputs = {"out": out}
    outputs.update({f"grad_{k}": gr for k, gr in zip(ins, grads)})
    outputs.update({f"grad.{module_name}.{n}": gr for (n, _), gr in zip(params, grads[len(ins):])})
    case(name, module_name, {**inputs, "cotangent": cot}, outputs, note)


vjp_case("generator_vjp", "generator", g, {"x": randn(N, C, S, S), "s": randn(N, cfg.style_dim)}, (N, C, S, S),
         lambda net, i: net(i["x"], i["s"]),
         "gradients of sum(G(x, s) * cotangent) w.r.t. x, s and every generator parameter")
vjp_case("style_encoder_vjp", "style_encoder", model.style_encoder, {"x": randn(N, C, S, S)}, (N, cfg.style_dim),
         lambda net, i: net(i["x"]), "gradients of sum(E(x) * cotangent) w.r.t. x and every style_encoder parameter")
vjp_case("discriminator_vjp", "discriminator", model.discriminator, {"x": randn(N, C, S, S)}, (N, GENES),
         lambda net, i: net(i["x"]), "gradients of sum(D(x) * cotangent) w.r.t. x and every discriminator parameter")

# ---- two training iterations ------------------------------------------------------------------
trainer = gt.Trainer(model, cfg)
initial = {n: p.detach().clone() for n, p in model.state_dict().items()}
loss_values: dict[str, float] = {}
zero_grad_params: set[str] = set()
step_inputs = {k: randn(N, C, S, S) for k in (1, 2)}


def module_params(names):
    return [(f"{m}.{n}", p) for m in names for n, p in getattr(model, m).named_parameters()]


for k in (1, 2):
    pre = "step" if k == 1 else "step2"
    x = step_inputs[k]
    y, z = torch.tensor(STEP_GENES[k]["y"]), torch.tensor(STEP_GENES[k]["z"])
    put(f"{pre}.x", x)
    xd = d64(x)
    dl = trainer.d_losses(xd, y, z)
    trainer.d_backward(dl)
    for key in ("out_real", "r1_grad_x", "s", "x_fake", "out_fake"):
        put(f"{pre}.d_step.{key}", dl[key])
    for key in ("real", "fake", "r1", "total"):
        put(f"{pre}.d_step.loss.{key}", dl[key])
        loss_values[f"{pre}.d_step.loss.{key}"] = dl[key].item()
    for name, p in module_params(["discriminator"]):
        if k == 1:
            put(f"grad.d_step.{name}", p.grad)
        if p.grad.abs().max().item() < 1e-12:
            zero_grad_params.add(name)
    trainer.d_update()
    gl = trainer.g_losses(xd, y, z)
    trainer.g_backward(gl)
    for key in ("s", "x_fake", "out_fake", "s_org", "x_rec", "s_pred"):
        put(f"{pre}.g_step.{key}", gl[key])
    for key in ("adv", "cycle", "style", "total"):
        put(f"{pre}.g_step.loss.{key}", gl[key])
        loss_values[f"{pre}.g_step.loss.{key}"] = gl[key].item()
    for name, p in module_params(gt.G_SIDE_MODULES):
        if k == 1:
            put(f"grad.g_step.{name}", p.grad)
        if p.grad.abs().max().item() < 1e-12:
            zero_grad_params.add(name)
    trainer.g_update()
    aa = "after_adam" if k == 1 else "step2.after_adam"
    for n, t in model.state_dict().items():
        put(f"{aa}.{n}", t)
    trainer.ema_update()
    if k == 1:
        for n, t in trainer.ema.state_dict().items():
            put(f"after_ema.{n}", t)

# ---- write ------------------------------------------------------------------------------------
os.makedirs(OUT_DIR, exist_ok=True)


def atomic_save_tensors(tensors, path, meta):
    tmp = path + ".tmp"
    save_file(tensors, tmp, metadata=meta)
    os.chmod(tmp, 0o644)
    os.replace(tmp, path)


def atomic_save_json(doc, path):
    tmp = path + ".tmp"
    with open(tmp, "w") as f:
        json.dump(doc, f, indent=1)
        f.write("\n")
    os.replace(tmp, path)


weights = {n: t.contiguous() for n, t in model32.state_dict().items()}
# One metadata entry: safetensors writes a map's keys in no fixed order, and the files should be
# byte-for-byte reproducible.
meta = {"grape-reference": json.dumps({"preset": "tiny", "genes": GENES, "seed": SEED, "torch": torch.__version__,
                                       "manifest": "tiny_manifest.json"}, sort_keys=True)}
paths = {k: os.path.join(OUT_DIR, f"tiny_{k}") for k in ("weights.safetensors", "io.safetensors", "manifest.json", "names.json")}
atomic_save_tensors(weights, paths["weights.safetensors"], meta)
atomic_save_tensors(io, paths["io.safetensors"], meta)
names_doc = gt.names_document(cfg, "tiny")
atomic_save_json(names_doc, paths["names.json"])

# ---- reload into a fresh float32 model and measure float32 PyTorch against the stored values -----
w = load_file(paths["weights.safetensors"])
ref = load_file(paths["io.safetensors"])
torch.manual_seed(0)
fresh = gt.GRAPE(cfg)
fresh.load_state_dict(w, strict=True)
stats: dict[str, dict] = {}


def cmp(group, got, name, skip_rel=False, before=None):
    """Tracks, per group, the largest absolute difference, the largest relative L2 error
    ||got - ref|| / ||ref|| over tensors, and how many elements differ by more than 1e-6; with
    `before` (the parameters before an update), also the relative L2 error of the update itself."""
    r = ref[name].reshape(got.shape)
    diff = got.detach().to(torch.float32) - r
    st = stats.setdefault(group, {"max_abs_diff": 0.0, "max_rel_l2": 0.0, "elements_off_1e-6": 0, "elements": 0})
    st["max_abs_diff"] = max(st["max_abs_diff"], diff.abs().max().item())
    if not skip_rel and r.norm() > 0:
        st["max_rel_l2"] = max(st["max_rel_l2"], (diff.norm() / r.norm()).item())
    if before is not None:
        st["_diff_sq"] = st.get("_diff_sq", 0.0) + diff.double().pow(2).sum().item()
        st["_upd_sq"] = st.get("_upd_sq", 0.0) + (r - before).double().pow(2).sum().item()
        st["update_rel_l2"] = (st["_diff_sq"] / st["_upd_sq"]) ** 0.5
    st["elements_off_1e-6"] += int((diff.abs() > 1e-6).sum())
    st["elements"] += diff.numel()


with torch.no_grad():
    fg = fresh.generator
    mods = {"generator.encode.0": fg.encode[0], "generator.encode.2": fg.encode[2], "generator.encode.3": fg.encode[3],
            "discriminator.main.1": fresh.discriminator.main[1], "generator.decode.3.norm1": fg.decode[3].norm1,
            "generator.decode.3": fg.decode[3], "generator.decode.0": fg.decode[0]}
    for cname, c in cases.items():
        if c["module"] in mods:
            args = [ref[c["inputs"]["x"]]] + ([ref[c["inputs"]["s"]]] if "s" in c["inputs"] else [])
            cmp(f"case.{cname}", mods[c["module"]](*args), c["outputs"]["out"])
    cmp("case.mapping", fresh.style(torch.tensor(cases["mapping"]["int_inputs"]["z"])), "mapping.s")
    cmp("case.generator", fg(ref["generator.x"], ref["generator.s"]), "generator.out")
    cmp("case.style_encoder", fresh.style_encoder(ref["style_encoder.x"]), "style_encoder.out")
    cmp("case.discriminator", fresh.discriminator(ref["discriminator.x"]), "discriminator.out")
for cname, net, call in (("generator_vjp", fresh.generator, lambda n, i: n(i["x"], i["s"])),
                         ("style_encoder_vjp", fresh.style_encoder, lambda n, i: n(i["x"])),
                         ("discriminator_vjp", fresh.discriminator, lambda n, i: n(i["x"]))):
    c = cases[cname]
    ins = {k: ref[v].clone().requires_grad_(True) for k, v in c["inputs"].items() if k != "cotangent"}
    out = call(net, ins)
    params = list(net.named_parameters())
    grads = torch.autograd.grad((out * ref[c["inputs"]["cotangent"]]).sum(), list(ins.values()) + [p for _, p in params])
    cmp(f"case.{cname}", out, c["outputs"]["out"])
    for k, gr in zip(ins, grads):
        cmp(f"case.{cname}.grad", gr, c["outputs"][f"grad_{k}"])
    for (n, _), gr in zip(params, grads[len(ins):]):
        full = f"{c['module']}.{n}"
        cmp(f"case.{cname}.grad", gr, c["outputs"][f"grad.{full}"], skip_rel=full in zero_grad_params)
tr32 = gt.Trainer(fresh, cfg)
for k in (1, 2):
    pre = "step" if k == 1 else "step2"
    y, z = torch.tensor(STEP_GENES[k]["y"]), torch.tensor(STEP_GENES[k]["z"])
    x = ref[f"{pre}.x"]
    dl = tr32.d_losses(x, y, z)
    tr32.d_backward(dl)
    for key in ("real", "fake", "r1", "total"):
        cmp(f"{pre}.d_step.loss", dl[key], f"{pre}.d_step.loss.{key}")
    if k == 1:
        for n, p in fresh.discriminator.named_parameters():
            cmp("grad.d_step", p.grad, f"grad.d_step.discriminator.{n}")
    tr32.d_update()
    gl = tr32.g_losses(x, y, z)
    tr32.g_backward(gl)
    for key in ("adv", "cycle", "style", "total"):
        cmp(f"{pre}.g_step.loss", gl[key], f"{pre}.g_step.loss.{key}")
    if k == 1:
        for m in gt.G_SIDE_MODULES:
            for n, p in getattr(fresh, m).named_parameters():
                cmp("grad.g_step", p.grad, f"grad.g_step.{m}.{n}", skip_rel=f"{m}.{n}" in zero_grad_params)
    tr32.g_update()
    tr32.ema_update()
    aa = "after_adam" if k == 1 else "step2.after_adam"
    for n, t in fresh.state_dict().items():
        cmp(aa, t, f"{aa}.{n}", before=w[n] if k == 1 else ref[f"after_adam.{n}"])
    if k == 1:
        for n, t in tr32.ema.state_dict().items():
            cmp("after_ema", t, f"after_ema.{n}")

manifest = {
    "format_version": FORMAT_VERSION,
    "generator": "scripts/reference/grape_reference.py",
    "model_code": "Evaluation/scripts/grape_torch.py",
    "torch": torch.__version__,
    "numpy": np.__version__,
    "safetensors": safetensors.__version__,
    "seed": SEED,
    "preset": "tiny",
    "config": asdict(cfg),
    "trunk_blocks": gt.trunk_depth(cfg.img_size)[0],
    "head_kernel": gt.trunk_depth(cfg.img_size)[1],
    "precision": "computed in float64 from the float32 weights and inputs, stored as float32",
    "files": {"weights": "tiny_weights.safetensors", "io": "tiny_io.safetensors", "names": "tiny_names.json"},
    "conventions": {
        "scalars": "losses are stored as shape [1] tensors in tiny_io.safetensors and as numbers in `losses`",
        "integers": "gene indices (y, z) are given here only, as JSON integer lists",
        "initial_weights": "tiny_weights.safetensors; the EMA copies start equal to them",
        "weights_ema": "after_ema.* holds gene_embedding, mapping_network, generator, style_encoder",
        "l1": "mean absolute error over all elements",
        "r1": "0.5 * mean over the batch of the summed squared gradient of D_y(x) w.r.t. x; lambda 1",
        "adam": "torch.optim.Adam lr 1e-4 betas (0, 0.99) eps 1e-8 weight_decay 1e-4 (L2 added to the gradient)",
        "ema": "p_ema = lerp(p, p_ema, 0.999) = 0.999 * p_ema + 0.001 * p, after both steps of the iteration",
        "d_in_g_step": "the G step uses D after the D step's Adam update",
    },
    "random_draws": RANDOM_DRAWS,
    "cases": cases,
    "steps": {
        "step": {
            "y": STEP_GENES[1]["y"], "z": STEP_GENES[1]["z"], "x": "step.x", "starts_from": "tiny_weights.safetensors",
            "d_step": {"intermediates": [f"step.d_step.{k}" for k in ("out_real", "r1_grad_x", "s", "x_fake", "out_fake")],
                       "losses": [f"step.d_step.loss.{k}" for k in ("real", "fake", "r1", "total")],
                       "gradients": "grad.d_step.<discriminator parameter name>"},
            "g_step": {"intermediates": [f"step.g_step.{k}" for k in ("s", "x_fake", "out_fake", "s_org", "x_rec", "s_pred")],
                       "losses": [f"step.g_step.loss.{k}" for k in ("adv", "cycle", "style", "total")],
                       "gradients": "grad.g_step.<gene_embedding|mapping_network|generator|style_encoder parameter name>"},
            "after_adam": "after_adam.<every parameter name> (D after the D step, the others after the G step)",
            "after_ema": "after_ema.<EMA parameter name>",
        },
        "step2": {
            "y": STEP_GENES[2]["y"], "z": STEP_GENES[2]["z"], "x": "step2.x",
            "starts_from": "the state after `step` (parameters after_adam.*, Adam moments and EMA copies carried over)",
            "intermediates": "step2.d_step.*, step2.g_step.* as in step",
            "losses": [f"step2.{s}.loss.{k}" for s, ks in (("d_step", ("real", "fake", "r1", "total")),
                                                          ("g_step", ("adv", "cycle", "style", "total"))) for k in ks],
            "after_adam": "step2.after_adam.<every parameter name>",
        },
    },
    "losses": loss_values,
    "analytically_zero_grads": {
        "names": sorted(zero_grad_params),
        "why": "every generator conv bias except to_rgb.2's: a per-channel constant added inside the generator "
               "reaches an instance norm on every path (each residual branch starts with IN or AdaIN, the shortcuts "
               "are bias-free 1x1 convs, average pooling and nearest up-sampling, which keep a per-channel constant "
               "per-channel, and to_rgb starts with IN), so these biases cannot change any output. Their stored "
               "gradients are rounding noise (|g| < 1e-12 in float64): compare them with an absolute tolerance. "
               "Their Adam updates are then set by the weight-decay term wd * bias, which is why the fixture's "
               "biases are not zero.",
    },
    "float32_torch_vs_reference": {k: {kk: (float(f"{vv:.3g}") if isinstance(vv, float) else vv)
                                       for kk, vv in v.items() if not kk.startswith("_")}
                                   for k, v in sorted(stats.items())},
    "comparison_notes": [
        "float32_torch_vs_reference: a fresh float32 PyTorch model loaded from tiny_weights.safetensors, run on the "
        "stored inputs, against the stored float64 results (max_rel_l2 leaves out the analytically zero gradients).",
        "Forward values, the D-step gradients and the single-pass VJP cases agree to about 1e-6 relative in float32.",
        "The G-step gradients do not: the cycle term runs the generator twice (G(G(x, s), E(x))), float32 forward "
        "values carry relative errors of a few 1e-5 by then (instance norms over 2x2 maps with small variance "
        "amplify them), and the few LeakyReLU inputs that lie that close to 0 take the other slope, which changes "
        "individual gradient entries by up to a few percent of the tensor's largest entry. Compare grad.g_step.* "
        "with a relative L2 tolerance of a few 1e-2, and test the generator's backward tightly through "
        "generator_vjp.",
        "after_adam: the first Adam step moves each entry by about lr * sign(g + wd * p); where float32 gets the "
        "sign of a near-zero gradient entry wrong the entry differs by 2 * lr = 2e-4, so expect a handful of such "
        "entries and everything else within about 1e-6. step2.after_adam: the second step divides g2 by "
        "sqrt of a blend of g1^2 and g2^2, so the gradient errors above reach the update in relative terms; "
        "compare every entry within 2 * lr plus a small margin, and the update (step2.after_adam - after_adam) "
        "by its relative L2 error over all parameters (update_rel_l2).",
        "after_ema differs from the initial weights by about 1e-7, below float32 resolution for most entries; it "
        "checks mainly that the EMA copies exist under the right names and are not the trained weights.",
    ],
    "tensors": {n: list(t.shape) for n, t in io.items()},
}
atomic_save_json(manifest, paths["manifest.json"])

sizes = {os.path.basename(p): os.path.getsize(p) for p in paths.values()}
print(json.dumps({"wrote": sizes, "io_tensors": len(io), "weights": len(weights),
                  "zero_grads": len(zero_grad_params), "float32_torch_vs_reference": manifest["float32_torch_vs_reference"],
                  "losses": loss_values}, indent=1), file=sys.stderr)
