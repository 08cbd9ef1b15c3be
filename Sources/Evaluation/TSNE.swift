import Foundation

/// Exact t-SNE (van der Maaten & Hinton, 2008) to two dimensions, following scikit-learn's
/// `TSNE(method="exact", init="pca", learning_rate="auto")`.
///
/// Conditional probabilities come from a binary search for each point's precision that matches
/// the perplexity on squared Euclidean distances; they are symmetrised and normalised. Gradient
/// descent with gains (+0.2 / ×0.8, at least 0.01) runs `exaggerationIterations` steps with
/// momentum 0.5 and early exaggeration, then momentum 0.8. The start is the first two principal
/// components scaled to a standard deviation of 1e-4, so the result is deterministic. Unlike
/// scikit-learn, Q is not floored at machine epsilon (which only matters for pairs whose
/// similarity is below 1e-16). Cost is O(n²) per iteration, over the cores: meant for at most a
/// few thousand points.
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
    // Per point: attraction Σ_j p_ij w_ij (y_i − y_j), repulsion Σ_j w_ij² (y_i − y_j) and
    // Σ_j w_ij, with w_ij = 1 / (1 + ‖y_i − y_j‖²); the gradient is
    // 4 (exaggeration · attraction − repulsion / Z) with Z = Σ_ij w_ij.
    var terms = [Double](repeating: 0, count: n * 5)
    for it in 0..<iterations {
      let exaggeration = it < exaggerationIterations ? earlyExaggeration : 1
      let momentum = it < exaggerationIterations ? 0.5 : 0.8
      y.withUnsafeBufferPointer { yb in
        p.withUnsafeBufferPointer { pb in
          terms.withUnsafeMutableBufferPointer { tb in
            let out = tb
            ParallelForRows.run(n, cost: n * 12) { i in
              let yi0 = yb[i * 2]
              let yi1 = yb[i * 2 + 1]
              var ax = 0.0
              var ay = 0.0
              var rx = 0.0
              var ry = 0.0
              var z = 0.0
              let row = i * n
              for j in 0..<n where j != i {
                let dx = yi0 - yb[j * 2]
                let dy = yi1 - yb[j * 2 + 1]
                let w = 1 / (1 + dx * dx + dy * dy)
                let pw = pb[row + j] * w
                let ww = w * w
                ax += pw * dx
                ay += pw * dy
                rx += ww * dx
                ry += ww * dy
                z += w
              }
              out[i * 5] = ax
              out[i * 5 + 1] = ay
              out[i * 5 + 2] = rx
              out[i * 5 + 3] = ry
              out[i * 5 + 4] = z
            }
          }
        }
      }
      var sum = 0.0
      for i in 0..<n { sum += terms[i * 5 + 4] }
      let invSum = 1 / max(sum, Double.leastNonzeroMagnitude)
      for i in 0..<n {
        grad[i * 2] = 4 * (exaggeration * terms[i * 5] - terms[i * 5 + 2] * invSum)
        grad[i * 2 + 1] = 4 * (exaggeration * terms[i * 5 + 1] - terms[i * 5 + 3] * invSum)
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

  /// Squared Euclidean distances between all rows, `[n, n]`.
  func squaredDistances(values: [Float], count n: Int, dimension d: Int) -> [Double] {
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
    return dist
  }

  /// `P_{j|i}` for one point: the Gaussian kernel on its squared distances whose precision is
  /// found by binary search (at most 100 steps, entropy within 1e-5 of `log(perplexity)`), as
  /// scikit-learn's `_binary_search_perplexity`.
  func conditionalRow(_ dist: UnsafeBufferPointer<Double>, point i: Int, target: Double) -> [Double]
  {
    let n = dist.count
    var row = [Double](repeating: 0, count: n)
    var beta = 1.0
    var lo = -Double.infinity
    var hi = Double.infinity
    for _ in 0..<100 {
      var sumP = 0.0
      for j in 0..<n {
        row[j] = j == i ? 0 : exp(-dist[j] * beta)
        sumP += row[j]
      }
      if sumP == 0 { sumP = 1e-8 }
      var weighted = 0.0
      for j in 0..<n {
        row[j] /= sumP
        weighted += dist[j] * row[j]
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
    return row
  }

  /// The perplexity actually used for `n` points (capped at `(n − 1) / 3`).
  func effectivePerplexity(_ n: Int) -> Double { min(perplexity, Double(n - 1) / 3) }

  /// `P_{j|i}` of one point of row-major data (for checks).
  func conditionalRow(values: [Float], count n: Int, dimension d: Int, point i: Int) -> [Double] {
    let dist = squaredDistances(values: values, count: n, dimension: d)
    return dist.withUnsafeBufferPointer {
      conditionalRow(
        UnsafeBufferPointer(rebasing: $0[(i * n)..<((i + 1) * n)]), point: i,
        target: log(effectivePerplexity(n)))
    }
  }

  /// Symmetrised joint probabilities `P = (P_{j|i} + P_{i|j}) / Σ`, floored at machine epsilon.
  func jointProbabilities(values: [Float], count n: Int, dimension d: Int) -> [Double] {
    let dist = squaredDistances(values: values, count: n, dimension: d)
    let target = log(effectivePerplexity(n))
    let rows: [[Double]] = dist.withUnsafeBufferPointer { db in
      ParallelMap.map(n, costPerItem: n * 200) { i in
        conditionalRow(
          UnsafeBufferPointer(rebasing: db[(i * n)..<((i + 1) * n)]), point: i, target: target)
      }
    }
    var p = [Double](repeating: 0, count: n * n)
    for i in 0..<n { for j in 0..<n { p[i * n + j] = rows[i][j] } }
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
