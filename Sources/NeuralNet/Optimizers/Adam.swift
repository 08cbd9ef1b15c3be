import GrapeSupport
import TensorCore

/// Adam (Kingma and Ba, 2015) with PyTorch's semantics (`torch.optim.Adam`, amsgrad off):
///
/// ```
/// g ← −g if maximising;  g ← g + weight_decay·θ      (L2 added to the gradient)
/// m ← β₁·m + (1 − β₁)·g;  v ← β₂·v + (1 − β₂)·g²;  t ← t + 1
/// θ ← θ − lr/(1 − β₁ᵗ) · m / (√v / √(1 − β₂ᵗ) + eps)
/// ```
///
/// Parameters come in groups with their own learning rate and weight decay; state is kept by
/// parameter name so it can be saved and restored (``state()``, ``load(state:)``).
public final class Adam {
  /// Parameters sharing hyperparameters.
  public struct Group {
    /// Named parameters of the group.
    public var parameters: [(String, Parameter)]
    /// Learning rate.
    public var learningRate: Float
    /// L2 penalty added to the gradient.
    public var weightDecay: Float

    public init(parameters: [(String, Parameter)], learningRate: Float, weightDecay: Float = 0) {
      self.parameters = parameters
      self.learningRate = learningRate
      self.weightDecay = weightDecay
    }
  }

  /// The groups.
  public var groups: [Group]
  /// (β₁, β₂).
  public let betas: (Float, Float)
  /// Added to the denominator.
  public let eps: Float
  /// Ascend instead of descend (adversarial parameters).
  public let maximize: Bool

  private var firstMoment: [String: Tensor] = [:]
  private var secondMoment: [String: Tensor] = [:]
  private var steps: [String: Int] = [:]

  /// An optimiser over one group.
  public convenience init(
    parameters: [(String, Parameter)], learningRate: Float = 1e-3, betas: (Float, Float) = (0.9, 0.999),
    eps: Float = 1e-8, weightDecay: Float = 0, maximize: Bool = false
  ) {
    self.init(groups: [Group(parameters: parameters, learningRate: learningRate, weightDecay: weightDecay)], betas: betas, eps: eps, maximize: maximize)
  }

  /// An optimiser over several groups.
  public init(groups: [Group], betas: (Float, Float) = (0.9, 0.999), eps: Float = 1e-8, maximize: Bool = false) {
    precondition(betas.0 >= 0 && betas.0 < 1 && betas.1 >= 0 && betas.1 < 1, "Adam: betas must lie in [0, 1), got \(betas)")
    precondition(eps >= 0, "Adam: eps must be non-negative")
    for g in groups { precondition(g.learningRate >= 0 && g.weightDecay >= 0, "Adam: negative learning rate or weight decay") }
    let names = groups.flatMap { $0.parameters.map(\.0) }
    precondition(Set(names).count == names.count, "Adam: a parameter name appears twice")
    self.groups = groups
    self.betas = betas
    self.eps = eps
    self.maximize = maximize
  }

  /// Applies one update to every parameter that has a gradient, then clears the gradients.
  public func step() {
    // Data-parallel replicas update with the mean of their gradients (``GradientReduction``).
    if GradientReduction.isActive { GradientReduction.reduce(groups.flatMap { $0.parameters.map(\.1) }) }
    for group in groups {
      for (name, p) in group.parameters {
        guard let g = p.grad else { continue }
        update(name: name, parameter: p, gradient: g, lr: group.learningRate, weightDecay: group.weightDecay)
        p.grad = nil
      }
    }
  }

  /// The per-parameter rule.
  private func update(name: String, parameter p: Parameter, gradient: Tensor, lr: Float, weightDecay: Float) {
    precondition(gradient.shape == p.shape, "Adam: gradient \(gradient.shape) for \(name) \(p.shape)")
    let n = p.value.count
    let m = firstMoment[name] ?? Tensor.zeros(p.shape)
    let v = secondMoment[name] ?? Tensor.zeros(p.shape)
    let t = (steps[name] ?? 0) + 1
    let (b1, b2) = betas
    let bc1 = 1 - Float(pow(Double(b1), Double(t)))
    let bc2Sqrt = Float((1 - pow(Double(b2), Double(t))).squareRoot())
    let settings = AdamUpdate(
      beta1: b1, beta2: b2, gradientSign: maximize ? -1 : 1, weightDecay: weightDecay, stepSize: lr / bc1,
      secondMomentCorrectionRoot: bc2Sqrt, eps: eps)
    let out = Tensor(uninitializedShape: p.shape)
    Backends.current.adamUpdate(p.value.storage, gradient: gradient.storage, m: m.storage, v: v.storage, count: n, settings, into: out.storage)
    firstMoment[name] = m
    secondMoment[name] = v
    steps[name] = t
    p.assign(out)
  }

  /// The optimiser state as named tensors: `NAME.exp_avg`, `NAME.exp_avg_sq`, `NAME.step`.
  public func state() -> [String: Tensor] {
    var out: [String: Tensor] = [:]
    for (name, t) in steps {
      out["\(name).step"] = Tensor(Float(t))
      if let m = firstMoment[name] { out["\(name).exp_avg"] = m.copy() }
      if let v = secondMoment[name] { out["\(name).exp_avg_sq"] = v.copy() }
    }
    return out
  }

  /// Restores state written by ``state()``; entries of parameters not in this optimiser are
  /// ignored, and parameters without entries start fresh.
  public func load(state: [String: Tensor]) throws {
    for group in groups {
      for (name, p) in group.parameters {
        guard let s = state["\(name).step"] else { continue }
        guard let m = state["\(name).exp_avg"], let v = state["\(name).exp_avg_sq"], m.shape == p.shape, v.shape == p.shape else {
          throw StateDictError.mismatch(LoadReport(missing: ["\(name).exp_avg"], unexpected: [], mismatched: []))
        }
        steps[name] = Int(s.item)
        firstMoment[name] = m.copy()
        secondMoment[name] = v.copy()
      }
    }
  }

  /// Number of updates applied to the named parameter.
  public func stepCount(of name: String) -> Int { steps[name] ?? 0 }
}

#if canImport(Glibc)
  import Glibc
#endif
