import GrapeSupport
import NeuralNet
import TensorCore

/// The batch-statistic perturbation layer of ABRA (arXiv:2603.05622, §3.3, Eqs. 7–8).
///
/// For a plate-consistent mini-batch X [N, C, H, W] (or [N, C]) it takes the batch-wise channel
/// statistics over (N, H, W) (Eq. 1, biased variance) and re-synthesises the features with
/// perturbed statistics:
///
/// ```
/// μ_c = mean_{n,h,w} X,   σ_c = √(var_{n,h,w} X + eps)
/// σ_t = σ_c + ε_σ·K_σ,    μ_t = μ_c + ε_μ·K_μ,       ε_μ, ε_σ ~ N(0, I) per channel
/// X_t = σ_t · (X − μ_c)/σ_c + μ_t
/// ```
///
/// K_μ and K_σ (`k_mu`, `k_sigma`, [1, C, 1, 1]) are learnable and shared across batches; they
/// are *ascended* on the adversarial objective (see ``ABRAMinMaxStep``), never descended with
/// the network. The statistics are not detached: gradients flow through μ_c and σ_c, as in DSU.
/// In evaluation mode the layer is the identity.
///
/// **Several plates in one mini-batch (`groups`, an addition).** With `groups` = G > 1 the
/// mini-batch is G plate-consistent groups of N/G cells, one after another (what
/// ``GroupedSampler`` draws); the statistics of Eq. 1 and the noise ε are then taken for each
/// group on its own, so every group is perturbed around its own plate's statistics as Eq. 7
/// has it, while the rest of the network (its BatchNorm layers) sees a mini-batch of several
/// plates, as at inference. G = 1 is the paper's layer.
///
/// **Initial value of K: 0.1 for every channel.** The paper does not state one. Zero would make
/// the ε-averaged gradient of the adversarial objective vanish at the start (E[ε] = 0, so the
/// first-order term cancels and K would only grow through curvature); 0.1 is a perturbation of
/// about a tenth of a unit-variance feature, small against the statistics of a trained network
/// but large enough for phase 1 to find a direction from the first step.
///
/// **Stability (a deviation from the paper).** Nothing in Eq. 7 keeps σ_t positive; with
/// ε_σ·K_σ < −σ_c the channel's contrast would invert, which no batch effect does. The layer
/// therefore uses σ_t = max(σ_c + ε_σ·K_σ, `minScaleRatio`·σ_c) (default ratio 0.1). Optionally
/// (`maxMagnitude`) |K| is clamped after every ascent step; off by default (the paper has no
/// bound).
public final class ABRALayer: Module {
  /// K_μ, [1, C, 1, 1]: the magnitude and direction of the mean uncertainty.
  public let kMu: Parameter
  /// K_σ, [1, C, 1, 1]: the magnitude and direction of the standard-deviation uncertainty.
  public let kSigma: Parameter
  /// Number of channels C.
  public let channels: Int
  /// Added to the variance before the square root.
  public let varianceEpsilon: Float
  /// σ_t is kept at or above this fraction of σ_c.
  public let minScaleRatio: Float
  /// When set, |K| is clamped to this value after every update.
  public let maxMagnitude: Float?
  /// Plate-consistent groups per mini-batch, each with its own statistics and noise (1: the paper's).
  public let groups: Int

  /// One draw of the per-channel noise ε_μ, ε_σ, each [C] (or [G, C], one row per group).
  public struct Noise: Sendable {
    /// ε_μ, [C] or [G, C].
    public var mu: Tensor
    /// ε_σ, [C] or [G, C].
    public var sigma: Tensor

    /// Noise with the given values (tests, reproductions).
    public init(mu: Tensor, sigma: Tensor) {
      precondition(
        (mu.rank == 1 || mu.rank == 2) && mu.shape == sigma.shape,
        "ABRALayer.Noise: needs two [C] or [G, C] tensors, got \(mu.shape) and \(sigma.shape)")
      self.mu = mu.detached()
      self.sigma = sigma.detached()
    }
  }

  /// A layer for `channels` feature channels.
  ///
  /// - Parameters:
  ///   - channels: C.
  ///   - initialK: the starting value of every entry of K_μ and K_σ (0.1; see the type's notes).
  ///   - varianceEpsilon: added to the batch variance (1e-6, as DSU).
  ///   - minScaleRatio: lower bound of σ_t as a fraction of σ_c (0.1).
  ///   - maxMagnitude: optional bound on |K| after each update (none).
  ///   - groups: plate-consistent groups per mini-batch (1, the paper's; see the type's notes).
  public init(
    channels: Int, initialK: Float = 0.1, varianceEpsilon: Float = 1e-6, minScaleRatio: Float = 0.1, maxMagnitude: Float? = nil, groups: Int = 1
  ) {
    precondition(channels > 0, "ABRALayer: channels must be positive, got \(channels)")
    precondition(groups >= 1, "ABRALayer: groups must be at least 1, got \(groups)")
    precondition(minScaleRatio >= 0 && minScaleRatio < 1, "ABRALayer: minScaleRatio must lie in [0, 1), got \(minScaleRatio)")
    precondition(maxMagnitude.map { $0 > 0 } ?? true, "ABRALayer: maxMagnitude must be positive")
    kMu = Parameter(Tensor.full([1, channels, 1, 1], initialK))
    kSigma = Parameter(Tensor.full([1, channels, 1, 1], initialK))
    self.channels = channels
    self.varianceEpsilon = varianceEpsilon
    self.minScaleRatio = minScaleRatio
    self.maxMagnitude = maxMagnitude
    self.groups = groups
    super.init()
  }

  /// Draws ε_μ and ε_σ ~ N(0, I), one value per channel (ε_μ first); with several groups, one
  /// row of values per group.
  public func drawNoise(using rng: inout RandomGenerator) -> Noise {
    let shape = groups == 1 ? [channels] : [groups, channels]
    let mu = Tensor.randn(shape, using: &rng)
    let sigma = Tensor.randn(shape, using: &rng)
    return Noise(mu: mu, sigma: sigma)
  }

  /// The layer with freshly drawn noise: X_t in training mode, X in evaluation mode.
  public func callAsFunction(_ x: Tensor, rng: inout RandomGenerator) -> Tensor {
    guard isTraining else { return x }
    return self(x, noise: drawNoise(using: &rng))
  }

  /// The layer with the given noise: X_t in training mode, X in evaluation mode. Gradients
  /// reach X, and K while K is trainable.
  public func callAsFunction(_ x: Tensor, noise: Noise) -> Tensor {
    guard isTraining else { return x }
    return perturbed(x, noise: noise, kMu: kMu.value, kSigma: kSigma.value)
  }

  /// X_t for explicit K values (pass `kMu.value.detached()` to keep K out of a graph).
  ///
  /// - Parameters:
  ///   - x: [N, C, H, W] or [N, C], with more than one value per channel in each group; N a
  ///     multiple of ``groups``.
  ///   - noise: ε_μ, ε_σ, each [C], or [G, C] for one draw per group.
  ///   - kMu, kSigma: [1, C, 1, 1].
  public func perturbed(_ x: Tensor, noise: Noise, kMu: Tensor, kSigma: Tensor) -> Tensor {
    precondition(x.rank == 2 || x.rank == 4, "ABRALayer: needs [N, C, H, W] or [N, C], got \(x.shape)")
    precondition(x.shape[1] == channels, "ABRALayer: built for \(channels) channels, input has \(x.shape[1])")
    precondition(noise.mu.count % channels == 0, "ABRALayer: noise has \(noise.mu.count) values for \(channels) channels")
    let noiseGroups = noise.mu.count / channels
    precondition(noiseGroups == 1 || noiseGroups == groups, "ABRALayer: noise for \(noiseGroups) groups, layer has \(groups)")
    precondition(x.shape[0] % groups == 0, "ABRALayer: \(x.shape[0]) samples do not split into \(groups) groups")
    precondition(x.count / (channels * groups) > 1, "ABRALayer: batch statistics need more than one value per channel and group, got \(x.shape)")
    // The mini-batch as [G, N/G, C, positions]: Eq. 1's statistics over axes 1 and 3, per group.
    let grouped = x.reshaped([groups, x.shape[0] / groups, channels, x.count / (x.shape[0] * channels)])
    let (mu, sigma) = ABRALayer.statistics(grouped, varianceEpsilon: varianceEpsilon)
    let perChannel = [1, 1, channels, 1]
    let noiseShape = [noiseGroups, 1, channels, 1]
    let km = kMu.reshaped(perChannel)
    let ks = kSigma.reshaped(perChannel)
    let muT = mu + noise.mu.reshaped(noiseShape) * km
    var sigmaT = sigma + noise.sigma.reshaped(noiseShape) * ks
    if minScaleRatio > 0 { sigmaT = maximum(sigmaT, sigma * minScaleRatio) }
    return ((grouped - mu) / sigma * sigmaT + muT).reshaped(x.shape)
  }

  /// Channel mean and standard deviation √(var + eps) of each group of `x` [G, n, C, S] over its
  /// n samples and S positions (Eq. 1; G = 1 for one plate-consistent mini-batch), kept as
  /// [G, 1, C, 1].
  public static func statistics(_ x: Tensor, varianceEpsilon: Float = 1e-6) -> (mean: Tensor, std: Tensor) {
    precondition(x.rank == 4, "ABRALayer.statistics: needs [G, n, C, S], got \(x.shape)")
    let mu = x.mean(axes: [1, 3], keepDims: true)
    let variance = (x - mu).square().mean(axes: [1, 3], keepDims: true)
    return (mu, (variance + varianceEpsilon).sqrt())
  }

  /// Gradient ascent on K (Eq. 12): K ← K + α·∇K, then the optional |K| clamp.
  public func ascend(gradientMu: Tensor, gradientSigma: Tensor, stepSize: Float) {
    precondition(gradientMu.shape == kMu.shape && gradientSigma.shape == kSigma.shape, "ABRALayer.ascend: gradients \(gradientMu.shape), \(gradientSigma.shape) for K \(kMu.shape)")
    withoutGradient {
      kMu.assign(kMu.value.detached() + gradientMu.detached() * stepSize)
      kSigma.assign(kSigma.value.detached() + gradientSigma.detached() * stepSize)
    }
    clampK()
  }

  /// Applies the optional |K| bound (after an optimiser updated K).
  public func clampK() {
    guard let bound = maxMagnitude else { return }
    withoutGradient {
      kMu.assign(kMu.value.detached().clamped(-bound, bound))
      kSigma.assign(kSigma.value.detached().clamped(-bound, bound))
    }
  }

  /// Mean |K_μ| and mean |K_σ| (for logs).
  public var meanMagnitudes: (mu: Float, sigma: Float) {
    withoutGradient { (kMu.value.abs().mean().item, kSigma.value.abs().mean().item) }
  }
}
