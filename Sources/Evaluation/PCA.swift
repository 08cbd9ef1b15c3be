/// Principal component analysis: the leading eigenvectors of the sample covariance.
///
/// With at least as many rows as columns the d × d covariance (ddof = 1) is decomposed; with
/// fewer rows the n × n Gram matrix of the centred rows is decomposed instead and its eigenvectors
/// mapped back (`v = Xᵀu / √λ`), which gives the same components. Explained variances match
/// scikit-learn's `PCA.explained_variance_`. Sign convention: the entry of largest magnitude of
/// each component is positive (the first such entry on ties), so the result is deterministic.
public struct PCA: Sendable, Equatable {
  /// Number of input features.
  public let dimension: Int
  /// Feature means removed before projecting.
  public let mean: [Double]
  /// Row-major `[componentCount, dimension]` unit components.
  public let components: [Double]
  /// Variance along each component (ddof = 1).
  public let explainedVariance: [Double]
  /// Fraction of the total variance along each component.
  public let explainedVarianceRatio: [Double]

  /// Number of components kept.
  public var componentCount: Int { explainedVariance.count }

  /// Fits `components` components (capped at `min(count, dimension)`) to row-major data.
  public static func fit(values: [Float], count n: Int, dimension d: Int, components m: Int) -> PCA
  {
    precondition(values.count == n * d && n >= 1 && d >= 1)
    let mean = LinearAlgebra.columnMeans(values, rows: n, columns: d)
    let x = LinearAlgebra.centeredDouble(values, rows: n, columns: d)
    let keep = max(0, min(m, n, d))
    let denominator = Double(max(n - 1, 1))
    if n >= d {
      var cov = [Double](repeating: 0, count: d * d)
      x.withUnsafeBufferPointer { xs in
        cov.withUnsafeMutableBufferPointer { c in
          guard let px = xs.baseAddress, let pc = c.baseAddress else { return }
          LinearAlgebra.dgemm(
            transA: true, transB: false, m: d, n: d, k: n, alpha: 1 / denominator, px, px, beta: 0,
            pc)
        }
      }
      return fit(mean: mean, covariance: cov, dimension: d, components: keep)
    }
    // Dual: eigenvectors of the Gram matrix.
    let gram = LinearAlgebra.gram(x, rows: n, columns: d)
    let (lambda, u) = SymmetricEigen.decompose(gram, n: n)
    var total = 0.0
    for i in 0..<n { total += gram[i * n + i] }
    var comps = [Double](repeating: 0, count: keep * d)
    var variance = [Double](repeating: 0, count: keep)
    let floor = (lambda.first ?? 0) * 1e-12
    for c in 0..<keep where lambda[c] > floor && lambda[c] > 0 {
      let inv = 1 / lambda[c].squareRoot()
      for i in 0..<n {
        let w = u[c * n + i] * inv
        if w == 0 { continue }
        for j in 0..<d { comps[c * d + j] += w * x[i * d + j] }
      }
      variance[c] = lambda[c] / denominator
    }
    normaliseSigns(&comps, rows: keep, columns: d)
    let totalVariance = total / denominator
    return PCA(
      dimension: d, mean: mean, components: comps, explainedVariance: variance,
      explainedVarianceRatio: variance.map { totalVariance > 0 ? $0 / totalVariance : 0 })
  }

  /// PCA from a precomputed covariance matrix (`[dimension, dimension]`, symmetric), as used by
  /// streaming feature extraction.
  public static func fit(mean: [Double], covariance: [Double], dimension d: Int, components m: Int)
    -> PCA
  {
    precondition(covariance.count == d * d && mean.count == d)
    let keep = max(0, min(m, d))
    let (lambda, vectors) = SymmetricEigen.decompose(covariance, n: d)
    var total = 0.0
    for i in 0..<d { total += covariance[i * d + i] }
    var comps = Array(vectors[0..<(keep * d)])
    normaliseSigns(&comps, rows: keep, columns: d)
    let variance = lambda[0..<keep].map { max($0, 0) }
    return PCA(
      dimension: d, mean: mean, components: comps, explainedVariance: variance,
      explainedVarianceRatio: variance.map { total > 0 ? $0 / total : 0 })
  }

  /// Projects row-major `[count, dimension]` data onto the components: `[count, componentCount]`.
  public func transform(_ values: [Float], count n: Int) -> [Double] {
    precondition(values.count == n * dimension)
    let m = componentCount
    var out = [Double](repeating: 0, count: n * m)
    for i in 0..<n {
      for c in 0..<m {
        var s = 0.0
        for j in 0..<dimension {
          s += (Double(values[i * dimension + j]) - mean[j]) * components[c * dimension + j]
        }
        out[i * m + c] = s
      }
    }
    return out
  }

  /// Flips each row so that its entry of largest magnitude is positive.
  static func normaliseSigns(_ rows: inout [Double], rows m: Int, columns d: Int) {
    for c in 0..<m {
      var best = 0
      for j in 0..<d where abs(rows[c * d + j]) > abs(rows[c * d + best]) { best = j }
      if rows[c * d + best] < 0 { for j in 0..<d { rows[c * d + j] = -rows[c * d + j] } }
    }
  }
}
