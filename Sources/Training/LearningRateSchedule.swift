import Foundation
import GrapeSupport

/// How the learning rate changes over training (`lr_schedule`).
public enum LearningRateSchedule: String, ConfigChoice {
  /// The base rate at every step (after any warm-up).
  case constant
  /// Cosine decay from the base rate at the end of warm-up to 0 at the last step
  /// (Loshchilov and Hutter, 2017, without restarts; PyTorch's `CosineAnnealingLR` with
  /// `eta_min = 0`).
  case cosine

  /// The learning rate of step `step` (1-based) of `total`, for base rate `base`:
  ///
  /// ```
  /// warm-up (step ≤ w):  base · step / w
  /// constant:            base
  /// cosine:              base · ½ · (1 + cos(π · (step − w) / (total − w)))
  /// ```
  ///
  /// Steps past `total` (a run continued with more steps than it was planned for) keep the last
  /// step's rate.
  public func rate(step: Int, total: Int, base: Float, warmup w: Int) -> Float {
    let s = max(1, min(step, max(total, 1)))
    if w > 0, s <= w { return base * Float(s) / Float(w) }
    switch self {
    case .constant:
      return base
    case .cosine:
      let span = total - w
      guard span > 0 else { return base }
      let t = Double(s - w) / Double(span)
      return base * Float(0.5 * (1 + cos(Double.pi * t)))
    }
  }
}
