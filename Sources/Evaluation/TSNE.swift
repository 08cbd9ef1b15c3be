import Foundation

/// Exact t-SNE (van der Maaten & Hinton, 2008) to two dimensions, following scikit-learn's
/// `TSNE(method="exact", init="pca", learning_rate="auto")`.
///
/// Conditional probabilities come from a binary search for each point's precision that matches
/// the perplexity on squared Euclidean distances; they are symmetrised and normalised. Gradient
/// descent with gains (+0.2 / ×0.8, at least 0.01) runs `exaggerationIterations` steps with
/// momentum 0.5 and early exaggeration, then momentum 0.8. The start is the first two principal
/// components scaled to a standard deviation of 1e-4, so the result is deterministic. Cost is
/// O(n²) per iteration: meant for at most a few thousand points.
public struct TSNE: Sendable {
  /// Target perplexity (capped at `(n − 1) / 3`).
  public var perplexity: Double
  /// Total gradient steps.
  public var iterations: Int
  /// Factor on P during the first steps.
  public var earlyExaggeration: Double
  /// Steps with early exaggeration.
  public var exaggerationIterations: Int
  /// Step size; `nil` means scikit-learn's `"auto"`, `max(n / exaggeration / 4, 50)`.
  public var learningRate: Double?

  /// scikit-learn's defaults.
  public init(
    perplexity: Double = 30, iterations: Int = 1000, earlyExaggeration: Double = 12,
    exaggerationIterations: Int = 250, learningRate: Double? = nil
  ) {
    self.perplexity = perplexity
    self.iterations = iterations
    self.earlyExaggeration = earlyExaggeration
    self.exaggerationIterations = exaggerationIterations
    self.learningRate = learningRate
  }

  /// The 2-D embedding of row-major `[count, dimension]` data, row-major `[count, 2]`.
  public func embed(values: [Float], count n: Int, dimension d: Int) -> [Double] {
    precondition(values.count == n * d)
    if n < 3 { return [Double](repeating: 0, count: n * 2) }
    let p = jointProbabilities(values: values, count: n, dimension: d)
    // PCA start, scaled so the first coordinate has standard deviation 1e-4.
    let pca = PCA.fit(values: values, count: n, dimension: d, components: 2)
    var y = [Double](repeating: 0, count: n * 2)
    let proj = pca.transform(values, count: n)
    let m = pca.componentCount
    for i in 0..<n {
      for c in 0..<min(m, 2) { y[i * 2 + c] = proj[i * m + c] }
    }
    var mean0 = 0.0
    for i in 0..<n { mean0 += y[i * 2] }
    mean0 /= Double(n)
    var sd = 0.0
    for i in 0..<n { sd += (y[i * 2] - mean0) * (y[i * 2] - mean0) }
    sd = (sd / Double(n)).squareRoot()
    let scale = sd > 0 ? 1e-4 / sd : 1
    for i in 0..<(n * 2) { y[i] *= scale }

    let rate = learningRate ?? max(Double(n) / earlyExaggeration / 4, 50)
    var update = [Double](repeating: 0, count: n * 2)
    var gains = [Double](repeating: 1, count: n * 2)
    var grad = [Double](repeating: 0, count: n * 2)
    var q = [Double](repeating: 0, count: n * n)
    for it in 0..<iterations {
      let exaggeration = it < exaggerationIterations ? earlyExaggeration : 1
      let momentum = it < exaggerationIterations ? 0.5 : 0.8
      // Student-t kernel and its normaliser.
      var sum = 0.0
      for i in 0..<n {
        q[i * n + i] = 0
        for j in (i + 1)..<n {
          let dx = y[i * 2] - y[j * 2]
          let dy = y[i * 2 + 1] - y[j * 2 + 1]
          let w = 1 / (1 + dx * dx + dy * dy)
          q[i * n + j] = w
          q[j * n + i] = w
          sum += 2 * w
        }
      }
      let invSum = 1 / max(sum, Double.leastNonzeroMagnitude)
      for i in 0..<n {
        var gx = 0.0
        var gy = 0.0
        for j in 0..<n where j != i {
          let w = q[i * n + j]
          let qij = max(w * invSum, Double.ulpOfOne)
          let f = (exaggeration * p[i * n + j] - qij) * w
          gx += f * (y[i * 2] - y[j * 2])
          gy += f * (y[i * 2 + 1] - y[j * 2 + 1])
        }
        grad[i * 2] = 4 * gx
        grad[i * 2 + 1] = 4 * gy
      }
      for k in 0..<(n * 2) {
        if update[k] * grad[k] < 0 { gains[k] += 0.2 } else { gains[k] *= 0.8 }
        gains[k] = max(gains[k], 0.01)
        update[k] = momentum * update[k] - rate * gains[k] * grad[k]
        y[k] += update[k]
      }
    }
    return y
  }

  /// Symmetrised joint probabilities `P = (P_{j|i} + P_{i|j}) / Σ`, floored at machine epsilon.
  func jointProbabilities(values: [Float], count n: Int, dimension d: Int) -> [Double] {
    var dist = [Double](repeating: 0, count: n * n)
    for i in 0..<n {
      for j in (i + 1)..<n {
        var s = 0.0
        for f in 0..<d {
          let e = Double(values[i * d + f]) - Double(values[j * d + f])
          s += e * e
        }
        dist[i * n + j] = s
        dist[j * n + i] = s
      }
    }
    let target = log(min(perplexity, Double(n - 1) / 3))
    var p = [Double](repeating: 0, count: n * n)
    var row = [Double](repeating: 0, count: n)
    for i in 0..<n {
      var beta = 1.0
      var lo = -Double.infinity
      var hi = Double.infinity
      for _ in 0..<100 {
        var sumP = 0.0
        for j in 0..<n {
          row[j] = j == i ? 0 : exp(-dist[i * n + j] * beta)
          sumP += row[j]
        }
        if sumP == 0 { sumP = 1e-8 }
        var weighted = 0.0
        for j in 0..<n {
          row[j] /= sumP
          weighted += dist[i * n + j] * row[j]
        }
        let entropy = log(sumP) + beta * weighted
        let diff = entropy - target
        if abs(diff) <= 1e-5 { break }
        if diff > 0 {
          lo = beta
          beta = hi == .infinity ? beta * 2 : (beta + hi) / 2
        } else {
          hi = beta
          beta = lo == -.infinity ? beta / 2 : (beta + lo) / 2
        }
      }
      for j in 0..<n { p[i * n + j] = row[j] }
    }
    var total = 0.0
    for i in 0..<n {
      for j in (i + 1)..<n {
        let s = p[i * n + j] + p[j * n + i]
        p[i * n + j] = s
        p[j * n + i] = s
        total += 2 * s
      }
    }
    for k in 0..<(n * n) {
      p[k] = max(p[k] / max(total, Double.leastNonzeroMagnitude), Double.ulpOfOne)
    }
    for i in 0..<n { p[i * n + i] = 0 }
    return p
  }
}
