#!/usr/bin/env python3
"""PyTorch reference of GRAPE's networks and training iteration (CPU).

The module tree reproduces StarGAN v2 (clovaai/stargan-v2, core/model.py) as GRAPE adapts it
(/work/shared/papers/grape-cvprw-2024.txt section 3, DESIGN.md "GRAPE"), with the state_dict names
of INTERFACES.md "Parameter names", so that weights move between this script and the Swift
toolkit unchanged. It serves two purposes: golden fixtures for the Swift tests
(scripts/reference/grape_reference.py) and the PyTorch side of the training benchmark.

Usage (from the repository root):
    python3 Evaluation/scripts/grape_torch.py names --preset tiny [--genes 5] [--json]
    python3 Evaluation/scripts/grape_torch.py params            # parameter counts, every preset
    python3 Evaluation/scripts/grape_torch.py flops [--preset cpu]
    python3 Evaluation/scripts/grape_torch.py bench --preset cpu --steps 20 [--threads 2]
    python3 Evaluation/scripts/grape_torch.py selfcheck

Choices, including those DESIGN.md leaves open
----------------------------------------------
Networks
- ResBlk, AdaIN, AdainResBlk are StarGAN v2's blocks verbatim: LeakyReLU(0.2); the ResBlk
  residual is [IN] -> LReLU -> conv3x3 (in->in) -> [avg-pool 2] -> [IN] -> LReLU -> conv3x3
  (in->out), the shortcut 1x1 conv (no bias, only when channels change) then [avg-pool]; the
  AdainResBlk residual is AdaIN -> LReLU -> [nearest x2] -> conv3x3 (in->out) -> AdaIN -> LReLU ->
  conv3x3 (out->out), the shortcut [nearest x2] then 1x1 conv. Both outputs are
  (shortcut + residual) / sqrt(2). InstanceNorm2d everywhere has eps 1e-5, the biased variance
  and no running statistics (PyTorch's defaults), so state_dicts hold parameters only.
- AdaIN: h = fc(s) has 2*C outputs; gamma = h[:, :C], beta = h[:, C:];
  out = (1 + gamma) * IN(x) + beta with a non-affine IN.
- Generator: from_rgb conv3x3 (C -> dim_in); 3 down-sampling ResBlks with IN, channels
  min(2*previous, max_conv_dim); 2 ResBlks with IN at the bottleneck width. The decoder is built
  exactly as StarGAN v2 builds it, with `decode.insert(0, ...)`: for every down block an up
  AdainResBlk(dim_out -> dim_in) is inserted at the front, then the 2 bottleneck AdainResBlks are
  inserted at the front. The decoder runs in list order, so
      decode.0, decode.1  bottleneck AdainResBlks (no up-sampling, width unchanged), run first;
      decode.2            up-sampling, mirror of encode.2 (its in/out channels swapped);
      decode.3            up-sampling, mirror of encode.1;
      decode.4            up-sampling, mirror of encode.0, run last, returns dim_in channels.
  StarGAN v2's repeat_num = log2(img) - 4 (+1 with the high-pass filter) is replaced by DESIGN.md's
  fixed 3 down / 3 up blocks, and dim_in = 2**14 // img by the preset's dim_in. No high-pass
  filter, no masks, no tanh. to_rgb = Sequential(IN affine, LReLU, conv1x1 -> C).
- Mapping network F: net = Sequential(Linear(latent, hidden), ReLU, Linear(hidden, hidden), ReLU,
  Linear(hidden, style_dim)), one head (no per-domain branches). hidden = `mapping_hidden`:
  512 for cpu, cpu64 and paper (DESIGN.md); 32 for tiny, so that the test preset stays small
  (with 512 the tiny mapping network alone would hold 290k parameters, more than all other tiny
  networks together).
- Gene embedding M = nn.Embedding(G, latent_dim), initialised N(0, 1) (nn.Embedding's default; He
  init does not touch it). Style s = F(M[z]).
- Style encoder E: trunk = Sequential(conv3x3 (C -> dim_in), R down-sampling ResBlks without
  normalisation, channels min(2*previous, max_conv_dim)); head = Sequential(LReLU, conv kxk
  (width -> width, no padding), LReLU); fc = Linear(width, style_dim), one head. So the kxk conv
  is `style_encoder.head.1`, as INTERFACES.md names it; StarGAN v2 keeps the same layers in one
  `shared` Sequential.
- Discriminator D: main = Sequential(conv3x3, R ResBlks, LReLU, conv kxk, LReLU, conv1x1 -> G);
  indices 0, 1..R, R+1 (LReLU), R+2 (kxk conv), R+3 (LReLU), R+4 (1x1 conv). D(x) is [N, G];
  D_y(x) = D(x)[i, y_i].
- R = floor(log2 img) - 2 and k = img halved R times with floor division (PyTorch's avg_pool2d
  drops an odd last row/column), e.g. img 16 -> R 2, k 4; 32 -> 3, 4; 64 -> 4, 4; 96 -> 4, 6.
  The generator needs img divisible by 8.
- Initialisation: StarGAN v2's he_init, kaiming_normal_(mode='fan_in', nonlinearity='relu') on
  every Conv2d and Linear weight (including the 1x1 shortcut convs and the AdaIN fc layers), zero
  biases; InstanceNorm affine weights 1, biases 0; M ~ N(0, 1). Random numbers are drawn by the
  constructors (PyTorch's default initialisers) in the order gene_embedding, mapping_network,
  generator, style_encoder, discriminator, then by he_init over mapping_network, generator,
  style_encoder, discriminator in that order.
- A consequence of the design worth knowing: every conv bias of the generator except
  to_rgb.2's has an identically zero gradient. A per-channel constant added anywhere inside the
  generator reaches an instance norm on every path (each residual branch starts with IN or AdaIN,
  shortcuts are bias-free 1x1 convs, pooling and nearest up-sampling keep it per-channel, and
  to_rgb starts with IN), so those biases cannot change the output; only weight decay moves them.

Training iteration (`Trainer.step`), following StarGAN v2's solver with GRAPE's losses
- Inputs are given: x [N, C, H, W], y [N] (gene of each cell), z [N] (target gene). No randomness
  happens inside the step.
- D step: D_y(x) on reals with x requiring grad; loss_real = BCE-with-logits(D_y(x), 1);
  R1 = 0.5 * mean_i sum_pixels (dD_y(x)_i/dx_i)^2, the gradient of sum_i D_y(x)_i taken with
  create_graph=True (gamma = 1, so lambda_r1 = 1); s = F(M[z]) and x_fake = G(x, s) computed under
  no_grad; loss_fake = BCE(D_z(x_fake), 0); total = real + fake + R1. Only D's parameters receive
  gradients (backward(inputs=D's parameters), so no gradient for x is formed), then D's Adam step.
- G step, with the D just updated by the D step (as StarGAN v2: D's optimizer steps before the
  G-side losses are computed). D's parameters are frozen (requires_grad False) during the G step:
  StarGAN v2 computes and discards their gradients, which changes nothing but the run time.
  s = F(M[z]) and x_fake = G(x, s) are recomputed with grad (same values as in the D step, since
  M, F, G have not changed); loss_adv = BCE(D_z(x_fake), 1);
  s_org = E(x) on the REAL image x (StarGAN v2's style reconstruction of the source;
  GRAPE's s_hat = E(x)); x_rec = G(x_fake, s_org); loss_cyc = mean |x_rec - x| (the L1 norm is the
  mean absolute error over all elements, StarGAN v2's torch.mean(torch.abs(...)));
  loss_sty = mean |E(x_fake.detach()) - s.detach()| (mean over N * style_dim);
  total = adv + 1 * cyc + 1 * sty. Gradient flow: adv reaches M, F, G (through D, frozen); cyc
  reaches M, F, G (through x_fake and both generator passes) and E (through s_org); sty reaches E
  only. Then Adam steps for M, F, G, E.
- Adam: torch.optim.Adam, lr 1e-4, betas (0, 0.99), eps 1e-8, weight_decay 1e-4 (L2 added to the
  gradient before the moments), one optimizer per module, all with the same settings (GRAPE uses
  1e-4 for every module; StarGAN v2's smaller lr for F is not used).
- EMA after every step for gene_embedding, mapping_network, generator, style_encoder:
  p_ema = torch.lerp(p, p_ema, 0.999) (StarGAN v2's moving_average); the copies start equal to the
  initial weights. GRAPE's own variant (blend 0.5 every 2,500 steps) is `Trainer.ema_update(0.5)`
  called every 2,500 steps.

FLOPs (`flops`, and the GFLOP/s of `bench`)
- Multiply-adds (2 FLOPs each) of every Conv2d and Linear, from the layer shapes of one forward
  pass; normalisation, activations, pooling, resampling and the optimiser are not counted. A
  backward pass counts twice its forward pass. Passes per iteration (see PASSES): D 12, G 7, E 6,
  F 4 forward-pass equivalents. `flops --measure` cross-checks the total with the per-op formulas
  of torch.utils.flop_counter applied to the aten ops that actually run (about 2-3 % lower,
  because PyTorch skips input gradients nobody needs, e.g. of the first conv on x_fake).
"""
from __future__ import annotations

import argparse
import copy
import json
import math
import os
import re
import resource
import statistics
import sys
import time
from dataclasses import asdict, dataclass, replace

import torch
import torch.nn as nn
import torch.nn.functional as F

# --------------------------------------------------------------------------------------------
# Presets
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Config:
    """Network and batch sizes of one preset."""

    img_size: int
    dim_in: int
    max_conv_dim: int
    style_dim: int
    latent_dim: int
    batch_size: int
    mapping_hidden: int = 512
    in_channels: int = 4
    num_genes: int = 106  # 105 complex genes + the control
    lr: float = 1e-4
    beta1: float = 0.0
    beta2: float = 0.99
    weight_decay: float = 1e-4
    lambda_r1: float = 1.0
    lambda_cyc: float = 1.0
    lambda_sty: float = 1.0
    ema_beta: float = 0.999


PRESETS = {
    "tiny": Config(img_size=16, dim_in=8, max_conv_dim=32, style_dim=16, latent_dim=32, batch_size=4, mapping_hidden=32),
    "cpu": Config(img_size=32, dim_in=32, max_conv_dim=256, style_dim=64, latent_dim=500, batch_size=16),
    "cpu64": Config(img_size=64, dim_in=32, max_conv_dim=256, style_dim=64, latent_dim=500, batch_size=16),
    "paper": Config(img_size=96, dim_in=64, max_conv_dim=512, style_dim=64, latent_dim=500, batch_size=256),
}

NUM_DOWN = 3  # generator down-sampling (and up-sampling) blocks
NUM_BOTTLENECK = 2  # generator blocks at the bottleneck, on each side


def trunk_depth(img_size: int) -> tuple[int, int]:
    """R (down-sampling ResBlks of E and D) and k (spatial size left, the head conv's kernel)."""
    r = int(math.floor(math.log2(img_size))) - 2
    k = img_size
    for _ in range(r):
        k //= 2
    return r, k


# --------------------------------------------------------------------------------------------
# Blocks (StarGAN v2)
# --------------------------------------------------------------------------------------------


class ResBlk(nn.Module):
    """Pre-activation residual block, optional IN and 2x average-pool down-sampling."""

    def __init__(self, dim_in, dim_out, normalize=False, downsample=False):
        super().__init__()
        self.actv = nn.LeakyReLU(0.2)
        self.normalize = normalize
        self.downsample = downsample
        self.learned_sc = dim_in != dim_out
        self.conv1 = nn.Conv2d(dim_in, dim_in, 3, 1, 1)
        self.conv2 = nn.Conv2d(dim_in, dim_out, 3, 1, 1)
        if normalize:
            self.norm1 = nn.InstanceNorm2d(dim_in, affine=True)
            self.norm2 = nn.InstanceNorm2d(dim_in, affine=True)
        if self.learned_sc:
            self.conv1x1 = nn.Conv2d(dim_in, dim_out, 1, 1, 0, bias=False)

    def _shortcut(self, x):
        if self.learned_sc:
            x = self.conv1x1(x)
        if self.downsample:
            x = F.avg_pool2d(x, 2)
        return x

    def _residual(self, x):
        if self.normalize:
            x = self.norm1(x)
        x = self.actv(x)
        x = self.conv1(x)
        if self.downsample:
            x = F.avg_pool2d(x, 2)
        if self.normalize:
            x = self.norm2(x)
        x = self.actv(x)
        x = self.conv2(x)
        return x

    def forward(self, x):
        return (self._shortcut(x) + self._residual(x)) / math.sqrt(2)


class AdaIN(nn.Module):
    """Adaptive instance normalisation: (1 + gamma(s)) * IN(x) + beta(s)."""

    def __init__(self, style_dim, num_features):
        super().__init__()
        self.norm = nn.InstanceNorm2d(num_features, affine=False)
        self.fc = nn.Linear(style_dim, num_features * 2)

    def forward(self, x, s):
        h = self.fc(s)
        h = h.view(h.size(0), h.size(1), 1, 1)
        gamma, beta = torch.chunk(h, chunks=2, dim=1)
        return (1 + gamma) * self.norm(x) + beta


class AdainResBlk(nn.Module):
    """Residual block with AdaIN, optional nearest-neighbour 2x up-sampling."""

    def __init__(self, dim_in, dim_out, style_dim, upsample=False):
        super().__init__()
        self.actv = nn.LeakyReLU(0.2)
        self.upsample = upsample
        self.learned_sc = dim_in != dim_out
        self.conv1 = nn.Conv2d(dim_in, dim_out, 3, 1, 1)
        self.conv2 = nn.Conv2d(dim_out, dim_out, 3, 1, 1)
        self.norm1 = AdaIN(style_dim, dim_in)
        self.norm2 = AdaIN(style_dim, dim_out)
        if self.learned_sc:
            self.conv1x1 = nn.Conv2d(dim_in, dim_out, 1, 1, 0, bias=False)

    def _shortcut(self, x):
        if self.upsample:
            x = F.interpolate(x, scale_factor=2, mode="nearest")
        if self.learned_sc:
            x = self.conv1x1(x)
        return x

    def _residual(self, x, s):
        x = self.norm1(x, s)
        x = self.actv(x)
        if self.upsample:
            x = F.interpolate(x, scale_factor=2, mode="nearest")
        x = self.conv1(x)
        x = self.norm2(x, s)
        x = self.actv(x)
        x = self.conv2(x)
        return x

    def forward(self, x, s):
        return (self._residual(x, s) + self._shortcut(x)) / math.sqrt(2)


# --------------------------------------------------------------------------------------------
# Networks
# --------------------------------------------------------------------------------------------


class Generator(nn.Module):
    """Encoder (3 down ResBlks + 2 ResBlks, IN) and decoder (2 AdainResBlks + 3 up AdainResBlks)."""

    def __init__(self, cfg: Config):
        super().__init__()
        if cfg.img_size % (2 ** NUM_DOWN) != 0:
            raise ValueError(f"img_size {cfg.img_size} is not a multiple of {2 ** NUM_DOWN}")
        dim_in = cfg.dim_in
        self.from_rgb = nn.Conv2d(cfg.in_channels, dim_in, 3, 1, 1)
        self.encode = nn.ModuleList()
        self.decode = nn.ModuleList()
        self.to_rgb = nn.Sequential(
            nn.InstanceNorm2d(dim_in, affine=True), nn.LeakyReLU(0.2), nn.Conv2d(dim_in, cfg.in_channels, 1, 1, 0))
        dim_out = dim_in
        for _ in range(NUM_DOWN):
            dim_out = min(dim_in * 2, cfg.max_conv_dim)
            self.encode.append(ResBlk(dim_in, dim_out, normalize=True, downsample=True))
            self.decode.insert(0, AdainResBlk(dim_out, dim_in, cfg.style_dim, upsample=True))  # stack-like
            dim_in = dim_out
        for _ in range(NUM_BOTTLENECK):
            self.encode.append(ResBlk(dim_out, dim_out, normalize=True))
            self.decode.insert(0, AdainResBlk(dim_out, dim_out, cfg.style_dim))

    def forward(self, x, s):
        x = self.from_rgb(x)
        for block in self.encode:
            x = block(x)
        for block in self.decode:
            x = block(x, s)
        return self.to_rgb(x)


class MappingNetwork(nn.Module):
    """F: three linear layers with ReLU between them, one head."""

    def __init__(self, cfg: Config):
        super().__init__()
        h = cfg.mapping_hidden
        self.net = nn.Sequential(
            nn.Linear(cfg.latent_dim, h), nn.ReLU(), nn.Linear(h, h), nn.ReLU(), nn.Linear(h, cfg.style_dim))

    def forward(self, latent):
        return self.net(latent)


def _trunk_blocks(cfg: Config) -> tuple[list[nn.Module], int, int]:
    """conv3x3 then R down ResBlks without normalisation; returns (blocks, width, k)."""
    r, k = trunk_depth(cfg.img_size)
    dim_in = cfg.dim_in
    blocks: list[nn.Module] = [nn.Conv2d(cfg.in_channels, dim_in, 3, 1, 1)]
    dim_out = dim_in
    for _ in range(r):
        dim_out = min(dim_in * 2, cfg.max_conv_dim)
        blocks.append(ResBlk(dim_in, dim_out, downsample=True))
        dim_in = dim_out
    return blocks, dim_out, k


class StyleEncoder(nn.Module):
    """E: trunk (conv3x3 + R ResBlks), head (LReLU, kxk conv, LReLU), one linear head."""

    def __init__(self, cfg: Config):
        super().__init__()
        blocks, width, k = _trunk_blocks(cfg)
        self.trunk = nn.Sequential(*blocks)
        self.head = nn.Sequential(nn.LeakyReLU(0.2), nn.Conv2d(width, width, k, 1, 0), nn.LeakyReLU(0.2))
        self.fc = nn.Linear(width, cfg.style_dim)

    def forward(self, x):
        h = self.head(self.trunk(x))
        return self.fc(h.view(h.size(0), -1))


class Discriminator(nn.Module):
    """D: the same trunk and head, then a 1x1 conv to one logit per gene."""

    def __init__(self, cfg: Config):
        super().__init__()
        blocks, width, k = _trunk_blocks(cfg)
        blocks += [nn.LeakyReLU(0.2), nn.Conv2d(width, width, k, 1, 0), nn.LeakyReLU(0.2),
                   nn.Conv2d(width, cfg.num_genes, 1, 1, 0)]
        self.main = nn.Sequential(*blocks)

    def forward(self, x):
        """All heads: [N, G]."""
        out = self.main(x)
        return out.view(out.size(0), -1)


def select_head(out_all, genes):
    """D_y(x): out_all [N, G], genes [N] -> [N]."""
    return out_all.gather(1, genes.view(-1, 1)).view(-1)


def he_init(module):
    """StarGAN v2's initialisation: He normal (fan-in, ReLU gain) weights, zero biases."""
    if isinstance(module, (nn.Conv2d, nn.Linear)):
        nn.init.kaiming_normal_(module.weight, mode="fan_in", nonlinearity="relu")
        if module.bias is not None:
            nn.init.constant_(module.bias, 0)


class GRAPE(nn.Module):
    """The five modules under the contract's top-level names."""

    def __init__(self, cfg: Config, with_discriminator: bool = True):
        super().__init__()
        self.cfg = cfg
        self.gene_embedding = nn.Embedding(cfg.num_genes, cfg.latent_dim)  # N(0, 1)
        self.mapping_network = MappingNetwork(cfg)
        self.generator = Generator(cfg)
        self.style_encoder = StyleEncoder(cfg)
        if with_discriminator:
            self.discriminator = Discriminator(cfg)
        for name in ("mapping_network", "generator", "style_encoder", "discriminator"):
            if hasattr(self, name):
                getattr(self, name).apply(he_init)

    def style(self, genes):
        """s = F(M[z]) for gene indices z [N] -> [N, style_dim]."""
        return self.mapping_network(self.gene_embedding(genes))


EMA_MODULES = ("gene_embedding", "mapping_network", "generator", "style_encoder")
G_SIDE_MODULES = EMA_MODULES


def build(cfg: Config, seed: int | None = None) -> GRAPE:
    """Builds a model; with a seed, the initial weights are reproducible."""
    if seed is not None:
        torch.manual_seed(seed)
    return GRAPE(cfg)


# --------------------------------------------------------------------------------------------
# ABRA inside GRAPE (grape train --abra), for the speed comparison
# --------------------------------------------------------------------------------------------


class ABRAReference(nn.Module):
    """The batch-statistic perturbation after E's trunk and the auxiliary gene classifier on the
    style code, with GRAPE's `abra_*` defaults (lambda 0.5, ArcFace m 0.2 and s 16, step size
    0.01, JS weight 1, L_rob weight 1). Parameter names as the contract: abra.k_mu, abra.k_sigma,
    aux_head.cls, aux_head.arc_w."""

    def __init__(self, cfg: Config, lam=0.5, margin=0.2, scale=16.0, step_size=0.01, js_weight=1.0, initial_k=0.1):
        super().__init__()
        width = _trunk_blocks(cfg)[1]
        self.k_mu = nn.Parameter(torch.full((1, width, 1, 1), initial_k))
        self.k_sigma = nn.Parameter(torch.full((1, width, 1, 1), initial_k))
        self.aux_head = nn.Module()
        self.aux_head.cls = nn.Linear(cfg.style_dim, cfg.num_genes)
        self.aux_head.arc_w = nn.Parameter(torch.randn(cfg.num_genes, cfg.style_dim) * 0.01)
        self.lam, self.margin, self.scale, self.step_size, self.js_weight = lam, margin, scale, step_size, js_weight

    def perturb(self, h, eps_mu, eps_sigma, k_mu, k_sigma):
        mu = h.mean((0, 2, 3), keepdim=True)
        sigma = (h.var((0, 2, 3), keepdim=True, unbiased=False) + 1e-6).sqrt()
        return (sigma + eps_sigma * k_sigma) * (h - mu) / sigma + (mu + eps_mu * k_mu)

    def objective(self, codes, targets, arc_w):
        logits = self.aux_head.cls(codes)
        cos = F.normalize(codes, dim=1) @ F.normalize(arc_w, dim=1).t()
        theta = torch.acos(cos.clamp(-1 + 1e-6, 1 - 1e-6))
        one_hot = F.one_hot(targets, cos.size(1)).to(cos.dtype)
        arc_logits = self.scale * torch.where(one_hot > 0, torch.cos(theta + self.margin), cos)
        return self.lam * F.cross_entropy(logits, targets) + (1 - self.lam) * F.cross_entropy(arc_logits, targets), logits

    def loss(self, h, targets, codes_of):
        """Phase 1 (ascend K with E frozen), then L_rob + JS for E and the heads to descend."""
        eps_mu = torch.randn_like(self.k_mu)
        eps_sigma = torch.randn_like(self.k_sigma)
        k_mu, k_sigma = self.k_mu.detach().requires_grad_(True), self.k_sigma.detach().requires_grad_(True)
        adv, _ = self.objective(codes_of(self.perturb(h.detach(), eps_mu, eps_sigma, k_mu, k_sigma)), targets,
                                self.aux_head.arc_w.detach())
        g_mu, g_sigma = torch.autograd.grad(adv, [k_mu, k_sigma])
        with torch.no_grad():
            self.k_mu.add_(self.step_size * g_mu)
            self.k_sigma.add_(self.step_size * g_sigma)
        clean, logits_c = self.objective(codes_of(h), targets, self.aux_head.arc_w)
        pert, logits_p = self.objective(codes_of(self.perturb(h, eps_mu, eps_sigma, self.k_mu.detach(), self.k_sigma.detach())),
                                        targets, self.aux_head.arc_w)
        p, q = F.softmax(logits_c, 1), F.softmax(logits_p, 1)
        m = (0.5 * (p + q)).clamp_min(1e-12).log()
        js = 0.5 * (F.kl_div(m, p, reduction="batchmean") + F.kl_div(m, q, reduction="batchmean"))
        return 0.5 * (clean + pert) + self.js_weight * js


# --------------------------------------------------------------------------------------------
# Training iteration
# --------------------------------------------------------------------------------------------


def adv_loss(logits, target: float):
    return F.binary_cross_entropy_with_logits(logits, torch.full_like(logits, target))


def r1_penalty(d_out, x_in):
    """0.5 * mean over the batch of ||d sum(d_out) / d x_in||^2, differentiable (create_graph)."""
    (grad,) = torch.autograd.grad(d_out.sum(), x_in, create_graph=True)
    return 0.5 * grad.pow(2).flatten(1).sum(1).mean(0), grad


class Trainer:
    """One GRAPE iteration: D step (with R1), G step, EMA; Adam per module."""

    def __init__(self, model: GRAPE, cfg: Config, abra: bool = False):
        self.model = model
        self.cfg = cfg
        self.abra = ABRAReference(cfg) if abra else None
        self.ema = copy.deepcopy(model)
        del self.ema.discriminator
        self.ema.requires_grad_(False)
        self.optims = {
            name: torch.optim.Adam(getattr(model, name).parameters(), lr=cfg.lr, betas=(cfg.beta1, cfg.beta2),
                                   weight_decay=cfg.weight_decay)
            for name in ("discriminator",) + G_SIDE_MODULES
        }
        if self.abra is not None:
            # The auxiliary heads descend with E (K is ascended by the regulariser itself).
            self.optims["style_encoder"].add_param_group({"params": list(self.abra.aux_head.parameters())})

    # -- D step ---------------------------------------------------------------------------------
    def d_losses(self, x, y, z, use_r1=True):
        """Losses of the D step and its intermediates (a dict of tensors)."""
        m, d = self.model, self.model.discriminator
        x_real = x.detach().requires_grad_(True)
        out_real = select_head(d(x_real), y)
        loss_real = adv_loss(out_real, 1.0)
        if use_r1:
            loss_r1, grad_x = r1_penalty(out_real, x_real)
        else:
            loss_r1, grad_x = torch.zeros((), dtype=x.dtype), None
        with torch.no_grad():
            s = m.style(z)
            x_fake = m.generator(x, s)
        out_fake = select_head(d(x_fake), z)
        loss_fake = adv_loss(out_fake, 0.0)
        total = loss_real + loss_fake + self.cfg.lambda_r1 * loss_r1
        return {"real": loss_real, "fake": loss_fake, "r1": loss_r1, "total": total,
                "out_real": out_real, "r1_grad_x": grad_x, "s": s, "x_fake": x_fake, "out_fake": out_fake}

    def d_backward(self, losses):
        d = self.model.discriminator
        self.optims["discriminator"].zero_grad(set_to_none=True)
        losses["total"].backward(inputs=list(d.parameters()))

    def d_update(self):
        self.optims["discriminator"].step()

    # -- G step ---------------------------------------------------------------------------------
    def g_losses(self, x, y, z):
        """Losses of the G step (with the current D, frozen) and its intermediates."""
        m, cfg = self.model, self.cfg
        m.discriminator.requires_grad_(False)
        try:
            s = m.style(z)
            x_fake = m.generator(x, s)
            out_fake = select_head(m.discriminator(x_fake), z)
            loss_adv = adv_loss(out_fake, 1.0)
            e = m.style_encoder
            h = e.trunk(x)
            codes_of = lambda f: e.fc(e.head(f).flatten(1))  # noqa: E731
            s_org = codes_of(h)
            x_rec = m.generator(x_fake, s_org)
            loss_cyc = torch.mean(torch.abs(x_rec - x))
            s_pred = m.style_encoder(x_fake.detach())
            loss_sty = torch.mean(torch.abs(s_pred - s.detach()))
            total = loss_adv + cfg.lambda_cyc * loss_cyc + cfg.lambda_sty * loss_sty
            if self.abra is not None:
                total = total + self.abra.loss(h, y, codes_of)
        finally:
            m.discriminator.requires_grad_(True)
        return {"adv": loss_adv, "cycle": loss_cyc, "style": loss_sty, "total": total,
                "s": s, "x_fake": x_fake, "out_fake": out_fake, "s_org": s_org, "x_rec": x_rec, "s_pred": s_pred}

    def g_backward(self, losses):
        params = []
        for name in G_SIDE_MODULES:
            self.optims[name].zero_grad(set_to_none=True)
            params += list(getattr(self.model, name).parameters())
        if self.abra is not None:
            params += list(self.abra.aux_head.parameters())
        losses["total"].backward(inputs=params)

    def g_update(self):
        for name in G_SIDE_MODULES:
            self.optims[name].step()

    # -- EMA ------------------------------------------------------------------------------------
    @torch.no_grad()
    def ema_update(self, beta=None):
        beta = self.cfg.ema_beta if beta is None else beta
        for name in EMA_MODULES:
            for p, p_ema in zip(getattr(self.model, name).parameters(), getattr(self.ema, name).parameters()):
                p_ema.copy_(torch.lerp(p, p_ema, beta))

    def step(self, x, y, z, timings: dict | None = None, use_r1=True):
        """One full iteration; returns the float losses. `timings` collects seconds per phase."""
        t0 = time.perf_counter()
        dl = self.d_losses(x, y, z, use_r1=use_r1)
        self.d_backward(dl)
        self.d_update()
        t1 = time.perf_counter()
        gl = self.g_losses(x, y, z)
        self.g_backward(gl)
        self.g_update()
        t2 = time.perf_counter()
        self.ema_update()
        t3 = time.perf_counter()
        if timings is not None:
            for key, v in (("d_step", t1 - t0), ("g_step", t2 - t1), ("ema", t3 - t2), ("iteration", t3 - t0)):
                timings.setdefault(key, []).append(v)
        return {"d_real": dl["real"].item(), "d_fake": dl["fake"].item(), "d_r1": dl["r1"].item(),
                "d_total": dl["total"].item(), "g_adv": gl["adv"].item(), "g_cycle": gl["cycle"].item(),
                "g_style": gl["style"].item(), "g_total": gl["total"].item()}


# --------------------------------------------------------------------------------------------
# Names, counts, FLOPs
# --------------------------------------------------------------------------------------------


def contract_patterns(cfg: Config) -> list[str]:
    """Regular expressions of INTERFACES.md's parameter names for this configuration."""
    r, _ = trunk_depth(cfg.img_size)
    n_enc = NUM_DOWN + NUM_BOTTLENECK
    idx = lambda n: "(" + "|".join(str(i) for i in range(n)) + ")"  # noqa: E731
    trunk = "(" + "|".join(str(i) for i in range(1, r + 1)) + ")"
    wb = r"\.(weight|bias)"
    return [
        r"gene_embedding\.weight",
        r"mapping_network\.net\.(0|2|4)" + wb,
        r"generator\.from_rgb" + wb,
        rf"generator\.encode\.{idx(n_enc)}\.(conv1|conv2|norm1|norm2)" + wb,
        rf"generator\.encode\.{idx(n_enc)}\.conv1x1\.weight",
        rf"generator\.decode\.{idx(n_enc)}\.(conv1|conv2|norm1\.fc|norm2\.fc)" + wb,
        rf"generator\.decode\.{idx(n_enc)}\.conv1x1\.weight",
        r"generator\.to_rgb\.(0|2)" + wb,
        r"style_encoder\.trunk\.0" + wb,
        rf"style_encoder\.trunk\.{trunk}\.(conv1|conv2)" + wb,
        rf"style_encoder\.trunk\.{trunk}\.conv1x1\.weight",
        r"style_encoder\.head\.1" + wb,
        r"style_encoder\.fc" + wb,
        r"discriminator\.main\.0" + wb,
        rf"discriminator\.main\.{trunk}\.(conv1|conv2)" + wb,
        rf"discriminator\.main\.{trunk}\.conv1x1\.weight",
        rf"discriminator\.main\.{r + 2}" + wb,
        rf"discriminator\.main\.{r + 4}" + wb,
    ]


def check_names(model: GRAPE) -> list[str]:
    """Names of the state_dict that do not match the contract (empty when all do)."""
    pats = [re.compile(p + "$") for p in contract_patterns(model.cfg)]
    return [n for n in model.state_dict() if not any(p.match(n) for p in pats)]


def names_document(cfg: Config, preset: str) -> dict:
    """state_dict names and shapes, in state_dict order, as a JSON-ready document."""
    model = GRAPE(cfg)
    sd = model.state_dict()
    r, k = trunk_depth(cfg.img_size)
    return {
        "preset": preset,
        "config": asdict(cfg),
        "trunk_blocks": r,
        "head_kernel": k,
        "torch": torch.__version__,
        "order": list(sd.keys()),
        "shapes": {n: list(t.shape) for n, t in sd.items()},
        "ema_names": [n for n in sd if n.split(".")[0] in EMA_MODULES],
    }


def param_counts(model: GRAPE) -> dict:
    out = {name: sum(p.numel() for p in getattr(model, name).parameters())
           for name in ("gene_embedding", "mapping_network", "generator", "style_encoder", "discriminator")}
    out["total"] = sum(out.values())
    return out


def forward_flops(module: nn.Module, *inputs) -> int:
    """Multiply-add FLOPs (2 per MAC) of the Conv2d and Linear layers in one forward pass,
    computed from the layer shapes seen by forward hooks. Embedding lookups, normalisation,
    activations and pooling are not counted."""
    total = [0]

    def hook(mod, inp, out):
        if isinstance(mod, nn.Conv2d):
            n, cout, h, w = out.shape
            kh, kw = mod.kernel_size
            total[0] += 2 * n * cout * h * w * (mod.in_channels // mod.groups) * kh * kw
        elif isinstance(mod, nn.Linear):
            total[0] += 2 * out.numel() // out.shape[-1] * mod.in_features * mod.out_features

    handles = [m.register_forward_hook(hook) for m in module.modules() if isinstance(m, (nn.Conv2d, nn.Linear))]
    try:
        with torch.no_grad():
            module(*inputs)
    finally:
        for h in handles:
            h.remove()
    return total[0]


# Passes per iteration, in units of one forward pass of each network over the batch. A backward
# pass counts 2 forward passes (input gradient + weight gradient).
#   D step: D(x) 1; R1 first-order gradient w.r.t. x (input gradients only) 1; F(M[z]) 1 and
#           G(x, s) 1 without grad; D(x_fake) 1; backward of real 2, of fake 2, double backward
#           through the R1 graph 2 (weight gradients + gradients of the incoming gradients)
#           -> D 9, G 1, F 1.
#   G step: F 1, G(x, s) 1, D(x_fake) 1, E(x) 1, G(x_fake, E(x)) 1, E(x_fake) 1 forward; backward
#           2 each -> F 3, G 6, D 3, E 6.
#   Iteration: D 12, G 7, E 6, F 4.
PASSES = {"discriminator": 12, "generator": 7, "style_encoder": 6, "mapping_network": 4}


def iteration_flops(cfg: Config) -> dict:
    """Analytic conv + matmul FLOPs of one iteration at the preset's batch size (FLOPs are linear
    in the batch, so the forward passes are run on one image and scaled)."""
    model = GRAPE(cfg)
    n = cfg.batch_size
    x = torch.zeros(1, cfg.in_channels, cfg.img_size, cfg.img_size)
    s = torch.zeros(1, cfg.style_dim)
    lat = torch.zeros(1, cfg.latent_dim)
    fwd = {
        "discriminator": n * forward_flops(model.discriminator, x),
        "generator": n * forward_flops(model.generator, x, s),
        "style_encoder": n * forward_flops(model.style_encoder, x),
        "mapping_network": n * forward_flops(model.mapping_network, lat),
    }
    total = sum(PASSES[k] * v for k, v in fwd.items())
    return {"forward": fwd, "passes": PASSES, "iteration": total, "per_image": total / n}


def measured_flops(cfg: Config, batch: int = 2) -> int:
    """FLOPs of one iteration as torch.utils.flop_counter's formulas count the aten ops that
    actually run, measured at a small batch and scaled to the preset's batch."""
    # FlopCounterMode's module tracker refuses autograd.grad on a leaf (R1), so the same
    # per-op formulas (torch.utils.flop_counter.flop_registry) are applied by a bare dispatch mode.
    from torch.utils._python_dispatch import TorchDispatchMode
    from torch.utils.flop_counter import flop_registry

    class Counter(TorchDispatchMode):
        total = 0

        def __torch_dispatch__(self, func, types, args=(), kwargs=None):
            kwargs = kwargs or {}
            out = func(*args, **kwargs)
            packet = func._overloadpacket
            if packet in flop_registry:
                Counter.total += flop_registry[packet](*args, **kwargs, out_val=out)
            return out

    small = replace(cfg, batch_size=batch)
    torch.manual_seed(0)
    model = GRAPE(small)
    tr = Trainer(model, small)
    x, y, z = random_batch(small, torch.Generator().manual_seed(0))
    with Counter():
        tr.step(x, y, z)
    return Counter.total * cfg.batch_size // batch


def random_batch(cfg: Config, gen: torch.Generator):
    n = cfg.batch_size
    x = torch.randn(n, cfg.in_channels, cfg.img_size, cfg.img_size, generator=gen)
    y = torch.randint(0, cfg.num_genes, (n,), generator=gen)
    z = torch.randint(0, cfg.num_genes, (n,), generator=gen)
    return x, y, z


# --------------------------------------------------------------------------------------------
# Commands
# --------------------------------------------------------------------------------------------


def cfg_from_args(args) -> Config:
    cfg = PRESETS[args.preset]
    if getattr(args, "genes", None):
        cfg = replace(cfg, num_genes=args.genes)
    if getattr(args, "batch", None):
        cfg = replace(cfg, batch_size=args.batch)
    return cfg


def cmd_names(args):
    doc = names_document(cfg_from_args(args), args.preset)
    if args.json:
        print(json.dumps(doc, indent=1))
        return
    for n in doc["order"]:
        print(f"{n} {doc['shapes'][n]}")


def cmd_params(args):
    for preset in PRESETS if args.preset is None else [args.preset]:
        args.preset = preset
        cfg = cfg_from_args(args)
        model = GRAPE(cfg)
        counts = param_counts(model)
        r, k = trunk_depth(cfg.img_size)
        print(json.dumps({"preset": preset, "genes": cfg.num_genes, "trunk_blocks": r, "head_kernel": k,
                          "tensors": len(model.state_dict()), **counts}))
        args.preset = None


def cmd_flops(args):
    for preset in PRESETS if args.preset is None else [args.preset]:
        args.preset = preset
        cfg = cfg_from_args(args)
        f = iteration_flops(cfg)
        line = {"preset": preset, "batch": cfg.batch_size,
                "forward_gflop": {k: round(v / 1e9, 4) for k, v in f["forward"].items()},
                "iteration_gflop": round(f["iteration"] / 1e9, 3), "per_image_gflop": round(f["per_image"] / 1e9, 4)}
        if args.measure:
            line["flop_counter_iteration_gflop"] = round(measured_flops(cfg) / 1e9, 3)
        print(json.dumps(line))
        args.preset = None


def emit(preset, metric, value, unit, **extra):
    print(json.dumps({"bench": "train", "impl": "torch", "preset": preset, "metric": metric,
                      "value": round(value, 4), "unit": unit, **extra}), flush=True)


def cmd_bench(args):
    """Times full iterations; phase times are medians over the timed steps (robust to other work
    on the machine), images_per_s uses the median iteration, images_per_s_wall the total time."""
    torch.set_num_threads(args.threads)
    cfg = cfg_from_args(args)
    torch.manual_seed(args.seed)
    gen = torch.Generator().manual_seed(args.seed)
    batches = [random_batch(cfg, gen) for _ in range(4)]
    load_before = os.getloadavg()
    model = GRAPE(cfg)
    tr = Trainer(model, cfg, abra=args.abra)
    for i in range(args.warmup):
        tr.step(*batches[i % len(batches)])
    timings: dict = {}
    no_r1: list[float] = []
    wall = 0.0
    cpu = 0.0
    for i in range(args.steps):
        x, y, z = batches[i % len(batches)]
        t0, c0 = time.perf_counter(), time.process_time()
        tr.step(x, y, z, timings=timings)
        wall += time.perf_counter() - t0
        cpu += time.process_time() - c0
        if args.r1_ablation:
            # R1's cost: the same D step without the penalty, right after, under the same conditions.
            t = time.perf_counter()
            dl = tr.d_losses(x, y, z, use_r1=False)
            tr.d_backward(dl)
            tr.d_update()
            no_r1.append(time.perf_counter() - t)
    load_after = os.getloadavg()
    med = statistics.median
    it = med(timings["iteration"])
    flops = iteration_flops(cfg)["iteration"]
    common = {"threads": torch.get_num_threads(), "steps": args.steps, "batch": cfg.batch_size,
              "torch": torch.__version__, "abra": str(args.abra).lower()}
    emit(args.preset, "images_per_s", cfg.batch_size / it, "img/s", **common,
         load_avg_1m=[round(load_before[0], 2), round(load_after[0], 2)])
    emit(args.preset, "images_per_s_wall", cfg.batch_size * args.steps / wall, "img/s", **common)
    emit(args.preset, "iteration_ms", it * 1e3, "ms", **common)
    emit(args.preset, "cpu_s_per_iteration", cpu / max(args.steps, 1), "s", **common,
         note="user + system CPU time of all threads, mean over the timed steps")
    emit(args.preset, "d_step_ms", med(timings["d_step"]) * 1e3, "ms", **common)
    emit(args.preset, "g_step_ms", med(timings["g_step"]) * 1e3, "ms", **common)
    if no_r1:
        emit(args.preset, "r1_ms", (med(timings["d_step"]) - med(no_r1)) * 1e3, "ms", **common,
             note="median D step with R1 minus median D step without it, interleaved")
    emit(args.preset, "ema_ms", med(timings["ema"]) * 1e3, "ms", **common)
    emit(args.preset, "gflop_per_iteration", flops / 1e9, "GFLOP", **common, note="analytic conv+matmul count")
    emit(args.preset, "achieved_gflops", flops / it / 1e9, "GFLOP/s", **common)
    emit(args.preset, "peak_rss_mb", resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, "MiB", **common)


def cmd_selfcheck(args):
    """Contract names, load round trip, gradient flow, R1 and Adam/EMA against hand formulas."""
    import tempfile

    from safetensors.torch import load_file, save_file

    failures = []

    def check(cond, what):
        print(("ok   " if cond else "FAIL ") + what)
        if not cond:
            failures.append(what)

    for preset in PRESETS:
        cfg = replace(PRESETS[preset], num_genes=5 if preset == "tiny" else 106)
        model = GRAPE(cfg)
        bad = check_names(model)
        check(not bad, f"{preset}: every state_dict name matches INTERFACES.md ({bad[:3]})")
        unused = [p for p in contract_patterns(cfg) if not any(re.match(p + "$", n) for n in model.state_dict())]
        check(not unused, f"{preset}: every name pattern of INTERFACES.md is present ({unused[:3]})")

    cfg = replace(PRESETS["tiny"], num_genes=5)
    torch.manual_seed(1)
    a = GRAPE(cfg)
    torch.manual_seed(2)
    b = GRAPE(cfg)
    x, y, z = random_batch(cfg, torch.Generator().manual_seed(3))
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "w.safetensors")
        save_file({k: v.contiguous() for k, v in a.state_dict().items()}, path)
        b.load_state_dict(load_file(path), strict=True)
    with torch.no_grad():
        sa, sb = a.style(z), b.style(z)
        same = (torch.equal(sa, sb) and torch.equal(a.generator(x, sa), b.generator(x, sb))
                and torch.equal(a.style_encoder(x), b.style_encoder(x))
                and torch.equal(a.discriminator(x), b.discriminator(x)))
    check(same, "safetensors round trip into a fresh model reproduces F(M[z]), G, E, D exactly")

    # Gradient flow of the G-step losses, in float64.
    torch.manual_seed(4)
    m = GRAPE(cfg).double()
    tr = Trainer(m, cfg)
    xd = x.double()
    gl = tr.g_losses(xd, y, z)
    groups = {n: list(getattr(m, n).parameters()) for n in G_SIDE_MODULES}

    def grad_norms(loss):
        out = {}
        for n, ps in groups.items():
            gs = torch.autograd.grad(loss, ps, retain_graph=True, allow_unused=True)
            out[n] = sum(0.0 if g is None else g.abs().sum().item() for g in gs)
        return out

    adv, cyc, sty = grad_norms(gl["adv"]), grad_norms(gl["cycle"]), grad_norms(gl["style"])
    check(adv["style_encoder"] == 0 and all(adv[n] > 0 for n in ("gene_embedding", "mapping_network", "generator")),
          "adversarial loss reaches M, F, G and not E")
    check(all(cyc[n] > 0 for n in G_SIDE_MODULES), "cycle loss reaches M, F, G and E")
    check(sty["style_encoder"] > 0 and all(sty[n] == 0 for n in ("gene_embedding", "mapping_network", "generator")),
          "style loss reaches E only")
    check(all(p.grad is None for p in m.discriminator.parameters()) and all(p.requires_grad for p in m.discriminator.parameters()),
          "G step leaves D without gradients and trainable afterwards")

    # R1 against a finite difference of D_y along a random direction, and the D-step gradient of
    # one weight against central differences of the D loss.
    d = m.discriminator
    xr = xd.clone().requires_grad_(True)
    _, gx = r1_penalty(select_head(d(xr), y), xr)
    v = torch.randn_like(xd)
    eps = 1e-6
    with torch.no_grad():
        fd = (select_head(d(xd + eps * v), y).sum() - select_head(d(xd - eps * v), y).sum()) / (2 * eps)
    check(abs(fd.item() - (gx * v).sum().item()) < 1e-6 * max(1.0, abs(fd.item())), "R1's input gradient matches finite differences")
    dl = tr.d_losses(xd, y, z)
    tr.d_backward(dl)
    ok = True
    for name in ("main.0.weight", "main.1.conv1.weight", f"main.{trunk_depth(cfg.img_size)[0] + 4}.bias"):
        p = dict(d.named_parameters())[name]
        g = p.grad.flatten()
        i = int(torch.argmax(g.abs()))
        orig = p.view(-1)[i].item()
        vals = []
        for sgn in (1, -1):
            with torch.no_grad():
                p.view(-1)[i] = orig + sgn * 1e-6
            vals.append(tr.d_losses(xd, y, z)["total"].item())
        with torch.no_grad():
            p.view(-1)[i] = orig
        num = (vals[0] - vals[1]) / 2e-6
        ok &= abs(num - g[i].item()) < 1e-5 * max(1.0, abs(num))
    check(ok, "D-step gradients (with R1's double backward) match central differences")

    # Adam and EMA against the hand formulas.
    before = {n: p.detach().clone() for n, p in d.named_parameters()}
    grads = {n: p.grad.detach().clone() for n, p in d.named_parameters()}
    tr.d_update()
    ok = True
    for n, p in d.named_parameters():
        g = grads[n] + cfg.weight_decay * before[n]
        v = (1 - cfg.beta2) * g * g
        vhat = v / (1 - cfg.beta2)
        expect = before[n] - cfg.lr * g / (vhat.sqrt() + 1e-8)
        ok &= torch.allclose(p.detach(), expect, rtol=0, atol=1e-12)
    check(ok, "first Adam step equals p - lr*(g + wd*p)/(|g + wd*p| + eps) with beta1 = 0")
    ema_before = {n: p.detach().clone() for n, p in tr.ema.generator.named_parameters()}
    with torch.no_grad():
        for p in m.generator.parameters():
            p.add_(0.01)
    tr.ema_update()
    ok = all(torch.allclose(p_e, 0.999 * ema_before[n] + 0.001 * p, atol=1e-12)
             for (n, p_e), p in zip(tr.ema.generator.named_parameters(), m.generator.parameters()))
    check(ok, "EMA equals 0.999 * ema + 0.001 * param")

    # Block shapes: decoder order and channel plan.
    gen = GRAPE(PRESETS["paper"]).generator
    plan = [(blk.conv1.in_channels, blk.conv2.out_channels, blk.upsample) for blk in gen.decode]
    check(plan == [(512, 512, False), (512, 512, False), (512, 256, True), (256, 128, True), (128, 64, True)],
          f"paper decoder order: 2 bottleneck blocks, then up-sampling 512->256->128->64 ({plan})")
    # The committed fixtures against the current code (float64, as they were made).
    fixtures = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "Tests", "GRAPETests", "Fixtures")
    wpath, iopath = os.path.join(fixtures, "tiny_weights.safetensors"), os.path.join(fixtures, "tiny_io.safetensors")
    if os.path.exists(wpath) and os.path.exists(iopath):
        with open(os.path.join(fixtures, "tiny_manifest.json")) as f:
            man = json.load(f)
        fcfg = replace(PRESETS["tiny"], num_genes=man["config"]["num_genes"])
        fm = GRAPE(fcfg)
        fm.load_state_dict(load_file(wpath), strict=True)
        fm = fm.double()
        io = {k: v.double() for k, v in load_file(iopath).items()}
        with torch.no_grad():
            zi = torch.tensor(man["cases"]["mapping"]["int_inputs"]["z"])
            outs = [(fm.generator(io["generator.x"], io["generator.s"]), io["generator.out"]),
                    (fm.style(zi), io["mapping.s"]),
                    (fm.style_encoder(io["style_encoder.x"]), io["style_encoder.out"]),
                    (fm.discriminator(io["discriminator.x"]), io["discriminator.out"])]
        ok = all((a - b).abs().max().item() < 1e-5 for a, b in outs)
        ftr = Trainer(fm, fcfg)
        st = man["steps"]["step"]
        dl = ftr.d_losses(io["step.x"], torch.tensor(st["y"]), torch.tensor(st["z"]))
        ok &= all(abs(dl[k].item() - man["losses"][f"step.d_step.loss.{k}"]) < 1e-9 for k in ("real", "fake", "r1", "total"))
        check(ok, "committed tiny fixtures match the current code (G, F(M[z]), E, D, D-step losses)")
    print(json.dumps({"selfcheck": "failed" if failures else "passed", "failures": failures}))
    if failures:
        sys.exit(1)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    sub = ap.add_subparsers(dest="cmd", required=True)
    p = sub.add_parser("names", help="state_dict names and shapes")
    p.add_argument("--preset", choices=PRESETS, default="tiny")
    p.add_argument("--genes", type=int)
    p.add_argument("--json", action="store_true")
    p.set_defaults(fn=cmd_names)
    p = sub.add_parser("params", help="parameter counts per module")
    p.add_argument("--preset", choices=PRESETS)
    p.add_argument("--genes", type=int)
    p.set_defaults(fn=cmd_params)
    p = sub.add_parser("flops", help="analytic FLOPs per iteration")
    p.add_argument("--preset", choices=PRESETS)
    p.add_argument("--genes", type=int)
    p.add_argument("--batch", type=int)
    p.add_argument("--measure", action="store_true", help="also count with torch.utils.flop_counter")
    p.set_defaults(fn=cmd_flops)
    p = sub.add_parser("bench", help="time full training iterations on random data")
    p.add_argument("--preset", choices=PRESETS, default="cpu")
    p.add_argument("--steps", type=int, default=20)
    p.add_argument("--warmup", type=int, default=2)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--genes", type=int)
    p.add_argument("--batch", type=int)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--abra", action="store_true", help="add ABRA to the G step, as grape train --abra")
    p.add_argument("--no-r1-ablation", dest="r1_ablation", action="store_false",
                   help="skip the extra D steps without R1 that measure R1's cost")
    p.set_defaults(fn=cmd_bench)
    p = sub.add_parser("selfcheck", help="check names, round trip, gradient flow, R1, Adam, EMA")
    p.set_defaults(fn=cmd_selfcheck)
    args = ap.parse_args(argv)
    args.fn(args)


if __name__ == "__main__":
    main()
