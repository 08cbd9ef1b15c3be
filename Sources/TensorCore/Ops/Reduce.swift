// Reductions over axes. Axes may be negative (counted from the end).

extension Tensor {
  func normalizedAxes(_ axes: [Int], op: String) -> [Int] {
    let out = axes.map { $0 < 0 ? $0 + rank : $0 }
    for a in out { precondition(a >= 0 && a < rank, "\(op): axis out of range for shape \(shape)") }
    return Array(Set(out)).sorted()
  }

  func reducedShape(_ axes: [Int], keepDims: Bool) -> [Int] {
    if keepDims { return shape.enumerated().map { axes.contains($0.offset) ? 1 : $0.element } }
    return shape.enumerated().filter { !axes.contains($0.offset) }.map(\.element)
  }

  /// Sum over `axes` (all axes when empty).
  public func sum(axes: [Int] = [], keepDims: Bool = false) -> Tensor {
    let ax = axes.isEmpty ? Array(0..<rank) : normalizedAxes(axes, op: "sum")
    let keep = reducedShape(ax, keepDims: true)
    let out = Tensor(uninitializedShape: keep)
    backend.reduce(.sum, storage, shape, axes: ax, into: out.storage)
    let y = keepDims ? out : out.reshaped(reducedShape(ax, keepDims: false))
    let inShape = shape
    return y.recording([self]) { g, _ in [g.reshaped(keep).expanded(to: inShape)] }
  }

  /// Mean over `axes` (all axes when empty).
  public func mean(axes: [Int] = [], keepDims: Bool = false) -> Tensor {
    let ax = axes.isEmpty ? Array(0..<rank) : normalizedAxes(axes, op: "mean")
    let n = ax.reduce(1) { $0 * shape[$1] }
    return sum(axes: ax, keepDims: keepDims) * (1 / Float(n))
  }

  /// Maximum over `axes` (all axes when empty); tied maxima share the gradient equally.
  public func max(axes: [Int] = [], keepDims: Bool = false) -> Tensor {
    let ax = axes.isEmpty ? Array(0..<rank) : normalizedAxes(axes, op: "max")
    let keep = reducedShape(ax, keepDims: true)
    let out = Tensor(uninitializedShape: keep)
    backend.reduce(.max, storage, shape, axes: ax, into: out.storage)
    let y = keepDims ? out : out.reshaped(reducedShape(ax, keepDims: false))
    let maxValue = out.detached()
    return y.recording([self]) { g, _ in
      let hit = self.detached().equal(maxValue)
      let share = hit / hit.sum(axes: ax, keepDims: true)
      return [g.reshaped(keep) * share]
    }
  }

  /// Variance over `axes`: the mean squared deviation (`unbiased` divides by n − 1).
  public func variance(axes: [Int] = [], keepDims: Bool = false, unbiased: Bool = false) -> Tensor {
    let ax = axes.isEmpty ? Array(0..<rank) : normalizedAxes(axes, op: "variance")
    let n = ax.reduce(1) { $0 * shape[$1] }
    let centered = self - mean(axes: ax, keepDims: true)
    let ss = centered.square().sum(axes: ax, keepDims: keepDims)
    return ss * (1 / Float(unbiased ? Swift.max(n - 1, 1) : n))
  }
}
