import GrapeSupport
import TensorCore

/// Which terms ABRA's objectives use: the paper's ablation (Fig. 6).
///
/// - `ce`: L_adv = CE(X_t); L_rob = CE over {X, X_t}.
/// - `ceArc`: L_adv = λ·CE + (1 − λ)·Arc of X_t (Eq. 10); L_rob the same over {X, X_t}.
/// - `ceArcJS`: as `ceArc`, plus the Jensen–Shannon alignment in L_rob (Eq. 13); the method.
public enum ABRALossTerms: String, ConfigChoice {
  case ce = "ce"
  case ceArc = "ce_arc"
  case ceArcJS = "ce_arc_js"

  /// Whether the ArcFace term takes part.
  public var usesArcFace: Bool { self != .ce }
  /// Whether the Jensen–Shannon term takes part.
  public var usesJensenShannon: Bool { self == .ceArcJS }
}

/// What a classifier head gives for features at the perturbation point.
public struct HeadOutput {
  /// Logits of the linear (cross-entropy) classifier, [N, K].
  public var logits: Tensor
  /// The embedding the ArcFace head compares with its class centres, [N, d].
  public var embedding: Tensor

  /// Wraps a head's two outputs.
  public init(logits: Tensor, embedding: Tensor) {
    self.logits = logits
    self.embedding = embedding
  }
}

/// The hybrid classification objective of ABRA: λ·CE + (1 − λ)·ArcFace, plus the weighted
/// Jensen–Shannon alignment in the robust phase.
public struct ABRAObjective: Codable, Equatable, Sendable {
  /// λ, the weight of cross-entropy against ArcFace (0.5).
  public var lambda: Float
  /// ArcFace margin and scale.
  public var margin: ArcFaceMargin
  /// Which terms are used.
  public var terms: ABRALossTerms
  /// Weight of the Jensen–Shannon term (1, as Eq. 13).
  public var jsWeight: Float
  /// Label smoothing ε of the cross-entropy terms (0: the paper's plain CE; see
  /// ``crossEntropy(logits:targets:labelSmoothing:)``). ArcFace keeps hard targets.
  public var labelSmoothing: Float = 0

  /// An objective; defaults λ = 0.5, m = 0.5, s = 30, all three terms, JS weight 1.
  public init(lambda: Float = 0.5, margin: ArcFaceMargin = ArcFaceMargin(), terms: ABRALossTerms = .ceArcJS, jsWeight: Float = 1) {
    precondition(lambda >= 0 && lambda <= 1, "ABRAObjective: lambda must lie in [0, 1], got \(lambda)")
    precondition(jsWeight >= 0, "ABRAObjective: jsWeight must be ≥ 0, got \(jsWeight)")
    self.lambda = lambda
    self.margin = margin
    self.terms = terms
    self.jsWeight = jsWeight
  }

  /// The classification loss of one prediction: λ·CE + (1 − λ)·Arc, or CE alone for `.ce`.
  ///
  /// - Parameters:
  ///   - output: the head's logits and embedding.
  ///   - arcWeight: the ArcFace class centres [K, d]; required unless `terms == .ce`.
  ///   - targets: the class of each row.
  /// - Returns: the combined loss and its parts (arc is nil for `.ce`).
  public func classification(_ output: HeadOutput, arcWeight: Tensor?, targets: [Int]) -> (total: Tensor, ce: Tensor, arc: Tensor?) {
    let ce = crossEntropy(logits: output.logits, targets: targets, labelSmoothing: labelSmoothing)
    guard terms.usesArcFace else { return (ce, ce, nil) }
    guard let arcWeight else { preconditionFailure("ABRAObjective: terms \(terms.rawValue) need ArcFace class centres") }
    let arc = arcFaceLoss(features: output.embedding, weight: arcWeight, targets: targets, margin: margin)
    return (ce * lambda + arc * (1 - lambda), ce, arc)
  }
}
