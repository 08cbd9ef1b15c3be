import GrapeSupport
import NeuralNet
import TensorCore

/// Per-instance channel statistics over (H, W) (Eq. 4), kept as [N, C, 1, 1]: the mean and
/// √(var + eps) with the biased variance.
public func instanceStatistics(_ x: Tensor, varianceEpsilon: Float = 1e-6) -> (mean: Tensor, std: Tensor) {
  precondition(x.rank == 4, "instanceStatistics: needs [N, C, H, W], got \(x.shape)")
  let mu = x.mean(axes: [2, 3], keepDims: true)
  let variance = (x - mu).square().mean(axes: [2, 3], keepDims: true)
  return (mu, (variance + varianceEpsilon).sqrt())
}

/// DSU, "Uncertainty Modeling for Out-of-Distribution Generalization" (Li et al., ICLR 2022).
///
/// Per-instance channel statistics μ, σ [N, C] are treated as random: their uncertainty is the
/// standard deviation of each statistic across the mini-batch,
/// Σ_μ = √(var_n μ + eps), Σ_σ = √(var_n σ + eps) (unbiased variance over n, as the reference
/// code's `x.var(dim=0)`), and the features are re-synthesised with resampled statistics
///
/// ```
/// β = μ + ε_μ·Σ_μ,  γ = σ + ε_σ·Σ_σ,  ε ~ N(0, I) [N, C]
/// out = γ·(x − μ)/σ + β
/// ```
///
/// applied with probability p = 0.5 per forward pass in training (identity otherwise and in
/// evaluation). eps = 1e-6 as the reference implementation; gradients flow through the
/// statistics, as there.
public final class DSULayer: Module {
  /// Probability of perturbing a forward pass.
  public let probability: Float
  /// Added to variances before square roots.
  public let epsilon: Float

  /// A DSU layer; defaults p = 0.5, eps = 1e-6.
  public init(probability: Float = 0.5, epsilon: Float = 1e-6) {
    precondition(probability >= 0 && probability <= 1, "DSULayer: probability must lie in [0, 1], got \(probability)")
    self.probability = probability
    self.epsilon = epsilon
    super.init()
  }

  /// x: [N, C, H, W]. Draws the coin (one uniform) and, when it perturbs, ε_μ then ε_σ.
  public func callAsFunction(_ x: Tensor, rng: inout RandomGenerator) -> Tensor {
    guard isTraining else { return x }
    guard Float(rng.uniform()) < probability else { return x }
    let n = x.shape[0]
    let c = x.shape[1]
    let epsMu = Tensor.randn([n, c], using: &rng)
    let epsSigma = Tensor.randn([n, c], using: &rng)
    return perturbed(x, noiseMu: epsMu, noiseSigma: epsSigma)
  }

  /// The perturbation with given noise ε_μ, ε_σ [N, C] (always applied).
  public func perturbed(_ x: Tensor, noiseMu: Tensor, noiseSigma: Tensor) -> Tensor {
    precondition(x.rank == 4 && x.shape[0] > 1, "DSULayer: needs [N, C, H, W] with N > 1, got \(x.shape)")
    let n = x.shape[0]
    let c = x.shape[1]
    precondition(noiseMu.shape == [n, c] && noiseSigma.shape == [n, c], "DSULayer: noise must be [\(n), \(c)]")
    let (mu, sigma) = instanceStatistics(x, varianceEpsilon: epsilon)
    let mu2 = mu.reshaped([n, c])
    let sigma2 = sigma.reshaped([n, c])
    let sqrtvarMu = (mu2.variance(axes: [0], keepDims: true, unbiased: true) + epsilon).sqrt()
    let sqrtvarSigma = (sigma2.variance(axes: [0], keepDims: true, unbiased: true) + epsilon).sqrt()
    let beta = (mu2 + noiseMu.detached() * sqrtvarMu).reshaped([n, c, 1, 1])
    let gamma = (sigma2 + noiseSigma.detached() * sqrtvarSigma).reshaped([n, c, 1, 1])
    return (x - mu) / sigma * gamma + beta
  }
}

/// AdvStyle's adversarial statistics augmentation (Zhong et al., ECCV 2022), as Eq. 5 of the
/// ABRA paper writes it for features:
///
/// ```
/// X_t = (σ_{n,c} + Σ_σ)·(X − μ_{n,c})/σ_{n,c} + (μ_{n,c} + Σ_μ),   Σ_μ, Σ_σ ∈ ℝ^{N×C}
/// ```
///
/// The paper places a gradient reversal layer (GRL) between Σ and the network: Σ starts at 0
/// each batch and the reversed gradient makes the optimiser *ascend* Σ while it descends θ. A
/// single backward pass would use Σ = 0 in its own forward pass, so the two-pass equivalent is
/// used: pass 1 takes ∇_Σ of the summed cross-entropy at Σ = 0 with the network frozen and sets
/// Σ = α·∇_Σ (one ascent step, as one SGD step of the GRL'd parameter from 0 with learning rate
/// α, per instance because the loss is summed rather than averaged); pass 2 trains θ on the
/// clean and the perturbed features with Σ fixed.
///
/// As for ``ABRALayer``, σ + Σ_σ is floored at 0.1·σ (a deviation that keeps the channel's
/// contrast from inverting).
public enum AdvStyle {
  /// Eq. 5 with given shifts Σ_μ, Σ_σ [N, C].
  public static func perturbed(_ x: Tensor, shiftMu: Tensor, shiftSigma: Tensor, varianceEpsilon: Float = 1e-6, minScaleRatio: Float = 0.1) -> Tensor {
    precondition(x.rank == 4, "AdvStyle: needs [N, C, H, W], got \(x.shape)")
    let n = x.shape[0]
    let c = x.shape[1]
    precondition(shiftMu.shape == [n, c] && shiftSigma.shape == [n, c], "AdvStyle: shifts must be [\(n), \(c)], got \(shiftMu.shape), \(shiftSigma.shape)")
    let (mu, sigma) = instanceStatistics(x, varianceEpsilon: varianceEpsilon)
    var sigmaT = sigma + shiftSigma.reshaped([n, c, 1, 1])
    if minScaleRatio > 0 { sigmaT = maximum(sigmaT, sigma * minScaleRatio) }
    return (x - mu) / sigma * sigmaT + (mu + shiftMu.reshaped([n, c, 1, 1]))
  }

  /// Pass 1: the adversarial shifts Σ = α·∇_Σ Σ_n CE at Σ = 0, with the network frozen.
  ///
  /// - Parameters:
  ///   - features: activations at the perturbation point (detached here).
  ///   - targets: the class of each row.
  ///   - stepSize: α.
  ///   - logits: features → classifier logits.
  /// - Returns: Σ_μ and Σ_σ, [N, C], constants.
  public static func adversarialShifts(features: Tensor, targets: [Int], stepSize: Float, logits: (Tensor) -> Tensor) -> (mu: Tensor, sigma: Tensor) {
    let n = features.shape[0]
    let c = features.shape[1]
    let shiftMu = Tensor.zeros([n, c]).requiringGrad()
    let shiftSigma = Tensor.zeros([n, c]).requiringGrad()
    let xt = perturbed(features.detached(), shiftMu: shiftMu, shiftSigma: shiftSigma)
    let loss = crossEntropy(logits: logits(xt), targets: targets) * Float(n)
    let g = gradients(of: loss, wrt: [shiftMu, shiftSigma])
    return ((g[0] * stepSize).detached(), (g[1] * stepSize).detached())
  }
}
