// Instance and batch normalisation, composed of differentiable primitives.

/// Instance normalisation of x [N, C, H, W]: each (n, c) plane to zero mean and unit variance
/// (biased variance, as PyTorch), then `weight[c] · x̂ + bias[c]` when affine parameters are given.
///
/// ```
/// x̂ = (x − mean_hw(x)) / √(var_hw(x) + eps)
/// ```
public func instanceNorm(_ x: Tensor, weight: Tensor? = nil, bias: Tensor? = nil, eps: Float = 1e-5) -> Tensor {
  precondition(x.rank == 4, "instanceNorm: needs [N, C, H, W], got \(x.shape)")
  var y = normalizePlanes(x, planes: x.shape[0] * x.shape[1], eps: eps)
  let c = x.shape[1]
  if let weight { y = y * weight.reshaped([1, c, 1, 1]) }
  if let bias { y = y + bias.reshaped([1, c, 1, 1]) }
  return y
}

/// Each of the `planes` contiguous blocks of x normalised to zero mean and unit variance, in one
/// fused kernel. Its backward is the fused closed form; when gradients are recorded for a second
/// derivative it is the same formula written with differentiable ops.
func normalizePlanes(_ x: Tensor, planes: Int, eps: Float) -> Tensor {
  let size = x.count / max(planes, 1)
  let y = Tensor(uninitializedShape: x.shape)
  let rstd = Tensor(uninitializedShape: [planes])
  backend.planeNormalize(x.storage, planes: planes, size: size, eps: eps, into: y.storage, rstd: rstd.storage)
  let normalized = y.detached()
  return y.recording([x]) { g, _ in
    if GradMode.isEnabled {
      // Differentiable form: recompute x̂ and rstd from x.
      let v = x.reshaped([planes, size])
      let mu = v.mean(axes: [1], keepDims: true)
      let centered = v - mu
      let r = (centered.square().mean(axes: [1], keepDims: true) + eps).rsqrt()
      let xhat = centered * r
      let gv = g.reshaped([planes, size])
      let gx = r * (gv - gv.mean(axes: [1], keepDims: true) - xhat * (gv * xhat).mean(axes: [1], keepDims: true))
      return [gx.reshaped(x.shape)]
    }
    let gx = Tensor(uninitializedShape: x.shape)
    backend.planeNormalizeBackward(g.storage, normalized: normalized.storage, rstd: rstd.storage, planes: planes, size: size, into: gx.storage)
    return [gx]
  }
}

/// Running statistics of a batch-norm layer.
public struct BatchNormStatistics: Sendable {
  /// Running mean per channel.
  public var mean: Tensor
  /// Running (unbiased) variance per channel.
  public var variance: Tensor

  /// Fresh statistics: mean 0, variance 1.
  public init(channels: Int) {
    mean = Tensor.zeros([channels])
    variance = Tensor.ones([channels])
  }

  public init(mean: Tensor, variance: Tensor) {
    self.mean = mean
    self.variance = variance
  }
}

/// Batch normalisation of x [N, C, H, W] (or [N, C]).
///
/// In training, normalises with the batch's biased statistics over all axes but C and updates
/// `running` as PyTorch does (`running = (1 − momentum)·running + momentum·batch`, with the
/// unbiased batch variance). In evaluation, normalises with `running`.
public func batchNorm(
  _ x: Tensor, weight: Tensor?, bias: Tensor?, running: inout BatchNormStatistics,
  training: Bool, momentum: Float = 0.1, eps: Float = 1e-5
) -> Tensor {
  precondition(x.rank == 2 || x.rank == 4, "batchNorm: needs [N, C] or [N, C, H, W], got \(x.shape)")
  let c = x.shape[1]
  let axes = x.rank == 4 ? [0, 2, 3] : [0]
  let bshape = x.rank == 4 ? [1, c, 1, 1] : [1, c]
  var y: Tensor
  if training {
    let n = x.count / c
    precondition(n > 1, "batchNorm: training needs more than one value per channel, got \(x.shape)")
    let mu = x.mean(axes: axes, keepDims: true)
    let centered = x - mu
    let variance = centered.square().mean(axes: axes, keepDims: true)
    y = centered * (variance + eps).rsqrt()
    withoutGradient {
      let m = mu.detached().reshaped([c])
      let v = variance.detached().reshaped([c]) * (Float(n) / Float(n - 1))
      running.mean = running.mean * (1 - momentum) + m * momentum
      running.variance = running.variance * (1 - momentum) + v * momentum
    }
  } else {
    let scale = (running.variance + eps).rsqrt().reshaped(bshape)
    y = (x - running.mean.reshaped(bshape)) * scale
  }
  if let weight { y = y * weight.reshaped(bshape) }
  if let bias { y = y + bias.reshaped(bshape) }
  return y
}
