import GrapeSupport
import TensorCore

/// Instance normalisation (`torch.nn.InstanceNorm2d`), with optional per-channel affine
/// parameters `weight` (ones) and `bias` (zeros). No running statistics.
public final class InstanceNorm2d: Module, UnaryLayer {
  /// [C] scale, when affine.
  public let weight: Parameter?
  /// [C] shift, when affine.
  public let bias: Parameter?
  /// Added to the variance.
  public let eps: Float

  /// Normalisation of `channels` channels.
  public init(_ channels: Int, affine: Bool = false, eps: Float = 1e-5) {
    weight = affine ? Parameter(Tensor.ones([channels])) : nil
    bias = affine ? Parameter(Tensor.zeros([channels])) : nil
    self.eps = eps
    super.init()
  }

  /// x: [N, C, H, W].
  public func callAsFunction(_ x: Tensor) -> Tensor {
    instanceNorm(x, weight: weight?.value, bias: bias?.value, eps: eps)
  }
}

/// Batch normalisation (`torch.nn.BatchNorm2d`): batch statistics in training (updating the
/// running mean and unbiased variance with `momentum`), running statistics in evaluation.
/// State names: `weight`, `bias`, `running_mean`, `running_var`, `num_batches_tracked`.
public final class BatchNorm2d: Module, UnaryLayer {
  /// [C] scale.
  public let weight: Parameter
  /// [C] shift.
  public let bias: Parameter
  /// [C] running mean.
  public let runningMean: Buffer
  /// [C] running unbiased variance.
  public let runningVar: Buffer
  /// Number of training batches seen (a scalar, as PyTorch's `num_batches_tracked`).
  public let numBatchesTracked: Buffer
  /// Weight of the newest batch in the running statistics.
  public let momentum: Float
  /// Added to the variance.
  public let eps: Float

  /// Normalisation of `channels` channels.
  public init(_ channels: Int, momentum: Float = 0.1, eps: Float = 1e-5) {
    weight = Parameter(Tensor.ones([channels]))
    bias = Parameter(Tensor.zeros([channels]))
    runningMean = Buffer(Tensor.zeros([channels]))
    runningVar = Buffer(Tensor.ones([channels]))
    numBatchesTracked = Buffer(Tensor(0))
    self.momentum = momentum
    self.eps = eps
    super.init()
  }

  /// x: [N, C, H, W] or [N, C].
  public func callAsFunction(_ x: Tensor) -> Tensor {
    var stats = BatchNormStatistics(mean: runningMean.value, variance: runningVar.value)
    let y = batchNorm(x, weight: weight.value, bias: bias.value, running: &stats, training: isTraining, momentum: momentum, eps: eps)
    if isTraining {
      runningMean.value = stats.mean
      runningVar.value = stats.variance
      numBatchesTracked.value = Tensor(numBatchesTracked.value.item + 1)
    }
    return y
  }

  /// Recomputes the running statistics from `x` alone (AdaBN test-time adaptation).
  public func adapt(to x: Tensor) {
    let axes = x.rank == 4 ? [0, 2, 3] : [0]
    let n = x.count / x.shape[1]
    withoutGradient {
      runningMean.value = x.mean(axes: axes).detached()
      runningVar.value = (x.variance(axes: axes) * (Float(n) / Float(max(n - 1, 1)))).detached()
    }
  }
}

/// Adaptive instance normalisation (StarGAN v2's AdaIN): `fc(s)` gives (γ, β), γ first;
/// out = (1 + γ)·IN(x) + β with non-affine instance norm (eps 1e-5).
public final class AdaIN: Module {
  /// style_dim → 2·C.
  public let fc: Linear
  /// Number of feature channels.
  public let channels: Int

  /// AdaIN for `channels` feature channels driven by a `styleDim` style code.
  public init(styleDim: Int, channels: Int, rng: inout RandomGenerator) {
    fc = Linear(styleDim, 2 * channels, rng: &rng)
    self.channels = channels
    super.init()
  }

  /// x: [N, C, H, W], s: [N, style_dim].
  public func callAsFunction(_ x: Tensor, style s: Tensor) -> Tensor {
    let h = fc(s).reshaped([s.shape[0], 2 * channels, 1, 1])
    let gamma = h.slice(axis: 1, 0..<channels)
    let beta = h.slice(axis: 1, channels..<(2 * channels))
    return (1 + gamma) * instanceNorm(x) + beta
  }
}
