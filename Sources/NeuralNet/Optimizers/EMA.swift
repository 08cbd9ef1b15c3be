import TensorCore

/// Exponential moving average of a module's weights, kept in a second module of the same
/// architecture (the copy used for inference).
public enum WeightAverage {
  /// `target ← β·target + (1 − β)·source` for every parameter of the same name (StarGAN v2's
  /// `moving_average`, i.e. `torch.lerp(source, target, β)`).
  public static func blend(target: Module, source: Module, beta: Float) {
    let src = Dictionary(uniqueKeysWithValues: source.namedParameters())
    for (name, t) in target.namedParameters() {
      guard let s = src[name] else { preconditionFailure("WeightAverage: \(name) missing in the source module") }
      let out = Tensor(uninitializedShape: t.shape)
      Backends.current.lerp(from: s.value.storage, to: t.value.storage, weight: beta, count: t.value.count, into: out.storage)
      t.assign(out)
    }
  }

  /// Copies every parameter and buffer of `source` into `target`.
  public static func copy(from source: Module, to target: Module) {
    let src = source.stateDict()
    // Same architecture by construction; a mismatch is a programming error.
    do { try target.load(src) } catch { preconditionFailure("WeightAverage.copy: \(error)") }
  }
}

/// When and how strongly the weight average is updated.
public enum EMASchedule: Codable, Equatable, Sendable {
  /// Blend with β after every step (StarGAN v2: β = 0.999).
  case everyStep(beta: Float)
  /// Blend with `factor` every `interval` steps (GRAPE: 0.5 every 2,500).
  case periodic(interval: Int, factor: Float)

  /// The β to blend with after step `step` (1-based), or nil when no update is due.
  public func beta(afterStep step: Int) -> Float? {
    switch self {
    case .everyStep(let b): return b
    case .periodic(let interval, let factor): return interval > 0 && step % interval == 0 ? factor : nil
    }
  }
}
