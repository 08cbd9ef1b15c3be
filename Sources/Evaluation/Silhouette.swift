/// Silhouette coefficients with Euclidean distances, as scikit-learn's `silhouette_samples`.
///
/// For a point i with label l: `a(i)` is its mean distance to the other points of l, `b(i)` the
/// smallest mean distance to the points of another label, and `s(i) = (b − a) / max(a, b)`; a
/// point alone in its label scores 0, and so does a point with `a = b = 0`.
///
/// Distances are computed in double precision from the centred rows (`‖x‖² + ‖y‖² − 2x·y`
/// through a blocked GEMM), so memory stays at one block of rows whatever the number of points.
public enum Silhouette {
  /// The silhouette of every point, or `nil` unless there are at least 2 labels and fewer labels
  /// than points (scikit-learn raises in that case).
  ///
  /// - Parameters:
  ///   - values: row-major `[count, dimension]` points.
  ///   - labels: one label per point (any integers).
  public static func samples(values: [Float], count n: Int, dimension d: Int, labels: [Int])
    -> [Double]?
  {
    precondition(values.count == n * d && labels.count == n)
    let ids = Array(Set(labels)).sorted()
    guard ids.count >= 2, ids.count < n else { return nil }
    var dense: [Int: Int] = [:]
    for (i, l) in ids.enumerated() { dense[l] = i }
    let label = labels.map { dense[$0] ?? 0 }
    let labelCount = ids.count
    var sizes = [Int](repeating: 0, count: labelCount)
    for l in label { sizes[l] += 1 }

    let x = LinearAlgebra.centeredDouble(values, rows: n, columns: d)
    var norms = [Double](repeating: 0, count: n)
    for i in 0..<n {
      var s = 0.0
      for j in 0..<d { s += x[i * d + j] * x[i * d + j] }
      norms[i] = s
    }
    var result = [Double](repeating: 0, count: n)
    let block = max(1, min(n, 1 << 21 / max(n, 1)))  // about 16 MB of distances per block
    var dots = [Double](repeating: 0, count: block * n)
    var start = 0
    while start < n {
      let rows = min(block, n - start)
      x.withUnsafeBufferPointer { xs in
        dots.withUnsafeMutableBufferPointer { out in
          guard let px = xs.baseAddress, let po = out.baseAddress else { return }
          LinearAlgebra.dgemm(
            transA: false, transB: true, m: rows, n: n, k: d, alpha: 1, px + start * d, px,
            beta: 0, po)
        }
      }
      let scores: [Double] = dots.withUnsafeBufferPointer { dp in
        ParallelMap.map(rows, costPerItem: n * 4) { r in
          let i = start + r
          var sums = [Double](repeating: 0, count: labelCount)
          let ni = norms[i]
          let base = r * n
          for j in 0..<n where j != i {
            let sq = ni + norms[j] - 2 * dp[base + j]
            sums[label[j]] += sq > 0 ? sq.squareRoot() : 0
          }
          let own = label[i]
          if sizes[own] <= 1 { return 0 }
          let a = sums[own] / Double(sizes[own] - 1)
          var b = Double.infinity
          for l in 0..<labelCount where l != own {
            b = min(b, sums[l] / Double(sizes[l]))
          }
          let m = max(a, b)
          return m > 0 ? (b - a) / m : 0
        }
      }
      for r in 0..<rows { result[start + r] = scores[r] }
      start += rows
    }
    return result
  }

  /// The mean silhouette (scikit-learn's `silhouette_score`), or `nil` as for `samples`.
  public static func score(values: [Float], count: Int, dimension: Int, labels: [Int]) -> Double? {
    guard let s = samples(values: values, count: count, dimension: dimension, labels: labels) else {
      return nil
    }
    return s.reduce(0, +) / Double(s.count)
  }
}
