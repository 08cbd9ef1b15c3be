import NeuralNet
import TensorCore

/// How phase 1 moves K.
public enum ABRAAscent {
  /// Plain gradient ascent, K ← K + α·∇K L_adv (Eq. 12). Stateless, so a resumed run continues
  /// exactly.
  case gradient
  /// Adam with `maximize: true` over `abra.k_mu` and `abra.k_sigma` (moves each entry by about
  /// its learning rate per step, whatever the gradient's scale); its state must be saved by
  /// the caller.
  case adam(Adam)
}

/// The losses of phase 2, with their parts for logging.
public struct ABRARobustLoss {
  /// L_rob (Eq. 13), to be descended by the caller.
  public var total: Tensor
  /// Cross-entropy of the clean features.
  public var ceClean: Float
  /// Cross-entropy of the perturbed features.
  public var cePerturbed: Float
  /// ArcFace loss of the clean features (0 when unused).
  public var arcClean: Float
  /// ArcFace loss of the perturbed features (0 when unused).
  public var arcPerturbed: Float
  /// Jensen–Shannon divergence between clean and perturbed predictions (0 when unused).
  public var jensenShannon: Float
  /// The clean logits, detached (for accuracy).
  public var cleanLogits: Tensor
}

/// One min–max step of ABRA (Algorithm 1) around a perturbation layer, reusable by any network.
///
/// The network is split at the perturbation point: `features` are its activations there, and
/// `head` maps (clean or perturbed) features to the classifier's logits and the ArcFace
/// embedding.
///
/// 1. ``adversarialPhase(layer:features:noise:targets:arcWeight:head:)``: with the network
///    frozen (features detached, gradients taken with respect to K only), ascend K on
///    L_adv = λ·CE + (1 − λ)·Arc of the perturbed features (Eq. 10, Eq. 12).
/// 2. ``robustPhase(layer:features:noise:targets:arcWeight:head:)``: re-generate X_t with the
///    updated K (held fixed) and return L_rob = λ·CE + (1 − λ)·Arc over {X, X_t} plus
///    w_JS·JS(P‖Q) (Eq. 13) for the caller to descend.
///
/// Both phases use the same draw of ε by default (Algorithm 1 regenerates X_t "using updated K";
/// the noise that K was made worst-case for is kept), so phase 2 trains against exactly the
/// perturbation phase 1 found. Callers that want Eq. 9's fresh expectation draw a new
/// ``ABRALayer/Noise`` for phase 2.
///
/// Phase 1 must not update BatchNorm running statistics of layers inside `head`; callers with
/// such layers snapshot and restore them (``CellClassifier`` does).
public struct ABRAMinMaxStep {
  /// The objective.
  public var objective: ABRAObjective
  /// α of Eq. 12 (for `.gradient` ascent).
  public var stepSize: Float
  /// How K is moved.
  public var ascent: ABRAAscent

  /// A step with the given objective and ascent rule.
  public init(objective: ABRAObjective = ABRAObjective(), stepSize: Float, ascent: ABRAAscent = .gradient) {
    precondition(stepSize >= 0, "ABRAMinMaxStep: stepSize must be ≥ 0, got \(stepSize)")
    self.objective = objective
    self.stepSize = stepSize
    self.ascent = ascent
  }

  /// L_adv of the perturbed features for the current K, without changing anything.
  public func adversarialObjective(
    layer: ABRALayer, features: Tensor, noise: ABRALayer.Noise, targets: [Int], arcWeight: Tensor?, head: (Tensor) -> HeadOutput
  ) -> Float {
    withoutGradient {
      let xt = layer.perturbed(features.detached(), noise: noise, kMu: layer.kMu.value.detached(), kSigma: layer.kSigma.value.detached())
      return objective.classification(head(xt), arcWeight: arcWeight?.detached(), targets: targets).total.item
    }
  }

  /// Phase 1: ascends K on L_adv of the perturbed features; the network takes no gradient.
  ///
  /// - Parameters:
  ///   - layer: the perturbation layer whose K is updated.
  ///   - features: activations at the perturbation point (detached here).
  ///   - noise: ε for this step.
  ///   - targets: the class of each row.
  ///   - arcWeight: ArcFace class centres [K, d] (detached here); nil for `.ce`.
  ///   - head: features → logits and embedding.
  /// - Returns: L_adv before the update.
  @discardableResult
  public func adversarialPhase(
    layer: ABRALayer, features: Tensor, noise: ABRALayer.Noise, targets: [Int], arcWeight: Tensor?, head: (Tensor) -> HeadOutput
  ) -> Float {
    if !layer.kMu.isTrainable { layer.kMu.setTrainable(true) }
    if !layer.kSigma.isTrainable { layer.kSigma.setTrainable(true) }
    let kMu = layer.kMu.value
    let kSigma = layer.kSigma.value
    let xt = layer.perturbed(features.detached(), noise: noise, kMu: kMu, kSigma: kSigma)
    let adv = objective.classification(head(xt), arcWeight: arcWeight?.detached(), targets: targets).total
    // Data-parallel replicas ascend with the mean of their gradients (``GradientReduction``).
    let g = GradientReduction.reduce(gradients(of: adv, wrt: [kMu, kSigma]))
    switch ascent {
    case .gradient:
      layer.ascend(gradientMu: g[0], gradientSigma: g[1], stepSize: stepSize)
    case .adam(let adam):
      layer.kMu.grad = g[0]
      layer.kSigma.grad = g[1]
      adam.step()
      layer.clampK()
    }
    return adv.item
  }

  /// Phase 2: L_rob over the clean and the re-generated perturbed features, K held fixed.
  ///
  /// - Parameters:
  ///   - features: activations at the perturbation point, in the network's graph.
  ///   - noise: ε (the same draw as phase 1 unless the caller wants a fresh one).
  ///   - arcWeight: ArcFace class centres [K, d] in the graph (they are trained); nil for `.ce`.
  /// - Returns: the loss to descend and its parts.
  public func robustPhase(
    layer: ABRALayer, features: Tensor, noise: ABRALayer.Noise, targets: [Int], arcWeight: Tensor?, head: (Tensor) -> HeadOutput
  ) -> ABRARobustLoss {
    let xt = layer.perturbed(features, noise: noise, kMu: layer.kMu.value.detached(), kSigma: layer.kSigma.value.detached())
    let clean = head(features)
    let perturbed = head(xt)
    let c = objective.classification(clean, arcWeight: arcWeight, targets: targets)
    let p = objective.classification(perturbed, arcWeight: arcWeight, targets: targets)
    var total = (c.total + p.total) * 0.5
    var js: Float = 0
    if objective.terms.usesJensenShannon {
      let d = jensenShannon(logitsP: clean.logits, logitsQ: perturbed.logits)
      js = d.item
      if objective.jsWeight > 0 { total = total + d * objective.jsWeight }
    }
    return ABRARobustLoss(
      total: total, ceClean: c.ce.item, cePerturbed: p.ce.item, arcClean: c.arc?.item ?? 0, arcPerturbed: p.arc?.item ?? 0,
      jensenShannon: js, cleanLogits: clean.logits.detached())
  }
}
