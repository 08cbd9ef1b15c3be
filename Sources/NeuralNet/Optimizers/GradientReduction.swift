import TensorCore

/// Combines the gradients of data-parallel replicas: each replica trains the same model on its
/// own share of a mini-batch, and every update must use the mean of their gradients.
public protocol GradientReducer: AnyObject {
  /// The mean over replicas of each gradient, in order. A gradient absent here (nil) counts as
  /// zeros; the result is nil only where every replica's is absent. Every replica calls this
  /// with the same shapes in the same order.
  func meanOverReplicas(_ gradients: [Tensor?], shapes: [[Int]]) -> [Tensor?]
}

/// The reducer every optimiser step goes through: none in a single process, installed once at
/// start-up by a data-parallel launch (``install(_:)``).
public enum GradientReduction {
  nonisolated(unsafe) private static var installed: (any GradientReducer)?

  /// Makes every later ``Adam/step()`` (and every other update that calls ``reduce(_:)``)
  /// average its gradients over the replicas. Call it once, before training starts.
  public static func install(_ reducer: any GradientReducer) { installed = reducer }

  /// Whether gradients are averaged over replicas.
  public static var isActive: Bool { installed != nil }

  /// Replaces each parameter's gradient by the mean over replicas (nothing in one process).
  public static func reduce(_ parameters: [Parameter]) {
    guard let installed else { return }
    let reduced = installed.meanOverReplicas(parameters.map(\.grad), shapes: parameters.map(\.shape))
    for (p, g) in zip(parameters, reduced) { p.grad = g }
  }

  /// The mean over replicas of gradients that are not held by parameters (the same tensors in
  /// one process).
  public static func reduce(_ gradients: [Tensor]) -> [Tensor] {
    guard let installed else { return gradients }
    return zip(installed.meanOverReplicas(gradients, shapes: gradients.map(\.shape)), gradients).map { $0 ?? $1 }
  }
}
