import Foundation
import TensorCore

/// The additive angular margin of ArcFace (Deng et al., CVPR 2019, "ArcFace: Additive Angular
/// Margin Loss for Deep Face Recognition").
///
/// Defaults: margin m = 0.5 (the ArcFace paper's value) and scale s = 30 (the value of the
/// widely used `ArcMarginProduct` reference implementation). The ArcFace paper's s = 64 was
/// tuned for 85,000 identities; the smallest scale that still lets the target probability reach
/// P is about ln((K − 1)·P/(1 − P)) for K classes (AdaCos, Zhang et al. 2019), 7 for a screen
/// of 100 genes at P = 0.9, so s = 30 is ample and its logits stay far from float32 overflow.
public struct ArcFaceMargin: Codable, Equatable, Sendable {
  /// The additive angle m (radians) on the target class.
  public var margin: Float
  /// The scale s of the cosine logits.
  public var scale: Float
  /// "Easy margin": apply the margin only where cos θ > 0 (otherwise keep cos θ). Off by
  /// default, which uses the threshold fallback instead (see ``arcFaceLogits(features:weight:targets:margin:)``).
  public var easyMargin: Bool

  /// A margin setting; defaults m = 0.5, s = 30, threshold fallback.
  public init(margin: Float = 0.5, scale: Float = 30, easyMargin: Bool = false) {
    precondition(margin >= 0 && margin < Float.pi / 2, "ArcFaceMargin: margin must lie in [0, π/2), got \(margin)")
    precondition(scale > 0, "ArcFaceMargin: scale must be positive, got \(scale)")
    self.margin = margin
    self.scale = scale
    self.easyMargin = easyMargin
  }
}

/// Cosine similarities of features [N, d] with class weights [K, d]: both rows L2-normalised,
/// cos θ [N, K].
public func cosineLogits(features: Tensor, weight: Tensor) -> Tensor {
  precondition(features.rank == 2 && weight.rank == 2 && features.shape[1] == weight.shape[1], "cosineLogits: features \(features.shape) and weight \(weight.shape) do not match")
  return matmul(features.l2Normalized(axis: 1), weight.l2Normalized(axis: 1), transposeB: true)
}

/// ArcFace logits [N, K]: s·cos(θ_y + m) for the target class y of each row, s·cos θ_j for the
/// others.
///
/// cos(θ + m) is computed without acos, as cos θ·cos m − sin θ·sin m with
/// sin θ = √(clamp(1 − cos²θ, 1e-6, 1)); the lower clamp keeps the square root's derivative
/// finite at |cos θ| = 1 (the clamp zeroes the gradient there instead of producing ∞·0).
/// θ + m exceeds π when cos θ < cos(π − m), where cos(θ + m) would stop decreasing in θ; there
/// the standard fallback replaces it by cos θ − m·sin m (insightface's `th`/`mm`), or with
/// `easyMargin` the margin is applied only where cos θ > 0.
///
/// - Parameters:
///   - features: [N, d] embeddings (not necessarily normalised).
///   - weight: [K, d] class centres (`arc_w`).
///   - targets: the class of each row.
public func arcFaceLogits(features: Tensor, weight: Tensor, targets: [Int], margin: ArcFaceMargin = ArcFaceMargin()) -> Tensor {
  precondition(features.shape[0] == targets.count, "arcFaceLogits: \(features.shape[0]) rows for \(targets.count) targets")
  let cosine = cosineLogits(features: features, weight: weight)
  let m = margin.margin
  let sine = (1 - cosine.square()).clamped(1e-6, 1).sqrt()
  var phi = cosine * cos(m) - sine * sin(m)
  if margin.easyMargin {
    phi = select(cosine.detached().greater(0), phi, cosine)
  } else {
    let threshold = cos(Float.pi - m)
    let fallback = sin(Float.pi - m) * m
    phi = select(cosine.detached().greater(threshold), phi, cosine - fallback)
  }
  let oneHot = Tensor.oneHot(targets, classes: weight.shape[0])
  return (oneHot * phi + (1 - oneHot) * cosine) * margin.scale
}

/// The ArcFace loss (Eq. 11, L_arc): mean cross-entropy of ``arcFaceLogits(features:weight:targets:margin:)``.
public func arcFaceLoss(features: Tensor, weight: Tensor, targets: [Int], margin: ArcFaceMargin = ArcFaceMargin()) -> Tensor {
  crossEntropy(logits: arcFaceLogits(features: features, weight: weight, targets: targets, margin: margin), targets: targets)
}
