import GrapeSupport
import Foundation

/// How K is ascended (`abra_ascent`): the paper's plain gradient step or a maximising Adam.
public enum ABRAAscentRule: String, ConfigChoice {
  /// K ← K + α·∇K L_adv (Eq. 12).
  case gradient
  /// Adam with `maximize: true`, learning rate α.
  case adam
}

/// ABRA's settings, one value for every trainer that uses it (the GRAPE style encoder and the
/// perturbation classifier). Each configuration stores them as its `abra_*` keys and builds this
/// value from them, so both are checked by the one ``validate()`` and turned into an objective
/// by the one ``objective``.
public struct ABRASettings: Equatable, Sendable {
  /// λ of the hybrid loss λ·CE + (1 − λ)·ArcFace (`abra_lambda`).
  public var lambda: Float
  /// ArcFace margin m in radians (`abra_margin`).
  public var margin: Float
  /// ArcFace scale s (`abra_scale`).
  public var scale: Float
  /// The loss terms (`abra_terms`).
  public var terms: ABRALossTerms
  /// Weight of the Jensen–Shannon term (`abra_js_weight`).
  public var jsWeight: Float
  /// Step size α of the ascent on K (`abra_step_size`).
  public var stepSize: Float
  /// How K is ascended (`abra_ascent`).
  public var ascent: ABRAAscentRule
  /// Initial value of K (`abra_initial_k`).
  public var initialK: Float
  /// Optional bound on |K| (`abra_max_k`).
  public var maxK: Float?
  /// Weight of L_rob where ABRA is one term among others (`abra_weight`, GRAPE's G step).
  public var weight: Float

  /// Settings with every field given.
  public init(
    lambda: Float, margin: Float, scale: Float, terms: ABRALossTerms = .ceArcJS, jsWeight: Float, stepSize: Float,
    ascent: ABRAAscentRule = .gradient, initialK: Float = 0.1, maxK: Float? = nil, weight: Float = 1
  ) {
    self.lambda = lambda
    self.margin = margin
    self.scale = scale
    self.terms = terms
    self.jsWeight = jsWeight
    self.stepSize = stepSize
    self.ascent = ascent
    self.initialK = initialK
    self.maxK = maxK
    self.weight = weight
  }

  /// The objective these settings describe: the JS term takes part when `terms` has it and its
  /// weight is positive.
  public var objective: ABRAObjective {
    let used: ABRALossTerms = terms == .ceArcJS && jsWeight == 0 ? .ceArc : terms
    return ABRAObjective(lambda: lambda, margin: ArcFaceMargin(margin: margin, scale: scale), terms: used, jsWeight: jsWeight)
  }

  /// Checks every range; the message names the `abra_*` key at fault.
  public func validate() throws {
    func fail(_ s: String) -> ABRAError { .invalidConfig(s) }
    guard lambda >= 0, lambda <= 1 else { throw fail("abra_lambda must lie in [0, 1], got \(lambda)") }
    guard margin >= 0, margin < Float.pi / 2 else { throw fail("abra_margin must lie in [0, π/2), got \(margin)") }
    guard scale > 0 else { throw fail("abra_scale must be positive, got \(scale)") }
    guard jsWeight >= 0, stepSize >= 0, weight >= 0 else { throw fail("abra_js_weight, abra_step_size and abra_weight must be ≥ 0") }
    guard initialK.isFinite else { throw fail("abra_initial_k must be finite, got \(initialK)") }
    guard maxK.map({ $0 > 0 }) ?? true else { throw fail("abra_max_k must be positive when given") }
  }
}
